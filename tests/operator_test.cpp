// Tests of Operator and BoundedOutOfOrderness: events reordered by the
// watermark, late events refused, windows and events in one time order,
// output independent of how often the watermark advances.
#include "cep/operator.hpp"

#include <chrono>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "cep/compiler.hpp"

#include "testing/keyed_recorder.hpp"
#include "testing/nfa_harness.hpp"
#include "testing/status_matchers.hpp"

namespace cep {
namespace {

using ::cep::testing::Ev;
using ::cep::testing::FormatMatch;
using ::cep::testing::IsOk;
using ::cep::testing::K;
using ::cep::testing::NameIs;
using ::testing::ElementsAre;
using P = Pattern<Ev>;

// Lines "KEY: MATCH"; with several patterns "pPATTERN KEY: MATCH".
class Recorder : public OperatorSink<Ev, int> {
 public:
  explicit Recorder(bool show_pattern = false) : show_pattern_(show_pattern) {}
  void OnMatch(size_t pattern, const int& key, Match<Ev> match) override {
    out.push_back(absl::StrCat(Prefix(pattern), key, ": ", FormatMatch(match)));
  }
  void OnTimeout(size_t pattern, const int& key, Match<Ev> partial,
                 Timestamp at) override {
    out.push_back(absl::StrCat(Prefix(pattern), key, ": timeout ",
                               FormatMatch(partial), " @", ToMillis(at)));
  }
  std::string Prefix(size_t pattern) const {
    return show_pattern_ ? absl::StrCat("p", pattern, " ") : "";
  }
  bool show_pattern_;
  std::vector<std::string> out;
};

P AThenB(int window_ms) {
  return P::Begin("a")
      .Where(NameIs("a"))
      .FollowedBy("b")
      .Where(NameIs("b"))
      .Within(std::chrono::milliseconds(window_ms));
}

// Runs `events` through an operator with the given out-of-orderness bound,
// advancing the watermark after every event when `per_event`, else only at
// the end. Late events are listed as "late LABEL".
std::vector<std::string> RunOperator(const P& pattern,
                                     const std::vector<Ev>& events,
                                     Duration bound, bool per_event = true) {
  auto nfa = CompilePattern(pattern);
  EXPECT_THAT(nfa.status(), IsOk());
  InMemoryStateBackend<Ev, int> backend;
  Operator<Ev, int> op(
      *nfa, [](const Ev& e) { return e.id; }, backend);
  BoundedOutOfOrderness watermarks(bound);
  Recorder sink;
  uint64_t seq = 0;
  for (const Ev& e : events) {
    const Timestamp ts = FromMillis(e.ts);
    if (!op.Add(e, ts, seq++)) {
      sink.out.push_back("late " + e.label);
      continue;
    }
    const Timestamp watermark = watermarks.Observe(ts);
    if (per_event) {
      EXPECT_THAT(op.AdvanceWatermark(watermark, sink), IsOk());
    }
  }
  EXPECT_THAT(op.Finish(sink), IsOk());
  EXPECT_EQ(op.buffered(), 0u);
  return sink.out;
}

TEST(BoundedOutOfOrdernessTest, TrailsTheNewestTimestampByBoundPlusOne) {
  BoundedOutOfOrderness w(Duration(5));
  EXPECT_EQ(w.watermark(), kMinWatermark);
  EXPECT_EQ(w.Observe(FromMillis(100)), FromMillis(94));
  EXPECT_EQ(w.Observe(FromMillis(90)), FromMillis(94));  // never goes back
  EXPECT_EQ(w.Observe(FromMillis(110)), FromMillis(104));
}

TEST(OperatorTest, EventsWithinTheBoundAreReorderedByTimestamp) {
  // b arrives before a but within 5 ms: still a then b.
  EXPECT_THAT(
      RunOperator(AThenB(100), {K(1, "b1", "b", 12), K(1, "a1", "a", 10)},
                  Duration(5)),
      ElementsAre("1: a=[a1] b=[b1]"));
}

TEST(OperatorTest, EventsBehindTheWatermarkAreLateAndNotProcessed) {
  // With no out-of-orderness allowed, a at 10 after b at 12 is late.
  EXPECT_THAT(RunOperator(AThenB(100),
                          {K(1, "b1", "b", 12), K(1, "a1", "a", 10),
                           K(1, "b2", "b", 13)},
                          Duration(0)),
              ElementsAre("late a1"));
}

TEST(OperatorTest, EqualTimestampsKeepArrivalOrder) {
  EXPECT_THAT(
      RunOperator(AThenB(100), {K(1, "a1", "a", 10), K(1, "b1", "b", 10)},
                  Duration(0)),
      ElementsAre("1: a=[a1] b=[b1]"));
}

TEST(OperatorTest, WindowsCloseInTimeOrderWithEventsOfOtherKeys) {
  // Key 1's window closes at 20, before key 2's match at 25; key 2's a at
  // 15 times out at 25 exactly, before its b at 25 arrives (FlinkCEP runs
  // advanceTime before processEvent).
  const std::vector<Ev> events = {K(1, "a1", "a", 10), K(2, "a2", "a", 15),
                                  K(3, "a3", "a", 16), K(3, "b3", "b", 21),
                                  K(2, "b2", "b", 25)};
  const std::vector<std::string> expected = {
      "1: timeout a=[a1] @20", "3: a=[a3] b=[b3]", "2: timeout a=[a2] @25"};
  EXPECT_EQ(RunOperator(AThenB(10), events, Duration(0), /*per_event=*/true),
            expected);
  EXPECT_EQ(RunOperator(AThenB(10), events, Duration(0), /*per_event=*/false),
            expected);
  EXPECT_EQ(RunOperator(AThenB(10), events, Duration(50), /*per_event=*/true),
            expected);
}

TEST(OperatorTest, FinishReleasesTrailingNotFollowedByMatches) {
  const P pattern = P::Begin("a")
                        .Where(NameIs("a"))
                        .NotFollowedBy("c")
                        .Where(NameIs("c"))
                        .Within(std::chrono::milliseconds(10));
  EXPECT_THAT(
      RunOperator(pattern,
                  {K(1, "a1", "a", 1), K(2, "a2", "a", 2), K(2, "c2", "c", 3)},
                  Duration(0)),
      ElementsAre("1: a=[a1]"));
}

TEST(OperatorTest, WatermarkNeverMovesBack) {
  auto nfa = CompilePattern(AThenB(10));
  ASSERT_THAT(nfa.status(), IsOk());
  InMemoryStateBackend<Ev, int> backend;
  Operator<Ev, int> op(
      *nfa, [](const Ev& e) { return e.id; }, backend);
  Recorder sink;
  ASSERT_THAT(op.AdvanceWatermark(FromMillis(50), sink), IsOk());
  ASSERT_THAT(op.AdvanceWatermark(FromMillis(40), sink), IsOk());
  EXPECT_EQ(op.watermark(), FromMillis(50));
  EXPECT_FALSE(op.Add(K(1, "a", "a", 50), FromMillis(50), 0));
  EXPECT_TRUE(op.Add(K(1, "a", "a", 51), FromMillis(51), 1));
  EXPECT_EQ(op.buffered(), 1u);
}

TEST(OperatorTest, SeveralPatternsShareTheWatermarkAndTimeOrder) {
  // Pattern 0 sees only key 1's events; pattern 1 sees all. Pattern 0's
  // window closing at 20 comes before pattern 1's match completed at 21.
  auto p0 = CompilePattern(AThenB(10));
  auto p1 = CompilePattern(AThenB(100));
  ASSERT_THAT(p0.status(), IsOk());
  ASSERT_THAT(p1.status(), IsOk());
  InMemoryStateBackend<Ev, int> b0, b1;
  Operator<Ev, int> op;
  auto key = [](const Ev& e) { return e.id; };
  EXPECT_EQ(op.AddPattern(*p0, key, b0, [](const Ev& e) { return e.id == 1; }),
            0u);
  EXPECT_EQ(op.AddPattern(*p1, key, b1), 1u);
  Recorder sink(/*show_pattern=*/true);
  uint64_t seq = 0;
  for (const Ev& e : {K(1, "a1", "a", 10), K(2, "a2", "a", 11),
                      K(2, "b2", "b", 21), K(1, "b1", "b", 22)}) {
    ASSERT_TRUE(op.Add(e, FromMillis(e.ts), seq++));
  }
  ASSERT_THAT(op.Finish(sink), IsOk());
  EXPECT_THAT(sink.out,
              ElementsAre("p0 1: timeout a=[a1] @20", "p1 2: a=[a2] b=[b2]",
                          "p1 1: a=[a1] b=[b1]"));
  EXPECT_EQ(op.metrics(0).events, 2u);
  EXPECT_EQ(op.metrics(1).events, 4u);
}

// Tags the events' arrival order; reports the tag current at each output.
class TagRecorder : public OperatorSink<Ev, int> {
 public:
  explicit TagRecorder(const Operator<Ev, int>& op) : op_(op) {}
  void OnMatch(size_t, const int&, Match<Ev> match) override {
    out.push_back(absl::StrCat(FormatMatch(match), " tag ", op_.current_tag()));
  }
  void OnTimeout(size_t, const int&, Match<Ev> partial, Timestamp) override {
    out.push_back(absl::StrCat("timeout ", FormatMatch(partial), " tag ",
                               op_.current_tag()));
  }
  std::vector<std::string> out;

 private:
  const Operator<Ev, int>& op_;
};

TEST(OperatorTest, CurrentTagNamesTheEventOrWatermarkBehindAnOutput) {
  auto nfa = CompilePattern(AThenB(10));
  ASSERT_THAT(nfa.status(), IsOk());
  InMemoryStateBackend<Ev, int> backend;
  Operator<Ev, int> op(
      *nfa, [](const Ev& e) { return e.id; }, backend);
  TagRecorder sink(op);
  ASSERT_TRUE(op.Add(K(1, "a1", "a", 10), FromMillis(10), 0, /*tag=*/100));
  ASSERT_TRUE(op.Add(K(1, "b1", "b", 12), FromMillis(12), 1, /*tag=*/101));
  ASSERT_TRUE(op.Add(K(2, "a2", "a", 13), FromMillis(13), 2, /*tag=*/102));
  ASSERT_THAT(op.AdvanceWatermark(FromMillis(100), sink, /*tag=*/555), IsOk());
  EXPECT_THAT(sink.out,
              ElementsAre("a=[a1] b=[b1] tag 101", "timeout a=[a2] tag 555"));
}

}  // namespace
}  // namespace cep
