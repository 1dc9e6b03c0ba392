// cep/internal/nfa_walk.hpp — the two walks over an Nfa's transitions that
// both evaluators make on each event: which TAKE / IGNORE transitions fire
// from a state (after following PROCEED transitions whose condition holds),
// and whether PROCEED transitions reach the final state. One implementation,
// so that the per-run Evaluator and the SharedRunsEvaluator, whose outputs
// must be identical, visit transitions in the same order.
//
// Example:
//   internal::NfaWalk<Ev> walk(nfa);
//   walk.CollectFiredEdges(state, from_start, [&](ConditionIndex c) {...});
//   for (const internal::FiredEdge& e : walk.fired()) { ... }
#pragma once

#include <cstdint>
#include <vector>

#include "cep/nfa.hpp"

namespace cep::internal {

// A transition that fired, with the state it leaves from.
struct FiredEdge {
  const Transition* transition;
  uint32_t source;
};

// Keeps its scratch buffers between calls, so steady-state walks do not
// allocate. The Nfa must outlive it. Not thread-safe.
template <typename Event>
class NfaWalk {
 public:
  explicit NfaWalk(const Nfa<Event>& nfa) : nfa_(nfa) {}

  // Follows PROCEED transitions from `from` whose condition holds (an
  // epsilon closure on this event) and collects, into fired(), the TAKE and
  // IGNORE transitions that fire, in depth-first order. `holds(condition)`
  // evaluates a condition on the current event.
  template <typename Holds>
  void CollectFiredEdges(uint32_t from, bool from_start, Holds&& holds) {
    fired_.clear();
    stack_.clear();
    stack_.push_back(from);
    while (!stack_.empty()) {
      uint32_t s = stack_.back();
      stack_.pop_back();
      for (const Transition& t : nfa_.states()[s].transitions) {
        // The start computation never ignores, and a self-IGNORE does not
        // count as a branch: no need to evaluate it.
        if (from_start && t.action == Action::kIgnore && t.target == from) {
          continue;
        }
        if (!holds(t.condition)) continue;
        if (t.action == Action::kProceed) {
          stack_.push_back(t.target);
        } else {
          fired_.push_back({&t, s});
        }
      }
    }
  }

  // The edges the last CollectFiredEdges found; valid until the next call.
  const std::vector<FiredEdge>& fired() const { return fired_; }

  // Whether PROCEED transitions whose condition holds lead from `state` to
  // the final state on this event (a pattern ending in an optional or
  // looping stage); that state is then final_state().
  template <typename Holds>
  bool ReachesFinalByProceed(uint32_t state, Holds&& holds) {
    proceed_stack_.clear();
    proceed_stack_.push_back(state);
    while (!proceed_stack_.empty()) {
      uint32_t s = proceed_stack_.back();
      proceed_stack_.pop_back();
      for (const Transition& t : nfa_.states()[s].transitions) {
        if (t.action != Action::kProceed || !holds(t.condition)) continue;
        if (nfa_.states()[t.target].type == StateType::kFinal) {
          final_state_ = t.target;
          return true;
        }
        proceed_stack_.push_back(t.target);
      }
    }
    return false;
  }

  uint32_t final_state() const { return final_state_; }

 private:
  const Nfa<Event>& nfa_;
  std::vector<FiredEdge> fired_;
  std::vector<uint32_t> stack_;
  std::vector<uint32_t> proceed_stack_;
  uint32_t final_state_ = 0;
};

}  // namespace cep::internal
