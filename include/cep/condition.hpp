// cep/condition.hpp — the conditions a pattern stage tests events with.
//
// A condition is a callable. A simple condition looks at the event alone:
//   [](const Txn& t) { return t.amount < 2.0; }
// An iterative condition also sees the partial match it would extend, through
// a Context: the events already matched per stage, incremental aggregates over
// a stage, and the current event's timestamp:
//   [](const Txn& t, const cep::Context<Txn>& ctx) {
//     return t.amount > 10 * ctx.Aggregate(probe_sum).max;
//   }
// Simple conditions are evaluated at most once per event, however many
// partial matches test them; iterative ones once per partial match.
//
// Conditions combine inside Pattern (pattern.hpp): Where() ANDs, Or() ORs.
// A condition that throws does not crash the engine: the evaluation counts as
// false and the event's processing returns kUnknown naming the stage.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "cep/time.hpp"

namespace cep {

// Names an incremental aggregate declared with Pattern::Aggregate().
struct AggregateId {
  uint32_t index = 0;
};

// The running aggregate of one value over the events a partial match has
// taken into one stage so far. Updated in O(1) per taken event and stored on
// the partial match, so conditions never rescan events.
struct AggregateValue {
  int64_t count = 0;
  double sum = 0;
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  double first = 0;
  double last = 0;

  bool empty() const { return count == 0; }
  // Mean of the values; 0 when empty.
  double avg() const {
    return count == 0 ? 0 : sum / static_cast<double>(count);
  }

  void Add(double value) {
    if (count == 0) first = value;
    ++count;
    sum += value;
    if (value < min) min = value;
    if (value > max) max = value;
    last = value;
  }

  friend bool operator==(const AggregateValue&,
                         const AggregateValue&) = default;
};

// What an iterative condition sees besides the event. Valid only during the
// condition call; do not keep references past it.
template <typename Event>
class Context {
 public:
  virtual ~Context() = default;

  // Events already taken into `stage` by the partial match being extended,
  // in arrival order; the event under test is not included. Empty for an
  // unknown stage. The first call per partial match and event walks the
  // shared buffer (O(length of the match)); later calls reuse the result.
  virtual std::span<const Event* const> EventsFor(
      std::string_view stage) const = 0;

  // First / last event of `stage` in the partial match, or nullptr.
  const Event* FirstEvent(std::string_view stage) const {
    auto events = EventsFor(stage);
    return events.empty() ? nullptr : events.front();
  }
  const Event* LastEvent(std::string_view stage) const {
    auto events = EventsFor(stage);
    return events.empty() ? nullptr : events.back();
  }

  // The incremental aggregate `id` of the partial match: O(1).
  virtual const AggregateValue& Aggregate(AggregateId id) const = 0;

  // Timestamp of the event under test.
  virtual Timestamp timestamp() const = 0;
};

// One user-supplied condition, normalised to the iterative signature.
template <typename Event>
struct UserCondition {
  // Exactly one of the two is set.
  std::function<bool(const Event&)> simple;
  std::function<bool(const Event&, const Context<Event>&)> iterative;
  // Shown by explain and in error messages, e.g. "where #1 of stage 'probe'".
  std::string description;
};

// A boolean expression over user conditions, as Where/Or/Until build it.
template <typename Event>
struct ConditionExpr {
  enum class Op : uint8_t { kUser, kAnd, kOr, kNot, kTrue };
  Op op = Op::kUser;
  std::shared_ptr<const UserCondition<Event>> user;  // kUser
  std::shared_ptr<const ConditionExpr> lhs;          // kAnd, kOr, kNot
  // kTrue holds for every event (the compiler's "no condition").
  std::shared_ptr<const ConditionExpr> rhs;  // kAnd, kOr
};

template <typename Event>
using ConditionPtr = std::shared_ptr<const ConditionExpr<Event>>;

namespace internal {

template <typename Event, typename F>
constexpr bool kIsIterative =
    std::is_invocable_r_v<bool, F, const Event&, const Context<Event>&>;

template <typename Event, typename F>
constexpr bool kIsSimple = std::is_invocable_r_v<bool, F, const Event&>;

}  // namespace internal

// Wraps a callable (simple or iterative) into a condition expression.
template <typename Event, typename F>
ConditionPtr<Event> MakeCondition(F&& fn, std::string description) {
  static_assert(
      internal::kIsIterative<Event, F> || internal::kIsSimple<Event, F>,
      "a condition is bool(const Event&) or "
      "bool(const Event&, const cep::Context<Event>&)");
  auto user = std::make_shared<UserCondition<Event>>();
  if constexpr (internal::kIsIterative<Event, F>) {
    user->iterative = std::forward<F>(fn);
  } else {
    user->simple = std::forward<F>(fn);
  }
  user->description = std::move(description);
  auto expr = std::make_shared<ConditionExpr<Event>>();
  expr->user = std::move(user);
  return expr;
}

template <typename Event>
ConditionPtr<Event> AndCondition(ConditionPtr<Event> a, ConditionPtr<Event> b) {
  if (a == nullptr) return b;
  if (b == nullptr) return a;
  auto expr = std::make_shared<ConditionExpr<Event>>();
  expr->op = ConditionExpr<Event>::Op::kAnd;
  expr->lhs = std::move(a);
  expr->rhs = std::move(b);
  return expr;
}

template <typename Event>
ConditionPtr<Event> OrCondition(ConditionPtr<Event> a, ConditionPtr<Event> b) {
  // As FlinkCEP: Or() on a stage without a condition sets it.
  if (a == nullptr) return b;
  if (b == nullptr) return a;
  auto expr = std::make_shared<ConditionExpr<Event>>();
  expr->op = ConditionExpr<Event>::Op::kOr;
  expr->lhs = std::move(a);
  expr->rhs = std::move(b);
  return expr;
}

}  // namespace cep
