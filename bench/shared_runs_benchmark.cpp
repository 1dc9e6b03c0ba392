// Micro-benchmarks of the shared-runs evaluator against the per-run one on
// one key, where partial matches pile up (issue 14).
//
//   BM_NeverCompleting/E/W   CORE's never-completing stock query (`cep gen
//                            stock-ticks --query 3,never`): SELL INTC, then
//                            followed by any BUY RIMM, BUY QQQ, SELL ZZZZ
//                            (no such event), within W ticks; one tick per
//                            event, 20 tickers, BUY/SELL at random. E: 0 the
//                            per-run Evaluator, 1 shared runs (timeouts
//                            ignored, kIgnore), 2 shared runs (timeouts
//                            counted, kCount: on the timeout counter,
//                            internal/timeout_counter.hpp). Run side by
//                            side, E = 1 and 2 are the window sweep.
//   BM_ThreeStepsAllMatches/E/W, BM_SixStepsAllMatches/E/W  CORE's 3- and
//                            6-step queries with every match (followed by
//                            any), within W ticks; the match count is
//                            checked against a brute-force count.
//   BM_HotKeyNoCompletion/E/W  one key, A followed by any B+ (any
//                            combination) followed by C, 10% A / 60% B, no C
//                            at all, within W events (0: no window; the
//                            per-run Evaluator then needs a partial-match
//                            cap, 100).
//
// Each reports events/s (items_per_second) over the events after a warm-up
// of 2W events (the window full of partial matches), heap allocations per
// event (operator new replaced in this binary) and the shared DAG's nodes at
// the end. For W = 100, both evaluators are first checked to count the same
// timeouts on a prefix of the stream; for kCount and W <= 1,000, its count
// is checked against the timeouts kReport enumerates on 20 windows' worth
// of events (the counter rebuilt about 20 times).
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "benchmark/benchmark.h"
#include <malloc.h>

#include "cep/compiler.hpp"
#include "cep/evaluator.hpp"
#include "cep/key_state.hpp"
#include "cep/pattern.hpp"
#include "cep/shared_runs_evaluator.hpp"

namespace {

std::atomic<int64_t> g_allocations{0};

}  // namespace

// GCC cannot tell that these replace the global operators as a pair.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(std::size_t size) {
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return p;
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

struct Tick {
  bool buy;
  uint8_t ticker;  // 0 INTC, 1 RIMM, 2 QQQ, ... 19; 20 would be ZZZZ
};

using TickPattern = cep::Pattern<Tick>;

std::vector<Tick> MakeTicks(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Tick> ticks(n);
  for (Tick& t : ticks) {
    t.buy = (rng() >> 63) != 0;
    t.ticker = static_cast<uint8_t>(rng() % 20);
  }
  return ticks;
}

auto Is(bool buy, uint8_t ticker) {
  return [buy, ticker](const Tick& t) {
    return t.buy == buy && t.ticker == ticker;
  };
}

TickPattern NeverCompleting(int64_t window) {
  return TickPattern::Begin("s0")
      .Where(Is(false, 0))
      .FollowedByAny("s1")
      .Where(Is(true, 1))
      .FollowedByAny("s2")
      .Where(Is(true, 2))
      .FollowedByAny("s3")
      .Where(Is(false, 20))
      .Within(std::chrono::milliseconds(window));
}

template <typename Event>
class CountingSink : public cep::MatchSink<Event> {
 public:
  void OnMatch(cep::Match<Event>) override { ++matches; }
  void OnTimeout(cep::Match<Event>, cep::Timestamp) override { ++timeouts; }
  int64_t matches = 0;
  int64_t timeouts = 0;
};

// Runs `events` (timestamp = position) through evaluator `kind` (0 per run,
// 1 shared ignoring timeouts, 2 shared counting them); times the events
// after `warm`.
template <typename Event>
void RunOneKey(benchmark::State& state, const cep::Pattern<Event>& pattern,
               const std::vector<Event>& events, size_t warm, int kind,
               size_t cap) {
  auto nfa = cep::CompilePattern(pattern);
  if (!nfa.ok()) {
    state.SkipWithError(std::string(nfa.status().message()).c_str());
    return;
  }
  if (kind != 0 && !cep::CheckSharedRuns(*nfa).ok()) {
    state.SkipWithError("pattern refused by the shared-runs evaluator");
    return;
  }
  int64_t processed = 0, allocations = 0, matches = 0, measured_matches = 0;
  double nodes = 0;
  uint64_t timeouts = 0;
  for (auto _ : state) {
    state.PauseTiming();
    CountingSink<Event> sink;
    cep::EvaluatorOptions options;
    options.max_partial_matches = cap;
    cep::Evaluator<Event> per_run(*nfa, options);
    cep::KeyState<Event> per_run_state;
    cep::SharedRunsEvaluator<Event> shared(
        *nfa, {.timeouts = kind == 2 ? cep::SharedRunsTimeouts::kCount
                                     : cep::SharedRunsTimeouts::kIgnore});
    cep::SharedRunsState<Event> shared_state;
    auto step = [&](size_t i) {
      const cep::Timestamp ts = cep::FromMillis(static_cast<int64_t>(i));
      return kind == 0 ? per_run.Process(per_run_state, events[i], ts, i, sink)
                       : shared.Process(shared_state, events[i], ts, i, sink);
    };
    auto matches_so_far = [&] {
      return kind == 0 ? sink.matches
                       : static_cast<int64_t>(shared.metrics().matches);
    };
    for (size_t i = 0; i < warm; ++i) (void)step(i);
    const int64_t matches_before = matches_so_far();
    const int64_t allocations_before = g_allocations.load();
    state.ResumeTiming();
    for (size_t i = warm; i < events.size(); ++i) {
      if (!step(i).ok()) {
        state.SkipWithError("Process failed");
        return;
      }
    }
    state.PauseTiming();
    allocations += g_allocations.load() - allocations_before;
    processed += static_cast<int64_t>(events.size() - warm);
    matches = matches_so_far();
    measured_matches += matches - matches_before;
    timeouts =
        kind == 0 ? per_run.metrics().timeouts : shared.metrics().timeouts;
    nodes = static_cast<double>(shared_state.node_count());
    state.ResumeTiming();
  }
  state.SetItemsProcessed(processed);
  state.counters["allocs_per_event"] =
      static_cast<double>(allocations) / static_cast<double>(processed);
  state.counters["matches"] = static_cast<double>(matches);
  // Time per match released while timed (CPU time / matches).
  state.counters["per_match"] = benchmark::Counter(
      static_cast<double>(measured_matches),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["timeouts"] = static_cast<double>(timeouts);
  state.counters["dag_nodes"] = nodes;
}

// Whether both evaluators report as many timeouts on the first `n` events.
template <typename Event>
bool SameTimeouts(const cep::Pattern<Event>& pattern,
                  const std::vector<Event>& events, size_t n) {
  auto nfa = cep::CompilePattern(pattern);
  if (!nfa.ok()) return false;
  cep::Evaluator<Event> per_run(*nfa);
  cep::KeyState<Event> per_run_state;
  cep::SharedRunsEvaluator<Event> shared(
      *nfa, {.timeouts = cep::SharedRunsTimeouts::kCount});
  cep::SharedRunsState<Event> shared_state;
  CountingSink<Event> sink;
  for (size_t i = 0; i < n && i < events.size(); ++i) {
    const cep::Timestamp ts = cep::FromMillis(static_cast<int64_t>(i));
    if (!per_run.Process(per_run_state, events[i], ts, i, sink).ok() ||
        !shared.Process(shared_state, events[i], ts, i, sink).ok()) {
      return false;
    }
  }
  return per_run.metrics().timeouts == shared.metrics().timeouts &&
         per_run.metrics().timeouts > 0;
}

// Whether kCount counts as many timeouts as kReport reports on the first
// `n` events and at the end (time advanced past the window).
template <typename Event>
bool CountsAsReported(const cep::Pattern<Event>& pattern,
                      const std::vector<Event>& events, size_t n) {
  auto nfa = cep::CompilePattern(pattern);
  if (!nfa.ok()) return false;
  cep::SharedRunsEvaluator<Event> counting(
      *nfa, {.timeouts = cep::SharedRunsTimeouts::kCount});
  cep::SharedRunsEvaluator<Event> reporting(
      *nfa, {.timeouts = cep::SharedRunsTimeouts::kReport});
  cep::SharedRunsState<Event> counting_state, reporting_state;
  CountingSink<Event> sink;
  n = std::min(n, events.size());
  for (size_t i = 0; i < n; ++i) {
    const cep::Timestamp ts = cep::FromMillis(static_cast<int64_t>(i));
    if (!counting.Process(counting_state, events[i], ts, i, sink).ok() ||
        !reporting.Process(reporting_state, events[i], ts, i, sink).ok()) {
      return false;
    }
  }
  const cep::Timestamp end =
      cep::FromMillis(static_cast<int64_t>(n) + 1'000'000);
  if (!counting.AdvanceTime(counting_state, end, sink).ok() ||
      !reporting.AdvanceTime(reporting_state, end, sink).ok()) {
    return false;
  }
  return counting.metrics().timeouts == reporting.metrics().timeouts &&
         sink.timeouts == static_cast<int64_t>(reporting.metrics().timeouts) &&
         sink.timeouts > 0;
}

void BM_NeverCompleting(benchmark::State& state) {
  const int kind = static_cast<int>(state.range(0));
  const int64_t window = state.range(1);
  // The per-run evaluator slows down with the window: fewer events for it.
  const size_t measured =
      kind == 0 ? (window <= 100 ? 200'000 : 5'000) : 500'000;
  const size_t warm = static_cast<size_t>(2 * window);
  const std::vector<Tick> ticks = MakeTicks(warm + measured, 42);
  if (window <= 100 && !SameTimeouts(NeverCompleting(window), ticks, 5'000)) {
    state.SkipWithError("the evaluators count different timeouts");
    return;
  }
  if (kind == 2 && window <= 1000 &&
      !CountsAsReported(NeverCompleting(window), ticks,
                        static_cast<size_t>(20 * window))) {
    state.SkipWithError("kCount and kReport count different timeouts");
    return;
  }
  RunOneKey(state, NeverCompleting(window), ticks, warm, kind, 0);
}
BENCHMARK(BM_NeverCompleting)
    ->ArgNames({"shared", "W"})
    ->Args({0, 100})
    ->Args({0, 1000})
    ->Args({1, 100})
    ->Args({1, 1000})
    ->Args({1, 10000})
    ->Args({1, 100000})
    ->Args({2, 100})
    ->Args({2, 1000})
    ->Args({2, 10000})
    ->Args({2, 100000})
    ->Unit(benchmark::kMillisecond);

TickPattern ThreeSteps(int64_t window) {
  return TickPattern::Begin("s0")
      .Where(Is(false, 0))
      .FollowedByAny("s1")
      .Where(Is(true, 1))
      .FollowedByAny("s2")
      .Where(Is(true, 2))
      .Within(std::chrono::milliseconds(window));
}

// Matches of ThreeSteps: triples i < j < k, k - i < window.
int64_t CountThreeSteps(const std::vector<Tick>& ticks, size_t from,
                        int64_t window) {
  int64_t count = 0;
  for (size_t k = from; k < ticks.size(); ++k) {
    if (!(ticks[k].buy && ticks[k].ticker == 2)) continue;
    for (size_t j = k; j-- > 0 && static_cast<int64_t>(k - j) < window;) {
      if (!(ticks[j].buy && ticks[j].ticker == 1)) continue;
      for (size_t i = j; i-- > 0 && static_cast<int64_t>(k - i) < window;) {
        count += !ticks[i].buy && ticks[i].ticker == 0 ? 1 : 0;
      }
    }
  }
  return count;
}

void BM_ThreeStepsAllMatches(benchmark::State& state) {
  const int kind = static_cast<int>(state.range(0));
  const int64_t window = state.range(1);
  const size_t warm = static_cast<size_t>(2 * window);
  const size_t measured = kind == 0 ? 20'000 : 200'000;
  const std::vector<Tick> ticks = MakeTicks(warm + measured, 42);
  RunOneKey(state, ThreeSteps(window), ticks, warm, kind, 0);
  if (state.counters["matches"] != 0 &&
      static_cast<int64_t>(state.counters["matches"]) !=
          CountThreeSteps(ticks, 0, window)) {
    state.SkipWithError("wrong number of matches");
  }
}
BENCHMARK(BM_ThreeStepsAllMatches)
    ->ArgNames({"shared", "W"})
    ->Args({0, 100})
    ->Args({1, 100})
    ->Args({0, 400})
    ->Args({1, 400})
    ->Unit(benchmark::kMillisecond);

// CORE's 6-step query: SELL INTC, then followed by any BUY RIMM, BUY QQQ,
// SELL ticker 3, BUY ticker 4, BUY ticker 5, within W ticks.
constexpr std::pair<bool, uint8_t> kSixSteps[] = {
    {false, 0}, {true, 1}, {true, 2}, {false, 3}, {true, 4}, {true, 5}};

TickPattern SixSteps(int64_t window) {
  TickPattern p = TickPattern::Begin("s0").Where(Is(false, 0));
  for (int step = 1; step < 6; ++step) {
    p.FollowedByAny("s" + std::to_string(step))
        .Where(Is(kSixSteps[step].first, kSixSteps[step].second));
  }
  return p.Within(std::chrono::milliseconds(window));
}

// Matches of SixSteps: chains i0 < ... < i5 with i5 - i0 < window, counted
// per start by a DP over its window (O(window) per start).
int64_t CountSixSteps(const std::vector<Tick>& ticks, int64_t window) {
  auto is = [&ticks](size_t at, int step) {
    return ticks[at].buy == kSixSteps[step].first &&
           ticks[at].ticker == kSixSteps[step].second;
  };
  int64_t count = 0;
  for (size_t start = 0; start < ticks.size(); ++start) {
    if (!is(start, 0)) continue;
    int64_t chains[6] = {1, 0, 0, 0, 0, 0};
    const size_t end =
        std::min(ticks.size(), start + static_cast<size_t>(window));
    for (size_t at = start + 1; at < end; ++at) {
      for (int step = 5; step >= 1; --step) {
        if (is(at, step)) chains[step] += chains[step - 1];
      }
    }
    count += chains[5];
  }
  return count;
}

void BM_SixStepsAllMatches(benchmark::State& state) {
  const int kind = static_cast<int>(state.range(0));
  const int64_t window = state.range(1);
  const size_t warm = static_cast<size_t>(2 * window);
  const size_t measured = kind == 0 ? 20'000 : 200'000;
  const std::vector<Tick> ticks = MakeTicks(warm + measured, 42);
  RunOneKey(state, SixSteps(window), ticks, warm, kind, 0);
  if (state.counters["matches"] != 0 &&
      static_cast<int64_t>(state.counters["matches"]) !=
          CountSixSteps(ticks, window)) {
    state.SkipWithError("wrong number of matches");
  }
}
BENCHMARK(BM_SixStepsAllMatches)
    ->ArgNames({"shared", "W"})
    ->Args({0, 100})
    ->Args({1, 100})
    ->Args({0, 400})
    ->Args({1, 400})
    ->Unit(benchmark::kMillisecond);

struct Hot {
  char type;  // 'A', 'B' or 'x'
};

void BM_HotKeyNoCompletion(benchmark::State& state) {
  const int kind = static_cast<int>(state.range(0));
  const int64_t window = state.range(1);
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  const size_t warm = static_cast<size_t>(2 * window);
  const size_t measured = kind == 0 ? 20'000 : 500'000;
  std::vector<Hot> events(warm + measured);
  for (Hot& e : events) {
    const double x = u(rng);
    e.type = x < 0.1 ? 'A' : x < 0.7 ? 'B' : 'x';
  }
  auto is = [](char type) {
    return [type](const Hot& e) { return e.type == type; };
  };
  cep::Pattern<Hot> p = cep::Pattern<Hot>::Begin("a")
                            .Where(is('A'))
                            .FollowedByAny("b")
                            .Where(is('B'))
                            .OneOrMore()
                            .AllowCombinations()
                            .FollowedBy("c")
                            .Where(is('C'));
  if (window > 0) p.Within(std::chrono::milliseconds(window));
  RunOneKey(state, p, events, warm, kind, kind == 0 ? 100 : 0);
}
BENCHMARK(BM_HotKeyNoCompletion)
    ->ArgNames({"shared", "W"})
    ->Args({0, 0})
    ->Args({1, 0})
    ->Args({1, 1000})
    ->Args({1, 100000})
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
