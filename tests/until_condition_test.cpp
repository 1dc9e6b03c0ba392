// Semantics of Until() on looping stages, ported from FlinkCEP's
// UntilConditionITCase: same inputs, timestamps, patterns and expected
// matches. Where Flink also checks that only the start computation is left
// after the run, we assert that no partial match remains.

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "testing/nfa_harness.hpp"

namespace {

using cep::testing::E;
using cep::testing::Ev;
using cep::testing::Harness;
using cep::testing::NameIs;
using ::testing::UnorderedElementsAre;

using P = cep::Pattern<Ev>;

// The until condition of Flink's tests: the price is exactly 5.
bool PriceIsFive(const Ev& e) { return e.price == 5.0; }

// Input of the tests without a third middle event: c a1 a2 brk ign.
std::vector<Ev> TwoMiddles(int64_t breaking_ts, int64_t ignored_ts) {
  return {E("c", "c", 1.0, 1), E("a1", "a", 2.0, 3), E("a2", "a", 3.0, 4),
          E("brk", "a", 5.0, breaking_ts), E("ign", "a", 6.0, ignored_ts)};
}

// Input of the combinations tests: c a1 a2 a3 brk ign.
std::vector<Ev> ThreeMiddles() {
  return {E("c", "c", 1.0, 1),  E("a1", "a", 2.0, 3),  E("a2", "a", 3.0, 4),
          E("a3", "a", 4.0, 5), E("brk", "a", 5.0, 6), E("ign", "a", 6.0, 7)};
}

// Mirrors UntilConditionITCase#testUntilConditionFollowedByOneOrMore.
TEST(UntilConditionTest, FollowedByOneOrMore) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy("middle")
            .Where(NameIs("a"))
            .OneOrMore()
            .Until(PriceIsFive)
            .FollowedBy("end")
            .Where(PriceIsFive);
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(TwoMiddles(6, 7)),
              UnorderedElementsAre("start=[c] middle=[a1 a2] end=[brk]",
                                   "start=[c] middle=[a1] end=[brk]"));
  EXPECT_EQ(h.partial_matches(), 0u);
}

// Mirrors
// UntilConditionITCase#testUntilConditionFollowedByOneOrMoreCombinations.
TEST(UntilConditionTest, FollowedByOneOrMoreCombinations) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy("middle")
            .Where(NameIs("a"))
            .OneOrMore()
            .AllowCombinations()
            .Until(PriceIsFive)
            .FollowedBy("end")
            .Where(PriceIsFive);
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(ThreeMiddles()),
              UnorderedElementsAre("start=[c] middle=[a1 a2 a3] end=[brk]",
                                   "start=[c] middle=[a1 a2] end=[brk]",
                                   "start=[c] middle=[a1 a3] end=[brk]",
                                   "start=[c] middle=[a1] end=[brk]"));
  EXPECT_EQ(h.partial_matches(), 0u);
}

// Mirrors
// UntilConditionITCase#testUntilConditionFollowedByOneOrMoreConsecutive.
TEST(UntilConditionTest, FollowedByOneOrMoreConsecutive) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy("middle")
            .Where(NameIs("a"))
            .OneOrMore()
            .Consecutive()
            .Until(PriceIsFive)
            .FollowedBy("end")
            .Where(PriceIsFive);
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(TwoMiddles(7, 8)),
              UnorderedElementsAre("start=[c] middle=[a1 a2] end=[brk]",
                                   "start=[c] middle=[a1] end=[brk]"));
  EXPECT_EQ(h.partial_matches(), 0u);
}

// Mirrors
// UntilConditionITCase#testUntilConditionFollowedByOneOrMoreConsecutive2.
TEST(UntilConditionTest, FollowedByOneOrMoreConsecutiveBrokenByOtherEvent) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy("middle")
            .Where(NameIs("a"))
            .OneOrMore()
            .Consecutive()
            .Until(PriceIsFive)
            .FollowedBy("end")
            .Where(PriceIsFive);
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({E("c", "c", 1.0, 1), E("a1", "a", 2.0, 3),
                         E("b", "b", 3.0, 4), E("a3", "a", 4.0, 5),
                         E("brk", "a", 5.0, 7), E("ign", "a", 6.0, 8)}),
              UnorderedElementsAre("start=[c] middle=[a1] end=[brk]"));
  EXPECT_EQ(h.partial_matches(), 0u);
}

// Mirrors UntilConditionITCase#testUntilConditionFollowedByZeroOrMore.
TEST(UntilConditionTest, FollowedByZeroOrMore) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy("middle")
            .Where(NameIs("a"))
            .OneOrMore()
            .Optional()
            .Until(PriceIsFive)
            .FollowedBy("end")
            .Where(PriceIsFive);
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(TwoMiddles(6, 7)),
              UnorderedElementsAre("start=[c] middle=[a1 a2] end=[brk]",
                                   "start=[c] middle=[a1] end=[brk]",
                                   "start=[c] end=[brk]"));
  EXPECT_EQ(h.partial_matches(), 0u);
}

// Mirrors
// UntilConditionITCase#testUntilConditionFollowedByZeroOrMoreCombinations.
TEST(UntilConditionTest, FollowedByZeroOrMoreCombinations) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy("middle")
            .Where(NameIs("a"))
            .OneOrMore()
            .Optional()
            .AllowCombinations()
            .Until(PriceIsFive)
            .FollowedBy("end")
            .Where(PriceIsFive);
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(ThreeMiddles()),
              UnorderedElementsAre("start=[c] middle=[a1 a2 a3] end=[brk]",
                                   "start=[c] middle=[a1 a2] end=[brk]",
                                   "start=[c] middle=[a1 a3] end=[brk]",
                                   "start=[c] middle=[a1] end=[brk]",
                                   "start=[c] end=[brk]"));
  EXPECT_EQ(h.partial_matches(), 0u);
}

// Mirrors
// UntilConditionITCase#testUntilConditionFollowedByZeroOrMoreConsecutive.
TEST(UntilConditionTest, FollowedByZeroOrMoreConsecutive) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy("middle")
            .Where(NameIs("a"))
            .OneOrMore()
            .Optional()
            .Consecutive()
            .Until(PriceIsFive)
            .FollowedBy("end")
            .Where(PriceIsFive);
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(TwoMiddles(7, 8)),
              UnorderedElementsAre("start=[c] middle=[a1 a2] end=[brk]",
                                   "start=[c] middle=[a1] end=[brk]",
                                   "start=[c] end=[brk]"));
  EXPECT_EQ(h.partial_matches(), 0u);
}

// Mirrors UntilConditionITCase#testUntilConditionFollowedByAnyOneOrMore.
// (Flink does not check the leftover state here: [c a3] is still looping.)
TEST(UntilConditionTest, FollowedByAnyOneOrMore) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedByAny("middle")
            .Where(NameIs("a"))
            .OneOrMore()
            .Until(PriceIsFive);
  Harness<Ev> h(p);
  EXPECT_THAT(
      h.FeedAll({E("c", "c", 1.0, 1), E("a1", "a", 2.0, 3),
                 E("a2", "a", 3.0, 4), E("brk", "a", 5.0, 6),
                 E("a3", "a", 6.0, 7)}),
      UnorderedElementsAre("start=[c] middle=[a1 a2]", "start=[c] middle=[a1]",
                           "start=[c] middle=[a2]", "start=[c] middle=[a3]"));
}

// Mirrors UntilConditionITCase#testUntilConditionFollowedByAnyZeroOrMore.
TEST(UntilConditionTest, FollowedByAnyZeroOrMore) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedByAny("middle")
            .Where(NameIs("a"))
            .OneOrMore()
            .Optional()
            .Until(PriceIsFive);
  Harness<Ev> h(p);
  EXPECT_THAT(
      h.FeedAll({E("c", "c", 1.0, 1), E("a1", "a", 2.0, 3),
                 E("a2", "a", 3.0, 4), E("brk", "a", 5.0, 6),
                 E("a3", "a", 6.0, 7)}),
      UnorderedElementsAre("start=[c] middle=[a1 a2]", "start=[c] middle=[a1]",
                           "start=[c] middle=[a2]", "start=[c] middle=[a3]",
                           "start=[c]"));
}

// Mirrors UntilConditionITCase#testUntilConditionWithEmptyWhere.
TEST(UntilConditionTest, WithEmptyWhere) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy("middle")
            .OneOrMore()
            .Until(PriceIsFive);
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({E("c", "c", 1.0, 1), E("a1", "a", 2.0, 3),
                         E("a2", "a", 3.0, 4), E("d", "d", 1.0, 5),
                         E("brk", "a", 5.0, 6), E("ign", "a", 6.0, 7)}),
              UnorderedElementsAre("start=[c] middle=[a1 a2 d]",
                                   "start=[c] middle=[a1 a2]",
                                   "start=[c] middle=[a1]"));
  EXPECT_EQ(h.partial_matches(), 0u);
}

// The iterative until condition of Flink's tests: the events already taken
// by "middle" sum to exactly 6.
bool MiddleSumIsSix(const Ev&, const cep::Context<Ev>& ctx) {
  double sum = 0;
  for (const Ev* e : ctx.EventsFor("middle")) sum += e->price;
  return sum == 6.0;
}

// Mirrors UntilConditionITCase#testIterativeUntilConditionOneOrMore.
TEST(UntilConditionTest, IterativeUntilConditionOneOrMore) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy("middle")
            .OneOrMore()
            .Until(MiddleSumIsSix);
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({E("c", "c", 1.0, 1), E("a1", "a", 2.0, 3),
                         E("a2", "a", 3.0, 4), E("d", "d", 1.0, 5),
                         E("brk", "a", 5.0, 6), E("ign", "a", 6.0, 7)}),
              UnorderedElementsAre("start=[c] middle=[a1 a2 d]",
                                   "start=[c] middle=[a1 a2]",
                                   "start=[c] middle=[a1]"));
  EXPECT_EQ(h.partial_matches(), 0u);
}

// Mirrors UntilConditionITCase#testIterativeUntilConditionZeroOrMore.
TEST(UntilConditionTest, IterativeUntilConditionZeroOrMore) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy("middle")
            .OneOrMore()
            .Optional()
            .Until(MiddleSumIsSix);
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({E("c", "c", 1.0, 1), E("a1", "a", 2.0, 3),
                         E("a2", "a", 3.0, 4), E("d", "d", 1.0, 5),
                         E("brk", "a", 5.0, 6), E("ign", "a", 6.0, 7)}),
              UnorderedElementsAre("start=[c] middle=[a1 a2 d]",
                                   "start=[c] middle=[a1 a2]",
                                   "start=[c] middle=[a1]", "start=[c]"));
  EXPECT_EQ(h.partial_matches(), 0u);
}

}  // namespace
