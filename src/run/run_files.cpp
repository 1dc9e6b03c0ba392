// CheckOutputPaths and InputFile: see cep/run_files.hpp.

#include "cep/run_files.hpp"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

namespace cep {
namespace {

namespace fs = std::filesystem;

// What a path names, for comparison: an existing file by device and inode,
// a file to be created by its canonical path. nullopt: never compared ("-",
// or not a regular file).
struct FileId {
  bool exists = false;
  dev_t device = 0;
  ino_t inode = 0;
  std::string canonical;  // !exists

  bool operator==(const FileId& other) const {
    if (exists != other.exists) return false;
    if (exists) return device == other.device && inode == other.inode;
    return canonical == other.canonical;
  }
};

// `path` made absolute and normal, with the symlinks of its existing part
// resolved, and a dangling symlink at its end followed (up to 40 links, as
// the kernel does).
std::string CanonicalOfMissing(const std::string& path) {
  std::error_code ec;
  fs::path current = fs::absolute(path, ec);
  if (ec) return fs::path(path).lexically_normal().string();
  for (int link = 0; link < 40; ++link) {
    const fs::path resolved = fs::weakly_canonical(current, ec);
    if (!ec) current = resolved;
    if (!fs::is_symlink(fs::symlink_status(current, ec))) break;
    const fs::path target = fs::read_symlink(current, ec);
    if (ec) break;
    current = target.is_absolute() ? target : current.parent_path() / target;
  }
  return current.lexically_normal().string();
}

std::optional<FileId> IdOf(const std::string& path) {
  if (path.empty() || path == "-") return std::nullopt;
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode)) return std::nullopt;
    return FileId{.exists = true,
                  .device = st.st_dev,
                  .inode = st.st_ino,
                  .canonical = {}};
  }
  return FileId{.exists = false,
                .device = 0,
                .inode = 0,
                .canonical = CanonicalOfMissing(path)};
}

// `path` in single quotes, control characters escaped (one-line errors).
std::string Quote(const std::string& path) {
  std::string out = "'";
  for (const char c : path) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[(static_cast<unsigned char>(c) >> 4) & 0xf];
      out += kHex[static_cast<unsigned char>(c) & 0xf];
    } else {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace

absl::Status CheckOutputPaths(const std::vector<RunPath>& inputs,
                              const std::vector<RunPath>& outputs) {
  std::vector<std::pair<const RunPath*, FileId>> seen;
  for (const RunPath& input : inputs) {
    if (std::optional<FileId> id = IdOf(input.path); id && id->exists) {
      seen.emplace_back(&input, *id);
    }
  }
  for (const RunPath& output : outputs) {
    std::optional<FileId> id = IdOf(output.path);
    if (!id) continue;
    for (const auto& [other, other_id] : seen) {
      if (other_id == *id) {
        return absl::InvalidArgumentError(
            output.what + " " + Quote(output.path) + " is the same file as " +
            other->what + " " + Quote(other->path));
      }
    }
    seen.emplace_back(&output, *id);
  }
  return absl::OkStatus();
}

// A read buffer over a file descriptor. A regular file is read directly
// (reads interrupted by a signal are retried unless *stop_ is set); anything
// else (a named pipe, opened non-blocking, a terminal) is waited for with
// poll() in slices of kPollMs, *stop_ checked between them, so that a stop
// is seen even when its signal came just before the wait began.
class InputFile::Buffer final : public std::streambuf {
 public:
  Buffer(int fd, bool regular, const std::atomic<bool>* stop)
      : fd_(fd), regular_(regular), stop_(stop) {}
  ~Buffer() override { ::close(fd_); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  void set_owner(std::istream* owner) { owner_ = owner; }

  // InputFile::WaitReadable().
  bool WaitReadable(std::chrono::nanoseconds timeout) {
    if (regular_ || gptr() < egptr()) return true;
    struct pollfd wait = {.fd = fd_, .events = POLLIN, .revents = 0};
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(timeout);
    return ::poll(&wait, 1, static_cast<int>(ms.count())) > 0;
  }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    for (;;) {
      if (!regular_) {
        if (stopped()) return traits_type::eof();
        struct pollfd wait = {.fd = fd_, .events = POLLIN, .revents = 0};
        const int ready = ::poll(&wait, 1, kPollMs);
        if (ready == 0 || (ready < 0 && errno == EINTR)) continue;
      }
      const ssize_t got = ::read(fd_, data_.get(), kSize);
      if (got > 0) {
        setg(data_.get(), data_.get(), data_.get() + got);
        return traits_type::to_int_type(*gptr());
      }
      if (got == 0) return traits_type::eof();
      if (errno == EINTR || errno == EAGAIN) {
        if (stopped()) return traits_type::eof();
        continue;
      }
      // As std::filebuf, a read error makes the stream bad.
      if (owner_ != nullptr) owner_->setstate(std::ios_base::badbit);
      return traits_type::eof();
    }
  }

  pos_type seekoff(off_type off, std::ios_base::seekdir dir,
                   std::ios_base::openmode which) override {
    if ((which & std::ios_base::in) == 0) return pos_type(off_type(-1));
    off_t target = 0;
    if (dir == std::ios_base::cur) {
      const off_t at = ::lseek(fd_, 0, SEEK_CUR);
      if (at < 0) return pos_type(off_type(-1));
      // The file is at the end of the buffer; the reader at gptr().
      target = at - static_cast<off_t>(egptr() - gptr()) + off;
      if (off == 0) return pos_type(target);  // tellg(): keep the buffer
    } else {
      target =
          ::lseek(fd_, off, dir == std::ios_base::beg ? SEEK_SET : SEEK_END);
      if (target < 0) return pos_type(off_type(-1));
      setg(data_.get(), data_.get(), data_.get());
      return pos_type(target);
    }
    if (::lseek(fd_, target, SEEK_SET) < 0) return pos_type(off_type(-1));
    setg(data_.get(), data_.get(), data_.get());
    return pos_type(target);
  }

  // Bytes that can be read without waiting (in_avail() once the buffer is
  // empty): for a regular file what lies beyond the position, for a pipe
  // whether poll() finds input (1) or not (0).
  std::streamsize showmanyc() override {
    if (regular_) {
      struct stat st;
      const off_t at = ::lseek(fd_, 0, SEEK_CUR);
      if (at < 0 || ::fstat(fd_, &st) != 0) return 0;
      return st.st_size > at ? static_cast<std::streamsize>(st.st_size - at)
                             : 0;
    }
    struct pollfd wait = {.fd = fd_, .events = POLLIN, .revents = 0};
    return ::poll(&wait, 1, 0) > 0 ? 1 : 0;
  }

  pos_type seekpos(pos_type pos, std::ios_base::openmode which) override {
    return seekoff(off_type(pos), std::ios_base::beg, which);
  }

 private:
  bool stopped() const { return stop_ != nullptr && stop_->load(); }

  static constexpr size_t kSize = 1 << 16;
  static constexpr int kPollMs = 100;
  int fd_;
  bool regular_;
  const std::atomic<bool>* stop_;
  std::istream* owner_ = nullptr;
  std::unique_ptr<char[]> data_ = std::make_unique<char[]>(kSize);
};

InputFile::InputFile(std::unique_ptr<Buffer> buffer)
    : std::istream(buffer.get()), buffer_(std::move(buffer)) {
  buffer_->set_owner(this);
}

InputFile::~InputFile() = default;

bool InputFile::WaitReadable(std::chrono::nanoseconds timeout) {
  return buffer_->WaitReadable(timeout);
}

absl::StatusOr<std::unique_ptr<InputFile>> InputFile::Open(
    const std::string& path, const std::atomic<bool>* stop) {
  // A named pipe opens at once, without waiting for a writer (reads wait,
  // with poll()).
  struct stat st;
  const bool fifo = ::stat(path.c_str(), &st) == 0 && S_ISFIFO(st.st_mode);
  int fd = -1;
  for (;;) {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (fifo ? O_NONBLOCK : 0));
    if (fd >= 0) break;
    if (errno != EINTR) {
      return absl::UnavailableError("cannot read '" + path +
                                    "': " + std::strerror(errno));
    }
    if (stop != nullptr && stop->load()) {
      return absl::CancelledError("stopped before '" + path + "' opened");
    }
  }
  const bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  return std::unique_ptr<InputFile>(
      new InputFile(std::make_unique<Buffer>(fd, regular, stop)));
}

}  // namespace cep
