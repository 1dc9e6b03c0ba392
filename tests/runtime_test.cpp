// Tests of Runtime: every loop (event, microbatch, realtime) at every
// parallelism gives the outputs of one Operator advanced after every event
// (in the same order with parallelism 1, per key with more); latency, batch
// triggers and commits follow an injected clock; errors reach the caller.
#include "cep/runtime.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "cep/compiler.hpp"

#include "testing/nfa_harness.hpp"
#include "testing/status_matchers.hpp"

namespace cep {
namespace {

using ::cep::testing::Ev;
using ::cep::testing::FormatMatch;
using ::cep::testing::IsOk;
using ::cep::testing::NameIs;
using ::cep::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using P = Pattern<Ev>;
using RT = Runtime<Ev, int>;

Ev K(int key, std::string label, std::string name, int64_t ts) {
  return Ev{std::move(label), std::move(name), 0, ts, 0, key};
}

std::string MatchLine(size_t pattern, int key, const Match<Ev>& match) {
  return absl::StrCat("p", pattern, " k", key, ": ", FormatMatch(match));
}
std::string TimeoutLine(size_t pattern, int key, const Match<Ev>& partial,
                        Timestamp at) {
  return absl::StrCat("p", pattern, " k", key, ": timeout ",
                      FormatMatch(partial), " @", ToMillis(at));
}
std::string LateLine(const Ev& e, uint64_t seq) {
  return absl::StrCat("late ", e.label, " seq ", seq);
}

// Records a Runtime's outputs; with `latency`, each line ends with it.
// No lock: the runtime calls it one call at a time.
class Recorder : public RuntimeSink<Ev, int> {
 public:
  explicit Recorder(bool latency = false) : latency_(latency) {}
  void OnMatch(size_t pattern, const int& key, Match<Ev> match,
               int64_t latency_ns) override {
    out.push_back(MatchLine(pattern, key, match) + Latency(latency_ns));
  }
  void OnTimeout(size_t pattern, const int& key, Match<Ev> partial,
                 Timestamp at, int64_t latency_ns) override {
    out.push_back(TimeoutLine(pattern, key, partial, at) + Latency(latency_ns));
  }
  void OnLate(const Ev& event, Timestamp, uint64_t seq) override {
    late.push_back(LateLine(event, seq));
  }
  std::string Latency(int64_t ns) const {
    return latency_ ? absl::StrCat(" latency ", ns) : "";
  }

  std::vector<std::string> out;
  std::vector<std::string> late;

 private:
  bool latency_;
};

P AThenB(int window_ms) {
  return P::Begin("a")
      .Where(NameIs("a"))
      .FollowedBy("b")
      .Where(NameIs("b"))
      .Within(Duration(window_ms));
}

// ---- the workload: several keys and patterns, out of order, some late ----

struct Workload {
  std::vector<Nfa<Ev>> nfas;
  std::vector<RuntimePattern<Ev, int>> patterns;
  std::vector<Ev> events;
  Duration bound{8};
};

Workload MakeWorkload(uint32_t seed, int count) {
  Workload w;
  auto compile = [&w](const P& pattern) {
    auto nfa = CompilePattern(pattern);
    EXPECT_THAT(nfa.status(), IsOk());
    w.nfas.push_back(*std::move(nfa));
  };
  // p0: a window with timeouts.
  compile(AThenB(30));
  // p1: followed-by-any under a window, keyed differently (id % 5), on the
  // events of keys other than 4.
  compile(P::Begin("a")
              .Where(NameIs("a"))
              .FollowedByAny("c")
              .Where(NameIs("c"))
              .Within(Duration(40)));
  // p2: a trailing not-followed-by.
  compile(P::Begin("b")
              .Where(NameIs("b"))
              .NotFollowedBy("d")
              .Where(NameIs("d"))
              .Within(Duration(20)));
  // p3: strict contiguity, no window.
  compile(P::Begin("c").Where(NameIs("c")).Next("d").Where(NameIs("d")));
  auto by_id = [](const Ev& e) { return e.id; };
  w.patterns = {
      {&w.nfas[0], by_id, nullptr},
      {&w.nfas[1], [](const Ev& e) { return e.id % 5; },
       [](const Ev& e) { return e.id != 4; }},
      {&w.nfas[2], by_id, nullptr},
      {&w.nfas[3], by_id, nullptr},
  };
  // mt19937's raw output is the same everywhere; distributions are not.
  std::mt19937 rng(seed);
  const char* names[] = {"a", "b", "c", "d", "x"};
  int64_t now = 1000;
  int64_t max_ts = 0;
  for (int i = 0; i < count; ++i) {
    now += rng() % 4;
    int64_t ts = now - static_cast<int64_t>(rng() % (w.bound.count() + 1));
    if (rng() % 30 == 0) ts = max_ts - w.bound.count() - 1 - rng() % 20;
    max_ts = std::max(max_ts, ts);
    w.events.push_back(K(static_cast<int>(rng() % 12), absl::StrCat("e", i),
                         names[rng() % 5], ts));
  }
  return w;
}

struct Outputs {
  std::vector<std::string> out;
  std::vector<std::string> late;
};

// One Operator with every pattern, the watermark advanced after each event.
Outputs RunReference(const Workload& w) {
  class Sink : public OperatorSink<Ev, int> {
   public:
    void OnMatch(size_t pattern, const int& key, Match<Ev> match) override {
      out.push_back(MatchLine(pattern, key, match));
    }
    void OnTimeout(size_t pattern, const int& key, Match<Ev> partial,
                   Timestamp at) override {
      out.push_back(TimeoutLine(pattern, key, partial, at));
    }
    std::vector<std::string> out;
  } sink;
  std::vector<InMemoryStateBackend<Ev, int>> backends(w.patterns.size());
  Operator<Ev, int> op;
  for (size_t p = 0; p < w.patterns.size(); ++p) {
    op.AddPattern(*w.patterns[p].nfa, w.patterns[p].key_selector, backends[p],
                  w.patterns[p].accepts);
  }
  BoundedOutOfOrderness watermarks(w.bound);
  Outputs result;
  uint64_t seq = 0;
  for (const Ev& e : w.events) {
    const uint64_t this_seq = seq++;
    if (!op.Add(e, FromMillis(e.ts), this_seq)) {
      result.late.push_back(LateLine(e, this_seq));
      continue;
    }
    EXPECT_THAT(op.AdvanceWatermark(watermarks.Observe(FromMillis(e.ts)), sink),
                IsOk());
  }
  EXPECT_THAT(op.Finish(sink), IsOk());
  result.out = std::move(sink.out);
  return result;
}

// A thread-safe fake clock that moves 100 us per reading.
std::function<int64_t()> SteppingClock() {
  auto now = std::make_shared<std::atomic<int64_t>>(0);
  return [now] { return now->fetch_add(100'000) + 100'000; };
}

struct Config {
  std::string name;
  Loop loop = Loop::kEvent;
  size_t parallelism = 1;
  size_t trigger_events = 0;
  Duration trigger_interval{0};
  std::chrono::microseconds watermark_interval{1000};
  size_t queue_capacity = 64;
  // Events pushed with PushDeferred() (built by a Materializer) instead.
  bool deferred = false;
  // `parallelism` runtimes of parallelism 1 instead (lanes, as `cep run`'s):
  // each pushes the events of the keys it owns and observes the others.
  bool lanes = false;
};

void PrintTo(const Config& config, std::ostream* os) { *os << config.name; }

// Config::lanes: one runtime per lane, each over the whole stream in turn,
// all into one sink. A lane takes an event when it owns the key of a
// pattern accepting it (that pattern's only: its other patterns do not
// accept it) or, the first lane, when it is late; otherwise it observes
// it. `stats` sums the lanes' matches and timeouts; the events and late
// ones are the first lane's, which sees them all.
Outputs RunLanes(const Workload& w, const Config& config, RuntimeStats* stats) {
  RuntimeOptions options;
  options.loop = config.loop;
  options.trigger_events = config.trigger_events;
  options.trigger_interval = config.trigger_interval;
  options.commit_interval = Duration(1);
  options.max_out_of_orderness = w.bound;
  const size_t lanes = config.parallelism;
  auto lane_of = [lanes](const RuntimePattern<Ev, int>& pattern, const Ev& e) {
    return RT::WorkerOfHash(absl::Hash<int>{}(pattern.key_selector(e)), lanes);
  };
  Recorder sink;
  *stats = RuntimeStats();
  for (size_t lane = 0; lane < lanes; ++lane) {
    std::vector<RuntimePattern<Ev, int>> patterns = w.patterns;
    for (size_t p = 0; p < patterns.size(); ++p) {
      patterns[p].accepts = [&w, p, lane, lane_of](const Ev& e) {
        const RuntimePattern<Ev, int>& pattern = w.patterns[p];
        return (!pattern.accepts || pattern.accepts(e)) &&
               lane_of(pattern, e) == lane;
      };
    }
    options.clock = SteppingClock();
    auto runtime = RT::Create(patterns, options, sink);
    EXPECT_THAT(runtime.status(), IsOk());
    if (!runtime.ok()) return {};
    for (const Ev& e : w.events) {
      const Timestamp ts = FromMillis(e.ts);
      bool takes = lane == 0 && ts <= (*runtime)->watermark();
      for (const RuntimePattern<Ev, int>& pattern : w.patterns) {
        if ((!pattern.accepts || pattern.accepts(e)) &&
            lane_of(pattern, e) == lane) {
          takes = takes || ts > (*runtime)->watermark();
        }
      }
      EXPECT_THAT(takes ? (*runtime)->Push(e, ts, options.clock())
                        : (*runtime)->Observe(ts, options.clock()),
                  IsOk());
      if (e.label.back() == '0') {
        EXPECT_THAT((*runtime)->Poll(), IsOk());
      }
    }
    EXPECT_THAT((*runtime)->Finish(), IsOk());
    const RuntimeStats lane_stats = (*runtime)->stats();
    if (lane == 0) {
      *stats = lane_stats;
      continue;
    }
    EXPECT_EQ(lane_stats.events, w.events.size());
    EXPECT_EQ(lane_stats.late, 0u);
    stats->matches += lane_stats.matches;
    stats->timeouts += lane_stats.timeouts;
    stats->latency.Merge(lane_stats.latency);
    stats->timeout_latency.Merge(lane_stats.timeout_latency);
    for (size_t p = 0; p < w.patterns.size(); ++p) {
      stats->pattern_latency[p].Merge(lane_stats.pattern_latency[p]);
    }
  }
  return Outputs{std::move(sink.out), std::move(sink.late)};
}

Outputs RunRuntime(const Workload& w, const Config& config,
                   RuntimeStats* stats) {
  if (config.lanes) return RunLanes(w, config, stats);
  RuntimeOptions options;
  options.loop = config.loop;
  options.parallelism = config.parallelism;
  options.trigger_events = config.trigger_events;
  options.trigger_interval = config.trigger_interval;
  options.commit_interval = Duration(1);  // every 10 clock readings or so
  options.watermark_interval = config.watermark_interval;
  options.queue_capacity = config.queue_capacity;
  options.max_out_of_orderness = w.bound;
  options.clock = SteppingClock();
  Recorder sink;
  // Deferred: the bytes are the event's index; the materializer builds it.
  std::atomic<size_t> built{0};
  Materializer<Ev> materialize = [&w, &built](std::string_view bytes) {
    size_t index = 0;
    EXPECT_EQ(bytes.size(), sizeof(index));
    std::memcpy(&index, bytes.data(), sizeof(index));
    built.fetch_add(1);
    return absl::StatusOr<Ev>(w.events.at(index));
  };
  auto runtime = RT::Create(w.patterns, options, sink, nullptr,
                            config.deferred ? materialize : nullptr);
  EXPECT_THAT(runtime.status(), IsOk());
  if (!runtime.ok()) return {};
  size_t events_to_workers = 0;
  for (size_t index = 0; index < w.events.size(); ++index) {
    const Ev& e = w.events[index];
    if (!config.deferred) {
      EXPECT_THAT((*runtime)->Push(e, FromMillis(e.ts)), IsOk());
    } else {
      std::vector<std::optional<uint64_t>> hashes;
      std::vector<size_t> workers;
      for (const RuntimePattern<Ev, int>& pattern : w.patterns) {
        if (pattern.accepts && !pattern.accepts(e)) {
          hashes.push_back(std::nullopt);
          continue;
        }
        hashes.push_back(absl::Hash<int>{}(pattern.key_selector(e)));
        workers.push_back(
            RT::WorkerOfHash(*hashes.back(), options.parallelism));
      }
      std::sort(workers.begin(), workers.end());
      events_to_workers += static_cast<size_t>(
          std::unique(workers.begin(), workers.end()) - workers.begin());
      const std::string bytes(reinterpret_cast<const char*>(&index),
                              sizeof(index));
      EXPECT_THAT((*runtime)->PushDeferred(bytes, FromMillis(e.ts),
                                           options.clock(), hashes),
                  IsOk());
    }
    if (e.label.back() == '0') {
      EXPECT_THAT((*runtime)->Poll(), IsOk());
    }
  }
  EXPECT_THAT((*runtime)->Finish(), IsOk());
  *stats = (*runtime)->stats();
  if (config.deferred) {
    // Built once per event and worker it goes to (late ones and every one
    // of parallelism 1 on the source thread, where they are counted as 0).
    size_t on_workers = 0;
    for (size_t worker = 0; worker < (*runtime)->workers(); ++worker) {
      on_workers += (*runtime)->materialized(worker);
    }
    if (config.parallelism == 1) {
      EXPECT_EQ(on_workers, 0u);
      EXPECT_EQ(built.load(), w.events.size());
    } else {
      EXPECT_GT(on_workers, 0u);
      EXPECT_LE(on_workers, events_to_workers);
      EXPECT_EQ(built.load(), on_workers + stats->late);
    }
  }
  return Outputs{std::move(sink.out), std::move(sink.late)};
}

// The lines of each "pP kK" in output order.
std::map<std::string, std::vector<std::string>> PerKey(
    const std::vector<std::string>& lines) {
  std::map<std::string, std::vector<std::string>> groups;
  for (const std::string& line : lines) {
    groups[line.substr(0, line.find(':'))].push_back(line);
  }
  return groups;
}

std::vector<std::string> Sorted(std::vector<std::string> lines) {
  std::sort(lines.begin(), lines.end());
  return lines;
}

size_t CountContaining(const std::vector<std::string>& lines,
                       const std::string& part) {
  return std::count_if(lines.begin(), lines.end(), [&](const std::string& l) {
    return l.find(part) != std::string::npos;
  });
}

class RuntimeEquivalenceTest : public ::testing::TestWithParam<Config> {};

TEST_P(RuntimeEquivalenceTest, OutputsEqualOneOperatorAdvancedPerEvent) {
  const Config& config = GetParam();
  const Workload w = MakeWorkload(/*seed=*/42, /*count=*/1500);
  const Outputs reference = RunReference(w);
  // The workload exercises what it should.
  ASSERT_GT(CountContaining(reference.out, "timeout"), 20u);
  ASSERT_GT(reference.out.size() - CountContaining(reference.out, "timeout"),
            100u);
  ASSERT_GT(CountContaining(reference.out, "p2 "), 20u);
  ASSERT_GT(reference.late.size(), 10u);

  RuntimeStats stats;
  const Outputs actual = RunRuntime(w, config, &stats);
  EXPECT_EQ(actual.late, reference.late);  // decided by the source, in order
  if (config.parallelism == 1) {
    EXPECT_EQ(actual.out, reference.out);
  } else {
    EXPECT_EQ(Sorted(actual.out), Sorted(reference.out));
    EXPECT_EQ(PerKey(actual.out), PerKey(reference.out));
  }
  const uint64_t timeouts = CountContaining(reference.out, "timeout");
  EXPECT_EQ(stats.events, w.events.size());
  EXPECT_EQ(stats.late, reference.late.size());
  EXPECT_EQ(stats.matches, reference.out.size() - timeouts);
  EXPECT_EQ(stats.timeouts, timeouts);
  EXPECT_EQ(stats.latency.count(), stats.matches);
  EXPECT_EQ(stats.timeout_latency.count(), timeouts);
  uint64_t per_pattern = 0;
  for (const LatencyHistogram& h : stats.pattern_latency) {
    per_pattern += h.count();
  }
  EXPECT_EQ(per_pattern, stats.matches);
  const uint64_t on_time = stats.events - stats.late;
  if (config.lanes) return;  // each lane's commits and batches are its own
  if (config.loop == Loop::kEvent) {
    EXPECT_EQ(stats.commits, on_time + 1);
  }
  if (config.loop == Loop::kMicrobatch) {
    EXPECT_EQ(stats.commits, stats.batches);
    if (config.trigger_events > 0) {
      EXPECT_EQ(stats.batches, on_time / config.trigger_events + 1);
    }
  }
}

std::vector<Config> Configs() {
  std::vector<Config> configs;
  for (size_t n : {1, 2, 3}) {
    const std::string p = absl::StrCat("P", n);
    configs.push_back({"Event" + p, Loop::kEvent, n});
    configs.push_back({"EventWatermarkEveryEvent" + p, Loop::kEvent, n, 0,
                       Duration(0), std::chrono::microseconds(0)});
    for (size_t events : {1, 7, 1000}) {
      configs.push_back({absl::StrCat("MicrobatchEvery", events, p),
                         Loop::kMicrobatch, n, events});
    }
    configs.push_back(
        {"MicrobatchInterval" + p, Loop::kMicrobatch, n, 0, Duration(5)});
    configs.push_back({"Realtime" + p, Loop::kRealtime, n});
    configs.push_back({"RealtimeQueueOfOne" + p, Loop::kRealtime, n, 0,
                       Duration(0), std::chrono::microseconds(0), 1});
  }
  // The same with events that the workers build (Runtime::PushDeferred).
  const size_t typed = configs.size();
  for (size_t idx = 0; idx < typed; ++idx) {
    Config deferred = configs[idx];
    deferred.name += "Deferred";
    deferred.deferred = true;
    configs.push_back(deferred);
  }
  // The same in lanes (Runtime::Observe).
  for (size_t idx = 0; idx < typed; ++idx) {
    if (configs[idx].parallelism == 1) continue;
    Config lanes = configs[idx];
    lanes.name += "Lanes";
    lanes.lanes = true;
    configs.push_back(lanes);
  }
  return configs;
}

INSTANTIATE_TEST_SUITE_P(LoopsAndParallelism, RuntimeEquivalenceTest,
                         ::testing::ValuesIn(Configs()),
                         [](const ::testing::TestParamInfo<Config>& info) {
                           return info.param.name;
                         });

// ---- latency --------------------------------------------------------------

// A fake clock the test sets.
struct ManualClock {
  std::shared_ptr<std::atomic<int64_t>> now =
      std::make_shared<std::atomic<int64_t>>(0);
  std::function<int64_t()> Fn() const {
    return [now = now] { return now->load(); };
  }
  void Set(int64_t value) const { now->store(value); }
};

TEST(RuntimeTest, LatencyRunsFromTheArrivalOfTheEventBehindEachOutput) {
  auto p0 = CompilePattern(AThenB(10));
  auto p1 = CompilePattern(P::Begin("a")
                               .Where(NameIs("a"))
                               .NotFollowedBy("d")
                               .Where(NameIs("d"))
                               .Within(Duration(100)));
  ASSERT_THAT(p0.status(), IsOk());
  ASSERT_THAT(p1.status(), IsOk());
  auto by_id = [](const Ev& e) { return e.id; };
  ManualClock clock;
  RuntimeOptions options;
  options.max_out_of_orderness = Duration(5);
  options.clock = clock.Fn();
  Recorder sink(/*latency=*/true);
  auto runtime = RT::Create({{&*p0, by_id}, {&*p1, by_id}}, options, sink);
  ASSERT_THAT(runtime.status(), IsOk());
  RT& rt = **runtime;
  // b1 completes the match on arrival (200) but waits for the watermark,
  // which passes 12 when x arrives; handed over at 1000.
  ASSERT_THAT(rt.Push(K(1, "a1", "a", 10), FromMillis(10), 100), IsOk());
  ASSERT_THAT(rt.Push(K(1, "b1", "b", 12), FromMillis(12), 200), IsOk());
  clock.Set(1000);
  ASSERT_THAT(rt.Push(K(2, "x", "x", 20), FromMillis(20), 300), IsOk());
  ASSERT_THAT(rt.Push(K(2, "a2", "a", 21), FromMillis(21), 400), IsOk());
  // y raises the watermark past a2's window (31): the timeout's latency
  // runs from y's arrival.
  clock.Set(2000);
  ASSERT_THAT(rt.Push(K(3, "y", "y", 40), FromMillis(40), 500), IsOk());
  // Trailing not-followed-by matches come out at Finish, from its time.
  clock.Set(3000);
  ASSERT_THAT(rt.Finish(), IsOk());
  EXPECT_THAT(sink.out, ElementsAre("p0 k1: a=[a1] b=[b1] latency 800",
                                    "p0 k2: timeout a=[a2] @31 latency 1500",
                                    "p1 k1: a=[a1] latency 0",
                                    "p1 k2: a=[a2] latency 0"));
  const RuntimeStats stats = rt.stats();
  EXPECT_EQ(stats.matches, 3u);
  EXPECT_EQ(stats.timeouts, 1u);
  EXPECT_EQ(stats.latency.count(), 3u);
  EXPECT_EQ(stats.latency.max(), 800u);
  EXPECT_EQ(stats.latency.min(), 0u);
  EXPECT_EQ(stats.pattern_latency[0].count(), 1u);
  EXPECT_EQ(stats.pattern_latency[0].max(), 800u);
  EXPECT_EQ(stats.pattern_latency[1].count(), 2u);
  EXPECT_EQ(stats.pattern_latency[1].max(), 0u);
  EXPECT_EQ(stats.timeout_latency.max(), 1500u);
}

TEST(RuntimeTest, MicrobatchIntervalTriggerFollowsTheClock) {
  auto nfa = CompilePattern(AThenB(10));
  ASSERT_THAT(nfa.status(), IsOk());
  ManualClock clock;
  RuntimeOptions options;
  options.loop = Loop::kMicrobatch;
  options.trigger_interval = std::chrono::milliseconds(100);
  options.clock = clock.Fn();
  Recorder sink(/*latency=*/true);
  auto runtime =
      RT::Create({{&*nfa, [](const Ev& e) { return e.id; }}}, options, sink);
  ASSERT_THAT(runtime.status(), IsOk());
  RT& rt = **runtime;
  constexpr int64_t kMs = 1'000'000;
  // Batch 1 opens at 0 with a1, takes b1 at 50 ms.
  ASSERT_THAT(rt.Push(K(1, "a1", "a", 10), FromMillis(10)), IsOk());
  clock.Set(50 * kMs);
  ASSERT_THAT(rt.Push(K(1, "b1", "b", 12), FromMillis(12)), IsOk());
  EXPECT_EQ(rt.stats().batches, 0u);
  // At 120 ms, before c is taken, batch 1 runs to watermark 11: b1 at 12
  // waits for the next batch.
  clock.Set(120 * kMs);
  ASSERT_THAT(rt.Push(K(2, "c", "c", 40), FromMillis(40)), IsOk());
  EXPECT_EQ(rt.stats().batches, 1u);
  EXPECT_THAT(sink.out, ElementsAre());
  // Batch 2 opened at 120 ms: not due at 150, due at 220.
  clock.Set(150 * kMs);
  ASSERT_THAT(rt.Poll(), IsOk());
  EXPECT_EQ(rt.stats().batches, 1u);
  clock.Set(220 * kMs);
  ASSERT_THAT(rt.Poll(), IsOk());
  EXPECT_THAT(sink.out, ElementsAre("p0 k1: a=[a1] b=[b1] latency 170000000"));
  ASSERT_THAT(rt.Finish(), IsOk());
  EXPECT_EQ(rt.stats().batches, 3u);
  EXPECT_EQ(rt.stats().commits, 3u);
}

// With both triggers off a batch ends only where the caller says
// (CommitPoint(), as lanes do at a checkpoint): there it runs to the
// watermark and commits; with nothing pushed since, it is not a batch.
TEST(RuntimeTest, CommitPointEndsTheBatchWhereTheCallerSays) {
  auto nfa = CompilePattern(AThenB(10));
  ASSERT_THAT(nfa.status(), IsOk());
  RuntimeOptions options;
  options.loop = Loop::kMicrobatch;
  options.trigger_interval = Duration(0);
  Recorder sink;
  auto runtime =
      RT::Create({{&*nfa, [](const Ev& e) { return e.id; }}}, options, sink);
  ASSERT_THAT(runtime.status(), IsOk());
  RT& rt = **runtime;
  ASSERT_THAT(rt.Push(K(1, "a1", "a", 10), FromMillis(10)), IsOk());
  ASSERT_THAT(rt.Push(K(1, "b1", "b", 12), FromMillis(12)), IsOk());
  ASSERT_THAT(rt.Observe(FromMillis(13), 0), IsOk());
  ASSERT_THAT(rt.Poll(), IsOk());
  EXPECT_EQ(rt.stats().batches, 0u);
  EXPECT_THAT(sink.out, ElementsAre());
  ASSERT_THAT(rt.CommitPoint(), IsOk());
  EXPECT_EQ(rt.stats().batches, 1u);
  EXPECT_EQ(rt.commit_points(), 1u);
  EXPECT_THAT(sink.out, ElementsAre("p0 k1: a=[a1] b=[b1]"));
  ASSERT_THAT(rt.CommitPoint(), IsOk());
  EXPECT_EQ(rt.stats().batches, 1u);
  // The event loop: the operator catches up with what Observe() moved.
  RuntimeOptions event_options;
  Recorder event_sink;
  auto event_runtime = RT::Create({{&*nfa, [](const Ev& e) { return e.id; }}},
                                  event_options, event_sink);
  ASSERT_THAT(event_runtime.status(), IsOk());
  ASSERT_THAT((*event_runtime)->Push(K(1, "a1", "a", 10), FromMillis(10)),
              IsOk());
  ASSERT_THAT((*event_runtime)->Push(K(1, "b1", "b", 12), FromMillis(12)),
              IsOk());
  EXPECT_THAT(event_sink.out, ElementsAre());
  ASSERT_THAT((*event_runtime)->Observe(FromMillis(13), 0), IsOk());
  ASSERT_THAT((*event_runtime)->CommitPoint(), IsOk());
  EXPECT_THAT(event_sink.out, ElementsAre("p0 k1: a=[a1] b=[b1]"));
  // Workers commit at barriers instead.
  options.parallelism = 2;
  auto threaded =
      RT::Create({{&*nfa, [](const Ev& e) { return e.id; }}}, options, sink);
  ASSERT_THAT(threaded.status(), IsOk());
  EXPECT_THAT((*threaded)->CommitPoint(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("parallelism 1")));
}

// ---- workers hear of the watermark mid-stream -----------------------------

// Records outputs under a lock, so the test may wait for them while workers
// run.
class WaitingRecorder : public RuntimeSink<Ev, int> {
 public:
  void OnMatch(size_t pattern, const int& key, Match<Ev> match,
               int64_t) override {
    std::lock_guard<std::mutex> lock(mu_);
    out_.push_back(MatchLine(pattern, key, match));
    cv_.notify_all();
  }
  // Waits until `count` outputs came; the bound only stops a broken build
  // from hanging.
  std::vector<std::string> WaitFor(size_t count) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(60),
                 [&] { return out_.size() >= count; });
    return out_;
  }
  std::vector<std::string> out() {
    std::lock_guard<std::mutex> lock(mu_);
    return out_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> out_;
};

// Two keys owned by different workers of two.
std::pair<int, int> KeysOnDifferentWorkers() {
  for (int key = 1;; ++key) {
    if (RT::WorkerOf(key, 2) != RT::WorkerOf(0, 2)) return {0, key};
  }
}

// Pushes a1 b1 for one key, then x of a key on the other worker, whose
// watermark (29) releases b1 (12) on the first worker; after `step` (none:
// nullptr), waits for the match before Finish().
void ExpectMatchBeforeFinish(
    RuntimeOptions options,
    const std::function<void(RT&, WaitingRecorder&)>& step) {
  auto nfa = CompilePattern(AThenB(10));
  ASSERT_THAT(nfa.status(), IsOk());
  const auto [k1, k2] = KeysOnDifferentWorkers();
  ManualClock clock;
  options.parallelism = 2;
  options.clock = clock.Fn();
  WaitingRecorder sink;
  auto runtime =
      RT::Create({{&*nfa, [](const Ev& e) { return e.id; }}}, options, sink);
  ASSERT_THAT(runtime.status(), IsOk());
  RT& rt = **runtime;
  ASSERT_THAT(rt.Push(K(k1, "a1", "a", 10), FromMillis(10)), IsOk());
  ASSERT_THAT(rt.Push(K(k1, "b1", "b", 12), FromMillis(12)), IsOk());
  ASSERT_THAT(rt.Push(K(k2, "x", "x", 30), FromMillis(30)), IsOk());
  if (step) step(rt, sink);
  EXPECT_THAT(sink.WaitFor(1),
              ElementsAre(absl::StrCat("p0 k", k1, ": a=[a1] b=[b1]")));
  ASSERT_THAT(rt.Finish(), IsOk());
}

TEST(RuntimeTest, WorkersHearOfEveryWatermarkAdvanceWithIntervalZero) {
  RuntimeOptions options;
  options.watermark_interval = std::chrono::microseconds(0);
  ExpectMatchBeforeFinish(options, nullptr);
  options.loop = Loop::kRealtime;
  ExpectMatchBeforeFinish(options, nullptr);
}

TEST(RuntimeTest, PollTellsIdleWorkersOfTheWatermark) {
  RuntimeOptions options;
  options.watermark_interval = std::chrono::hours(1);
  ExpectMatchBeforeFinish(options, [](RT& rt, WaitingRecorder& sink) {
    // The clock stands still: no broadcast has been due, so the worker of
    // b1 cannot have released it yet.
    EXPECT_THAT(sink.out(), ElementsAre());
    ASSERT_THAT(rt.Poll(), IsOk());
  });
}

TEST(RuntimeTest, MicrobatchBoundaryReachesEveryWorker) {
  RuntimeOptions options;
  options.loop = Loop::kMicrobatch;
  options.trigger_events = 3;
  options.trigger_interval = Duration(0);
  ExpectMatchBeforeFinish(options, nullptr);
}

// ---- commits ------------------------------------------------------------

// In-memory state that counts Commit() calls.
class CountingBackend final : public StateBackend<Ev, int> {
 public:
  explicit CountingBackend(std::atomic<int>& commits) : commits_(commits) {}
  absl::StatusOr<KeyState<Ev>*> Get(const int& key) override {
    return inner_.Get(key);
  }
  absl::Status Put(const int& key, KeyState<Ev>& state) override {
    return inner_.Put(key, state);
  }
  absl::Status Erase(const int& key) override { return inner_.Erase(key); }
  absl::Status Commit() override {
    ++commits_;
    return inner_.Commit();
  }
  absl::Status ForEach(
      absl::FunctionRef<absl::Status(const int&, KeyState<Ev>&)> fn) override {
    return inner_.ForEach(fn);
  }
  size_t key_count() const override { return inner_.key_count(); }

 private:
  InMemoryStateBackend<Ev, int> inner_;
  std::atomic<int>& commits_;
};

// Pushes 10 on-time events and one late, at clock 0.4 ms apart; returns
// Commit() calls per backend (worker x pattern) and the stats.
std::vector<int> CountCommits(RuntimeOptions options, RuntimeStats* stats) {
  auto nfa = CompilePattern(AThenB(10));
  EXPECT_THAT(nfa.status(), IsOk());
  ManualClock clock;
  options.clock = clock.Fn();
  std::vector<std::atomic<int>> commits(options.parallelism * 2);
  Recorder sink;
  auto by_id = [](const Ev& e) { return e.id; };
  auto runtime = RT::Create(
      {{&*nfa, by_id}, {&*nfa, by_id}}, options, sink,
      [&commits](size_t worker, size_t pattern)
          -> absl::StatusOr<std::unique_ptr<StateBackend<Ev, int>>> {
        return std::make_unique<CountingBackend>(commits[worker * 2 + pattern]);
      });
  EXPECT_THAT(runtime.status(), IsOk());
  for (int i = 1; i <= 10; ++i) {
    clock.Set(i * 400'000);
    EXPECT_THAT((*runtime)->Push(K(i, "e", "a", i * 10), FromMillis(i * 10)),
                IsOk());
    if (i == 5) {
      EXPECT_THAT((*runtime)->Push(K(1, "late", "a", 1), FromMillis(1)),
                  IsOk());
    }
  }
  EXPECT_THAT((*runtime)->Finish(), IsOk());
  *stats = (*runtime)->stats();
  return std::vector<int>(commits.begin(), commits.end());
}

TEST(RuntimeTest, EventLoopCommitsAfterEveryOnTimeEvent) {
  RuntimeOptions options;
  RuntimeStats stats;
  EXPECT_THAT(CountCommits(options, &stats), ElementsAre(11, 11));
  EXPECT_EQ(stats.commits, 11u);
  EXPECT_EQ(stats.late, 1u);
}

TEST(RuntimeTest, MicrobatchCommitsOncePerBatch) {
  RuntimeOptions options;
  options.loop = Loop::kMicrobatch;
  options.trigger_events = 4;
  options.trigger_interval = Duration(0);
  RuntimeStats stats;
  // Batches at 4 and 8 events, the last at Finish.
  EXPECT_THAT(CountCommits(options, &stats), ElementsAre(3, 3));
  EXPECT_EQ(stats.batches, 3u);
  EXPECT_EQ(stats.commits, 3u);
  // With workers, each commits once per batch too.
  options.parallelism = 2;
  EXPECT_THAT(CountCommits(options, &stats), ElementsAre(3, 3, 3, 3));
}

TEST(RuntimeTest, RealtimeCommitsEveryCommitInterval) {
  RuntimeOptions options;
  options.loop = Loop::kRealtime;
  options.commit_interval = Duration(1);
  RuntimeStats stats;
  // Pushes at 0.4 ms steps: commits at 1.2, 2.4 and 3.6 ms, and at Finish.
  EXPECT_THAT(CountCommits(options, &stats), ElementsAre(4, 4));
  EXPECT_EQ(stats.commits, 4u);
  EXPECT_EQ(stats.batches, 0u);
  options.parallelism = 3;
  EXPECT_THAT(CountCommits(options, &stats), ElementsAre(4, 4, 4, 4, 4, 4));
}

// ---- errors and lifecycle -------------------------------------------------

// a followed by b, whose first condition throws on events labelled "boom".
P ThrowsOnBoom() {
  return P::Begin("a")
      .Where([](const Ev& e) {
        if (e.label == "boom") throw std::runtime_error("bad event");
        return e.name == "a";
      })
      .FollowedBy("b")
      .Where(NameIs("b"));
}

TEST(RuntimeTest, ConditionErrorsReachTheCallerAndStopTheRun) {
  auto nfa = CompilePattern(ThrowsOnBoom());
  ASSERT_THAT(nfa.status(), IsOk());
  const auto expected = StatusIs(absl::StatusCode::kUnknown,
                                 HasSubstr("threw on the event with seq 1: "
                                           "bad event"));
  for (size_t parallelism : {1, 2}) {
    SCOPED_TRACE(parallelism);
    RuntimeOptions options;
    options.parallelism = parallelism;
    Recorder sink;
    auto runtime =
        RT::Create({{&*nfa, [](const Ev& e) { return e.id; }}}, options, sink);
    ASSERT_THAT(runtime.status(), IsOk());
    RT& rt = **runtime;
    absl::Status first;
    for (int i = 0; i < 50 && first.ok(); ++i) {
      first = rt.Push(K(1, i == 1 ? "boom" : "e", "a", i), FromMillis(i));
    }
    if (parallelism == 1) {
      EXPECT_THAT(first, expected);
    }
    // Once failed, the run stays failed.
    if (!first.ok()) {
      EXPECT_THAT(rt.Push(K(1, "e", "a", 99), FromMillis(99)), expected);
    }
    EXPECT_THAT(rt.Finish(), expected);
  }
}

// A deferred event its materializer refuses stops the run with that error,
// at every parallelism; PushDeferred() without a materializer, or with the
// wrong number of key hashes, is refused.
TEST(RuntimeTest, MaterializerErrorsStopTheRun) {
  auto nfa = CompilePattern(AThenB(100));
  ASSERT_THAT(nfa.status(), IsOk());
  const auto expected =
      StatusIs(absl::StatusCode::kDataLoss, "cannot build 'bad'");
  for (size_t parallelism : {1, 2, 3}) {
    SCOPED_TRACE(parallelism);
    RuntimeOptions options;
    options.parallelism = parallelism;
    Recorder sink;
    auto runtime =
        RT::Create({{&*nfa, [](const Ev& e) { return e.id; }}}, options, sink,
                   nullptr, [](std::string_view bytes) -> absl::StatusOr<Ev> {
                     if (bytes == "bad") {
                       return absl::DataLossError(absl::StrCat(
                           "cannot build '", std::string(bytes), "'"));
                     }
                     return K(1, std::string(bytes), "a", 1);
                   });
    ASSERT_THAT(runtime.status(), IsOk());
    RT& rt = **runtime;
    const std::optional<uint64_t> hash = absl::Hash<int>{}(1);
    EXPECT_THAT(rt.PushDeferred("ok", FromMillis(1), 0, {}),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         "runtime push of a deferred event with 0 key hashes "
                         "for 1 patterns"));
    absl::Status first;
    for (int i = 0; i < 50 && first.ok(); ++i) {
      first = rt.PushDeferred(i == 3 ? "bad" : "ok", FromMillis(10 + i), 0,
                              {&hash, 1});
    }
    if (parallelism == 1) {
      EXPECT_THAT(first, expected);
    }
    EXPECT_THAT(rt.Finish(), expected);
  }
  Recorder sink;
  auto runtime = RT::Create({{&*nfa, [](const Ev& e) { return e.id; }}},
                            RuntimeOptions(), sink);
  ASSERT_THAT(runtime.status(), IsOk());
  EXPECT_THAT((*runtime)->PushDeferred("x", FromMillis(1), 0, {}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "runtime push of deferred events needs a "
                       "materializer"));
}

// PushDeferred() with the source's seqs (Kafka: partition and offset):
// a late event reports its own, and a later push without one numbers on
// from the largest, at every parallelism.
TEST(RuntimeTest, DeferredEventsTakeTheSeqsGiven) {
  auto nfa = CompilePattern(AThenB(100));
  ASSERT_THAT(nfa.status(), IsOk());
  for (size_t parallelism : {1, 2}) {
    SCOPED_TRACE(parallelism);
    RuntimeOptions options;
    options.parallelism = parallelism;
    Recorder sink;
    auto runtime =
        RT::Create({{&*nfa, [](const Ev& e) { return e.id; }}}, options, sink,
                   nullptr, [](std::string_view bytes) -> absl::StatusOr<Ev> {
                     return K(1, std::string(bytes), "a", 0);
                   });
    ASSERT_THAT(runtime.status(), IsOk());
    RT& rt = **runtime;
    const std::optional<uint64_t> hash = absl::Hash<int>{}(1);
    EXPECT_THAT(rt.PushDeferred("e0", FromMillis(50), 0, {&hash, 1}, 700),
                IsOk());
    EXPECT_THAT(rt.PushDeferred("late", FromMillis(10), 0, {&hash, 1}, 900),
                IsOk());
    EXPECT_THAT(rt.Push(K(1, "next", "x", 5), FromMillis(5)), IsOk());
    EXPECT_THAT(rt.Finish(), IsOk());
    EXPECT_THAT(sink.late,
                ElementsAre("late late seq 900", "late next seq 901"));
  }
}

// A worker that failed before a barrier: the barrier's function (a
// checkpoint) never runs, the error comes back instead.
TEST(RuntimeTest, BarrierAfterAWorkerFailedDoesNotRunItsFunction) {
  auto nfa = CompilePattern(ThrowsOnBoom());
  ASSERT_THAT(nfa.status(), IsOk());
  RuntimeOptions options;
  options.parallelism = 2;
  options.external_commits = true;
  Recorder sink;
  auto runtime =
      RT::Create({{&*nfa, [](const Ev& e) { return e.id; }}}, options, sink);
  ASSERT_THAT(runtime.status(), IsOk());
  ASSERT_THAT((*runtime)->Push(K(1, "boom", "a", 1), FromMillis(1)), IsOk());
  // The watermark passes "boom" (its worker processes it at the latest at
  // the barrier, which carries the watermark).
  ASSERT_THAT((*runtime)->Push(K(3, "e", "x", 5), FromMillis(5)), IsOk());
  bool ran = false;
  EXPECT_THAT((*runtime)->AtBarrier([&] {
    ran = true;
    return absl::OkStatus();
  }),
              StatusIs(absl::StatusCode::kUnknown, HasSubstr("bad event")));
  EXPECT_FALSE(ran);
  EXPECT_THAT((*runtime)->Finish(),
              StatusIs(absl::StatusCode::kUnknown, HasSubstr("bad event")));
}

TEST(RuntimeTest, PushAfterFinishFails) {
  auto nfa = CompilePattern(AThenB(10));
  ASSERT_THAT(nfa.status(), IsOk());
  for (size_t parallelism : {1, 2}) {
    RuntimeOptions options;
    options.parallelism = parallelism;
    Recorder sink;
    auto runtime =
        RT::Create({{&*nfa, [](const Ev& e) { return e.id; }}}, options, sink);
    ASSERT_THAT(runtime.status(), IsOk());
    ASSERT_THAT((*runtime)->Finish(), IsOk());
    EXPECT_THAT(
        (*runtime)->Push(K(1, "a", "a", 1), FromMillis(1)),
        StatusIs(absl::StatusCode::kFailedPrecondition, "push after Finish()"));
    EXPECT_THAT((*runtime)->Finish(),
                StatusIs(absl::StatusCode::kFailedPrecondition,
                         "runtime already finished"));
  }
}

TEST(RuntimeTest, DestroyingWithoutFinishStopsTheWorkers) {
  auto nfa = CompilePattern(AThenB(10));
  ASSERT_THAT(nfa.status(), IsOk());
  RuntimeOptions options;
  options.parallelism = 3;
  options.queue_capacity = 2;
  Recorder sink;
  auto runtime =
      RT::Create({{&*nfa, [](const Ev& e) { return e.id; }}}, options, sink);
  ASSERT_THAT(runtime.status(), IsOk());
  for (int i = 0; i < 100; ++i) {
    ASSERT_THAT(
        (*runtime)->Push(K(i % 7, "e", i % 2 ? "a" : "b", i), FromMillis(i)),
        IsOk());
  }
  runtime->reset();  // joins; must not hang or leak
}

TEST(RuntimeTest, CreateRejectsWhatCannotRun) {
  auto nfa = CompilePattern(AThenB(10));
  ASSERT_THAT(nfa.status(), IsOk());
  auto by_id = [](const Ev& e) { return e.id; };
  Recorder sink;
  EXPECT_THAT(RT::Create({}, {}, sink).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "runtime needs at least one pattern"));
  EXPECT_THAT(RT::Create({{&*nfa, by_id}, {nullptr, by_id}}, {}, sink).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "runtime pattern 1 has no nfa"));
  EXPECT_THAT(RT::Create({{&*nfa, nullptr}}, {}, sink).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "runtime pattern 0 has no key selector"));
  RuntimeOptions options;
  options.parallelism = 0;
  EXPECT_THAT(RT::Create({{&*nfa, by_id}}, options, sink).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "runtime parallelism must be >= 1"));
  options.parallelism = 2;
  EXPECT_THAT(
      RT::Create({{&*nfa, by_id}}, options, sink,
                 [](size_t worker, size_t)
                     -> absl::StatusOr<std::unique_ptr<StateBackend<Ev, int>>> {
                   if (worker == 1) return absl::UnavailableError("disk gone");
                   return std::make_unique<InMemoryStateBackend<Ev, int>>();
                 })
          .status(),
      StatusIs(absl::StatusCode::kUnavailable, "disk gone"));
}

TEST(RuntimeTest, LoopNamesRoundTrip) {
  for (Loop loop : {Loop::kEvent, Loop::kMicrobatch, Loop::kRealtime}) {
    auto parsed = ParseLoop(LoopName(loop));
    ASSERT_THAT(parsed.status(), IsOk());
    EXPECT_EQ(*parsed, loop);
  }
  EXPECT_THAT(ParseLoop("batch").status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "unknown loop 'batch' (expected event, microbatch or "
                       "realtime)"));
}

TEST(RuntimeTest, WorkerOfSpreadsKeysOverEveryWorker) {
  std::vector<int> per_worker(3);
  for (int key = 0; key < 300; ++key) {
    const size_t worker = RT::WorkerOf(key, 3);
    ASSERT_LT(worker, 3u);
    ++per_worker[worker];
  }
  for (int count : per_worker) EXPECT_GT(count, 50);
}

// RuntimePattern::key_hash routes events to workers in place of the key
// selector: the outputs are those of one Operator (per key, in order), and
// the hash is what routes.
TEST(RuntimeTest, KeyHashRoutesInsteadOfTheKeySelector) {
  const Workload plain = MakeWorkload(7, 2000);
  Workload hashed = MakeWorkload(7, 2000);
  auto hashes = std::make_shared<std::atomic<uint64_t>>(0);
  hashed.patterns[0].key_hash = [hashes](const Ev& e) -> uint64_t {
    hashes->fetch_add(1, std::memory_order_relaxed);
    return absl::Hash<int>{}(e.id);
  };
  hashed.patterns[1].key_hash = [](const Ev& e) -> uint64_t {
    return absl::Hash<int>{}(e.id % 5);
  };
  const Outputs reference = RunReference(plain);
  for (const size_t parallelism : {2u, 3u}) {
    Config config{.name = "p", .parallelism = parallelism};
    RuntimeStats stats;
    const Outputs outputs = RunRuntime(hashed, config, &stats);
    EXPECT_EQ(PerKey(outputs.out), PerKey(reference.out)) << parallelism;
    EXPECT_EQ(outputs.late, reference.late) << parallelism;
  }
  EXPECT_GT(hashes->load(), 0u);
}

// At an aligned barrier every worker has processed what was pushed before
// it: the outputs so far and the snapshot (waiting events once each, in
// processing order; the operators' watermark) are those of one worker at
// the same place of the stream, in every loop.
TEST(RuntimeTest, BarrierSnapshotIsTheOneWorkerSnapshot) {
  const Workload w = MakeWorkload(5, 400);
  for (Loop loop : {Loop::kEvent, Loop::kMicrobatch, Loop::kRealtime}) {
    SCOPED_TRACE(LoopName(loop));
    auto at_half = [&](size_t parallelism, std::vector<std::string>& out) {
      RuntimeOptions options;
      options.loop = loop;
      options.parallelism = parallelism;
      options.max_out_of_orderness = w.bound;
      options.trigger_interval = Duration(0);
      options.trigger_events = 7;
      options.commit_interval = Duration(0);
      options.external_commits = true;
      Recorder sink;
      auto runtime = RT::Create(w.patterns, options, sink);
      EXPECT_THAT(runtime.status(), IsOk());
      for (size_t idx = 0; idx < w.events.size() / 2; ++idx) {
        const Ev& e = w.events[idx];
        EXPECT_THAT((*runtime)->Push(e, FromMillis(e.ts), 0), IsOk());
      }
      RuntimeSnapshot<Ev> snapshot;
      int calls = 0;
      EXPECT_THAT((*runtime)->AtBarrier([&] {
        ++calls;
        snapshot = (*runtime)->Export();
        out = sink.out;
        return absl::OkStatus();
      }),
                  IsOk());
      EXPECT_EQ(calls, 1);
      EXPECT_THAT((*runtime)->AtBarrier(
                      [] { return absl::DataLossError("from the function"); }),
                  StatusIs(absl::StatusCode::kDataLoss, "from the function"));
      EXPECT_THAT((*runtime)->Finish(), IsOk());
      std::sort(out.begin(), out.end());
      return snapshot;
    };
    std::vector<std::string> one_out;
    std::vector<std::string> three_out;
    const RuntimeSnapshot<Ev> one = at_half(1, one_out);
    const RuntimeSnapshot<Ev> three = at_half(3, three_out);
    EXPECT_EQ(three_out, one_out);
    EXPECT_FALSE(one_out.empty());
    EXPECT_EQ(three.next_seq, one.next_seq);
    EXPECT_EQ(three.max_ts, one.max_ts);
    EXPECT_EQ(three.source_watermark, one.source_watermark);
    EXPECT_EQ(three.operator_watermark, one.operator_watermark);
    auto describe = [](const RuntimeSnapshot<Ev>& snapshot) {
      std::vector<std::string> held;
      for (const HeldEvent<Ev>& e : snapshot.pending) {
        held.push_back(
            absl::StrCat(e.event.label, "@", ToMillis(e.ts), "#", e.seq));
      }
      return held;
    };
    EXPECT_EQ(describe(three), describe(one));
    EXPECT_FALSE(one.pending.empty());
  }
}

// A snapshot imports into a fresh runtime with any number of workers; each
// keeps the waiting events of its keys, so what they release is the same
// for any number (the backends start empty here: only matches among the
// waiting events come out).
TEST(RuntimeTest, ImportSpreadsWaitingEventsOverAnyNumberOfWorkers) {
  Workload w = MakeWorkload(6, 300);
  w.bound = Duration(200);  // many events wait
  RuntimeOptions options;
  options.max_out_of_orderness = w.bound;
  RuntimeSnapshot<Ev> snapshot;
  {
    Recorder sink;
    auto runtime = RT::Create(w.patterns, options, sink);
    ASSERT_THAT(runtime.status(), IsOk());
    for (const Ev& e : w.events) {
      ASSERT_THAT((*runtime)->Push(e, FromMillis(e.ts), 0), IsOk());
    }
    snapshot = (*runtime)->Export();
  }
  ASSERT_GT(snapshot.pending.size(), 50u);
  std::vector<std::string> one_worker;
  for (size_t parallelism : {1, 2, 4}) {
    SCOPED_TRACE(parallelism);
    options.parallelism = parallelism;
    Recorder sink;
    auto runtime = RT::Create(w.patterns, options, sink);
    ASSERT_THAT(runtime.status(), IsOk());
    ASSERT_THAT((*runtime)->Import(snapshot), IsOk());
    ASSERT_THAT((*runtime)->Finish(), IsOk());
    std::sort(sink.out.begin(), sink.out.end());
    if (parallelism == 1) one_worker = sink.out;
    EXPECT_EQ(sink.out, one_worker);
    EXPECT_THAT((*runtime)->Import(snapshot),
                StatusIs(absl::StatusCode::kFailedPrecondition,
                         "runtime import needs a fresh runtime"));
  }
  EXPECT_FALSE(one_worker.empty());
}

}  // namespace
}  // namespace cep
