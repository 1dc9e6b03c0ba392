#include "source.hpp"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace cep::dsl {

LineColumn Source::Locate(size_t offset) const {
  offset = std::min(offset, text_.size());
  LineColumn at;
  for (size_t pos = 0; pos < offset; ++pos) {
    if (text_[pos] == '\n') {
      ++at.line;
      at.column = 1;
    } else {
      ++at.column;
    }
  }
  return at;
}

std::string Source::FormatError(size_t offset, std::string_view message) const {
  offset = std::min(offset, text_.size());
  const LineColumn at = Locate(offset);
  const size_t line_start = offset - (at.column - 1);
  size_t line_end = text_.find('\n', line_start);
  if (line_end == std::string::npos) line_end = text_.size();
  std::string_view line(text_.data() + line_start, line_end - line_start);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::string caret;
  for (size_t pos = line_start; pos < offset; ++pos) {
    caret.push_back(text_[pos] == '\t' ? '\t' : ' ');
  }
  caret.push_back('^');
  return absl::StrCat(filename_, ":", at.line, ":", at.column, ": error: ",
                      absl::string_view(message.data(), message.size()), "\n",
                      absl::string_view(line.data(), line.size()), "\n", caret);
}

absl::Status Source::Error(size_t offset, std::string_view message) const {
  return absl::InvalidArgumentError(FormatError(offset, message));
}

}  // namespace cep::dsl
