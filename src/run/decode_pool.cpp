// DecodePool: see decode_pool.hpp.

#include "decode_pool.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace cep::run {

DecodePool::DecodePool(const LineDecoder& prototype, size_t threads,
                       size_t batch_frames)
    : batch_frames_(batch_frames),
      decoded_(threads, 0),
      // Two batches per thread: one decoding, one waiting; and one the
      // reading thread fills while it hands out the oldest.
      slots_(2 * threads + 1) {
  for (size_t index = 0; index < threads; ++index) {
    decoders_.push_back(prototype.Clone());
  }
  for (Slot& slot : slots_) slot.batch.entries.resize(batch_frames_);
  for (size_t index = 0; index < threads; ++index) {
    threads_.emplace_back([this, index] { RunThread(index); });
  }
}

DecodePool::~DecodePool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  filled_cv_.notify_all();
  for (std::thread& thread : threads_) thread.join();
}

FrameBatch* DecodePool::Free() {
  if (next_fill_ - next_take_ == slots_.size()) return nullptr;
  Slot& slot = slots_[next_fill_ % slots_.size()];
  // Free: it was taken back (Release), so no thread touches it.
  slot.batch.text.clear();
  slot.batch.count = 0;
  return &slot.batch;
}

bool DecodePool::Add(FrameBatch& batch, const Frame& frame) const {
  if (batch.count == batch_frames_) return false;
  FrameBatch::Entry& entry = batch.entries[batch.count++];
  entry.begin = batch.text.size();
  entry.size = frame.text.size();
  entry.too_long = frame.too_long;
  entry.partition = frame.partition;
  entry.line_no = frame.line_no;
  entry.end_offset = frame.end_offset;
  batch.text.append(frame.text);
  return true;
}

void DecodePool::Submit(FrameBatch* batch) {
  (void)batch;  // the slot of next_fill_, from Free()
  {
    std::lock_guard<std::mutex> lock(mu_);
    Slot& slot = slots_[next_fill_ % slots_.size()];
    slot.number = next_fill_++;
    slot.state = State::kFilled;
  }
  filled_cv_.notify_all();
}

FrameBatch* DecodePool::Take() {
  if (next_take_ == next_fill_) return nullptr;
  Slot& slot = slots_[next_take_ % slots_.size()];
  std::unique_lock<std::mutex> lock(mu_);
  decoded_cv_.wait(lock, [&] { return slot.state == State::kDecoded; });
  return &slot.batch;
}

FrameBatch* DecodePool::TryTake() {
  if (next_take_ == next_fill_) return nullptr;
  Slot& slot = slots_[next_take_ % slots_.size()];
  std::lock_guard<std::mutex> lock(mu_);
  return slot.state == State::kDecoded ? &slot.batch : nullptr;
}

void DecodePool::Release() {
  std::lock_guard<std::mutex> lock(mu_);
  slots_[next_take_ % slots_.size()].state = State::kFree;
  ++next_take_;
}

std::vector<uint64_t> DecodePool::decoded_per_thread() const {
  std::lock_guard<std::mutex> lock(mu_);
  return decoded_;
}

void DecodePool::RunThread(size_t index) {
  LineDecoder& decoder = *decoders_[index];
  const size_t threads = decoders_.size();
  for (uint64_t number = index;; number += threads) {
    Slot& slot = slots_[number % slots_.size()];
    {
      std::unique_lock<std::mutex> lock(mu_);
      filled_cv_.wait(lock, [&] {
        return stopping_ ||
               (slot.state == State::kFilled && slot.number == number);
      });
      if (stopping_) return;
    }
    FrameBatch& batch = slot.batch;
    for (size_t idx = 0; idx < batch.count; ++idx) {
      FrameBatch::Entry& entry = batch.entries[idx];
      if (entry.too_long) continue;
      entry.decoded = decoder.Decode(
          std::string_view(batch.text).substr(entry.begin, entry.size),
          entry.record, entry.error);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      decoded_[index] += batch.count;
      slot.state = State::kDecoded;
    }
    decoded_cv_.notify_one();
  }
}

}  // namespace cep::run
