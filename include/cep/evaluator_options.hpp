// cep/evaluator_options.hpp — what an evaluator may do (EvaluatorOptions)
// and what it counts (EvaluatorMetrics), shared by the per-run Evaluator
// (evaluator.hpp), the SharedRunsEvaluator (shared_runs_evaluator.hpp) and
// the KeyedMatcher (matcher.hpp) that picks between them.
//
// Example:
//   cep::EvaluatorOptions options;
//   options.max_partial_matches = 1000;  // per-run evaluator only
//   options.report_timeouts = false;     // count timeouts, do not build them
//   cep::KeyedMatcher<Txn, std::string> matcher(nfa, key_of, backend,
//                                               options);
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

#include "cep/time.hpp"

namespace cep {

// How a key's partial matches are kept and advanced.
enum class EvaluationStrategy : uint8_t {
  // Shared runs when the pattern allows it and is `after match no skip`,
  // else per run. (Under a skip strategy few partial matches live per key,
  // and runs of their own cost less: card_testing, 577-631 against 798-861
  // CPU ns per event shared.)
  kAuto,
  // Shared runs whenever the pattern allows it (CheckSharedRuns).
  kShared,
  // Every partial match is a run of its own (the per-run Evaluator).
  kPerRun,
};

// What to do when a key reaches EvaluatorOptions::max_partial_matches.
enum class OverflowPolicy : uint8_t {
  kDropOldest,       // discard the partial matches that started first
  kRejectNewStarts,  // discard the newest, so new starts are refused first
};

// The default of EvaluatorOptions::max_partial_matches: partial matches one
// key may hold in one pattern. A partial match holds the events it took, so
// memory per key is bounded by this many times the longest partial match
// (bound that with a window).
inline constexpr size_t kDefaultMaxPartialMatches = 10000;

struct EvaluatorOptions {
  // Behaviour.

  // Most partial matches one key may hold (the start computation not
  // counted; completed matches the after-match skip strategy holds back
  // counted); 0 means no limit. FollowedByAny under OneOrMore doubles them
  // with every event otherwise (`followed by any b+`). The limit is checked
  // after each event: the partial matches one event makes come and go
  // within it. Default: kDefaultMaxPartialMatches (10000).
  size_t max_partial_matches = kDefaultMaxPartialMatches;
  // Which partial matches go when the limit is passed; every one discarded
  // is counted in EvaluatorMetrics::evicted_partial_matches, and releases
  // the events and buffer nodes only it used. kDropOldest drops partial
  // matches only (the oldest; the held-back matches they held come out);
  // kRejectNewStarts drops the newest, held-back matches included. Among
  // partial matches that started with the same event, those made first count as
  // older. The order depends only on the events, so evictions are
  // deterministic. Default: kDropOldest.
  OverflowPolicy overflow_policy = OverflowPolicy::kDropOldest;

  // Whether timed-out partial matches go to MatchSink::OnTimeout. When
  // false they are only counted (EvaluatorMetrics::timeouts) and released:
  // no Match is built, which saves the copies of their events when nobody
  // reads them (`cep run` without --timeouts). Default: true.
  bool report_timeouts = true;

  // Performance.

  // Lets a KeyedMatcher drop, before any key lookup, events for which every
  // condition is false, for keys whose partial matches such an event cannot
  // change (see Evaluator::CanSkip). Applies when all conditions are simple
  // (not iterative) and the pattern has no window. Default: true.
  bool skip_irrelevant_events = true;

  // When false, no event starts a new partial match: the ones a key holds
  // go on to complete or time out, and the pattern drains (an old version
  // of a changed pattern, `cep run --migrate`). Default: true.
  bool start_new_matches = true;
  // Finer: only events whose seq is in [start_matches_from_seq,
  // start_matches_before_seq) start partial matches. A live reload (`cep
  // run --watch`) gives an old version that drains the events read before
  // the swap (it still starts partial matches with those waiting for the
  // watermark then), and the new version the events from the swap on.
  // Default: every seq.
  uint64_t start_matches_from_seq = 0;
  uint64_t start_matches_before_seq = std::numeric_limits<uint64_t>::max();

  // Whether the event with `seq` may start a partial match.
  bool StartsMatchesAt(uint64_t seq) const {
    return start_new_matches && seq >= start_matches_from_seq &&
           seq < start_matches_before_seq;
  }

  // State TTL, applied by KeyedMatcher (matcher.hpp): a key whose partial
  // matches have taken no event for this long in event time (the watermark
  // passes the last event taken + state_ttl) loses its state, as if it had
  // never started; each such key is counted in
  // EvaluatorMetrics::expired_keys. It bounds the state of patterns without
  // a window, whose partial matches would otherwise wait forever. 0: never.
  // Default: 0.
  Duration state_ttl{0};

  // Which evaluator KeyedMatcher (matcher.hpp) gives new keys: kAuto picks
  // the SharedRunsEvaluator (shared_runs_evaluator.hpp) when the pattern
  // and these options allow it (ChooseStrategy), else the per-run
  // Evaluator. Default: kAuto.
  EvaluationStrategy strategy = EvaluationStrategy::kAuto;
};

// Counters over all keys an Evaluator has advanced.
struct EvaluatorMetrics {
  uint64_t events = 0;
  uint64_t matches = 0;
  uint64_t timeouts = 0;
  uint64_t evicted_partial_matches = 0;
  uint64_t condition_errors = 0;
  // Events dropped without a key lookup (also counted in `events`).
  uint64_t skipped_events = 0;
  // Keys whose state EvaluatorOptions::state_ttl removed.
  uint64_t expired_keys = 0;
  // Shared runs only: DAG nodes freed because no live partial match used
  // them any more.
  uint64_t reclaimed_nodes = 0;
};

// Adds the counters of `b` to `a`.
inline void AddMetrics(EvaluatorMetrics& a, const EvaluatorMetrics& b) {
  a.events += b.events;
  a.matches += b.matches;
  a.timeouts += b.timeouts;
  a.evicted_partial_matches += b.evicted_partial_matches;
  a.condition_errors += b.condition_errors;
  a.skipped_events += b.skipped_events;
  a.expired_keys += b.expired_keys;
  a.reclaimed_nodes += b.reclaimed_nodes;
}

}  // namespace cep
