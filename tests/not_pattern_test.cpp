// Semantics of NOT stages (NotNext / NotFollowedBy), ported from FlinkCEP's
// NotPatternITCase: same inputs, timestamps, patterns and expected matches,
// with each expected event assigned to the stage that takes it.

#include <chrono>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "testing/nfa_harness.hpp"

namespace {

using cep::testing::E;
using cep::testing::Ev;
using cep::testing::Harness;
using cep::testing::NameIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

using P = cep::Pattern<Ev>;

// ---------------------------------------------------------------------------
// NotNext / NotFollowedBy in the middle of a pattern.
// ---------------------------------------------------------------------------

// Mirrors NotPatternITCase#testNotNext.
TEST(NotPatternTest, NotNextSkipsBranchWhoseNextEventIsNegated) {
  P p = P::Begin("start")
            .Where(NameIs("a"))
            .NotNext("notPattern")
            .Where(NameIs("b"))
            .FollowedByAny("middle")
            .Where(NameIs("c"))
            .FollowedBy("end")
            .Where(NameIs("d"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({E("a1", "a", 1.0, 1), E("c1", "c", 2.0, 2),
                         E("b1", "b", 3.0, 3), E("c2", "c", 4.0, 4),
                         E("d", "d", 4.0, 5)}),
              UnorderedElementsAre("start=[a1] middle=[c1] end=[d]",
                                   "start=[a1] middle=[c2] end=[d]"));
}

// Mirrors NotPatternITCase#testNotNextNoMatches.
TEST(NotPatternTest, NotNextKillsMatchWhenNegatedEventComesRightAfter) {
  P p = P::Begin("start")
            .Where(NameIs("a"))
            .NotNext("notPattern")
            .Where(NameIs("b"))
            .FollowedBy("middle")
            .Where(NameIs("c"))
            .FollowedBy("end")
            .Where(NameIs("d"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({E("a1", "a", 1.0, 1), E("b1", "b", 3.0, 2),
                         E("c1", "c", 2.0, 3), E("c2", "c", 4.0, 4),
                         E("d", "d", 4.0, 5)}),
              IsEmpty());
}

// Mirrors NotPatternITCase#testNotNextNoMatchesAtTheEnd.
TEST(NotPatternTest, NotNextAtTheEndKilledByFollowingNegatedEvent) {
  P p = P::Begin("start")
            .Where(NameIs("a"))
            .FollowedByAny("middle")
            .Where(NameIs("c"))
            .FollowedByAny("end")
            .Where(NameIs("d"))
            .NotNext("notPattern")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({E("a1", "a", 1.0, 1), E("c1", "c", 2.0, 2),
                         E("c2", "c", 4.0, 3), E("d", "d", 4.0, 4),
                         E("b1", "b", 3.0, 5)}),
              IsEmpty());
}

// Mirrors NotPatternITCase#testNotFollowedBy.
TEST(NotPatternTest, NotFollowedByKillsBranchesSpanningNegatedEvent) {
  P p = P::Begin("start")
            .Where(NameIs("a"))
            .NotFollowedBy("notPattern")
            .Where(NameIs("b"))
            .FollowedByAny("middle")
            .Where(NameIs("c"))
            .FollowedBy("end")
            .Where(NameIs("d"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({E("a1", "a", 1.0, 1), E("c1", "c", 2.0, 2),
                         E("b1", "b", 3.0, 3), E("c2", "c", 4.0, 4),
                         E("d", "d", 4.0, 5)}),
              UnorderedElementsAre("start=[a1] middle=[c1] end=[d]"));
}

// Mirrors NotPatternITCase#testNotFollowedByBeforeOptional.
TEST(NotPatternTest, NotFollowedByBeforeOptional) {
  P p = P::Begin("start")
            .Where(NameIs("a"))
            .NotFollowedBy("notPattern")
            .Where(NameIs("b"))
            .FollowedByAny("middle")
            .Where(NameIs("c"))
            .Optional()
            .FollowedBy("end")
            .Where(NameIs("d"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({E("a1", "a", 1.0, 1), E("c1", "c", 2.0, 2),
                         E("b1", "b", 3.0, 3), E("c2", "c", 4.0, 4),
                         E("d", "d", 4.0, 5)}),
              UnorderedElementsAre("start=[a1] middle=[c1] end=[d]"));
}

// Mirrors NotPatternITCase#testTimesWithNotFollowedBy.
TEST(NotPatternTest, TimesWithNotFollowedBy) {
  P p = P::Begin("start")
            .Where(NameIs("a"))
            .FollowedByAny("middle")
            .Where(NameIs("b"))
            .Times(2)
            .NotFollowedBy("notPattern")
            .Where(NameIs("c"))
            .FollowedBy("end")
            .Where(NameIs("d"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({E("a1", "a", 1.0, 1), E("b1", "b", 2.0, 2),
                         E("c", "c", 3.0, 3), E("b2", "b", 4.0, 4),
                         E("d", "d", 4.0, 5)}),
              IsEmpty());
}

// Mirrors NotPatternITCase#testIgnoreStateOfTimesWithNotFollowedBy. The
// timestamps are not monotonic, as in Flink's input (no window is involved).
TEST(NotPatternTest, IgnoreStateOfTimesWithNotFollowedBy) {
  P p = P::Begin("start")
            .Where(NameIs("a"))
            .NotFollowedBy("notPattern")
            .Where(NameIs("b"))
            .FollowedByAny("middle")
            .Where(NameIs("c"))
            .Times(2)
            .Optional()
            .FollowedBy("end")
            .Where(NameIs("d"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({E("a1", "a", 1.0, 1), E("d1", "d", 6.0, 2),
                         E("e", "e", 2.0, 1), E("b1", "b", 4.0, 3),
                         E("c1", "c", 3.0, 2), E("c2", "c", 5.0, 4),
                         E("d2", "d", 7.0, 5)}),
              UnorderedElementsAre("start=[a1] end=[d1]"));
}

// Mirrors NotPatternITCase#testTimesWithNotFollowedByAfter. Non-monotonic
// timestamps as in Flink's input.
TEST(NotPatternTest, TimesWithNotFollowedByAfter) {
  P p = P::Begin("start")
            .Where(NameIs("a"))
            .FollowedByAny("middle")
            .Where(NameIs("b"))
            .Times(2)
            .NotFollowedBy("notPattern")
            .Where(NameIs("c"))
            .FollowedBy("end")
            .Where(NameIs("d"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({E("a1", "a", 1.0, 1), E("d1", "d", 7.0, 2),
                         E("e", "e", 2.0, 1), E("b1", "b", 4.0, 3),
                         E("b2", "b", 5.0, 3), E("c1", "c", 3.0, 2),
                         E("d2", "d", 8.0, 5)}),
              IsEmpty());
}

// Mirrors NotPatternITCase#testNotFollowedByBeforeOptionalAtTheEnd.
TEST(NotPatternTest, NotFollowedByBeforeOptionalAtTheEnd) {
  P p = P::Begin("start")
            .Where(NameIs("a"))
            .NotFollowedBy("notPattern")
            .Where(NameIs("b"))
            .FollowedByAny("end")
            .Where(NameIs("c"))
            .Optional();
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({E("a1", "a", 1.0, 1), E("c1", "c", 2.0, 2),
                         E("b1", "b", 3.0, 3), E("c2", "c", 4.0, 4)}),
              UnorderedElementsAre("start=[a1] end=[c1]", "start=[a1]"));
}

// Mirrors NotPatternITCase#testNotFollowedByBeforeOptionalTimes.
TEST(NotPatternTest, NotFollowedByBeforeOptionalTimes) {
  P p = P::Begin("start")
            .Where(NameIs("a"))
            .NotFollowedBy("notPattern")
            .Where(NameIs("b"))
            .FollowedByAny("middle")
            .Where(NameIs("c"))
            .Times(2)
            .Optional()
            .FollowedBy("end")
            .Where(NameIs("d"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({E("a1", "a", 1.0, 1), E("c1", "c", 2.0, 2),
                         E("b1", "b", 3.0, 3), E("c2", "c", 4.0, 4),
                         E("d", "d", 4.0, 5)}),
              UnorderedElementsAre("start=[a1] middle=[c1 c2] end=[d]"));
}

// Mirrors NotPatternITCase#testNotFollowedByWithBranchingAtStart.
TEST(NotPatternTest, NotFollowedByWithBranchingAtStart) {
  P p = P::Begin("start")
            .Where(NameIs("a"))
            .NotFollowedBy("notPattern")
            .Where(NameIs("b"))
            .FollowedBy("middle")
            .Where(NameIs("c"))
            .FollowedBy("end")
            .Where(NameIs("d"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({E("a1", "a", 1.0, 1), E("b1", "b", 3.0, 2),
                         E("c1", "c", 2.0, 3), E("a2", "a", 4.0, 4),
                         E("c2", "c", 5.0, 5), E("d", "d", 6.0, 6)}),
              UnorderedElementsAre("start=[a2] middle=[c2] end=[d]"));
}

// ---------------------------------------------------------------------------
// NOT stages next to looping stages. Flink's shared data set: a1 b1 b2 b3 c1
// b4 b5 b6 d1 (prices 1..9); each test feeds a subset at timestamps 0, 1, ...
// ---------------------------------------------------------------------------

Ev A1() { return E("a1", "a", 1.0, 0); }
Ev B1() { return E("b1", "b", 2.0, 0); }
Ev B2() { return E("b2", "b", 3.0, 0); }
Ev B3() { return E("b3", "b", 4.0, 0); }
Ev C1() { return E("c1", "c", 5.0, 0); }
Ev B4() { return E("b4", "b", 6.0, 0); }
Ev B5() { return E("b5", "b", 7.0, 0); }
Ev B6() { return E("b6", "b", 8.0, 0); }
Ev D1() { return E("d1", "d", 9.0, 0); }

// Gives the events consecutive timestamps 0, 1, 2, ...
std::vector<Ev> AtConsecutiveTimes(std::vector<Ev> events) {
  for (size_t i = 0; i < events.size(); ++i) {
    events[i].ts = static_cast<int64_t>(i);
  }
  return events;
}

// a (followedBy | followedByAny) b+ notNext c followedBy d.
std::vector<std::string> RunNotNextAfterOneOrMore(bool skip_till_any) {
  P p = P::Begin("a").Where(NameIs("a"));
  if (skip_till_any) {
    p.FollowedByAny("b");
  } else {
    p.FollowedBy("b");
  }
  p.Where(NameIs("b"))
      .OneOrMore()
      .NotNext("notC")
      .Where(NameIs("c"))
      .FollowedBy("d")
      .Where(NameIs("d"));
  Harness<Ev> h(p);
  return h.FeedAll(AtConsecutiveTimes({A1(), B1(), C1(), B2(), D1()}));
}

// Mirrors NotPatternITCase#testNotNextAfterOneOrMoreSkipTillNext.
TEST(NotPatternTest, NotNextAfterOneOrMoreSkipTillNext) {
  EXPECT_THAT(RunNotNextAfterOneOrMore(/*skip_till_any=*/false), IsEmpty());
}

// Mirrors NotPatternITCase#testNotNextAfterOneOrMoreSkipTillAny.
TEST(NotPatternTest, NotNextAfterOneOrMoreSkipTillAny) {
  EXPECT_THAT(RunNotNextAfterOneOrMore(/*skip_till_any=*/true),
              UnorderedElementsAre("a=[a1] b=[b2] d=[d1]"));
}

// a (followedBy | followedByAny) b+ [allowCombinations] notFollowedBy c
// followedBy d.
std::vector<std::string> RunNotFollowedByAfterOneOrMore(bool eager,
                                                        bool skip_till_any) {
  P p = P::Begin("a").Where(NameIs("a"));
  if (skip_till_any) {
    p.FollowedByAny("b");
  } else {
    p.FollowedBy("b");
  }
  p.Where(NameIs("b")).OneOrMore();
  if (!eager) p.AllowCombinations();
  p.NotFollowedBy("notC").Where(NameIs("c")).FollowedBy("d").Where(NameIs("d"));
  Harness<Ev> h(p);
  return h.FeedAll(AtConsecutiveTimes(
      {A1(), B1(), B2(), B3(), C1(), B4(), B5(), B6(), D1()}));
}

// Mirrors NotPatternITCase#testNotFollowedByNextAfterOneOrMoreEager.
TEST(NotPatternTest, NotFollowedByNextAfterOneOrMoreEager) {
  EXPECT_THAT(RunNotFollowedByAfterOneOrMore(/*eager=*/true,
                                             /*skip_till_any=*/false),
              IsEmpty());
}

// Mirrors NotPatternITCase#testNotFollowedByAnyAfterOneOrMoreEager.
TEST(NotPatternTest, NotFollowedByAnyAfterOneOrMoreEager) {
  EXPECT_THAT(RunNotFollowedByAfterOneOrMore(/*eager=*/true,
                                             /*skip_till_any=*/true),
              UnorderedElementsAre(
                  "a=[a1] b=[b4 b5 b6] d=[d1]", "a=[a1] b=[b4 b5] d=[d1]",
                  "a=[a1] b=[b4] d=[d1]", "a=[a1] b=[b5 b6] d=[d1]",
                  "a=[a1] b=[b5] d=[d1]", "a=[a1] b=[b6] d=[d1]"));
}

// Mirrors NotPatternITCase#testNotFollowedByNextAfterOneOrMoreCombinations.
TEST(NotPatternTest, NotFollowedByNextAfterOneOrMoreCombinations) {
  EXPECT_THAT(RunNotFollowedByAfterOneOrMore(/*eager=*/false,
                                             /*skip_till_any=*/false),
              IsEmpty());
}

// Mirrors NotPatternITCase#testNotFollowedByAnyAfterOneOrMoreCombinations.
TEST(NotPatternTest, NotFollowedByAnyAfterOneOrMoreCombinations) {
  EXPECT_THAT(
      RunNotFollowedByAfterOneOrMore(/*eager=*/false,
                                     /*skip_till_any=*/true),
      UnorderedElementsAre("a=[a1] b=[b4 b5 b6] d=[d1]",
                           "a=[a1] b=[b4 b5] d=[d1]", "a=[a1] b=[b4 b6] d=[d1]",
                           "a=[a1] b=[b4] d=[d1]", "a=[a1] b=[b5 b6] d=[d1]",
                           "a=[a1] b=[b5] d=[d1]", "a=[a1] b=[b6] d=[d1]"));
}

// a notFollowedBy c (followedBy | followedByAny) b+ [optional]
// [allowCombinations] followedBy d.
std::vector<std::string> RunNotFollowedByBeforeLoop(bool eager,
                                                    bool skip_till_any,
                                                    bool optional) {
  P p =
      P::Begin("a").Where(NameIs("a")).NotFollowedBy("notC").Where(NameIs("c"));
  if (skip_till_any) {
    p.FollowedByAny("b");
  } else {
    p.FollowedBy("b");
  }
  p.Where(NameIs("b")).OneOrMore();
  if (optional) p.Optional();
  if (!eager) p.AllowCombinations();
  p.FollowedBy("d").Where(NameIs("d"));
  Harness<Ev> h(p);
  return h.FeedAll(
      AtConsecutiveTimes({A1(), B1(), C1(), B4(), B5(), B6(), D1()}));
}

// Mirrors NotPatternITCase#testNotFollowedByAnyBeforeOneOrMoreEager.
TEST(NotPatternTest, NotFollowedByAnyBeforeOneOrMoreEager) {
  EXPECT_THAT(RunNotFollowedByBeforeLoop(/*eager=*/true, /*skip_till_any=*/true,
                                         /*optional=*/false),
              UnorderedElementsAre(
                  "a=[a1] b=[b1 b4 b5 b6] d=[d1]", "a=[a1] b=[b1 b4 b5] d=[d1]",
                  "a=[a1] b=[b1 b4] d=[d1]", "a=[a1] b=[b1] d=[d1]"));
}

// Mirrors NotPatternITCase#testNotFollowedByAnyBeforeOneOrMoreCombinations.
TEST(NotPatternTest, NotFollowedByAnyBeforeOneOrMoreCombinations) {
  EXPECT_THAT(RunNotFollowedByBeforeLoop(/*eager=*/false,
                                         /*skip_till_any=*/true,
                                         /*optional=*/false),
              UnorderedElementsAre(
                  "a=[a1] b=[b1 b4 b5 b6] d=[d1]", "a=[a1] b=[b1 b4 b6] d=[d1]",
                  "a=[a1] b=[b1 b4 b5] d=[d1]", "a=[a1] b=[b1 b4] d=[d1]",
                  "a=[a1] b=[b1 b5 b6] d=[d1]", "a=[a1] b=[b1 b5] d=[d1]",
                  "a=[a1] b=[b1 b6] d=[d1]", "a=[a1] b=[b1] d=[d1]"));
}

// Mirrors NotPatternITCase#testNotFollowedByBeforeOneOrMoreEager.
TEST(NotPatternTest, NotFollowedByBeforeOneOrMoreEager) {
  EXPECT_THAT(RunNotFollowedByBeforeLoop(/*eager=*/true,
                                         /*skip_till_any=*/false,
                                         /*optional=*/false),
              UnorderedElementsAre(
                  "a=[a1] b=[b1 b4 b5 b6] d=[d1]", "a=[a1] b=[b1 b4 b5] d=[d1]",
                  "a=[a1] b=[b1 b4] d=[d1]", "a=[a1] b=[b1] d=[d1]"));
}

// Mirrors NotPatternITCase#testNotFollowedByBeforeOneOrMoreCombinations.
TEST(NotPatternTest, NotFollowedByBeforeOneOrMoreCombinations) {
  EXPECT_THAT(RunNotFollowedByBeforeLoop(/*eager=*/false,
                                         /*skip_till_any=*/false,
                                         /*optional=*/false),
              UnorderedElementsAre(
                  "a=[a1] b=[b1 b4 b5 b6] d=[d1]", "a=[a1] b=[b1 b4 b6] d=[d1]",
                  "a=[a1] b=[b1 b4 b5] d=[d1]", "a=[a1] b=[b1 b4] d=[d1]",
                  "a=[a1] b=[b1 b5 b6] d=[d1]", "a=[a1] b=[b1 b5] d=[d1]",
                  "a=[a1] b=[b1 b6] d=[d1]", "a=[a1] b=[b1] d=[d1]"));
}

// Mirrors NotPatternITCase#testNotFollowedByBeforeZeroOrMoreEagerSkipTillNext.
TEST(NotPatternTest, NotFollowedByBeforeZeroOrMoreEagerSkipTillNext) {
  EXPECT_THAT(RunNotFollowedByBeforeLoop(/*eager=*/true,
                                         /*skip_till_any=*/false,
                                         /*optional=*/true),
              UnorderedElementsAre(
                  "a=[a1] b=[b1 b4 b5 b6] d=[d1]", "a=[a1] b=[b1 b4 b5] d=[d1]",
                  "a=[a1] b=[b1 b4] d=[d1]", "a=[a1] b=[b1] d=[d1]"));
}

// Mirrors
// NotPatternITCase#testNotFollowedByBeforeZeroOrMoreCombinationsSkipTillNext.
TEST(NotPatternTest, NotFollowedByBeforeZeroOrMoreCombinationsSkipTillNext) {
  EXPECT_THAT(RunNotFollowedByBeforeLoop(/*eager=*/false,
                                         /*skip_till_any=*/false,
                                         /*optional=*/true),
              UnorderedElementsAre(
                  "a=[a1] b=[b1 b4 b5 b6] d=[d1]", "a=[a1] b=[b1 b4 b5] d=[d1]",
                  "a=[a1] b=[b1 b4 b6] d=[d1]", "a=[a1] b=[b1 b4] d=[d1]",
                  "a=[a1] b=[b1] d=[d1]", "a=[a1] b=[b1 b5 b6] d=[d1]",
                  "a=[a1] b=[b1 b5] d=[d1]", "a=[a1] b=[b1 b6] d=[d1]"));
}

// Mirrors NotPatternITCase#testNotFollowedByBeforeZeroOrMoreEagerSkipTillAny.
TEST(NotPatternTest, NotFollowedByBeforeZeroOrMoreEagerSkipTillAny) {
  EXPECT_THAT(RunNotFollowedByBeforeLoop(/*eager=*/true,
                                         /*skip_till_any=*/true,
                                         /*optional=*/true),
              UnorderedElementsAre(
                  "a=[a1] b=[b1 b4 b5 b6] d=[d1]", "a=[a1] b=[b1 b4 b5] d=[d1]",
                  "a=[a1] b=[b1 b4] d=[d1]", "a=[a1] b=[b1] d=[d1]"));
}

// Mirrors
// NotPatternITCase#testNotFollowedByBeforeZeroOrMoreCombinationsSkipTillAny.
TEST(NotPatternTest, NotFollowedByBeforeZeroOrMoreCombinationsSkipTillAny) {
  EXPECT_THAT(RunNotFollowedByBeforeLoop(/*eager=*/false,
                                         /*skip_till_any=*/true,
                                         /*optional=*/true),
              UnorderedElementsAre(
                  "a=[a1] b=[b1 b4 b5 b6] d=[d1]", "a=[a1] b=[b1 b4 b5] d=[d1]",
                  "a=[a1] b=[b1 b4 b6] d=[d1]", "a=[a1] b=[b1 b4] d=[d1]",
                  "a=[a1] b=[b1] d=[d1]", "a=[a1] b=[b1 b5 b6] d=[d1]",
                  "a=[a1] b=[b1 b5] d=[d1]", "a=[a1] b=[b1 b6] d=[d1]"));
}

// ---------------------------------------------------------------------------
// NotFollowedBy at the end of a windowed pattern: the match is pending until
// the window passes, then released by the time advance that precedes the next
// event (or by a watermark).
// ---------------------------------------------------------------------------

// a notFollowedBy b within 3ms; events are fed one by one so the test pins
// which step releases the pending match.
void CheckNotFollowedByWithinAtEnd(cep::WithinType type) {
  P p = P::Begin("a")
            .Where(NameIs("a"))
            .NotFollowedBy("b")
            .Where(NameIs("b"))
            .Within(std::chrono::milliseconds(3), type);
  Harness<Ev> h(p);
  // a1 is killed by b1; a2 waits for its window.
  EXPECT_THAT(h.Feed(E("a1", "a", 1.0, 1), 1), IsEmpty());
  EXPECT_THAT(h.Feed(E("b1", "b", 2.0, 2), 2), IsEmpty());
  EXPECT_THAT(h.Feed(E("a2", "a", 3.0, 4), 4), IsEmpty());
  EXPECT_THAT(h.Feed(E("c", "c", 4.0, 5), 5), IsEmpty());
  // Time 10 closes a2's window (10 - 4 >= 3) before b2 is processed.
  EXPECT_THAT(h.Feed(E("b2", "b", 5.0, 10), 10), ElementsAre("a=[a2]"));
  EXPECT_THAT(h.Feed(E("a3", "a", 7.0, 11), 11), IsEmpty());
  // a3's window is still open at 13, so b3 kills it.
  EXPECT_THAT(h.Feed(E("b3", "b", 8.0, 13), 13), IsEmpty());
  EXPECT_THAT(h.Advance(100), IsEmpty());
  EXPECT_THAT(h.matches(), ElementsAre("a=[a2]"));
}

// Mirrors NotPatternITCase#testNotFollowedByWithinFirstAndLastAtEnd.
TEST(NotPatternTest, NotFollowedByWithinFirstAndLastAtEnd) {
  CheckNotFollowedByWithinAtEnd(cep::WithinType::kFirstAndLast);
}

// Mirrors NotPatternITCase#testNotFollowedByWithinPreviousAndCurrentAtEnd.
TEST(NotPatternTest, NotFollowedByWithinPreviousAndCurrentAtEnd) {
  CheckNotFollowedByWithinAtEnd(cep::WithinType::kPreviousAndCurrent);
}

// Not in Flink: a pending match is released by a watermark alone, exactly
// when its window closes (now - first >= window, as FlinkCEP's advanceTime).
TEST(NotPatternTest, NotFollowedByAtEndReleasedByAdvance) {
  P p = P::Begin("a")
            .Where(NameIs("a"))
            .NotFollowedBy("b")
            .Where(NameIs("b"))
            .Within(std::chrono::milliseconds(3));
  Harness<Ev> h(p);
  EXPECT_THAT(h.Feed(E("a2", "a", 3.0, 4), 4), IsEmpty());
  EXPECT_THAT(h.Advance(6), IsEmpty());
  EXPECT_THAT(h.Advance(7), ElementsAre("a=[a2]"));
  EXPECT_EQ(h.partial_matches(), 0u);
}

// Mirrors NotPatternITCase#testNotFollowByBeforeTimesWithin.
TEST(NotPatternTest, NotFollowedByBeforeTimesWithin) {
  P p = P::Begin("a")
            .Where(NameIs("a"))
            .NotFollowedBy("b")
            .Where(NameIs("b"))
            .FollowedBy("c")
            .Where(NameIs("c"))
            .Times(0, 2)
            .Within(std::chrono::milliseconds(3));
  Harness<Ev> h(p);
  EXPECT_THAT(
      h.FeedAll({E("a1", "a", 1.0, 1), E("b1", "b", 2.0, 2),
                 E("a2", "a", 3.0, 10), E("c1", "c", 4.0, 11),
                 E("c2", "c", 5.0, 12), E("a3", "a", 7.0, 20),
                 E("c3", "c", 8.0, 21), E("c4", "c", 8.0, 24)}),
      UnorderedElementsAre("a=[a1]", "a=[a2]", "a=[a2] c=[c1]",
                           "a=[a2] c=[c1 c2]", "a=[a3]", "a=[a3] c=[c3]"));
}

// Mirrors NotPatternITCase#testNotFollowedByWithinAtEndAfterMatch.
TEST(NotPatternTest, NotFollowedByWithinAtEndAfterMatch) {
  P p = P::Begin("a", cep::AfterMatchSkip::SkipPastLastEvent())
            .Where(NameIs("a"))
            .OneOrMore()
            .AllowCombinations()
            .FollowedBy("c")
            .Where(NameIs("c"))
            .NotFollowedBy("b")
            .Where(NameIs("b"))
            .Within(std::chrono::milliseconds(5));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({E("a1", "a", 1.0, 1), E("a2", "a", 2.0, 2),
                         E("a3", "a", 3.0, 3), E("c1", "c", 4.0, 4),
                         E("c2", "c", 5.0, 10)}),
              ElementsAre("a=[a1 a2 a3] c=[c1]"));
}

}  // namespace
