// cep/pattern.hpp — the Pattern<Event> builder: FlinkCEP's Pattern API in C++.
//
// A pattern is a sequence of named stages. Each stage says how its events
// relate to the previous stage's (Next: strictly the next event; FollowedBy:
// skip non-matching events; FollowedByAny: skip any events, branching;
// NotNext / NotFollowedBy: the negated event must not occur), which events it
// takes (Where / Or / Subtype), and how many (OneOrMore, Times, TimesOrMore,
// Optional, with Greedy / Consecutive / AllowCombinations / Until). A whole
// Pattern can be a stage (a group) so quantifiers apply to a sub-sequence.
// Within() bounds the time from the first to the last event.
//
// Builder calls never fail on the spot: the first misuse is recorded and
// returned by status() and by CompilePattern() (compiler.hpp), naming the
// stage. Semantics are FlinkCEP's (see the README for the differences).
//
// Example:
//   using P = cep::Pattern<Txn>;
//   P p = P::Begin("probe", cep::AfterMatchSkip::SkipPastLastEvent())
//             .Where([](const Txn& t) { return t.amount <= 2.0; })
//             .TimesOrMore(3)
//             .Consecutive()
//             .FollowedBy("cashout")
//             .Where([](const Txn& t) { return t.amount >= 500; })
//             .Within(std::chrono::minutes(10));
//   absl::StatusOr<cep::Nfa<Txn>> nfa = cep::CompilePattern(p);
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

#include "cep/condition.hpp"
#include "cep/time.hpp"

namespace cep {

// How a stage's first event relates to the previous stage's last event
// (FlinkCEP's ConsumingStrategy), and for quantified stages how repetitions
// relate to each other.
enum class Contiguity : uint8_t {
  kStrict,                   // Next / Consecutive: no event in between
  kRelaxed,                  // FollowedBy: skip events that do not match
  kNonDeterministicRelaxed,  // FollowedByAny / AllowCombinations: skip any
  kNotNext,                  // NotNext: the next event must not match
  kNotFollowedBy,            // NotFollowedBy: no matching event in between
};

// Which events a window measures between.
enum class WithinType : uint8_t {
  kFirstAndLast,        // first event of the match to the current event
  kPreviousAndCurrent,  // previous stage's last event to this stage's event
};

// What happens to other partial matches after a match is emitted.
class AfterMatchSkip {
 public:
  enum class Kind : uint8_t {
    kNoSkip,
    kSkipToNext,
    kSkipPastLastEvent,
    kSkipToFirst,
    kSkipToLast,
  };

  // Every match is emitted; nothing is discarded.
  static AfterMatchSkip NoSkip() { return AfterMatchSkip(Kind::kNoSkip, ""); }
  // Discards partial matches that started with the match's first event.
  static AfterMatchSkip SkipToNext() {
    return AfterMatchSkip(Kind::kSkipToNext, "");
  }
  // Discards partial matches that started at or before the match's last event.
  static AfterMatchSkip SkipPastLastEvent() {
    return AfterMatchSkip(Kind::kSkipPastLastEvent, "");
  }
  // Discards partial matches that started before the first event of `stage`.
  static AfterMatchSkip SkipToFirst(std::string stage) {
    return AfterMatchSkip(Kind::kSkipToFirst, std::move(stage));
  }
  // Discards partial matches that started before the last event of `stage`.
  static AfterMatchSkip SkipToLast(std::string stage) {
    return AfterMatchSkip(Kind::kSkipToLast, std::move(stage));
  }

  Kind kind() const { return kind_; }
  // The stage of SkipToFirst / SkipToLast; empty otherwise.
  const std::string& stage() const { return stage_; }

 private:
  AfterMatchSkip(Kind kind, std::string stage)
      : kind_(kind), stage_(std::move(stage)) {}
  Kind kind_;
  std::string stage_;
};

// How many events a stage takes.
struct Quantifier {
  enum class Kind : uint8_t { kSingle, kTimes, kLooping };
  Kind kind = Kind::kSingle;
  // kTimes: between `from` and `to` events. kLooping: at least `from`.
  int from = 1;
  int to = 1;
  bool optional = false;
  bool greedy = false;
  // Between repetitions: kStrict (Consecutive), kRelaxed (the default) or
  // kNonDeterministicRelaxed (AllowCombinations).
  Contiguity inner = Contiguity::kRelaxed;
};

// The largest count Times / TimesOrMore accept: a count of n builds about
// 2n automaton states, so larger counts would make compilation and memory
// grow without bound. The compiler also bounds the automaton as a whole
// (kMaxNfaStates in compiler.hpp), since group quantifiers multiply.
inline constexpr int kMaxQuantifierCount = 10000;

// One stage of a pattern: a named event (or a group of stages) with its
// contiguity, condition, quantifier and windows. Read by the compiler.
template <typename Event>
struct Stage {
  std::string name;
  Contiguity contiguity = Contiguity::kStrict;
  Quantifier quantifier;
  ConditionPtr<Event> condition;            // nullptr: every event matches
  ConditionPtr<Event> until;                // looping stages only
  std::vector<Stage> group;                 // non-empty: a group pattern
  std::optional<Duration> within;           // kFirstAndLast
  std::optional<Duration> within_previous;  // kPreviousAndCurrent
  int condition_count = 0;                  // numbers conditions for messages

  bool is_group() const { return !group.empty(); }
  bool is_not() const {
    return contiguity == Contiguity::kNotNext ||
           contiguity == Contiguity::kNotFollowedBy;
  }
};

// An incremental aggregate: `value` of each event taken into `stage`.
template <typename Event>
struct AggregateDef {
  std::string stage;
  std::function<double(const Event&)> value;
};

namespace internal {

template <typename T>
struct IsVariant : std::false_type {};
template <typename... Ts>
struct IsVariant<std::variant<Ts...>> : std::true_type {};

template <typename T>
struct PointerTraits {
  static constexpr bool kIsPointer = false;
};
template <typename T>
struct PointerTraits<std::shared_ptr<T>> {
  static constexpr bool kIsPointer = true;
  using Pointee = T;
};
template <typename T>
struct PointerTraits<std::unique_ptr<T>> {
  static constexpr bool kIsPointer = true;
  using Pointee = T;
};
template <typename T>
struct PointerTraits<T*> {
  static constexpr bool kIsPointer = true;
  using Pointee = T;
};

}  // namespace internal

// The builder. Methods apply to the last stage added, return *this, and can
// be chained; Begin() starts a pattern.
template <typename Event>
class Pattern {
 public:
  // An empty pattern; add stages starting with Begin().
  Pattern() = default;

  // Starts a pattern whose first stage is `name`. `skip` decides what
  // happens to overlapping partial matches after a match.
  static Pattern Begin(std::string name,
                       AfterMatchSkip skip = AfterMatchSkip::NoSkip()) {
    Pattern p;
    p.skip_ = std::move(skip);
    p.AddStage(std::move(name), Contiguity::kStrict, "Begin");
    return p;
  }
  // Starts a pattern whose first stage is the group `group`.
  static Pattern Begin(const Pattern& group,
                       AfterMatchSkip skip = AfterMatchSkip::NoSkip()) {
    Pattern p;
    p.skip_ = std::move(skip);
    p.AddGroup(group, Contiguity::kStrict, "Begin");
    return p;
  }

  // Adds a stage whose first event must directly follow the previous
  // stage's last event.
  Pattern& Next(std::string name) {
    return AddStage(std::move(name), Contiguity::kStrict, "Next");
  }
  Pattern& Next(const Pattern& group) {
    return AddGroup(group, Contiguity::kStrict, "Next");
  }
  // Adds a stage taking the first matching event after the previous stage.
  Pattern& FollowedBy(std::string name) {
    return AddStage(std::move(name), Contiguity::kRelaxed, "FollowedBy");
  }
  Pattern& FollowedBy(const Pattern& group) {
    return AddGroup(group, Contiguity::kRelaxed, "FollowedBy");
  }
  // Adds a stage taking any later matching event (each one branches).
  Pattern& FollowedByAny(std::string name) {
    return AddStage(std::move(name), Contiguity::kNonDeterministicRelaxed,
                    "FollowedByAny");
  }
  Pattern& FollowedByAny(const Pattern& group) {
    return AddGroup(group, Contiguity::kNonDeterministicRelaxed,
                    "FollowedByAny");
  }
  // Adds a NOT stage: the event right after the previous stage must not
  // match its condition.
  Pattern& NotNext(std::string name) {
    CheckNotAfterOptional(name);
    return AddStage(std::move(name), Contiguity::kNotNext, "NotNext");
  }
  // Adds a NOT stage: no matching event may occur between the previous and
  // the next stage. As the last stage it needs Within(); the match is then
  // released when the window passes without such an event.
  Pattern& NotFollowedBy(std::string name) {
    CheckNotAfterOptional(name);
    return AddStage(std::move(name), Contiguity::kNotFollowedBy,
                    "NotFollowedBy");
  }

  // ANDs `condition` (bool(const Event&) or
  // bool(const Event&, const Context<Event>&)) to the stage's condition.
  // `description` is what explain and error messages show for it (a pattern
  // file passes the condition's source text); empty: "condition #N of stage
  // 'NAME'".
  template <typename F>
  Pattern& Where(F&& condition, std::string description = {}) {
    if (Stage<Event>* s = ConditionTarget("Where")) {
      std::string name = ConditionName(*s);
      s->condition = AndCondition(
          s->condition,
          MakeCondition<Event>(
              std::forward<F>(condition),
              description.empty() ? std::move(name) : std::move(description)));
    }
    return *this;
  }
  // ORs `condition` to the stage's condition.
  template <typename F>
  Pattern& Or(F&& condition) {
    if (Stage<Event>* s = ConditionTarget("Or")) {
      s->condition = OrCondition(
          s->condition,
          MakeCondition<Event>(std::forward<F>(condition), ConditionName(*s)));
    }
    return *this;
  }
  // ANDs a type test: the event is a `Sub`. For std::variant events, the
  // variant holds a Sub; for (smart) pointers to a polymorphic base, the
  // pointee is a Sub.
  template <typename Sub>
  Pattern& Subtype() {
    if (Stage<Event>* s = ConditionTarget("Subtype")) {
      s->condition = AndCondition(
          s->condition,
          MakeCondition<Event>(
              [](const Event& e) { return IsA<Sub>(e); },
              absl::StrCat("subtype test of stage '", s->name, "'")));
    }
    return *this;
  }
  // Ends a looping stage at the first event matching `condition`; that
  // event may still be taken by the next stage.
  // `description` as for Where(); empty: "until condition of stage 'NAME'".
  template <typename F>
  Pattern& Until(F&& condition, std::string description = {}) {
    Stage<Event>* s = Last("Until");
    if (s == nullptr) return *this;
    if (s->until != nullptr) {
      return Fail(*s, "only one Until condition can be applied");
    }
    if (s->quantifier.kind != Quantifier::Kind::kLooping) {
      return Fail(*s,
                  "Until applies only to looping stages (OneOrMore, "
                  "TimesOrMore)");
    }
    s->until = MakeCondition<Event>(
        std::forward<F>(condition),
        description.empty()
            ? absl::StrCat("until condition of stage '", s->name, "'")
            : std::move(description));
    return *this;
  }

  // One or more events (Kleene plus). Repetitions skip non-matching events
  // unless Consecutive() or AllowCombinations() says otherwise.
  Pattern& OneOrMore() {
    return SetQuantifier("OneOrMore", Quantifier::Kind::kLooping, 1, 1);
  }
  // Exactly `times` events.
  Pattern& Times(int times) {
    if (times <= 0)
      return FailLast("Times", "Times needs a count greater than 0");
    if (times > kMaxQuantifierCount) return CountTooLarge("Times", times);
    return SetQuantifier("Times", Quantifier::Kind::kTimes, times, times);
  }
  // Between `from` and `to` events; Times(0, n) is Times(1, n).Optional().
  Pattern& Times(int from, int to) {
    if (from < 0 || to <= 0 || to < from) {
      return FailLast("Times",
                      absl::StrCat("Times(", from, ", ", to,
                                   ") needs 0 <= from <= to and to > 0"));
    }
    if (to > kMaxQuantifierCount) return CountTooLarge("Times", to);
    SetQuantifier("Times", Quantifier::Kind::kTimes, from == 0 ? 1 : from, to);
    if (from == 0 && status_.ok()) Optional();
    return *this;
  }
  // At least `times` events; TimesOrMore(0) is OneOrMore().Optional().
  Pattern& TimesOrMore(int times) {
    if (times < 0)
      return FailLast("TimesOrMore", "TimesOrMore needs a count of 0 or more");
    if (times > kMaxQuantifierCount) return CountTooLarge("TimesOrMore", times);
    SetQuantifier("TimesOrMore", Quantifier::Kind::kLooping,
                  times == 0 ? 1 : times, times == 0 ? 1 : times);
    if (times == 0 && status_.ok()) Optional();
    return *this;
  }
  // The stage may be skipped.
  Pattern& Optional() {
    Stage<Event>* s = Last("Optional");
    if (s == nullptr) return *this;
    if (s->is_not()) return Fail(*s, "a NOT stage cannot be Optional");
    if (s->quantifier.optional) return Fail(*s, "Optional is already applied");
    if (stages_.size() >= 2 && stages_[stages_.size() - 2].quantifier.greedy) {
      return Fail(*s, "an Optional stage cannot follow a Greedy stage");
    }
    s->quantifier.optional = true;
    return *this;
  }
  // A looping or ranged stage takes as many events as it can: the next
  // stage does not take an event the loop could take.
  Pattern& Greedy() {
    Stage<Event>* s = Last("Greedy");
    if (s == nullptr) return *this;
    if (s->is_not()) return Fail(*s, "Greedy does not apply to a NOT stage");
    if (s->is_group()) return Fail(*s, "Greedy does not apply to a group");
    if (s->quantifier.inner == Contiguity::kNonDeterministicRelaxed) {
      // FlinkCEP's order: greedy().allowCombinations() is accepted, the
      // other order is not.
      return Fail(*s,
                  "Greedy cannot follow AllowCombinations (call Greedy "
                  "first)");
    }
    if (s->quantifier.kind == Quantifier::Kind::kSingle) {
      return Fail(*s,
                  "Greedy needs a quantifier (OneOrMore, Times, TimesOrMore)");
    }
    s->quantifier.greedy = true;
    return *this;
  }
  // Repetitions of a looping/times stage must be contiguous events.
  Pattern& Consecutive() {
    return SetInner("Consecutive", Contiguity::kStrict);
  }
  // Repetitions may skip any events: every combination is a match.
  Pattern& AllowCombinations() {
    return SetInner("AllowCombinations", Contiguity::kNonDeterministicRelaxed);
  }

  // Bounds the pattern: with kFirstAndLast (the default) a match's last
  // event is less than `window` after its first; with kPreviousAndCurrent
  // this stage's first event is less than `window` after the previous one.
  // The smallest kFirstAndLast window of all stages applies.
  Pattern& Within(Duration window,
                  WithinType type = WithinType::kFirstAndLast) {
    Stage<Event>* s = Last("Within");
    if (s == nullptr) return *this;
    if (window <= Duration::zero())
      return Fail(*s, "Within needs a positive duration");
    (type == WithinType::kFirstAndLast ? s->within : s->within_previous) =
        window;
    return *this;
  }

  // Declares an incremental aggregate of `value` over the events taken into
  // `stage`, readable in conditions as ctx.Aggregate(id). Not chainable.
  AggregateId Aggregate(std::string stage,
                        std::function<double(const Event&)> value) {
    aggregates_.push_back({std::move(stage), std::move(value)});
    return AggregateId{static_cast<uint32_t>(aggregates_.size() - 1)};
  }

  // The first builder misuse, or OK.
  const absl::Status& status() const { return status_; }
  const std::vector<Stage<Event>>& stages() const { return stages_; }
  const AfterMatchSkip& skip() const { return skip_; }
  const std::vector<AggregateDef<Event>>& aggregates() const {
    return aggregates_;
  }

  // Tests whether `event` is a `Sub` (see Subtype()).
  template <typename Sub>
  static bool IsA(const Event& event) {
    if constexpr (internal::IsVariant<Event>::value) {
      return std::holds_alternative<Sub>(event);
    } else if constexpr (internal::PointerTraits<Event>::kIsPointer) {
      return dynamic_cast<const Sub*>(&*event) != nullptr;
    } else {
      static_assert(std::is_polymorphic_v<Event>,
                    "Subtype needs a std::variant event or a pointer to a "
                    "polymorphic base");
      return dynamic_cast<const Sub*>(&event) != nullptr;
    }
  }

 private:
  Pattern& AddStage(std::string name, Contiguity contiguity, const char* op) {
    if (name.empty()) {
      return FailMessage(absl::StrCat(op, ": a stage needs a non-empty name"));
    }
    if (!CheckBegun(name, op)) return *this;
    Stage<Event> stage;
    stage.name = std::move(name);
    stage.contiguity = contiguity;
    stages_.push_back(std::move(stage));
    return *this;
  }

  Pattern& AddGroup(const Pattern& group, Contiguity contiguity,
                    const char* op) {
    if (!group.status_.ok()) {
      if (status_.ok()) status_ = group.status_;
      return *this;
    }
    if (group.stages_.empty()) {
      return FailMessage(
          absl::StrCat(op, ": a group needs at least one stage"));
    }
    std::string name = "(";
    for (const Stage<Event>& inner : group.stages_) {
      absl::StrAppend(&name, name.size() > 1 ? " " : "", inner.name);
    }
    name += ")";
    if (!CheckBegun(name, op)) return *this;
    if (!group.aggregates_.empty() && !aggregates_.empty()) {
      // The group's AggregateIds index its own list: they stay valid only
      // when its aggregates come first.
      return FailMessage(absl::StrCat(
          "stage '", name,
          "': a group with aggregates must be added before any other "
          "Aggregate() of the pattern"));
    }
    Stage<Event> stage;
    stage.name = std::move(name);
    stage.contiguity = contiguity;
    stage.group = group.stages_;
    stages_.push_back(std::move(stage));
    for (const AggregateDef<Event>& def : group.aggregates_) {
      aggregates_.push_back(def);
    }
    return *this;
  }

  bool CheckBegun(const std::string& name, const char* op) {
    bool is_begin = std::string_view(op) == "Begin";
    if (stages_.empty() && !is_begin) {
      FailMessage(absl::StrCat("stage '", name,
                               "': a pattern must start with Begin, not ", op));
      return false;
    }
    return true;
  }

  void CheckNotAfterOptional(const std::string& name) {
    if (stages_.empty()) return;
    const Stage<Event>& before = stages_.back();
    if (before.quantifier.optional) {
      FailMessage(absl::StrCat(
          "stage '", name, "': a NOT stage cannot follow the optional stage '",
          before.name,
          "' (not supported, as in FlinkCEP: use two patterns, one with and "
          "one without the optional stage)"));
    } else if (CanMatchNothing(before)) {
      // FlinkCEP accepts this, but which events its NOT stage then applies
      // to depends on unrelated partial matches: refused, like a NOT stage
      // after an optional stage.
      FailMessage(absl::StrCat(
          "stage '", name, "': a NOT stage cannot follow the group '",
          before.name,
          "', which can match no event (all its stages are optional): use "
          "two patterns, one with and one without the group"));
    }
  }

  // Whether `s` can complete without taking an event: it is optional, or a
  // group whose every stage can.
  static bool CanMatchNothing(const Stage<Event>& s) {
    if (s.quantifier.optional) return true;
    if (!s.is_group()) return false;
    for (const Stage<Event>& inner : s.group) {
      if (!inner.is_not() && !CanMatchNothing(inner)) return false;
    }
    return true;
  }

  Stage<Event>* Last(const char* op) {
    if (stages_.empty()) {
      FailMessage(
          absl::StrCat(op, ": the pattern has no stage yet; start with Begin"));
      return nullptr;
    }
    return &stages_.back();
  }

  Stage<Event>* ConditionTarget(const char* op) {
    Stage<Event>* s = Last(op);
    if (s != nullptr && s->is_group()) {
      Fail(*s,
           absl::StrCat(
               op, " does not apply to a group; put conditions on its stages"));
      return nullptr;
    }
    return s;
  }

  static std::string ConditionName(Stage<Event>& s) {
    return absl::StrCat("condition #", ++s.condition_count, " of stage '",
                        s.name, "'");
  }

  Pattern& SetQuantifier(const char* op, Quantifier::Kind kind, int from,
                         int to) {
    Stage<Event>* s = Last(op);
    if (s == nullptr) return *this;
    if (s->is_not())
      return Fail(*s, absl::StrCat(op, " does not apply to a NOT stage"));
    if (s->quantifier.kind != Quantifier::Kind::kSingle) {
      return Fail(*s, absl::StrCat(op, ": a quantifier is already applied"));
    }
    s->quantifier.kind = kind;
    s->quantifier.from = from;
    s->quantifier.to = to;
    return *this;
  }

  Pattern& SetInner(const char* op, Contiguity inner) {
    Stage<Event>* s = Last(op);
    if (s == nullptr) return *this;
    if (s->quantifier.kind == Quantifier::Kind::kSingle) {
      return Fail(
          *s, absl::StrCat(
                  op, " needs a quantifier (OneOrMore, Times, TimesOrMore)"));
    }
    if (s->quantifier.inner == inner) {
      return Fail(*s, absl::StrCat(op, " is already applied"));
    }
    if (s->quantifier.inner != Contiguity::kRelaxed) {
      return Fail(*s,
                  "apply either Consecutive or AllowCombinations, not both");
    }
    s->quantifier.inner = inner;
    return *this;
  }

  Pattern& Fail(const Stage<Event>& s, absl::string_view message) {
    return FailMessage(absl::StrCat("stage '", s.name, "': ", message));
  }
  Pattern& FailLast(const char* op, absl::string_view message) {
    Stage<Event>* s = Last(op);
    return s == nullptr ? *this : Fail(*s, message);
  }
  Pattern& CountTooLarge(const char* op, int count) {
    return FailLast(
        op, absl::StrCat(op, ": the count ", count,
                         " is larger than the limit of ", kMaxQuantifierCount));
  }
  Pattern& FailMessage(std::string message) {
    if (status_.ok()) status_ = absl::InvalidArgumentError(std::move(message));
    return *this;
  }

  std::vector<Stage<Event>> stages_;
  AfterMatchSkip skip_ = AfterMatchSkip::NoSkip();
  std::vector<AggregateDef<Event>> aggregates_;
  absl::Status status_;
};

}  // namespace cep
