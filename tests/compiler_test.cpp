// Tests of CompilePattern(): every rejected pattern yields kInvalidArgument
// with a message naming the stage (FlinkCEP's MalformedPatternException
// cases), and accepted patterns get the automaton NFACompiler builds.
#include "cep/compiler.hpp"

#include <chrono>
#include <string>
#include <variant>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "testing/nfa_harness.hpp"
#include "testing/status_matchers.hpp"

namespace cep {
namespace {

using ::cep::testing::Ev;
using ::cep::testing::IsOk;
using ::cep::testing::NameIs;
using ::cep::testing::StatusIs;
using P = Pattern<Ev>;
using std::chrono::milliseconds;

void ExpectError(const P& pattern, const std::string& message) {
  EXPECT_THAT(CompilePattern(pattern),
              StatusIs(absl::StatusCode::kInvalidArgument, message));
}

TEST(CompilerTest, AcceptsSimpleSequence) {
  EXPECT_THAT(CompilePattern(P::Begin("a").Next("b").FollowedBy("c")).status(),
              IsOk());
}

TEST(CompilerTest, RejectsEmptyPattern) {
  ExpectError(P(), "the pattern has no stages");
}

TEST(CompilerTest, RejectsPatternNotStartingWithBegin) {
  P p;
  p.NotNext("x");
  ExpectError(p, "stage 'x': a pattern must start with Begin, not NotNext");
}

TEST(CompilerTest, RejectsGroupBeginningWithNot) {
  P group;
  group.FollowedBy("x");
  ExpectError(P::Begin("a").Next(group),
              "stage 'x': a pattern must start with Begin, not FollowedBy");
}

TEST(CompilerTest, RejectsDuplicateStageNames) {
  ExpectError(P::Begin("a").FollowedBy("b").Next("a"),
              "stage 'a': duplicate stage name: names must be unique");
}

TEST(CompilerTest, RejectsDuplicateNamesAcrossGroups) {
  ExpectError(P::Begin("a").FollowedBy(P::Begin("b").Next("a")),
              "stage 'a': duplicate stage name: names must be unique");
}

TEST(CompilerTest, RejectsOptionalNotStage) {
  ExpectError(P::Begin("a").NotNext("b").Optional(),
              "stage 'b': a NOT stage cannot be Optional");
}

TEST(CompilerTest, RejectsQuantifierOnNotStage) {
  ExpectError(P::Begin("a").NotFollowedBy("b").OneOrMore().FollowedBy("c"),
              "stage 'b': OneOrMore does not apply to a NOT stage");
  ExpectError(P::Begin("a").NotNext("b").Times(2).FollowedBy("c"),
              "stage 'b': Times does not apply to a NOT stage");
  ExpectError(P::Begin("a").NotNext("b").Greedy().FollowedBy("c"),
              "stage 'b': Greedy does not apply to a NOT stage");
}

TEST(CompilerTest, RejectsNotAfterOptionalStage) {
  ExpectError(
      P::Begin("a").Optional().NotNext("b").FollowedBy("c"),
      "stage 'b': a NOT stage cannot follow the optional stage 'a' (not "
      "supported, as in FlinkCEP: use two patterns, one with and one without "
      "the optional stage)");
}

TEST(CompilerTest, RejectsUntilOnNonLoopingStage) {
  ExpectError(P::Begin("a").Times(2).Until(NameIs("x")),
              "stage 'a': Until applies only to looping stages (OneOrMore, "
              "TimesOrMore)");
  ExpectError(P::Begin("a").Until(NameIs("x")),
              "stage 'a': Until applies only to looping stages (OneOrMore, "
              "TimesOrMore)");
}

TEST(CompilerTest, RejectsSecondUntil) {
  ExpectError(P::Begin("a").OneOrMore().Until(NameIs("x")).Until(NameIs("y")),
              "stage 'a': only one Until condition can be applied");
}

TEST(CompilerTest, RejectsTrailingNotFollowedByWithoutWindow) {
  ExpectError(P::Begin("a").NotFollowedBy("b"),
              "stage 'b': NotFollowedBy at the end of a pattern needs Within: "
              "the match is released when the window passes");
}

TEST(CompilerTest, AcceptsTrailingNotFollowedByWithWindow) {
  EXPECT_THAT(
      CompilePattern(P::Begin("a").NotFollowedBy("b").Within(milliseconds(5)))
          .status(),
      IsOk());
}

TEST(CompilerTest, RejectsUnknownSkipStage) {
  ExpectError(P::Begin("a", AfterMatchSkip::SkipToFirst("zz")).Next("b"),
              "after match skip: stage 'zz' is not in the pattern");
  ExpectError(P::Begin("a", AfterMatchSkip::SkipToLast("zz")).Next("b"),
              "after match skip: stage 'zz' is not in the pattern");
}

TEST(CompilerTest, AcceptsSkipStageInsideGroup) {
  // A deliberate difference: FlinkCEP only looks at top-level stages, but
  // matches name inner stages, so skipping to one is well defined.
  EXPECT_THAT(CompilePattern(P::Begin("a", AfterMatchSkip::SkipToFirst("c"))
                                 .Next(P::Begin("b").Next("c")))
                  .status(),
              IsOk());
}

TEST(CompilerTest, RejectsGreedyOnGroup) {
  ExpectError(P::Begin("a").Next(P::Begin("b").Next("c")).OneOrMore().Greedy(),
              "stage '(b c)': Greedy does not apply to a group");
}

TEST(CompilerTest, RejectsGreedyOnSingleStage) {
  ExpectError(
      P::Begin("a").Greedy(),
      "stage 'a': Greedy needs a quantifier (OneOrMore, Times, TimesOrMore)");
}

TEST(CompilerTest, RejectsGreedyAfterAllowCombinations) {
  ExpectError(P::Begin("a").OneOrMore().AllowCombinations().Greedy(),
              "stage 'a': Greedy cannot follow AllowCombinations (call Greedy "
              "first)");
}

// FlinkCEP accepts oneOrMore().greedy().allowCombinations() (#13).
TEST(CompilerTest, AcceptsGreedyThenAllowCombinations) {
  EXPECT_TRUE(
      CompilePattern(P::Begin("a").OneOrMore().Greedy().AllowCombinations())
          .ok());
}

TEST(CompilerTest, RejectsOptionalAfterGreedy) {
  ExpectError(P::Begin("a").OneOrMore().Greedy().FollowedBy("b").Optional(),
              "stage 'b': an Optional stage cannot follow a Greedy stage");
}

TEST(CompilerTest, RejectsSecondQuantifier) {
  ExpectError(P::Begin("a").OneOrMore().Times(2),
              "stage 'a': Times: a quantifier is already applied");
}

TEST(CompilerTest, RejectsNonPositiveTimes) {
  ExpectError(P::Begin("a").Times(0),
              "stage 'a': Times needs a count greater than 0");
  ExpectError(P::Begin("a").Times(3, 2),
              "stage 'a': Times(3, 2) needs 0 <= from <= to and to > 0");
}

TEST(CompilerTest, RejectsSecondOptional) {
  ExpectError(P::Begin("a").Optional().Optional(),
              "stage 'a': Optional is already applied");
}

TEST(CompilerTest, RejectsConsecutiveAndCombinationsMisuse) {
  ExpectError(P::Begin("a").Consecutive(),
              "stage 'a': Consecutive needs a quantifier (OneOrMore, Times, "
              "TimesOrMore)");
  ExpectError(P::Begin("a").AllowCombinations(),
              "stage 'a': AllowCombinations needs a quantifier (OneOrMore, "
              "Times, TimesOrMore)");
  ExpectError(P::Begin("a").OneOrMore().Consecutive().Consecutive(),
              "stage 'a': Consecutive is already applied");
  ExpectError(P::Begin("a").OneOrMore().AllowCombinations().AllowCombinations(),
              "stage 'a': AllowCombinations is already applied");
  ExpectError(P::Begin("a").OneOrMore().Consecutive().AllowCombinations(),
              "stage 'a': apply either Consecutive or AllowCombinations, not "
              "both");
}

TEST(CompilerTest, RejectsConditionOnGroup) {
  ExpectError(P::Begin("a").Next(P::Begin("b")).Where(NameIs("x")),
              "stage '(b)': Where does not apply to a group; put conditions on "
              "its stages");
}

TEST(CompilerTest, RejectsStageWindowLargerThanPatternWindow) {
  ExpectError(
      P::Begin("a")
          .FollowedBy("b")
          .Within(milliseconds(10), WithinType::kPreviousAndCurrent)
          .FollowedBy("c")
          .Within(milliseconds(5)),
      "stage 'b': its window (10ms) exceeds the pattern's window (5ms)");
}

TEST(CompilerTest, RejectsStageWindowOnQuantifiedStage) {
  ExpectError(P::Begin("a").FollowedBy("b").OneOrMore().Within(
                  milliseconds(10), WithinType::kPreviousAndCurrent),
              "stage 'b': a window between events (kPreviousAndCurrent) "
              "applies only to single-event stages");
}

TEST(CompilerTest, RejectsNonPositiveWindow) {
  ExpectError(P::Begin("a").Within(milliseconds(0)),
              "stage 'a': Within needs a positive duration");
}

TEST(CompilerTest, RejectsAggregateOfUnknownStage) {
  P p = P::Begin("a").OneOrMore();
  p.Aggregate("nope", [](const Ev& e) { return e.price; });
  ExpectError(p, "aggregate #1: stage 'nope' is not in the pattern");
}

TEST(CompilerTest, RejectsGroupWithAggregatesAfterOtherAggregates) {
  P group = P::Begin("b").OneOrMore();
  group.Aggregate("b", [](const Ev& e) { return e.price; });
  P p = P::Begin("a");
  p.Aggregate("a", [](const Ev& e) { return e.price; });
  p.FollowedBy(group);
  ExpectError(p,
              "stage '(b)': a group with aggregates must be added before any "
              "other Aggregate() of the pattern");
}

TEST(CompilerTest, GroupAggregateIdsStayValid) {
  P group = P::Begin("b").OneOrMore();
  AggregateId in_group =
      group.Aggregate("b", [](const Ev& e) { return e.price; });
  P p = P::Begin("a").FollowedBy(group);
  AggregateId outer = p.Aggregate("a", [](const Ev& e) { return e.price; });
  EXPECT_EQ(in_group.index, 0u);
  EXPECT_EQ(outer.index, 1u);
  ASSERT_THAT(CompilePattern(p).status(), IsOk());
}

TEST(CompilerTest, RejectsGroupEndingWithNotFollowedBy) {
  ExpectError(P::Begin("a").Next(P::Begin("b").NotFollowedBy("c")).Next("d"),
              "stage 'c': a group cannot end with NotFollowedBy (nothing "
              "follows it inside the group)");
}

TEST(CompilerTest, RejectsLoopingGroupOfOptionalStages) {
  ExpectError(
      P::Begin("a")
          .Next(P::Begin("b").Optional().Next("c").Optional())
          .OneOrMore(),
      "stage '(b c)': a looping group needs a stage that is not optional (it "
      "could repeat without taking an event)");
}

TEST(CompilerTest, RejectsEmptyStageName) {
  ExpectError(P::Begin(""), "Begin: a stage needs a non-empty name");
}

TEST(CompilerTest, BuildsFollowedByAutomaton) {
  auto nfa = CompilePattern(P::Begin("a").FollowedBy("b"));
  ASSERT_THAT(nfa.status(), IsOk());
  EXPECT_EQ(nfa->ToString(),
            "state $end$ (final)\n"
            "state b\n"
            "  TAKE -> $end$ if true\n"
            "  IGNORE -> b if not(true)\n"
            "state a (start)\n"
            "  TAKE -> b if true\n");
}

TEST(CompilerTest, BuildsOptionalStageWithIgnoreState) {
  auto nfa = CompilePattern(P::Begin("a")
                                .Where(NameIs("a"))
                                .FollowedBy("b")
                                .Where(NameIs("b"))
                                .Optional()
                                .FollowedBy("c")
                                .Where(NameIs("c")));
  ASSERT_THAT(nfa.status(), IsOk());
  EXPECT_EQ(nfa->ToString(),
            "state $end$ (final)\n"
            "state c\n"
            "  TAKE -> $end$ if condition #1 of stage 'c'\n"
            "  IGNORE -> c if not(condition #1 of stage 'c')\n"
            "state b\n"
            "  TAKE -> c if condition #1 of stage 'b'\n"
            "  PROCEED -> c if true\n"
            "  IGNORE -> b:0 if not(condition #1 of stage 'b')\n"
            "state b:0\n"
            "  TAKE -> c if condition #1 of stage 'b'\n"
            "  IGNORE -> b:0 if not(condition #1 of stage 'b')\n"
            "state a (start)\n"
            "  TAKE -> b if condition #1 of stage 'a'\n");
}

TEST(CompilerTest, BuildsPendingStateForTrailingNotFollowedBy) {
  auto nfa = CompilePattern(P::Begin("a")
                                .NotFollowedBy("b")
                                .Where(NameIs("b"))
                                .Within(milliseconds(5)));
  ASSERT_THAT(nfa.status(), IsOk());
  EXPECT_EQ(nfa->ToString(),
            "window 5ms\n"
            "state $end$ (final)\n"
            "state b (pending)\n"
            "  PROCEED -> b:0 if condition #1 of stage 'b'\n"
            "  IGNORE -> b if not(condition #1 of stage 'b')\n"
            "state b:0 (stop)\n"
            "  TAKE -> b:0 if condition #1 of stage 'b'\n"
            "state a (start)\n"
            "  TAKE -> b if true\n");
}

TEST(CompilerTest, GlobalWindowIsSmallestStageWindow) {
  auto nfa = CompilePattern(P::Begin("a")
                                .Within(milliseconds(20))
                                .FollowedBy("b")
                                .Within(milliseconds(7)));
  ASSERT_THAT(nfa.status(), IsOk());
  EXPECT_EQ(nfa->window(), milliseconds(7));
}

TEST(CompilerTest, StageNamesAreLeafStagesInPatternOrder) {
  auto nfa = CompilePattern(
      P::Begin("a").FollowedBy(P::Begin("b").Next("c")).OneOrMore().Next("d"));
  ASSERT_THAT(nfa.status(), IsOk());
  EXPECT_THAT(nfa->stage_names(), ::testing::ElementsAre("a", "b", "c", "d"));
}

struct Buy {
  int qty;
};
struct Sell {
  int qty;
};
using Trade = std::variant<Buy, Sell>;

TEST(CompilerTest, SubtypeTestsVariantAlternative) {
  auto p = Pattern<Trade>::Begin("buy")
               .Subtype<Buy>()
               .FollowedBy("sell")
               .Subtype<Sell>();
  auto nfa = CompilePattern(p);
  ASSERT_THAT(nfa.status(), IsOk());
  EXPECT_TRUE(Pattern<Trade>::IsA<Buy>(Trade(Buy{1})));
  EXPECT_FALSE(Pattern<Trade>::IsA<Buy>(Trade(Sell{1})));
}

// #13 item 9: a count of n builds O(n) states in O(n) time (unique state
// names used to cost O(n) each).
TEST(CompilerTest, CompilesTheLargestCount) {
  auto nfa = CompilePattern(P::Begin("a").Times(cep::kMaxQuantifierCount));
  ASSERT_THAT(nfa.status(), IsOk());
  EXPECT_EQ(nfa->states().size(),
            static_cast<size_t>(cep::kMaxQuantifierCount) + 1);
  EXPECT_EQ(nfa->states().back().name, "a:9998");
}

TEST(CompilerTest, RejectsCountsAboveTheLimit) {
  ExpectError(P::Begin("a").Times(10001),
              "stage 'a': Times: the count 10001 is larger than the limit of "
              "10000");
  ExpectError(P::Begin("a").Times(1, 2147483647),
              "stage 'a': Times: the count 2147483647 is larger than the limit "
              "of 10000");
  ExpectError(P::Begin("a").TimesOrMore(20000),
              "stage 'a': TimesOrMore: the count 20000 is larger than the "
              "limit of 10000");
}

// Group quantifiers multiply the states of their stages.
TEST(CompilerTest, RejectsPatternsWithTooManyStates) {
  P inner = P::Begin("x").Times(1000).FollowedBy("y");
  ExpectError(P::Begin("a").FollowedBy(inner).Times(1000),
              "the pattern needs more than 200000 automaton states, the limit "
              "(a quantifier's count multiplies the states of its stage or "
              "group)");
}

// Each repetition of an optional ranged stage after a NOT stage copies the
// optional stages that follow it (without the NOT's stop edges): the
// estimate misses those copies, the states built are counted.
TEST(CompilerTest, RejectsPatternsWhoseCopiesMakeTooManyStates) {
  P p = P::Begin("a").NotFollowedBy("n").FollowedBy("b").Times(1, 2000);
  p.Optional();
  for (int i = 0; i < 200; ++i) {
    p.FollowedBy(absl::StrCat("c", i)).Optional();
  }
  p.FollowedBy("z");
  ExpectError(p,
              "the pattern needs more than 200000 automaton states, the limit "
              "(a quantifier's count multiplies the states of its stage or "
              "group)");
}

}  // namespace
}  // namespace cep
