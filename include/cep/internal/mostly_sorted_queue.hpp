// cep/internal/mostly_sorted_queue.hpp — a min-priority queue for items that
// mostly arrive in order: the events an Operator holds until the watermark
// passes them.
//
// Items pushed in order (not less than the last one in order) are appended to
// a run, a vector read from its front; the few that arrive out of order go to
// a binary heap. top() is the smaller of the run's front and the heap's top.
// In-order input costs O(1) per push and pop, with no move of the items, where
// a heap alone costs O(log n) moves of each; a microbatch holds a whole batch.
// The run's storage is reused once it empties (or compacted once it is mostly
// consumed), so the steady state does not allocate.
//
// Example:
//   MostlySortedQueue<int, std::less<int>> q;
//   q.push(1); q.push(3); q.push(2);  // 2: out of order, to the heap
//   q.top();  // 1
#pragma once

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

namespace cep::internal {

template <typename T, typename Less>
class MostlySortedQueue {
 public:
  void push(T item) {
    if (run_begin_ == run_.size() || !less_(item, run_.back())) {
      run_.push_back(std::move(item));
      return;
    }
    heap_.push_back(std::move(item));
    std::push_heap(heap_.begin(), heap_.end(), Greater{less_});
  }

  bool empty() const { return run_begin_ == run_.size() && heap_.empty(); }
  size_t size() const { return run_.size() - run_begin_ + heap_.size(); }

  // The smallest item. REQUIRES: !empty().
  T& top() { return FromHeap() ? heap_.front() : run_[run_begin_]; }

  // Removes top(). REQUIRES: !empty().
  void pop() {
    if (FromHeap()) {
      std::pop_heap(heap_.begin(), heap_.end(), Greater{less_});
      heap_.pop_back();
      return;
    }
    // Callers move the item out of top() first; what is left is cleared
    // with the run.
    if (++run_begin_ == run_.size()) {
      run_.clear();
      run_begin_ = 0;
    } else if (run_begin_ >= 1024 && run_begin_ * 2 >= run_.size()) {
      run_.erase(run_.begin(),
                 run_.begin() + static_cast<std::ptrdiff_t>(run_begin_));
      run_begin_ = 0;
    }
  }

  // Copies of the items, smallest first.
  std::vector<T> Sorted() const {
    std::vector<T> out(run_.begin() + static_cast<std::ptrdiff_t>(run_begin_),
                       run_.end());
    const size_t from_run = out.size();
    out.insert(out.end(), heap_.begin(), heap_.end());
    std::sort(out.begin() + static_cast<std::ptrdiff_t>(from_run), out.end(),
              less_);
    std::inplace_merge(out.begin(),
                       out.begin() + static_cast<std::ptrdiff_t>(from_run),
                       out.end(), less_);
    return out;
  }

 private:
  struct Greater {
    Less less;
    bool operator()(const T& a, const T& b) const { return less(b, a); }
  };

  // Whether top() is the heap's.
  bool FromHeap() const {
    if (heap_.empty()) return false;
    if (run_begin_ == run_.size()) return true;
    return less_(heap_.front(), run_[run_begin_]);
  }

  Less less_;
  std::vector<T> run_;  // in order from run_begin_
  size_t run_begin_ = 0;
  std::vector<T> heap_;  // min-heap by less_
};

}  // namespace cep::internal
