// cep/internal/bounded_queue.hpp — a blocking single-producer,
// single-consumer queue that hands items over in batches: the Runtime
// (runtime.hpp) feeds each worker thread through one.
//
// The consumer takes everything queued in one call by swapping vectors, so a
// busy consumer costs one lock per batch, not per item; the vectors circulate
// between producer and consumer and keep their capacity, so steady state
// allocates nothing. The producer blocks while the queue is full
// (backpressure). Not for users: namespace cep::internal.
//
// Example:
//   cep::internal::BoundedQueue<Item> queue(1024);
//   // producer thread
//   queue.Push(item);                 // one item
//   queue.PushAll(batch);             // a whole vector, left empty
//   queue.Close();
//   // consumer thread
//   std::vector<Item> items;
//   while (queue.PopAll(items)) { for (Item& i : items) Use(i); items.clear();
//   }
#pragma once

#include <cassert>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <utility>
#include <vector>

namespace cep::internal {

template <typename T>
class BoundedQueue {
 public:
  // `capacity`: how many items may wait before the producer blocks; at
  // least 1.
  explicit BoundedQueue(size_t capacity)
      : capacity_(capacity == 0 ? 1 : capacity) {}
  BoundedQueue(const BoundedQueue&) = delete;
  BoundedQueue& operator=(const BoundedQueue&) = delete;

  // Appends `item`, first waiting while the queue is full. Returns false,
  // dropping the item, when the queue is closed.
  bool Push(T item) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!WaitForRoom(lock)) return false;
    items_.push_back(std::move(item));
    WakeConsumer();
    return true;
  }

  // Moves every item of `items` in, in order, first waiting while the queue
  // is full; `items` is left empty (it may come back with another vector's
  // capacity, for reuse). A batch is never split, so the queue may then hold
  // up to capacity - 1 + items.size() items. Returns false, dropping the
  // items, when the queue is closed.
  bool PushAll(std::vector<T>& items) {
    if (items.empty()) return true;
    std::unique_lock<std::mutex> lock(mu_);
    if (!WaitForRoom(lock)) {
      items.clear();
      return false;
    }
    if (items_.empty()) {
      items_.swap(items);
    } else {
      for (T& item : items) items_.push_back(std::move(item));
      items.clear();
    }
    WakeConsumer();
    return true;
  }

  // Waits until an item is queued or the queue is closed, then moves every
  // queued item into `out`, in order. REQUIRES: `out` is empty (checked by
  // assert). Returns false when the queue is closed and nothing is left.
  bool PopAll(std::vector<T>& out) {
    std::unique_lock<std::mutex> lock(mu_);
    ++consumers_waiting_;
    consumer_cv_.wait(lock, [this] { return !items_.empty() || closed_; });
    --consumers_waiting_;
    if (items_.empty()) return false;
    assert(out.empty());  // the caller dropped items it was handed
    out.swap(items_);
    if (producers_waiting_ > 0) producer_cv_.notify_one();
    return true;
  }

  // Wakes everyone: later pushes fail; the consumer still receives what was
  // queued before.
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    consumer_cv_.notify_all();
    producer_cv_.notify_all();
  }

  // Items waiting; a snapshot.
  size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return items_.size();
  }
  size_t capacity() const { return capacity_; }

 private:
  // With `lock` held: waits until there is room or the queue is closed;
  // returns false when closed.
  bool WaitForRoom(std::unique_lock<std::mutex>& lock) {
    ++producers_waiting_;
    producer_cv_.wait(lock,
                      [this] { return items_.size() < capacity_ || closed_; });
    --producers_waiting_;
    return !closed_;
  }

  // With the lock held. Only a waiting consumer needs the (system) call.
  void WakeConsumer() {
    if (consumers_waiting_ > 0) consumer_cv_.notify_one();
  }

  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable consumer_cv_;
  std::condition_variable producer_cv_;
  std::vector<T> items_;
  int consumers_waiting_ = 0;
  int producers_waiting_ = 0;
  bool closed_ = false;
};

}  // namespace cep::internal
