// cep/internal/timeout_counter.hpp — counts the partial matches that time
// out under a SharedRunsEvaluator with SharedRunsTimeouts::kCount, in time
// independent of the window.
//
// Counting a start's expired runs on the DAG (run_dag.hpp) costs the nodes
// its runs span, about the whole window, and the oldest start expires on
// almost every event. But all runs in one NFA state react identically to an
// event, so the number of runs per state evolves linearly: after event t,
// counts' = M_t * counts, where M_t[r][q] is the number of successors that
// the runs in state q keep in state r on event t (runs that reach the final
// or a stop state, or that have no successor, drop out). The runs of start
// e in each state after event T are therefore P * u_e, where u_e is their
// vector at some earlier time and P = M_T ... M_(that time + 1).
//
// The counter works in periods. Rebuild() sweeps the DAG once from the
// heads (O(nodes x slots)) and records u_e for every start still alive,
// oldest first, and sets P = identity; then every event multiplies P by its
// M_t (Apply(), O(moves x slots)); a start expiring is counted as
// 1_counted^T * P * u_e (PopThrough()). When the recorded starts are all
// used up (about one window later) the evaluator rebuilds: amortized
// O(slots) per DAG node, and O(slots x moves) per event, whatever the window.
//
// "Slots" are the NFA states that can hold runs, numbered densely; at most
// kMaxSlots, so P (slots x slots) and u_e (slots) stay small per key. Above
// that, the evaluator counts on the DAG instead.
//
// It is a cache: derived from the DAG, never serialized. An empty counter
// (a fresh state, or one decoded from a state backend) rebuilds at the next
// expiry and counts the same.
//
// Arithmetic wraps modulo 2^64 (the counts can be exponential in the
// window), as the DAG count does: both are exact modulo 2^64, so they agree
// on every count.
//
// Example (what the evaluator does):
//   counter.NoteStart(ts);                     // an event started runs
//   counter.Apply(moves.data(), moves.size(), scratch);  // after each event
//   if (!counter.valid() || counter.covered() < newest_expired_start)
//     counter.Rebuild(dag, heads, slot_of, slots, start_ts, after,
//                     newest_start, scratch);
//   timeouts += counter.PopThrough(through, non_pending_slots);
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "cep/internal/run_dag.hpp"

namespace cep::internal {

// One successor kept by every run of slot `from` into slot `to` on an event.
struct SlotMove {
  uint8_t from;
  uint8_t to;
};

inline constexpr uint8_t kNoSlot = std::numeric_limits<uint8_t>::max();

class TimeoutCounter {
 public:
  // Largest number of slots it handles (bit masks of slots are uint64_t;
  // memory per key is 8 x slots bytes per live start, plus P).
  static constexpr uint32_t kMaxSlots = 32;

  // Whether it holds a period: the starts with timestamps in (expired,
  // covered()] are all recorded (those absent had no live run).
  bool valid() const { return valid_; }
  int64_t covered() const { return covered_; }
  // Whether recorded starts are waiting: only then must every event's moves
  // be applied (a rebuild resets P).
  bool tracking() const { return front_ < entry_ts_.size(); }
  // Recorded starts not yet popped (tests).
  size_t pending_starts() const { return entry_ts_.size() - front_; }

  // Forgets everything: the next count rebuilds.
  void Clear() {
    valid_ = false;
    entry_ts_.clear();
    entries_.clear();
    front_ = 0;
  }

  // An event at `ts` started runs. They are not in the recorded vectors: if
  // a recorded start has the same (or a later) timestamp, that timestamp's
  // group is no longer complete, so it is dropped and rebuilt when it
  // expires. In timestamp order this never happens (a rebuild is the first
  // advance to its time, after every start up to it); it takes an event
  // older than the time already reached.
  void NoteStart(int64_t ts) {
    if (!valid_ || ts > covered_) return;
    covered_ = ts - 1;
    while (entry_ts_.size() > front_ && entry_ts_.back() >= ts) {
      entry_ts_.pop_back();
      entries_.resize(entries_.size() - slots_);
    }
  }

  // P = M_t * P for one event, M_t given as its moves (one per successor
  // kept, from the slots that had runs). `scratch` is a buffer of the
  // caller, reused (swapped with P).
  void Apply(const SlotMove* moves, size_t count,
             std::vector<uint64_t>& scratch) {
    if (!tracking()) return;
    // Most events move every live slot onto itself: P is unchanged.
    uint64_t sources = 0;
    bool identity = true;
    for (size_t i = 0; i < count && identity; ++i) {
      const uint64_t bit = uint64_t{1} << moves[i].from;
      identity = moves[i].from == moves[i].to && (sources & bit) == 0;
      sources |= bit;
    }
    if (identity && (live_rows_ & ~sources) == 0) return;
    const size_t k = slots_;
    scratch.resize(k * k);
    uint64_t next_live = 0;
    for (size_t i = 0; i < count; ++i) {
      const SlotMove m = moves[i];
      if ((live_rows_ >> m.from & 1) == 0) continue;
      const uint64_t* source = p_.data() + m.from * k;
      uint64_t* target = scratch.data() + m.to * k;
      if ((next_live >> m.to & 1) == 0) {
        std::copy(source, source + k, target);
        next_live |= uint64_t{1} << m.to;
      } else {
        for (size_t c = 0; c < k; ++c) target[c] += source[c];
      }
    }
    p_.swap(scratch);
    live_rows_ = next_live;
  }

  // Pops the recorded starts with timestamps <= `through` and returns their
  // runs in the slots of `counted` (a bit mask), modulo 2^64.
  uint64_t PopThrough(int64_t through, uint64_t counted) {
    if (!tracking() || entry_ts_[front_] > through) return 0;
    const size_t k = slots_;
    // row = 1_counted^T * P.
    row_.assign(k, 0);
    for (size_t r = 0; r < k; ++r) {
      if ((counted & live_rows_) >> r & 1) {
        for (size_t c = 0; c < k; ++c) row_[c] += p_[r * k + c];
      }
    }
    uint64_t total = 0;
    for (; front_ < entry_ts_.size() && entry_ts_[front_] <= through;
         ++front_) {
      const uint64_t* u = entries_.data() + front_ * k;
      for (size_t c = 0; c < k; ++c) total += row_[c] * u[c];
    }
    return total;
  }

  // Starts a period: records, per start timestamp > `after`, its runs per
  // slot, counted on the DAG from `heads` (per NFA state; `slot_of` maps a
  // state to its slot or kNoSlot), and sets P = identity. `start_ts(node)`
  // is the timestamp of a start node's event; `covered` the newest start
  // so far. `scratch` is a buffer of the caller (nodes x slots counters).
  // Returns false, leaving the counter invalid, when the starts are not in
  // timestamp order (then count on the DAG).
  template <typename StartTs>
  bool Rebuild(const RunDag& dag, const std::vector<uint32_t>& heads,
               const std::vector<uint8_t>& slot_of, uint32_t slots,
               StartTs&& start_ts, int64_t after, int64_t covered,
               std::vector<uint64_t>& scratch) {
    Clear();
    const size_t k = slots;
    slots_ = slots;
    // paths[node * k + s]: the paths from the head of slot s to the node.
    std::vector<uint64_t>& paths = scratch;
    paths.assign(dag.size() * k, 0);
    auto live = [&](uint32_t node) { return dag.node(node).max_start > after; };
    for (uint32_t q = 0; q < heads.size(); ++q) {
      if (heads[q] != kNoRunNode && slot_of[q] != kNoSlot && live(heads[q])) {
        paths[heads[q] * k + slot_of[q]] += 1;
      }
    }
    // Nodes point only to older ones: newest first, each node's paths are
    // complete when it is reached.
    for (size_t index = dag.size(); index-- > 0;) {
      const RunNode& n = dag.node(static_cast<uint32_t>(index));
      if (n.max_start <= after) continue;
      const uint64_t* from = paths.data() + index * k;
      if (std::all_of(from, from + k, [](uint64_t x) { return x == 0; })) {
        continue;
      }
      auto add_to = [&](uint32_t node) {
        if (!live(node)) return;
        uint64_t* to = paths.data() + node * k;
        for (size_t c = 0; c < k; ++c) to[c] += from[c];
      };
      if (n.kind == RunNode::Kind::kUnion) {
        for (uint32_t m = 0; m < n.member_count; ++m) {
          add_to(dag.member(n.first_member + m));
        }
      } else if (n.previous != kNoRunNode) {
        add_to(n.previous);
      } else {
        const int64_t ts = start_ts(n);
        if (ts <= after) continue;
        // Found newest first: a new entry unless it continues the last.
        if (entry_ts_.empty() || ts < entry_ts_.back()) {
          entry_ts_.push_back(ts);
          entries_.resize(entries_.size() + k, 0);
        } else if (ts > entry_ts_.back()) {
          Clear();
          return false;
        }
        uint64_t* to = entries_.data() + (entries_.size() - k);
        for (size_t c = 0; c < k; ++c) to[c] += from[c];
      }
    }
    // Oldest first.
    std::reverse(entry_ts_.begin(), entry_ts_.end());
    const size_t count = entry_ts_.size();
    for (size_t i = 0; i < count / 2; ++i) {
      uint64_t* low = entries_.data() + i * k;
      std::swap_ranges(low, low + k, entries_.data() + (count - 1 - i) * k);
    }
    p_.assign(k * k, 0);
    for (size_t s = 0; s < k; ++s) p_[s * k + s] = 1;
    live_rows_ = k >= 64 ? ~uint64_t{0} : (uint64_t{1} << k) - 1;
    covered_ = covered;
    valid_ = true;
    return true;
  }

 private:
  bool valid_ = false;
  int64_t covered_ = std::numeric_limits<int64_t>::min();
  uint32_t slots_ = 0;
  // The recorded starts, oldest first, from front_ on: timestamps, and
  // their runs per slot (slots_ counters each) when the period began.
  std::vector<int64_t> entry_ts_;
  std::vector<uint64_t> entries_;
  size_t front_ = 0;
  // P, row-major (slots_ x slots_); rows not in live_rows_ are zero.
  std::vector<uint64_t> p_;
  uint64_t live_rows_ = 0;
  std::vector<uint64_t> row_;  // scratch of PopThrough
};

}  // namespace cep::internal
