// Framing: cuts a byte stream into the frames a run decodes, one per line
// (a JSON object, a CSV row), with the line's number and the byte offset
// after it; a line longer than RunOptions::max_line_bytes is cut to that
// length and marked. Internal to src/run/: not installed, not under include/.
//
// A source whose messages are already frames (a message queue) needs no
// framing; see source.hpp.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <istream>
#include <memory>
#include <streambuf>
#include <string>
#include <string_view>

namespace cep::run {

// One unit of input: the text of one event (or of a header, a blank line,
// a line that will not decode).
struct Frame {
  // Without its newline (a '\r' before it stays). Valid until the next
  // frame is read.
  std::string_view text;
  // Longer than the bound: `text` holds its first bytes only.
  bool too_long = false;
  // Which partition of the source it came from (0 for a file).
  size_t partition = 0;
  // Its 1-based number in the partition (a file's line number), for errors.
  uint64_t line_no = 0;
  // The partition's position right after it: what a checkpoint records so
  // that a resumed run reads on from the next frame.
  uint64_t end_offset = 0;
};

// Line framing over an std::istream. Reads the stream's buffer in blocks
// of up to kBlockBytes, never asking for more than it holds or can get
// without waiting (std::streambuf::in_avail()), so a live stream hands on
// each line as it comes. A line within a block is a view into it; only a
// line that crosses blocks, or is too long, is copied. Bounded as
// io::LineReader: a line never holds more than max_line_bytes + 1 bytes.
class LineFramer {
 public:
  // `drop_rest`: whether the rest of a line too long is read and dropped
  // (to go on with the next line) or left (the run stops). `stop`: when it
  // becomes true while the rest of a line is dropped, Next returns at once.
  LineFramer(size_t max_line_bytes, bool drop_rest,
             const std::atomic<bool>* stop)
      : max_bytes_(max_line_bytes < 1 ? 1 : max_line_bytes),
        drop_rest_(drop_rest),
        stop_(stop),
        block_(std::make_unique<char[]>(kBlockBytes)) {}

  // Starts counting from `line_no` lines, `offset` bytes (a resumed run).
  void Reset(uint64_t offset, uint64_t line_no) {
    offset_ = offset;
    line_no_ = line_no;
  }
  // Forgets the bytes read ahead (buffered()): the stream was moved.
  void DiscardBuffered() { begin_ = end_ = 0; }

  // The next line of `input` into `frame`; false at the end of the input
  // (or a read error: check the stream's bad()), and when a stop cut the
  // last line short: the run that resumes reads it again, whole.
  bool Next(std::istream& input, Frame& frame) {
    frame.partition = 0;
    frame.too_long = false;
    // The common case: the whole line is in the block.
    if (begin_ < end_) {
      const char* start = block_.get() + begin_;
      const auto* newline =
          static_cast<const char*>(std::memchr(start, '\n', end_ - begin_));
      if (newline != nullptr &&
          static_cast<size_t>(newline - start) <= max_bytes_) {
        const auto size = static_cast<size_t>(newline - start);
        frame.text = std::string_view(start, size);
        begin_ += size + 1;
        return Framed(frame, size + 1);
      }
    }
    return NextSlow(input, frame);
  }

  // Bytes taken from the input so far (Reset's offset included).
  uint64_t offset() const { return offset_; }
  uint64_t line_no() const { return line_no_; }

  // Bytes read from the stream and not framed yet: they come right after
  // offset().
  size_t buffered() const { return end_ - begin_; }
  // Drops up to `bytes` of them (as if framed, without counting them in
  // offset()); returns how many.
  size_t DropBuffered(size_t bytes) {
    const size_t dropped = bytes < buffered() ? bytes : buffered();
    begin_ += dropped;
    return dropped;
  }

 private:
  static constexpr size_t kBlockBytes = 64 * 1024;

  bool Framed(Frame& frame, uint64_t consumed) {
    offset_ += consumed;
    frame.line_no = ++line_no_;
    frame.end_offset = offset_;
    return true;
  }

  // A line that crosses blocks, is too long, or needs the stream read.
  bool NextSlow(std::istream& input, Frame& frame) {
    line_.clear();
    uint64_t consumed = 0;
    bool too_long = false;
    bool newline = false;
    for (size_t fills = 0;;) {
      if (begin_ == end_) {
        if (too_long && drop_rest_ && stop_ != nullptr && ++fills % 16 == 0 &&
            stop_->load(std::memory_order_relaxed)) {
          break;
        }
        if (!Fill(input)) break;
      }
      const char* start = block_.get() + begin_;
      const auto* found =
          static_cast<const char*>(std::memchr(start, '\n', end_ - begin_));
      const size_t take =
          found != nullptr ? static_cast<size_t>(found - start) : end_ - begin_;
      // One byte past the bound shows that the line is too long.
      const size_t room = max_bytes_ + 1 - line_.size();
      line_.append(start, take < room ? take : room);
      if (line_.size() > max_bytes_) too_long = true;
      if (too_long && !drop_rest_) {
        // The rest stays in the input; the caller stops.
        begin_ += take < room ? take : room;
        consumed += take < room ? take : room;
        break;
      }
      begin_ += take;
      consumed += take;
      if (found != nullptr) {
        ++begin_;
        ++consumed;
        newline = true;
        break;
      }
    }
    if (consumed == 0) return false;  // the end of the input
    if (!newline && !too_long && stop_ != nullptr && stop_->load()) {
      return false;  // a stop cut the last line short
    }
    if (too_long) line_.resize(max_bytes_);
    frame.text = line_;
    frame.too_long = too_long;
    return Framed(frame, consumed);
  }

  // Reads the next block: what the stream's buffer holds, or, when it is
  // empty, what one read of the underlying input gives (waiting for it).
  // False at the end of the input, on a read error, or when a stop ended
  // the wait.
  bool Fill(std::istream& input) {
    std::streambuf* buffer = input.rdbuf();
    if (buffer == nullptr) return false;
    std::streamsize available = buffer->in_avail();
    if (available <= 0) {
      if (std::istream::traits_type::eq_int_type(
              buffer->sgetc(), std::istream::traits_type::eof())) {
        input.setstate(std::ios::eofbit);
        return false;
      }
      available = buffer->in_avail();
      if (available <= 0) return FillByBytes(*buffer);
    }
    const auto want = static_cast<std::streamsize>(
        static_cast<size_t>(available) < kBlockBytes
            ? static_cast<size_t>(available)
            : kBlockBytes);
    const std::streamsize got = buffer->sgetn(block_.get(), want);
    begin_ = 0;
    end_ = got > 0 ? static_cast<size_t>(got) : 0;
    return end_ > 0;
  }

  // A stream that cannot say how much it holds (std::cin synchronized
  // with stdio): byte by byte up to the end of the line, as
  // std::getline reads it. REQUIRES: a byte is there (sgetc()).
  bool FillByBytes(std::streambuf& buffer) {
    begin_ = end_ = 0;
    while (end_ < kBlockBytes) {
      const std::istream::int_type c = buffer.sbumpc();
      if (std::istream::traits_type::eq_int_type(
              c, std::istream::traits_type::eof())) {
        break;
      }
      block_[end_++] = std::istream::traits_type::to_char_type(c);
      if (block_[end_ - 1] == '\n') break;
    }
    return end_ > 0;
  }

  size_t max_bytes_;
  bool drop_rest_;
  const std::atomic<bool>* stop_;
  std::unique_ptr<char[]> block_;
  size_t begin_ = 0;  // the unframed bytes of the block: [begin_, end_)
  size_t end_ = 0;
  std::string line_;  // a line copied out of the blocks
  uint64_t offset_ = 0;
  uint64_t line_no_ = 0;
};

}  // namespace cep::run
