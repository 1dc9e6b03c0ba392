// Tests of the shared-runs evaluator: exact matches on hand-written cases,
// which patterns it takes, and a randomized differential test against the
// per-run Evaluator (same matches, same order, same timeouts).
#include "cep/shared_runs_evaluator.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "cep/compiler.hpp"
#include "cep/evaluator.hpp"
#include "cep/matcher.hpp"
#include "cep/pattern.hpp"

#include "testing/keyed_recorder.hpp"
#include "testing/nfa_harness.hpp"

namespace cep {
namespace {

using ::cep::testing::E;
using ::cep::testing::Ev;
using ::cep::testing::FormatMatch;
using ::cep::testing::NameIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using P = Pattern<Ev>;

// Records what an evaluator reports, as the NFA harness formats it.
class Recorder : public MatchSink<Ev> {
 public:
  void OnMatch(Match<Ev> match) override {
    matches.push_back(FormatMatch(match));
  }
  void OnTimeout(Match<Ev> partial, Timestamp timeout_at) override {
    timeouts.push_back(
        absl::StrCat(FormatMatch(partial), " @", ToMillis(timeout_at)));
  }
  std::vector<std::string> matches;
  std::vector<std::string> timeouts;
};

// One key under the shared-runs evaluator.
class SharedHarness {
 public:
  explicit SharedHarness(const P& pattern, SharedRunsOptions options = {}) {
    auto nfa = CompilePattern(pattern);
    EXPECT_TRUE(nfa.ok()) << nfa.status();
    nfa_ = std::make_unique<Nfa<Ev>>(*std::move(nfa));
    check_ = CheckSharedRuns(*nfa_);
    evaluator_ = std::make_unique<SharedRunsEvaluator<Ev>>(*nfa_, options);
  }

  const absl::Status& check() const { return check_; }

  void Feed(const Ev& e) {
    EXPECT_TRUE(
        evaluator_->Process(state_, e, FromMillis(e.ts), seq_++, out).ok());
  }
  std::vector<std::string> FeedAll(const std::vector<Ev>& events) {
    for (const Ev& e : events) Feed(e);
    return out.matches;
  }
  void Advance(int64_t ts) {
    EXPECT_TRUE(evaluator_->AdvanceTime(state_, FromMillis(ts), out).ok());
  }
  const SharedRunsState<Ev>& state() const { return state_; }
  const EvaluatorMetrics& metrics() const { return evaluator_->metrics(); }
  SharedRunsEvaluator<Ev>& evaluator() { return *evaluator_; }

  Recorder out;

 private:
  std::unique_ptr<Nfa<Ev>> nfa_;
  absl::Status check_;
  std::unique_ptr<SharedRunsEvaluator<Ev>> evaluator_;
  SharedRunsState<Ev> state_;
  uint64_t seq_ = 0;
};

// ---- hand-written cases -----------------------------------------------------

TEST(SharedRunsEvaluatorTest, StrictSequence) {
  P p = P::Begin("a").Where(NameIs("a")).Next("b").Where(NameIs("b"));
  SharedHarness h(p);
  ASSERT_TRUE(h.check().ok()) << h.check();
  EXPECT_THAT(
      h.FeedAll({E("a1", "a", 1, 1), E("b1", "b", 1, 2), E("a2", "a", 1, 3),
                 E("x", "x", 1, 4), E("b2", "b", 1, 5)}),
      ElementsAre("a=[a1] b=[b1]"));
}

// After match skip past last event: `b` alone completes a match while the
// run from a1 waits for a second `a`, so that match is held back (the run
// from a1 started first and may complete first); it does, and releasing it
// discards every run and held-back match that started by its last event.
TEST(SharedRunsEvaluatorTest, SkipPastLastEventHoldsBackThenDiscards) {
  P p = P::Begin("a", AfterMatchSkip::SkipPastLastEvent())
            .Where(NameIs("a"))
            .Times(2)
            .Optional()
            .FollowedBy("b")
            .Where(NameIs("b"));
  const std::vector<Ev> events = {E("a1", "a", 1, 1), E("b2", "b", 1, 2),
                                  E("a3", "a", 1, 3), E("b4", "b", 1, 4),
                                  E("b5", "b", 1, 5)};
  SharedHarness h(p);
  ASSERT_TRUE(h.check().ok()) << h.check();
  h.Feed(events[0]);
  h.Feed(events[1]);
  EXPECT_THAT(h.out.matches, ::testing::IsEmpty());
  ASSERT_EQ(h.state().held().size(), 1u);
  h.Feed(events[2]);
  h.Feed(events[3]);
  EXPECT_THAT(h.out.matches, ElementsAre("a=[a1 a3] b=[b4]"));
  EXPECT_THAT(h.state().held(), ::testing::IsEmpty());
  h.Feed(events[4]);
  EXPECT_THAT(h.out.matches, ElementsAre("a=[a1 a3] b=[b4]", "b=[b5]"));
  EXPECT_EQ(h.out.matches, testing::RunPattern(p, events));
}

// A held-back match comes out when the run that held it back times out.
TEST(SharedRunsEvaluatorTest, SkipPastLastEventReleasesHeldMatchOnTimeout) {
  P p = P::Begin("a", AfterMatchSkip::SkipPastLastEvent())
            .Where(NameIs("a"))
            .Times(2)
            .Optional()
            .FollowedBy("b")
            .Where(NameIs("b"))
            .Within(std::chrono::milliseconds(5));
  SharedHarness h(p);
  ASSERT_TRUE(h.check().ok()) << h.check();
  h.FeedAll({E("a1", "a", 1, 1), E("b2", "b", 1, 2)});
  EXPECT_THAT(h.out.matches, ::testing::IsEmpty());
  h.Advance(5);
  EXPECT_THAT(h.out.matches, ::testing::IsEmpty());
  h.Advance(6);
  EXPECT_THAT(h.out.matches, ElementsAre("b=[b2]"));
  EXPECT_EQ(h.out.timeouts.size(), 1u);
  EXPECT_TRUE(h.state().IsIdle());
}

TEST(SharedRunsEvaluatorTest, FollowedByAnyReleasesInStartThenTakeOrder) {
  // Every (a, b, c) combination; matches at one event come out by first
  // event, then the earlier b first, as the per-run evaluator releases them.
  P p = P::Begin("a")
            .Where(NameIs("a"))
            .FollowedByAny("b")
            .Where(NameIs("b"))
            .FollowedByAny("c")
            .Where(NameIs("c"));
  SharedHarness h(p);
  ASSERT_TRUE(h.check().ok()) << h.check();
  EXPECT_THAT(
      h.FeedAll({E("a1", "a", 1, 1), E("a2", "a", 1, 2), E("b1", "b", 1, 3),
                 E("b2", "b", 1, 4), E("c1", "c", 1, 5)}),
      ElementsAre("a=[a1] b=[b1] c=[c1]", "a=[a1] b=[b2] c=[c1]",
                  "a=[a2] b=[b1] c=[c1]", "a=[a2] b=[b2] c=[c1]"));
}

TEST(SharedRunsEvaluatorTest, OneOrMoreAllowCombinations) {
  P p = P::Begin("a")
            .Where(NameIs("a"))
            .FollowedByAny("b")
            .Where(NameIs("b"))
            .OneOrMore()
            .AllowCombinations()
            .FollowedBy("c")
            .Where(NameIs("c"));
  SharedHarness h(p);
  ASSERT_TRUE(h.check().ok()) << h.check();
  EXPECT_THAT(h.FeedAll({E("a1", "a", 1, 1), E("b1", "b", 1, 2),
                         E("b2", "b", 1, 3), E("c1", "c", 1, 4)}),
              ElementsAre("a=[a1] b=[b1 b2] c=[c1]", "a=[a1] b=[b1] c=[c1]",
                          "a=[a1] b=[b2] c=[c1]"));
  EXPECT_EQ(h.out.matches,
            testing::RunPattern(p, {E("a1", "a", 1, 1), E("b1", "b", 1, 2),
                                    E("b2", "b", 1, 3), E("c1", "c", 1, 4)}));
}

TEST(SharedRunsEvaluatorTest, WindowPrunesExpiredStartsAndReportsTimeouts) {
  P p = P::Begin("a")
            .Where(NameIs("a"))
            .FollowedByAny("b")
            .Where(NameIs("b"))
            .Within(std::chrono::milliseconds(10));
  SharedHarness h(p);
  ASSERT_TRUE(h.check().ok()) << h.check();
  EXPECT_THAT(
      h.FeedAll({E("a1", "a", 1, 1), E("a2", "a", 1, 5), E("b1", "b", 1, 12)}),
      ElementsAre("a=[a2] b=[b1]"));
  EXPECT_THAT(h.out.timeouts, ElementsAre("a=[a1] @11"));
  EXPECT_EQ(h.evaluator().PartialMatchCount(h.state()), 1u);
  EXPECT_EQ(h.evaluator().NextDeadline(h.state()), FromMillis(15));
  h.Advance(100);
  EXPECT_EQ(h.evaluator().NextDeadline(h.state()), std::nullopt);
  EXPECT_THAT(h.out.timeouts, ElementsAre("a=[a1] @11", "a=[a2] @15"));
  EXPECT_TRUE(h.state().IsIdle());
}

TEST(SharedRunsEvaluatorTest, CountsTimeoutsWithoutReportingThem) {
  P p = P::Begin("a")
            .Where(NameIs("a"))
            .FollowedByAny("b")
            .Where(NameIs("b"))
            .FollowedByAny("c")
            .Where(NameIs("c"))
            .Within(std::chrono::milliseconds(10));
  SharedHarness h(p, {.timeouts = SharedRunsTimeouts::kCount});
  // Runs: a1 alone, a1 b1, a1 b2, a1 b1... per start: 1 + 2 b choices, and
  // a2's: 1 + 1 (b2). Everything expires at 100.
  h.FeedAll({E("a1", "a", 1, 1), E("b1", "b", 1, 2), E("a2", "a", 1, 3),
             E("b2", "b", 1, 4)});
  h.Advance(100);
  EXPECT_THAT(h.out.timeouts, ::testing::IsEmpty());
  EXPECT_EQ(h.metrics().timeouts, 5u);
}

// Timeouts of `events` (each at its ts, then time advanced to `end`)
// counted by the per-run Evaluator without reporting them.
uint64_t PerRunTimeouts(const P& pattern, const std::vector<Ev>& events,
                        int64_t end) {
  auto nfa = CompilePattern(pattern);
  EXPECT_TRUE(nfa.ok()) << nfa.status();
  if (!nfa.ok()) return 0;
  Evaluator<Ev> evaluator(*nfa,
                          {.max_partial_matches = 0, .report_timeouts = false});
  KeyState<Ev> state;
  Recorder out;
  uint64_t seq = 0;
  for (const Ev& e : events) {
    EXPECT_TRUE(evaluator.Process(state, e, FromMillis(e.ts), seq++, out).ok());
  }
  EXPECT_TRUE(evaluator.AdvanceTime(state, FromMillis(end), out).ok());
  EXPECT_TRUE(out.timeouts.empty());
  return evaluator.metrics().timeouts;
}

// The same under the shared-runs evaluator with `timeouts`; with
// `advance_every` > 0, time also advances alone every that many ms between
// events.
uint64_t SharedTimeouts(const P& pattern, const std::vector<Ev>& events,
                        int64_t end, SharedRunsTimeouts timeouts,
                        int64_t advance_every = 0) {
  SharedHarness h(pattern, {.timeouts = timeouts});
  EXPECT_TRUE(h.check().ok()) << h.check();
  for (size_t i = 0; i < events.size(); ++i) {
    h.Feed(events[i]);
    if (advance_every > 0 && i + 1 < events.size()) {
      for (int64_t t = events[i].ts + advance_every; t < events[i + 1].ts;
           t += advance_every) {
        h.Advance(t);
      }
    }
  }
  h.Advance(end);
  EXPECT_TRUE(h.state().IsIdle());
  if (timeouts == SharedRunsTimeouts::kReport) {
    EXPECT_EQ(h.out.timeouts.size(), h.metrics().timeouts);
  } else {
    EXPECT_THAT(h.out.timeouts, ::testing::IsEmpty());
  }
  return h.metrics().timeouts;
}

TEST(SharedRunsEvaluatorTest, CountsTimeoutsOfANeverCompletingQueryExactly) {
  // a at even ms, b at odd ms, no c, window 100: each a times out with 1 +
  // (b's in the next 99 ms) runs: 51, or (2000 - ts) / 2 + 1 at the end.
  // Twenty windows long: the counter is rebuilt about twenty times and the
  // DAG compacted in between.
  P p = P::Begin("a")
            .Where(NameIs("a"))
            .FollowedByAny("b")
            .Where(NameIs("b"))
            .FollowedByAny("c")
            .Where(NameIs("c"))
            .Within(std::chrono::milliseconds(100));
  std::vector<Ev> events;
  for (int64_t t = 0; t < 2000; ++t) {
    events.push_back(E(absl::StrCat(t), t % 2 == 0 ? "a" : "b", 1, t));
  }
  uint64_t brute_force = 0;
  for (const Ev& a : events) {
    if (a.name != "a") continue;
    ++brute_force;
    for (const Ev& b : events) {
      brute_force += b.name == "b" && b.ts > a.ts && b.ts < a.ts + 100;
    }
  }
  EXPECT_EQ(brute_force, 1000u + 951u * 50u + 1225u);
  EXPECT_EQ(SharedTimeouts(p, events, 5000, SharedRunsTimeouts::kCount),
            brute_force);
  EXPECT_EQ(SharedTimeouts(p, events, 5000, SharedRunsTimeouts::kReport),
            brute_force);
  EXPECT_EQ(PerRunTimeouts(p, events, 5000), brute_force);
  // Sparser events, time advancing alone in between: the same counts.
  for (Ev& e : events) e.ts *= 7;
  p.Within(std::chrono::milliseconds(700));
  EXPECT_EQ(SharedTimeouts(p, events, 50000, SharedRunsTimeouts::kCount, 3),
            brute_force);
  EXPECT_EQ(PerRunTimeouts(p, events, 50000), brute_force);
}

TEST(SharedRunsEvaluatorTest, CountsStartsWithEqualTimestampsTogether) {
  // Three a's per ms, b's in between: every group of starts at one ms
  // expires together, and a group can straddle a rebuild.
  P p = P::Begin("a")
            .Where(NameIs("a"))
            .FollowedByAny("b")
            .Where(NameIs("b"))
            .OneOrMore()
            .FollowedBy("c")
            .Where(NameIs("c"))
            .Within(std::chrono::milliseconds(4));
  std::vector<Ev> events;
  for (int64_t t = 0; t < 300; ++t) {
    const char* names[] = {"a", "b", "a", "x", "a", "b"};
    for (int i = 0; i < 6; ++i) {
      events.push_back(E(absl::StrCat(names[i], t, "_", i), names[i], 1, t));
    }
  }
  const uint64_t expected = PerRunTimeouts(p, events, 1000);
  EXPECT_GT(expected, 900u);
  EXPECT_EQ(SharedTimeouts(p, events, 1000, SharedRunsTimeouts::kCount),
            expected);
  EXPECT_EQ(SharedTimeouts(p, events, 1000, SharedRunsTimeouts::kReport),
            expected);
}

TEST(SharedRunsEvaluatorTest, CountsAStartOlderThanTheCountersRebuild) {
  // x@11 expires a1 and rebuilds the counter with the starts through 5;
  // then a late a (ts 5, time already at 11) starts runs the rebuild did
  // not see: they time out with a2's all the same.
  P p = P::Begin("a")
            .Where(NameIs("a"))
            .FollowedByAny("b")
            .Where(NameIs("b"))
            .FollowedByAny("c")
            .Where(NameIs("c"))
            .Within(std::chrono::milliseconds(10));
  const std::vector<Ev> events = {E("a1", "a", 1, 0),   E("a2", "a", 1, 5),
                                  E("b1", "b", 1, 6),   E("x", "x", 1, 11),
                                  E("late", "a", 1, 5), E("b2", "b", 1, 12)};
  SharedHarness report(p);
  report.FeedAll(events);
  report.Advance(100);
  EXPECT_THAT(report.out.timeouts,
              ElementsAre("a=[a1] b=[b1] @10", "a=[a1] @10",
                          "a=[a2] b=[b1] @15", "a=[a2] b=[b2] @15",
                          "a=[a2] @15", "a=[late] b=[b2] @15", "a=[late] @15"));
  EXPECT_EQ(SharedTimeouts(p, events, 100, SharedRunsTimeouts::kCount), 7u);
}

TEST(SharedRunsEvaluatorTest, CountedTimeoutsWrapModulo2To64) {
  // a followed by any combination of b's: 3 * 2^(m-1) - 1 runs for an a
  // followed by m b's (the per-run evaluator agrees for small m). a1 then
  // sees m + 3 b's, a2 three (11 runs); for m = 65 a1's 3 * 2^67 - 1 runs
  // are 2^64 - 1 modulo 2^64, and the total wraps to 10.
  P p = P::Begin("a")
            .Where(NameIs("a"))
            .FollowedByAny("b")
            .Where(NameIs("b"))
            .OneOrMore()
            .AllowCombinations()
            .FollowedBy("c")
            .Where(NameIs("c"))
            .Within(std::chrono::milliseconds(1000));
  auto stream = [](int first_bs, int second_bs) {
    std::vector<Ev> events = {E("a1", "a", 1, 0)};
    int64_t t = 1;
    for (int i = 0; i < first_bs; ++i) events.push_back(E("b", "b", 1, t++));
    events.push_back(E("a2", "a", 1, t++));
    for (int i = 0; i < second_bs; ++i) events.push_back(E("b", "b", 1, t++));
    return events;
  };
  for (int m = 0; m < 6; ++m) {
    const uint64_t expected = 3 * (uint64_t{1} << (m + 2)) - 1 + 11;
    EXPECT_EQ(PerRunTimeouts(p, stream(m, 3), 5000), expected) << m;
    EXPECT_EQ(SharedTimeouts(p, stream(m, 3), 5000, SharedRunsTimeouts::kCount),
              expected)
        << m;
  }
  EXPECT_EQ(SharedTimeouts(p, stream(65, 3), 5000, SharedRunsTimeouts::kCount),
            10u);
}

TEST(SharedRunsEvaluatorTest, CountsTimeoutsOfLargeAutomataOnTheDag) {
  // More NFA states than the timeout counter takes: counted on the DAG.
  P p = P::Begin("a").Where(NameIs("a"));
  for (int i = 0; i < 36; ++i) {
    p.FollowedByAny(absl::StrCat("b", i)).Where(NameIs("b")).Optional();
  }
  p.FollowedBy("c").Where(NameIs("c")).Within(std::chrono::milliseconds(4));
  auto nfa = CompilePattern(p);
  ASSERT_TRUE(nfa.ok()) << nfa.status();
  EXPECT_GT(nfa->states().size(), 2 + internal::TimeoutCounter::kMaxSlots);
  std::vector<Ev> events;
  for (int64_t t = 0; t < 60; ++t) {
    events.push_back(E(absl::StrCat(t), t % 3 == 0 ? "a" : "b", 1, t));
  }
  const uint64_t expected = PerRunTimeouts(p, events, 1000);
  EXPECT_GT(expected, 100u);
  EXPECT_EQ(SharedTimeouts(p, events, 1000, SharedRunsTimeouts::kCount),
            expected);
  EXPECT_EQ(SharedTimeouts(p, events, 1000, SharedRunsTimeouts::kReport),
            expected);
}

TEST(SharedRunsEvaluatorTest, TrailingNotFollowedByReleasesAfterWindow) {
  P p = P::Begin("a")
            .Where(NameIs("a"))
            .NotFollowedBy("x")
            .Where(NameIs("x"))
            .Within(std::chrono::milliseconds(10));
  SharedHarness h(p);
  ASSERT_TRUE(h.check().ok()) << h.check();
  h.FeedAll({E("a1", "a", 1, 1), E("a2", "a", 1, 3), E("x1", "x", 1, 4),
             E("a3", "a", 1, 6)});
  h.Advance(100);
  EXPECT_THAT(h.out.matches, ElementsAre("a=[a3]"));
}

TEST(SharedRunsEvaluatorTest, ReclaimsNodesOfExpiredRuns) {
  P p = P::Begin("a")
            .Where(NameIs("a"))
            .FollowedByAny("b")
            .Where(NameIs("b"))
            .FollowedByAny("c")
            .Where(NameIs("c"))
            .Within(std::chrono::milliseconds(20));
  SharedHarness h(p, {.timeouts = SharedRunsTimeouts::kIgnore});
  for (int64_t t = 0; t < 5000; ++t) {
    h.Feed(E("e", t % 3 == 0 ? "a" : "b", 1, t));
  }
  EXPECT_GT(h.metrics().reclaimed_nodes, 0u);
  // About 20 events' worth of nodes (at most 4 per event), doubled before
  // each compaction.
  EXPECT_LT(h.state().node_count(), 400u);
  EXPECT_LT(h.state().event_count(), 200u);
}

// RunNode::runs: one per run starting at a node, carried along steps,
// summed by unions; derived again when read back and when compacted.
TEST(RunDagTest, CountsTheRunsThroughEveryNode) {
  using Kind = internal::RunNode::Kind;
  constexpr uint32_t kNone = internal::kNoRunNode;
  internal::RunDag dag;
  const uint32_t a = dag.AddStep(Kind::kTake, 0, 0, 0, kNone, 1);
  const uint32_t b = dag.AddStep(Kind::kTake, 0, 0, 1, kNone, 2);
  const uint32_t ab[] = {a, b};
  const uint32_t u = dag.AddUnion(ab, 2);
  const uint32_t c = dag.AddStep(Kind::kSkip, 1, 0, 0, u, 0);
  const uint32_t d = dag.AddStep(Kind::kTake, 0, 0, 2, kNone, 3);
  const uint32_t cd[] = {c, d};
  const uint32_t v = dag.AddUnion(cd, 2);
  EXPECT_EQ(dag.node(a).runs, 1u);
  EXPECT_EQ(dag.node(u).runs, 2u);
  EXPECT_EQ(dag.node(c).runs, 2u);
  EXPECT_EQ(dag.node(v).runs, 3u);

  std::string bytes;
  dag.AppendTo(bytes);
  internal::RunDag read;
  std::string_view in = bytes;
  ASSERT_TRUE(read.ReadFrom(in, 3).ok());
  ASSERT_EQ(read.size(), dag.size());
  for (uint32_t index = 0; index < dag.size(); ++index) {
    EXPECT_EQ(read.node(index).runs, dag.node(index).runs) << index;
  }

  // The run that started at 1 expires: the union before `c` keeps one.
  std::vector<uint32_t> roots = {v};
  std::vector<bool> used;
  EXPECT_EQ(
      dag.Compact(
          roots, [](const internal::RunNode& n) { return n.max_start > 1; },
          used),
      1u);
  EXPECT_EQ(dag.node(roots[0]).runs, 2u);
}

TEST(SharedRunsEvaluatorTest, NotNextDiscardsRunsFollowedByTheNegatedEvent) {
  P p = P::Begin("a")
            .Where(NameIs("a"))
            .NotNext("not")
            .Where(NameIs("x"))
            .FollowedBy("b")
            .Where(NameIs("b"));
  const std::vector<Ev> events = {E("a1", "a", 1, 1), E("x1", "x", 1, 2),
                                  E("a2", "a", 1, 3), E("c1", "c", 1, 4),
                                  E("b1", "b", 1, 5)};
  SharedHarness h(p);
  ASSERT_TRUE(h.check().ok()) << h.check();
  EXPECT_THAT(h.FeedAll(events), ElementsAre("a=[a2] b=[b1]"));
  EXPECT_EQ(h.out.matches, testing::RunPattern(p, events));
}

TEST(SharedRunsEvaluatorTest, LoopingGroup) {
  P group =
      P::Begin("g1").Where(NameIs("a")).FollowedBy("g2").Where(NameIs("b"));
  P p = P::Begin("s").Where(NameIs("s")).FollowedBy(group).OneOrMore();
  p.FollowedBy("e").Where(NameIs("e"));
  const std::vector<Ev> events = {E("s1", "s", 1, 1), E("a1", "a", 1, 2),
                                  E("b1", "b", 1, 3), E("a2", "a", 1, 4),
                                  E("b2", "b", 1, 5), E("e1", "e", 1, 6)};
  SharedHarness h(p);
  ASSERT_TRUE(h.check().ok()) << h.check();
  EXPECT_THAT(h.FeedAll(events),
              ElementsAre("s=[s1] g1=[a1 a2] g2=[b1 b2] e=[e1]",
                          "s=[s1] g1=[a1] g2=[b1] e=[e1]"));
  EXPECT_EQ(h.out.matches, testing::RunPattern(p, events));
}

// ---- which patterns it takes ------------------------------------------------

TEST(CheckSharedRunsTest, RefusesIterativeConditions) {
  P p = P::Begin("a")
            .Where(NameIs("a"))
            .FollowedBy("b")
            .Where([](const Ev& e, const Context<Ev>& ctx) {
              return ctx.FirstEvent("a") != nullptr && e.name == "b";
            });
  auto nfa = CompilePattern(p);
  ASSERT_TRUE(nfa.ok());
  absl::Status s = CheckSharedRuns(*nfa);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "condition #1 of stage 'b' is iterative: its value depends on the "
            "partial match, so partial matches cannot be shared");
}

TEST(CheckSharedRunsTest, RefusesSkipStrategiesAndStageWindows) {
  P skip = P::Begin("a", AfterMatchSkip::SkipToNext())
               .Where(NameIs("a"))
               .FollowedBy("b")
               .Where(NameIs("b"));
  auto nfa = CompilePattern(skip);
  ASSERT_TRUE(nfa.ok());
  EXPECT_EQ(CheckSharedRuns(*nfa).message(),
            "the after-match skip strategy is neither NoSkip nor "
            "SkipPastLastEvent: only those are supported by shared partial "
            "matches");
  P past = P::Begin("a", AfterMatchSkip::SkipPastLastEvent())
               .Where(NameIs("a"))
               .FollowedBy("b")
               .Where(NameIs("b"));
  nfa = CompilePattern(past);
  ASSERT_TRUE(nfa.ok());
  EXPECT_TRUE(CheckSharedRuns(*nfa).ok());
  P window = P::Begin("a")
                 .Where(NameIs("a"))
                 .FollowedBy("b")
                 .Where(NameIs("b"))
                 .Within(std::chrono::milliseconds(5),
                         WithinType::kPreviousAndCurrent);
  nfa = CompilePattern(window);
  ASSERT_TRUE(nfa.ok());
  EXPECT_EQ(CheckSharedRuns(*nfa).message(),
            "stage 'b' has a window from the previous event "
            "(kPreviousAndCurrent): partial matches in one state would expire "
            "at different times");
}

TEST(CheckSharedRunsTest, RefusesAggregates) {
  P p = P::Begin("a").Where(NameIs("a")).OneOrMore();
  p.Aggregate("a", [](const Ev& e) { return e.price; });
  auto nfa = CompilePattern(p);
  ASSERT_TRUE(nfa.ok());
  EXPECT_EQ(CheckSharedRuns(*nfa).message(),
            "the pattern has an aggregate over stage 'a': aggregates are per "
            "partial match");
}

// ---- randomized differential test
// ---------------------------------------------

// A random pattern over events named a, b, c, d (and x, which no condition
// names), described in text for failure messages.
struct RandomPattern {
  P pattern;
  std::string text;
};

class PatternMaker {
 public:
  explicit PatternMaker(std::mt19937_64& rng) : rng_(rng) {}

  RandomPattern Make() {
    RandomPattern out;
    const int stages = Uniform(1, 4);
    // Half of the patterns skip past the last event after a match (the
    // skip strategy the shared evaluator takes besides NoSkip).
    const bool skip_past = Chance(0.5);
    const AfterMatchSkip skip = skip_past ? AfterMatchSkip::SkipPastLastEvent()
                                          : AfterMatchSkip::NoSkip();
    out.text = "Begin";
    P p;
    for (int i = 0; i < stages; ++i) {
      std::string name = absl::StrCat("s", i);
      const bool group = i > 0 && Chance(0.12);
      int contiguity = i == 0 ? 0 : Uniform(0, 9);
      // 0-3 Next, 4-6 FollowedBy, 7-8 FollowedByAny, 9: NOT
      if (group) {
        P inner = MakeGroup(name, out.text);
        if (i == 0) {
          p = P::Begin(inner, skip);
        } else if (contiguity <= 3) {
          p.Next(inner);
          out.text += " Next(group)";
        } else if (contiguity <= 6) {
          p.FollowedBy(inner);
          out.text += " FollowedBy(group)";
        } else {
          p.FollowedByAny(inner);
          out.text += " FollowedByAny(group)";
        }
        Quantify(p, out.text, /*is_group=*/true);
        continue;
      }
      if (i == 0) {
        p = P::Begin(name, skip);
        out.text = absl::StrCat("Begin(", name, ")");
      } else if (contiguity <= 3) {
        p.Next(name);
        out.text += absl::StrCat(" Next(", name, ")");
      } else if (contiguity <= 6) {
        p.FollowedBy(name);
        out.text += absl::StrCat(" FollowedBy(", name, ")");
      } else if (contiguity <= 8) {
        p.FollowedByAny(name);
        out.text += absl::StrCat(" FollowedByAny(", name, ")");
      } else if (Chance(0.5)) {
        p.NotNext(name);
        out.text += absl::StrCat(" NotNext(", name, ")");
      } else {
        p.NotFollowedBy(name);
        out.text += absl::StrCat(" NotFollowedBy(", name, ")");
      }
      Condition(p, out.text);
      if (contiguity != 9 || i == 0) Quantify(p, out.text, false);
    }
    if (Chance(0.6)) {
      const int window = Uniform(2, 15);
      p.Within(std::chrono::milliseconds(window));
      out.text += absl::StrCat(" Within(", window, ")");
    }
    if (skip_past) out.text += " SkipPastLastEvent";
    out.pattern = std::move(p);
    return out;
  }

 private:
  P MakeGroup(const std::string& name, std::string& text) {
    P g = P::Begin(absl::StrCat(name, "a"));
    text += absl::StrCat(" group[Begin(", name, "a)");
    Condition(g, text);
    if (Chance(0.4)) Quantify(g, text, false);
    const int kind = Uniform(0, 2);
    const std::string second = absl::StrCat(name, "b");
    if (kind == 0) {
      g.Next(second);
      text += absl::StrCat(" Next(", second, ")");
    } else if (kind == 1) {
      g.FollowedBy(second);
      text += absl::StrCat(" FollowedBy(", second, ")");
    } else {
      g.FollowedByAny(second);
      text += absl::StrCat(" FollowedByAny(", second, ")");
    }
    Condition(g, text);
    if (Chance(0.3)) Quantify(g, text, false);
    text += "]";
    return g;
  }

  void Condition(P& p, std::string& text) {
    static const char* kNames[] = {"a", "b", "c", "d"};
    const std::string first = kNames[Uniform(0, 3)];
    p.Where(NameIs(first));
    text += absl::StrCat(".Where(", first, ")");
    if (Chance(0.25)) {
      const std::string second = kNames[Uniform(0, 3)];
      p.Or(NameIs(second));
      text += absl::StrCat(".Or(", second, ")");
    }
  }

  void Quantify(P& p, std::string& text, bool is_group) {
    const int q = Uniform(0, 9);
    bool looping = false;
    bool ranged = false;
    if (q <= 3) {
      // single
    } else if (q == 4) {
      p.OneOrMore();
      text += ".OneOrMore()";
      looping = true;
    } else if (q == 5) {
      const int n = Uniform(0, 2);
      p.TimesOrMore(n);
      text += absl::StrCat(".TimesOrMore(", n, ")");
      looping = true;
    } else if (q == 6) {
      const int n = Uniform(1, 3);
      p.Times(n);
      text += absl::StrCat(".Times(", n, ")");
      ranged = n > 1;
    } else if (q == 7) {
      const int from = Uniform(0, 2);
      const int to = from + Uniform(1, 2);
      p.Times(from, to);
      text += absl::StrCat(".Times(", from, ", ", to, ")");
      ranged = true;
    } else {
      p.Optional();
      text += ".Optional()";
    }
    if ((looping || ranged) && Chance(0.5)) {
      const int inner = Uniform(0, 2);
      if (inner == 0) {
        p.Consecutive();
        text += ".Consecutive()";
      } else if (inner == 1) {
        p.AllowCombinations();
        text += ".AllowCombinations()";
      }
    }
    if ((looping || ranged) && !is_group && Chance(0.25)) {
      p.Greedy();
      text += ".Greedy()";
    }
    if (looping && !is_group && Chance(0.25)) {
      static const char* kNames[] = {"a", "b", "c", "d"};
      const std::string until = kNames[Uniform(0, 3)];
      p.Until(NameIs(until));
      text += absl::StrCat(".Until(", until, ")");
    }
    if (q <= 7 && Chance(0.1)) {
      p.Optional();
      text += ".Optional()";
    }
  }

  int Uniform(int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng_);
  }
  bool Chance(double p) {
    return std::uniform_real_distribution<double>(0, 1)(rng_) < p;
  }

  std::mt19937_64& rng_;
};

// 1 to 60 events; `long_stream`: 200 to 1200 events, with a gap of 10 to 40
// ms now and then (time advancing alone, several windows at a time).
std::vector<Ev> RandomStream(std::mt19937_64& rng, bool long_stream = false) {
  static const char* kNames[] = {"a", "b", "c", "d", "x"};
  const int n = long_stream ? std::uniform_int_distribution<int>(200, 1200)(rng)
                            : std::uniform_int_distribution<int>(1, 60)(rng);
  std::vector<Ev> events;
  int64_t ts = std::uniform_int_distribution<int>(0, 3)(rng);
  for (int i = 0; i < n; ++i) {
    const std::string name = kNames[std::uniform_int_distribution<int>(
        0, std::uniform_int_distribution<int>(0, 3)(rng) == 0 ? 4 : 3)(rng)];
    events.push_back(E(absl::StrCat(name, i), name, 1, ts));
    ts += std::uniform_int_distribution<int>(0, 4)(rng) == 0
              ? 0
              : std::uniform_int_distribution<int>(1, 3)(rng);
    if (long_stream && std::uniform_int_distribution<int>(0, 49)(rng) == 0) {
      ts += std::uniform_int_distribution<int>(10, 40)(rng);
    }
  }
  return events;
}

std::string StreamText(const std::vector<Ev>& events) {
  std::string out;
  for (const Ev& e : events) absl::StrAppend(&out, e.label, "@", e.ts, " ");
  return out;
}

int64_t EnvInt(const char* name, int64_t fallback) {
  const char* value = std::getenv(name);
  return value == nullptr ? fallback : std::strtoll(value, nullptr, 10);
}

// Runs random patterns on random streams through both evaluators for about
// CEP_DIFF_SECONDS (default 40) seconds from seed CEP_DIFF_SEED; fails with
// the seed, the pattern and the stream on the first difference.
TEST(SharedRunsDifferentialTest, SameMatchesOrderAndTimeoutsAsEvaluator) {
  const uint64_t seed = static_cast<uint64_t>(EnvInt("CEP_DIFF_SEED", 14));
  const auto budget = std::chrono::seconds(EnvInt("CEP_DIFF_SECONDS", 40));
  const auto deadline = std::chrono::steady_clock::now() + budget;
  int compared = 0, refused = 0, invalid = 0, too_big = 0, compiler_threw = 0;
  int with_matches = 0, with_duplicates = 0, long_streams = 0;
  int skipping = 0, skipping_with_matches = 0;
  for (uint64_t round = static_cast<uint64_t>(EnvInt("CEP_DIFF_ROUND", 0));
       std::chrono::steady_clock::now() < deadline; ++round) {
    std::mt19937_64 rng(seed * 1'000'003 + round);
    PatternMaker maker(rng);
    RandomPattern rp = maker.Make();
    absl::StatusOr<Nfa<Ev>> nfa = absl::UnknownError("not compiled");
    try {
      nfa = CompilePattern(rp.pattern);
    } catch (const std::exception& e) {
      // A compiler bug (reported with the pattern), not the evaluators'.
      if (compiler_threw++ == 0) {
        std::cout << "CompilePattern threw " << e.what() << " on: " << rp.text
                  << "\n";
      }
      continue;
    }
    if (!nfa.ok()) {
      ++invalid;
      continue;
    }
    if (absl::Status check = CheckSharedRuns(*nfa); !check.ok()) {
      if (refused++ == 0) {
        std::cout << "refused (first): " << rp.text << ": " << check.message()
                  << "\n";
      }
      continue;
    }
    // Some long streams: the timeout counter is rebuilt many times and the
    // DAG compacted in between (patterns with a window only).
    const bool long_stream = nfa->window() > Duration::zero() &&
                             std::uniform_int_distribution<int>(0, 9)(rng) == 0;
    const std::vector<Ev> stream = RandomStream(rng, long_stream);
    Evaluator<Ev> reference(*nfa);
    SharedRunsEvaluator<Ev> shared(*nfa);
    SharedRunsEvaluator<Ev> counting(*nfa,
                                     {.timeouts = SharedRunsTimeouts::kCount});
    // Sometimes the counting state is advanced without counting up to event
    // `handover` (kIgnore), as a state decoded from a backend comes without
    // the counter's cache: from there on it must count the same timeouts
    // as the reference.
    SharedRunsEvaluator<Ev> ignoring(*nfa,
                                     {.timeouts = SharedRunsTimeouts::kIgnore});
    const size_t handover =
        std::uniform_int_distribution<int>(0, 2)(rng) == 0
            ? std::uniform_int_distribution<size_t>(0, stream.size())(rng)
            : 0;
    size_t timeouts_before_handover = 0;
    KeyState<Ev> ref_state;
    SharedRunsState<Ev> shared_state, counting_state;
    Recorder ref_out, shared_out, counting_out;
    bool abandoned = false;
    // Watermarks between events, sometimes: time advances without an event.
    const bool watermarks = std::uniform_int_distribution<int>(0, 2)(rng) == 0;
    uint64_t seq = 0;
    // The same stream over three keys through a KeyedMatcher in either
    // form: its running count of partial matches is the sum over its keys.
    const bool share_keyed = std::uniform_int_distribution<int>(0, 1)(rng) == 0;
    InMemoryStateBackend<Ev, int> keyed_backend;
    KeyedMatcher<Ev, int> keyed(
        *nfa, [](const Ev& ev) { return ev.id; }, keyed_backend,
        {.strategy = share_keyed ? EvaluationStrategy::kShared
                                 : EvaluationStrategy::kPerRun});
    ::cep::testing::KeyedRecorder keyed_out;
    auto keyed_count_holds = [&](const std::string& after) {
      absl::StatusOr<uint64_t> counted = keyed.CountPartialMatches();
      ASSERT_TRUE(counted.ok());
      ASSERT_EQ(keyed.partial_matches(), *counted)
          << "after " << after << " in round " << round << ": " << rp.text
          << (share_keyed ? " (shared)" : " (per run)")
          << "\nstream: " << StreamText(stream);
    };
    for (size_t i = 0; i < stream.size(); ++i) {
      const Ev& e = stream[i];
      const Timestamp ts = FromMillis(e.ts);
      if (i == handover) timeouts_before_handover = ref_out.timeouts.size();
      Ev keyed_event = e;
      keyed_event.id = static_cast<int>(i % 3);
      ASSERT_TRUE(keyed.Process(keyed_event, ts, seq, keyed_out).ok());
      keyed_count_holds(e.label);
      SharedRunsEvaluator<Ev>& count = i < handover ? ignoring : counting;
      ASSERT_TRUE(reference.Process(ref_state, e, ts, seq, ref_out).ok());
      ASSERT_TRUE(shared.Process(shared_state, e, ts, seq, shared_out).ok());
      ASSERT_TRUE(count.Process(counting_state, e, ts, seq, counting_out).ok());
      ++seq;
      if (std::getenv("CEP_DIFF_TRACE") != nullptr) {
        std::cout << e.label << ": ref " << ref_state.PartialMatchCount() << "/"
                  << ref_state.completed().size() << " m"
                  << ref_out.matches.size() << " shared "
                  << shared.PartialMatchCount(shared_state) << "/"
                  << shared_state.held().size() << " m"
                  << shared_out.matches.size() << "\n";
      }
      ASSERT_EQ(shared.PartialMatchCount(shared_state),
                ref_state.PartialMatchCount())
          << "after " << e.label << " in round " << round << ": " << rp.text
          << "\nstream: " << StreamText(stream);
      // The per-run count without a scan is the scan's.
      ASSERT_EQ(ref_state.HeldPartialMatches(), ref_state.PartialMatchCount())
          << "after " << e.label << " in round " << round << ": " << rp.text;
      // The count read off the heads holds at least the live runs, and
      // exactly those when no run can die inside a set (no window, no
      // skip strategy).
      const uint64_t stored = shared_state.StoredRunCount();
      ASSERT_GE(stored, ref_state.PartialMatchCount())
          << "after " << e.label << " in round " << round << ": " << rp.text
          << "\nstream: " << StreamText(stream);
      if (nfa->window() == Duration::zero() &&
          nfa->skip().kind() == AfterMatchSkip::Kind::kNoSkip) {
        ASSERT_EQ(stored, ref_state.PartialMatchCount())
            << "after " << e.label << " in round " << round << ": " << rp.text
            << "\nstream: " << StreamText(stream);
      }
      // Time advances alone one to three times before the next event.
      int64_t last = e.ts;
      for (int marks = std::uniform_int_distribution<int>(1, 3)(rng);
           watermarks && marks > 0 && i + 1 < stream.size() &&
           stream[i + 1].ts > last + 1;
           --marks) {
        last = std::uniform_int_distribution<int64_t>(
            last + 1, stream[i + 1].ts - 1)(rng);
        const Timestamp mark = FromMillis(last);
        ASSERT_TRUE(reference.AdvanceTime(ref_state, mark, ref_out).ok());
        ASSERT_TRUE(shared.AdvanceTime(shared_state, mark, shared_out).ok());
        ASSERT_TRUE(count.AdvanceTime(counting_state, mark, counting_out).ok());
        ASSERT_TRUE(keyed.AdvanceTime(mark, keyed_out).ok());
        keyed_count_holds(absl::StrCat("time ", last));
      }
      // (Held-back matches count too: they count towards the per-run
      // evaluator's partial-match cap, which the shared one does not have.)
      if (ref_state.PartialMatchCount() + ref_state.completed().size() > 3000 ||
          ref_out.matches.size() > 20000) {
        abandoned = true;
        break;
      }
    }
    if (abandoned) {
      ++too_big;
      continue;
    }
    const Timestamp end = FromMillis(stream.back().ts + 1000);
    if (handover == stream.size()) {
      timeouts_before_handover = ref_out.timeouts.size();
    }
    ASSERT_TRUE(reference.AdvanceTime(ref_state, end, ref_out).ok());
    ASSERT_TRUE(shared.AdvanceTime(shared_state, end, shared_out).ok());
    ASSERT_TRUE(counting.AdvanceTime(counting_state, end, counting_out).ok());
    ASSERT_TRUE(keyed.AdvanceTime(end, keyed_out).ok());
    keyed_count_holds("the end");
    const std::string context = absl::StrCat(
        "seed ", seed, " round ", round, "\npattern: ", rp.text,
        "\nstream: ", StreamText(stream), "\nnfa:\n", nfa->ToString());
    ASSERT_EQ(shared_out.matches, ref_out.matches) << context;
    ASSERT_EQ(shared_out.timeouts, ref_out.timeouts) << context;
    ASSERT_EQ(counting_out.matches, ref_out.matches) << context;
    EXPECT_THAT(counting_out.timeouts, ::testing::IsEmpty());
    ASSERT_EQ(counting.metrics().timeouts,
              ref_out.timeouts.size() - timeouts_before_handover)
        << context << "\nhandover before event " << handover;
    ASSERT_EQ(reference.metrics().timeouts, ref_out.timeouts.size());
    ASSERT_EQ(shared.metrics().matches, ref_out.matches.size()) << context;
    if (nfa->window() > Duration::zero()) {
      ASSERT_TRUE(shared_state.IsIdle()) << context;
    }
    ++compared;
    if (nfa->skip().kind() == AfterMatchSkip::Kind::kSkipPastLastEvent) {
      ++skipping;
      skipping_with_matches += ref_out.matches.empty() ? 0 : 1;
    }
    long_streams += long_stream ? 1 : 0;
    with_matches += ref_out.matches.empty() ? 0 : 1;
    std::vector<std::string> sorted = ref_out.matches;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
      if (with_duplicates++ == 0) {
        std::cout << "duplicate matches (first): " << rp.text << " on "
                  << StreamText(stream) << "\n";
      }
    }
  }
  const int generated = compared + refused + too_big;
  std::cout << "compared " << compared << " (with matches " << with_matches
            << ", with duplicate matches " << with_duplicates << "), refused "
            << refused << ", too big " << too_big << ", invalid patterns "
            << invalid << ", compiler threw " << compiler_threw
            << ", long streams " << long_streams << ", skipping past the last "
            << "event " << skipping << " (with matches "
            << skipping_with_matches << ")\n";
  ASSERT_GT(generated, 0);
  // Only stage windows and NOT stages next to the start are refused.
  EXPECT_GE(compared + too_big, generated * 9 / 10);
  EXPECT_GT(with_matches, compared / 10);
  EXPECT_GT(skipping_with_matches, compared / 10);
  // FlinkCEP's duplicates (distinct internal paths, same events) came up
  // (a few per thousand rounds; a sanitizer build may run fewer).
  if (compared >= 2000) {
    EXPECT_GT(with_duplicates, 0);
  }
}

}  // namespace
}  // namespace cep
