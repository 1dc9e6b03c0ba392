// cep/matcher.hpp — a compiled pattern evaluated per key over a stream.
//
// KeyedMatcher routes each event to its key's state (from a StateBackend),
// advances it and reports matches and timeouts with the key. A key's state
// is advanced by the evaluator of its form (KeyState): the per-run
// Evaluator, or the SharedRunsEvaluator, which a new key gets when
// ChooseSharedRuns(nfa, options) is OK (EvaluatorOptions::strategy). Both
// give the same matches in the same order; a state stored by one form goes
// on in that form, so states written under another choice still resume. Events
// are processed in the order given, at the timestamps given: the caller (or the
// Operator of operator.hpp, with watermarks) orders them.
//
// Example:
//   auto nfa = cep::CompilePattern(pattern);
//   cep::InMemoryStateBackend<Txn, std::string> backend;
//   cep::KeyedMatcher<Txn, std::string> matcher(
//       *nfa, [](const Txn& t) { return t.card; }, backend);
//   for (const Txn& t : txns) {
//     CEP_RETURN_IF_ERROR(matcher.Process(t, cep::FromMillis(t.ts), sink));
//   }
//   CEP_RETURN_IF_ERROR(matcher.AdvanceTime(cep::FromMillis(end), sink));
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <queue>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "cep/evaluator.hpp"
#include "cep/evaluator_options.hpp"
#include "cep/internal/status_macros.hpp"
#include "cep/key_state.hpp"
#include "cep/match.hpp"
#include "cep/nfa.hpp"
#include "cep/shared_runs_evaluator.hpp"
#include "cep/state.hpp"
#include "cep/time.hpp"

namespace cep {

// Receives a KeyedMatcher's output, with the key it belongs to.
template <typename Event, typename Key>
class KeyedMatchSink {
 public:
  virtual ~KeyedMatchSink() = default;
  virtual void OnMatch(const Key& key, Match<Event> match) = 0;
  virtual void OnTimeout(const Key& key, Match<Event> partial,
                         Timestamp timeout_at) {
    (void)key;
    (void)partial;
    (void)timeout_at;
  }
};

template <typename Event, typename Key>
class KeyedMatcher {
 public:
  using KeySelector = std::function<Key(const Event&)>;

  // `nfa` and `backend` must outlive the matcher.
  KeyedMatcher(const Nfa<Event>& nfa, KeySelector key_selector,
               StateBackend<Event, Key>& backend, EvaluatorOptions options = {})
      : evaluator_(nfa, options),
        ttl_(options.state_ttl),
        key_selector_(std::move(key_selector)),
        backend_(backend) {
    if (CheckSharedRuns(nfa).ok()) {
      shared_.emplace(nfa, SharedRunsOptionsFor(options));
      share_new_keys_ = ChooseSharedRuns(nfa, options).ok();
    }
  }

  // Whether new keys get the shared form (SharedRunsEvaluator).
  bool shares_partial_matches() const { return share_new_keys_; }

  // Processes `event` at `ts` for its key. Its sequence number is its
  // position among the events given to this matcher.
  [[nodiscard]] absl::Status Process(const Event& event, Timestamp ts,
                                     KeyedMatchSink<Event, Key>& sink) {
    return Process(event, ts, next_seq_, sink);
  }

  // As above with an explicit sequence number (its position in the input);
  // later events need larger numbers.
  [[nodiscard]] absl::Status Process(const Event& event, Timestamp ts,
                                     uint64_t seq,
                                     KeyedMatchSink<Event, Key>& sink) {
    next_seq_ = seq + 1;
    // An event that fails every condition changes only keys with a branch
    // in a state such events move (few, usually none): skip the rest
    // without looking their state up.
    const bool skippable = evaluator_.CanSkip(event);
    if (skippable && sensitive_keys_.empty()) {
      evaluator_.CountSkipped();
      return absl::OkStatus();
    }
    Key key = key_selector_(event);
    if (skippable && !sensitive_keys_.contains(key)) {
      evaluator_.CountSkipped();
      return absl::OkStatus();
    }
    auto state = backend_.Get(key);
    if (!state.ok()) return state.status();
    Forward forward(key, sink);
    const uint64_t held = (*state)->HeldPartialMatches();
    absl::Status status = ProcessKey(**state, event, ts, seq, forward);
    partial_matches_ += (*state)->HeldPartialMatches() - held;
    Schedule(key, **state);
    if (evaluator_.HasBranchChangedByIrrelevantEvents(**state)) {
      sensitive_keys_.insert(key);
    } else if (!sensitive_keys_.empty()) {
      sensitive_keys_.erase(key);
    }
    absl::Status put = backend_.Put(key, **state);
    return status.ok() ? put : status;
  }

  // Advances time to `ts` for every key: windows that close at or before
  // `ts` time out and trailing-NotFollowedBy matches are released, in order
  // of the time their window closes (ties in the order the keys were last
  // changed), also for keys that receive no further events. Each key with a
  // waiting partial match has one timer, set when its state last changed, so
  // the cost is that of the keys whose windows close, not of all keys.
  [[nodiscard]] absl::Status AdvanceTime(Timestamp ts,
                                         KeyedMatchSink<Event, Key>& sink) {
    for (std::optional<Timestamp> at = NextTimer(); at && *at <= ts;
         at = NextTimer()) {
      Timer timer = timers_.top();
      timers_.pop();
      scheduled_.erase(timer.key);
      NoteTimerChange(timer.key);
      next_timer_known_ = false;
      auto state = backend_.Get(timer.key);
      if (!state.ok()) return state.status();
      Forward forward(timer.key, sink);
      const uint64_t held = (*state)->HeldPartialMatches();
      absl::Status status = AdvanceKey(**state, FromMillis(timer.at), forward);
      partial_matches_ += (*state)->HeldPartialMatches() - held;
      if (!status.ok()) return status;
      if (Expired(**state, FromMillis(timer.at))) {
        evaluator_.CountExpiredKey();
        partial_matches_ -= (*state)->HeldPartialMatches();
        sensitive_keys_.erase(timer.key);
        CEP_RETURN_IF_ERROR(backend_.Erase(timer.key));
        continue;
      }
      Schedule(timer.key, **state);
      CEP_RETURN_IF_ERROR(backend_.Put(timer.key, **state));
    }
    return absl::OkStatus();
  }

  // When the earliest window of any key closes, or nullopt.
  std::optional<Timestamp> NextTimer() {
    // The operator asks before every event; answer from the last look
    // unless a timer was set, moved or fired since.
    if (next_timer_known_) return next_timer_;
    next_timer_known_ = true;
    next_timer_ = FindNextTimer();
    return next_timer_;
  }

  // The partial matches held by all keys of the backend
  // (KeyState::HeldPartialMatches, summed; modulo 2^64), kept up to date as
  // events and timers change states. A matcher over a backend that already
  // holds states starts from 0: set_partial_matches() gives it their count
  // (saved with a checkpoint, say, or CountPartialMatches()).
  uint64_t partial_matches() const { return partial_matches_; }
  void set_partial_matches(uint64_t count) { partial_matches_ = count; }
  // Counts the partial matches of every key of the backend (one walk).
  // Errors: the backend's.
  [[nodiscard]] absl::StatusOr<uint64_t> CountPartialMatches() {
    uint64_t count = 0;
    CEP_RETURN_IF_ERROR(backend_.ForEach(
        [&](const Key&, KeyState<Event>& state) -> absl::Status {
          count += state.HeldPartialMatches();
          return absl::OkStatus();
        }));
    return count;
  }

  // The counters of both evaluators, summed.
  EvaluatorMetrics metrics() const {
    EvaluatorMetrics sum = evaluator_.metrics();
    if (shared_) AddMetrics(sum, shared_->metrics());
    return sum;
  }

  // ---- recovery -------------------------------------------------------
  //
  // Timers and sensitive keys live in memory only. A durable run saves them
  // next to the committed state — whole with ExportSchedule(), or only what
  // changed since the last save with TakeScheduleChanges() — and puts them
  // back with ImportSchedule(), so that windows of different keys closing
  // at the same time fire in the same order as without the crash.
  // RestoreTimers() rebuilds them from the backend alone (one walk over
  // every key); ties then fire in the backend's key order.

  // A key's timer: when it fires, and its place among timers at the same
  // time (earlier scheduled first).
  struct TimerSlot {
    int64_t at = 0;
    uint64_t order = 0;
  };

  // Every key's current timer, and the keys whose state irrelevant events
  // change.
  struct TimerSchedule {
    std::vector<std::pair<Key, TimerSlot>> timers;
    uint64_t next_order = 0;
    std::vector<Key> sensitive_keys;
  };

  TimerSchedule ExportSchedule() const {
    TimerSchedule out;
    out.timers.assign(scheduled_.begin(), scheduled_.end());
    out.next_order = next_timer_order_;
    out.sensitive_keys.assign(sensitive_keys_.begin(), sensitive_keys_.end());
    return out;
  }

  // Replaces the timers and sensitive keys with what ExportSchedule()
  // returned (or what the changes since built up).
  void ImportSchedule(TimerSchedule schedule) {
    ClearSchedule();
    for (auto& [key, slot] : schedule.timers) {
      timers_.push(Timer{slot.at, slot.order, key});
      scheduled_.emplace(std::move(key), slot);
    }
    next_timer_order_ = schedule.next_order;
    for (Key& key : schedule.sensitive_keys) {
      sensitive_keys_.insert(std::move(key));
    }
    changed_timers_.clear();
  }

  // Starts (or stops) noting which keys' timers change, for
  // TakeScheduleChanges(). Off by default: it costs a set insert per
  // timer change.
  void TrackScheduleChanges(bool on) {
    track_changes_ = on;
    changed_timers_.clear();
  }

  // The keys whose timer was set, moved or removed since the last call (or
  // since tracking began), each with its timer now (nullopt: none), in no
  // particular order. REQUIRES: TrackScheduleChanges(true).
  std::vector<std::pair<Key, std::optional<TimerSlot>>> TakeScheduleChanges() {
    std::vector<std::pair<Key, std::optional<TimerSlot>>> out;
    out.reserve(changed_timers_.size());
    for (const Key& key : changed_timers_) {
      auto it = scheduled_.find(key);
      out.emplace_back(key, it == scheduled_.end()
                                ? std::nullopt
                                : std::optional<TimerSlot>(it->second));
    }
    changed_timers_.clear();
    return out;
  }

  // The next timer order and the sensitive keys: what ExportSchedule() gives
  // besides the timers.
  uint64_t next_timer_order() const { return next_timer_order_; }
  std::vector<Key> SensitiveKeys() const {
    return std::vector<Key>(sensitive_keys_.begin(), sensitive_keys_.end());
  }

  // Rebuilds the timers and sensitive keys by walking every key of the
  // backend once (NextDeadline, HasBranchChangedByIrrelevantEvents).
  // Errors: the backend's.
  [[nodiscard]] absl::Status RestoreTimers() {
    ClearSchedule();
    return backend_.ForEach(
        [&](const Key& key, KeyState<Event>& state) -> absl::Status {
          Schedule(key, state);
          if (evaluator_.HasBranchChangedByIrrelevantEvents(state)) {
            sensitive_keys_.insert(key);
          }
          return absl::OkStatus();
        });
  }

 private:
  absl::Status ProcessKey(KeyState<Event>& state, const Event& event,
                          Timestamp ts, uint64_t seq, MatchSink<Event>& sink) {
    if (share_new_keys_ && state.shared_runs() == nullptr && state.IsIdle()) {
      state.UseSharedRuns();
    }
    if (SharedRunsState<Event>* shared = state.shared_runs()) {
      CEP_RETURN_IF_ERROR(CheckShared());
      return shared_->Process(*shared, event, ts, seq, sink);
    }
    return evaluator_.Process(state, event, ts, seq, sink);
  }

  absl::Status AdvanceKey(KeyState<Event>& state, Timestamp ts,
                          MatchSink<Event>& sink) {
    if (SharedRunsState<Event>* shared = state.shared_runs()) {
      CEP_RETURN_IF_ERROR(CheckShared());
      return shared_->AdvanceTime(*shared, ts, sink);
    }
    return evaluator_.AdvanceTime(state, ts, sink);
  }

  // A state in the shared form needs a pattern that allows it (a state
  // written for another pattern would not decode past the version check).
  absl::Status CheckShared() const {
    if (shared_) return absl::OkStatus();
    return absl::FailedPreconditionError(
        "a key's state holds shared partial matches, but the pattern cannot "
        "share them");
  }

  std::optional<Timestamp> NextDeadline(const KeyState<Event>& state) const {
    if (const SharedRunsState<Event>* shared = state.shared_runs()) {
      return shared_ ? shared_->NextDeadline(*shared) : std::nullopt;
    }
    return evaluator_.NextDeadline(state);
  }

  void ClearSchedule() {
    timers_ = {};
    scheduled_.clear();
    sensitive_keys_.clear();
    next_timer_known_ = false;
  }

  std::optional<Timestamp> FindNextTimer() {
    while (!timers_.empty()) {
      const Timer& top = timers_.top();
      auto it = scheduled_.find(top.key);
      if (it != scheduled_.end() && it->second.at == top.at &&
          it->second.order == top.order) {
        return FromMillis(top.at);
      }
      timers_.pop();  // superseded: the key's deadline moved or went away
    }
    return std::nullopt;
  }

  // Adds the key to what the evaluator reports.
  class Forward final : public MatchSink<Event> {
   public:
    Forward(const Key& key, KeyedMatchSink<Event, Key>& sink)
        : key_(key), sink_(sink) {}
    void OnMatch(Match<Event> match) override {
      sink_.OnMatch(key_, std::move(match));
    }
    void OnTimeout(Match<Event> partial, Timestamp at) override {
      sink_.OnTimeout(key_, std::move(partial), at);
    }

   private:
    const Key& key_;
    KeyedMatchSink<Event, Key>& sink_;
  };

  // A key's next deadline. Stale entries (the key's deadline moved) stay in
  // the heap until they reach the top; scheduled_ says which are current
  // (same time and order).
  struct Timer {
    int64_t at = 0;
    uint64_t order = 0;  // ties: earlier scheduled first
    Key key;
    bool operator>(const Timer& other) const {
      return at != other.at ? at > other.at : order > other.order;
    }
  };

  // Whether state_ttl removes `state` at `now`.
  bool Expired(const KeyState<Event>& state, Timestamp now) const {
    if (ttl_ <= Duration(0)) return false;
    const std::optional<Timestamp> last = Evaluator<Event>::LastActivity(state);
    return last && *last + ttl_ <= now;
  }

  // The next time the key needs a timer: its first window to close, or
  // when state_ttl would remove it.
  std::optional<Timestamp> Deadline(const KeyState<Event>& state) const {
    std::optional<Timestamp> deadline = NextDeadline(state);
    if (ttl_ > Duration(0)) {
      if (std::optional<Timestamp> last =
              Evaluator<Event>::LastActivity(state)) {
        if (!deadline || *last + ttl_ < *deadline) deadline = *last + ttl_;
      }
    }
    return deadline;
  }

  void Schedule(const Key& key, const KeyState<Event>& state) {
    if (!evaluator_.has_windows() && ttl_ <= Duration(0)) return;
    const std::optional<Timestamp> deadline = Deadline(state);
    // No deadline: a timer set earlier stays and fires as a no-op, which
    // costs less than a lookup for every event of every key.
    if (!deadline) return;
    const int64_t at = ToMillis(*deadline);
    const TimerSlot slot{at, next_timer_order_};
    auto [it, inserted] = scheduled_.try_emplace(key, slot);
    if (!inserted) {
      // An earlier timer stays: when it fires, the key is rescheduled.
      if (it->second.at <= at) return;
      it->second = slot;
    }
    ++next_timer_order_;
    timers_.push(Timer{at, slot.order, key});
    NoteTimerChange(key);
    next_timer_known_ = false;
  }

  void NoteTimerChange(const Key& key) {
    if (track_changes_) changed_timers_.insert(key);
  }

  Evaluator<Event> evaluator_;
  // Set when the pattern can share partial matches (CheckSharedRuns).
  std::optional<SharedRunsEvaluator<Event>> shared_;
  bool share_new_keys_ = false;
  Duration ttl_;  // EvaluatorOptions::state_ttl
  KeySelector key_selector_;
  StateBackend<Event, Key>& backend_;
  uint64_t next_seq_ = 0;
  uint64_t partial_matches_ = 0;  // partial_matches()
  // Keys with a branch that an event failing every condition would change.
  absl::flat_hash_set<Key> sensitive_keys_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
  // Each key's current timer; heap entries that differ are stale.
  absl::flat_hash_map<Key, TimerSlot> scheduled_;
  // TakeScheduleChanges(): keys whose timer changed, while track_changes_.
  bool track_changes_ = false;
  absl::flat_hash_set<Key> changed_timers_;
  uint64_t next_timer_order_ = 0;
  // NextTimer()'s answer, while next_timer_known_.
  std::optional<Timestamp> next_timer_;
  bool next_timer_known_ = false;
};

}  // namespace cep
