// Ports of FlinkCEP's GroupITCase: group patterns (a sub-sequence used as one
// stage, with quantifiers applying to the whole group). A match reports the
// group's events under the inner stage names.
//
// FlinkCEP compares these matches ignoring order; every test here compares
// them unordered as well.

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
using ::testing::UnorderedElementsAre;

using P = cep::Pattern<Ev>;

// The group (middle1: "a") followedBy (middle2: "b").
P AB() {
  return P::Begin("middle1")
      .Where(NameIs("a"))
      .FollowedBy("middle2")
      .Where(NameIs("b"));
}

// An event whose label is its name plus `suffix`: Named("a", "1", 2) is "a1".
Ev Named(const std::string& name, const std::string& suffix, int64_t ts) {
  return E(name + suffix, name, 0.0, ts);
}

// c a1 b1 a2 b2 d at timestamps 1..6.
std::vector<Ev> CTwoPairsD() {
  return {Named("c", "", 1),  Named("a", "1", 2), Named("b", "1", 3),
          Named("a", "2", 4), Named("b", "2", 5), Named("d", "", 6)};
}

// c a1 b1 a2 b2 a3 b3 d at timestamps 1..8.
std::vector<Ev> CThreePairsD() {
  return {Named("c", "", 1),  Named("a", "1", 2), Named("b", "1", 3),
          Named("a", "2", 4), Named("b", "2", 5), Named("a", "3", 6),
          Named("b", "3", 7), Named("d", "", 8)};
}

// testGroupFollowedByTimes: c (a b){2} d
TEST(GroupPatternTest, GroupFollowedByTimes) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy(AB())
            .Times(2)
            .FollowedBy("end")
            .Where(NameIs("d"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(CTwoPairsD()),
              ElementsAre("start=[c] middle1=[a1 a2] middle2=[b1 b2] end=[d]"));
}

// testGroupFollowedByOptional: c (a b)? d
TEST(GroupPatternTest, GroupFollowedByOptional) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy(AB())
            .Optional()
            .FollowedBy("end")
            .Where(NameIs("d"));
  Harness<Ev> h(p);
  EXPECT_THAT(
      h.FeedAll({Named("c", "", 1), Named("a", "1", 2), Named("a", "2", 3),
                 Named("b", "", 4), Named("d", "", 5)}),
      UnorderedElementsAre("start=[c] end=[d]",
                           "start=[c] middle1=[a1] middle2=[b] end=[d]"));
}

// testFollowedByGroupTimesOptional: c (a b){2}? d
TEST(GroupPatternTest, FollowedByGroupTimesOptional) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy(AB())
            .Times(2)
            .Optional()
            .FollowedBy("end")
            .Where(NameIs("d"));
  Harness<Ev> h(p);
  EXPECT_THAT(
      h.FeedAll({Named("c", "", 1), Named("a", "", 2), Named("d", "", 3)}),
      ElementsAre("start=[c] end=[d]"));
}

// testGroupFollowedByOneOrMore: c (a b)+ d
TEST(GroupPatternTest, GroupFollowedByOneOrMore) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy(AB())
            .OneOrMore()
            .FollowedBy("end")
            .Where(NameIs("d"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(CTwoPairsD()),
              UnorderedElementsAre(
                  "start=[c] middle1=[a1] middle2=[b1] end=[d]",
                  "start=[c] middle1=[a1 a2] middle2=[b1 b2] end=[d]"));
}

// testGroupFollowedByZeroOrMore: c (a b)* d
TEST(GroupPatternTest, GroupFollowedByZeroOrMore) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy(AB())
            .OneOrMore()
            .Optional()
            .FollowedBy("end")
            .Where(NameIs("d"));
  Harness<Ev> h(p);
  EXPECT_THAT(
      h.FeedAll(CTwoPairsD()),
      UnorderedElementsAre(
          "start=[c] end=[d]", "start=[c] middle1=[a1] middle2=[b1] end=[d]",
          "start=[c] middle1=[a1 a2] middle2=[b1 b2] end=[d]"));
}

// testGroupFollowedByAnyTimesCombinations: c any (a b){2} (combinations) d
TEST(GroupPatternTest, GroupFollowedByAnyTimesCombinations) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedByAny(AB())
            .Times(2)
            .AllowCombinations()
            .FollowedBy("end")
            .Where(NameIs("d"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(CThreePairsD()),
              UnorderedElementsAre(
                  "start=[c] middle1=[a1 a2] middle2=[b1 b2] end=[d]",
                  "start=[c] middle1=[a1 a3] middle2=[b1 b3] end=[d]",
                  "start=[c] middle1=[a2 a3] middle2=[b2 b3] end=[d]"));
}

// testGroupFollowedByAnyTimesOptional: c any (a b){2}? d
TEST(GroupPatternTest, GroupFollowedByAnyTimesOptional) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedByAny(AB())
            .Times(2)
            .Optional()
            .FollowedBy("end")
            .Where(NameIs("d"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(CThreePairsD()),
              UnorderedElementsAre(
                  "start=[c] end=[d]",
                  "start=[c] middle1=[a1 a2] middle2=[b1 b2] end=[d]",
                  "start=[c] middle1=[a2 a3] middle2=[b2 b3] end=[d]"));
}

// testGroupFollowedByAnyOneOrMore: c any (a b)+ d
TEST(GroupPatternTest, GroupFollowedByAnyOneOrMore) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedByAny(AB())
            .OneOrMore()
            .FollowedBy("end")
            .Where(NameIs("d"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(CThreePairsD()),
              UnorderedElementsAre(
                  "start=[c] middle1=[a1] middle2=[b1] end=[d]",
                  "start=[c] middle1=[a2] middle2=[b2] end=[d]",
                  "start=[c] middle1=[a3] middle2=[b3] end=[d]",
                  "start=[c] middle1=[a1 a2] middle2=[b1 b2] end=[d]",
                  "start=[c] middle1=[a2 a3] middle2=[b2 b3] end=[d]",
                  "start=[c] middle1=[a1 a2 a3] middle2=[b1 b2 b3] end=[d]"));
}

// testGroupNextZeroOrMore: c next (a b)* consecutive, then d
TEST(GroupPatternTest, GroupNextZeroOrMoreConsecutive) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .Next(AB())
            .OneOrMore()
            .Optional()
            .Consecutive()
            .FollowedBy("end")
            .Where(NameIs("d"));
  Harness<Ev> h(p);
  std::vector<Ev> events = {Named("c", "", 1),  Named("a", "1", 3),
                            Named("b", "1", 4), Named("a", "2", 5),
                            Named("b", "2", 6), Named("a", "3", 7),
                            Named("b", "3", 8), Named("d", "", 9)};
  EXPECT_THAT(
      h.FeedAll(events),
      UnorderedElementsAre(
          "start=[c] end=[d]", "start=[c] middle1=[a1] middle2=[b1] end=[d]",
          "start=[c] middle1=[a1 a2] middle2=[b1 b2] end=[d]",
          "start=[c] middle1=[a1 a2 a3] middle2=[b1 b2 b3] end=[d]"));
}

// c a1 b1 d a2 b2 e at timestamps 1..7 (for the NOT-after-group tests).
std::vector<Ev> GroupThenNotInput() {
  return {Named("c", "", 1), Named("a", "1", 2), Named("b", "1", 3),
          Named("d", "", 4), Named("a", "2", 5), Named("b", "2", 6),
          Named("e", "", 7)};
}

// testGroupNotFollowedBy: c any (a b) !followedBy d, then e
TEST(GroupPatternTest, GroupNotFollowedBy) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedByAny(AB())
            .NotFollowedBy("notPattern")
            .Where(NameIs("d"))
            .FollowedBy("end")
            .Where(NameIs("e"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(GroupThenNotInput()),
              ElementsAre("start=[c] middle1=[a2] middle2=[b2] end=[e]"));
}

// testGroupNotNext: c any (a b) !next d, then e
TEST(GroupPatternTest, GroupNotNext) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedByAny(AB())
            .NotNext("notPattern")
            .Where(NameIs("d"))
            .FollowedBy("end")
            .Where(NameIs("e"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(GroupThenNotInput()),
              ElementsAre("start=[c] middle1=[a2] middle2=[b2] end=[e]"));
}

// testGroupNest: d (a (b c)*)? e
TEST(GroupPatternTest, NestedGroups) {
  P inner = P::Begin("middle2")
                .Where(NameIs("b"))
                .FollowedBy("middle3")
                .Where(NameIs("c"));
  P outer = P::Begin("middle1")
                .Where(NameIs("a"))
                .FollowedBy(inner)
                .OneOrMore()
                .Optional();
  P p = P::Begin("start")
            .Where(NameIs("d"))
            .FollowedBy(outer)
            .Optional()
            .FollowedBy("end")
            .Where(NameIs("e"));
  Harness<Ev> h(p);
  std::vector<Ev> events = {Named("d", "", 1),  Named("a", "1", 2),
                            Named("b", "1", 3), Named("c", "1", 4),
                            Named("b", "2", 5), Named("c", "2", 6),
                            Named("e", "", 7)};
  EXPECT_THAT(
      h.FeedAll(events),
      UnorderedElementsAre(
          "start=[d] end=[e]", "start=[d] middle1=[a1] end=[e]",
          "start=[d] middle1=[a1] middle2=[b1] middle3=[c1] end=[e]",
          "start=[d] middle1=[a1] middle2=[b1 b2] middle3=[c1 c2] end=[e]"));
}

// d a1 (b c){3} a2 (b c){3} e, optionally with a non-matching event between
// c4 and b5.
std::vector<Ev> NestTimesInput(bool with_breaking_event) {
  std::vector<Ev> events = {
      Named("d", "", 1),   Named("a", "1", 2), Named("b", "1", 3),
      Named("c", "1", 4),  Named("b", "2", 5), Named("c", "2", 6),
      Named("b", "3", 7),  Named("c", "3", 8), Named("a", "2", 9),
      Named("b", "4", 10), Named("c", "4", 11)};
  int64_t ts = 12;
  if (with_breaking_event) events.push_back(E("x", "breaking", 99.0, ts++));
  events.push_back(Named("b", "5", ts++));
  events.push_back(Named("c", "5", ts++));
  events.push_back(Named("b", "6", ts++));
  events.push_back(Named("c", "6", ts++));
  events.push_back(Named("e", "", ts++));
  return events;
}

// testGroupNestTimes: d any (a (b c){3}){0,2} e
TEST(GroupPatternTest, NestedGroupTimes) {
  P inner = P::Begin("middle2")
                .Where(NameIs("b"))
                .FollowedBy("middle3")
                .Where(NameIs("c"));
  P outer = P::Begin("middle1").Where(NameIs("a")).FollowedBy(inner).Times(3);
  P p = P::Begin("start")
            .Where(NameIs("d"))
            .FollowedByAny(outer)
            .Times(0, 2)
            .FollowedBy("end")
            .Where(NameIs("e"));
  Harness<Ev> h(p);
  EXPECT_THAT(
      h.FeedAll(NestTimesInput(false)),
      UnorderedElementsAre(
          "start=[d] end=[e]",
          "start=[d] middle1=[a1] middle2=[b1 b2 b3] middle3=[c1 c2 c3] "
          "end=[e]",
          "start=[d] middle1=[a2] middle2=[b4 b5 b6] middle3=[c4 c5 c6] "
          "end=[e]",
          "start=[d] middle1=[a1 a2] middle2=[b1 b2 b3 b4 b5 b6] "
          "middle3=[c1 c2 c3 c4 c5 c6] end=[e]"));
}

// testGroupNestTimesConsecutive: d any (a (b c){3} consecutive){0,2}
// consecutive e, with a non-matching event inside the second repetition.
TEST(GroupPatternTest, NestedGroupTimesConsecutive) {
  P inner = P::Begin("middle2")
                .Where(NameIs("b"))
                .FollowedBy("middle3")
                .Where(NameIs("c"));
  P outer = P::Begin("middle1")
                .Where(NameIs("a"))
                .FollowedBy(inner)
                .Times(3)
                .Consecutive();
  P p = P::Begin("start")
            .Where(NameIs("d"))
            .FollowedByAny(outer)
            .Times(0, 2)
            .Consecutive()
            .FollowedBy("end")
            .Where(NameIs("e"));
  Harness<Ev> h(p);
  EXPECT_THAT(
      h.FeedAll(NestTimesInput(true)),
      UnorderedElementsAre(
          "start=[d] end=[e]",
          "start=[d] middle1=[a1] middle2=[b1 b2 b3] middle3=[c1 c2 c3] "
          "end=[e]"));
}

// testGroupBegin: (a b){1,2} d
TEST(GroupPatternTest, GroupAtBegin) {
  P p = P::Begin(AB()).Times(1, 2).FollowedBy("end").Where(NameIs("d"));
  Harness<Ev> h(p);
  std::vector<Ev> events = {Named("a", "1", 1), Named("b", "1", 2),
                            Named("a", "2", 3), Named("b", "2", 4),
                            Named("d", "", 5)};
  EXPECT_THAT(h.FeedAll(events),
              UnorderedElementsAre("middle1=[a1] middle2=[b1] end=[d]",
                                   "middle1=[a2] middle2=[b2] end=[d]",
                                   "middle1=[a1 a2] middle2=[b1 b2] end=[d]"));
}

// testGroupFollowedByOneOrMoreWithUntilCondition: c (a b)+ until d, then d
TEST(GroupPatternTest, GroupOneOrMoreWithUntil) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy(AB())
            .OneOrMore()
            .Until(NameIs("d"))
            .FollowedBy("end")
            .Where(NameIs("d"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(CTwoPairsD()),
              UnorderedElementsAre(
                  "start=[c] middle1=[a1] middle2=[b1] end=[d]",
                  "start=[c] middle1=[a1 a2] middle2=[b1 b2] end=[d]"));
  // Flink: only the start computation is left; ours does not count it.
  EXPECT_EQ(h.partial_matches(), 0u);
}

// testGroupStartsWithOptionalPattern: a next (b? next c) next d
TEST(GroupPatternTest, GroupStartsWithOptionalStage) {
  P group = P::Begin("middle1")
                .Where(NameIs("b"))
                .Optional()
                .Next("middle2")
                .Where(NameIs("c"));
  P p = P::Begin("start")
            .Where(NameIs("a"))
            .Next(group)
            .Next("d")
            .Where(NameIs("d"));
  Harness<Ev> h(p);
  EXPECT_THAT(
      h.FeedAll({Named("a", "", 1), Named("c", "", 2), Named("d", "", 3)}),
      ElementsAre("start=[a] middle2=[c] d=[d]"));
}

// testFollowedByOptionalGroupPattern: a followedBy (b next c)? next d
TEST(GroupPatternTest, FollowedByOptionalGroup) {
  P group =
      P::Begin("middle1").Where(NameIs("b")).Next("middle2").Where(NameIs("c"));
  P p = P::Begin("start")
            .Where(NameIs("a"))
            .FollowedBy(group)
            .Optional()
            .Next("d")
            .Where(NameIs("d"));
  Harness<Ev> h(p);
  EXPECT_THAT(
      h.FeedAll({Named("a", "", 1), Named("d", "1", 2), Named("d", "2", 3)}),
      ElementsAre("start=[a] d=[d1]"));
}

}  // namespace
