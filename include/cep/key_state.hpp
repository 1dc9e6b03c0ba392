// cep/key_state.hpp — everything one key remembers between events.
//
// A KeyState holds the key's partial matches (computations: where in the
// NFA a branch is, its shared-buffer node and Dewey version, when it
// started, its incremental aggregates), the completed matches held back by
// an after-match skip strategy, and the shared buffer of their events. It is
// plain data addressed by indices, so a StateBackend (state.hpp) can keep it
// in memory or serialize it. An Evaluator (evaluator.hpp) advances it.
//
// Example:
//   cep::KeyState<Txn> state;             // a fresh key: only the start
//   evaluator.Process(state, txn, ts, seq, sink);
//   if (state.PartialMatchCount() == 0) { /* the key holds no partial match */
//   }
#pragma once

#include <cstdint>
#include <vector>

#include "absl/container/inlined_vector.h"

#include "cep/condition.hpp"
#include "cep/internal/dewey_number.hpp"
#include "cep/shared_buffer.hpp"

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

  // Partial matches, not counting the start computation.
  size_t PartialMatchCount() const {
    size_t n = 0;
    for (const Computation& c : partial_) n += c.has_start ? 1 : 0;
    return n;
  }

  // True when the key holds nothing but its start: its state may be dropped.
  bool IsIdle() const {
    return PartialMatchCount() == 0 && completed_.empty() && buffer_.empty();
  }

 private:
  std::vector<Computation> partial_;
  std::vector<Computation> completed_;
  SharedBuffer<Event> buffer_;
};

}  // namespace cep
