// The text of a pattern file and the one way errors in it are reported:
//
//   FILE:LINE:COL: error: MESSAGE
//   the offending line
//          ^
//
// Lines and columns count from 1; columns count bytes, and the caret line
// keeps the tabs of the offending line so the caret lines up in a terminal.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace cep::dsl {

struct LineColumn {
  size_t line = 1;
  size_t column = 1;
};

class Source {
 public:
  Source(std::string filename, std::string text)
      : filename_(std::move(filename)), text_(std::move(text)) {}

  const std::string& filename() const { return filename_; }
  const std::string& text() const { return text_; }

  // Line and column of the byte at `offset` (clamped to the text's end).
  LineColumn Locate(size_t offset) const;

  // The three-line error text above, without a trailing newline.
  std::string FormatError(size_t offset, std::string_view message) const;

  // kInvalidArgument carrying FormatError(offset, message).
  absl::Status Error(size_t offset, std::string_view message) const;

 private:
  std::string filename_;
  std::string text_;
};

}  // namespace cep::dsl
