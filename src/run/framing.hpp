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
#include <istream>
#include <string>
#include <string_view>

#include "../io/line_reader.hpp"

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

// Line framing over an std::istream.
class LineFramer {
 public:
  // `drop_rest`: whether the rest of a line too long is read and dropped
  // (to go on with the next line) or left (the run stops). `stop` as in
  // io::LineReader.
  LineFramer(size_t max_line_bytes, bool drop_rest,
             const std::atomic<bool>* stop)
      : reader_(max_line_bytes, drop_rest, stop), stop_(stop) {}

  // Starts counting from `line_no` lines, `offset` bytes (a resumed run).
  void Reset(uint64_t offset, uint64_t line_no) {
    offset_ = offset;
    line_no_ = line_no;
  }

  // The next line of `input` into `frame`; false at the end of the input
  // (or a read error: check the stream's bad()), and when a stop cut the
  // last line short: the run that resumes reads it again, whole.
  bool Next(std::istream& input, Frame& frame) {
    uint64_t consumed = 0;
    const io::LineRead read = reader_.Next(input, line_, consumed);
    if (read == io::LineRead::kEnd) return false;
    if (input.eof() && stop_ != nullptr && stop_->load()) return false;
    offset_ += consumed;
    frame.text = line_;
    frame.too_long = read == io::LineRead::kTooLong;
    frame.partition = 0;
    frame.line_no = ++line_no_;
    frame.end_offset = offset_;
    return true;
  }

  // Bytes taken from the input so far (Reset's offset included).
  uint64_t offset() const { return offset_; }
  uint64_t line_no() const { return line_no_; }

 private:
  io::LineReader reader_;
  const std::atomic<bool>* stop_;
  std::string line_;
  uint64_t offset_ = 0;
  uint64_t line_no_ = 0;
};

}  // namespace cep::run
