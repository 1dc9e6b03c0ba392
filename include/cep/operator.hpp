// cep/operator.hpp — the keyed CEP operator: event time with watermarks.
//
// Events arrive out of order; an Operator holds each one until the
// watermark passes its timestamp, then feeds it to its key's NFA. Events and
// window deadlines are processed in one time order: an event at t, then any
// window that closes at or before the next event's time, and so on — so the
// output does not depend on how often the watermark advances (per event, per
// batch, at the end). Ties: a window closing at t fires before an event at
// t, as FlinkCEP's advanceTime() runs before processEvent(); events with
// equal timestamps go in arrival (seq) order.
//
// The watermark comes from the caller: BoundedOutOfOrderness below computes
// FlinkCEP's bounded-out-of-orderness watermark; processing-time callers
// stamp events with the clock and advance the watermark to it. An event at or
// behind the watermark is late: Add() refuses it, so the caller routes it to
// its late-event output.
//
// Example:
//   cep::BoundedOutOfOrderness watermarks(std::chrono::seconds(5));
//   cep::Operator<Txn, std::string> op(nfa, key_of, backend);
//   for (Txn& t : input) {
//     const cep::Timestamp ts = cep::FromMillis(t.ts);
//     if (!op.Add(t, ts, seq++)) { late.push_back(t); continue; }
//     CEP_RETURN_IF_ERROR(op.AdvanceWatermark(watermarks.Observe(ts), sink));
//   }
//   CEP_RETURN_IF_ERROR(op.Finish(sink));
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/status.h"

#include "cep/evaluator.hpp"
#include "cep/internal/mostly_sorted_queue.hpp"
#include "cep/match.hpp"
#include "cep/matcher.hpp"
#include "cep/nfa.hpp"
#include "cep/state.hpp"
#include "cep/time.hpp"

namespace cep {

// Before the first event: every timestamp is ahead of it.
inline constexpr Timestamp kMinWatermark =
    FromMillis(std::numeric_limits<int64_t>::min() / 4);
// End of input: every window has closed. Far enough from the int64 limit
// that window arithmetic cannot overflow.
inline constexpr Timestamp kEndOfTime =
    FromMillis(std::numeric_limits<int64_t>::max() / 4);

// FlinkCEP's BoundedOutOfOrdernessWatermarks: the watermark trails the
// largest timestamp seen by `bound` + 1 ms, so events up to `bound` older
// than the newest one are still on time.
class BoundedOutOfOrderness {
 public:
  explicit BoundedOutOfOrderness(Duration bound) : bound_(bound) {}

  // Takes an event's timestamp into account; returns the watermark.
  Timestamp Observe(Timestamp ts) {
    if (ts > max_) max_ = ts;
    const Timestamp candidate = max_ - bound_ - Duration(1);
    if (candidate > watermark_) watermark_ = candidate;
    return watermark_;
  }
  Timestamp watermark() const { return watermark_; }
  // The largest timestamp observed.
  Timestamp max() const { return max_; }
  // Recovery: the state max() and watermark() returned.
  void Restore(Timestamp max, Timestamp watermark) {
    max_ = max;
    watermark_ = watermark;
  }

 private:
  Duration bound_;
  Timestamp max_ = kMinWatermark;
  Timestamp watermark_ = kMinWatermark;
};

// Receives what an Operator produces; `pattern` is the index AddPattern()
// returned.
template <typename Event, typename Key>
class OperatorSink {
 public:
  virtual ~OperatorSink() = default;
  virtual void OnMatch(size_t pattern, const Key& key, Match<Event> match) = 0;
  virtual void OnTimeout(size_t pattern, const Key& key, Match<Event> partial,
                         Timestamp timeout_at) {
    (void)pattern;
    (void)key;
    (void)partial;
    (void)timeout_at;
  }
};

// An event an Operator holds until the watermark passes it (recovery:
// Operator::ExportPending).
template <typename Event>
struct HeldEvent {
  Timestamp ts;
  uint64_t seq = 0;
  Event event;
  // The tag Add() was given (current_tag() while it is processed): kept
  // when a snapshot moves to another operator of the same process (a live
  // pattern reload); 0 from a checkpoint, whose clock readings mean
  // nothing in another process.
  int64_t tag = 0;
};

// One or more patterns over one stream, sharing its watermark. Each event
// goes to every pattern that accepts it, in the order the patterns were
// added; windows of different patterns closing at the same time fire in that
// order too.
template <typename Event, typename Key>
class Operator {
 public:
  using KeySelector = std::function<Key(const Event&)>;
  using Filter = std::function<bool(const Event&)>;

  Operator() = default;
  // The common case: one pattern.
  Operator(const Nfa<Event>& nfa, KeySelector key_selector,
           StateBackend<Event, Key>& backend, EvaluatorOptions options = {}) {
    AddPattern(nfa, std::move(key_selector), backend, nullptr, options);
  }
  Operator(const Operator&) = delete;
  Operator& operator=(const Operator&) = delete;

  // Adds a pattern whose state lives in `backend`; `accepts` (nullptr: all)
  // says which events it sees. Returns its index for OperatorSink. `nfa` and
  // `backend` must outlive the operator. REQUIRES: no event added yet.
  size_t AddPattern(const Nfa<Event>& nfa, KeySelector key_selector,
                    StateBackend<Event, Key>& backend, Filter accepts = nullptr,
                    EvaluatorOptions options = {}) {
    patterns_.push_back(std::make_unique<Slot>(nfa, std::move(key_selector),
                                               backend, std::move(accepts),
                                               options, patterns_.size()));
    return patterns_.size() - 1;
  }

  // Holds `event` until the watermark passes `ts`. Returns false, and keeps
  // nothing, when `ts` is at or behind the watermark: the event is late.
  // `seq` is its position in the input; later events need larger numbers.
  // `tag` is the caller's (say, when the event arrived): current_tag()
  // returns it while the event is processed.
  [[nodiscard]] bool Add(Event event, Timestamp ts, uint64_t seq,
                         int64_t tag = 0) {
    if (ts <= watermark_) return false;
    pending_.push(Pending{ToMillis(ts), seq, tag, std::move(event)});
    return true;
  }

  // Moves the watermark to `watermark` (never back): processes the held
  // events with timestamps up to it and the windows that close up to it,
  // in time order; `tag` is current_tag() while windows close. Errors come
  // from conditions (kUnknown) or a backend; the first is returned after
  // everything due has been processed, and the operator stays usable.
  [[nodiscard]] absl::Status AdvanceWatermark(Timestamp watermark,
                                              OperatorSink<Event, Key>& sink,
                                              int64_t tag = 0) {
    if (watermark <= watermark_) return absl::OkStatus();
    watermark_ = watermark;
    absl::Status first_error;
    while (true) {
      absl::Status status;
      Slot* timer_slot = nullptr;
      const std::optional<Timestamp> timer = NextTimer(timer_slot);
      const bool has_event =
          !pending_.empty() && FromMillis(pending_.top().ts) <= watermark;
      if (timer && *timer <= watermark &&
          (!has_event || *timer <= FromMillis(pending_.top().ts))) {
        current_tag_ = tag;
        typename Slot::Forward forward(*timer_slot, sink);
        status = timer_slot->matcher.AdvanceTime(*timer, forward);
      } else if (has_event) {
        // The event is moved out just before pop().
        Pending next = std::move(pending_.top());
        pending_.pop();
        current_tag_ = next.tag;
        status = Process(next, sink);
      } else {
        break;
      }
      if (!status.ok() && first_error.ok()) first_error = std::move(status);
    }
    return first_error;
  }

  // End of input: processes everything held and closes every window.
  [[nodiscard]] absl::Status Finish(OperatorSink<Event, Key>& sink) {
    return AdvanceWatermark(kEndOfTime, sink);
  }

  // Valid in OperatorSink calls: the tag of the event being processed, or
  // the tag given to AdvanceWatermark() while windows close.
  int64_t current_tag() const { return current_tag_; }
  Timestamp watermark() const { return watermark_; }
  // Events held until the watermark passes them.
  size_t buffered() const { return pending_.size(); }
  size_t pattern_count() const { return patterns_.size(); }
  EvaluatorMetrics metrics(size_t pattern) const {
    return patterns_[pattern]->matcher.metrics();
  }

  // ---- recovery -------------------------------------------------------

  // Copies of the held events, in processing order.
  std::vector<HeldEvent<Event>> ExportPending() const {
    std::vector<HeldEvent<Event>> out;
    out.reserve(pending_.size());
    for (Pending& held : pending_.Sorted()) {
      out.push_back(HeldEvent<Event>{FromMillis(held.ts), held.seq,
                                     std::move(held.event), held.tag});
    }
    return out;
  }

  // Puts back a watermark and held events ExportPending() gave (with their
  // tags).
  // Errors: kFailedPrecondition when the operator has held or processed
  // an event.
  [[nodiscard]] absl::Status Restore(Timestamp watermark,
                                     std::vector<HeldEvent<Event>> pending) {
    if (watermark_ != kMinWatermark || !pending_.empty()) {
      return absl::FailedPreconditionError(
          "operator restore after events were added");
    }
    watermark_ = watermark;
    for (HeldEvent<Event>& held : pending) {
      pending_.push(Pending{ToMillis(held.ts), held.seq, held.tag,
                            std::move(held.event)});
    }
    return absl::OkStatus();
  }

  // The matcher of `pattern` (timers for recovery, partial matches held).
  KeyedMatcher<Event, Key>& matcher(size_t pattern) {
    return patterns_[pattern]->matcher;
  }
  const KeyedMatcher<Event, Key>& matcher(size_t pattern) const {
    return patterns_[pattern]->matcher;
  }

 private:
  struct Pending {
    int64_t ts = 0;
    uint64_t seq = 0;
    int64_t tag = 0;
    Event event;
  };
  // Processing order: earliest timestamp, then earliest arrival.
  struct Earlier {
    bool operator()(const Pending& a, const Pending& b) const {
      return a.ts != b.ts ? a.ts < b.ts : a.seq < b.seq;
    }
  };

  struct Slot {
    Slot(const Nfa<Event>& nfa, KeySelector key_selector,
         StateBackend<Event, Key>& backend, Filter filter,
         EvaluatorOptions options, size_t slot_index)
        : matcher(nfa, std::move(key_selector), backend, options),
          accepts(std::move(filter)),
          index(slot_index) {}

    // Adds the pattern's index to what its matcher reports.
    class Forward final : public KeyedMatchSink<Event, Key> {
     public:
      Forward(const Slot& slot, OperatorSink<Event, Key>& sink)
          : index_(slot.index), sink_(sink) {}
      void OnMatch(const Key& key, Match<Event> match) override {
        sink_.OnMatch(index_, key, std::move(match));
      }
      void OnTimeout(const Key& key, Match<Event> partial,
                     Timestamp at) override {
        sink_.OnTimeout(index_, key, std::move(partial), at);
      }

     private:
      size_t index_;
      OperatorSink<Event, Key>& sink_;
    };

    KeyedMatcher<Event, Key> matcher;
    Filter accepts;
    size_t index;
  };

  absl::Status Process(const Pending& next, OperatorSink<Event, Key>& sink) {
    absl::Status first_error;
    for (auto& slot : patterns_) {
      if (slot->accepts && !slot->accepts(next.event)) continue;
      typename Slot::Forward forward(*slot, sink);
      absl::Status status = slot->matcher.Process(
          next.event, FromMillis(next.ts), next.seq, forward);
      if (!status.ok() && first_error.ok()) first_error = std::move(status);
    }
    return first_error;
  }

  // The earliest timer of any pattern (the first pattern on ties) and its
  // slot, or nullopt.
  std::optional<Timestamp> NextTimer(Slot*& slot) {
    std::optional<Timestamp> earliest;
    for (auto& candidate : patterns_) {
      const std::optional<Timestamp> at = candidate->matcher.NextTimer();
      if (at && (!earliest || *at < *earliest)) {
        earliest = at;
        slot = candidate.get();
      }
    }
    return earliest;
  }

  // unique_ptr: a KeyedMatcher does not move.
  std::vector<std::unique_ptr<Slot>> patterns_;
  // Events arrive mostly in time order: appended in O(1), the late few in
  // a heap.
  internal::MostlySortedQueue<Pending, Earlier> pending_;
  Timestamp watermark_ = kMinWatermark;
  int64_t current_tag_ = 0;
};

}  // namespace cep
