// StreamSource: see source.hpp.

#include "source.hpp"

#include <cstdint>
#include <iostream>
#include <istream>

#include "absl/status/status.h"
#include <poll.h>

#include "../io/io_util.hpp"

namespace cep::run {

using io::Cat;

absl::Status StreamSource::Status() const {
  if (input_.bad()) {
    return absl::UnavailableError(Cat(name_, ": error: cannot read the input"));
  }
  return absl::OkStatus();
}

bool StreamSource::Ready() const {
  if (framer_.buffered() > 0) return true;
  std::streambuf* buffer = input_.rdbuf();
  if (buffer != nullptr && buffer->in_avail() > 0) return true;
  if (&input_ != &std::cin) return false;
  struct pollfd wait = {.fd = 0, .events = POLLIN, .revents = 0};
  return ::poll(&wait, 1, 0) > 0;
}

absl::Status StreamSource::Seek(size_t partition, SourcePosition position) {
  (void)partition;
  const uint64_t consumed = framer_.offset();
  const uint64_t offset = position.offset;
  std::istream& input = input_;
  input.clear();
  input.seekg(0, std::ios::end);
  const std::streamoff size = input.tellg();
  uint64_t available = static_cast<uint64_t>(size);
  bool ok = false;
  if (input && size >= 0 && available >= offset) {
    input.seekg(static_cast<std::streamoff>(offset));
    framer_.DiscardBuffered();
    ok = true;
  } else if (!input || size < 0) {  // cannot seek: read up to `offset`
    input.clear();
    // The bytes the framer read ahead come first.
    const uint64_t to_skip = offset > consumed ? offset - consumed : 0;
    const size_t dropped = framer_.DropBuffered(to_skip);
    input.ignore(static_cast<std::streamsize>(to_skip - dropped));
    available = consumed + dropped + static_cast<uint64_t>(input.gcount());
    ok = available >= offset;
  }
  if (!ok) {
    return absl::FailedPreconditionError(Cat(
        name_, ": error: cannot resume from ", resume_dir_, ": the input has ",
        available, " bytes, the checkpoint is at byte ", offset));
  }
  framer_.Reset(position.offset, position.line_no);
  return absl::OkStatus();
}

}  // namespace cep::run
