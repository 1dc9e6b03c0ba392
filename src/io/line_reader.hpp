// Reads input lines with a bound on their length (RunOptions::max_line_bytes):
// std::getline would hold a line of any length, so an input without line
// breaks (/dev/zero, a corrupted file) would exhaust memory. A longer line is
// reported, and what lies beyond the bound is read and dropped, never held.
// Internal: not installed, not under include/.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <istream>
#include <limits>
#include <memory>
#include <string>

namespace cep::io {

enum class LineRead {
  kLine,     // a line (the last one may lack its newline)
  kTooLong,  // a line longer than the bound; `line` holds its first bytes
  kEnd,      // end of the input (or a read error: check the stream's bad())
};

class LineReader {
 public:
  // `drop_rest`: whether Next reads and drops the rest of a line that is too
  // long (to go on with the next line), or leaves it in the input (the
  // caller stops). `stop` (may be null): when it becomes true while the
  // rest of a line is dropped, Next returns at once (the input is then in
  // the middle of the line). REQUIRES: max_bytes >= 1.
  explicit LineReader(size_t max_bytes, bool drop_rest = true,
                      const std::atomic<bool>* stop = nullptr)
      : max_bytes_(max_bytes), drop_rest_(drop_rest), stop_(stop) {}

  // Reads the next line of `input` into `line`, without its '\n' (a '\r'
  // before it stays). `consumed` becomes the bytes taken from the input,
  // the '\n' included. kTooLong: the line has more than max_bytes bytes;
  // `line` holds the first max_bytes and the rest of the line, up to and
  // including its '\n', has been read and dropped (with drop_rest). `line`
  // never holds more than max_bytes + 1 bytes.
  LineRead Next(std::istream& input, std::string& line, uint64_t& consumed) {
    line.clear();
    consumed = 0;
    if (!chunk_) chunk_ = std::make_unique<char[]>(kChunkBytes + 1);
    while (true) {
      // One byte past the bound shows that the line is too long.
      const size_t room = max_bytes_ + 1 - line.size();
      const size_t want = std::min(kChunkBytes, room);
      input.getline(chunk_.get(), static_cast<std::streamsize>(want) + 1);
      const auto got = static_cast<size_t>(input.gcount());
      consumed += got;
      const std::ios::iostate state = input.rdstate();
      if ((state & std::ios::failbit) == 0) {
        // The line ended: at its '\n' (extracted, counted in gcount), or at
        // the end of the input.
        const bool newline = (state & std::ios::eofbit) == 0;
        line.append(chunk_.get(), newline ? got - 1 : got);
        return Finish(input, line, consumed, true);
      }
      if (got == 0) {
        // Nothing extracted: the end of the input, or a read error.
        if ((state & std::ios::badbit) != 0 || consumed == 0) {
          return LineRead::kEnd;
        }
        // A line that filled the last chunk exactly, then the end.
        input.clear(state & ~std::ios::failbit);
        return Finish(input, line, consumed, true);
      }
      // The chunk filled up before the line ended.
      line.append(chunk_.get(), got);
      input.clear(state & ~std::ios::failbit);
      if (line.size() > max_bytes_) return Finish(input, line, consumed, false);
    }
  }

  size_t max_bytes() const { return max_bytes_; }

 private:
  static constexpr size_t kChunkBytes = 64 * 1024;

  // `line` is complete when `ended` (its '\n' or the input's end was
  // reached); else its rest is still in the input.
  LineRead Finish(std::istream& input, std::string& line, uint64_t& consumed,
                  bool ended) {
    if (line.size() <= max_bytes_) return LineRead::kLine;
    line.resize(max_bytes_);
    if (ended || !drop_rest_) return LineRead::kTooLong;
    // Chunk by chunk, so that a stop request is seen every 16 of them.
    for (size_t chunk_idx = 1;; ++chunk_idx) {
      input.getline(chunk_.get(), kChunkBytes + 1);
      consumed += static_cast<uint64_t>(input.gcount());
      const std::ios::iostate state = input.rdstate();
      const bool full = (state & std::ios::failbit) != 0 &&
                        static_cast<size_t>(input.gcount()) == kChunkBytes;
      if (!full) {
        // At the '\n', or at the end of the input.
        if ((state & std::ios::eofbit) != 0)
          input.clear(state & ~std::ios::failbit);
        return LineRead::kTooLong;
      }
      input.clear(state & ~std::ios::failbit);
      if (stop_ != nullptr && chunk_idx % 16 == 0 &&
          stop_->load(std::memory_order_relaxed)) {
        return LineRead::kTooLong;
      }
    }
  }

  size_t max_bytes_;
  bool drop_rest_;
  const std::atomic<bool>* stop_;
  std::unique_ptr<char[]> chunk_;
};

}  // namespace cep::io
