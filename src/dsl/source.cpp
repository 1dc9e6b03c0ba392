#include "source.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace cep::dsl {

LineColumn Source::Locate(size_t offset) const {
  const std::string& text = this->text();
  offset = std::min(offset, text.size());
  // Every pattern asks for its line: an index of line starts keeps a file
  // of many patterns from taking quadratic time.
  if (line_starts_.empty()) {
    line_starts_.push_back(0);
    for (size_t pos = text.find('\n'); pos != std::string::npos;
         pos = text.find('\n', pos + 1)) {
      line_starts_.push_back(pos + 1);
    }
  }
  // The last line start at or before `offset`.
  const auto next =
      std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
  const size_t line_idx = static_cast<size_t>(next - line_starts_.begin()) - 1;
  return LineColumn{.line = line_idx + 1,
                    .column = offset - line_starts_[line_idx] + 1};
}

std::string Source::FormatError(size_t offset, std::string_view message) const {
  offset = std::min(offset, text().size());
  const LineColumn at = Locate(offset);
  const size_t line_start = offset - (at.column - 1);
  size_t line_end = text().find('\n', line_start);
  if (line_end == std::string::npos) line_end = text().size();
  std::string_view line(text().data() + line_start, line_end - line_start);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::string caret;
  for (size_t pos = line_start; pos < offset; ++pos) {
    caret.push_back(text()[pos] == '\t' ? '\t' : ' ');
  }
  caret.push_back('^');
  return absl::StrCat(filename_, ":", at.line, ":", at.column, ": error: ",
                      absl::string_view(message.data(), message.size()), "\n",
                      absl::string_view(line.data(), line.size()), "\n", caret);
}

absl::Status Source::Error(size_t offset, std::string_view message) const {
  return absl::InvalidArgumentError(FormatError(offset, message));
}

namespace {

// What a file that is not a regular one is, for the message.
const char* FileKind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a named pipe";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "a special file";
}

}  // namespace

absl::StatusOr<std::string> ReadPatternText(const std::string& path) {
  auto cannot = [&path](const std::string& why) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read '", path, "': ", why));
  };
  // O_NONBLOCK: opening a FIFO without a writer would wait for one.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    if (error == ENOENT) {
      return absl::NotFoundError(
          absl::StrCat("cannot read '", path, "': ", std::strerror(error)));
    }
    return cannot(std::strerror(error));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat info {};
  if (::fstat(fd, &info) != 0) return cannot(std::strerror(errno));
  if (!S_ISREG(info.st_mode)) {
    return cannot(absl::StrCat(FileKind(info.st_mode), ", not a regular file"));
  }
  const auto too_large = [&] {
    return cannot(absl::StrCat("larger than ", kMaxPatternFileBytes,
                               " bytes, the limit for a pattern file"));
  };
  if (static_cast<uint64_t>(info.st_size) > kMaxPatternFileBytes) {
    return too_large();
  }
  std::string text;
  text.reserve(static_cast<size_t>(info.st_size));
  char buffer[65536];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      return cannot(std::strerror(errno));
    }
    if (n == 0) break;
    // The file may grow while it is read.
    if (text.size() + static_cast<size_t>(n) > kMaxPatternFileBytes) {
      return too_large();
    }
    text.append(buffer, static_cast<size_t>(n));
  }
  return text;
}

}  // namespace cep::dsl
