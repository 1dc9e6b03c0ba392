// Ports of FlinkCEP's AfterMatchSkipITCase: what each after-match skip
// strategy discards, and in which order matches are released (a match waits
// while a partial match that started earlier is still alive).
//
// Flink feeds these events without timestamps (all equal, ordered by arrival);
// here each event gets its arrival position as timestamp, which orders them
// the same way. Where several matches are released by the same event under
// NoSkip, FlinkCEP does not fix their order, so those are compared unordered.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "testing/nfa_harness.hpp"

namespace {

using cep::AfterMatchSkip;
using cep::testing::E;
using cep::testing::Ev;
using cep::testing::Harness;
using cep::testing::NameIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

using P = cep::Pattern<Ev>;

// The event's name contains `part` (Flink's value.getName().contains(...)).
auto NameHas(std::string part) {
  return [part = std::move(part)](const Ev& e) {
    return e.name.find(part) != std::string::npos;
  };
}

// Events named by their labels, timestamped 1, 2, 3, ... in arrival order.
std::vector<Ev> Named(const std::vector<std::string>& labels) {
  std::vector<Ev> events;
  int64_t ts = 1;
  for (const std::string& label : labels) {
    events.push_back(E(label, label, 0.0, ts++));
  }
  return events;
}

// Feeds `events` one by one; returns the matches released by each event.
std::vector<std::vector<std::string>> FeedSteps(Harness<Ev>& h,
                                                const std::vector<Ev>& events) {
  std::vector<std::vector<std::string>> steps;
  for (const Ev& e : events) steps.push_back(h.Feed(e, e.ts));
  return steps;
}

// Six "a" events labelled a1..a6.
std::vector<Ev> SixAs() {
  std::vector<Ev> events;
  for (int i = 1; i <= 6; ++i) {
    events.push_back(E(absl::StrCat("a", i), "a", 0.0, i));
  }
  return events;
}

// a followedByAny b, with `skip`; input a1 b1 a2 b2.
P TwoVariablesFollowedByAny(AfterMatchSkip skip) {
  return P::Begin("start", std::move(skip))
      .Where(NameIs("a"))
      .FollowedByAny("end")
      .Where(NameIs("b"));
}
std::vector<Ev> TwoVariablesFollowedByAnyInput() {
  return {E("a1", "a", 0.0, 1), E("b1", "b", 0.0, 2), E("a2", "a", 0.0, 3),
          E("b2", "b", 0.0, 4)};
}

// a next b+ (quantifier at the end), with `skip`; input a1 b1 b2 b3.
P QuantifierAtEndOfPattern(AfterMatchSkip skip) {
  return P::Begin("start", std::move(skip))
      .Where(NameIs("a"))
      .Next("end")
      .Where(NameIs("b"))
      .OneOrMore();
}
std::vector<Ev> QuantifierAtEndOfPatternInput() {
  return {E("a1", "a", 0.0, 1), E("b1", "b", 0.0, 2), E("b2", "b", 0.0, 3),
          E("b3", "b", 0.0, 4)};
}

// a next b+ optional consecutive next c, with `skip`; input a c (no b at all).
P MissedSkipTo(AfterMatchSkip skip) {
  return P::Begin("a", std::move(skip))
      .Where(NameHas("a"))
      .Next("b")
      .Where(NameHas("b"))
      .OneOrMore()
      .Optional()
      .Consecutive()
      .Next("c")
      .Where(NameHas("c"));
}

// a+ consecutive greedy next b, with `skip`; input a1 a2 a3 b1 (docs example).
P OneOrMoreAtBeginning(AfterMatchSkip skip) {
  return P::Begin("a", std::move(skip))
      .Where(NameHas("a"))
      .OneOrMore()
      .Consecutive()
      .Greedy()
      .Next("b")
      .Where(NameHas("b"));
}
std::vector<Ev> OneOrMoreAtBeginningInput() {
  return Named({"a1", "a2", "a3", "b1"});
}

// a next b+ consecutive, with `skip`; input a1 b1 a2 b2 b3 a3 b4.
P OneOrMoreAfterStart(AfterMatchSkip skip) {
  return P::Begin("a", std::move(skip))
      .Where(NameHas("a"))
      .Next("b")
      .Where(NameHas("b"))
      .OneOrMore()
      .Consecutive();
}
std::vector<Ev> OneOrMoreAfterStartInput() {
  return Named({"a1", "b1", "a2", "b2", "b3", "a3", "b4"});
}

// a{2} next b{2} over events that are both a and b, with `skip`.
P TwoTimesTwo(AfterMatchSkip skip) {
  return P::Begin("start", std::move(skip))
      .Where(NameHas("a"))
      .Times(2)
      .Next("end")
      .Where(NameHas("b"))
      .Times(2);
}
std::vector<Ev> AbEvents(int n) {
  std::vector<Ev> events;
  for (int i = 1; i <= n; ++i) {
    events.push_back(E(absl::StrCat("ab", i), "ab", 0.0, i));
  }
  return events;
}

// testNoSkip
TEST(AfterMatchSkipTest, NoSkipEmitsEveryOverlappingMatch) {
  P p = P::Begin("start", AfterMatchSkip::NoSkip()).Where(NameIs("a")).Times(3);
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(SixAs()),
              ElementsAre("start=[a1 a2 a3]", "start=[a2 a3 a4]",
                          "start=[a3 a4 a5]", "start=[a4 a5 a6]"));
}

// testNoSkipWithFollowedByAny
TEST(AfterMatchSkipTest, NoSkipWithFollowedByAny) {
  Harness<Ev> h(TwoVariablesFollowedByAny(AfterMatchSkip::NoSkip()));
  EXPECT_THAT(
      FeedSteps(h, TwoVariablesFollowedByAnyInput()),
      ElementsAre(
          IsEmpty(), ElementsAre("start=[a1] end=[b1]"), IsEmpty(),
          UnorderedElementsAre("start=[a1] end=[b2]", "start=[a2] end=[b2]")));
}

// testSkipToNextWithFollowedByAny
TEST(AfterMatchSkipTest, SkipToNextWithFollowedByAny) {
  Harness<Ev> h(TwoVariablesFollowedByAny(AfterMatchSkip::SkipToNext()));
  EXPECT_THAT(h.FeedAll(TwoVariablesFollowedByAnyInput()),
              ElementsAre("start=[a1] end=[b1]", "start=[a2] end=[b2]"));
}

// testNoSkipWithQuantifierAtTheEnd
TEST(AfterMatchSkipTest, NoSkipWithQuantifierAtTheEnd) {
  Harness<Ev> h(QuantifierAtEndOfPattern(AfterMatchSkip::NoSkip()));
  EXPECT_THAT(h.FeedAll(QuantifierAtEndOfPatternInput()),
              ElementsAre("start=[a1] end=[b1]", "start=[a1] end=[b1 b2]",
                          "start=[a1] end=[b1 b2 b3]"));
}

// testSkipToNextWithQuantifierAtTheEnd
TEST(AfterMatchSkipTest, SkipToNextWithQuantifierAtTheEnd) {
  Harness<Ev> h(QuantifierAtEndOfPattern(AfterMatchSkip::SkipToNext()));
  EXPECT_THAT(h.FeedAll(QuantifierAtEndOfPatternInput()),
              ElementsAre("start=[a1] end=[b1]"));
  EXPECT_EQ(h.partial_matches(), 0u);
}

// testSkipPastLast
TEST(AfterMatchSkipTest, SkipPastLastEventWithTimes) {
  P p = P::Begin("start", AfterMatchSkip::SkipPastLastEvent())
            .Where(NameIs("a"))
            .Times(3);
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(SixAs()),
              ElementsAre("start=[a1 a2 a3]", "start=[a4 a5 a6]"));
}

// testSkipToFirst
TEST(AfterMatchSkipTest, SkipToFirstOfLaterStage) {
  Harness<Ev> h(TwoTimesTwo(AfterMatchSkip::SkipToFirst("end")));
  EXPECT_THAT(h.FeedAll(AbEvents(6)),
              ElementsAre("start=[ab1 ab2] end=[ab3 ab4]",
                          "start=[ab3 ab4] end=[ab5 ab6]"));
}

// testSkipToLast
TEST(AfterMatchSkipTest, SkipToLastOfLaterStage) {
  Harness<Ev> h(TwoTimesTwo(AfterMatchSkip::SkipToLast("end")));
  EXPECT_THAT(h.FeedAll(AbEvents(7)),
              ElementsAre("start=[ab1 ab2] end=[ab3 ab4]",
                          "start=[ab4 ab5] end=[ab6 ab7]"));
}

// testSkipPastLast2
TEST(AfterMatchSkipTest, SkipPastLastEventWithFollowedByAnyBranches) {
  P p = P::Begin("a", AfterMatchSkip::SkipPastLastEvent())
            .Where(NameHas("a"))
            .FollowedByAny("b")
            .Where(NameHas("b"))
            .FollowedByAny("c")
            .Where(NameHas("c"))
            .FollowedBy("d")
            .Where(NameHas("d"));
  Harness<Ev> h(p);
  EXPECT_THAT(
      h.FeedAll(Named({"a1", "a2", "b1", "b2", "c1", "c2", "d1", "d2"})),
      ElementsAre("a=[a1] b=[b1] c=[c1] d=[d1]"));
}

// testSkipPastLast3
TEST(AfterMatchSkipTest, SkipPastLastEventWithStrictNext) {
  P p = P::Begin("a", AfterMatchSkip::SkipPastLastEvent())
            .Where(NameHas("a"))
            .Next("b")
            .Where(NameHas("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(Named({"a1", "c", "a2", "b2"})),
              ElementsAre("a=[a2] b=[b2]"));
}

// testSkipToFirstWithOptionalMatch
TEST(AfterMatchSkipTest, SkipToFirstWithOptionalStageNotMatched) {
  P p = P::Begin("x", AfterMatchSkip::SkipToFirst("b"))
            .Where(NameHas("x"))
            .OneOrMore()
            .Optional()
            .Next("b")
            .Where(NameHas("b"))
            .Next("c")
            .Where(NameHas("c"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(Named({"ab1", "c1", "ab2", "c2"})),
              ElementsAre("b=[ab1] c=[c1]", "b=[ab2] c=[c2]"));
}

// testSkipToFirstAtStartPosition
TEST(AfterMatchSkipTest, SkipToFirstOfStartStage) {
  P p = P::Begin("b", AfterMatchSkip::SkipToFirst("b"))
            .Where(NameHas("b"))
            .Next("c")
            .Where(NameHas("c"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(Named({"ab1", "c1", "ab2", "c2"})),
              ElementsAre("b=[ab1] c=[c1]", "b=[ab2] c=[c2]"));
}

// testSkipToFirstWithOneOrMore
TEST(AfterMatchSkipTest, SkipToFirstWithOneOrMore) {
  Harness<Ev> h(OneOrMoreAfterStart(AfterMatchSkip::SkipToFirst("b")));
  EXPECT_THAT(h.FeedAll(OneOrMoreAfterStartInput()),
              ElementsAre("a=[a1] b=[b1]", "a=[a2] b=[b2]", "a=[a3] b=[b4]"));
}

// testSkipToFirstNonExistentPositionWithoutException
TEST(AfterMatchSkipTest, SkipToFirstOfStageMissingFromMatch) {
  Harness<Ev> h(MissedSkipTo(AfterMatchSkip::SkipToFirst("b")));
  EXPECT_THAT(h.FeedAll(Named({"a", "c"})), ElementsAre("a=[a] c=[c]"));
}

// testSkipToLastNonExistentPositionWithoutException (Flink's body passes
// skipToFirst; the expectation is the same for skipToLast, which the name
// intends, so this port uses SkipToLast).
TEST(AfterMatchSkipTest, SkipToLastOfStageMissingFromMatch) {
  Harness<Ev> h(MissedSkipTo(AfterMatchSkip::SkipToLast("b")));
  EXPECT_THAT(h.FeedAll(Named({"a", "c"})), ElementsAre("a=[a] c=[c]"));
}

// testSkipToLastWithOneOrMore
TEST(AfterMatchSkipTest, SkipToLastWithOneOrMore) {
  Harness<Ev> h(OneOrMoreAfterStart(AfterMatchSkip::SkipToLast("b")));
  EXPECT_THAT(h.FeedAll(OneOrMoreAfterStartInput()),
              ElementsAre("a=[a1] b=[b1]", "a=[a2] b=[b2]", "a=[a3] b=[b4]"));
}

// testSkipPastLastWithOneOrMoreAtBeginning
TEST(AfterMatchSkipTest, SkipPastLastEventWithOneOrMoreAtBeginning) {
  Harness<Ev> h(OneOrMoreAtBeginning(AfterMatchSkip::SkipPastLastEvent()));
  EXPECT_THAT(h.FeedAll(OneOrMoreAtBeginningInput()),
              ElementsAre("a=[a1 a2 a3] b=[b1]"));
}

// testSkipToLastWithOneOrMoreAtBeginning
TEST(AfterMatchSkipTest, SkipToLastWithOneOrMoreAtBeginning) {
  Harness<Ev> h(OneOrMoreAtBeginning(AfterMatchSkip::SkipToLast("a")));
  EXPECT_THAT(h.FeedAll(OneOrMoreAtBeginningInput()),
              ElementsAre("a=[a1 a2 a3] b=[b1]", "a=[a3] b=[b1]"));
}

// testSkipToFirstWithOneOrMoreAtBeginning
TEST(AfterMatchSkipTest, SkipToFirstWithOneOrMoreAtBeginning) {
  Harness<Ev> h(OneOrMoreAtBeginning(AfterMatchSkip::SkipToFirst("a")));
  EXPECT_THAT(
      h.FeedAll(OneOrMoreAtBeginningInput()),
      ElementsAre("a=[a1 a2 a3] b=[b1]", "a=[a2 a3] b=[b1]", "a=[a3] b=[b1]"));
}

// testNoSkipWithOneOrMoreAtBeginning
TEST(AfterMatchSkipTest, NoSkipWithOneOrMoreAtBeginning) {
  Harness<Ev> h(OneOrMoreAtBeginning(AfterMatchSkip::NoSkip()));
  EXPECT_THAT(h.FeedAll(OneOrMoreAtBeginningInput()),
              UnorderedElementsAre("a=[a1 a2 a3] b=[b1]", "a=[a2 a3] b=[b1]",
                                   "a=[a3] b=[b1]"));
}

// testSkipToFirstDiscarding
TEST(AfterMatchSkipTest, SkipToFirstDiscardsPartialsBeforeTarget) {
  P p =
      P::Begin("a or c", AfterMatchSkip::SkipToFirst("c*"))
          .Where([](const Ev& e) { return NameHas("a")(e) || NameHas("c")(e); })
          .FollowedBy("b or c")
          .Where([](const Ev& e) { return NameHas("b")(e) || NameHas("c")(e); })
          .FollowedBy("c*")
          .Where(NameHas("c"))
          .OneOrMore()
          .Greedy()
          .FollowedBy("d")
          .Where(NameHas("d"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(Named({"a", "b", "c1", "c2", "c3", "d"})),
              ElementsAre("a or c=[a] b or c=[b] c*=[c1 c2 c3] d=[d]",
                          "a or c=[c1] b or c=[c2] c*=[c3] d=[d]"));
}

// testSkipBeforeOtherAlreadyCompleted
TEST(AfterMatchSkipTest, LaterStartedMatchWaitsForEarlierPartialMatch) {
  P p = P::Begin("a", AfterMatchSkip::SkipToFirst("c"))
            .Where(NameHas("a"))
            .FollowedBy("c")
            .Where(NameHas("c"))
            .FollowedBy("b")
            .Where([](const Ev& e, const cep::Context<Ev>& ctx) {
              auto a = ctx.EventsFor("a");
              return e.name.find('b') != std::string::npos && !a.empty() &&
                     a.front()->price == e.price;
            });
  Harness<Ev> h(p);
  std::vector<Ev> events = {E("a1", "a1", 0.0, 1), E("c1", "c1", 0.0, 2),
                            E("a2", "a2", 1.0, 3), E("c2", "c2", 0.0, 4),
                            E("b1", "b1", 1.0, 5), E("b2", "b2", 0.0, 6)};
  // [a2 c2 b1] completes first (at b1) but is held back until [a1 c1 ...],
  // which started earlier, completes at b2.
  EXPECT_THAT(
      FeedSteps(h, events),
      ElementsAre(IsEmpty(), IsEmpty(), IsEmpty(), IsEmpty(), IsEmpty(),
                  ElementsAre("a=[a1] c=[c1] b=[b2]", "a=[a2] c=[c2] b=[b1]")));
}

// testSharedBufferIsProperlyCleared
TEST(AfterMatchSkipTest, SharedBufferIsEmptyAfterSkipPastLastEvent) {
  P p = P::Begin("start", AfterMatchSkip::SkipPastLastEvent())
            .Where([](const Ev&) { return true; })
            .Times(2);
  Harness<Ev> h(p);
  std::vector<Ev> events;
  for (int i = 0; i < 4; ++i) {
    events.push_back(E(absl::StrCat("e", i), "a", 1.0, i));
  }
  EXPECT_THAT(h.FeedAll(events), ElementsAre("start=[e0 e1]", "start=[e2 e3]"));
  EXPECT_EQ(h.buffered_events(), 0u);
  EXPECT_EQ(h.partial_matches(), 0u);
}

}  // namespace
