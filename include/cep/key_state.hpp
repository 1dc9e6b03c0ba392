// cep/key_state.hpp — everything one key remembers between events.
//
// A KeyState holds the key's partial matches in one of two forms. Per run
// (advanced by the Evaluator of evaluator.hpp): computations (where in the
// NFA a branch is, its shared-buffer node and Dewey version, when it
// started, its incremental aggregates), the completed matches held back by
// an after-match skip strategy, and the shared buffer of their events. Or
// shared (advanced by the SharedRunsEvaluator of shared_runs_evaluator.hpp):
// a SharedRunsState, once UseSharedRuns() made one. Both are plain data
// addressed by indices, so a StateBackend (state.hpp) can keep them in
// memory or serialize them.
//
// Example:
//   cep::KeyState<Txn> state;             // a fresh key: only the start
//   evaluator.Process(state, txn, ts, seq, sink);
//   if (state.PartialMatchCount() == 0) { /* the key holds no partial match */
//   }
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/container/inlined_vector.h"

#include "cep/condition.hpp"
#include "cep/internal/dewey_number.hpp"
#include "cep/shared_buffer.hpp"
#include "cep/shared_runs_state.hpp"

namespace cep {

// One branch of the NFA for one key (FlinkCEP's ComputationState).
struct Computation {
  uint32_t state = 0;       // NFA state index
  uint32_t node = kNoNode;  // last shared-buffer node taken, or kNoNode
  internal::DeweyNumber version;
  // The branch's first event, by (timestamp, seq); absent for the start
  // computation, which sorts after every other.
  bool has_start = false;
  int64_t start_ts = 0;
  uint64_t start_seq = 0;
  int64_t previous_ts = 0;                 // timestamp of the last event taken
  std::vector<AggregateValue> aggregates;  // one per Pattern::Aggregate()
};

// Orders computations by their first event; the start computation last.
inline bool StartsBefore(const Computation& a, const Computation& b) {
  if (a.has_start != b.has_start) return a.has_start;
  if (!a.has_start) return false;
  if (a.start_ts != b.start_ts) return a.start_ts < b.start_ts;
  return a.start_seq < b.start_seq;
}

template <typename Event>
class KeyState {
 public:
  // Live branches, in start order, the start computation last.
  std::vector<Computation>& partial() { return partial_; }
  const std::vector<Computation>& partial() const { return partial_; }
  // Completed matches waiting for earlier-started branches (skip strategies).
  std::vector<Computation>& completed() { return completed_; }
  const std::vector<Computation>& completed() const { return completed_; }
  SharedBuffer<Event>& buffer() { return buffer_; }
  const SharedBuffer<Event>& buffer() const { return buffer_; }

  // The shared form of the key's partial matches, or nullptr when they are
  // kept per run.
  SharedRunsState<Event>* shared_runs() { return shared_runs_.get(); }
  const SharedRunsState<Event>* shared_runs() const {
    return shared_runs_.get();
  }
  // Switches the key to the shared form, empty; what it held is dropped.
  SharedRunsState<Event>& UseSharedRuns() {
    partial_.clear();
    completed_.clear();
    if (!buffer_.empty()) buffer_ = SharedBuffer<Event>();
    shared_runs_ = std::make_unique<SharedRunsState<Event>>();
    return *shared_runs_;
  }
  // Switches the key to the per-run form (a no-op when it is in it); what
  // the shared form held is dropped.
  void UsePerRun() { shared_runs_.reset(); }

  // Partial matches kept per run, not counting the start computation (for
  // the shared form: SharedRunsEvaluator::PartialMatchCount).
  size_t PartialMatchCount() const {
    size_t n = 0;
    for (const Computation& c : partial_) n += c.has_start ? 1 : 0;
    return n;
  }

  // The partial matches the key holds in either form: PartialMatchCount(),
  // or for the shared form SharedRunsState::StoredRunCount() (which counts
  // runs past their window until they are reclaimed). What
  // KeyedMatcher::partial_matches() adds up.
  // O(1) per form (KeyedMatcher calls it around every state change): the
  // start computation, when there, is the last of partial().
  uint64_t HeldPartialMatches() const {
    if (shared_runs_ != nullptr) return shared_runs_->StoredRunCount();
    const size_t n = partial_.size();
    return n > 0 && !partial_.back().has_start ? n - 1 : n;
  }

  // True when the key holds nothing but its start: its state may be dropped.
  bool IsIdle() const {
    if (shared_runs_ != nullptr) return shared_runs_->IsIdle();
    return PartialMatchCount() == 0 && completed_.empty() && buffer_.empty();
  }

 private:
  std::vector<Computation> partial_;
  std::vector<Computation> completed_;
  SharedBuffer<Event> buffer_;
  std::unique_ptr<SharedRunsState<Event>> shared_runs_;
};

}  // namespace cep
