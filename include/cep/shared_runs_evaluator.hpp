// cep/shared_runs_evaluator.hpp — advances all partial matches of a key as
// shared sets, at a cost per event independent of their number.
//
// The per-run Evaluator (evaluator.hpp) moves every partial match ("run")
// along the NFA on every event, so `followed by any` and loops make the cost
// of an event grow with the window. When every condition is simple (looks
// at the event alone), all runs waiting in one NFA state react identically
// to an event: the SharedRunsEvaluator keeps, per NFA state, ONE set of runs,
// a node of a DAG of steps (internal/run_dag.hpp, after CORE's enumerable
// compact sets), and updates the sets in O(states x transitions) per event,
// whatever their size. Matches are enumerated from the DAG when a set
// reaches the final state and released exactly as the per-run Evaluator
// releases them under NoSkip or SkipPastLastEvent: same matches, same order
// (runs by first event, then by the successor positions they took, which the
// DAG records), same timeouts. The `within` window prunes the enumeration
// (nodes carry the start times of their runs) and nodes whose runs all expired
// are reclaimed.
//
// CheckSharedRuns(nfa) says whether a compiled pattern can use it and, when
// not, why ("condition #1 of stage 'b' is iterative"); such patterns keep
// the per-run Evaluator. It takes every contiguity, quantifier, group, Until,
// NOT stage and `within` window, with NoSkip or SkipPastLastEvent (matches
// held back while an earlier-started run lives are kept in the state, and a
// released match discards runs by raising a bound on their first event's
// (timestamp, seq)); it refuses iterative conditions, aggregates, other skip
// strategies, windows between events (kPreviousAndCurrent) and automata
// whose start state reaches a NOT stage's stop state on an event (the per-run
// evaluator then drops its start computation). EvaluatorOptions' partial-match
// cap does not apply: memory is bounded by the window instead. KeyedMatcher
// (matcher.hpp) picks this evaluator for new keys when ChooseSharedRuns(nfa,
// options) is OK.
//
// Cost: per event O(states x transitions) plus the nodes made; a match or
// timeout costs the length of its path (its events, plus one node per event
// on which its runs branched without taking it), plus the sort of the
// matches released together. Memory: O(events in the window) nodes; without
// a window, O(events that may still extend a partial match).
//
// Example:
//   if (cep::CheckSharedRuns(nfa).ok()) {
//     cep::SharedRunsEvaluator<Txn> evaluator(nfa);
//     cep::SharedRunsState<Txn> state;
//     CEP_RETURN_IF_ERROR(evaluator.Process(state, txn, ts, seq, sink));
//   }
#pragma once

#include <algorithm>
#include <cstdint>
#include <exception>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

#include "cep/condition.hpp"
#include "cep/evaluator_options.hpp"
#include "cep/internal/nfa_walk.hpp"
#include "cep/internal/run_dag.hpp"
#include "cep/internal/timeout_counter.hpp"
#include "cep/match.hpp"
#include "cep/nfa.hpp"
#include "cep/pattern.hpp"
#include "cep/shared_runs_state.hpp"
#include "cep/time.hpp"

namespace cep {

// OK when `nfa` can be evaluated by a SharedRunsEvaluator; otherwise
// kFailedPrecondition saying why (the first reason found).
template <typename Event>
[[nodiscard]] absl::Status CheckSharedRuns(const Nfa<Event>& nfa) {
  for (const auto& user : nfa.user_conditions()) {
    if (!user->simple) {
      return absl::FailedPreconditionError(
          absl::StrCat(user->description,
                       " is iterative: its value depends on the partial "
                       "match, so partial matches cannot be shared"));
    }
  }
  if (!nfa.aggregates().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the pattern has an aggregate over stage '",
                     nfa.stage_names()[nfa.aggregates().front().stage],
                     "': aggregates are per partial match"));
  }
  if (nfa.skip().kind() != AfterMatchSkip::Kind::kNoSkip &&
      nfa.skip().kind() != AfterMatchSkip::Kind::kSkipPastLastEvent) {
    return absl::FailedPreconditionError(
        "the after-match skip strategy is neither NoSkip nor "
        "SkipPastLastEvent: only those are supported by shared partial "
        "matches");
  }
  const auto& states = nfa.states();
  for (uint32_t s = 0; s < states.size(); ++s) {
    if (states[s].window > Duration::zero()) {
      std::string name = states[s].name.substr(0, states[s].name.find(':'));
      return absl::FailedPreconditionError(absl::StrCat(
          "stage '", name,
          "' has a window from the previous event (kPreviousAndCurrent): "
          "partial matches in one state would expire at different times"));
    }
    for (const Transition& t : states[s].transitions) {
      if (t.target == nfa.start_state()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "state '", states[s].name,
            "' leads back to the start state: a partial match there would "
            "also restart the pattern"));
      }
    }
  }
  // The per-run evaluator loses its start computation when the start state
  // reaches a stop state on an event: not modelled.
  std::vector<uint32_t> open = {nfa.start_state()};
  std::vector<bool> seen(states.size(), false);
  while (!open.empty()) {
    const uint32_t s = open.back();
    open.pop_back();
    if (seen[s]) continue;
    seen[s] = true;
    for (const Transition& t : states[s].transitions) {
      if (t.action != Action::kProceed) continue;
      if (states[t.target].type == StateType::kStop) {
        return absl::FailedPreconditionError(
            absl::StrCat("the start state reaches the NOT stage '",
                         states[t.target].name, "' without taking an event"));
      }
      open.push_back(t.target);
    }
  }
  return absl::OkStatus();
}

template <typename Event>
bool CanUseSharedRuns(const Nfa<Event>& nfa) {
  return CheckSharedRuns(nfa).ok();
}

// What a SharedRunsEvaluator does with partial matches whose window passed.
enum class SharedRunsTimeouts : uint8_t {
  kReport,  // enumerate them to MatchSink::OnTimeout, as the Evaluator does
  kCount,   // count them in metrics (without building them), at a cost
            // per event independent of the window and of their number
            // (internal/timeout_counter.hpp)
  kIgnore,  // neither (cheapest)
};

struct SharedRunsOptions {
  // Default: kReport.
  SharedRunsTimeouts timeouts = SharedRunsTimeouts::kReport;
  // As EvaluatorOptions::start_new_matches: when false, no event starts a
  // new partial match (an old pattern version draining). Default: true.
  bool start_new_matches = true;
  // As EvaluatorOptions::start_matches_from_seq and _before_seq.
  uint64_t start_matches_from_seq = 0;
  uint64_t start_matches_before_seq = std::numeric_limits<uint64_t>::max();
};

// The SharedRunsOptions that carry out `options`.
inline SharedRunsOptions SharedRunsOptionsFor(const EvaluatorOptions& options) {
  SharedRunsOptions out;
  out.timeouts = options.report_timeouts ? SharedRunsTimeouts::kReport
                                         : SharedRunsTimeouts::kCount;
  out.start_new_matches = options.start_new_matches;
  out.start_matches_from_seq = options.start_matches_from_seq;
  out.start_matches_before_seq = options.start_matches_before_seq;
  return out;
}

// OK when a KeyedMatcher (matcher.hpp) run with `options` gives the keys of
// `nfa` shared runs; otherwise kFailedPrecondition saying why not (the
// pattern's reason from CheckSharedRuns, or the option's).
template <typename Event>
[[nodiscard]] absl::Status ChooseSharedRuns(const Nfa<Event>& nfa,
                                            const EvaluatorOptions& options) {
  if (options.strategy == EvaluationStrategy::kPerRun) {
    return absl::FailedPreconditionError("per-run evaluation was asked for");
  }
  if (options.strategy == EvaluationStrategy::kAuto &&
      nfa.skip().kind() != AfterMatchSkip::Kind::kNoSkip) {
    return absl::FailedPreconditionError(
        "the after-match skip strategy is not NoSkip: partial matches are "
        "shared under it only when asked for (kShared)");
  }
  if (options.state_ttl > Duration::zero() && nfa.window() > Duration::zero()) {
    return absl::FailedPreconditionError(
        "a state TTL is set and the pattern has a window: shared partial "
        "matches do not know when the live ones last took an event");
  }
  return CheckSharedRuns(nfa);
}

template <typename Event>
class SharedRunsEvaluator {
 public:
  // REQUIRES: CheckSharedRuns(nfa).ok(). The Nfa must outlive it.
  explicit SharedRunsEvaluator(const Nfa<Event>& nfa,
                               SharedRunsOptions options = {})
      : nfa_(nfa), options_(options), walk_(nfa) {
    memo_.assign(nfa.user_conditions().size(), kUnknown);
    window_ = nfa.window().count();
    for (uint32_t s = 0; s < nfa.states().size(); ++s) {
      if (nfa.states()[s].type == StateType::kFinal) final_state_ = s;
    }
    // kCount's slots: the states that can hold runs (not the start state,
    // which nothing enters, nor the final and stop states).
    slot_of_.assign(nfa.states().size(), internal::kNoSlot);
    uint32_t slots = 0;
    for (uint32_t s = 0; s < nfa.states().size(); ++s) {
      const StateType type = nfa.states()[s].type;
      if (s == nfa.start_state() || type == StateType::kFinal ||
          type == StateType::kStop) {
        continue;
      }
      if (slots < internal::TimeoutCounter::kMaxSlots) {
        if (type != StateType::kPending) counted_slots_ |= uint64_t{1} << slots;
        slot_of_[s] = static_cast<uint8_t>(slots);
      }
      ++slots;
    }
    slots_ = slots;
    skip_ = nfa.skip().kind() == AfterMatchSkip::Kind::kSkipPastLastEvent;
    // The counter does not know which starts the skip strategy discarded:
    // such patterns count on the DAG.
    count_by_matrix_ = !skip_ &&
                       options_.timeouts == SharedRunsTimeouts::kCount &&
                       window_ > 0 && slots > 0 &&
                       slots <= internal::TimeoutCounter::kMaxSlots;
  }
  SharedRunsEvaluator(const SharedRunsEvaluator&) = delete;
  SharedRunsEvaluator& operator=(const SharedRunsEvaluator&) = delete;

  // As Evaluator::Process: advances time to `ts`, then processes `event`.
  [[nodiscard]] absl::Status Process(SharedRunsState<Event>& state,
                                     const Event& event, Timestamp ts,
                                     uint64_t seq, MatchSink<Event>& sink) {
    status_ = absl::OkStatus();
    EnsureStarted(state);
    AdvanceTimeImpl(state, ToMillis(ts), sink);
    ++metrics_.events;
    std::fill(memo_.begin(), memo_.end(), kUnknown);
    event_ = &event;
    ts_ = ToMillis(ts);
    seq_ = seq;
    event_index_ = internal::kNoRunNode;
    Step(state);
    if (skip_) {
      if (!finals_.empty() || !state.held_.empty()) {
        CollectFinals(state);
        HoldAndRelease(state, sink);
      }
    } else if (!finals_.empty()) {
      EmitMatches(state, sink);
    }
    event_ = nullptr;
    MaybeCompact(state);
    return status_;
  }

  // As Evaluator::AdvanceTime: runs whose window passed time out; runs
  // waiting for a trailing NotFollowedBy are released as matches.
  [[nodiscard]] absl::Status AdvanceTime(SharedRunsState<Event>& state,
                                         Timestamp ts, MatchSink<Event>& sink) {
    status_ = absl::OkStatus();
    EnsureStarted(state);
    AdvanceTimeImpl(state, ToMillis(ts), sink);
    MaybeCompact(state);
    return status_;
  }

  // The number of partial matches `state` holds (what
  // KeyState::PartialMatchCount() says for the per-run evaluator), counted
  // on the DAG without enumerating them: O(nodes).
  uint64_t PartialMatchCount(const SharedRunsState<Event>& state) {
    counts_.assign(state.dag_.size(), kUncounted);
    const int64_t lo = window_ > 0 ? state.expired_through_
                                   : std::numeric_limits<int64_t>::min();
    uint64_t total = 0;
    for (uint32_t head : state.heads_) {
      if (head != kNone) {
        total += Count(state, head, lo, std::numeric_limits<int64_t>::max());
      }
    }
    return total;
  }

  // A time at or before which AdvanceTime() would first change `state`
  // (the oldest partial match's window closes); nullopt when the pattern has
  // no window or nothing waits. It may be earlier than the per-run
  // evaluator's when the oldest runs died: AdvanceTime() then changes
  // nothing.
  std::optional<Timestamp> NextDeadline(
      const SharedRunsState<Event>& state) const {
    if (window_ <= 0 || state.IsIdle()) return std::nullopt;
    int64_t oldest = std::numeric_limits<int64_t>::max();
    for (uint32_t head : state.heads_) {
      if (head != kNone) {
        oldest = std::min(oldest, state.dag_.node(head).min_start);
      }
    }
    if (state.first_start_ < state.starts_.size()) {
      oldest = std::max(oldest, state.starts_[state.first_start_]);
    }
    return FromMillis(oldest + window_);
  }

  // Whether time alone changes a key's state (the pattern has a window).
  bool has_windows() const { return window_ > 0; }

  // Counts an event a KeyedMatcher dropped without a key lookup.
  void CountSkipped() {
    ++metrics_.events;
    ++metrics_.skipped_events;
  }
  // Counts a key removed by KeyedMatcher for state_ttl.
  void CountExpiredKey() { ++metrics_.expired_keys; }

  const EvaluatorMetrics& metrics() const { return metrics_; }
  const Nfa<Event>& nfa() const { return nfa_; }

 private:
  using RunNode = internal::RunNode;
  static constexpr uint32_t kNone = internal::kNoRunNode;
  static constexpr int8_t kUnknown = 0, kFalse = 1, kTrue = 2;

  using FiredEdge = internal::FiredEdge;
  // One successor of the runs of a state on the current event, in the
  // per-run evaluator's order.
  struct Successor {
    uint32_t target;
    bool took;
    uint32_t stage;  // took only
  };
  // A set of runs arriving in an NFA state on the current event.
  struct Arrival {
    uint32_t target;
    uint32_t node;
    int64_t last_take;  // when its runs last took an event
  };
  // A run enumerated from the DAG: its path (nodes, oldest first) is
  // paths_[first, first + length).
  struct Record {
    int64_t start_ts;
    uint64_t start_seq;
    uint32_t first;
    uint32_t length;
  };

  void EnsureStarted(SharedRunsState<Event>& state) {
    if (state.heads_.size() != nfa_.states().size()) {
      state.heads_.assign(nfa_.states().size(), kNone);
      state.last_take_.assign(nfa_.states().size(), 0);
    }
    // A counter left by an evaluator that counts on it would go stale here
    // (events would not update it).
    if (!count_by_matrix_ && state.timeout_counter_.valid()) {
      state.timeout_counter_.Clear();
    }
  }

  // ---- conditions ---------------------------------------------------------

  bool Eval(ConditionIndex index) {
    const ConditionNode& node = nfa_.conditions()[index];
    switch (node.op) {
      case ConditionNode::Op::kTrue:
        return true;
      case ConditionNode::Op::kUser:
        return EvalUser(node.a);
      case ConditionNode::Op::kNot:
        return !Eval(node.a);
      case ConditionNode::Op::kAnd:
        return Eval(node.a) && Eval(node.b);
      case ConditionNode::Op::kOr:
        return Eval(node.a) || Eval(node.b);
    }
    return false;
  }

  bool EvalUser(int32_t index) {
    if (memo_[index] != kUnknown) return memo_[index] == kTrue;
    const UserCondition<Event>& user = *nfa_.user_conditions()[index];
    bool result = false;
    try {
      result = user.simple(*event_);
    } catch (const std::exception& e) {
      ConditionFailed(user, e.what());
    } catch (...) {
      ConditionFailed(user, "an exception that is not a std::exception");
    }
    memo_[index] = result ? kTrue : kFalse;
    return result;
  }

  void ConditionFailed(const UserCondition<Event>& user,
                       absl::string_view what) {
    ++metrics_.condition_errors;
    if (status_.ok()) {
      status_ = absl::UnknownError(
          absl::StrCat(user.description, " threw on the event with seq ", seq_,
                       ": ", what, " (evaluated as false)"));
    }
  }

  // ---- one event ------------------------------------------------------------

  // The successors of the runs in `from` on the current event, in the
  // order the per-run evaluator's ComputeNextStates makes them (the start
  // computation itself left out).
  void ComputeSuccessors(uint32_t from, bool from_start) {
    auto holds = [this](ConditionIndex c) { return Eval(c); };
    walk_.CollectFiredEdges(from, from_start, holds);
    successors_.clear();
    for (const FiredEdge& e : walk_.fired()) {
      const Transition& t = *e.transition;
      if (t.action == Action::kIgnore) {
        if (from_start) continue;
        successors_.push_back({t.target, false, 0});
      } else if (t.action == Action::kTake) {
        const uint32_t stage = nfa_.states()[e.source].stage;
        successors_.push_back({t.target, true, stage});
        if (walk_.ReachesFinalByProceed(t.target, holds)) {
          successors_.push_back({final_state_, true, stage});
        }
      }
    }
  }

  uint32_t EventIndex(SharedRunsState<Event>& state) {
    if (event_index_ == kNone) {
      event_index_ = static_cast<uint32_t>(state.events_.size());
      state.events_.push_back({*event_, ts_, seq_});
    }
    return event_index_;
  }

  void Step(SharedRunsState<Event>& state) {
    const auto& states = nfa_.states();
    arrivals_.clear();
    finals_.clear();
    internal::RunDag& dag = state.dag_;
    bool started = false;
    // kCount: the successors kept, as slot moves, when the counter needs
    // them.
    const bool track = count_by_matrix_ && state.timeout_counter_.tracking();
    moves_.clear();
    for (uint32_t q = 0; q < states.size(); ++q) {
      const uint32_t head = state.heads_[q];
      const bool is_start = q == nfa_.start_state();
      if (head == kNone && !is_start) continue;
      if (is_start) {
        if (!options_.start_new_matches ||
            seq_ < options_.start_matches_from_seq ||
            seq_ >= options_.start_matches_before_seq) {
          continue;
        }
        // The start computation: every TAKE starts new runs here.
        ComputeSuccessors(q, /*from_start=*/true);
        bool stopped = false;
        for (const Successor& s : successors_) {
          stopped = stopped || states[s.target].type == StateType::kStop;
        }
        for (uint32_t digit = 0; digit < successors_.size(); ++digit) {
          const Successor& s = successors_[digit];
          const StateType type = states[s.target].type;
          if (type == StateType::kStop) continue;
          if (stopped && type != StateType::kFinal) continue;
          uint32_t node = dag.AddStep(RunNode::Kind::kTake, digit, s.stage,
                                      EventIndex(state), kNone, ts_, seq_);
          Arrive(s.target, node, ts_);
          started = true;
        }
        if (started && window_ > 0) {
          state.starts_.push_back(ts_);
          state.timeout_counter_.NoteStart(ts_);
        }
        continue;
      }
      ComputeSuccessors(q, /*from_start=*/false);
      const int64_t last_take = state.last_take_[q];
      bool stopped = false;
      for (const Successor& s : successors_) {
        stopped = stopped || states[s.target].type == StateType::kStop;
      }
      for (uint32_t digit = 0; digit < successors_.size(); ++digit) {
        const Successor& s = successors_[digit];
        const StateType type = states[s.target].type;
        if (type == StateType::kStop) continue;
        if (stopped && type != StateType::kFinal) continue;
        if (track && type != StateType::kFinal &&
            slot_of_[s.target] != internal::kNoSlot) {
          moves_.push_back({slot_of_[q], slot_of_[s.target]});
        }
        if (!s.took && type != StateType::kFinal && successors_.size() == 1) {
          // The runs move (or stay) without branching: the set is unchanged
          // and its order key needs no digit.
          arrivals_.push_back({s.target, head, last_take});
          continue;
        }
        uint32_t node =
            s.took ? dag.AddStep(RunNode::Kind::kTake, digit, s.stage,
                                 EventIndex(state), head, 0)
                   : dag.AddStep(RunNode::Kind::kSkip, digit, 0, 0, head, 0);
        Arrive(s.target, node, s.took ? ts_ : last_take);
      }
    }
    // The new heads: one node per state, a union where several sets arrive.
    std::fill(state.heads_.begin(), state.heads_.end(), kNone);
    // The order of a union's members does not matter: enumeration sorts.
    std::sort(
        arrivals_.begin(), arrivals_.end(),
        [](const Arrival& a, const Arrival& b) { return a.target < b.target; });
    for (size_t i = 0; i < arrivals_.size();) {
      size_t j = i;
      members_.clear();
      int64_t last_take = arrivals_[i].last_take;
      while (j < arrivals_.size() &&
             arrivals_[j].target == arrivals_[i].target) {
        members_.push_back(arrivals_[j].node);
        last_take = std::max(last_take, arrivals_[j].last_take);
        ++j;
      }
      state.last_take_[arrivals_[i].target] = last_take;
      state.heads_[arrivals_[i].target] =
          members_.size() == 1 ? members_[0]
                               : dag.AddUnion(members_.data(), members_.size());
      i = j;
    }
    if (track) {
      state.timeout_counter_.Apply(moves_.data(), moves_.size(), matrix_);
    }
  }

  void Arrive(uint32_t target, uint32_t node, int64_t last_take) {
    if (nfa_.states()[target].type == StateType::kFinal) {
      finals_.push_back(node);
    } else {
      arrivals_.push_back({target, node, last_take});
    }
  }

  // ---- enumeration ----------------------------------------------------------

  // Appends to records_ every run through `node` whose first event's
  // timestamp is in (lo, hi].
  void Collect(const SharedRunsState<Event>& state, uint32_t node, int64_t lo,
               int64_t hi) {
    const internal::RunDag& dag = state.dag_;
    auto in_range = [lo, hi, &state](const RunNode& n) {
      return n.max_start > lo && n.min_start <= hi && !Discarded(state, n);
    };
    if (!in_range(dag.node(node))) return;
    stack_.clear();
    path_.clear();
    stack_.push_back({node, 0});
    while (!stack_.empty()) {
      auto [index, depth] = stack_.back();
      stack_.pop_back();
      path_.resize(depth);
      const RunNode& n = dag.node(index);
      if (n.kind == RunNode::Kind::kUnion) {
        for (uint32_t m = 0; m < n.member_count; ++m) {
          uint32_t member = dag.member(n.first_member + m);
          if (in_range(dag.node(member))) stack_.push_back({member, depth});
        }
        continue;
      }
      path_.push_back(index);
      if (n.previous != kNone) {
        stack_.push_back({n.previous, static_cast<uint32_t>(path_.size())});
        continue;
      }
      const auto& first = state.events_[n.event];
      if (first.timestamp <= lo || first.timestamp > hi ||
          Discarded(state, first.timestamp, first.seq)) {
        continue;
      }
      Record r;
      r.start_ts = first.timestamp;
      r.start_seq = first.seq;
      r.first = static_cast<uint32_t>(paths_.size());
      r.length = static_cast<uint32_t>(path_.size());
      for (size_t i = path_.size(); i-- > 0;) paths_.push_back(path_[i]);
      records_.push_back(r);
    }
  }

  // Number of runs through `node` whose first event's timestamp is in
  // (lo, hi], memoized per node in counts_ (reset by the caller).
  uint64_t Count(const SharedRunsState<Event>& state, uint32_t root, int64_t lo,
                 int64_t hi) {
    const internal::RunDag& dag = state.dag_;
    auto in_range = [lo, hi, &state](const RunNode& n) {
      return n.max_start > lo && n.min_start <= hi && !Discarded(state, n);
    };
    if (!in_range(dag.node(root))) return 0;
    // Post-order over the nodes in range.
    count_stack_.clear();
    count_stack_.push_back({root, false});
    while (!count_stack_.empty()) {
      auto [index, expanded] = count_stack_.back();
      count_stack_.pop_back();
      if (counts_[index] != kUncounted) continue;
      const RunNode& n = dag.node(index);
      if (!expanded) {
        count_stack_.push_back({index, true});
        if (n.kind == RunNode::Kind::kUnion) {
          for (uint32_t m = 0; m < n.member_count; ++m) {
            uint32_t member = dag.member(n.first_member + m);
            if (counts_[member] == kUncounted && in_range(dag.node(member))) {
              count_stack_.push_back({member, false});
            }
          }
        } else if (n.previous != kNone && counts_[n.previous] == kUncounted) {
          count_stack_.push_back({n.previous, false});
        }
        continue;
      }
      uint64_t total = 0;
      if (n.kind == RunNode::Kind::kUnion) {
        for (uint32_t m = 0; m < n.member_count; ++m) {
          uint32_t member = dag.member(n.first_member + m);
          if (in_range(dag.node(member))) total += counts_[member];
        }
      } else if (n.previous != kNone) {
        total = in_range(dag.node(n.previous)) ? counts_[n.previous] : 0;
      } else {
        const auto& first = state.events_[n.event];
        total = first.timestamp > lo && first.timestamp <= hi &&
                        !Discarded(state, first.timestamp, first.seq)
                    ? 1
                    : 0;
      }
      counts_[index] = total;
    }
    return counts_[root];
  }

  // Sorts records_ as the per-run evaluator orders its runs: by first event,
  // then by the successor positions along the path.
  void SortRecords(const SharedRunsState<Event>& state) {
    const internal::RunDag& dag = state.dag_;
    std::sort(records_.begin(), records_.end(),
              [&](const Record& a, const Record& b) {
                if (a.start_ts != b.start_ts) return a.start_ts < b.start_ts;
                if (a.start_seq != b.start_seq) {
                  return a.start_seq < b.start_seq;
                }
                const uint32_t n = std::min(a.length, b.length);
                for (uint32_t i = 0; i < n; ++i) {
                  const uint32_t x = paths_[a.first + i];
                  const uint32_t y = paths_[b.first + i];
                  if (x == y) continue;
                  const uint32_t dx = dag.node(x).digit;
                  const uint32_t dy = dag.node(y).digit;
                  if (dx != dy) return dx < dy;
                }
                return a.length < b.length;
              });
  }

  // The match along a record's path: stages in pattern order, events in
  // path order.
  Match<Event> BuildMatch(const SharedRunsState<Event>& state,
                          const Record& r) const {
    Match<Event> match;
    const auto& names = nfa_.stage_names();
    for (uint32_t stage = 0; stage < names.size(); ++stage) {
      StageMatch<Event>* out = nullptr;
      for (uint32_t i = 0; i < r.length; ++i) {
        const RunNode& n = state.dag_.node(paths_[r.first + i]);
        if (n.kind != RunNode::Kind::kTake || n.stage != stage) continue;
        if (out == nullptr) {
          match.stages.push_back({names[stage], {}});
          out = &match.stages.back();
        }
        const auto& e = state.events_[n.event];
        out->events.push_back({e.event, FromMillis(e.timestamp), e.seq});
      }
    }
    return match;
  }

  void ClearRecords() {
    records_.clear();
    paths_.clear();
  }

  // Leaves in records_ the runs that reached the final state on the
  // current event, sorted.
  void CollectFinals(SharedRunsState<Event>& state) {
    ClearRecords();
    const int64_t lo = window_ > 0 ? state.expired_through_
                                   : std::numeric_limits<int64_t>::min();
    for (uint32_t node : finals_) {
      Collect(state, node, lo, std::numeric_limits<int64_t>::max());
    }
    SortRecords(state);
  }

  void EmitMatches(SharedRunsState<Event>& state, MatchSink<Event>& sink) {
    CollectFinals(state);
    for (const Record& r : records_) {
      ++metrics_.matches;
      sink.OnMatch(BuildMatch(state, r));
    }
    ClearRecords();
  }

  // ---- time -----------------------------------------------------------------

  void AdvanceTimeImpl(SharedRunsState<Event>& state, int64_t ts,
                       MatchSink<Event>& sink) {
    if (window_ <= 0) return;
    const int64_t through = ts - window_;
    const int64_t lo = state.expired_through_;
    if (through <= lo) return;
    const auto& states = nfa_.states();
    // Runs expire only if an event that started some expires.
    bool any = false;
    while (state.first_start_ < state.starts_.size() &&
           state.starts_[state.first_start_] <= through) {
      ++state.first_start_;
      any = true;
    }
    if (any) {
      // Timeouts first, in run order over all states.
      if (options_.timeouts == SharedRunsTimeouts::kReport) {
        ClearRecords();
        for (uint32_t q = 0; q < states.size(); ++q) {
          if (state.heads_[q] == kNone ||
              states[q].type == StateType::kPending) {
            continue;
          }
          Collect(state, state.heads_[q], lo, through);
        }
        SortRecords(state);
        for (const Record& r : records_) {
          ++metrics_.timeouts;
          sink.OnTimeout(BuildMatch(state, r),
                         FromMillis(r.start_ts + window_));
        }
      } else if (options_.timeouts == SharedRunsTimeouts::kCount) {
        metrics_.timeouts += CountTimeouts(state, lo, through);
      }
      // Then runs waiting for a trailing NotFollowedBy: matches.
      ClearRecords();
      for (uint32_t q = 0; q < states.size(); ++q) {
        if (state.heads_[q] != kNone && states[q].type == StateType::kPending) {
          Collect(state, state.heads_[q], lo, through);
        }
      }
      SortRecords(state);
      if (!skip_) {
        for (const Record& r : records_) {
          ++metrics_.matches;
          sink.OnMatch(BuildMatch(state, r));
        }
        ClearRecords();
      }
    }
    state.expired_through_ = through;
    for (uint32_t& head : state.heads_) {
      if (head != kNone && state.dag_.node(head).max_start <= through) {
        head = kNone;
      }
    }
    // As the Evaluator: the released matches go through the skip strategy,
    // and runs that expired may free matches held back.
    if (skip_ && any) HoldAndRelease(state, sink);
  }

  // ---- after-match skipping (SkipPastLastEvent)
  // ------------------------------

  // Whether a run starting on (ts, seq) was discarded by the skip strategy.
  static bool Discarded(const SharedRunsState<Event>& state, int64_t ts,
                        uint64_t seq) {
    return state.skipped_ && !internal::StartsAfter(ts, seq, state.skipped_ts_,
                                                    state.skipped_seq_);
  }
  // Whether every run through `n` was.
  static bool Discarded(const SharedRunsState<Event>& state, const RunNode& n) {
    return Discarded(state, n.max_start, n.max_start_seq);
  }

  // The Evaluator's ReleaseWithSkip: the matches in records_ (sorted) join
  // the held-back ones, sorted by start (held-back ones first on a tie);
  // each is released in turn unless a live partial match started before
  // it, and releasing one discards every run and held-back match that
  // started at or before its last event.
  void HoldAndRelease(SharedRunsState<Event>& state, MatchSink<Event>& sink) {
    auto& held = state.held_;
    const size_t old = held.size();
    for (const Record& r : records_) {
      auto& m = held.emplace_back();
      m.start_ts = r.start_ts;
      m.start_seq = r.start_seq;
      for (uint32_t i = 0; i < r.length; ++i) {
        const RunNode& n = state.dag_.node(paths_[r.first + i]);
        if (n.kind != RunNode::Kind::kTake) continue;
        m.steps.push_back({n.stage, state.events_[n.event]});
      }
    }
    ClearRecords();
    // Stable insertion of the new ones (already sorted among themselves).
    for (size_t i = std::max<size_t>(old, 1); i < held.size(); ++i) {
      size_t j = i;
      while (j > 0 && HeldBefore(held[j], held[j - 1])) {
        std::swap(held[j], held[j - 1]);
        --j;
      }
    }
    bool released = false;
    while (!held.empty()) {
      const auto& front = held.front();
      if (LiveRunStartsBefore(state, front.start_ts, front.start_seq)) break;
      int64_t last_ts = std::numeric_limits<int64_t>::min();
      uint64_t last_seq = 0;
      for (const auto& step : front.steps) {
        if (internal::StartsAfter(step.event.timestamp, step.event.seq, last_ts,
                                  last_seq)) {
          last_ts = step.event.timestamp;
          last_seq = step.event.seq;
        }
      }
      ++metrics_.matches;
      sink.OnMatch(BuildHeldMatch(front));
      released = true;
      state.skipped_ = true;
      state.skipped_ts_ = last_ts;
      state.skipped_seq_ = last_seq;
      // The front at least (its start is at or before its last event, but
      // a damaged state may say otherwise).
      size_t gone = 1;
      while (gone < held.size() &&
             !internal::StartsAfter(held[gone].start_ts, held[gone].start_seq,
                                    last_ts, last_seq)) {
        ++gone;
      }
      held.erase(held.begin(), held.begin() + static_cast<ptrdiff_t>(gone));
    }
    if (released) {
      for (uint32_t& head : state.heads_) {
        if (head != kNone && Discarded(state, state.dag_.node(head))) {
          head = kNone;
        }
      }
    }
  }

  static bool HeldBefore(const typename SharedRunsState<Event>::HeldMatch& a,
                         const typename SharedRunsState<Event>::HeldMatch& b) {
    return internal::StartsAfter(b.start_ts, b.start_seq, a.start_ts,
                                 a.start_seq);
  }

  // Whether a live run (not expired, not discarded) started before
  // (ts, seq). O(nodes of runs that may have), each visited once.
  bool LiveRunStartsBefore(const SharedRunsState<Event>& state, int64_t ts,
                           uint64_t seq) {
    const int64_t lo = window_ > 0 ? state.expired_through_
                                   : std::numeric_limits<int64_t>::min();
    const internal::RunDag& dag = state.dag_;
    if (visited_.size() < dag.size()) visited_.resize(dag.size(), 0);
    if (++stamp_ == 0) {
      std::fill(visited_.begin(), visited_.end(), 0);
      stamp_ = 1;
    }
    auto may = [&](uint32_t index) {
      const RunNode& n = dag.node(index);
      return visited_[index] != stamp_ && n.max_start > lo &&
             n.min_start <= ts && !Discarded(state, n);
    };
    visit_stack_.clear();
    for (uint32_t head : state.heads_) {
      if (head != kNone && may(head)) {
        visited_[head] = stamp_;
        visit_stack_.push_back(head);
      }
    }
    while (!visit_stack_.empty()) {
      const uint32_t index = visit_stack_.back();
      visit_stack_.pop_back();
      const RunNode& n = dag.node(index);
      if (n.kind == RunNode::Kind::kUnion) {
        for (uint32_t m = 0; m < n.member_count; ++m) {
          const uint32_t member = dag.member(n.first_member + m);
          if (may(member)) {
            visited_[member] = stamp_;
            visit_stack_.push_back(member);
          }
        }
      } else if (n.previous != kNone) {
        if (may(n.previous)) {
          visited_[n.previous] = stamp_;
          visit_stack_.push_back(n.previous);
        }
      } else {
        const auto& first = state.events_[n.event];
        if (first.timestamp > lo &&
            !Discarded(state, first.timestamp, first.seq) &&
            internal::StartsAfter(ts, seq, first.timestamp, first.seq)) {
          return true;
        }
      }
    }
    return false;
  }

  Match<Event> BuildHeldMatch(
      const typename SharedRunsState<Event>::HeldMatch& m) const {
    Match<Event> match;
    const auto& names = nfa_.stage_names();
    for (uint32_t stage = 0; stage < names.size(); ++stage) {
      StageMatch<Event>* out = nullptr;
      for (const auto& step : m.steps) {
        if (step.stage != stage) continue;
        if (out == nullptr) {
          match.stages.push_back({names[stage], {}});
          out = &match.stages.back();
        }
        const auto& e = step.event;
        out->events.push_back({e.event, FromMillis(e.timestamp), e.seq});
      }
    }
    return match;
  }

  // The runs (not in kPending states) whose first event's timestamp is in
  // (lo, through], counted without enumerating them: on the timeout counter
  // when the NFA has few enough slots (O(slots^2) per expiry, plus a
  // rebuild about once per window), otherwise on the DAG (O(nodes in range)).
  uint64_t CountTimeouts(SharedRunsState<Event>& state, int64_t lo,
                         int64_t through) {
    uint64_t total = 0;
    int64_t after = lo;
    if (count_by_matrix_) {
      internal::TimeoutCounter& counter = state.timeout_counter_;
      // The newest start expiring now (AdvanceTimeImpl passed it).
      const int64_t newest = state.starts_[state.first_start_ - 1];
      if (counter.valid()) {
        total += counter.PopThrough(through, counted_slots_);
        if (newest <= counter.covered()) return total;
        after = std::max(lo, counter.covered());
      }
      auto start_ts = [&state](const RunNode& n) {
        return state.events_[n.event].timestamp;
      };
      if (counter.Rebuild(state.dag_, state.heads_, slot_of_, slots_, start_ts,
                          after, state.starts_.back(), path_counts_)) {
        return total + counter.PopThrough(through, counted_slots_);
      }
      // Starts out of timestamp order: count on the DAG.
    }
    const auto& states = nfa_.states();
    counts_.assign(state.dag_.size(), kUncounted);
    for (uint32_t q = 0; q < states.size(); ++q) {
      if (state.heads_[q] == kNone || states[q].type == StateType::kPending) {
        continue;
      }
      total += Count(state, state.heads_[q], after, through);
    }
    return total;
  }

  // ---- memory ---------------------------------------------------------------

  // Reclaims the nodes and events no live run uses once the DAG grew
  // enough since the last compaction. The timeout counter holds no node or
  // event indices: compaction leaves it valid.
  void MaybeCompact(SharedRunsState<Event>& state) {
    if (state.first_start_ > 64 &&
        state.first_start_ * 2 > state.starts_.size()) {
      state.starts_.erase(state.starts_.begin(),
                          state.starts_.begin() + state.first_start_);
      state.first_start_ = 0;
    }
    const size_t size = state.dag_.size();
    if (size < state.compact_at_) return;
    const int64_t through = window_ > 0 ? state.expired_through_
                                        : std::numeric_limits<int64_t>::min();
    event_used_.assign(state.events_.size(), false);
    const size_t reclaimed = state.dag_.Compact(
        state.heads_,
        [through, &state](const RunNode& n) {
          return n.max_start > through && !Discarded(state, n);
        },
        event_used_);
    metrics_.reclaimed_nodes += reclaimed;
    event_renumber_.assign(state.events_.size(), kNone);
    size_t kept = 0;
    for (size_t e = 0; e < state.events_.size(); ++e) {
      if (e >= event_used_.size() || !event_used_[e]) continue;
      event_renumber_[e] = static_cast<uint32_t>(kept);
      if (kept != e) state.events_[kept] = std::move(state.events_[e]);
      ++kept;
    }
    state.events_.erase(state.events_.begin() + kept, state.events_.end());
    state.dag_.RenumberEvents(event_renumber_);
    // Next time when the DAG doubled, or quadrupled when this pass freed
    // little (runs that live on, as without a window): amortized O(1) per
    // node either way.
    const size_t kept_nodes = state.dag_.size();
    state.compact_at_ =
        std::max<size_t>(64, (reclaimed * 4 < size ? 4 : 2) * kept_nodes);
  }

  static constexpr uint64_t kUncounted = std::numeric_limits<uint64_t>::max();

  const Nfa<Event>& nfa_;
  SharedRunsOptions options_;
  EvaluatorMetrics metrics_;
  absl::Status status_;
  int64_t window_ = 0;
  uint32_t final_state_ = 0;

  // The event being processed.
  const Event* event_ = nullptr;
  int64_t ts_ = 0;
  uint64_t seq_ = 0;
  uint32_t event_index_ = kNone;

  // Scratch, reused across calls.
  internal::NfaWalk<Event> walk_;
  std::vector<int8_t> memo_;
  std::vector<Successor> successors_;
  std::vector<Arrival> arrivals_;
  std::vector<uint32_t> finals_;
  std::vector<uint32_t> members_;
  std::vector<std::pair<uint32_t, uint32_t>> stack_;
  std::vector<uint32_t> path_;
  std::vector<uint32_t> paths_;
  std::vector<Record> records_;
  std::vector<uint64_t> counts_;
  std::vector<std::pair<uint32_t, bool>> count_stack_;
  std::vector<bool> event_used_;
  std::vector<uint32_t> event_renumber_;
  // kCount on the timeout counter: each NFA state's slot (internal::kNoSlot
  // for states that hold no runs), the bit mask of slots whose runs time
  // out (not kPending), the number of slots, the moves of the current event
  // and the counter's scratch (P's next value; the rebuild's path counts).
  std::vector<uint8_t> slot_of_;
  uint64_t counted_slots_ = 0;
  uint32_t slots_ = 0;
  bool count_by_matrix_ = false;
  // SkipPastLastEvent; LiveRunStartsBefore's visit marks (nodes visited in
  // the current search have visited_ == stamp_) and stack.
  bool skip_ = false;
  std::vector<uint32_t> visited_;
  uint32_t stamp_ = 0;
  std::vector<uint32_t> visit_stack_;
  std::vector<internal::SlotMove> moves_;
  std::vector<uint64_t> matrix_;
  std::vector<uint64_t> path_counts_;
};

}  // namespace cep
