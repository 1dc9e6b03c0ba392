// General NFA semantics (contiguity, quantifiers, optional stages, branching,
// windows and timeouts, subtypes, result ordering), ported from FlinkCEP's
// NFAITCase: same inputs, timestamps, patterns and expected matches, with
// each expected event assigned to the stage that takes it.

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "testing/nfa_harness.hpp"

// Flink's SubEvent (an Event subclass with a volume) as the second
// alternative of a variant event, for the tests that use Subtype().
namespace cep::testing {

struct SubEv {
  std::string label;
  std::string name;
  double price = 0;
  double volume = 0;
  int id = 0;
};

using AnyEv = std::variant<Ev, SubEv>;

inline const std::string& Label(const AnyEv& e) {
  return std::visit([](const auto& x) -> const std::string& { return x.label; },
                    e);
}

}  // namespace cep::testing

namespace {

using cep::testing::AnyEv;
using cep::testing::E;
using cep::testing::Ev;
using cep::testing::Harness;
using cep::testing::NameIs;
using cep::testing::SubEv;
using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

using P = cep::Pattern<Ev>;
using VP = cep::Pattern<AnyEv>;

// ---------------------------------------------------------------------------
// Helpers for the variant (Event / SubEvent) tests.
// ---------------------------------------------------------------------------

const std::string& NameOf(const AnyEv& e) {
  return std::visit([](const auto& x) -> const std::string& { return x.name; },
                    e);
}

auto VNameIs(std::string name) {
  return [name = std::move(name)](const AnyEv& e) { return NameOf(e) == name; };
}

auto VolumeAbove(double v) {
  return [v](const AnyEv& e) {
    const SubEv* s = std::get_if<SubEv>(&e);
    return s != nullptr && s->volume > v;
  };
}

AnyEv PlainEv(std::string label, std::string name) {
  return Ev{std::move(label), std::move(name), 1.0, 0, 0, 0};
}

AnyEv Sub(std::string label, std::string name, double volume) {
  return SubEv{std::move(label), std::move(name), 1.0, volume, 0};
}

struct Timed {
  AnyEv event;
  int64_t ts;
};

std::vector<std::string> FeedTimed(Harness<AnyEv>& h,
                                   const std::vector<Timed>& events) {
  std::vector<std::string> all;
  for (const Timed& t : events) {
    for (std::string& m : h.Feed(t.event, t.ts)) all.push_back(std::move(m));
  }
  return all;
}

// The input of Flink's branching tests: one start, three SubEvents of
// volume 10, two "next-one" SubEvents of volume 2, one end.
std::vector<Timed> BranchingInput() {
  return {{PlainEv("start", "start"), 1},  {Sub("foo1", "foo1", 10.0), 3},
          {Sub("foo2", "foo2", 10.0), 4},  {Sub("foo3", "foo3", 10.0), 5},
          {Sub("n1", "next-one", 2.0), 6}, {Sub("n2", "next-one", 2.0), 7},
          {PlainEv("end", "end"), 8}};
}

// ---------------------------------------------------------------------------
// Patterns without conditions, strict contiguity, subtypes.
// ---------------------------------------------------------------------------

std::vector<Ev> FiveLetters() {
  return {E("a", "a", 1.0, 1), E("b", "b", 2.0, 2), E("c", "c", 3.0, 3),
          E("d", "d", 4.0, 4), E("e", "e", 5.0, 5)};
}

// Mirrors NFAITCase#testNoConditionNFA.
TEST(NfaSemanticsTest, NoConditionFollowedByPairsNeighbours) {
  P p = P::Begin("start").FollowedBy("end");
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(FiveLetters()),
              UnorderedElementsAre("start=[a] end=[b]", "start=[b] end=[c]",
                                   "start=[c] end=[d]", "start=[d] end=[e]"));
}

// Mirrors NFAITCase#testNoConditionLoopingNFA.
TEST(NfaSemanticsTest, NoConditionLoopTakesEveryFollowingEvent) {
  P p = P::Begin("start").FollowedBy("end").OneOrMore();
  Harness<Ev> h(p);
  EXPECT_THAT(
      h.FeedAll(FiveLetters()),
      UnorderedElementsAre("start=[a] end=[b c d e]", "start=[a] end=[b c d]",
                           "start=[a] end=[b c]", "start=[a] end=[b]",
                           "start=[b] end=[c d e]", "start=[b] end=[c d]",
                           "start=[b] end=[c]", "start=[c] end=[d e]",
                           "start=[c] end=[d]", "start=[d] end=[e]"));
}

// Mirrors NFAITCase#testAnyWithNoConditionNFA.
TEST(NfaSemanticsTest, NoConditionFollowedByAnyPairsEveryLaterEvent) {
  P p = P::Begin("start").FollowedByAny("end");
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(FiveLetters()),
              UnorderedElementsAre("start=[a] end=[b]", "start=[a] end=[c]",
                                   "start=[a] end=[d]", "start=[a] end=[e]",
                                   "start=[b] end=[c]", "start=[b] end=[d]",
                                   "start=[b] end=[e]", "start=[c] end=[d]",
                                   "start=[c] end=[e]", "start=[d] end=[e]"));
}

// Mirrors NFAITCase#testSimplePatternNFA.
TEST(NfaSemanticsTest, SubtypeStageTakesOnlySubEventsWithLargeVolume) {
  VP p = VP::Begin("start")
             .Where(VNameIs("start"))
             .FollowedBy("middle")
             .Subtype<SubEv>()
             .Where(VolumeAbove(5.0))
             .FollowedBy("end")
             .Where(VNameIs("end"));
  Harness<AnyEv> h(p);
  EXPECT_THAT(FeedTimed(h, {{PlainEv("s1", "start"), 1},
                            {PlainEv("foobar", "foobar"), 2},
                            {Sub("barfoo", "barfoo", 5.0), 3},
                            {Sub("foo", "foo", 10.0), 3},
                            {PlainEv("s2", "start"), 4},
                            {PlainEv("end", "end"), 5}}),
              UnorderedElementsAre("start=[s1] middle=[foo] end=[end]"));
}

// Mirrors NFAITCase#testStrictContinuityWithResults.
TEST(NfaSemanticsTest, NextMatchesDirectlyFollowingEvent) {
  P p = P::Begin("middle").Where(NameIs("a")).Next("end").Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({E("a", "a", 2.0, 3), E("b", "b", 4.0, 5)}),
              UnorderedElementsAre("middle=[a] end=[b]"));
}

// Mirrors NFAITCase#testStrictContinuityNoResults.
TEST(NfaSemanticsTest, NextFailsWhenAnotherEventIntervenes) {
  P p = P::Begin("middle").Where(NameIs("a")).Next("end").Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({E("a", "a", 2.0, 3), E("c", "c", 3.0, 4),
                         E("b", "b", 4.0, 5)}),
              IsEmpty());
}

// ---------------------------------------------------------------------------
// Windows, timeouts and pending (notFollowedBy-at-end) matches.
// ---------------------------------------------------------------------------

std::vector<Ev> WindowInput() {
  return {E("s1", "start", 1.0, 1), E("s2", "start", 1.0, 2),
          E("m", "middle", 1.0, 3), E("foobar", "foobar", 1.0, 4),
          E("e1", "end", 1.0, 11),  E("e2", "end", 1.0, 13)};
}

// Mirrors NFAITCase#testSimplePatternWithTimeWindowNFAWithinFirstAndLast.
TEST(NfaSemanticsTest, WindowFirstAndLastDropsExpiredStart) {
  P p = P::Begin("start")
            .Where(NameIs("start"))
            .FollowedBy("middle")
            .Where(NameIs("middle"))
            .FollowedBy("end")
            .Where(NameIs("end"))
            .Within(milliseconds(10));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(WindowInput()),
              UnorderedElementsAre("start=[s2] middle=[m] end=[e1]"));
}

// Mirrors NFAITCase#testSimplePatternWithTimeWindowNFAWithinPreviousAndCurrent.
TEST(NfaSemanticsTest, WindowPreviousAndCurrentMeasuresGapToPreviousStage) {
  P p = P::Begin("start")
            .Where(NameIs("start"))
            .FollowedBy("middle")
            .Where(NameIs("middle"))
            .FollowedBy("end")
            .Where(NameIs("end"))
            .Within(milliseconds(9), cep::WithinType::kPreviousAndCurrent);
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(WindowInput()),
              UnorderedElementsAre("start=[s1] middle=[m] end=[e1]",
                                   "start=[s2] middle=[m] end=[e1]"));
}

// Mirrors NFAITCase#testSimplePatternWithTimeoutHandlingWithinFirstAndLast.
TEST(NfaSemanticsTest, TimeoutsFirstAndLastReportPartialMatches) {
  P p = P::Begin("start")
            .Where(NameIs("start"))
            .FollowedByAny("middle")
            .Where(NameIs("middle"))
            .FollowedByAny("end")
            .Where(NameIs("end"))
            .Within(milliseconds(10));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(WindowInput()),
              ElementsAre("start=[s2] middle=[m] end=[e1]"));
  EXPECT_THAT(h.timeouts(),
              UnorderedElementsAre("start=[s1] middle=[m] @11",
                                   "start=[s2] middle=[m] @12",
                                   "start=[s1] @11", "start=[s2] @12"));
}

// Mirrors
// NFAITCase#testSimplePatternWithTimeoutHandlingWithinPreviousAndCurrent.
TEST(NfaSemanticsTest, TimeoutsPreviousAndCurrentReportPartialMatches) {
  P p = P::Begin("start")
            .Where(NameIs("start"))
            .FollowedByAny("middle")
            .Where(NameIs("middle"))
            .FollowedByAny("end")
            .Where(NameIs("end"))
            .Within(milliseconds(10), cep::WithinType::kPreviousAndCurrent);
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(WindowInput()),
              UnorderedElementsAre("start=[s1] middle=[m] end=[e1]",
                                   "start=[s2] middle=[m] end=[e1]"));
  EXPECT_THAT(h.timeouts(), UnorderedElementsAre("start=[s1] middle=[m] @13",
                                                 "start=[s2] middle=[m] @13"));
}

P PendingPattern(cep::WithinType type) {
  return P::Begin("start")
      .Where(NameIs("start"))
      .NotFollowedBy("middle")
      .Where(NameIs("middle"))
      .Within(milliseconds(5), type);
}

std::vector<Ev> PendingInput() {
  return {E("s1", "start", 1.0, 1), E("m1", "middle", 1.0, 4),
          E("s3", "start", 1.0, 5), E("s4", "start", 1.0, 11),
          E("m2", "middle", 1.0, 18)};
}

// Mirrors NFAITCase#testPendingStateMatchesWithinFirstAndLast.
TEST(NfaSemanticsTest, PendingNotFollowedByMatchesReleasedWithinFirstAndLast) {
  Harness<Ev> h(PendingPattern(cep::WithinType::kFirstAndLast));
  EXPECT_THAT(h.FeedAll(PendingInput()),
              UnorderedElementsAre("start=[s3]", "start=[s4]"));
}

// Mirrors NFAITCase#testPendingStateMatchesWithinPreviousAndCurrent.
TEST(NfaSemanticsTest,
     PendingNotFollowedByMatchesReleasedWithinPreviousAndCurrent) {
  Harness<Ev> h(PendingPattern(cep::WithinType::kPreviousAndCurrent));
  EXPECT_THAT(h.FeedAll(PendingInput()),
              UnorderedElementsAre("start=[s3]", "start=[s4]"));
}

// ---------------------------------------------------------------------------
// Branching (followedByAny) and zero-or-more / one-or-more stages.
// ---------------------------------------------------------------------------

// Mirrors NFAITCase#testBranchingPattern.
TEST(NfaSemanticsTest, BranchingFollowedByAnyCombinesAllCandidates) {
  VP p = VP::Begin("start")
             .Where(VNameIs("start"))
             .FollowedByAny("middle-first")
             .Subtype<SubEv>()
             .Where(VolumeAbove(5.0))
             .FollowedByAny("middle-second")
             .Subtype<SubEv>()
             .Where(VNameIs("next-one"))
             .FollowedByAny("end")
             .Where(VNameIs("end"));
  Harness<AnyEv> h(p);
  EXPECT_THAT(
      FeedTimed(h, BranchingInput()),
      UnorderedElementsAre(
          "start=[start] middle-first=[foo1] middle-second=[n1] end=[end]",
          "start=[start] middle-first=[foo2] middle-second=[n1] end=[end]",
          "start=[start] middle-first=[foo3] middle-second=[n1] end=[end]",
          "start=[start] middle-first=[foo1] middle-second=[n2] end=[end]",
          "start=[start] middle-first=[foo2] middle-second=[n2] end=[end]",
          "start=[start] middle-first=[foo3] middle-second=[n2] end=[end]"));
}

// Mirrors NFAITCase#testComplexBranchingAfterZeroOrMore.
TEST(NfaSemanticsTest, ComplexBranchingAfterZeroOrMore) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedByAny("middle")
            .Where(NameIs("a"))
            .OneOrMore()
            .AllowCombinations()
            .Optional()
            .FollowedByAny("end1")
            .Where(NameIs("b"))
            .FollowedByAny("end2")
            .Where(NameIs("d"))
            .FollowedByAny("end3")
            .Where(NameIs("e"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({E("c", "c", 1.0, 1), E("a1", "a", 2.0, 3),
                         E("a2", "a", 3.0, 4), E("a3", "a", 4.0, 5),
                         E("b", "b", 5.0, 6), E("d1", "d", 6.0, 7),
                         E("d2", "d", 7.0, 8), E("e", "e", 8.0, 9)}),
              UnorderedElementsAre(
                  "start=[c] middle=[a1 a2 a3] end1=[b] end2=[d1] end3=[e]",
                  "start=[c] middle=[a1 a2] end1=[b] end2=[d1] end3=[e]",
                  "start=[c] middle=[a1 a3] end1=[b] end2=[d1] end3=[e]",
                  "start=[c] middle=[a2 a3] end1=[b] end2=[d1] end3=[e]",
                  "start=[c] middle=[a1] end1=[b] end2=[d1] end3=[e]",
                  "start=[c] middle=[a2] end1=[b] end2=[d1] end3=[e]",
                  "start=[c] middle=[a3] end1=[b] end2=[d1] end3=[e]",
                  "start=[c] end1=[b] end2=[d1] end3=[e]",
                  "start=[c] middle=[a1 a2 a3] end1=[b] end2=[d2] end3=[e]",
                  "start=[c] middle=[a1 a2] end1=[b] end2=[d2] end3=[e]",
                  "start=[c] middle=[a1 a3] end1=[b] end2=[d2] end3=[e]",
                  "start=[c] middle=[a2 a3] end1=[b] end2=[d2] end3=[e]",
                  "start=[c] middle=[a1] end1=[b] end2=[d2] end3=[e]",
                  "start=[c] middle=[a2] end1=[b] end2=[d2] end3=[e]",
                  "start=[c] middle=[a3] end1=[b] end2=[d2] end3=[e]",
                  "start=[c] end1=[b] end2=[d2] end3=[e]"));
}

// Mirrors NFAITCase#testZeroOrMore.
TEST(NfaSemanticsTest, ZeroOrMoreWithCombinations) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedByAny("middle")
            .Where(NameIs("a"))
            .OneOrMore()
            .AllowCombinations()
            .Optional()
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({E("c", "c", 1.0, 1), E("a1", "a", 2.0, 3),
                         E("a2", "a", 3.0, 4), E("b", "b", 5.0, 6)}),
              UnorderedElementsAre("start=[c] middle=[a1 a2] end1=[b]",
                                   "start=[c] middle=[a1] end1=[b]",
                                   "start=[c] middle=[a2] end1=[b]",
                                   "start=[c] end1=[b]"));
}

// Mirrors NFAITCase#testEagerZeroOrMore.
TEST(NfaSemanticsTest, EagerZeroOrMoreSkipsOnlyNonMatchingEvents) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy("middle")
            .Where(NameIs("a"))
            .OneOrMore()
            .Optional()
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({E("c", "c", 1.0, 1), E("a1", "a", 2.0, 3),
                         E("a2", "a", 3.0, 4), E("d", "d", 6.0, 5),
                         E("a3", "a", 4.0, 6), E("b", "b", 5.0, 7)}),
              UnorderedElementsAre("start=[c] middle=[a1 a2 a3] end1=[b]",
                                   "start=[c] middle=[a1 a2] end1=[b]",
                                   "start=[c] middle=[a1] end1=[b]",
                                   "start=[c] end1=[b]"));
}

// Mirrors NFAITCase#testBeginWithZeroOrMore.
TEST(NfaSemanticsTest, BeginWithZeroOrMore) {
  P p = P::Begin("middle")
            .Where(NameIs("a"))
            .OneOrMore()
            .Optional()
            .FollowedBy("end")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({E("a1", "a", 2.0, 3), E("a2", "a", 3.0, 4),
                         E("a3", "a", 3.0, 5), E("b", "b", 4.0, 6)}),
              UnorderedElementsAre(
                  "middle=[a1 a2 a3] end=[b]", "middle=[a1 a2] end=[b]",
                  "middle=[a2 a3] end=[b]", "middle=[a1] end=[b]",
                  "middle=[a2] end=[b]", "middle=[a3] end=[b]", "end=[b]"));
}

// Mirrors NFAITCase#testZeroOrMoreAfterZeroOrMore.
TEST(NfaSemanticsTest, ZeroOrMoreAfterZeroOrMore) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedByAny("middle-first")
            .Where(NameIs("a"))
            .OneOrMore()
            .AllowCombinations()
            .Optional()
            .FollowedBy("middle-second")
            .Where(NameIs("d"))
            .OneOrMore()
            .AllowCombinations()
            .Optional()
            .FollowedBy("end")
            .Where(NameIs("e"));
  Harness<Ev> h(p);
  EXPECT_THAT(
      h.FeedAll({E("c", "c", 1.0, 1), E("a", "a", 2.0, 3), E("d1", "d", 3.0, 4),
                 E("d2", "d", 4.0, 5), E("e", "e", 4.0, 6)}),
      UnorderedElementsAre(
          "start=[c] middle-first=[a] middle-second=[d1 d2] end=[e]",
          "start=[c] middle-first=[a] middle-second=[d1] end=[e]",
          "start=[c] middle-second=[d1 d2] end=[e]",
          "start=[c] middle-second=[d1] end=[e]",
          "start=[c] middle-first=[a] end=[e]", "start=[c] end=[e]"));
}

// Mirrors NFAITCase#testZeroOrMoreAfterBranching.
TEST(NfaSemanticsTest, ZeroOrMoreAfterBranching) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedByAny("branching")
            .Where(NameIs("a"))
            .FollowedByAny("merging")
            .Where(NameIs("f"))
            .FollowedByAny("kleene")
            .Where(NameIs("d"))
            .OneOrMore()
            .AllowCombinations()
            .Optional()
            .FollowedBy("end")
            .Where(NameIs("e"));
  Harness<Ev> h(p);
  EXPECT_THAT(
      h.FeedAll({E("c", "c", 1.0, 1), E("a1", "a", 2.0, 3),
                 E("a2", "a", 3.0, 4), E("f", "f", 3.0, 5),
                 E("d1", "d", 4.0, 6), E("d2", "d", 4.0, 7),
                 E("e", "e", 4.0, 8)}),
      UnorderedElementsAre(
          "start=[c] branching=[a1] merging=[f] end=[e]",
          "start=[c] branching=[a1] merging=[f] kleene=[d1] end=[e]",
          "start=[c] branching=[a1] merging=[f] kleene=[d2] end=[e]",
          "start=[c] branching=[a1] merging=[f] kleene=[d1 d2] end=[e]",
          "start=[c] branching=[a2] merging=[f] end=[e]",
          "start=[c] branching=[a2] merging=[f] kleene=[d1] end=[e]",
          "start=[c] branching=[a2] merging=[f] kleene=[d2] end=[e]",
          "start=[c] branching=[a2] merging=[f] kleene=[d1 d2] end=[e]"));
}

// Mirrors NFAITCase#testStrictContinuityNoResultsAfterZeroOrMore.
TEST(NfaSemanticsTest, NextAfterZeroOrMoreFailsWhenEventIntervenes) {
  P p = P::Begin("start")
            .Where(NameIs("d"))
            .FollowedBy("middle")
            .Where(NameIs("a"))
            .OneOrMore()
            .Optional()
            .Next("end")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({E("d", "d", 2.0, 1), E("a1", "a", 2.0, 2),
                         E("a2", "a", 2.0, 3), E("c", "c", 3.0, 4),
                         E("b", "b", 4.0, 5)}),
              IsEmpty());
}

// Mirrors NFAITCase#testStrictContinuityResultsAfterZeroOrMore.
TEST(NfaSemanticsTest, NextAfterZeroOrMoreNeedsLastTakenEventRightBefore) {
  P p = P::Begin("start")
            .Where(NameIs("d"))
            .FollowedByAny("middle")
            .Where(NameIs("a"))
            .OneOrMore()
            .Optional()
            .AllowCombinations()
            .Next("end")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({E("d", "d", 2.0, 1), E("a1", "a", 2.0, 2),
                         E("a2", "a", 2.0, 3), E("b", "b", 4.0, 5)}),
              UnorderedElementsAre("start=[d] middle=[a1 a2] end=[b]",
                                   "start=[d] middle=[a2] end=[b]"));
}

// Mirrors NFAITCase#testAtLeastOne.
TEST(NfaSemanticsTest, AtLeastOneWithCombinations) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedByAny("middle")
            .Where(NameIs("a"))
            .OneOrMore()
            .AllowCombinations()
            .FollowedByAny("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({E("c", "c", 1.0, 1), E("a1", "a", 2.0, 3),
                         E("a2", "a", 3.0, 4), E("b", "b", 5.0, 6)}),
              UnorderedElementsAre("start=[c] middle=[a1 a2] end1=[b]",
                                   "start=[c] middle=[a1] end1=[b]",
                                   "start=[c] middle=[a2] end1=[b]"));
}

// Mirrors NFAITCase#testBeginWithAtLeastOne.
TEST(NfaSemanticsTest, BeginWithAtLeastOneWithCombinations) {
  P p = P::Begin("start")
            .Where(NameIs("a"))
            .OneOrMore()
            .AllowCombinations()
            .FollowedBy("end")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(
      h.FeedAll({E("a1", "a", 2.0, 3), E("a2", "a", 3.0, 4),
                 E("a3", "a", 4.0, 5), E("b", "b", 5.0, 6)}),
      UnorderedElementsAre("start=[a1 a2 a3] end=[b]", "start=[a1 a2] end=[b]",
                           "start=[a1 a3] end=[b]", "start=[a2 a3] end=[b]",
                           "start=[a1] end=[b]", "start=[a2] end=[b]",
                           "start=[a3] end=[b]"));
}

// Mirrors NFAITCase#testNextZeroOrMore.
TEST(NfaSemanticsTest, NextZeroOrMoreConsecutiveSkippedWhenNextEventDiffers) {
  P p = P::Begin("start")
            .Where(NameIs("start"))
            .Next("middle")
            .Where(NameIs("middle"))
            .OneOrMore()
            .Optional()
            .Consecutive()
            .FollowedBy("end")
            .Where(NameIs("end"));
  Harness<Ev> h(p);
  EXPECT_THAT(
      h.FeedAll({E("start", "start", 1.0, 1), E("event", "event", 1.0, 2),
                 E("m1", "middle", 2.0, 3), E("m2", "middle", 3.0, 4),
                 E("m3", "middle", 4.0, 5), E("end", "end", 1.0, 6)}),
      UnorderedElementsAre("start=[start] end=[end]"));
}

// Mirrors NFAITCase#testAtLeastOneEager.
TEST(NfaSemanticsTest, AtLeastOneEagerAfterFollowedByAny) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedByAny("middle")
            .Where(NameIs("a"))
            .OneOrMore()
            .FollowedByAny("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({E("c", "c", 1.0, 1), E("a1", "a", 2.0, 3),
                         E("a2", "a", 3.0, 4), E("a3", "a", 4.0, 5),
                         E("b", "b", 5.0, 6)}),
              UnorderedElementsAre("start=[c] middle=[a1 a2 a3] end1=[b]",
                                   "start=[c] middle=[a1 a2] end1=[b]",
                                   "start=[c] middle=[a2 a3] end1=[b]",
                                   "start=[c] middle=[a3] end1=[b]",
                                   "start=[c] middle=[a2] end1=[b]",
                                   "start=[c] middle=[a1] end1=[b]"));
}

// Mirrors NFAITCase#testOptional.
TEST(NfaSemanticsTest, OptionalStageTakenOrSkipped) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy("middle")
            .Where(NameIs("a"))
            .Optional()
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({E("c", "c", 1.0, 1), E("a", "a", 4.0, 5),
                         E("b", "b", 5.0, 6)}),
              UnorderedElementsAre("start=[c] middle=[a] end1=[b]",
                                   "start=[c] end1=[b]"));
}

// ---------------------------------------------------------------------------
// Times, with the ConsecutiveData events of Flink's test.
// ---------------------------------------------------------------------------

Ev C(int64_t ts) { return E("c", "c", 1.0, ts); }
Ev A1(int64_t ts) { return E("a1", "a", 2.0, ts); }
Ev A2(int64_t ts) { return E("a2", "a", 3.0, ts); }
Ev A3(int64_t ts) { return E("a3", "a", 4.0, ts); }
Ev A4(int64_t ts) { return E("a4", "a", 5.0, ts); }
Ev B(int64_t ts) { return E("b", "b", 5.0, ts); }
Ev F(int64_t ts) { return E("f", "f", 1.0, ts); }
Ev D(int64_t ts) { return E("d", "d", 6.0, ts); }

// Mirrors NFAITCase#testTimes.
TEST(NfaSemanticsTest, TimesWithCombinationsAfterNext) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .Next("middle")
            .Where(NameIs("a"))
            .Times(2)
            .AllowCombinations()
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({C(1), A1(2), A2(3), A3(4), B(6)}),
              UnorderedElementsAre("start=[c] middle=[a1 a2] end1=[b]",
                                   "start=[c] middle=[a1 a3] end1=[b]"));
}

// Mirrors NFAITCase#testStartWithTimes.
TEST(NfaSemanticsTest, StartWithTimesConsecutive) {
  P p = P::Begin("middle")
            .Where(NameIs("a"))
            .Times(2)
            .Consecutive()
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({A1(2), A2(3), A3(4), B(6)}),
              UnorderedElementsAre("middle=[a1 a2] end1=[b]",
                                   "middle=[a2 a3] end1=[b]"));
}

// Mirrors NFAITCase#testTimesNonStrictWithNext.
TEST(NfaSemanticsTest, TimesNonStrictWithNext) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .Next("middle")
            .Where(NameIs("a"))
            .Times(2)
            .AllowCombinations()
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({C(1), A1(2), F(3), A2(4), F(5), A3(6), B(7)}),
              UnorderedElementsAre("start=[c] middle=[a1 a2] end1=[b]",
                                   "start=[c] middle=[a1 a3] end1=[b]"));
}

// Mirrors NFAITCase#testTimesNotStrictWithFollowedByEager.
TEST(NfaSemanticsTest, TimesNotStrictWithFollowedByEager) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy("middle")
            .Where(NameIs("a"))
            .Times(2)
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({C(1), A1(2), A2(4), A3(6), B(7)}),
              UnorderedElementsAre("start=[c] middle=[a1 a2] end1=[b]"));
}

// Mirrors NFAITCase#testTimesNotStrictWithFollowedByNotEager.
TEST(NfaSemanticsTest, TimesNotStrictWithFollowedByAnyAndCombinations) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedByAny("middle")
            .Where(NameIs("a"))
            .Times(2)
            .AllowCombinations()
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({C(1), A1(2), A2(4), A3(6), B(7)}),
              UnorderedElementsAre("start=[c] middle=[a1 a2] end1=[b]",
                                   "start=[c] middle=[a2 a3] end1=[b]",
                                   "start=[c] middle=[a1 a3] end1=[b]"));
}

// Mirrors NFAITCase#testTimesStrictWithNextAndConsecutive.
TEST(NfaSemanticsTest, TimesStrictWithNextAndConsecutiveNoMatch) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .Next("middle")
            .Where(NameIs("a"))
            .Times(2)
            .Consecutive()
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({C(1), A1(2), F(3), A2(4), A3(6), B(7)}), IsEmpty());
}

// Mirrors NFAITCase#testStartWithOptional.
TEST(NfaSemanticsTest, StartWithOptional) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .Optional()
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({C(1), B(6)}),
              UnorderedElementsAre("start=[c] end1=[b]", "end1=[b]"));
}

// Mirrors NFAITCase#testEndWithZeroOrMore.
TEST(NfaSemanticsTest, EndWithZeroOrMoreEmitsEveryPrefix) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy("middle")
            .Where(NameIs("a"))
            .OneOrMore()
            .Optional();
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({C(1), A1(3), A2(4), A3(5)}),
              UnorderedElementsAre("start=[c] middle=[a1 a2 a3]",
                                   "start=[c] middle=[a1 a2]",
                                   "start=[c] middle=[a1]", "start=[c]"));
}

// Mirrors NFAITCase#testStartAndEndWithZeroOrMore.
TEST(NfaSemanticsTest, StartAndEndWithZeroOrMoreNeverEmitsEmptyMatch) {
  P p = P::Begin("start").Where(NameIs("a")).OneOrMore().Optional();
  Harness<Ev> h(p);
  EXPECT_THAT(
      h.FeedAll({C(1), A1(3), A2(4), A3(5), E("d1", "d", 5.0, 6),
                 E("d2", "d", 5.0, 6), E("d3", "d", 5.0, 6)}),
      UnorderedElementsAre("start=[a1 a2 a3]", "start=[a1 a2]", "start=[a1]",
                           "start=[a2 a3]", "start=[a2]", "start=[a3]"));
}

// Mirrors NFAITCase#testEndWithOptional.
TEST(NfaSemanticsTest, EndWithOptional) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy("middle")
            .Where(NameIs("a"))
            .Optional();
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({C(1), A1(3)}),
              UnorderedElementsAre("start=[c] middle=[a1]", "start=[c]"));
}

// Mirrors NFAITCase#testEndWithOneOrMore.
TEST(NfaSemanticsTest, EndWithOneOrMore) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy("middle")
            .Where(NameIs("a"))
            .OneOrMore();
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({C(1), A1(3), A2(4), A3(5)}),
              UnorderedElementsAre("start=[c] middle=[a1 a2 a3]",
                                   "start=[c] middle=[a1 a2]",
                                   "start=[c] middle=[a1]"));
}

// ---------------------------------------------------------------------------
// Optional times / one-or-more with each inner contiguity.
// ---------------------------------------------------------------------------

// c f a1 f a2 a3 b, the input of most optional-times tests.
std::vector<Ev> OptionalTimesInput() {
  return {C(1), F(2), A1(3), F(4), A2(5), A3(6), B(7)};
}

// Mirrors NFAITCase#testTimesNonStrictOptional1.
TEST(NfaSemanticsTest, TimesNonStrictOptionalSkippedWithoutCandidates) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy("middle")
            .Where(NameIs("a"))
            .Times(3)
            .Optional()
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({C(1), F(2), B(7)}),
              UnorderedElementsAre("start=[c] end1=[b]"));
}

// Mirrors NFAITCase#testTimesNonStrictOptional2.
TEST(NfaSemanticsTest, TimesNonStrictOptionalWithCombinations) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedByAny("middle")
            .Where(NameIs("a"))
            .Times(2)
            .AllowCombinations()
            .Optional()
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(OptionalTimesInput()),
              UnorderedElementsAre("start=[c] middle=[a1 a2] end1=[b]",
                                   "start=[c] middle=[a1 a3] end1=[b]",
                                   "start=[c] middle=[a2 a3] end1=[b]",
                                   "start=[c] end1=[b]"));
}

// Mirrors NFAITCase#testTimesNonStrictOptional3.
TEST(NfaSemanticsTest, TimesNonStrictOptionalRelaxedInner) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedByAny("middle")
            .Where(NameIs("a"))
            .Times(2)
            .Optional()
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(OptionalTimesInput()),
              UnorderedElementsAre("start=[c] middle=[a1 a2] end1=[b]",
                                   "start=[c] middle=[a2 a3] end1=[b]",
                                   "start=[c] end1=[b]"));
}

// Mirrors NFAITCase#testTimesStrictOptional.
TEST(NfaSemanticsTest, TimesStrictOptional) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedByAny("middle")
            .Where(NameIs("a"))
            .Times(2)
            .Consecutive()
            .Optional()
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(OptionalTimesInput()),
              UnorderedElementsAre("start=[c] middle=[a2 a3] end1=[b]",
                                   "start=[c] end1=[b]"));
}

// Mirrors NFAITCase#testOneOrMoreStrictOptional.
TEST(NfaSemanticsTest, OneOrMoreStrictOptional) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedByAny("middle")
            .Where(NameIs("a"))
            .OneOrMore()
            .Consecutive()
            .Optional()
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(OptionalTimesInput()),
              UnorderedElementsAre("start=[c] middle=[a2 a3] end1=[b]",
                                   "start=[c] middle=[a1] end1=[b]",
                                   "start=[c] middle=[a2] end1=[b]",
                                   "start=[c] middle=[a3] end1=[b]",
                                   "start=[c] end1=[b]"));
}

// Mirrors NFAITCase#testTimesStrictOptional1.
TEST(NfaSemanticsTest, TimesStrictOptionalAfterNext) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .Next("middle")
            .Where(NameIs("a"))
            .Times(2)
            .Consecutive()
            .Optional()
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({C(1), A1(3), A2(5), A3(6), B(7)}),
              UnorderedElementsAre("start=[c] middle=[a1 a2] end1=[b]",
                                   "start=[c] end1=[b]"));
}

// Mirrors NFAITCase#testOptionalTimesNonStrictWithNext.
TEST(NfaSemanticsTest, OptionalTimesNonStrictWithNext) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .Next("middle")
            .Where(NameIs("a"))
            .Times(2)
            .AllowCombinations()
            .Optional()
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({C(1), A1(2), F(3), A2(4), F(5), A3(6), B(7)}),
              UnorderedElementsAre("start=[c] middle=[a1 a2] end1=[b]",
                                   "start=[c] middle=[a1 a3] end1=[b]",
                                   "start=[c] end1=[b]"));
}

// ---------------------------------------------------------------------------
// One-or-more / zero-or-more under each inner contiguity.
// ---------------------------------------------------------------------------

enum class Inner { kStrict, kSkipTillNext, kSkipTillAny };

// c d a1 a2 a3 d a4 b, with a2 and a3 at the same timestamp.
std::vector<Ev> LoopInput() {
  return {C(1), D(2), A1(3), A2(4), A3(4), D(5), A4(6), B(7)};
}

P LoopPattern(Inner inner, bool optional) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy("middle")
            .Where(NameIs("a"))
            .OneOrMore();
  if (optional) p.Optional();
  if (inner == Inner::kStrict) p.Consecutive();
  if (inner == Inner::kSkipTillAny) p.AllowCombinations();
  p.FollowedBy("end1").Where(NameIs("b"));
  return p;
}

// Mirrors NFAITCase#testStrictOneOrMore.
TEST(NfaSemanticsTest, StrictOneOrMore) {
  Harness<Ev> h(LoopPattern(Inner::kStrict, /*optional=*/false));
  EXPECT_THAT(h.FeedAll(LoopInput()),
              UnorderedElementsAre("start=[c] middle=[a1 a2 a3] end1=[b]",
                                   "start=[c] middle=[a1 a2] end1=[b]",
                                   "start=[c] middle=[a1] end1=[b]"));
}

// Mirrors NFAITCase#testSkipTillNextOneOrMore.
TEST(NfaSemanticsTest, SkipTillNextOneOrMore) {
  Harness<Ev> h(LoopPattern(Inner::kSkipTillNext, /*optional=*/false));
  EXPECT_THAT(h.FeedAll(LoopInput()),
              UnorderedElementsAre("start=[c] middle=[a1 a2 a3 a4] end1=[b]",
                                   "start=[c] middle=[a1 a2 a3] end1=[b]",
                                   "start=[c] middle=[a1 a2] end1=[b]",
                                   "start=[c] middle=[a1] end1=[b]"));
}

// Mirrors NFAITCase#testSkipTillAnyOneOrMore.
TEST(NfaSemanticsTest, SkipTillAnyOneOrMore) {
  Harness<Ev> h(LoopPattern(Inner::kSkipTillAny, /*optional=*/false));
  EXPECT_THAT(h.FeedAll(LoopInput()),
              UnorderedElementsAre("start=[c] middle=[a1 a2 a3 a4] end1=[b]",
                                   "start=[c] middle=[a1 a3 a4] end1=[b]",
                                   "start=[c] middle=[a1 a2 a3] end1=[b]",
                                   "start=[c] middle=[a1 a2 a4] end1=[b]",
                                   "start=[c] middle=[a1 a2] end1=[b]",
                                   "start=[c] middle=[a1 a3] end1=[b]",
                                   "start=[c] middle=[a1 a4] end1=[b]",
                                   "start=[c] middle=[a1] end1=[b]"));
}

// Mirrors NFAITCase#testStrictEagerZeroOrMore.
TEST(NfaSemanticsTest, StrictEagerZeroOrMore) {
  Harness<Ev> h(LoopPattern(Inner::kStrict, /*optional=*/true));
  EXPECT_THAT(h.FeedAll(LoopInput()),
              UnorderedElementsAre("start=[c] middle=[a1 a2 a3] end1=[b]",
                                   "start=[c] middle=[a1 a2] end1=[b]",
                                   "start=[c] middle=[a1] end1=[b]",
                                   "start=[c] end1=[b]"));
}

// Mirrors NFAITCase#testSkipTillAnyZeroOrMore.
TEST(NfaSemanticsTest, SkipTillAnyZeroOrMore) {
  Harness<Ev> h(LoopPattern(Inner::kSkipTillAny, /*optional=*/true));
  EXPECT_THAT(h.FeedAll(LoopInput()),
              UnorderedElementsAre("start=[c] middle=[a1 a2 a3 a4] end1=[b]",
                                   "start=[c] middle=[a1 a2 a4] end1=[b]",
                                   "start=[c] middle=[a1 a3 a4] end1=[b]",
                                   "start=[c] middle=[a1 a4] end1=[b]",
                                   "start=[c] middle=[a1 a2 a3] end1=[b]",
                                   "start=[c] middle=[a1 a2] end1=[b]",
                                   "start=[c] middle=[a1 a3] end1=[b]",
                                   "start=[c] middle=[a1] end1=[b]",
                                   "start=[c] end1=[b]"));
}

// Mirrors NFAITCase#testSkipTillNextZeroOrMore.
TEST(NfaSemanticsTest, SkipTillNextZeroOrMore) {
  Harness<Ev> h(LoopPattern(Inner::kSkipTillNext, /*optional=*/true));
  EXPECT_THAT(h.FeedAll(LoopInput()),
              UnorderedElementsAre("start=[c] middle=[a1 a2 a3 a4] end1=[b]",
                                   "start=[c] middle=[a1 a2 a3] end1=[b]",
                                   "start=[c] middle=[a1 a2] end1=[b]",
                                   "start=[c] middle=[a1] end1=[b]",
                                   "start=[c] end1=[b]"));
}

// Mirrors NFAITCase#testTimesStrict.
TEST(NfaSemanticsTest, TimesStrict) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedByAny("middle")
            .Where(NameIs("a"))
            .Times(2)
            .Consecutive()
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(OptionalTimesInput()),
              UnorderedElementsAre("start=[c] middle=[a2 a3] end1=[b]"));
}

// Mirrors NFAITCase#testTimesNonStrict.
TEST(NfaSemanticsTest, TimesNonStrict) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedByAny("middle")
            .Where(NameIs("a"))
            .Times(2)
            .AllowCombinations()
            .FollowedBy("end1")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(OptionalTimesInput()),
              UnorderedElementsAre("start=[c] middle=[a1 a2] end1=[b]",
                                   "start=[c] middle=[a1 a3] end1=[b]",
                                   "start=[c] middle=[a2 a3] end1=[b]"));
}

// c a1 c a2 a3: the input of the strict start-loop tests.
std::vector<Ev> StrictStartInput() { return {C(1), A1(3), C(4), A2(5), A3(6)}; }

// Mirrors NFAITCase#testStartWithZeroOrMoreStrict.
TEST(NfaSemanticsTest, StartWithZeroOrMoreStrict) {
  P p =
      P::Begin("start").Where(NameIs("a")).OneOrMore().Optional().Consecutive();
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(StrictStartInput()),
              UnorderedElementsAre("start=[a1]", "start=[a2 a3]", "start=[a2]",
                                   "start=[a3]"));
}

// Mirrors NFAITCase#testStartWithOneOrMoreStrict.
TEST(NfaSemanticsTest, StartWithOneOrMoreStrict) {
  P p = P::Begin("start").Where(NameIs("a")).OneOrMore().Consecutive();
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(StrictStartInput()),
              UnorderedElementsAre("start=[a1]", "start=[a2 a3]", "start=[a2]",
                                   "start=[a3]"));
}

// ---------------------------------------------------------------------------
// Windows prune partial matches and free the shared buffer.
// ---------------------------------------------------------------------------

P TimesClearingPattern(cep::WithinType type) {
  return P::Begin("start")
      .Where(NameIs("c"))
      .Next("middle")
      .Where(NameIs("a"))
      .Times(2)
      .FollowedBy("end1")
      .Where(NameIs("b"))
      .Within(milliseconds(8), type);
}

// Mirrors NFAITCase#testTimesClearingBufferWithinFirstAndLast.
TEST(NfaSemanticsTest, TimesClearingBufferWithinFirstAndLast) {
  Harness<Ev> h(TimesClearingPattern(cep::WithinType::kFirstAndLast));
  EXPECT_THAT(h.FeedAll({C(1), A1(2), A2(3), A3(4), B(6)}),
              ElementsAre("start=[c] middle=[a1 a2] end1=[b]"));
  h.Advance(10);
  EXPECT_EQ(h.partial_matches(), 0u);
}

// Mirrors NFAITCase#testTimesClearingBufferWithinPreviousAndCurrent.
TEST(NfaSemanticsTest, TimesClearingBufferWithinPreviousAndCurrent) {
  Harness<Ev> h(TimesClearingPattern(cep::WithinType::kPreviousAndCurrent));
  EXPECT_THAT(h.FeedAll({C(1), A1(2), A2(3), A3(4), B(6)}),
              ElementsAre("start=[c] middle=[a1 a2] end1=[b]"));
  h.Advance(10);
  EXPECT_EQ(h.partial_matches(), 0u);
}

P OptionalClearingPattern(cep::WithinType type) {
  return P::Begin("start")
      .Where(NameIs("c"))
      .FollowedBy("middle")
      .Where(NameIs("a"))
      .Optional()
      .FollowedBy("end1")
      .Where(NameIs("b"))
      .Within(milliseconds(8), type);
}

// Mirrors NFAITCase#testOptionalClearingBufferWithinFirstAndLast.
TEST(NfaSemanticsTest, OptionalClearingBufferWithinFirstAndLast) {
  Harness<Ev> h(OptionalClearingPattern(cep::WithinType::kFirstAndLast));
  EXPECT_THAT(h.FeedAll({C(1), E("a", "a", 4.0, 5), B(6)}),
              UnorderedElementsAre("start=[c] middle=[a] end1=[b]",
                                   "start=[c] end1=[b]"));
  h.Advance(10);
  EXPECT_EQ(h.partial_matches(), 0u);
}

// Mirrors NFAITCase#testOptionalClearingBufferWithinPreviousAndCurrent.
TEST(NfaSemanticsTest, OptionalClearingBufferWithinPreviousAndCurrent) {
  Harness<Ev> h(OptionalClearingPattern(cep::WithinType::kPreviousAndCurrent));
  EXPECT_THAT(h.FeedAll({C(1), E("a", "a", 4.0, 5), B(6)}),
              UnorderedElementsAre("start=[c] middle=[a] end1=[b]",
                                   "start=[c] end1=[b]"));
  h.Advance(10);
  EXPECT_EQ(h.partial_matches(), 0u);
}

// Flink's helper for the two AtLeastOneClearingBuffer tests ignores its
// window-type argument: both use a first-and-last window of 8.
P AtLeastOneClearingPattern() {
  return P::Begin("start")
      .Where(NameIs("c"))
      .FollowedBy("middle")
      .Where(NameIs("a"))
      .OneOrMore()
      .AllowCombinations()
      .FollowedBy("end1")
      .Where(NameIs("b"))
      .Within(milliseconds(8));
}

// Mirrors NFAITCase#testAtLeastOneClearingBufferWithinFirstAndLast.
TEST(NfaSemanticsTest, AtLeastOneClearingBufferWithinFirstAndLast) {
  Harness<Ev> h(AtLeastOneClearingPattern());
  EXPECT_THAT(h.FeedAll({C(1), A1(3), A2(4), B(6)}),
              UnorderedElementsAre("start=[c] middle=[a1 a2] end1=[b]",
                                   "start=[c] middle=[a1] end1=[b]"));
  h.Advance(10);
  EXPECT_EQ(h.partial_matches(), 0u);
}

// Mirrors NFAITCase#testAtLeastOneClearingBufferWithPreviousAndCurrent (which
// also uses a first-and-last window). Checked here after each step.
TEST(NfaSemanticsTest, AtLeastOneClearingBufferStepByStep) {
  Harness<Ev> h(AtLeastOneClearingPattern());
  EXPECT_THAT(h.Feed(C(1), 1), IsEmpty());
  EXPECT_THAT(h.Feed(A1(3), 3), IsEmpty());
  EXPECT_THAT(h.Feed(A2(4), 4), IsEmpty());
  EXPECT_THAT(h.Feed(B(6), 6),
              UnorderedElementsAre("start=[c] middle=[a1 a2] end1=[b]",
                                   "start=[c] middle=[a1] end1=[b]"));
  EXPECT_THAT(h.Advance(10), IsEmpty());
  EXPECT_EQ(h.partial_matches(), 0u);
}

// Mirrors NFAITCase#testZeroOrMoreClearingBufferWithinFirstAndLast.
TEST(NfaSemanticsTest, ZeroOrMoreClearingBufferWithinFirstAndLast) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy("middle")
            .Where(NameIs("a"))
            .OneOrMore()
            .AllowCombinations()
            .Optional()
            .FollowedBy("end1")
            .Where(NameIs("b"))
            .Within(milliseconds(8));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({C(1), A1(3), A2(4), B(6)}),
              UnorderedElementsAre("start=[c] middle=[a1 a2] end1=[b]",
                                   "start=[c] middle=[a1] end1=[b]",
                                   "start=[c] end1=[b]"));
  h.Advance(10);
  EXPECT_EQ(h.partial_matches(), 0u);
}

// Mirrors NFAITCase#testZeroOrMoreClearingBufferWithinPreviousAndCurrent:
// the window is on end1 only, so the loop's partial matches [c a1] and
// [c a1 a2] (still able to take more a's) survive.
TEST(NfaSemanticsTest, ZeroOrMoreClearingBufferWithinPreviousAndCurrent) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy("middle")
            .Where(NameIs("a"))
            .OneOrMore()
            .AllowCombinations()
            .Optional()
            .FollowedBy("end1")
            .Where(NameIs("b"))
            .Within(milliseconds(8), cep::WithinType::kPreviousAndCurrent);
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({C(1), A1(3), A2(4), B(6)}),
              UnorderedElementsAre("start=[c] middle=[a1 a2] end1=[b]",
                                   "start=[c] middle=[a1] end1=[b]",
                                   "start=[c] end1=[b]"));
  h.Advance(10);
  EXPECT_EQ(h.partial_matches(), 2u);
}

// ---------------------------------------------------------------------------
// Skip till next vs. skip till any in branching patterns.
// ---------------------------------------------------------------------------

// Mirrors NFAITCase#testBranchingPatternSkipTillNext.
TEST(NfaSemanticsTest, BranchingPatternSkipTillNext) {
  VP p = VP::Begin("start")
             .Where(VNameIs("start"))
             .FollowedBy("middle-first")
             .Subtype<SubEv>()
             .Where(VolumeAbove(5.0))
             .FollowedBy("middle-second")
             .Subtype<SubEv>()
             .Where(VNameIs("next-one"))
             .FollowedByAny("end")
             .Where(VNameIs("end"));
  Harness<AnyEv> h(p);
  EXPECT_THAT(
      FeedTimed(h, BranchingInput()),
      UnorderedElementsAre(
          "start=[start] middle-first=[foo1] middle-second=[n1] end=[end]"));
}

// Mirrors NFAITCase#testBranchingPatternMixedFollowedBy.
TEST(NfaSemanticsTest, BranchingPatternMixedFollowedBy) {
  VP p = VP::Begin("start")
             .Where(VNameIs("start"))
             .FollowedByAny("middle-first")
             .Subtype<SubEv>()
             .Where(VolumeAbove(5.0))
             .FollowedBy("middle-second")
             .Subtype<SubEv>()
             .Where(VNameIs("next-one"))
             .FollowedByAny("end")
             .Where(VNameIs("end"));
  Harness<AnyEv> h(p);
  EXPECT_THAT(
      FeedTimed(h, BranchingInput()),
      UnorderedElementsAre(
          "start=[start] middle-first=[foo1] middle-second=[n1] end=[end]",
          "start=[start] middle-first=[foo2] middle-second=[n1] end=[end]",
          "start=[start] middle-first=[foo3] middle-second=[n1] end=[end]"));
}

// Mirrors NFAITCase#testMultipleTakesVersionCollision: middle1 must start at
// a1, middle2 at the a right after middle1's last event; the 20 matches are
// distinct stage assignments (several flatten to the same event list).
TEST(NfaSemanticsTest, MultipleTakesVersionCollision) {
  P p = P::Begin("start")
            .Where(NameIs("c"))
            .FollowedBy("middle1")
            .Where(NameIs("a"))
            .OneOrMore()
            .AllowCombinations()
            .FollowedBy("middle2")
            .Where(NameIs("a"))
            .OneOrMore()
            .AllowCombinations()
            .FollowedBy("end")
            .Where(NameIs("b"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({C(1), E("a1", "a", 2.0, 3), E("a2", "a", 3.0, 4),
                         E("a3", "a", 4.0, 5), E("a4", "a", 5.0, 6),
                         E("a5", "a", 6.0, 7), E("b", "b", 5.0, 10)}),
              UnorderedElementsAre(
                  // middle1 = [a1]
                  "start=[c] middle1=[a1] middle2=[a2] end=[b]",
                  "start=[c] middle1=[a1] middle2=[a2 a3] end=[b]",
                  "start=[c] middle1=[a1] middle2=[a2 a4] end=[b]",
                  "start=[c] middle1=[a1] middle2=[a2 a5] end=[b]",
                  "start=[c] middle1=[a1] middle2=[a2 a3 a4] end=[b]",
                  "start=[c] middle1=[a1] middle2=[a2 a3 a5] end=[b]",
                  "start=[c] middle1=[a1] middle2=[a2 a4 a5] end=[b]",
                  "start=[c] middle1=[a1] middle2=[a2 a3 a4 a5] end=[b]",
                  // middle1 ends with a2
                  "start=[c] middle1=[a1 a2] middle2=[a3] end=[b]",
                  "start=[c] middle1=[a1 a2] middle2=[a3 a4] end=[b]",
                  "start=[c] middle1=[a1 a2] middle2=[a3 a5] end=[b]",
                  "start=[c] middle1=[a1 a2] middle2=[a3 a4 a5] end=[b]",
                  // middle1 ends with a3
                  "start=[c] middle1=[a1 a3] middle2=[a4] end=[b]",
                  "start=[c] middle1=[a1 a3] middle2=[a4 a5] end=[b]",
                  "start=[c] middle1=[a1 a2 a3] middle2=[a4] end=[b]",
                  "start=[c] middle1=[a1 a2 a3] middle2=[a4 a5] end=[b]",
                  // middle1 ends with a4
                  "start=[c] middle1=[a1 a4] middle2=[a5] end=[b]",
                  "start=[c] middle1=[a1 a2 a4] middle2=[a5] end=[b]",
                  "start=[c] middle1=[a1 a3 a4] middle2=[a5] end=[b]",
                  "start=[c] middle1=[a1 a2 a3 a4] middle2=[a5] end=[b]"));
}

// ---------------------------------------------------------------------------
// Result ordering.
// ---------------------------------------------------------------------------

// Mirrors NFAITCase#testNFAResultOrdering: events of a stage come in arrival
// order.
TEST(NfaSemanticsTest, ResultEventsInArrivalOrder) {
  P p = P::Begin("start")
            .Where([](const Ev& e) { return e.name.rfind("a-", 0) == 0; })
            .Times(4)
            .AllowCombinations()
            .FollowedByAny("middle")
            .Where([](const Ev& e) { return e.name.rfind("b-", 0) == 0; })
            .Times(3)
            .Consecutive();
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({E("a1", "a-1", 2.0, 1), E("a2", "a-2", 3.0, 3),
                         E("a3", "a-3", 4.0, 4), E("a4", "a-4", 5.0, 5),
                         E("b1", "b-1", 6.0, 6), E("b2", "b-2", 7.0, 7),
                         E("b3", "b-3", 8.0, 10)}),
              ElementsAre("start=[a1 a2 a3 a4] middle=[b1 b2 b3]"));
}

// Mirrors NFAITCase#testNFAResultKeyOrdering: stages come in pattern order,
// whatever their names.
TEST(NfaSemanticsTest, ResultStagesInPatternOrder) {
  P p = P::Begin("a")
            .Where(NameIs("a"))
            .Next("b")
            .Where(NameIs("b"))
            .Next("aa")
            .Where(NameIs("aa"))
            .Next("bb")
            .Where(NameIs("bb"))
            .Next("ab")
            .Where(NameIs("ab"));
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({E("a1", "a", 2.0, 1), E("b1", "b", 3.0, 3),
                         E("aa1", "aa", 4.0, 4), E("bb1", "bb", 5.0, 5),
                         E("ab1", "ab", 6.0, 6)}),
              ElementsAre("a=[a1] b=[b1] aa=[aa1] bb=[bb1] ab=[ab1]"));
}

// ---------------------------------------------------------------------------
// Loop clearing: expired partial matches release their events.
// ---------------------------------------------------------------------------

P LoopClearingPattern(cep::WithinType type) {
  return P::Begin("start", cep::AfterMatchSkip::SkipPastLastEvent())
      .Times(4)
      .Where(NameIs("a"))
      .Within(milliseconds(3), type);
}

// Mirrors NFAITCase#testLoopClearingWithinFirstAndLast: at time 4 the
// partial match started at 1 expires, so only a2 stays buffered.
TEST(NfaSemanticsTest, LoopClearingWithinFirstAndLast) {
  Harness<Ev> h(LoopClearingPattern(cep::WithinType::kFirstAndLast));
  EXPECT_THAT(h.Feed(E("a1", "a", 1.0, 1), 1), IsEmpty());
  EXPECT_THAT(h.Feed(E("a2", "a", 1.0, 2), 2), IsEmpty());
  EXPECT_THAT(h.Advance(4), IsEmpty());
  EXPECT_EQ(h.buffered_events(), 1u);
}

// Mirrors NFAITCase#testLoopClearingWithinPreviousAndCurrent. FlinkCEP
// silently ignores a previous-and-current window on a times stage (so both
// events stay buffered); Cepheus rejects such a pattern instead.
TEST(NfaSemanticsTest, LoopClearingWithinPreviousAndCurrentIsRejected) {
  auto nfa = cep::CompilePattern(
      LoopClearingPattern(cep::WithinType::kPreviousAndCurrent));
  EXPECT_EQ(nfa.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(nfa.status().message()), HasSubstr("stage 'start'"));
}

}  // namespace
