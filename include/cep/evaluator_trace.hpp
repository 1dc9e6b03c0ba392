// cep/evaluator_trace.hpp — an optional observer of the per-run Evaluator's
// decisions: what `cep trace` prints ("why no match?").
//
// An EvaluatorTracer set with Evaluator::SetTracer() is called at every
// decision the evaluator takes for a key: each TAKE / IGNORE transition a
// branch (partial match) follows, a branch that waits unchanged or dies
// because nothing fired, a branch a NOT stage kills, a branch whose window
// passes, matches released or held back by the after-match skip strategy,
// branches the skip strategy discards and branches the partial-match cap
// evicts. Every call comes before the evaluator releases the branch's
// shared-buffer nodes, so the tracer may read the branch's events with
// `state.buffer().Extract(branch.node, branch.version, path)`; it must not
// change `state`. Calls are synchronous, on the evaluator's thread.
//
// Without a tracer (the default) each decision point costs one null check:
// the hot path does not allocate or call anything more. The SharedRuns
// evaluator has no tracer: its semantics are identical, so a trace through
// the per-run evaluator explains both.
//
// Example:
//   class Printer : public cep::EvaluatorTracer<Txn> {
//     void OnTake(const cep::KeyState<Txn>& state, const cep::Computation&
//                 from, uint32_t source, const cep::Computation& to) override
//     { std::cout << "TAKE into " << nfa.states()[source].name << "\n"; }
//   };
//   Printer printer;
//   evaluator.SetTracer(&printer);
//   CEP_RETURN_IF_ERROR(evaluator.Process(state, txn, ts, seq, sink));
#pragma once

#include <cstdint>
#include <vector>

#include "cep/key_state.hpp"
#include "cep/time.hpp"

namespace cep {

// Every method does nothing by default; override the ones of interest.
// `from` is a branch as it was before the event; `to` a successor built
// from it. NFA states are indices in Nfa::states().
template <typename Event>
class EvaluatorTracer {
 public:
  virtual ~EvaluatorTracer() = default;

  // The branch `from` follows a TAKE transition out of NFA state `source`
  // (reached from from.state by PROCEED transitions when it differs) and
  // becomes `to`. When `from` has not started (from.has_start is false),
  // `to` is a new partial match.
  virtual void OnTake(const KeyState<Event>& state, const Computation& from,
                      uint32_t source, const Computation& to) {
    (void)state, (void)from, (void)source, (void)to;
  }
  // The branch `from` follows an IGNORE transition out of `source` to
  // to.state (to itself: it skips the event; to another state: a copy that
  // skipped the event, next to a copy that took it).
  virtual void OnIgnore(const KeyState<Event>& state, const Computation& from,
                        uint32_t source, const Computation& to) {
    (void)state, (void)from, (void)source, (void)to;
  }
  // After a TAKE into `taken`, PROCEED transitions reach the final state on
  // this event (the pattern ends in an optional or looping stage).
  virtual void OnProceedToFinal(const KeyState<Event>& state,
                                const Computation& taken) {
    (void)state, (void)taken;
  }
  // Only the self-IGNORE of its state fired: the branch waits as it is.
  // Not called for the start computation.
  virtual void OnUnchanged(const KeyState<Event>& state,
                           const Computation& branch) {
    (void)state, (void)branch;
  }
  // No transition fired for the started branch `from`: it ends here.
  virtual void OnDead(const KeyState<Event>& state, const Computation& from) {
    (void)state, (void)from;
  }
  // A branch took the event into the stop state of a NOT stage: `stopped`
  // is that successor (stopped.state the stop state; its events end with
  // this one). The branch it came from is discarded with all its
  // successors on this event.
  virtual void OnStopped(const KeyState<Event>& state,
                         const Computation& stopped) {
    (void)state, (void)stopped;
  }
  // The window of `branch` passed at `at`: it times out. `pending` when it
  // waited only for a trailing NOT stage's window: it completes instead, and
  // is released (or held back) next.
  virtual void OnWindowPassed(const KeyState<Event>& state,
                              const Computation& branch, Timestamp at,
                              bool pending) {
    (void)state, (void)branch, (void)at, (void)pending;
  }
  // The completed match `match` is released (to MatchSink::OnMatch).
  virtual void OnRelease(const KeyState<Event>& state,
                         const Computation& match) {
    (void)state, (void)match;
  }
  // The skip strategy holds back the completed matches `held` (in release
  // order) until `blocking`, a partial match that started before them,
  // completes or goes.
  virtual void OnHeldBack(const KeyState<Event>& state,
                          const std::vector<Computation>& held,
                          const Computation& blocking) {
    (void)state, (void)held, (void)blocking;
  }
  // The skip strategy discards `branch` after a released match; `completed`
  // when it was a completed match held back.
  virtual void OnSkipDiscard(const KeyState<Event>& state,
                             const Computation& branch, bool completed) {
    (void)state, (void)branch, (void)completed;
  }
  // The partial-match cap evicts `branch` (`completed`: a held-back match).
  virtual void OnEvict(const KeyState<Event>& state, const Computation& branch,
                       bool completed) {
    (void)state, (void)branch, (void)completed;
  }
};

}  // namespace cep
