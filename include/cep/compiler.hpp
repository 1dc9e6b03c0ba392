// cep/compiler.hpp — Pattern -> Nfa, with validation errors as absl::Status.
//
// CompilePattern() checks the pattern (the builder's first misuse, duplicate
// stage names, a NOT stage first, NotFollowedBy last without Within, unknown
// skip or aggregate stages, stage windows larger than the pattern's) and
// builds the automaton the way FlinkCEP's NFACompiler does: stages are
// converted last to first, each pointing at the states built for its
// successor. Errors are kInvalidArgument and name the stage.
//
// Example:
//   absl::StatusOr<cep::Nfa<Txn>> nfa = cep::CompilePattern(pattern);
//   if (!nfa.ok()) { std::cerr << nfa.status().message() << "\n"; return 1; }
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

#include "cep/condition.hpp"
#include "cep/nfa.hpp"
#include "cep/pattern.hpp"

namespace cep {

// The most automaton states CompilePattern builds for one pattern; larger
// patterns (large counts, quantified groups of quantified stages) are
// refused with kInvalidArgument before any state is built.
inline constexpr uint64_t kMaxNfaStates = 200000;

template <typename Event>
class NfaCompiler {
 public:
  explicit NfaCompiler(const Pattern<Event>& pattern) : pattern_(pattern) {}

  absl::StatusOr<Nfa<Event>> Compile() {
    if (!pattern_.status().ok()) return pattern_.status();
    if (pattern_.stages().empty()) {
      return absl::InvalidArgumentError("the pattern has no stages");
    }
    if (absl::Status s = Validate(); !s.ok()) return s;

    true_ = std::make_shared<ConditionExpr<Event>>();
    true_->op = ConditionExpr<Event>::Op::kTrue;

    cur_ =
        Ref{&pattern_.stages(), static_cast<int>(pattern_.stages().size()) - 1};
    uint32_t sink = NewState("$end$", kNoStage, StateType::kFinal);
    sink = CreateMiddleStates(sink);
    nfa_.start_state_ = ConvertPattern(sink);
    if (too_many_states_) return TooManyStates();
    return Finish();
  }

 private:
  // A stage as a position in a list of stages (the pattern or a group), so
  // its predecessor is the previous element of the same list.
  struct Ref {
    const std::vector<Stage<Event>>* list = nullptr;
    int index = -1;
    const Stage<Event>& stage() const { return (*list)[index]; }
    bool has_previous() const { return index > 0; }
    Ref previous() const { return Ref{list, index - 1}; }
    bool valid() const { return list != nullptr && index >= 0; }
  };

  // A transition under construction; its condition is still an expression.
  struct PendingTransition {
    Action action;
    uint32_t target;
    ConditionPtr<Event> condition;
  };
  struct BuildState {
    std::string name;
    uint32_t stage;
    StateType type;
    Duration window{0};
    std::vector<PendingTransition> transitions;
  };

  // ---- validation ---------------------------------------------------------

  absl::Status Validate() {
    std::vector<std::string> order;
    for (const Stage<Event>& s : pattern_.stages()) {
      if (absl::Status st = CheckStage(s, order); !st.ok()) return st;
    }
    nfa_.stage_names_ = order;
    if (const Stage<Event>& first = pattern_.stages().front(); first.is_not()) {
      return Error(first, "a pattern cannot begin with a NOT stage");
    }
    if (EstimateStates(pattern_.stages()) > kMaxNfaStates) {
      return TooManyStates();
    }
    window_ = GlobalWindow(pattern_.stages());
    const Stage<Event>& last = pattern_.stages().back();
    if (last.contiguity == Contiguity::kNotFollowedBy &&
        window_ == Duration::zero() && !last.within_previous) {
      return Error(last,
                   "NotFollowedBy at the end of a pattern needs Within: the "
                   "match is released when the window passes");
    }
    if (absl::Status st = CheckWindows(pattern_.stages()); !st.ok()) return st;
    const AfterMatchSkip& skip = pattern_.skip();
    if (skip.kind() == AfterMatchSkip::Kind::kSkipToFirst ||
        skip.kind() == AfterMatchSkip::Kind::kSkipToLast) {
      nfa_.skip_stage_ = IndexOf(skip.stage());
      if (nfa_.skip_stage_ == kNoStage) {
        return absl::InvalidArgumentError(
            absl::StrCat("after match skip: stage '", skip.stage(),
                         "' is not in the pattern"));
      }
    }
    nfa_.skip_ = skip;
    for (size_t i = 0; i < pattern_.aggregates().size(); ++i) {
      const AggregateDef<Event>& def = pattern_.aggregates()[i];
      uint32_t stage = IndexOf(def.stage);
      if (stage == kNoStage) {
        return absl::InvalidArgumentError(
            absl::StrCat("aggregate #", i + 1, ": stage '", def.stage,
                         "' is not in the pattern"));
      }
      nfa_.aggregates_.push_back({stage, def.value});
    }
    return absl::OkStatus();
  }

  // Checks names and group shapes, collecting leaf names in pattern order.
  absl::Status CheckStage(const Stage<Event>& s,
                          std::vector<std::string>& order) {
    if (s.is_group()) {
      if (s.group.front().is_not()) {
        return Error(s.group.front(), "a group cannot begin with a NOT stage");
      }
      if (s.group.back().contiguity == Contiguity::kNotFollowedBy) {
        return Error(s.group.back(),
                     "a group cannot end with NotFollowedBy (nothing follows "
                     "it inside the group)");
      }
      for (const Stage<Event>& inner : s.group) {
        if (absl::Status st = CheckStage(inner, order); !st.ok()) return st;
      }
      return absl::OkStatus();
    }
    if (!stage_index_.emplace(s.name, order.size()).second) {
      return Error(s, "duplicate stage name: names must be unique");
    }
    order.push_back(s.name);
    return absl::OkStatus();
  }

  static absl::Status TooManyStates() {
    return absl::InvalidArgumentError(absl::StrCat(
        "the pattern needs more than ", kMaxNfaStates,
        " automaton states, the limit (a quantifier's count multiplies the "
        "states of its stage or group)"));
  }

  // An estimate of the states CompilePattern builds for `stages`, checked
  // before building, saturating above kMaxNfaStates so that it cannot
  // overflow. Copies without transitive NOTs can make more; NewState
  // counts those.
  static uint64_t EstimateStates(const std::vector<Stage<Event>>& stages) {
    uint64_t total = 1;  // the final state
    for (const Stage<Event>& s : stages) {
      // A stage's states per repetition: itself, its ignore state, a stop
      // state and copies without transitive NOTs.
      uint64_t one = s.is_group() ? EstimateStates(s.group) + 1 : 4;
      const Quantifier& q = s.quantifier;
      uint64_t repetitions = q.kind == Quantifier::Kind::kSingle ? 1
                             : q.kind == Quantifier::Kind::kTimes
                                 ? static_cast<uint64_t>(q.to)
                                 : static_cast<uint64_t>(q.from) + 1;
      total += std::min(one * repetitions, kMaxNfaStates + 1);
      if (total > kMaxNfaStates) return kMaxNfaStates + 1;
    }
    return total;
  }

  static Duration GlobalWindow(const std::vector<Stage<Event>>& stages) {
    Duration window{0};
    for (const Stage<Event>& s : stages) {
      if (s.within && (window == Duration::zero() || *s.within < window)) {
        window = *s.within;
      }
      if (s.is_group()) {
        Duration inner = GlobalWindow(s.group);
        if (inner > Duration::zero() &&
            (window == Duration::zero() || inner < window)) {
          window = inner;
        }
      }
    }
    return window;
  }

  absl::Status CheckWindows(const std::vector<Stage<Event>>& stages) {
    for (const Stage<Event>& s : stages) {
      if (s.within_previous) {
        if (s.quantifier.kind != Quantifier::Kind::kSingle || s.is_group()) {
          return Error(s,
                       "a window between events (kPreviousAndCurrent) applies "
                       "only to single-event stages");
        }
        if (window_ > Duration::zero() && *s.within_previous > window_) {
          return Error(s,
                       absl::StrCat("its window (", s.within_previous->count(),
                                    "ms) exceeds the pattern's window (",
                                    window_.count(), "ms)"));
        }
      }
      if (s.is_group()) {
        if (absl::Status st = CheckWindows(s.group); !st.ok()) return st;
      }
    }
    return absl::OkStatus();
  }

  uint32_t IndexOf(const std::string& name) const {
    auto it = stage_index_.find(name);
    return it == stage_index_.end() ? kNoStage : it->second;
  }

  static absl::Status Error(const Stage<Event>& s, absl::string_view message) {
    return absl::InvalidArgumentError(
        absl::StrCat("stage '", s.name, "': ", message));
  }

  // ---- states -------------------------------------------------------------

  uint32_t NewState(const std::string& base, uint32_t stage, StateType type) {
    if (states_.size() >= kMaxNfaStates) too_many_states_ = true;
    // FlinkCEP's NFAStateNameHandler: the base name first, then base:0,
    // base:1, ... The next suffix per base keeps this O(1) per state.
    std::string name = base;
    if (used_names_.contains(name)) {
      int& next = next_suffix_[base];
      do {
        name = absl::StrCat(base, ":", next++);
      } while (used_names_.contains(name));
    }
    used_names_.insert(name);
    states_.push_back(
        BuildState{std::move(name), stage, type, Duration{0}, {}});
    return static_cast<uint32_t>(states_.size() - 1);
  }

  // A state that takes events of the current stage; a single-event stage's
  // window between events is attached to it.
  uint32_t NewTakeState(StateType type) {
    const Stage<Event>& s = cur_.stage();
    uint32_t state = NewState(s.name, StageOf(s), type);
    if (s.within_previous && s.quantifier.kind == Quantifier::Kind::kSingle) {
      states_[state].window = *s.within_previous;
    }
    return state;
  }

  uint32_t StageOf(const Stage<Event>& s) const {
    return s.is_group() ? kNoStage : IndexOf(s.name);
  }

  void Add(uint32_t from, Action action, uint32_t to, ConditionPtr<Event> c) {
    states_[from].transitions.push_back({action, to, std::move(c)});
  }

  uint32_t StopState(const ConditionPtr<Event>& not_condition,
                     const std::string& name) {
    auto it = stop_states_.find(name);
    if (it != stop_states_.end()) return it->second;
    uint32_t stop = NewState(name, IndexOf(name), StateType::kStop);
    Add(stop, Action::kTake, stop, not_condition);
    stop_states_[name] = stop;
    return stop;
  }

  // ---- conditions ---------------------------------------------------------

  ConditionPtr<Event> Not(ConditionPtr<Event> c) {
    auto expr = std::make_shared<ConditionExpr<Event>>();
    expr->op = ConditionExpr<Event>::Op::kNot;
    expr->lhs = std::move(c);
    return expr;
  }
  ConditionPtr<Event> And(ConditionPtr<Event> a, ConditionPtr<Event> b) {
    auto expr = std::make_shared<ConditionExpr<Event>>();
    expr->op = ConditionExpr<Event>::Op::kAnd;
    expr->lhs = std::move(a);
    expr->rhs = std::move(b);
    return expr;
  }

  ConditionPtr<Event> RawCondition(const Stage<Event>& s) {
    return s.condition != nullptr ? s.condition : true_;
  }

  // `condition` restricted by an until condition: the until event can be
  // neither taken nor ignored. nullptr stands for "no such transition".
  ConditionPtr<Event> ExtendWithUntil(ConditionPtr<Event> condition,
                                      const ConditionPtr<Event>& until,
                                      bool is_take) {
    if (until != nullptr && condition != nullptr) {
      return And(Not(until), std::move(condition));
    }
    if (until != nullptr && is_take) return Not(until);
    return condition;
  }

  const ConditionPtr<Event>& GroupUntil() const {
    static const ConditionPtr<Event> kNone;
    return group_ != nullptr ? group_->until : kNone;
  }

  ConditionPtr<Event> TakeCondition(const Stage<Event>& s) {
    return ExtendWithUntil(RawCondition(s), GroupUntil(), true);
  }
  ConditionPtr<Event> TrueCondition() {
    return ExtendWithUntil(true_, GroupUntil(), true);
  }

  ConditionPtr<Event> IgnoreFor(Contiguity strategy, const Stage<Event>& s) {
    ConditionPtr<Event> ignore;
    switch (strategy) {
      case Contiguity::kRelaxed:
        ignore = Not(RawCondition(s));
        break;
      case Contiguity::kNonDeterministicRelaxed:
        ignore = true_;
        break;
      default:
        break;
    }
    return ExtendWithUntil(std::move(ignore), GroupUntil(), false);
  }

  ConditionPtr<Event> IgnoreCondition(const Ref& r) {
    Contiguity strategy = r.stage().contiguity;
    if (HeadOfGroup(r)) {
      strategy =
          IsGroupFirstOfLoop() ? group_->contiguity : group_->quantifier.inner;
    }
    return IgnoreFor(strategy, r.stage());
  }

  ConditionPtr<Event> InnerIgnoreCondition(const Ref& r) {
    Contiguity strategy = r.stage().quantifier.inner;
    if (HeadOfGroup(r)) strategy = group_->quantifier.inner;
    return IgnoreFor(strategy, r.stage());
  }

  // ---- groups -------------------------------------------------------------

  bool HeadOfGroup(const Ref& r) const {
    return group_ != nullptr && r.index == 0;
  }

  bool IsGroupFirstOfLoop() const {
    auto it = first_of_loop_.find(group_);
    return it == first_of_loop_.end() ? true : it->second;
  }

  void SetGroupFirstOfLoop(bool value) {
    if (cur_.stage().is_group()) first_of_loop_[&cur_.stage()] = value;
  }

  // The first stage of an optional group, in the group's first iteration:
  // like an optional stage it waits in a separate ignore state.
  bool IsHeadOfOptionalGroup(const Ref& r) const {
    return HeadOfGroup(r) && IsGroupFirstOfLoop() &&
           group_->quantifier.optional;
  }

  // ---- NOT stages ---------------------------------------------------------

  // NotFollowedBy stages reachable backwards from the current stage through
  // optional stages: their stop edges apply to the current stage too.
  std::vector<std::pair<ConditionPtr<Event>, std::string>> CurrentNots() {
    std::vector<std::pair<ConditionPtr<Event>, std::string>> nots;
    Ref r = cur_;
    while (r.has_previous() &&
           (r.previous().stage().quantifier.optional ||
            r.previous().stage().contiguity == Contiguity::kNotFollowedBy)) {
      r = r.previous();
      if (r.stage().contiguity == Contiguity::kNotFollowedBy) {
        nots.emplace_back(TakeCondition(r.stage()), r.stage().name);
      }
    }
    return nots;
  }

  void AddStopStates(uint32_t state) {
    for (auto& [condition, name] : CurrentNots()) {
      Add(state, Action::kProceed, StopState(condition, name), condition);
    }
  }

  void AddStopStateToLooping(uint32_t state) {
    if (following_.valid() &&
        following_.stage().contiguity == Contiguity::kNotFollowedBy) {
      ConditionPtr<Event> c = TakeCondition(following_.stage());
      Add(state, Action::kProceed, StopState(c, following_.stage().name), c);
    }
  }

  // Taking an event of an optional stage ends the NotFollowedBy stages before
  // it: the TAKE leads to a copy of the sink without their stop edges.
  uint32_t CopyWithoutTransitiveNots(uint32_t sink) {
    // Past the limit the pattern is refused: stop copying, so that building
    // it grows no further than its estimate.
    if (too_many_states_) return sink;
    auto nots = CurrentNots();
    if (nots.empty() || !cur_.stage().quantifier.optional) return sink;
    std::vector<uint32_t> stops;
    for (const auto& entry : nots) {
      // A NOT stage whose stop state is not built yet has no edge to drop.
      auto stop = stop_states_.find(entry.second);
      if (stop != stop_states_.end()) stops.push_back(stop->second);
    }
    absl::flat_hash_map<uint32_t, uint32_t> copies;
    return CopyWithoutStops(sink, stops, copies);
  }

  // Copies `state` and, through PROCEED edges, the states it proceeds to,
  // dropping PROCEED edges into `stops`. `copies` maps each state copied so
  // far to its copy, so that shared targets are copied once and a cycle of
  // PROCEED edges (a looping group) is copied as a cycle.
  uint32_t CopyWithoutStops(uint32_t state, const std::vector<uint32_t>& stops,
                            absl::flat_hash_map<uint32_t, uint32_t>& copies) {
    if (auto it = copies.find(state); it != copies.end()) return it->second;
    BuildState original = states_[state];
    uint32_t copy = NewState(original.name, original.stage, original.type);
    copies[state] = copy;
    for (const PendingTransition& t : original.transitions) {
      if (t.action != Action::kProceed) {
        Add(copy, t.action, t.target == state ? copy : t.target, t.condition);
      } else if (states_[t.target].type != StateType::kStop) {
        Add(copy, t.action, CopyWithoutStops(t.target, stops, copies),
            t.condition);
      } else if (std::find(stops.begin(), stops.end(), t.target) ==
                 stops.end()) {
        Add(copy, t.action, t.target, t.condition);
      }
    }
    return copy;
  }

  uint32_t CopyState(uint32_t state) {
    BuildState original = states_[state];
    uint32_t copy = NewState(original.name.substr(0, original.name.find(':')),
                             original.stage, original.type);
    for (const PendingTransition& t : original.transitions) {
      Add(copy, t.action, t.target == state ? copy : t.target, t.condition);
    }
    return copy;
  }

  // The copy of `state` taken before a greedy loop with Until restricted its
  // transitions; `state` itself when no greedy loop restricted it (for
  // instance when the loop's sink was a copy without transitive NOTs).
  uint32_t OriginalOf(uint32_t state) const {
    auto it = original_of_.find(state);
    return it == original_of_.end() ? state : it->second;
  }

  void UpdateWithGreedyCondition(uint32_t state,
                                 const ConditionPtr<Event>& take) {
    for (PendingTransition& t : states_[state].transitions) {
      t.condition = And(t.condition, Not(take));
    }
  }

  // ---- conversion (last stage to first) -----------------------------------

  uint32_t CreateMiddleStates(uint32_t sink) {
    uint32_t last = sink;
    while (cur_.has_previous()) {
      const Stage<Event>& s = cur_.stage();
      if (s.contiguity == Contiguity::kNotFollowedBy) {
        if (states_[last].type == StateType::kFinal) {
          last = CreatePendingState(s);
        }
        // Otherwise it becomes stop edges on the states around it.
      } else if (s.contiguity == Contiguity::kNotNext) {
        uint32_t not_next = NewTakeState(StateType::kNormal);
        ConditionPtr<Event> c = TakeCondition(s);
        uint32_t stop = StopState(c, s.name);
        Add(not_next,
            states_[last].type == StateType::kFinal ? Action::kIgnore
                                                    : Action::kProceed,
            last, Not(c));
        Add(not_next, Action::kProceed, stop, c);
        last = not_next;
      } else {
        last = ConvertPattern(last);
      }
      following_ = cur_;
      cur_ = cur_.previous();
    }
    return last;
  }

  // A trailing NotFollowedBy: wait, ignoring non-matching events, until the
  // window passes (a match) or a matching event arrives (discarded).
  uint32_t CreatePendingState(const Stage<Event>& s) {
    uint32_t pending = NewTakeState(StateType::kPending);
    ConditionPtr<Event> c = TakeCondition(s);
    Add(pending, Action::kProceed, StopState(c, s.name), c);
    Add(pending, Action::kIgnore, pending, Not(c));
    return pending;
  }

  uint32_t ConvertPattern(uint32_t sink) {
    const Stage<Event>& s = cur_.stage();
    uint32_t last;
    if (s.quantifier.kind == Quantifier::Kind::kLooping) {
      SetGroupFirstOfLoop(false);
      uint32_t looping = CreateLooping(CopyWithoutTransitiveNots(sink));
      SetGroupFirstOfLoop(true);
      last =
          CreateTimesState(looping, sink, s.quantifier.from, s.quantifier.from);
    } else if (s.quantifier.kind == Quantifier::Kind::kTimes) {
      last = CreateTimesState(sink, sink, s.quantifier.from, s.quantifier.to);
    } else {
      last = CreateSingletonState(sink, sink, TakeCondition(s),
                                  IgnoreCondition(cur_), s.quantifier.optional);
    }
    AddStopStates(last);
    return last;
  }

  uint32_t CreateTimesState(uint32_t sink, uint32_t proceed, int from, int to) {
    const Stage<Event>& s = cur_.stage();
    uint32_t last = sink;
    SetGroupFirstOfLoop(false);
    ConditionPtr<Event> inner_ignore =
        ExtendWithUntil(InnerIgnoreCondition(cur_), s.until, false);
    ConditionPtr<Event> take = ExtendWithUntil(TakeCondition(s), s.until, true);
    if (s.quantifier.greedy && from != to) {
      if (s.until != nullptr) original_of_[sink] = CopyState(sink);
      UpdateWithGreedyCondition(sink, take);
    }
    for (int i = from; i < to; ++i) {
      last = CreateSingletonState(last, proceed, take, inner_ignore, true);
      AddStopStateToLooping(last);
    }
    for (int i = 0; i < from - 1; ++i) {
      last = CreateSingletonState(last, kNoState, take, inner_ignore, false);
      AddStopStateToLooping(last);
    }
    SetGroupFirstOfLoop(true);
    return CreateSingletonState(last, proceed, take, IgnoreCondition(cur_),
                                s.quantifier.optional);
  }

  uint32_t CreateSingletonState(uint32_t sink, uint32_t proceed,
                                ConditionPtr<Event> take,
                                ConditionPtr<Event> ignore, bool optional) {
    const Stage<Event>& s = cur_.stage();
    if (s.is_group()) return CreateGroupState(sink, proceed, optional);
    uint32_t single = NewTakeState(StateType::kNormal);
    uint32_t take_target = CopyWithoutTransitiveNots(sink);
    Add(single, Action::kTake, take_target, take);
    ConditionPtr<Event> proceed_condition = TrueCondition();
    if (optional) {
      if (s.quantifier.greedy) {
        if (s.until != nullptr) {
          Add(single, Action::kProceed, OriginalOf(proceed),
              And(proceed_condition, s.until));
        }
        Add(single, Action::kProceed, proceed,
            s.until != nullptr ? And(proceed_condition, Not(s.until))
                               : proceed_condition);
      } else {
        Add(single, Action::kProceed, proceed, proceed_condition);
      }
    }
    if (ignore != nullptr) {
      uint32_t ignore_state = single;
      if (optional || IsHeadOfOptionalGroup(cur_)) {
        // A separate state without the PROCEED edge, so skipping the
        // optional stage branches only once.
        ignore_state = NewState(s.name, StageOf(s), StateType::kNormal);
        Add(ignore_state, Action::kTake, take_target, take);
        Add(ignore_state, Action::kIgnore, ignore_state, ignore);
        AddStopStates(ignore_state);
      }
      Add(single, Action::kIgnore, ignore_state, ignore);
    }
    return single;
  }

  uint32_t CreateLooping(uint32_t sink) {
    const Stage<Event>& s = cur_.stage();
    if (s.is_group()) return CreateLoopingGroupState(sink);
    ConditionPtr<Event> ignore =
        ExtendWithUntil(InnerIgnoreCondition(cur_), s.until, false);
    ConditionPtr<Event> take = ExtendWithUntil(TakeCondition(s), s.until, true);
    ConditionPtr<Event> proceed_condition = TrueCondition();
    uint32_t looping = NewTakeState(StateType::kNormal);
    if (s.quantifier.greedy) {
      if (s.until != nullptr) {
        uint32_t copy = CopyState(sink);
        Add(looping, Action::kProceed, copy, And(proceed_condition, s.until));
        original_of_[sink] = copy;
      }
      Add(looping, Action::kProceed, sink,
          s.until != nullptr ? And(proceed_condition, Not(s.until))
                             : proceed_condition);
      UpdateWithGreedyCondition(sink, TakeCondition(s));
    } else {
      Add(looping, Action::kProceed, sink, proceed_condition);
    }
    Add(looping, Action::kTake, looping, take);
    AddStopStateToLooping(looping);
    if (ignore != nullptr) {
      uint32_t ignore_state = NewState(s.name, StageOf(s), StateType::kNormal);
      Add(ignore_state, Action::kTake, looping, take);
      Add(ignore_state, Action::kIgnore, ignore_state, ignore);
      Add(looping, Action::kIgnore, ignore_state, ignore);
      AddStopStateToLooping(ignore_state);
    }
    return looping;
  }

  // Converts the group's stages (last to first) in front of `sink`.
  uint32_t ConvertGroupStages(uint32_t sink) {
    const Stage<Event>& g = cur_.stage();
    group_ = &g;
    cur_ = Ref{&g.group, static_cast<int>(g.group.size()) - 1};
    // following_ stays the stage after the group, as in FlinkCEP: a
    // NotFollowedBy right after the group puts its stop edges on the loop
    // states of the group's last stage.
    uint32_t last = CreateMiddleStates(sink);
    return ConvertPattern(last);
  }

  uint32_t CreateGroupState(uint32_t sink, uint32_t proceed, bool optional) {
    ConditionPtr<Event> proceed_condition = TrueCondition();
    Ref saved_cur = cur_, saved_following = following_;
    const Stage<Event>* saved_group = group_;
    uint32_t last = ConvertGroupStages(sink);
    if (optional) Add(last, Action::kProceed, proceed, proceed_condition);
    cur_ = saved_cur;
    following_ = saved_following;
    group_ = saved_group;
    return last;
  }

  uint32_t CreateLoopingGroupState(uint32_t sink) {
    ConditionPtr<Event> proceed_condition = TrueCondition();
    Ref saved_cur = cur_, saved_following = following_;
    const Stage<Event>* saved_group = group_;
    uint32_t loop_back =
        NewState(cur_.stage().name, kNoStage, StateType::kNormal);
    uint32_t last = ConvertGroupStages(loop_back);
    Add(last, Action::kProceed, sink, proceed_condition);
    Add(loop_back, Action::kProceed, last, proceed_condition);
    cur_ = saved_cur;
    following_ = saved_following;
    group_ = saved_group;
    return last;
  }

  // ---- output -------------------------------------------------------------

  ConditionIndex Flatten(const ConditionPtr<Event>& c) {
    auto it = flattened_.find(c.get());
    if (it != flattened_.end()) return it->second;
    ConditionNode node;
    using Op = typename ConditionExpr<Event>::Op;
    switch (c->op) {
      case Op::kTrue:
        node.op = ConditionNode::Op::kTrue;
        break;
      case Op::kUser:
        node.op = ConditionNode::Op::kUser;
        node.a = UserIndex(c->user);
        break;
      case Op::kNot:
        node.op = ConditionNode::Op::kNot;
        node.a = Flatten(c->lhs);
        break;
      case Op::kAnd:
      case Op::kOr:
        node.op = c->op == Op::kAnd ? ConditionNode::Op::kAnd
                                    : ConditionNode::Op::kOr;
        node.a = Flatten(c->lhs);
        node.b = Flatten(c->rhs);
        break;
    }
    nfa_.conditions_.push_back(node);
    ConditionIndex index =
        static_cast<ConditionIndex>(nfa_.conditions_.size() - 1);
    flattened_[c.get()] = index;
    return index;
  }

  int32_t UserIndex(const std::shared_ptr<const UserCondition<Event>>& user) {
    auto& users = nfa_.user_conditions_;
    auto [it, added] =
        user_index_.emplace(user.get(), static_cast<int32_t>(users.size()));
    if (added) users.push_back(user);
    return it->second;
  }

  // A cycle of PROCEED transitions would let the evaluator loop forever on
  // one event: a looping group whose stages are all optional.
  absl::Status CheckNoProceedCycle() const {
    std::vector<uint8_t> color(states_.size(), 0);  // 0 new, 1 open, 2 done
    std::vector<std::pair<uint32_t, size_t>> stack;
    for (uint32_t root = 0; root < states_.size(); ++root) {
      if (color[root] != 0) continue;
      color[root] = 1;
      stack.push_back({root, 0});
      while (!stack.empty()) {
        auto& [state, next] = stack.back();
        const auto& transitions = states_[state].transitions;
        if (next == transitions.size()) {
          color[state] = 2;
          stack.pop_back();
          continue;
        }
        const PendingTransition& t = transitions[next++];
        if (t.action != Action::kProceed || color[t.target] == 2) continue;
        if (color[t.target] == 1) {
          const std::string& name = states_[t.target].name;
          return absl::InvalidArgumentError(absl::StrCat(
              "stage '", name.substr(0, name.find(':')),
              "': a looping group needs a stage that is not optional (it "
              "could repeat without taking an event)"));
        }
        color[t.target] = 1;
        stack.push_back({t.target, 0});
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<Nfa<Event>> Finish() {
    if (absl::Status s = CheckNoProceedCycle(); !s.ok()) return s;
    nfa_.window_ = window_;
    // Index 0 is always "true".
    Flatten(true_);
    for (BuildState& b : states_) {
      NfaState state;
      state.name = std::move(b.name);
      state.stage = b.stage;
      state.type = b.type;
      state.window = b.window;
      for (const PendingTransition& t : b.transitions) {
        state.transitions.push_back({t.action, t.target, Flatten(t.condition)});
      }
      nfa_.states_.push_back(std::move(state));
    }
    return std::move(nfa_);
  }

  static constexpr uint32_t kNoState = std::numeric_limits<uint32_t>::max();

  const Pattern<Event>& pattern_;
  Nfa<Event> nfa_;
  Duration window_{0};
  std::vector<BuildState> states_;
  absl::flat_hash_set<std::string> used_names_;
  bool too_many_states_ = false;
  absl::flat_hash_map<std::string, int> next_suffix_;
  absl::flat_hash_map<std::string, uint32_t> stage_index_;
  absl::flat_hash_map<const UserCondition<Event>*, int32_t> user_index_;
  std::map<std::string, uint32_t> stop_states_;
  std::map<uint32_t, uint32_t> original_of_;  // greedy+until sink copies
  std::map<const Stage<Event>*, bool> first_of_loop_;
  std::map<const ConditionExpr<Event>*, ConditionIndex> flattened_;
  std::shared_ptr<ConditionExpr<Event>> true_;
  Ref cur_;
  Ref following_;
  const Stage<Event>* group_ = nullptr;
};

// Compiles `pattern` into an automaton. Returns kInvalidArgument, naming the
// stage, when the pattern is malformed.
template <typename Event>
[[nodiscard]] absl::StatusOr<Nfa<Event>> CompilePattern(
    const Pattern<Event>& pattern) {
  return NfaCompiler<Event>(pattern).Compile();
}

}  // namespace cep
