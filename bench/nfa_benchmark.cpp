// Micro-benchmarks of the NFA step over keyed in-memory state.
//
//   BM_NfaSeqFollowedBy         SEQ(A, B, C) with FollowedBy; each stage's
//                               condition holds for 1% of events; 10,000 keys
//   BM_NfaKleene                A B+ C (FollowedBy, B one or more), same mix
//   BM_NfaHotKeyFollowedByAny   one key, A FollowedByAny B+ (any combination)
//                               then C, 10% A / 60% B / 0.1% C, with the
//                               partial-match cap (argument) at 100 / 1,000
//   BM_NfaMemoryPerPartialMatch heap bytes per partial match waiting in SEQ
//
// Each reports events/s (items_per_second), heap allocations per event
// (allocs_per_event, counted by replacing operator new in this binary) and
// the matches found. SEQ's match count is checked against an independent
// computation before timing.
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <random>
#include <vector>

#include "benchmark/benchmark.h"
#include <malloc.h>

#include "cep/compiler.hpp"
#include "cep/matcher.hpp"
#include "cep/pattern.hpp"
#include "cep/state.hpp"

namespace {

std::atomic<int64_t> g_allocations{0};
std::atomic<int64_t> g_heap_bytes{0};

}  // namespace

// GCC cannot tell that these replace the global operators as a pair.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(std::size_t size) {
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  g_heap_bytes.fetch_add(static_cast<int64_t>(malloc_usable_size(p)),
                         std::memory_order_relaxed);
  return p;
}
void operator delete(void* p) noexcept {
  if (p == nullptr) return;
  g_heap_bytes.fetch_sub(static_cast<int64_t>(malloc_usable_size(p)),
                         std::memory_order_relaxed);
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }

namespace {

struct Event {
  uint32_t key;
  char type;  // 'A', 'B', 'C' or 'x'
};

using Pattern = cep::Pattern<Event>;

// Events over `keys` keys; A, B and C each with probability `p`.
std::vector<Event> MakeEvents(size_t n, uint32_t keys, double p,
                              uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<uint32_t> key(0, keys - 1);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<Event> events(n);
  for (Event& e : events) {
    e.key = key(rng);
    double x = u(rng);
    e.type = x < p ? 'A' : x < 2 * p ? 'B' : x < 3 * p ? 'C' : 'x';
  }
  return events;
}

auto Is(char type) {
  return [type](const Event& e) { return e.type == type; };
}

Pattern Seq() {
  return Pattern::Begin("a")
      .Where(Is('A'))
      .FollowedBy("b")
      .Where(Is('B'))
      .FollowedBy("c")
      .Where(Is('C'));
}

Pattern Kleene() {
  return Pattern::Begin("a")
      .Where(Is('A'))
      .FollowedBy("b")
      .Where(Is('B'))
      .OneOrMore()
      .FollowedBy("c")
      .Where(Is('C'));
}

// SEQ(A, B, C) with skip-till-next: each A matches with the first B after
// it and the first C after that B, when both exist (per key).
int64_t ExpectedSeqMatches(const std::vector<Event>& events, uint32_t keys) {
  // Per key: A's waiting for B, A's waiting for C.
  std::vector<int64_t> waiting_b(keys, 0), waiting_c(keys, 0);
  int64_t matches = 0;
  for (const Event& e : events) {
    if (e.type == 'C') {
      matches += waiting_c[e.key];
      waiting_c[e.key] = 0;
    } else if (e.type == 'B') {
      waiting_c[e.key] += waiting_b[e.key];
      waiting_b[e.key] = 0;
    } else if (e.type == 'A') {
      ++waiting_b[e.key];
    }
  }
  return matches;
}

class CountingSink : public cep::KeyedMatchSink<Event, uint32_t> {
 public:
  void OnMatch(const uint32_t&, cep::Match<Event>) override { ++matches; }
  int64_t matches = 0;
};

// Runs `events` through a fresh matcher; returns matches. Allocation count
// and time cover the steady state: the first pass warms up every key.
void RunKeyed(benchmark::State& state, const Pattern& pattern,
              const std::vector<Event>& events, cep::EvaluatorOptions options,
              int64_t expected_matches) {
  auto nfa = cep::CompilePattern(pattern);
  if (!nfa.ok()) {
    state.SkipWithError(std::string(nfa.status().message()).c_str());
    return;
  }
  int64_t matches = 0, allocations = 0, processed = 0;
  uint64_t evicted = 0;
  for (auto _ : state) {
    state.PauseTiming();
    cep::InMemoryStateBackend<Event, uint32_t> backend;
    cep::KeyedMatcher<Event, uint32_t> matcher(
        *nfa, [](const Event& e) { return e.key; }, backend, options);
    CountingSink sink;
    int64_t ts = 0;
    // Warm-up: the first 10% creates key states and sizes scratch buffers.
    size_t warm = events.size() / 10;
    for (size_t i = 0; i < warm; ++i) {
      (void)matcher.Process(events[i], cep::FromMillis(ts++), sink);
    }
    int64_t allocations_before = g_allocations.load();
    state.ResumeTiming();
    for (size_t i = warm; i < events.size(); ++i) {
      if (!matcher.Process(events[i], cep::FromMillis(ts++), sink).ok()) {
        state.SkipWithError("Process failed");
        return;
      }
    }
    state.PauseTiming();
    allocations += g_allocations.load() - allocations_before;
    processed += static_cast<int64_t>(events.size() - warm);
    matches = sink.matches;
    evicted = matcher.metrics().evicted_partial_matches;
    state.ResumeTiming();
  }
  if (expected_matches >= 0 && matches != expected_matches) {
    state.SkipWithError("wrong number of matches");
    return;
  }
  state.SetItemsProcessed(processed);
  state.counters["allocs_per_event"] =
      static_cast<double>(allocations) / static_cast<double>(processed);
  state.counters["matches"] = static_cast<double>(matches);
  state.counters["evicted"] = static_cast<double>(evicted);
}

constexpr uint32_t kKeys = 10'000;
constexpr size_t kEvents = 2'000'000;

void BM_NfaSeqFollowedBy(benchmark::State& state) {
  static const std::vector<Event> events = MakeEvents(kEvents, kKeys, 0.01, 42);
  RunKeyed(state, Seq(), events, {}, ExpectedSeqMatches(events, kKeys));
}
BENCHMARK(BM_NfaSeqFollowedBy)->Unit(benchmark::kMillisecond);

void BM_NfaKleene(benchmark::State& state) {
  static const std::vector<Event> events = MakeEvents(kEvents, kKeys, 0.01, 42);
  RunKeyed(state, Kleene(), events, {}, -1);
}
BENCHMARK(BM_NfaKleene)->Unit(benchmark::kMillisecond);

void BM_NfaHotKeyFollowedByAny(benchmark::State& state) {
  static const std::vector<Event> events = [] {
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> u(0, 1);
    std::vector<Event> out(5'000);
    for (Event& e : out) {
      double x = u(rng);
      e = Event{0, x < 0.1 ? 'A' : x < 0.7 ? 'B' : x < 0.701 ? 'C' : 'x'};
    }
    return out;
  }();
  Pattern p = Pattern::Begin("a")
                  .Where(Is('A'))
                  .FollowedByAny("b")
                  .Where(Is('B'))
                  .OneOrMore()
                  .AllowCombinations()
                  .FollowedBy("c")
                  .Where(Is('C'));
  cep::EvaluatorOptions options;
  options.max_partial_matches = state.range(0);
  RunKeyed(state, p, events, options, -1);
}
BENCHMARK(BM_NfaHotKeyFollowedByAny)
    ->ArgName("cap")
    ->Arg(100)
    ->Arg(1000)
    ->Unit(benchmark::kMillisecond);

// Heap bytes per partial match: 10,000 keys, each with partial matches
// waiting for C in SEQ(A, B, C) (no C ever arrives).
void BM_NfaMemoryPerPartialMatch(benchmark::State& state) {
  auto nfa = cep::CompilePattern(Seq());
  std::vector<Event> events = MakeEvents(1'000'000, kKeys, 0.3, 9);
  for (Event& e : events) {
    if (e.type == 'C') e.type = 'x';
  }
  double bytes_per_partial = 0;
  for (auto _ : state) {
    cep::InMemoryStateBackend<Event, uint32_t> backend;
    // Key states with only the start computation: the baseline.
    CountingSink sink;
    cep::KeyedMatcher<Event, uint32_t> matcher(
        *nfa, [](const Event& e) { return e.key; }, backend);
    for (uint32_t k = 0; k < kKeys; ++k) {
      (void)matcher.Process(Event{k, 'x'}, cep::FromMillis(0), sink);
    }
    int64_t baseline = g_heap_bytes.load();
    for (const Event& e : events) {
      (void)matcher.Process(e, cep::FromMillis(1), sink);
    }
    int64_t partials = 0;
    (void)backend.ForEach([&](const uint32_t&, cep::KeyState<Event>& s) {
      partials += static_cast<int64_t>(s.PartialMatchCount());
      return absl::OkStatus();
    });
    bytes_per_partial = static_cast<double>(g_heap_bytes.load() - baseline) /
                        static_cast<double>(partials);
    state.counters["partial_matches"] = static_cast<double>(partials);
  }
  state.counters["bytes_per_partial_match"] = bytes_per_partial;
}
BENCHMARK(BM_NfaMemoryPerPartialMatch)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
