// cep/evaluator.hpp — advances one key's state by one event or to a time.
//
// Process(state, event, ts, seq) first advances time to `ts` (pruning
// branches whose window passed, reporting them as timeouts, releasing
// trailing-NotFollowedBy matches), then moves every partial match of the key
// along the NFA's TAKE / IGNORE / PROCEED transitions, starts a new one when
// the first stage matches, and releases completed matches in FlinkCEP's
// order, holding them back while the after-match skip strategy requires.
// The algorithm and its Dewey versioning follow FlinkCEP's NFA.java.
//
// One Evaluator serves any number of keys of one Nfa, one call at a time (it
// keeps scratch buffers so that steady-state steps do not allocate); use
// one per thread. The Nfa must outlive it.
//
// Example:
//   cep::Evaluator<Txn> evaluator(nfa);
//   cep::KeyState<Txn> state;
//   CEP_RETURN_IF_ERROR(evaluator.Process(state, txn, ts, seq, sink));
//   CEP_RETURN_IF_ERROR(evaluator.AdvanceTime(state, watermark, sink));
#pragma once

#include <algorithm>
#include <cstdint>
#include <exception>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

#include "cep/condition.hpp"
#include "cep/evaluator_options.hpp"
#include "cep/evaluator_trace.hpp"
#include "cep/internal/nfa_walk.hpp"
#include "cep/key_state.hpp"
#include "cep/match.hpp"
#include "cep/nfa.hpp"
#include "cep/pattern.hpp"
#include "cep/time.hpp"

namespace cep {

template <typename Event>
class Evaluator {
 public:
  explicit Evaluator(const Nfa<Event>& nfa, EvaluatorOptions options = {})
      : nfa_(nfa), options_(options), context_(*this), walk_(nfa) {
    memo_.assign(nfa.user_conditions().size(), kUnknown);
    for (const NfaState& s : nfa.states()) {
      has_windows_ = has_windows_ || s.window > Duration::zero();
    }
    has_windows_ = has_windows_ || nfa.window() > Duration::zero();
    can_skip_ = options.skip_irrelevant_events && !has_windows_ &&
                FindStatesChangedByIrrelevantEvents();
  }
  Evaluator(const Evaluator&) = delete;
  Evaluator& operator=(const Evaluator&) = delete;

  // Advances time to `ts`, then processes `event` (timestamp `ts`, sequence
  // number `seq`: its position in the input, which orders events with equal
  // timestamps). Matches and timeouts go to `sink` before it returns.
  // Returns kUnknown, naming the condition, if a condition threw; that
  // evaluation counted as false and the state stays consistent.
  [[nodiscard]] absl::Status Process(KeyState<Event>& state, const Event& event,
                                     Timestamp ts, uint64_t seq,
                                     MatchSink<Event>& sink) {
    status_ = absl::OkStatus();
    EnsureStarted(state);
    AdvanceTimeImpl(state, ToMillis(ts), sink);
    ++metrics_.events;
    std::fill(memo_.begin(), memo_.end(), kUnknown);
    event_ = &event;
    ts_ = ToMillis(ts);
    seq_ = seq;
    event_slot_ = kNoNode;
    std::vector<Computation>& partial = state.partial();
    // The state is rebuilt only from the first branch the event changes;
    // an event that changes no branch leaves it untouched.
    bool changed = false;
    for (size_t i = 0; i < partial.size(); ++i) {
      Computation& comp = partial[i];
      if (!comp.has_start && !options_.StartsMatchesAt(seq)) {
        if (changed) next_.push_back(std::move(comp));
        continue;
      }
      const bool from_start = comp.state == nfa_.start_state();
      context_.Reset(&state, &comp);
      walk_.CollectFiredEdges(comp.state, from_start,
                              [this](ConditionIndex c) { return Eval(c); });
      if (LeavesUnchanged(comp, from_start)) {
        if (tracer_ != nullptr && comp.has_start) [[unlikely]] {
          tracer_->OnUnchanged(state, comp);
        }
        if (changed) next_.push_back(std::move(comp));
        continue;
      }
      if (!changed) {
        changed = true;
        next_.clear();
        potential_.clear();
        for (size_t j = 0; j < i; ++j) next_.push_back(std::move(partial[j]));
      }
      AdvanceBranch(state, comp, from_start);
    }
    if (changed) {
      SortByStart(next_);
      if (nfa_.skip().kind() == AfterMatchSkip::Kind::kNoSkip) {
        SortByStart(potential_);
        for (Computation& match : potential_) Emit(state, match, sink);
      } else {
        ReleaseWithSkip(state, potential_, next_, sink);
      }
      EnforceCap(state, next_, sink);
      partial.swap(next_);
    }
    if (event_slot_ != kNoNode) state.buffer().ReleaseEvent(event_slot_);
    event_ = nullptr;
    return status_;
  }

  // Whether `event` may be dropped for every key whose state has no branch
  // in a state it would change (HasBranchChangedByIrrelevantEvents): true
  // when skipping is enabled and possible for this pattern and every
  // condition is false for `event`.
  bool CanSkip(const Event& event) const {
    if (!can_skip_) return false;
    for (const auto& user : nfa_.user_conditions()) {
      try {
        if (user->simple(event)) return false;
      } catch (...) {
        return false;  // Process() reports it
      }
    }
    return true;
  }

  // Whether an event failing every condition would change `state`: some
  // branch waits in a state such an event moves (a looping stage that
  // proceeds, a strict stage that dies).
  // Also answers for a key in the shared form (KeyState::shared_runs()).
  bool HasBranchChangedByIrrelevantEvents(const KeyState<Event>& state) const {
    if (!can_skip_) return false;
    if (const SharedRunsState<Event>* shared = state.shared_runs()) {
      const std::vector<uint32_t>& heads = shared->heads();
      for (uint32_t q = 0; q < heads.size(); ++q) {
        if (heads[q] != internal::kNoRunNode && changed_by_irrelevant_[q]) {
          return true;
        }
      }
      return false;
    }
    for (const Computation& c : state.partial()) {
      if (changed_by_irrelevant_[c.state]) return true;
    }
    return false;
  }

  // Counts an event dropped after CanSkip().
  void CountSkipped() {
    ++metrics_.events;
    ++metrics_.skipped_events;
  }
  // Counts a key removed by KeyedMatcher for state_ttl.
  void CountExpiredKey() { ++metrics_.expired_keys; }

  const EvaluatorOptions& options() const { return options_; }

  // The time of the last event any partial or held-back match of `state`
  // took, or nullopt when it holds none. O(partial matches); for a key in
  // the shared form, SharedRunsState::LastActivity().
  static std::optional<Timestamp> LastActivity(const KeyState<Event>& state) {
    if (const SharedRunsState<Event>* shared = state.shared_runs()) {
      return shared->LastActivity();
    }
    std::optional<int64_t> last;
    for (const auto* list : {&state.partial(), &state.completed()}) {
      for (const Computation& comp : *list) {
        if (comp.has_start && (!last || comp.previous_ts > *last)) {
          last = comp.previous_ts;
        }
      }
    }
    if (!last) return std::nullopt;
    return FromMillis(*last);
  }

  // Advances time to `ts` with no event (a watermark or end of input):
  // branches whose window passed time out, trailing-NotFollowedBy matches
  // are released.
  [[nodiscard]] absl::Status AdvanceTime(KeyState<Event>& state, Timestamp ts,
                                         MatchSink<Event>& sink) {
    status_ = absl::OkStatus();
    EnsureStarted(state);
    AdvanceTimeImpl(state, ToMillis(ts), sink);
    return status_;
  }

  // The earliest time at which AdvanceTime() would change `state`: when the
  // first window of a partial match closes. nullopt when the pattern has no
  // window or no partial match is waiting. O(partial matches).
  std::optional<Timestamp> NextDeadline(const KeyState<Event>& state) const {
    if (!has_windows_) return std::nullopt;
    const int64_t window = nfa_.window().count();
    std::optional<int64_t> earliest;
    for (const Computation& comp : state.partial()) {
      if (!comp.has_start) continue;
      const int64_t state_window = nfa_.states()[comp.state].window.count();
      if (window > 0) Earlier(earliest, comp.start_ts + window);
      if (state_window > 0) Earlier(earliest, comp.previous_ts + state_window);
    }
    if (!earliest) return std::nullopt;
    return FromMillis(*earliest);
  }

  // Whether the pattern has a window (on the whole or on a stage): only then
  // does time alone change a key's state.
  bool has_windows() const { return has_windows_; }

  const EvaluatorMetrics& metrics() const { return metrics_; }
  const Nfa<Event>& nfa() const { return nfa_; }

  // Reports every decision to `tracer` (evaluator_trace.hpp) from now on;
  // nullptr (the default) stops it. The tracer must outlive its use.
  void SetTracer(EvaluatorTracer<Event>* tracer) { tracer_ = tracer; }

 private:
  static constexpr int8_t kUnknown = 0, kFalse = 1, kTrue = 2;

  // What iterative conditions see: the branch being extended.
  class ContextImpl final : public Context<Event> {
   public:
    explicit ContextImpl(Evaluator& evaluator) : evaluator_(evaluator) {}

    void Reset(const KeyState<Event>* state, const Computation* comp) {
      state_ = state;
      comp_ = comp;
      materialized_ = false;
    }

    std::span<const Event* const> EventsFor(
        std::string_view stage) const override {
      uint32_t index = evaluator_.nfa_.StageIndex(stage);
      if (index == kNoStage) return {};
      Materialize();
      return per_stage_[index];
    }

    const AggregateValue& Aggregate(AggregateId id) const override {
      static const AggregateValue kEmpty;
      return id.index < comp_->aggregates.size() ? comp_->aggregates[id.index]
                                                 : kEmpty;
    }

    Timestamp timestamp() const override { return FromMillis(evaluator_.ts_); }

   private:
    void Materialize() const {
      if (materialized_) return;
      materialized_ = true;
      per_stage_.resize(evaluator_.nfa_.stage_names().size());
      for (auto& events : per_stage_) events.clear();
      const SharedBuffer<Event>& buffer = state_->buffer();
      buffer.Extract(comp_->node, comp_->version, path_);
      for (const auto& step : path_) {
        per_stage_[step.stage].push_back(&*buffer.event(step.event).event);
      }
    }

    Evaluator& evaluator_;
    const KeyState<Event>* state_ = nullptr;
    const Computation* comp_ = nullptr;
    mutable bool materialized_ = false;
    mutable std::vector<std::vector<const Event*>> per_stage_;
    mutable std::vector<typename SharedBuffer<Event>::PathStep> path_;
  };

  using FiredEdge = internal::FiredEdge;

  void EnsureStarted(KeyState<Event>& state) {
    if (!state.partial().empty()) return;
    Computation start;
    start.state = nfa_.start_state();
    start.version = internal::DeweyNumber(1);
    start.aggregates.resize(nfa_.aggregates().size());
    state.partial().push_back(std::move(start));
  }

  // ---- conditions ---------------------------------------------------------

  // The value of condition `index`, with `user(i)` the value of user
  // condition i.
  template <typename UserValue>
  bool EvalTree(ConditionIndex index, UserValue&& user) {
    const ConditionNode& node = nfa_.conditions()[index];
    switch (node.op) {
      case ConditionNode::Op::kTrue:
        return true;
      case ConditionNode::Op::kUser:
        return user(node.a);
      case ConditionNode::Op::kNot:
        return !EvalTree(node.a, user);
      case ConditionNode::Op::kAnd:
        return EvalTree(node.a, user) && EvalTree(node.b, user);
      case ConditionNode::Op::kOr:
        return EvalTree(node.a, user) || EvalTree(node.b, user);
    }
    return false;
  }

  // The value of a condition for the current event.
  bool Eval(ConditionIndex index) {
    return EvalTree(index, [this](int32_t user) { return EvalUser(user); });
  }

  // Marks the states in which a branch would change on an event failing
  // every condition (see LeavesUnchanged). Returns whether skipping such
  // events can work: it needs simple conditions only (an iterative one may
  // depend on the branch) and a start state such events leave alone.
  bool FindStatesChangedByIrrelevantEvents() {
    for (const auto& user : nfa_.user_conditions()) {
      if (!user->simple) return false;
    }
    const auto& states = nfa_.states();
    changed_by_irrelevant_.assign(states.size(), false);
    for (uint32_t s = 0; s < states.size(); ++s) {
      if (states[s].type == StateType::kFinal ||
          states[s].type == StateType::kStop) {
        continue;
      }
      const bool from_start = s == nfa_.start_state();
      walk_.CollectFiredEdges(s, from_start, [this](ConditionIndex c) {
        return EvalTree(c, [](int32_t) { return false; });
      });
      Computation probe;
      probe.state = s;
      changed_by_irrelevant_[s] = !LeavesUnchanged(probe, from_start);
    }
    return !changed_by_irrelevant_[nfa_.start_state()];
  }

  bool EvalUser(int32_t index) {
    const UserCondition<Event>& user = *nfa_.user_conditions()[index];
    if (user.simple && memo_[index] != kUnknown) return memo_[index] == kTrue;
    bool result = false;
    try {
      result = user.simple ? user.simple(*event_)
                           : user.iterative(*event_, context_);
    } catch (const std::exception& e) {
      ConditionFailed(user, e.what());
    } catch (...) {
      ConditionFailed(user, "an exception that is not a std::exception");
    }
    if (user.simple) memo_[index] = result ? kTrue : kFalse;
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

  // ---- one branch, one event (FlinkCEP's NFA.computeNextStates) ------------

  // Whether the fired edges leave the branch exactly as it is: the start
  // computation with nothing fired, or a branch whose only fired edge is an
  // IGNORE back to its own state (its version grows by 0).
  bool LeavesUnchanged(const Computation& comp, bool from_start) const {
    const std::vector<FiredEdge>& fired = walk_.fired();
    if (from_start) return fired.empty();
    return fired.size() == 1 &&
           fired[0].transition->action == Action::kIgnore &&
           fired[0].transition->target == comp.state;
  }

  // Applies the fired edges of `comp` (collected by CollectFiredEdges):
  // its successors go to next_ (or potential_ when final); if one reaches a
  // stop state, all of this branch's successors are discarded.
  void AdvanceBranch(KeyState<Event>& state, Computation& comp,
                     bool from_start) {
    successors_.clear();
    if (tracer_ != nullptr && walk_.fired().empty()) [[unlikely]] {
      tracer_->OnDead(state, comp);
    }
    ComputeNextStates(state, comp, from_start);
    const size_t first = next_.size();
    bool discard = false;
    for (Computation& s : successors_) {
      StateType type = nfa_.states()[s.state].type;
      if (type == StateType::kFinal) {
        potential_.push_back(std::move(s));
      } else if (type == StateType::kStop) {
        discard = true;
        if (tracer_ != nullptr) [[unlikely]]
          tracer_->OnStopped(state, s);
        state.buffer().Release(s.node, s.version);
      } else {
        next_.push_back(std::move(s));
      }
    }
    if (discard) {
      for (size_t i = first; i < next_.size(); ++i) {
        state.buffer().Release(next_[i].node, next_[i].version);
      }
      next_.resize(first);
    }
  }

  void ComputeNextStates(KeyState<Event>& state, Computation& comp,
                         bool from_start) {
    int total_take = 0, total_ignore = 0;
    for (const FiredEdge& e : walk_.fired()) {
      if (e.transition->action == Action::kTake) {
        ++total_take;
      } else if (e.transition->target != comp.state) {
        ++total_ignore;
      }
    }
    int takes_to_visit = std::max(0, total_take - 1);
    int ignores_to_visit = total_ignore;
    const int take_skip = std::max(0, total_take - 1);

    for (const FiredEdge& e : walk_.fired()) {
      const Transition& t = *e.transition;
      if (t.action == Action::kIgnore) {
        if (from_start) continue;
        internal::DeweyNumber version;
        if (t.target == comp.state) {
          version =
              comp.version.Increase(SelfIncrease(total_ignore, total_take));
        } else {
          version =
              comp.version.Increase(take_skip + ignores_to_visit).AddStage();
          --ignores_to_visit;
        }
        Computation& ignored =
            AddSuccessor(state, comp, t.target, comp.node, std::move(version),
                         /*took=*/false);
        if (tracer_ != nullptr) [[unlikely]] {
          tracer_->OnIgnore(state, comp, e.source, ignored);
        }
      } else if (t.action == Action::kTake) {
        internal::DeweyNumber current = comp.version.Increase(takes_to_visit);
        --takes_to_visit;
        if (event_slot_ == kNoNode) {
          event_slot_ = state.buffer().AddEvent(*event_, ts_, seq_);
        }
        uint32_t stage = nfa_.states()[e.source].stage;
        uint32_t node =
            state.buffer().Put(stage, event_slot_, comp.node, current);
        internal::DeweyNumber next_version = current.AddStage();
        Computation& taken = AddSuccessor(state, comp, t.target, node,
                                          next_version, /*took=*/true);
        UpdateAggregates(taken, stage);
        if (tracer_ != nullptr) [[unlikely]] {
          tracer_->OnTake(state, comp, e.source, taken);
        }
        if (walk_.ReachesFinalByProceed(
                t.target, [this](ConditionIndex c) { return Eval(c); })) {
          Computation final_comp = taken;
          final_comp.state = walk_.final_state();
          state.buffer().Lock(node, final_comp.version);
          if (tracer_ != nullptr) [[unlikely]] {
            tracer_->OnProceedToFinal(state, final_comp);
          }
          successors_.push_back(std::move(final_comp));
        }
      }
    }
    if (from_start) {
      Computation start;
      start.state = comp.state;
      start.version =
          comp.version.Increase(SelfIncrease(total_ignore, total_take));
      start.aggregates.resize(nfa_.aggregates().size());
      successors_.push_back(std::move(start));
    }
    state.buffer().Release(comp.node, comp.version);
  }

  static uint32_t SelfIncrease(int ignores, int takes) {
    return takes == 0 && ignores == 0
               ? 0
               : static_cast<uint32_t>(ignores + std::max(1, takes));
  }

  Computation& AddSuccessor(KeyState<Event>& state, const Computation& from,
                            uint32_t target, uint32_t node,
                            internal::DeweyNumber version, bool took) {
    Computation& next = successors_.emplace_back();
    next.state = target;
    next.node = node;
    next.version = std::move(version);
    if (took && !from.has_start) {
      next.has_start = true;
      next.start_ts = ts_;
      next.start_seq = seq_;
    } else {
      next.has_start = from.has_start;
      next.start_ts = from.start_ts;
      next.start_seq = from.start_seq;
    }
    next.previous_ts = took ? ts_ : from.previous_ts;
    next.aggregates = from.aggregates;
    state.buffer().Lock(node, next.version);
    return next;
  }

  void UpdateAggregates(Computation& comp, uint32_t stage) {
    const auto& defs = nfa_.aggregates();
    for (size_t i = 0; i < defs.size(); ++i) {
      if (defs[i].stage != stage) continue;
      try {
        comp.aggregates[i].Add(defs[i].value(*event_));
      } catch (const std::exception& e) {
        AggregateFailed(i, e.what());
      } catch (...) {
        AggregateFailed(i, "an exception that is not a std::exception");
      }
    }
  }

  void AggregateFailed(size_t index, absl::string_view what) {
    ++metrics_.condition_errors;
    if (status_.ok()) {
      status_ = absl::UnknownError(
          absl::StrCat("aggregate #", index + 1, " of stage '",
                       nfa_.stage_names()[nfa_.aggregates()[index].stage],
                       "' threw on the event with seq ", seq_, ": ", what));
    }
  }

  // ---- time ----------------------------------------------------------------

  static void Earlier(std::optional<int64_t>& earliest, int64_t at) {
    if (!earliest || at < *earliest) earliest = at;
  }

  void AdvanceTimeImpl(KeyState<Event>& state, int64_t ts,
                       MatchSink<Event>& sink) {
    if (!has_windows_) return;
    // Most keys wait with nothing started: nothing can time out.
    if (state.completed().empty() &&
        std::none_of(state.partial().begin(), state.partial().end(),
                     [](const Computation& c) { return c.has_start; })) {
      return;
    }
    const int64_t window = nfa_.window().count();
    timed_next_.clear();
    timed_potential_.clear();
    for (Computation& comp : state.partial()) {
      if (!comp.has_start) {
        timed_next_.push_back(std::move(comp));
        continue;
      }
      const NfaState& s = nfa_.states()[comp.state];
      const int64_t state_window = s.window.count();
      bool by_previous =
          state_window > 0 && ts - comp.previous_ts >= state_window;
      bool by_first = window > 0 && ts - comp.start_ts >= window;
      if (!by_previous && !by_first) {
        timed_next_.push_back(std::move(comp));
      } else if (s.type == StateType::kPending) {
        if (tracer_ != nullptr) [[unlikely]] {
          tracer_->OnWindowPassed(state, comp, FromMillis(ts), true);
        }
        timed_potential_.push_back(std::move(comp));
      } else {
        int64_t at = by_previous ? comp.previous_ts + state_window
                                 : comp.start_ts + window;
        if (tracer_ != nullptr) [[unlikely]] {
          tracer_->OnWindowPassed(state, comp, FromMillis(at), false);
        }
        ++metrics_.timeouts;
        if (options_.report_timeouts) {
          sink.OnTimeout(Materialize(state, comp), FromMillis(at));
        }
        state.buffer().Release(comp.node, comp.version);
      }
    }
    // As FlinkCEP: released (pending) matches go through the skip strategy,
    // and a timeout may free completed matches held back by it.
    if (!timed_potential_.empty() || !state.completed().empty()) {
      ReleaseWithSkip(state, timed_potential_, timed_next_, sink);
    }
    state.partial().swap(timed_next_);
  }

  // ---- releasing matches ----------------------------------------------------

  // FlinkCEP's processMatchesAccordingToSkipStrategy: completed matches wait
  // until no partial match started before them; each one released prunes
  // partial and completed matches as the strategy says.
  void ReleaseWithSkip(KeyState<Event>& state, std::vector<Computation>& fresh,
                       std::vector<Computation>& partials,
                       MatchSink<Event>& sink) {
    std::vector<Computation>& completed = state.completed();
    for (Computation& c : fresh) completed.push_back(std::move(c));
    fresh.clear();
    SortByStart(completed);
    while (!completed.empty()) {
      if (!partials.empty() &&
          StartsBefore(partials.front(), completed.front())) {
        if (tracer_ != nullptr) [[unlikely]] {
          tracer_->OnHeldBack(state, completed, partials.front());
        }
        break;
      }
      Computation match = std::move(completed.front());
      completed.erase(completed.begin());
      if (tracer_ != nullptr) [[unlikely]]
        tracer_->OnRelease(state, match);
      state.buffer().Extract(match.node, match.version, path_);
      if (HasPruningPoint()) {
        PruningPoint point = FindPruningPoint(state);
        if (point.found) {
          Prune(state, partials, point);
          Prune(state, completed, point);
        }
      }
      EmitPath(state, sink);
      state.buffer().Release(match.node, match.version);
    }
  }

  struct PruningPoint {
    bool found = false;
    int64_t ts = 0;
    uint64_t seq = 0;
    bool inclusive = false;  // prune branches that start at the point too
  };

  bool HasPruningPoint() const {
    return nfa_.skip().kind() != AfterMatchSkip::Kind::kNoSkip;
  }

  PruningPoint FindPruningPoint(const KeyState<Event>& state) const {
    PruningPoint point;
    const auto& buffer = state.buffer();
    auto consider = [&](uint32_t slot, bool want_max) {
      const auto& e = buffer.event(slot);
      bool better =
          !point.found ||
          (want_max ? (e.timestamp > point.ts ||
                       (e.timestamp == point.ts && e.seq > point.seq))
                    : (e.timestamp < point.ts ||
                       (e.timestamp == point.ts && e.seq < point.seq)));
      if (better) {
        point.found = true;
        point.ts = e.timestamp;
        point.seq = e.seq;
      }
    };
    switch (nfa_.skip().kind()) {
      case AfterMatchSkip::Kind::kNoSkip:
        break;
      case AfterMatchSkip::Kind::kSkipToNext:
        point.inclusive = true;
        for (const auto& step : path_) consider(step.event, false);
        break;
      case AfterMatchSkip::Kind::kSkipPastLastEvent:
        point.inclusive = true;
        for (const auto& step : path_) consider(step.event, true);
        break;
      case AfterMatchSkip::Kind::kSkipToFirst:
        for (const auto& step : path_) {
          if (step.stage == nfa_.skip_stage()) {
            consider(step.event, false);
            break;
          }
        }
        break;
      case AfterMatchSkip::Kind::kSkipToLast:
        for (const auto& step : path_) {
          if (step.stage == nfa_.skip_stage()) consider(step.event, true);
        }
        break;
    }
    return point;
  }

  void Prune(KeyState<Event>& state, std::vector<Computation>& list,
             const PruningPoint& point) {
    size_t kept = 0;
    for (size_t i = 0; i < list.size(); ++i) {
      Computation& c = list[i];
      bool before =
          c.has_start && (c.start_ts < point.ts ||
                          (c.start_ts == point.ts &&
                           (c.start_seq < point.seq ||
                            (point.inclusive && c.start_seq == point.seq))));
      if (before) {
        if (tracer_ != nullptr) [[unlikely]] {
          tracer_->OnSkipDiscard(state, c, &list == &state.completed());
        }
        state.buffer().Release(c.node, c.version);
      } else {
        if (kept != i) list[kept] = std::move(c);
        ++kept;
      }
    }
    list.resize(kept);
  }

  void Emit(KeyState<Event>& state, Computation& match,
            MatchSink<Event>& sink) {
    if (tracer_ != nullptr) [[unlikely]]
      tracer_->OnRelease(state, match);
    state.buffer().Extract(match.node, match.version, path_);
    EmitPath(state, sink);
    state.buffer().Release(match.node, match.version);
  }

  void EmitPath(const KeyState<Event>& state, MatchSink<Event>& sink) {
    ++metrics_.matches;
    sink.OnMatch(BuildMatch(state));
  }

  Match<Event> Materialize(const KeyState<Event>& state,
                           const Computation& comp) {
    state.buffer().Extract(comp.node, comp.version, path_);
    return BuildMatch(state);
  }

  // The match along path_: stages in pattern order, events in path order.
  Match<Event> BuildMatch(const KeyState<Event>& state) const {
    Match<Event> match;
    const auto& names = nfa_.stage_names();
    for (uint32_t stage = 0; stage < names.size(); ++stage) {
      StageMatch<Event>* out = nullptr;
      for (const auto& step : path_) {
        if (step.stage != stage) continue;
        if (out == nullptr) {
          match.stages.push_back({names[stage], {}});
          out = &match.stages.back();
        }
        const auto& e = state.buffer().event(step.event);
        out->events.push_back({*e.event, FromMillis(e.timestamp), e.seq});
      }
    }
    return match;
  }

  // ---- bounded memory -------------------------------------------------------

  // Drops partial matches past max_partial_matches, as overflow_policy
  // says. Completed matches held back by the skip strategy count too: they
  // wait for a partial match that started before them, which may never
  // complete. O(1) unless some go: `partials` is sorted by start, and
  // computations that took no event yet (the start one) sort last.
  void EnforceCap(KeyState<Event>& state, std::vector<Computation>& partials,
                  MatchSink<Event>& sink) {
    const size_t cap = options_.max_partial_matches;
    if (cap == 0) return;
    size_t live = partials.size();
    while (live > 0 && !partials[live - 1].has_start) --live;
    std::vector<Computation>& completed = state.completed();
    if (live + completed.size() <= cap) return;
    size_t excess = live + completed.size() - cap;
    if (options_.overflow_policy == OverflowPolicy::kDropOldest) {
      // The oldest are partial matches: a completed match is held back
      // only by one that started before it. Dropping them may free
      // completed matches, which then come out.
      const size_t dropped = std::min(excess, live);
      metrics_.evicted_partial_matches += dropped;
      for (size_t i = 0; i < dropped; ++i) {
        if (tracer_ != nullptr) [[unlikely]] {
          tracer_->OnEvict(state, partials[i], false);
        }
        state.buffer().Release(partials[i].node, partials[i].version);
      }
      partials.erase(partials.begin(),
                     partials.begin() + static_cast<ptrdiff_t>(dropped));
      if (!completed.empty())
        ReleaseWithSkip(state, potential_, partials, sink);
      return;
    }
    // Refuse new: the newest go, partial or held back, a partial one first
    // on a tie.
    metrics_.evicted_partial_matches += excess;
    size_t kept_live = live;
    for (; excess > 0; --excess) {
      const bool from_partials =
          kept_live > 0 &&
          (completed.empty() ||
           !StartsBefore(partials[kept_live - 1], completed.back()));
      if (from_partials) {
        --kept_live;
        if (tracer_ != nullptr) [[unlikely]] {
          tracer_->OnEvict(state, partials[kept_live], false);
        }
        state.buffer().Release(partials[kept_live].node,
                               partials[kept_live].version);
      } else {
        if (tracer_ != nullptr) [[unlikely]] {
          tracer_->OnEvict(state, completed.back(), true);
        }
        state.buffer().Release(completed.back().node, completed.back().version);
        completed.pop_back();
      }
    }
    partials.erase(partials.begin() + static_cast<ptrdiff_t>(kept_live),
                   partials.begin() + static_cast<ptrdiff_t>(live));
  }

  // Stable insertion sort by start: the lists are nearly sorted already,
  // and std::stable_sort would allocate.
  static void SortByStart(std::vector<Computation>& list) {
    for (size_t i = 1; i < list.size(); ++i) {
      if (!StartsBefore(list[i], list[i - 1])) continue;
      Computation moving = std::move(list[i]);
      size_t j = i;
      while (j > 0 && StartsBefore(moving, list[j - 1])) {
        list[j] = std::move(list[j - 1]);
        --j;
      }
      list[j] = std::move(moving);
    }
  }

  const Nfa<Event>& nfa_;
  EvaluatorOptions options_;
  EvaluatorMetrics metrics_;
  EvaluatorTracer<Event>* tracer_ = nullptr;  // SetTracer(); usually none
  ContextImpl context_;
  bool has_windows_ = false;
  bool can_skip_ = false;
  std::vector<bool> changed_by_irrelevant_;  // per NFA state
  absl::Status status_;

  // The event being processed.
  const Event* event_ = nullptr;
  int64_t ts_ = 0;
  uint64_t seq_ = 0;
  uint32_t event_slot_ = kNoNode;

  // Scratch, reused across calls.
  internal::NfaWalk<Event> walk_;
  std::vector<int8_t> memo_;
  std::vector<Computation> successors_;
  std::vector<Computation> next_;
  std::vector<Computation> potential_;
  std::vector<Computation> timed_next_;
  std::vector<Computation> timed_potential_;
  std::vector<typename SharedBuffer<Event>::PathStep> path_;
};

}  // namespace cep
