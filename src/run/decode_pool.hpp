// DecodePool: decodes frames on several threads while the reading thread
// frames the next ones, and hands them back in input order.
// Internal to src/run/: not installed, not under include/.
//
// `cep run --parallelism N` uses it for CSV rows and for JSON lines of
// several event types; JSON lines of one event type go to the workers
// undecoded instead (the reading thread scans them, the worker that owns
// the key builds the Record: Runtime::PushDeferred, run.cpp).
//
// The reading thread fills batches of frames (their text copied into the
// batch's one buffer) and submits them; batch k goes to decoding thread
// k mod N, which decodes every frame of it with its own LineDecoder. The
// reading thread then takes the batches back in the order it submitted
// them, each once decoded, and hands the events to the runtime: seq, the
// watermark, lateness, dead letters and errors are decided there, in input
// order, exactly as when it decodes itself. A ring of batches bounds the
// frames in flight; their buffers are reused, so the steady state allocates
// only what decoding allocates (the records' values).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cep/event.hpp"

#include "decoding.hpp"
#include "framing.hpp"

namespace cep::run {

// Frames, their text, and what decoding made of each.
struct FrameBatch {
  struct Entry {
    size_t begin = 0;  // of the text in `text`
    size_t size = 0;
    bool too_long = false;  // not decoded
    size_t partition = 0;
    uint64_t line_no = 0;
    uint64_t end_offset = 0;
    Decoded decoded = Decoded::kNothing;
    Record record;      // kEvent
    std::string error;  // kBad, kFatal
  };

  // Entry `idx` as a frame.
  Frame FrameOf(size_t idx) const {
    const Entry& entry = entries[idx];
    Frame frame;
    frame.text = std::string_view(text).substr(entry.begin, entry.size);
    frame.too_long = entry.too_long;
    frame.partition = entry.partition;
    frame.line_no = entry.line_no;
    frame.end_offset = entry.end_offset;
    return frame;
  }

  std::string text;
  std::vector<Entry> entries;  // the first `count` are in use
  size_t count = 0;
  int64_t arrival_ns = 0;  // when the batch was submitted
};

class DecodePool {
 public:
  // `threads` decoding threads, each with a Clone() of `prototype` (made
  // now: a CSV decoder must have its header); batches of up to
  // `batch_frames` frames.
  DecodePool(const LineDecoder& prototype, size_t threads, size_t batch_frames);
  // Stops the threads; batches not taken back are dropped.
  ~DecodePool();
  DecodePool(const DecodePool&) = delete;
  DecodePool& operator=(const DecodePool&) = delete;

  // Reading thread. The batch to fill next, empty; nullptr when every batch
  // is in flight (take one back first).
  FrameBatch* Free();
  // Appends `frame` to `batch`; false when the batch is full.
  bool Add(FrameBatch& batch, const Frame& frame) const;
  // Hands `batch` (from Free(), not empty) to its decoding thread.
  void Submit(FrameBatch* batch);
  // The oldest batch submitted and not taken back, once decoded; nullptr
  // when there is none. Valid until the next Release().
  FrameBatch* Take();
  // As Take(), but nullptr at once when that batch is not decoded yet.
  FrameBatch* TryTake();
  // Gives the batch Take() returned back for reuse.
  void Release();
  // Whether a batch submitted is still to be taken back.
  bool Pending() const { return next_take_ != next_fill_; }

  // Frames each decoding thread decoded. After the run (the threads are
  // idle once every batch was taken back).
  std::vector<uint64_t> decoded_per_thread() const;

 private:
  enum class State : uint8_t { kFree, kFilled, kDecoded };
  struct Slot {
    FrameBatch batch;
    State state = State::kFree;
    uint64_t number = 0;  // of the batch it holds
  };

  void RunThread(size_t index);

  const size_t batch_frames_;
  std::vector<std::unique_ptr<LineDecoder>> decoders_;
  std::vector<uint64_t> decoded_;  // per thread, guarded by mu_
  std::vector<Slot> slots_;
  uint64_t next_fill_ = 0;  // number of the next batch submitted
  uint64_t next_take_ = 0;  // number of the next batch taken back
  mutable std::mutex mu_;
  std::condition_variable filled_cv_;   // decoding threads wait here
  std::condition_variable decoded_cv_;  // the reading thread waits here
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace cep::run
