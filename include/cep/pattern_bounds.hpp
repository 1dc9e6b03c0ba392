// cep/pattern_bounds.hpp — how many partial matches a pattern can hold per
// key, in the worst case, as a function of n, the key's events in its window:
// constant, polynomial of degree d (1: linear) or exponential, with the
// constructs responsible. `cep check` warns with it and `cep check --bounds`
// prints it.
//
// The analysis reads the compiled Nfa (what the evaluators run) and the
// Pattern (for the stages' words). Conditions are treated as independent
// unknowns: the adversary picks, per event, which user conditions hold, so a
// `followed by` stage (IGNORE = not its condition) waits without branching
// while a `followed by any` stage (IGNORE = true) both takes and skips. From
// each automaton state the successors of one run on one event are computed
// exactly as the evaluators walk the transitions (PROCEED closure, TAKE and
// IGNORE, a NOT stage's stop state discarding the branch), for every
// assignment of the conditions involved. Then, on the strongly connected
// components of the state graph:
//
//   - a component where one run can leave two runs inside it on one event
//     doubles its runs per event: exponential (`any combination`);
//   - a component where one run can stay and also send a run onward on the
//     same event (the start state, a loop, a `followed by any` stage) lets
//     the runs leaving it start at any of the n events: a factor n;
//   - runs accumulate only in components that can hold a run across events
//     (a state with an IGNORE or TAKE back into its component); the degree is
//     the largest number of factors n on a path from the start state to one.
//
// A factor counts only if the runs sent onward can outlive the events that
// let the state send again: after a greedy loop they cannot (the next stage
// refuses every event the loop takes), so `b+ greedy` adds no factor.
//
// This is a worst case: it assumes every condition may hold or not
// independently of the others and that no match completes (an after-match
// skip strategy discards partial matches only when one does). `until` and
// NOT stages end partial matches only when their events come, so they do
// not lower it; a window does (n counts the events in it), and without one
// partial matches that wait grow with the key's whole stream (`unbounded`). The
// per-run Evaluator (evaluator.hpp) and the SharedRunsEvaluator hold the same
// count; the shared one keeps them in O(n) memory (shared_runs_evaluator.hpp).
// pattern_bounds_test measures the count under adversarial streams for
// each construct and checks it grows as classified.
//
// Example:
//   CEP_ASSIGN_OR_RETURN(cep::Nfa<Txn> nfa, cep::CompilePattern(pattern));
//   cep::PatternBounds bounds = cep::AnalyzeBounds(pattern, nfa);
//   if (bounds.Dangerous()) std::cerr << cep::GrowthWords(bounds) << "\n";
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cep/nfa.hpp"
#include "cep/pattern.hpp"
#include "cep/shared_runs_evaluator.hpp"
#include "cep/time.hpp"

namespace cep {

enum class BoundGrowth : uint8_t {
  kConstant,     // partial matches live a bounded number of events
  kPolynomial,   // about n^degree
  kExponential,  // doubles with events
};

// A construct that multiplies partial matches, named by its stage.
struct BoundFactor {
  enum class Kind : uint8_t {
    kStart,           // the first stage: every event may start one (factor n)
    kFollowedByAny,   // a `followed by any` stage waiting (factor n)
    kLoop,            // a loop leaving and going on at each event (factor n)
    kAnyCombination,  // `any combination` repetitions (n, or doubling)
    kGroupLoop,       // a quantified group repeating (n, or doubling)
    kStage,           // another state of the stage (n, or doubling)
  };
  Kind kind = Kind::kStage;
  // The stage's name ("b"), or the group's ("(a b)").
  std::string stage;

  bool operator==(const BoundFactor&) const = default;
};

// Where partial matches wait with no window bounding how long.
struct UnboundedWait {
  enum class Kind : uint8_t {
    kLoop,   // in a loop (`+`, `*`, `{n,}`)
    kStage,  // for a stage's event (`followed by`, `followed by any`, ...)
  };
  Kind kind = Kind::kStage;
  std::string stage;
  bool has_until = false;  // kLoop: the loop has an `until` condition

  bool operator==(const UnboundedWait&) const = default;
};

struct PatternBounds {
  BoundGrowth growth = BoundGrowth::kConstant;
  // kPolynomial: >= 1 (1: linear). 0 otherwise.
  int degree = 0;
  // kPolynomial: the `degree` factors n on the worst path, first stage
  // first. kExponential: the construct that doubles (first), then the
  // factors n on the way to it.
  std::vector<BoundFactor> factors;
  // The pattern's window (Nfa::window()); zero: none.
  Duration window{0};
  // The stages whose `within` (from the previous event) bounds a state where
  // partial matches wait, in pattern order; used when `window` is zero.
  std::vector<std::pair<std::string, Duration>> stage_windows;
  // Set when partial matches can wait in a state no window bounds: the count
  // then grows with the key's whole stream, not a window.
  std::optional<UnboundedWait> unbounded;
  // What the pattern's after-match skip strategy is (it prunes only when a
  // match completes, so it does not change the worst case).
  AfterMatchSkip skip = AfterMatchSkip::NoSkip();
  // CheckSharedRuns(nfa) accepts it: memory stays O(n) whatever the count.
  bool shared_runs = false;

  // Exponential, polynomial of degree 2 or more, or unbounded by a window
  // while not constant: what plain `cep check` warns about.
  bool Dangerous() const {
    return growth == BoundGrowth::kExponential ||
           (growth == BoundGrowth::kPolynomial && degree >= 2) ||
           (unbounded.has_value() && growth != BoundGrowth::kConstant);
  }
};

// "constant", "linear", "polynomial of degree 3", "exponential".
std::string GrowthWords(const PatternBounds& bounds);

namespace internal {

// What the analysis needs of one stage, independent of the event type.
struct BoundsStage {
  std::string name;  // groups: "(a b)"
  Contiguity contiguity = Contiguity::kStrict;
  Quantifier quantifier;
  bool has_until = false;
  int parent = -1;  // index of the enclosing group in the list; -1: none
  std::vector<std::string> leaves;  // groups: every stage inside, nested too
};

// The event-independent parts of an Nfa.
struct BoundsAutomaton {
  const std::vector<NfaState>* states = nullptr;
  uint32_t start_state = 0;
  const std::vector<std::string>* stage_names = nullptr;
  const std::vector<ConditionNode>* conditions = nullptr;
  size_t user_conditions = 0;
  Duration window{0};
};

PatternBounds AnalyzeBoundsImpl(const BoundsAutomaton& automaton,
                                const std::vector<BoundsStage>& stages,
                                const AfterMatchSkip& skip, bool shared_runs);

template <typename Event>
void FlattenStages(const std::vector<Stage<Event>>& stages, int parent,
                   std::vector<BoundsStage>& out) {
  for (const Stage<Event>& stage : stages) {
    BoundsStage info;
    info.name = stage.name;
    info.contiguity = stage.contiguity;
    info.quantifier = stage.quantifier;
    info.has_until = stage.until != nullptr;
    info.parent = parent;
    const int index = static_cast<int>(out.size());
    out.push_back(std::move(info));
    if (stage.is_group()) {
      FlattenStages(stage.group, index, out);
      for (size_t inner = static_cast<size_t>(index) + 1; inner < out.size();
           ++inner) {
        if (out[inner].leaves.empty()) {
          out[static_cast<size_t>(index)].leaves.push_back(out[inner].name);
        }
      }
    }
  }
}

}  // namespace internal

// The worst-case growth of `nfa`'s partial matches per key. REQUIRES: `nfa`
// is CompilePattern(pattern). Cost: per automaton state, 2^k walks of its
// transitions, k the user conditions it reaches (at most 12; beyond that
// every condition is taken to hold together, which can only overstate).
template <typename Event>
PatternBounds AnalyzeBounds(const Pattern<Event>& pattern,
                            const Nfa<Event>& nfa) {
  std::vector<internal::BoundsStage> stages;
  internal::FlattenStages(pattern.stages(), -1, stages);
  internal::BoundsAutomaton automaton{
      .states = &nfa.states(),
      .start_state = nfa.start_state(),
      .stage_names = &nfa.stage_names(),
      .conditions = &nfa.conditions(),
      .user_conditions = nfa.user_conditions().size(),
      .window = nfa.window(),
  };
  return internal::AnalyzeBoundsImpl(automaton, stages, nfa.skip(),
                                     CheckSharedRuns(nfa).ok());
}

}  // namespace cep
