// Quantifier semantics: Greedy, Times(from, to) and TimesOrMore(n), ported
// from FlinkCEP's GreedyITCase, TimesRangeITCase and TimesOrMoreITCase
// (flink-cep nfa tests). Inputs, timestamps and expected matches follow the
// Flink tests; each expected event is assigned to the stage that takes it.
// Flink compares matches without order, hence UnorderedElementsAre.
//
// Flink runs TimesRangeITCase and TimesOrMoreITCase twice: without a
// per-repetition window and with a 3 ms one (times(from, to, window),
// timesOrMore(n, window)). Cepheus has no per-repetition window, so only the
// window-less run is ported.
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "testing/nfa_harness.hpp"
#include "testing/status_matchers.hpp"

namespace cep {
namespace {

using cep::testing::E;
using cep::testing::Ev;
using cep::testing::Harness;
using cep::testing::NameIs;
using cep::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

using P = Pattern<Ev>;

bool PriceAbove3(const Ev& e) { return e.price > 3.0; }

// c, then a1 a2 a3 interleaved with two "f" events, then b: the input of the
// Flink tests built on ConsecutiveData with filler events.
std::vector<Ev> FillerInput() {
  return {E("c", "c", 1.0, 1),  E("f1", "f", 1.0, 2), E("a1", "a", 2.0, 3),
          E("f2", "f", 1.0, 4), E("a2", "a", 3.0, 5), E("a3", "a", 4.0, 6),
          E("b", "b", 5.0, 7)};
}

// c a1 a2 a3 b with no filler events (gaps in the timestamps only).
std::vector<Ev> GappedInput() {
  return {E("c", "c", 1.0, 1), E("a1", "a", 2.0, 3), E("a2", "a", 3.0, 5),
          E("a3", "a", 4.0, 6), E("b", "b", 5.0, 7)};
}

// c a1 f a2 f a3 b: filler events after the first "a".
std::vector<Ev> FillerAfterFirstInput() {
  return {E("c", "c", 1.0, 1),  E("a1", "a", 2.0, 2), E("f1", "f", 1.0, 3),
          E("a2", "a", 3.0, 4), E("f2", "f", 1.0, 5), E("a3", "a", 4.0, 6),
          E("b", "b", 5.0, 7)};
}

// c a1 a2 a3 b at timestamps 1, 2, 4, 6, 7.
std::vector<Ev> SpacedInput() {
  return {E("c", "c", 1.0, 1), E("a1", "a", 2.0, 2), E("a2", "a", 3.0, 4),
          E("a3", "a", 4.0, 6), E("b", "b", 5.0, 7)};
}

// c a1 a2 a3 b at timestamps 1, 2, 3, 4, 6.
std::vector<Ev> DenseInput() {
  return {E("c", "c", 1.0, 1), E("a1", "a", 2.0, 2), E("a2", "a", 3.0, 3),
          E("a3", "a", 4.0, 4), E("b", "b", 5.0, 6)};
}

// ---------------------------------------------------------------------------
// GreedyITCase
// ---------------------------------------------------------------------------

// c, then a OneOrMore (optional or not) greedy, then d; FollowedBy throughout.
P GreedyMiddlePattern(bool optional) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy("middle")
            .Where(NameIs("a"))
            .OneOrMore();
  if (optional) p.Optional();
  p.Greedy().FollowedBy("end").Where(NameIs("d"));
  return p;
}

// Same, with Until(price > 3.0) on the greedy loop.
P GreedyUntilMiddlePattern(bool optional) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy("middle")
            .Where(NameIs("a"))
            .OneOrMore();
  if (optional) p.Optional();
  p.Greedy().Until(PriceAbove3).FollowedBy("end").Where(NameIs("d"));
  return p;
}

// GreedyITCase#testGreedyZeroOrMore
TEST(GreedyTest, GreedyZeroOrMore) {
  Harness<Ev> h(GreedyMiddlePattern(/*optional=*/true));
  EXPECT_THAT(h.FeedAll({E("c", "c", 1.0, 1), E("a1", "a", 2.0, 2),
                         E("a2", "a", 2.0, 3), E("a3", "a", 2.0, 4),
                         E("d", "d", 3.0, 5)}),
              UnorderedElementsAre("start=[c] middle=[a1 a2 a3] end=[d]"));
}

// GreedyITCase#testGreedyZeroOrMoreInBetween
TEST(GreedyTest, GreedyZeroOrMoreInBetween) {
  Harness<Ev> h(GreedyMiddlePattern(/*optional=*/true));
  EXPECT_THAT(h.FeedAll({E("c", "c", 1.0, 1), E("x1", "dummy", 1111, 2),
                         E("a1", "a", 2.0, 3), E("x2", "dummy", 1111, 4),
                         E("a2", "a", 2.0, 5), E("x3", "dummy", 1111, 6),
                         E("a3", "a", 2.0, 7), E("d", "d", 3.0, 8)}),
              UnorderedElementsAre("start=[c] middle=[a1 a2 a3] end=[d]"));
}

// GreedyITCase#testGreedyZeroOrMoreWithDummyEventsAfterQuantifier
TEST(GreedyTest, GreedyZeroOrMoreWithDummyEventsAfterQuantifier) {
  Harness<Ev> h(GreedyMiddlePattern(/*optional=*/true));
  EXPECT_THAT(h.FeedAll({E("c", "c", 1.0, 1), E("a1", "a", 2.0, 2),
                         E("a2", "a", 2.0, 3), E("x", "dummy", 2.0, 4),
                         E("d", "d", 3.0, 5)}),
              UnorderedElementsAre("start=[c] middle=[a1 a2] end=[d]"));
}

// GreedyITCase#testGreedyZeroOrMoreWithDummyEventsBeforeQuantifier
TEST(GreedyTest, GreedyZeroOrMoreWithDummyEventsBeforeQuantifier) {
  Harness<Ev> h(GreedyMiddlePattern(/*optional=*/true));
  EXPECT_THAT(h.FeedAll({E("c", "c", 1.0, 1), E("x", "dummy", 2.0, 2),
                         E("d", "d", 3.0, 5)}),
              UnorderedElementsAre("start=[c] end=[d]"));
}

// GreedyITCase#testGreedyUntilZeroOrMoreWithDummyEventsAfterQuantifier
TEST(GreedyTest, GreedyUntilZeroOrMoreWithDummyEventsAfterQuantifier) {
  Harness<Ev> h(GreedyUntilMiddlePattern(/*optional=*/true));
  EXPECT_THAT(h.FeedAll({E("c", "c", 1.0, 1), E("a1", "a", 2.0, 2),
                         E("a2", "a", 3.0, 3), E("a3", "a", 3.0, 4),
                         E("stop", "a", 4.0, 5), E("d", "d", 3.0, 6)}),
              UnorderedElementsAre("start=[c] middle=[a1 a2 a3] end=[d]"));
}

// GreedyITCase#testGreedyUntilWithDummyEventsBeforeQuantifier
TEST(GreedyTest, GreedyUntilWithDummyEventsBeforeQuantifier) {
  Harness<Ev> h(GreedyUntilMiddlePattern(/*optional=*/true));
  EXPECT_THAT(h.FeedAll({E("c", "c", 1.0, 1), E("stop", "a", 4.0, 2),
                         E("a1", "a", 2.0, 3), E("a2", "a", 3.0, 4),
                         E("a3", "a", 3.0, 5), E("d", "d", 3.0, 6)}),
              UnorderedElementsAre("start=[c] end=[d]"));
}

// GreedyITCase#testGreedyOneOrMore
TEST(GreedyTest, GreedyOneOrMore) {
  Harness<Ev> h(GreedyMiddlePattern(/*optional=*/false));
  EXPECT_THAT(h.FeedAll({E("c", "c", 1.0, 1), E("a1", "a", 2.0, 2),
                         E("a2", "a", 2.0, 3), E("a3", "a", 2.0, 4),
                         E("d", "d", 3.0, 5)}),
              UnorderedElementsAre("start=[c] middle=[a1 a2 a3] end=[d]"));
}

// GreedyITCase#testGreedyOneOrMoreInBetween
TEST(GreedyTest, GreedyOneOrMoreInBetween) {
  Harness<Ev> h(GreedyMiddlePattern(/*optional=*/false));
  EXPECT_THAT(h.FeedAll({E("c", "c", 1.0, 1), E("x1", "dummy", 1111, 2),
                         E("a1", "a", 2.0, 3), E("x2", "dummy", 1111, 4),
                         E("a2", "a", 2.0, 5), E("x3", "dummy", 1111, 6),
                         E("a3", "a", 2.0, 7), E("d", "d", 3.0, 8)}),
              UnorderedElementsAre("start=[c] middle=[a1 a2 a3] end=[d]"));
}

// GreedyITCase#testGreedyOneOrMoreWithDummyEventsAfterQuantifier
TEST(GreedyTest, GreedyOneOrMoreWithDummyEventsAfterQuantifier) {
  Harness<Ev> h(GreedyMiddlePattern(/*optional=*/false));
  EXPECT_THAT(h.FeedAll({E("c", "c", 1.0, 1), E("a1", "a", 2.0, 2),
                         E("a2", "a", 2.0, 3), E("x", "dummy", 2.0, 4),
                         E("d", "d", 3.0, 5)}),
              UnorderedElementsAre("start=[c] middle=[a1 a2] end=[d]"));
}

// GreedyITCase#testGreedyOneOrMoreWithDummyEventsBeforeQuantifier
TEST(GreedyTest, GreedyOneOrMoreWithDummyEventsBeforeQuantifier) {
  Harness<Ev> h(GreedyMiddlePattern(/*optional=*/false));
  EXPECT_THAT(h.FeedAll({E("c", "c", 1.0, 1), E("x", "dummy", 2.0, 2),
                         E("d", "d", 3.0, 5)}),
              IsEmpty());
}

// GreedyITCase#testGreedyUntilOneOrMoreWithDummyEventsAfterQuantifier
TEST(GreedyTest, GreedyUntilOneOrMoreWithDummyEventsAfterQuantifier) {
  Harness<Ev> h(GreedyUntilMiddlePattern(/*optional=*/false));
  EXPECT_THAT(h.FeedAll({E("c", "c", 1.0, 1), E("a1", "a", 2.0, 2),
                         E("a2", "a", 3.0, 3), E("a3", "a", 3.0, 4),
                         E("stop", "a", 4.0, 5), E("d", "d", 3.0, 6)}),
              UnorderedElementsAre("start=[c] middle=[a1 a2 a3] end=[d]"));
}

// GreedyITCase#testGreedyUntilOneOrMoreWithDummyEventsBeforeQuantifier
TEST(GreedyTest, GreedyUntilOneOrMoreWithDummyEventsBeforeQuantifier) {
  Harness<Ev> h(GreedyUntilMiddlePattern(/*optional=*/false));
  EXPECT_THAT(h.FeedAll({E("c", "c", 1.0, 1), E("stop", "a", 4.0, 2),
                         E("a1", "a", 2.0, 3), E("a2", "a", 3.0, 4),
                         E("a3", "a", 3.0, 5), E("d", "d", 3.0, 6)}),
              IsEmpty());
}

// GreedyITCase#testGreedyZeroOrMoreBeforeGroupPattern
TEST(GreedyTest, GreedyZeroOrMoreBeforeGroupPattern) {
  P group = P::Begin("middle1")
                .Where(NameIs("d"))
                .FollowedBy("middle2")
                .Where(NameIs("e"));
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy("middle")
            .Where(NameIs("a"))
            .OneOrMore()
            .Optional()
            .Greedy()
            .FollowedBy(group)
            .Times(2)
            .FollowedBy("end")
            .Where(NameIs("f"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({E("c", "c", 1.0, 1), E("a1", "a", 1.0, 2),
                         E("a2", "a", 1.0, 3), E("x", "dummy", 2.0, 4),
                         E("a3", "a", 1.0, 5), E("d1", "d", 1.0, 6),
                         E("e1", "e", 1.0, 7), E("d2", "d", 1.0, 8),
                         E("e2", "e", 1.0, 9), E("f", "f", 3.0, 10)}),
              UnorderedElementsAre("start=[c] middle=[a1 a2 a3] middle1=[d1 "
                                   "d2] middle2=[e1 e2] end=[f]"));
}

// GreedyITCase#testEndWithZeroOrMoreGreedy (greedy on the last stage changes
// nothing: every prefix is a match)
TEST(GreedyTest, EndWithZeroOrMoreGreedy) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy("end")
            .Where(NameIs("a"))
            .OneOrMore()
            .Optional()
            .Greedy();
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({E("c", "c", 1.0, 1), E("a1", "a", 2.0, 2),
                         E("a2", "a", 2.0, 3), E("x", "dummy", 2.0, 4),
                         E("a3", "a", 2.0, 5)}),
              UnorderedElementsAre("start=[c]", "start=[c] end=[a1]",
                                   "start=[c] end=[a1 a2]",
                                   "start=[c] end=[a1 a2 a3]"));
}

// GreedyITCase#testEndWithZeroOrMoreConsecutiveGreedy
TEST(GreedyTest, EndWithZeroOrMoreConsecutiveGreedy) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy("end")
            .Where(NameIs("a"))
            .OneOrMore()
            .Optional()
            .Consecutive()
            .Greedy();
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({E("c", "c", 1.0, 1), E("a1", "a", 2.0, 2),
                         E("a2", "a", 2.0, 3), E("x", "dummy", 2.0, 4),
                         E("a3", "a", 2.0, 5)}),
              UnorderedElementsAre("start=[c]", "start=[c] end=[a1]",
                                   "start=[c] end=[a1 a2]"));
}

// GreedyITCase#testEndWithGreedyTimesRange
TEST(GreedyTest, EndWithGreedyTimesRange) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy("end")
            .Where(NameIs("a"))
            .Times(2, 5)
            .Greedy();
  Harness<Ev> h(p);
  EXPECT_THAT(
      h.FeedAll({E("c", "c", 1.0, 1), E("a1", "a", 2.0, 2),
                 E("a2", "a", 2.0, 3), E("a3", "a", 2.0, 4),
                 E("a4", "a", 2.0, 5), E("x", "dummy", 2.0, 6)}),
      UnorderedElementsAre("start=[c] end=[a1 a2]", "start=[c] end=[a1 a2 a3]",
                           "start=[c] end=[a1 a2 a3 a4]"));
}

// GreedyITCase#testGreedyTimesRange
TEST(GreedyTest, GreedyTimesRange) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy("middle")
            .Where(NameIs("a"))
            .Times(2, 5)
            .Greedy()
            .FollowedBy("end")
            .Where(NameIs("d"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({E("c", "c", 1.0, 1), E("a1", "a", 2.0, 2),
                         E("a2", "a", 2.0, 3), E("a3", "a", 2.0, 4),
                         E("a4", "a", 2.0, 5), E("d", "d", 2.0, 6)}),
              UnorderedElementsAre("start=[c] middle=[a1 a2 a3 a4] end=[d]"));
}

// GreedyITCase#testGreedyZeroOrMoreConsecutiveEndWithOptional (older Flink;
// removed once Flink rejected optional() right after a greedy stage, which
// Cepheus does too): the pattern is rejected, naming the optional stage.
TEST(GreedyTest, OptionalEndAfterGreedyConsecutiveLoopIsRejected) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy("middle")
            .Where(NameIs("a"))
            .OneOrMore()
            .Optional()
            .Consecutive()
            .Greedy()
            .FollowedBy("end")
            .Where(NameIs("d"))
            .Optional();
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  absl::Status status = CompilePattern(p).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("'end'"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("Greedy"));
}

// GreedyITCase#testGreedyZeroOrMoreBeforeOptional and
// #testGreedyZeroOrMoreBeforeOptional2 (older Flink; same pattern, removed
// for the same reason): the optional stage after the greedy one is rejected.
TEST(GreedyTest, OptionalStageAfterGreedyLoopIsRejected) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy("middle1")
            .Where(NameIs("a"))
            .OneOrMore()
            .Optional()
            .Greedy()
            .FollowedBy("middle2")
            .Where(NameIs("d"))
            .Optional()
            .FollowedBy("end")
            .Where(NameIs("e"));
  absl::Status status = CompilePattern(p).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("'middle2'"));
}

// No GreedyITCase method: Flink's greedy() rejects a group pattern ("Option
// not applicable to group pattern").
TEST(GreedyTest, GreedyOnGroupIsRejected) {
  P group =
      P::Begin("g1").Where(NameIs("d")).FollowedBy("g2").Where(NameIs("e"));
  P p =
      P::Begin("start").Where(NameIs("c")).FollowedBy(group).Times(2).Greedy();
  absl::Status status = CompilePattern(p).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("group"));
}

// No GreedyITCase method: Flink's greedy() rejects a single-event stage
// ("Option not applicable to singleton quantifier").
TEST(GreedyTest, GreedyOnSingleEventStageIsRejected) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy("end")
            .Where(NameIs("a"))
            .Greedy();
  absl::Status status = CompilePattern(p).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("'end'"));
}

// No GreedyITCase method: Flink's greedy() rejects a NOT stage ("Option not
// applicable to NOT pattern").
TEST(GreedyTest, GreedyOnNotStageIsRejected) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .NotNext("not")
            .Where(NameIs("x"))
            .Greedy()
            .FollowedBy("end")
            .Where(NameIs("a"));
  absl::Status status = CompilePattern(p).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("'not'"));
}

// No GreedyITCase method. Flink's Quantifier accepts
// oneOrMore().greedy().allowCombinations() but refuses greedy() after
// allowCombinations() (#13). Greedy keeps `end` from taking (or skipping) an
// event the loop could take, so a2 never ends a match.
TEST(GreedyTest, GreedyThenAllowCombinations) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy("middle")
            .Where(NameIs("a"))
            .OneOrMore()
            .Greedy()
            .AllowCombinations()
            .FollowedBy("end")
            .Where([](const Ev& e) { return e.price > 3.0; });
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({E("c", "c", 1.0, 1), E("a1", "a", 1.0, 2),
                         E("a2", "a", 5.0, 3), E("b", "b", 5.0, 4)}),
              ElementsAre("start=[c] middle=[a1 a2] end=[b]"));

  P combinations_first = P::Begin("start")
                             .Where(NameIs("c"))
                             .FollowedBy("middle")
                             .Where(NameIs("a"))
                             .TimesOrMore(2)
                             .AllowCombinations()
                             .Greedy();
  EXPECT_THAT(CompilePattern(combinations_first).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "stage 'middle': Greedy cannot follow AllowCombinations "
                       "(call Greedy first)"));
}

// ---------------------------------------------------------------------------
// TimesRangeITCase (window-less run)
// ---------------------------------------------------------------------------

// TimesRangeITCase#testTimesRange
TEST(TimesRangeTest, TimesRange) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .Next("middle")
            .Where(NameIs("a"))
            .Times(1, 3)
            .AllowCombinations()
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(DenseInput()),
              UnorderedElementsAre("start=[c] middle=[a1 a2 a3] end1=[b]",
                                   "start=[c] middle=[a1 a2] end1=[b]",
                                   "start=[c] middle=[a1 a3] end1=[b]",
                                   "start=[c] middle=[a1] end1=[b]"));
}

// TimesRangeITCase#testTimesRangeFromZero
TEST(TimesRangeTest, TimesRangeFromZero) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .Next("middle")
            .Where(NameIs("a"))
            .Times(0, 2)
            .AllowCombinations()
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(DenseInput()),
              UnorderedElementsAre("start=[c] middle=[a1 a2] end1=[b]",
                                   "start=[c] middle=[a1 a3] end1=[b]",
                                   "start=[c] middle=[a1] end1=[b]",
                                   "start=[c] end1=[b]"));
}

// TimesRangeITCase#testTimesRangeNonStrict
TEST(TimesRangeTest, TimesRangeNonStrict) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedByAny("middle")
            .Where(NameIs("a"))
            .Times(1, 3)
            .AllowCombinations()
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(FillerInput()),
              UnorderedElementsAre("start=[c] middle=[a1 a2 a3] end1=[b]",
                                   "start=[c] middle=[a1 a2] end1=[b]",
                                   "start=[c] middle=[a1 a3] end1=[b]",
                                   "start=[c] middle=[a2 a3] end1=[b]",
                                   "start=[c] middle=[a1] end1=[b]",
                                   "start=[c] middle=[a2] end1=[b]",
                                   "start=[c] middle=[a3] end1=[b]"));
}

// TimesRangeITCase#testTimesRangeStrict
TEST(TimesRangeTest, TimesRangeStrict) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedByAny("middle")
            .Where(NameIs("a"))
            .Times(0, 3)
            .Consecutive()
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(FillerInput()),
              UnorderedElementsAre("start=[c] middle=[a2 a3] end1=[b]",
                                   "start=[c] middle=[a1] end1=[b]",
                                   "start=[c] middle=[a2] end1=[b]",
                                   "start=[c] middle=[a3] end1=[b]",
                                   "start=[c] end1=[b]"));
}

// TimesRangeITCase#testTimesRangeStrictOptional
TEST(TimesRangeTest, TimesRangeStrictOptional) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedByAny("middle")
            .Where(NameIs("a"))
            .Times(1, 3)
            .Consecutive()
            .Optional()
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(FillerInput()),
              UnorderedElementsAre("start=[c] middle=[a2 a3] end1=[b]",
                                   "start=[c] middle=[a1] end1=[b]",
                                   "start=[c] middle=[a2] end1=[b]",
                                   "start=[c] middle=[a3] end1=[b]",
                                   "start=[c] end1=[b]"));
}

// TimesRangeITCase#testTimesRangeStrictOptional1
TEST(TimesRangeTest, TimesRangeStrictOptional1) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .Next("middle")
            .Where(NameIs("a"))
            .Times(1, 3)
            .Consecutive()
            .Optional()
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(GappedInput()),
              UnorderedElementsAre("start=[c] middle=[a1 a2 a3] end1=[b]",
                                   "start=[c] middle=[a1 a2] end1=[b]",
                                   "start=[c] middle=[a1] end1=[b]",
                                   "start=[c] end1=[b]"));
}

// TimesRangeITCase#testTimesRangeNonStrictOptional1
TEST(TimesRangeTest, TimesRangeNonStrictOptional1) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy("middle")
            .Where(NameIs("a"))
            .Times(1, 3)
            .Optional()
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({E("c", "c", 1.0, 1), E("f", "f", 1.0, 2),
                         E("b", "b", 5.0, 7)}),
              UnorderedElementsAre("start=[c] end1=[b]"));
}

// TimesRangeITCase#testTimesRangeNonStrictOptional2
TEST(TimesRangeTest, TimesRangeNonStrictOptional2) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedByAny("middle")
            .Where(NameIs("a"))
            .Times(2, 3)
            .AllowCombinations()
            .Optional()
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(FillerInput()),
              UnorderedElementsAre("start=[c] middle=[a1 a2 a3] end1=[b]",
                                   "start=[c] middle=[a1 a2] end1=[b]",
                                   "start=[c] middle=[a2 a3] end1=[b]",
                                   "start=[c] end1=[b]",
                                   "start=[c] middle=[a1 a3] end1=[b]"));
}

// TimesRangeITCase#testTimesRangeNonStrictOptional3
TEST(TimesRangeTest, TimesRangeNonStrictOptional3) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedByAny("middle")
            .Where(NameIs("a"))
            .Times(2, 3)
            .Optional()
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(FillerInput()),
              UnorderedElementsAre("start=[c] middle=[a1 a2 a3] end1=[b]",
                                   "start=[c] middle=[a1 a2] end1=[b]",
                                   "start=[c] middle=[a2 a3] end1=[b]",
                                   "start=[c] end1=[b]"));
}

// TimesRangeITCase#testTimesRangeNonStrictWithNext
TEST(TimesRangeTest, TimesRangeNonStrictWithNext) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .Next("middle")
            .Where(NameIs("a"))
            .Times(2, 3)
            .AllowCombinations()
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(FillerAfterFirstInput()),
              UnorderedElementsAre("start=[c] middle=[a1 a2 a3] end1=[b]",
                                   "start=[c] middle=[a1 a2] end1=[b]",
                                   "start=[c] middle=[a1 a3] end1=[b]"));
}

// TimesRangeITCase#testTimesRangeNotStrictWithFollowedBy
TEST(TimesRangeTest, TimesRangeNotStrictWithFollowedBy) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy("middle")
            .Where(NameIs("a"))
            .Times(2, 3)
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(SpacedInput()),
              UnorderedElementsAre("start=[c] middle=[a1 a2 a3] end1=[b]",
                                   "start=[c] middle=[a1 a2] end1=[b]"));
}

// TimesRangeITCase#testTimesRangeNotStrictWithFollowedByAny
TEST(TimesRangeTest, TimesRangeNotStrictWithFollowedByAny) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedByAny("middle")
            .Where(NameIs("a"))
            .Times(2, 3)
            .AllowCombinations()
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(SpacedInput()),
              UnorderedElementsAre("start=[c] middle=[a1 a2 a3] end1=[b]",
                                   "start=[c] middle=[a1 a2] end1=[b]",
                                   "start=[c] middle=[a2 a3] end1=[b]",
                                   "start=[c] middle=[a1 a3] end1=[b]"));
}

// ---------------------------------------------------------------------------
// TimesOrMoreITCase (window-less run)
// ---------------------------------------------------------------------------

// TimesOrMoreITCase#testTimesOrMore
TEST(TimesOrMoreTest, TimesOrMore) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy("middle")
            .Where(NameIs("a"))
            .TimesOrMore(2)
            .AllowCombinations()
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(DenseInput()),
              UnorderedElementsAre("start=[c] middle=[a1 a2 a3] end1=[b]",
                                   "start=[c] middle=[a1 a2] end1=[b]",
                                   "start=[c] middle=[a1 a3] end1=[b]"));
}

// TimesOrMoreITCase#testTimesOrMoreNonStrict
TEST(TimesOrMoreTest, TimesOrMoreNonStrict) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedByAny("middle")
            .Where(NameIs("a"))
            .TimesOrMore(2)
            .AllowCombinations()
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(FillerInput()),
              UnorderedElementsAre("start=[c] middle=[a1 a2 a3] end1=[b]",
                                   "start=[c] middle=[a1 a2] end1=[b]",
                                   "start=[c] middle=[a1 a3] end1=[b]",
                                   "start=[c] middle=[a2 a3] end1=[b]"));
}

// TimesOrMoreITCase#testTimesOrMoreStrict (uses Times(2), as Flink's does)
TEST(TimesOrMoreTest, TimesOrMoreStrict) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedByAny("middle")
            .Where(NameIs("a"))
            .Times(2)
            .Consecutive()
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(FillerInput()),
              UnorderedElementsAre("start=[c] middle=[a2 a3] end1=[b]"));
}

// TimesOrMoreITCase#testTimesOrMoreStrictOptional
TEST(TimesOrMoreTest, TimesOrMoreStrictOptional) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedByAny("middle")
            .Where(NameIs("a"))
            .TimesOrMore(2)
            .Consecutive()
            .Optional()
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(FillerInput()),
              UnorderedElementsAre("start=[c] middle=[a2 a3] end1=[b]",
                                   "start=[c] end1=[b]"));
}

// TimesOrMoreITCase#testTimesOrMoreStrictOptional2
TEST(TimesOrMoreTest, TimesOrMoreStrictOptional2) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .Next("middle")
            .Where(NameIs("a"))
            .TimesOrMore(2)
            .Consecutive()
            .Optional()
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(GappedInput()),
              UnorderedElementsAre("start=[c] middle=[a1 a2 a3] end1=[b]",
                                   "start=[c] middle=[a1 a2] end1=[b]",
                                   "start=[c] end1=[b]"));
}

// TimesOrMoreITCase#testTimesOrMoreNonStrictOptional
TEST(TimesOrMoreTest, TimesOrMoreNonStrictOptional) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy("middle")
            .Where(NameIs("a"))
            .TimesOrMore(2)
            .Optional()
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({E("c", "c", 1.0, 1), E("f", "f", 1.0, 2),
                         E("b", "b", 5.0, 7)}),
              UnorderedElementsAre("start=[c] end1=[b]"));
}

// TimesOrMoreITCase#testTimesOrMoreNonStrictOptional2
TEST(TimesOrMoreTest, TimesOrMoreNonStrictOptional2) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedByAny("middle")
            .Where(NameIs("a"))
            .TimesOrMore(2)
            .AllowCombinations()
            .Optional()
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(FillerInput()),
              UnorderedElementsAre("start=[c] middle=[a1 a2 a3] end1=[b]",
                                   "start=[c] middle=[a1 a2] end1=[b]",
                                   "start=[c] middle=[a2 a3] end1=[b]",
                                   "start=[c] end1=[b]",
                                   "start=[c] middle=[a1 a3] end1=[b]"));
}

// TimesOrMoreITCase#testTimesOrMoreNonStrictOptional3
TEST(TimesOrMoreTest, TimesOrMoreNonStrictOptional3) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedByAny("middle")
            .Where(NameIs("a"))
            .TimesOrMore(2)
            .Optional()
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(FillerInput()),
              UnorderedElementsAre("start=[c] middle=[a1 a2 a3] end1=[b]",
                                   "start=[c] middle=[a1 a2] end1=[b]",
                                   "start=[c] middle=[a2 a3] end1=[b]",
                                   "start=[c] end1=[b]"));
}

// TimesOrMoreITCase#testTimesOrMoreNonStrictWithNext
TEST(TimesOrMoreTest, TimesOrMoreNonStrictWithNext) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .Next("middle")
            .Where(NameIs("a"))
            .TimesOrMore(2)
            .AllowCombinations()
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(FillerAfterFirstInput()),
              UnorderedElementsAre("start=[c] middle=[a1 a2 a3] end1=[b]",
                                   "start=[c] middle=[a1 a2] end1=[b]",
                                   "start=[c] middle=[a1 a3] end1=[b]"));
}

// TimesOrMoreITCase#testTimesOrMoreNotStrictWithFollowedBy
TEST(TimesOrMoreTest, TimesOrMoreNotStrictWithFollowedBy) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy("middle")
            .Where(NameIs("a"))
            .TimesOrMore(2)
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(SpacedInput()),
              UnorderedElementsAre("start=[c] middle=[a1 a2 a3] end1=[b]",
                                   "start=[c] middle=[a1 a2] end1=[b]"));
}

// TimesOrMoreITCase#testTimesOrMoreNotStrictWithFollowedByAny
TEST(TimesOrMoreTest, TimesOrMoreNotStrictWithFollowedByAny) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedByAny("middle")
            .Where(NameIs("a"))
            .TimesOrMore(2)
            .AllowCombinations()
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(SpacedInput()),
              UnorderedElementsAre("start=[c] middle=[a1 a2 a3] end1=[b]",
                                   "start=[c] middle=[a1 a2] end1=[b]",
                                   "start=[c] middle=[a2 a3] end1=[b]",
                                   "start=[c] middle=[a1 a3] end1=[b]"));
}

}  // namespace
}  // namespace cep
