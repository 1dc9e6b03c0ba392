// Sink: see sink.hpp.

#include "sink.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include <sys/stat.h>
#include <unistd.h>

#include "../io/io_util.hpp"

namespace cep::run {

using io::Cat;

absl::Status Sink::Flush() {
  if (!out_->flush()) return absl::UnavailableError("cannot write the output");
  return absl::OkStatus();
}

absl::Status Sink::Close() {
  std::sort(sorted_.begin(), sorted_.end());
  for (const std::string& line : sorted_) {
    out_->write(line.data(), static_cast<std::streamsize>(line.size()));
  }
  sorted_.clear();
  sorted_.shrink_to_fit();
  return Flush();
}

absl::StatusOr<uint64_t> RecordedLength(const std::string& path) {
  if (path.empty()) return 0;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return absl::UnavailableError(
        Cat("cannot stat ", path, ": ", std::strerror(errno)));
  }
  return static_cast<uint64_t>(st.st_size) + 1;
}

absl::Status TruncateTo(const std::string& path, uint64_t recorded) {
  if (path.empty()) return absl::OkStatus();
  const uint64_t length = recorded == 0 ? 0 : recorded - 1;
  if (::truncate(path.c_str(), static_cast<off_t>(length)) != 0) {
    return absl::UnavailableError(
        Cat("cannot truncate ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace cep::run
