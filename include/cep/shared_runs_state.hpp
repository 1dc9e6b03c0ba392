// cep/shared_runs_state.hpp — one key's partial matches as shared sets: what
// a SharedRunsEvaluator (shared_runs_evaluator.hpp) advances.
//
// Per NFA state, the DAG node (internal/run_dag.hpp) of the set of runs
// waiting there; the DAG; the events its nodes took; and what the window
// needs (which starts expired). Plain data addressed by indices, so a
// KeyState (key_state.hpp) can hold it and a StateBackend serialize it:
// AppendTo() writes it with an event Codec, ReadFrom() reads it back and
// checks every reference, so corrupt bytes give kDataLoss, never a crash.
//
// Example:
//   cep::SharedRunsState<Txn> state;
//   CEP_RETURN_IF_ERROR(evaluator.Process(state, txn, ts, seq, sink));
//   std::string bytes;
//   state.AppendTo(bytes, txn_codec);
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

#include "cep/codec.hpp"
#include "cep/internal/run_dag.hpp"
#include "cep/internal/timeout_counter.hpp"
#include "cep/time.hpp"

namespace cep {

template <typename Event>
class SharedRunsEvaluator;

template <typename Event>
class SharedRunsState {
 public:
  struct StoredEvent {
    Event event;
    int64_t timestamp = 0;  // milliseconds
    uint64_t seq = 0;
  };
  // A completed match held back by the after-match skip strategy (while a
  // partial match that started before it may still complete first): its
  // events in path order, each with the stage that took it.
  struct HeldStep {
    uint32_t stage = 0;
    StoredEvent event;
  };
  struct HeldMatch {
    int64_t start_ts = 0;
    uint64_t start_seq = 0;
    std::vector<HeldStep> steps;
  };

  // True when no partial match is waiting and no match is held back.
  bool IsIdle() const {
    return held_.empty() &&
           std::all_of(heads_.begin(), heads_.end(), [](uint32_t head) {
             return head == internal::kNoRunNode;
           });
  }
  // The runs waiting in some NFA state, read off the heads' nodes
  // (RunNode::runs) in O(states), modulo 2^64. A state whose runs all
  // expired or were discarded by the skip strategy counts none; where only
  // some did, those count until a compaction reclaims them.
  // SharedRunsEvaluator::PartialMatchCount counts exactly the live ones, in
  // O(nodes).
  uint64_t StoredRunCount() const {
    uint64_t runs = 0;
    for (uint32_t head : heads_) {
      if (head == internal::kNoRunNode) continue;
      const internal::RunNode& n = dag_.node(head);
      const bool dead =
          n.max_start <= expired_through_ ||
          (skipped_ && !internal::StartsAfter(n.max_start, n.max_start_seq,
                                              skipped_ts_, skipped_seq_));
      if (!dead) runs += n.runs;
    }
    return runs;
  }
  size_t node_count() const { return dag_.size(); }
  size_t event_count() const { return events_.size(); }
  // Per NFA state, the DAG node of its runs, or internal::kNoRunNode.
  const std::vector<uint32_t>& heads() const { return heads_; }
  const internal::RunDag& dag() const { return dag_; }
  const std::vector<StoredEvent>& events() const { return events_; }
  // Completed matches held back by the skip strategy, in release order.
  const std::vector<HeldMatch>& held() const { return held_; }

  // The time of the last event a waiting partial match took (what
  // Evaluator::LastActivity says of the same runs), or nullopt when none
  // waits. Exact for patterns without a window; with one, runs that
  // expired may still count until their set is reclaimed.
  std::optional<Timestamp> LastActivity() const {
    std::optional<int64_t> last;
    for (size_t q = 0; q < heads_.size(); ++q) {
      if (heads_[q] != internal::kNoRunNode &&
          (!last || last_take_[q] > *last)) {
        last = last_take_[q];
      }
    }
    if (!last) return std::nullopt;
    return FromMillis(*last);
  }

  // Appends the state's encoding to `out`: heads with their last-take
  // times, the window's bookkeeping, the skip strategy's (the newest start
  // discarded, the held-back matches), the events (with `events`), the DAG.
  // Deterministic: the same state gives the same bytes.
  void AppendTo(std::string& out, const Codec<Event>& events) const {
    using internal::PutSignedVarint;
    using internal::PutVarint;
    PutVarint(out, heads_.size());
    for (size_t q = 0; q < heads_.size(); ++q) {
      PutVarint(
          out, heads_[q] == internal::kNoRunNode ? 0 : uint64_t{heads_[q]} + 1);
      PutSignedVarint(out, last_take_[q]);
    }
    PutSignedVarint(out, expired_through_);
    PutVarint(out, starts_.size() - first_start_);
    for (size_t i = first_start_; i < starts_.size(); ++i) {
      PutSignedVarint(out, starts_[i]);
    }
    PutVarint(out, compact_at_);
    out.push_back(skipped_ ? 1 : 0);
    if (skipped_) {
      PutSignedVarint(out, skipped_ts_);
      PutVarint(out, skipped_seq_);
    }
    PutVarint(out, held_.size());
    for (const HeldMatch& m : held_) {
      PutSignedVarint(out, m.start_ts);
      PutVarint(out, m.start_seq);
      PutVarint(out, m.steps.size());
      for (const HeldStep& step : m.steps) {
        PutVarint(out, step.stage);
        PutSignedVarint(out, step.event.timestamp);
        PutVarint(out, step.event.seq);
        events.Encode(step.event.event, out);
      }
    }
    PutVarint(out, events_.size());
    for (const StoredEvent& e : events_) {
      PutSignedVarint(out, e.timestamp);
      PutVarint(out, e.seq);
      events.Encode(e.event, out);
    }
    dag_.AppendTo(out);
  }

  // Replaces this state with the one AppendTo() wrote at the front of `in`,
  // consuming it. kDataLoss saying what is wrong ("truncated in event 3 of
  // 9", "node 4 of 10 refers to node 7"); the state is then unspecified
  // (but valid).
  [[nodiscard]] absl::Status ReadFrom(std::string_view& in,
                                      const Codec<Event>& events) {
    using internal::GetSignedVarint;
    using internal::GetVarint;
    using internal::GetVarint32;
    auto cut = [&in](absl::string_view what) {
      return absl::DataLossError(
          absl::StrCat(in.empty() ? "truncated" : "corrupt", " in ", what));
    };
    uint32_t head_count = 0;
    if (!GetVarint32(in, head_count)) return cut("the head count");
    heads_.clear();
    last_take_.clear();
    // Counts are not trusted: storage grows as items are read (a head
    // takes at least 2 bytes, a start 1, an event 2).
    heads_.reserve(std::min<size_t>(head_count, in.size() / 2));
    for (uint32_t q = 0; q < head_count; ++q) {
      uint64_t head_plus_one = 0;
      int64_t last = 0;
      if (!GetVarint(in, head_plus_one) || !GetSignedVarint(in, last)) {
        return cut(absl::StrCat("head ", q, " of ", head_count));
      }
      if (head_plus_one > internal::kNoRunNode) {
        return absl::DataLossError(
            absl::StrCat("head ", q, " refers to node ", head_plus_one - 1));
      }
      heads_.push_back(head_plus_one == 0
                           ? internal::kNoRunNode
                           : static_cast<uint32_t>(head_plus_one - 1));
      last_take_.push_back(last);
    }
    uint64_t start_count = 0, compact_at = 0;
    if (!GetSignedVarint(in, expired_through_)) return cut("the window state");
    if (!GetVarint(in, start_count)) return cut("the start count");
    starts_.clear();
    first_start_ = 0;
    starts_.reserve(std::min<size_t>(start_count, in.size()));
    for (uint64_t i = 0; i < start_count; ++i) {
      int64_t start = 0;
      if (!GetSignedVarint(in, start)) {
        return cut(absl::StrCat("start ", i, " of ", start_count));
      }
      starts_.push_back(start);
    }
    if (!GetVarint(in, compact_at)) return cut("the compaction threshold");
    compact_at_ = static_cast<size_t>(compact_at);
    if (in.empty() || static_cast<uint8_t>(in.front()) > 1) {
      return cut("the skip state");
    }
    skipped_ = in.front() == 1;
    in.remove_prefix(1);
    skipped_ts_ = std::numeric_limits<int64_t>::min();
    skipped_seq_ = 0;
    if (skipped_ &&
        (!GetSignedVarint(in, skipped_ts_) || !GetVarint(in, skipped_seq_))) {
      return cut("the skip state");
    }
    uint32_t held_count = 0;
    if (!GetVarint32(in, held_count)) return cut("the held-back match count");
    held_.clear();
    // A held-back match takes at least 3 bytes, a step 3.
    held_.reserve(std::min<size_t>(held_count, in.size() / 3));
    for (uint32_t i = 0; i < held_count; ++i) {
      HeldMatch& m = held_.emplace_back();
      uint32_t step_count = 0;
      if (!GetSignedVarint(in, m.start_ts) || !GetVarint(in, m.start_seq) ||
          !GetVarint32(in, step_count)) {
        return cut(absl::StrCat("held-back match ", i, " of ", held_count));
      }
      m.steps.reserve(std::min<size_t>(step_count, in.size() / 3));
      for (uint32_t j = 0; j < step_count; ++j) {
        HeldStep& step = m.steps.emplace_back();
        if (!GetVarint32(in, step.stage) ||
            !GetSignedVarint(in, step.event.timestamp) ||
            !GetVarint(in, step.event.seq)) {
          return cut(absl::StrCat("step ", j, " of held-back match ", i, " of ",
                                  held_count));
        }
        if (absl::Status s = events.Decode(in, step.event.event); !s.ok()) {
          return absl::DataLossError(absl::StrCat(
              "step ", j, " of held-back match ", i, ": ", s.message()));
        }
      }
    }
    uint32_t event_count = 0;
    if (!GetVarint32(in, event_count)) return cut("the event count");
    events_.clear();
    events_.reserve(std::min<size_t>(event_count, in.size() / 2));
    for (uint32_t i = 0; i < event_count; ++i) {
      StoredEvent& e = events_.emplace_back();
      if (!GetSignedVarint(in, e.timestamp) || !GetVarint(in, e.seq)) {
        return cut(absl::StrCat("event ", i, " of ", event_count));
      }
      if (absl::Status s = events.Decode(in, e.event); !s.ok()) {
        return absl::DataLossError(
            absl::StrCat("event ", i, " of ", event_count, ": ", s.message()));
      }
    }
    if (absl::Status s = dag_.ReadFrom(in, event_count); !s.ok()) return s;
    for (uint32_t q = 0; q < heads_.size(); ++q) {
      if (heads_[q] != internal::kNoRunNode && heads_[q] >= dag_.size()) {
        return absl::DataLossError(absl::StrCat(
            "head ", q, " refers to node ", heads_[q], " of ", dag_.size()));
      }
    }
    return absl::OkStatus();
  }

 private:
  friend class SharedRunsEvaluator<Event>;

  std::vector<uint32_t> heads_;
  // Per NFA state, the time of the last event its runs took (valid where
  // heads_ has a node).
  std::vector<int64_t> last_take_;
  internal::RunDag dag_;
  std::vector<StoredEvent> events_;
  // Runs whose first event's timestamp is <= this have expired.
  int64_t expired_through_ = std::numeric_limits<int64_t>::min();
  // Timestamps of the events that started runs, oldest first, from
  // starts_[first_start_] on (patterns with a window only): no run expires
  // when none of them does.
  std::vector<int64_t> starts_;
  size_t first_start_ = 0;
  // Compact the DAG when it reaches this many nodes.
  size_t compact_at_ = 64;
  // After-match skipping (SkipPastLastEvent): when skipped_, runs whose
  // first event is at or before (skipped_ts_, skipped_seq_) by timestamp,
  // then sequence number, were discarded.
  bool skipped_ = false;
  int64_t skipped_ts_ = std::numeric_limits<int64_t>::min();
  uint64_t skipped_seq_ = 0;
  // Completed matches held back by the skip strategy, sorted by start.
  std::vector<HeldMatch> held_;
  // A CACHE, not part of the state's value and never serialized: what
  // SharedRunsTimeouts::kCount keeps to count timeouts without walking the
  // DAG (per live start, its runs per NFA state at some time, and the
  // matrix that moved them since). Derived from the DAG and holds no node
  // indices, so compaction leaves it valid; a state without it (fresh, or
  // decoded) rebuilds it at the next expiry and counts the same.
  internal::TimeoutCounter timeout_counter_;
};

}  // namespace cep
