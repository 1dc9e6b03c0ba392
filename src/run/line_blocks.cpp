// LineBlocks: see line_blocks.hpp.

#include "line_blocks.hpp"

#include <chrono>
#include <mutex>
#include <utility>

namespace cep::run {
namespace {

// A lane waiting for a block looks again at least this often (a
// notification it missed costs no more than this).
constexpr std::chrono::milliseconds kWaitSlice(1);

}  // namespace

LineBlocks::LineBlocks(Source& source, const Schema& schema, size_t lanes,
                       Owners owners, const std::atomic<bool>* stop,
                       CheckpointDue due)
    : source_(source),
      schema_(schema),
      lanes_(lanes),
      owners_(std::move(owners)),
      due_(std::move(due)),
      time_field_(schema.time_field().value_or(0)),
      stop_(stop),
      slots_(std::make_unique<Slot[]>(kSlotsPerLane * lanes)),
      slot_count_(kSlotsPerLane * lanes) {
  for (size_t idx = 0; idx < slot_count_; ++idx) {
    slots_[idx].ready.store(kNone, std::memory_order_relaxed);
    slots_[idx].block.field_count = schema.fields().size();
  }
}

const LineBlock* LineBlocks::Acquire(uint64_t number) {
  Slot& slot = slots_[number % slot_count_];
  for (;;) {
    if (aborted_.load(std::memory_order_acquire)) return nullptr;
    if (slot.ready.load(std::memory_order_acquire) == number) {
      return &slot.block;
    }
    // Reading ahead of the block awaited must not wait for input: the lane
    // would hold back that block's events (a live stream that waits for
    // their outputs would never go on).
    const bool ahead = next_read_.load(std::memory_order_relaxed) != number;
    if (TryReadNext(/*may_wait=*/!ahead)) continue;
    std::unique_lock<std::mutex> lock(wait_mu_);
    wait_cv_.wait_for(lock, kWaitSlice, [&] {
      return slot.ready.load(std::memory_order_acquire) == number ||
             aborted_.load(std::memory_order_acquire);
    });
  }
}

void LineBlocks::Abort() {
  aborted_.store(true, std::memory_order_release);
  Notify();
}

void LineBlocks::Release(uint64_t number) {
  Slot& slot = slots_[number % slot_count_];
  if (slot.walkers.fetch_sub(1, std::memory_order_acq_rel) == 1) Notify();
}

bool LineBlocks::TryReadNext(bool may_wait) {
  std::unique_lock<std::mutex> reading(read_mu_, std::try_to_lock);
  if (!reading.owns_lock() || ended_.load(std::memory_order_relaxed) ||
      (!may_wait && !source_.Ready())) {
    return false;
  }
  const uint64_t number = next_read_.load(std::memory_order_relaxed);
  Slot& slot = slots_[number % slot_count_];
  if (slot.walkers.load(std::memory_order_acquire) != 0) return false;
  LineBlock& block = slot.block;
  block.number = number;
  Fill(block);
  block.checkpoint =
      !block.last && !block.lines.empty() && due_ != nullptr && due_(block);
  if (block.last) ended_.store(true, std::memory_order_relaxed);
  next_read_.store(number + 1, std::memory_order_relaxed);
  slot.walkers.store(lanes_, std::memory_order_relaxed);
  reading.unlock();
  Notify();  // another lane may read the next block now
  Scan(block);
  slot.ready.store(number, std::memory_order_release);
  Notify();
  return true;
}

void LineBlocks::Fill(LineBlock& block) {
  block.bytes.clear();
  block.lines.clear();
  block.input_waits = false;
  block.last = false;
  block.stopped = false;
  Frame frame;
  while (block.lines.size() < kBlockLines && block.bytes.size() < kBlockBytes) {
    if (StopRequested()) {
      block.last = block.stopped = true;
      return;
    }
    if (!source_.Next(frame)) {
      // Reading may also end because a signal interrupted it.
      block.last = true;
      block.stopped = StopRequested();
      return;
    }
    BlockLine& line = block.lines.emplace_back();
    line.begin = static_cast<uint32_t>(block.bytes.size());
    line.size = static_cast<uint32_t>(frame.text.size());
    line.too_long = frame.too_long;
    line.line_no = frame.line_no;
    line.end_offset = frame.end_offset;
    block.bytes.append(frame.text);
    if (!source_.Ready()) {
      block.input_waits = true;
      return;
    }
  }
}

void LineBlocks::Scan(LineBlock& block) const {
  block.fields.resize(block.lines.size() * block.field_count);
  std::span<io::FlatField> fields(block.fields);
  for (size_t idx = 0; idx < block.lines.size(); ++idx) {
    BlockLine& line = block.lines[idx];
    const std::span<io::FlatField> scanned =
        fields.subspan(idx * block.field_count, block.field_count);
    line.scanned =
        !line.too_long &&
        io::ScanFlatJson(
            std::string_view(block.bytes.data() + line.begin, line.size),
            schema_, scanned);
    if (!line.scanned) continue;
    line.millis = scanned[time_field_].integer;
    line.owners = owners_(scanned);
  }
}

absl::Status LineBlocks::status() const { return source_.Status(); }

SourcePosition LineBlocks::position() const { return source_.Position(0); }

void LineBlocks::Notify() {
  { std::lock_guard<std::mutex> lock(wait_mu_); }
  wait_cv_.notify_all();
}

}  // namespace cep::run
