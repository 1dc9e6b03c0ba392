// Tests of the Evaluator beyond FlinkCEP's own suites: the partial-match
// cap and its policies, conditions that throw, incremental aggregates,
// timeouts, metrics, and no heap allocation for events that start or extend
// no partial match.
#include "cep/evaluator.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iterator>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "testing/nfa_harness.hpp"
#include "testing/status_matchers.hpp"

// Counts heap allocations in this test binary.
namespace {
std::atomic<long> g_allocations{0};
}  // namespace

// GCC cannot tell that these replace the global operators as a pair.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace cep {
namespace {

using ::cep::testing::E;
using ::cep::testing::Ev;
using ::cep::testing::Harness;
using ::cep::testing::NameIs;
using ::cep::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
using ::testing::UnorderedElementsAreArray;
using P = Pattern<Ev>;

// a followedByAny b+ (any combination) never completes without a "c": its
// partial matches double with every b.
P GrowingPattern() {
  return P::Begin("a")
      .Where(NameIs("a"))
      .FollowedByAny("b")
      .Where(NameIs("b"))
      .OneOrMore()
      .AllowCombinations()
      .FollowedBy("c")
      .Where(NameIs("c"));
}

TEST(EvaluatorTest, CapDropOldestKeepsNewestPartialMatches) {
  EvaluatorOptions options;
  options.max_partial_matches = 4;
  options.overflow_policy = OverflowPolicy::kDropOldest;
  Harness<Ev> h(GrowingPattern(), options);
  h.FeedAll({E("a1", "a", 0, 1), E("b1", "b", 0, 2), E("b2", "b", 0, 3),
             E("b3", "b", 0, 4), E("a2", "a", 0, 5)});
  EXPECT_EQ(h.partial_matches(), 4u);
  EXPECT_GT(h.evaluator().metrics().evicted_partial_matches, 0u);
  // The branch started by a2 is the newest: it survives, and completes.
  EXPECT_THAT(h.Feed(E("b4", "b", 0, 6), 6), IsEmpty());
  EXPECT_THAT(h.Feed(E("c", "c", 0, 7), 7),
              ::testing::Contains("a=[a2] b=[b4] c=[c]"));
}

TEST(EvaluatorTest, CapRejectNewStartsKeepsOldestPartialMatches) {
  EvaluatorOptions options;
  options.max_partial_matches = 3;
  options.overflow_policy = OverflowPolicy::kRejectNewStarts;
  Harness<Ev> h(GrowingPattern(), options);
  h.FeedAll({E("a1", "a", 0, 1), E("b1", "b", 0, 2), E("b2", "b", 0, 3)});
  ASSERT_EQ(h.partial_matches(), 3u);
  uint64_t evicted = h.evaluator().metrics().evicted_partial_matches;
  h.Feed(E("a2", "a", 0, 4), 4);  // a new start, refused: the cap is reached
  EXPECT_EQ(h.partial_matches(), 3u);
  EXPECT_GT(h.evaluator().metrics().evicted_partial_matches, evicted);
  // Every match that completes started with a1: a2's branch was refused.
  std::vector<std::string> matches = h.Feed(E("c", "c", 0, 5), 5);
  EXPECT_FALSE(matches.empty());
  for (const std::string& m : matches) {
    EXPECT_THAT(m, ::testing::StartsWith("a=[a1]"));
  }
}

TEST(EvaluatorTest, CapBoundsBufferedEventsOfHotKey) {
  EvaluatorOptions options;
  options.max_partial_matches = 16;
  Harness<Ev> h(GrowingPattern(), options);
  h.Feed(E("a", "a", 0, 0), 0);
  for (int i = 1; i <= 200; ++i) h.Feed(E("b", "b", 0, i), i);
  EXPECT_EQ(h.partial_matches(), 16u);
  // Evicted branches released their events: no more than the live branches
  // can reach (at most one "b" per step kept by the newest branches).
  EXPECT_LE(h.buffered_events(), 32u);
}

// `begin a followed by any b+ followed by c` (#13: one key exhausted 6 GB
// after 300 events): each b extends every partial match in the loop and the
// branch waiting for its first b starts one more, so after k b's a key holds
// 1 + k(k+1)/2 partial matches.
P QuadraticPattern() {
  return P::Begin("a")
      .Where(NameIs("a"))
      .FollowedByAny("b")
      .Where(NameIs("b"))
      .OneOrMore()
      .FollowedBy("c")
      .Where(NameIs("c"));
}

TEST(EvaluatorTest, WithoutCapPartialMatchesGrowQuadratically) {
  EvaluatorOptions options;
  options.max_partial_matches = 0;
  Harness<Ev> h(QuadraticPattern(), options);
  h.Feed(E("a", "a", 0, 0), 0);
  for (size_t k = 1; k <= 40; ++k) {
    h.Feed(E("b", "b", 0, static_cast<int64_t>(k)), static_cast<int64_t>(k));
    ASSERT_EQ(h.partial_matches(), 1 + k * (k + 1) / 2) << k;
  }
  EXPECT_EQ(h.evaluator().metrics().evicted_partial_matches, 0u);
}

TEST(EvaluatorTest, CapDefaultsToTenThousandPerKey) {
  EXPECT_EQ(EvaluatorOptions{}.max_partial_matches, 10000u);
  EXPECT_EQ(kDefaultMaxPartialMatches, 10000u);
  // Without options the key of #13 stops at 10000 partial matches (reached
  // with the 141st b: 1 + 141 * 142 / 2 = 10012).
  Harness<Ev> h(QuadraticPattern());
  h.Feed(E("a", "a", 0, 0), 0);
  for (int k = 1; k <= 300; ++k) {
    h.Feed(E("b", "b", 0, k), k);
    ASSERT_LE(h.partial_matches(), 10000u) << k;
    if (k == 140) {
      ASSERT_EQ(h.partial_matches(), 9871u);
      ASSERT_EQ(h.evaluator().metrics().evicted_partial_matches, 0u);
    }
    if (k == 141) {
      ASSERT_EQ(h.evaluator().metrics().evicted_partial_matches, 12u);
    }
  }
  EXPECT_EQ(h.partial_matches(), 10000u);
}

TEST(EvaluatorTest, CapDropOldestNeverExceededAndEvictionsCountedExactly) {
  // Cap 16, reached with the 5th b (1 + 5 * 6 / 2 = 16). Dropping the
  // oldest keeps the 16 newest: the 6 in the loop that took the last b and
  // those that start it, which make 22 with the next b: 6 go per b.
  EvaluatorOptions options;
  options.max_partial_matches = 16;
  options.overflow_policy = OverflowPolicy::kDropOldest;
  Harness<Ev> h(QuadraticPattern(), options);
  h.Feed(E("a", "a", 0, 0), 0);
  for (size_t k = 1; k <= 300; ++k) {
    h.Feed(E("b", "b", 0, static_cast<int64_t>(k)), static_cast<int64_t>(k));
    ASSERT_EQ(h.partial_matches(), std::min<size_t>(16, 1 + k * (k + 1) / 2))
        << k;
    ASSERT_EQ(h.evaluator().metrics().evicted_partial_matches,
              k <= 5 ? 0u : 6 * (k - 5))
        << k;
    // Evicted partial matches released the events and nodes only they
    // used: the a and the last five b's stay.
    if (k >= 5) {
      ASSERT_EQ(h.buffered_events(), 6u) << k;
      ASSERT_EQ(h.state().buffer().node_count(), 6u) << k;
    }
  }
}

TEST(EvaluatorTest, CapRefuseNewNeverExceededAndEvictionsCountedExactly) {
  // Refusing the newest keeps the oldest 16: the one that took every b
  // holds every event (bound its length with a window), and each b evicts
  // exactly one partial match once the growth has settled.
  EvaluatorOptions options;
  options.max_partial_matches = 16;
  options.overflow_policy = OverflowPolicy::kRejectNewStarts;
  Harness<Ev> h(QuadraticPattern(), options);
  h.Feed(E("a", "a", 0, 0), 0);
  const uint64_t expected[] = {0, 0, 0, 0, 0, 0, 6, 10, 13, 16, 18, 20};
  for (size_t k = 1; k <= 300; ++k) {
    h.Feed(E("b", "b", 0, static_cast<int64_t>(k)), static_cast<int64_t>(k));
    ASSERT_EQ(h.partial_matches(), std::min<size_t>(16, 1 + k * (k + 1) / 2))
        << k;
    const uint64_t evicted = h.evaluator().metrics().evicted_partial_matches;
    if (k < std::size(expected)) {
      ASSERT_EQ(evicted, expected[k]) << k;
    }
    if (k >= 50) {
      ASSERT_EQ(evicted, k + 14) << k;
    }
  }
  EXPECT_EQ(h.buffered_events(), 301u);
}

// `begin s followed by e` where e's price equals s's, skipping to the next
// event after a match: the partial match of a price no later event has
// holds back every match that starts after it.
P HeldBackPattern() {
  return P::Begin("s", AfterMatchSkip::SkipToNext())
      .Where(NameIs("s"))
      .FollowedBy("e")
      .Where([](const Ev& e, const Context<Ev>& ctx) {
        return e.name == "e" && e.price == ctx.EventsFor("s")[0]->price;
      });
}

std::vector<Ev> HeldBackEvents(int pairs) {
  std::vector<Ev> events = {E("s0", "s", 1, 0)};
  for (int i = 1; i <= pairs; ++i) {
    events.push_back(E(absl::StrCat("s", i), "s", 2, 2 * i - 1));
    events.push_back(E(absl::StrCat("e", i), "e", 2, 2 * i));
  }
  return events;
}

TEST(EvaluatorTest, WithoutCapHeldBackMatchesGrow) {
  EvaluatorOptions options;
  options.max_partial_matches = 0;
  Harness<Ev> h(HeldBackPattern(), options);
  EXPECT_THAT(h.FeedAll(HeldBackEvents(6)), IsEmpty());
  EXPECT_EQ(h.state().completed().size(), 6u);
}

TEST(EvaluatorTest, CapCountsHeldBackMatchesDropOldest) {
  // Cap 4: s0's partial match, held-back matches and the newest s fit until
  // s4 makes 5; then s0's partial match (the oldest) goes and the 3 matches
  // it held back come out. Later ones are not held back.
  EvaluatorOptions options;
  options.max_partial_matches = 4;
  Harness<Ev> h(HeldBackPattern(), options);
  const std::vector<Ev> events = HeldBackEvents(5);
  for (size_t i = 0; i <= 6; ++i) {
    EXPECT_THAT(h.Feed(events[i], events[i].ts), IsEmpty()) << i;
  }
  EXPECT_EQ(h.state().completed().size(), 3u);
  EXPECT_EQ(h.evaluator().metrics().evicted_partial_matches, 0u);
  EXPECT_THAT(h.Feed(events[7], events[7].ts),  // s4
              ElementsAre("s=[s1] e=[e1]", "s=[s2] e=[e2]", "s=[s3] e=[e3]"));
  EXPECT_EQ(h.evaluator().metrics().evicted_partial_matches, 1u);
  EXPECT_THAT(h.Feed(events[8], events[8].ts), ElementsAre("s=[s4] e=[e4]"));
  EXPECT_THAT(h.Feed(events[9], events[9].ts), IsEmpty());
  EXPECT_THAT(h.Feed(events[10], events[10].ts), ElementsAre("s=[s5] e=[e5]"));
  EXPECT_TRUE(h.state().completed().empty());
}

TEST(EvaluatorTest, CapCountsHeldBackMatchesRefuseNew) {
  // Refusing the newest keeps s0's partial match and the 3 matches it holds
  // back; every later s is refused (evicted), so nothing more is held.
  EvaluatorOptions options;
  options.max_partial_matches = 4;
  options.overflow_policy = OverflowPolicy::kRejectNewStarts;
  Harness<Ev> h(HeldBackPattern(), options);
  EXPECT_THAT(h.FeedAll(HeldBackEvents(20)), IsEmpty());
  EXPECT_EQ(h.state().completed().size(), 3u);
  EXPECT_EQ(h.partial_matches(), 1u);
  EXPECT_EQ(h.evaluator().metrics().evicted_partial_matches, 17u);
}

TEST(EvaluatorTest, CapEvictsTheSamePartialMatchesEveryRun) {
  // Ties (partial matches that started with the same event) go in the
  // order they were made, so two runs keep the same ones.
  auto run = [] {
    EvaluatorOptions options;
    options.max_partial_matches = 5;
    Harness<Ev> h(QuadraticPattern(), options);
    std::vector<Ev> events = {E("a", "a", 0, 0)};
    for (int i = 1; i <= 6; ++i) {
      events.push_back(E(absl::StrCat("b", i), "b", 0, i));
    }
    events.push_back(E("c", "c", 0, 7));
    return h.FeedAll(events);
  };
  std::vector<std::string> first = run();
  EXPECT_EQ(run(), first);
  // The 5 newest partial matches, 4 of them in the loop, complete.
  EXPECT_THAT(first, ElementsAre("a=[a] b=[b4] c=[c]", "a=[a] b=[b5 b6] c=[c]",
                                 "a=[a] b=[b5] c=[c]", "a=[a] b=[b6] c=[c]"));
}

TEST(EvaluatorTest, UnreportedTimeoutsAreCountedNotBuilt) {
  P p = P::Begin("a")
            .Where(NameIs("a"))
            .FollowedBy("b")
            .Where(NameIs("b"))
            .Within(std::chrono::milliseconds(10));
  EvaluatorOptions options;
  options.report_timeouts = false;
  Harness<Ev> h(p, options);
  h.FeedAll({E("a1", "a", 0, 1), E("a2", "a", 0, 3), E("a3", "a", 0, 5)});
  const long before = g_allocations.load();
  h.Advance(14);
  // Two windows closed: counted, released, and no Match built (a Match
  // copies its events: it would allocate).
  EXPECT_EQ(g_allocations.load(), before);
  EXPECT_THAT(h.timeouts(), IsEmpty());
  EXPECT_EQ(h.evaluator().metrics().timeouts, 2u);
  EXPECT_EQ(h.partial_matches(), 1u);
  EXPECT_THAT(h.Feed(E("b", "b", 0, 14), 14), ElementsAre("a=[a3] b=[b]"));
  h.Advance(100);
  EXPECT_EQ(h.evaluator().metrics().timeouts, 2u);
  EXPECT_EQ(h.buffered_events(), 0u);
  EXPECT_TRUE(h.state().IsIdle());
}

TEST(EvaluatorTest, AnyCombinationMatchesEverySubsetOfLoopEvents) {
  // a, then 7 b's, then c: every non-empty subset of the b's is a match.
  // The node of the last b gets an edge from each of 64 branches, so the
  // shared buffer's edge index (nodes with more than 16 edges) is used.
  Harness<Ev> h(GrowingPattern());
  std::vector<Ev> events = {E("a", "a", 0, 0)};
  for (int i = 1; i <= 7; ++i)
    events.push_back(E(absl::StrCat("b", i), "b", 0, i));
  events.push_back(E("c", "c", 0, 8));
  std::vector<std::string> matches = h.FeedAll(events);
  std::vector<std::string> expected;
  for (int subset = 1; subset < 128; ++subset) {
    std::string bs;
    for (int i = 1; i <= 7; ++i) {
      if (subset & (1 << (i - 1)))
        absl::StrAppend(&bs, bs.empty() ? "" : " ", "b", i);
    }
    expected.push_back(absl::StrCat("a=[a] b=[", bs, "] c=[c]"));
  }
  EXPECT_THAT(matches, UnorderedElementsAreArray(expected));
  EXPECT_EQ(h.partial_matches(), 128u);  // 127 loop branches + a's wait for b
}

TEST(EvaluatorTest, ThrowingConditionIsAnErrorNamingTheStage) {
  P p = P::Begin("a").Where(NameIs("a")).Next("b").Where([](const Ev& e) {
    if (e.name == "boom") throw std::runtime_error("bad price");
    return e.name == "b";
  });
  Harness<Ev> h(p);
  h.Feed(E("a1", "a", 0, 1), 1);
  EXPECT_THAT(h.Feed(E("x", "boom", 0, 2), 2), IsEmpty());
  EXPECT_THAT(h.last_status(),
              StatusIs(absl::StatusCode::kUnknown,
                       "condition #1 of stage 'b' threw on the event with seq "
                       "1: bad price (evaluated as false)"));
  // The state stays usable: later events match normally.
  h.Feed(E("a2", "a", 0, 3), 3);
  EXPECT_THAT(h.Feed(E("b1", "b", 0, 4), 4), ElementsAre("a=[a2] b=[b1]"));
  EXPECT_THAT(h.last_status(), testing::IsOk());
  EXPECT_EQ(h.evaluator().metrics().condition_errors, 1u);
}

TEST(EvaluatorTest, IncrementalSumBoundsLoopingStage) {
  // "sum of the previous events of the stage + this price < 5".
  P p = P::Begin("start").Where(NameIs("start")).FollowedBy("small");
  AggregateId sum = p.Aggregate("small", [](const Ev& e) { return e.price; });
  p.Where([sum](const Ev& e, const Context<Ev>& ctx) {
     return e.name == "s" && ctx.Aggregate(sum).sum + e.price < 5;
   })
      .OneOrMore()
      .Consecutive()
      .Next("end")
      .Where(NameIs("end"));
  EXPECT_THAT(RunPattern(p, {E("st", "start", 0, 1), E("s1", "s", 1, 2),
                             E("s2", "s", 2, 3), E("s3", "s", 1.5, 4),
                             E("e", "end", 0, 5)}),
              ElementsAre("start=[st] small=[s1 s2 s3] end=[e]"));
  // With s3 at 2.5 the sum reaches 5.5: the loop cannot take it, and "end"
  // must come right after the last "small" event, so nothing matches.
  EXPECT_THAT(RunPattern(p, {E("st", "start", 0, 1), E("s1", "s", 1, 2),
                             E("s2", "s", 2, 3), E("s3", "s", 2.5, 4),
                             E("e", "end", 0, 5)}),
              IsEmpty());
}

TEST(EvaluatorTest, AggregatesMatchRescanningEvents) {
  P p = P::Begin("x").Where(NameIs("x")).OneOrMore().Consecutive();
  AggregateId agg = p.Aggregate("x", [](const Ev& e) { return e.price; });
  std::vector<std::string> mismatches;
  p.Where([agg, &mismatches](const Ev& e, const Context<Ev>& ctx) {
    const AggregateValue& v = ctx.Aggregate(agg);
    AggregateValue rescanned;
    for (const Ev* prev : ctx.EventsFor("x")) rescanned.Add(prev->price);
    if (!(v == rescanned)) mismatches.push_back(e.label);
    return true;
  });
  RunPattern(p, {E("x1", "x", 3, 1), E("x2", "x", -1, 2), E("x3", "x", 7, 3),
                 E("x4", "x", 2, 4)});
  EXPECT_THAT(mismatches, IsEmpty());
}

TEST(EvaluatorTest, AggregateValueTracksCountSumMinMaxFirstLastAvg) {
  AggregateValue v;
  EXPECT_TRUE(v.empty());
  EXPECT_EQ(v.avg(), 0);
  for (double x : {4.0, -2.0, 10.0}) v.Add(x);
  EXPECT_EQ(v.count, 3);
  EXPECT_EQ(v.sum, 12);
  EXPECT_EQ(v.min, -2);
  EXPECT_EQ(v.max, 10);
  EXPECT_EQ(v.first, 4);
  EXPECT_EQ(v.last, 10);
  EXPECT_EQ(v.avg(), 4);
}

TEST(EvaluatorTest, ContextSeesEventsPerStageAndTimestamp) {
  std::vector<std::string> seen;
  P p = P::Begin("a")
            .Where(NameIs("a"))
            .OneOrMore()
            .Consecutive()
            .Next("b")
            .Where([&seen](const Ev& e, const Context<Ev>& ctx) {
              std::string s = e.label + "@" +
                              std::to_string(ToMillis(ctx.timestamp())) + ":";
              for (const Ev* a : ctx.EventsFor("a")) s += a->label;
              s += ctx.FirstEvent("a")->label + ctx.LastEvent("a")->label;
              s += ctx.EventsFor("nope").empty() ? "" : "?";
              seen.push_back(s);
              return e.name == "b";
            });
  RunPattern(p,
             {E("a1", "a", 0, 10), E("a2", "a", 0, 20), E("b1", "b", 0, 30)});
  EXPECT_THAT(seen, UnorderedElementsAre("a2@20:a1a1a1", "b1@30:a1a2a1a2",
                                         "b1@30:a2a2a2"));
}

TEST(EvaluatorTest, TimeoutsReportPartialMatchAndWindowEnd) {
  P p = P::Begin("a")
            .Where(NameIs("a"))
            .FollowedBy("b")
            .Where(NameIs("b"))
            .Within(std::chrono::milliseconds(10));
  Harness<Ev> h(p);
  h.FeedAll({E("a1", "a", 0, 1), E("a2", "a", 0, 5)});
  h.Advance(12);
  EXPECT_THAT(h.timeouts(), ElementsAre("a=[a1] @11"));
  EXPECT_EQ(h.evaluator().metrics().timeouts, 1u);
  EXPECT_THAT(h.Feed(E("b", "b", 0, 14), 14), ElementsAre("a=[a2] b=[b]"));
  EXPECT_EQ(h.buffered_events(), 0u);
  EXPECT_TRUE(h.state().IsIdle());
}

TEST(EvaluatorTest, MetricsCountEventsAndMatches) {
  Harness<Ev> h(P::Begin("a").Where(NameIs("a")).Next("b").Where(NameIs("b")));
  h.FeedAll({E("a1", "a", 0, 1), E("b1", "b", 0, 2), E("a2", "a", 0, 3),
             E("b2", "b", 0, 4), E("x", "x", 0, 5)});
  EXPECT_EQ(h.evaluator().metrics().events, 5u);
  EXPECT_EQ(h.evaluator().metrics().matches, 2u);
}

TEST(EvaluatorTest, EventsThatStartOrExtendNothingDoNotAllocate) {
  // SEQ(A, B, C) with FollowedBy: a waiting partial match ignores events
  // that match nothing; no heap allocation may happen for them.
  P p = P::Begin("a")
            .Where(NameIs("a"))
            .FollowedBy("b")
            .Where(NameIs("b"))
            .FollowedBy("c")
            .Where(NameIs("c"));
  auto nfa = CompilePattern(p);
  ASSERT_TRUE(nfa.ok());
  Evaluator<Ev> evaluator(*nfa);
  KeyState<Ev> state;
  class Discard : public MatchSink<Ev> {
    void OnMatch(Match<Ev>) override {}
  } sink;
  Ev a = E("a", "a", 0, 0), b = E("b", "b", 0, 0), x = E("x", "x", 0, 0);
  uint64_t seq = 0;
  // Warm up: a partial match waiting in "c", scratch buffers sized.
  for (const Ev* e : {&a, &b, &x, &x}) {
    ASSERT_TRUE(evaluator.Process(state, *e, FromMillis(seq), seq, sink).ok());
    ++seq;
  }
  long before = g_allocations.load();
  for (int i = 0; i < 1000; ++i) {
    absl::Status s = evaluator.Process(state, x, FromMillis(seq), seq, sink);
    ++seq;
    if (!s.ok()) FAIL() << s;
  }
  EXPECT_EQ(g_allocations.load() - before, 0);
  EXPECT_EQ(state.PartialMatchCount(), 1u);
}

}  // namespace
}  // namespace cep
