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
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "cep/dsl.hpp"

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
  const std::string& text() const { return text_.str(); }
  // The text, for FilePattern::source: one copy for every pattern.
  const SharedText& shared_text() const { return text_; }

  // Line and column of the byte at `offset` (clamped to the text's end).
  LineColumn Locate(size_t offset) const;

  // The three-line error text above, without a trailing newline.
  std::string FormatError(size_t offset, std::string_view message) const;

  // kInvalidArgument carrying FormatError(offset, message).
  absl::Status Error(size_t offset, std::string_view message) const;

 private:
  std::string filename_;
  SharedText text_;
  // Offsets where lines start, built by the first Locate().
  mutable std::vector<size_t> line_starts_;
};

// The text of the pattern file at `path` (LoadPatternFile). Refuses what is
// not a regular file (a directory, a device such as /dev/zero, a FIFO: opened
// without blocking, never read) and a file over kMaxPatternFileBytes, so
// that neither hangs nor exhausts memory.
// Errors: kNotFound (missing) or kInvalidArgument "cannot read 'PATH': ...".
absl::StatusOr<std::string> ReadPatternText(const std::string& path);

}  // namespace cep::dsl
