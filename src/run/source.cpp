// StreamSource: see source.hpp.

#include "source.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <istream>
#include <sstream>
#include <thread>

#include "absl/status/status.h"
#include <poll.h>

#include "cep/run_files.hpp"

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

bool StreamSource::WaitReady(std::chrono::nanoseconds timeout) {
  std::streambuf* buffer = input_.rdbuf();
  // Bytes buffered, or -1: the end; either way Next() answers at once.
  if (buffer == nullptr || buffer->in_avail() != 0) return true;
  if (auto* file = dynamic_cast<InputFile*>(&input_)) {
    return file->WaitReadable(timeout);
  }
  if (&input_ == &std::cin) {
    struct pollfd wait = {.fd = 0, .events = POLLIN, .revents = 0};
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(timeout);
    return ::poll(&wait, 1, static_cast<int>(ms.count())) > 0;
  }
  if (dynamic_cast<std::stringbuf*>(buffer) != nullptr ||
      dynamic_cast<std::filebuf*>(buffer) != nullptr) {
    return true;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(
        std::chrono::milliseconds(5),
        deadline - std::chrono::steady_clock::now()));
    if (buffer->in_avail() != 0) return true;
  }
  return false;
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
  if (!ok && stop_ != nullptr && stop_->load(std::memory_order_relaxed)) {
    return absl::CancelledError(
        Cat(name_, ": stopped before the input reached the checkpoint at byte ",
            offset, "; the state in ", resume_dir_, " is unchanged"));
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
