// LineBlocks: the input of a run with lanes (`cep run --parallelism N` over
// JSON lines of one event type with state in memory, run.cpp), cut into
// blocks of lines that every lane walks in input order.
// Internal to src/run/: not installed, not under include/.
//
// With durable state the lanes checkpoint together after the blocks the
// reading lane marks (LineBlock::checkpoint), so that a mark is set before
// any lane can pass it.
//
// A lane is a thread with a runtime of its own (parallelism 1) that takes
// the events of the keys it owns and observes the others
// (Runtime::Observe), so every lane numbers events and decides lateness as
// one runtime would, and no event crosses from one thread's queue to
// another's. The work every event needs once, not once per lane — reading
// it and scanning it (io::ScanFlatJson) — is shared: the lane that needs a
// block nobody has read yet reads it from the source and scans it, then
// every lane walks it (the scanned fields are views into the block's
// bytes). A block's slot is read into again once every lane walked it, so
// at most kSlotsPerLane × lanes blocks are held: a lane that runs ahead
// waits for the slowest (backpressure), reading the next block meanwhile
// when its slot is free and input is there (a lane never waits for input
// with a block it has not walked: on a live stream that would hold back
// that block's outputs).
//
// Example (one thread per lane):
//   LineBlocks blocks(source, schema, lanes, stop);
//   for (uint64_t number = 0;; ++number) {
//     const LineBlock* block = blocks.Acquire(number);
//     if (block == nullptr) break;  // another lane failed: Abort()
//     for (size_t idx = 0; idx < block->lines.size(); ++idx) {
//       ...  // block->FrameOf(idx), block->FieldsOf(idx)
//     }
//     const bool last = block->last;
//     blocks.Release(number);
//     if (last) break;
//   }
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "cep/event.hpp"

#include "../io/flat_json.hpp"
#include "framing.hpp"
#include "source.hpp"

namespace cep::run {

// One line of a block.
struct BlockLine {
  uint32_t begin = 0;  // in LineBlock::bytes
  uint32_t size = 0;
  bool too_long = false;
  // io::ScanFlatJson took it: its fields are LineBlock::FieldsOf(), its
  // time (epoch milliseconds) `millis`, and bit i of `owners` says whether
  // lane i owns a key of it (LineBlocks::Owners).
  bool scanned = false;
  int64_t millis = 0;
  uint64_t owners = 0;
  uint64_t line_no = 0;
  uint64_t end_offset = 0;
};

// Lines of the input, read and scanned.
struct LineBlock {
  Frame FrameOf(size_t idx) const {
    const BlockLine& line = lines[idx];
    Frame frame;
    frame.text = std::string_view(bytes.data() + line.begin, line.size);
    frame.too_long = line.too_long;
    frame.line_no = line.line_no;
    frame.end_offset = line.end_offset;
    return frame;
  }
  // REQUIRES: lines[idx].scanned.
  std::span<const io::FlatField> FieldsOf(size_t idx) const {
    return std::span<const io::FlatField>(fields).subspan(idx * field_count,
                                                          field_count);
  }

  uint64_t number = 0;  // which block of the input
  std::string bytes;    // the lines' text, back to back
  std::vector<BlockLine> lines;
  size_t field_count = 0;  // per line, in `fields`
  std::vector<io::FlatField> fields;
  // The source had nothing more at once after this block (a live stream):
  // the lanes let clock-driven steps happen before they wait.
  bool input_waits = false;
  // No block follows: the input ended, reading failed (LineBlocks::
  // status()), or a stop request came (then `stopped` too).
  bool last = false;
  bool stopped = false;
  // Durable state: the lanes checkpoint after this block (not a last one:
  // the run checkpoints at its end anyway), all at the same point of the
  // input (LineBlocks::CheckpointDue).
  bool checkpoint = false;

  // Where the input is after this block. REQUIRES: !lines.empty().
  SourcePosition EndPosition() const {
    return {lines.back().end_offset, lines.back().line_no};
  }
};

class LineBlocks {
 public:
  // Lines per block at most, and bytes (a block also ends at a line that
  // makes it longer, and before the input waits).
  static constexpr size_t kBlockLines = 1024;
  static constexpr size_t kBlockBytes = 256 * 1024;
  static constexpr size_t kSlotsPerLane = 4;
  // At most this many lanes (BlockLine::owners has a bit per lane).
  static constexpr size_t kMaxLanes = 64;

  // The lanes that own a key of a scanned line's event, a bit per lane;
  // called by the lane that scans the block, so it must be thread-safe.
  using Owners = std::function<uint64_t(std::span<const io::FlatField>)>;
  // Whether the lanes checkpoint after a block just read (LineBlock::
  // checkpoint); called for every block with lines, in input order, by the
  // lane that read it.
  using CheckpointDue = std::function<bool(const LineBlock&)>;

  // `source` (read through Next() from here on), `schema` (its time field
  // the events' time: REQUIRES: it has one) and `stop` (nullptr: none) must
  // outlive this; `due` nullptr: no checkpoints. REQUIRES: 1 <= lanes <=
  // kMaxLanes.
  LineBlocks(Source& source, const Schema& schema, size_t lanes, Owners owners,
             const std::atomic<bool>* stop, CheckpointDue due = nullptr);

  // Block `number`, read and scanned: waits for it, reading and scanning
  // blocks itself meanwhile when it can; nullptr after Abort(). REQUIRES:
  // each lane acquires blocks 0, 1, ... in order, releases each, and none
  // after a last one.
  const LineBlock* Acquire(uint64_t number);
  // The calling lane is done with block `number`.
  void Release(uint64_t number);
  // A lane stopped walking (its error ends the run): Acquire() returns
  // nullptr from now on, in every lane, so none waits for its releases.
  void Abort();

  // After a last block: the source's Status() (kUnavailable when reading
  // failed) and its position after the last line read.
  absl::Status status() const;
  SourcePosition position() const;

 private:
  // On cache lines of its own: lanes write its counters.
  struct alignas(64) Slot {
    LineBlock block;
    // The number of the block read and scanned into it (kNone: none yet).
    std::atomic<uint64_t> ready;
    // Lanes that have still to release it; reused at 0.
    std::atomic<size_t> walkers{0};
  };
  static constexpr uint64_t kNone = ~uint64_t{0};

  // Reads and scans the next block when no other lane is reading, its slot
  // is free and (unless `may_wait`) input is there; false when it did not.
  bool TryReadNext(bool may_wait);
  // Fills `block` from the source (under read_mu_).
  void Fill(LineBlock& block);
  void Scan(LineBlock& block) const;
  bool StopRequested() const {
    return stop_ != nullptr && stop_->load(std::memory_order_relaxed);
  }
  void Notify();

  Source& source_;
  const Schema& schema_;
  const size_t lanes_;
  const Owners owners_;
  CheckpointDue due_;  // called under read_mu_
  const size_t time_field_;
  const std::atomic<bool>* stop_;
  std::unique_ptr<Slot[]> slots_;
  const size_t slot_count_;
  // Reading: one lane at a time, blocks in order.
  std::mutex read_mu_;
  std::atomic<uint64_t> next_read_{0};
  std::atomic<bool> ended_{false};
  std::atomic<bool> aborted_{false};
  // Waiting for a block, or for a chance to read one.
  std::mutex wait_mu_;
  std::condition_variable wait_cv_;
};

}  // namespace cep::run
