// Iterative conditions (conditions that see the partial match through a
// Context), ported from FlinkCEP's IterativeConditionsITCase, plus tests of
// our incremental aggregates (Pattern::Aggregate + ctx.Aggregate(id)), which
// must always equal what rescanning ctx.EventsFor(stage) gives.
//
// Flink's tests use SubEvent (an Event subclass) for the middle events and
// subtype(SubEvent.class); our Ev is not polymorphic, so the ported tests mark
// sub-events with a non-zero volume and test that instead.

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "testing/nfa_harness.hpp"

namespace {

using cep::AggregateId;
using cep::AggregateValue;
using cep::testing::E;
using cep::testing::Ev;
using cep::testing::Harness;
using cep::testing::NameIs;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

using P = cep::Pattern<Ev>;
using Ctx = cep::Context<Ev>;

// A SubEvent of Flink's tests: an event with a volume.
Ev Sub(std::string label, std::string name, double price, int64_t ts,
       double volume) {
  Ev e = E(std::move(label), std::move(name), price, ts);
  e.volume = volume;
  return e;
}

bool IsSubEvent(const Ev& e) { return e.volume > 0; }

bool StartsWithFoo(const Ev& e) { return e.name.rfind("foo", 0) == 0; }

double SumOfPrices(std::span<const Ev* const> events) {
  double sum = 0;
  for (const Ev* e : events) sum += e->price;
  return sum;
}

// Flink's test events.
Ev S1(int64_t ts) { return E("s1", "start", 1.0, ts); }
Ev S2(int64_t ts) { return E("s2", "start", 2.0, ts); }
Ev S3(int64_t ts) { return E("s3", "start", 3.0, ts); }
Ev S4(int64_t ts) { return E("s4", "start", 4.0, ts); }
Ev M1(int64_t ts) { return Sub("m1", "foo1", 1.0, ts, 10); }
Ev M2(int64_t ts) { return Sub("m2", "foo2", 2.0, ts, 10); }
Ev M3(int64_t ts) { return Sub("m3", "foo3", 3.0, ts, 10); }
Ev M4(int64_t ts) { return Sub("m4", "foo4", 1.0, ts, 10); }
Ev NextOne(int64_t ts) { return E("next", "next-one", 1.0, ts); }
Ev End(int64_t ts) { return E("end", "end", 1.0, ts); }

// ---------------------------------------------------------------------------
// Ports of IterativeConditionsITCase (conditions rescan ctx.EventsFor).
// ---------------------------------------------------------------------------

// "middle": a foo sub-event whose price keeps the middle sum below 5.
bool MiddleSumBelowFive(const Ev& e, const Ctx& ctx) {
  if (!StartsWithFoo(e)) return false;
  return SumOfPrices(ctx.EventsFor("middle")) + e.price < 5.0;
}

std::vector<Ev> BranchingInput() {
  return {S1(1), M1(2), M2(3), S2(4), M3(5), M4(5), NextOne(6), End(8)};
}

P BranchingPattern(bool eager) {
  P p = P::Begin("start").Where(NameIs("start"));
  p.FollowedBy("middle")
      .Where(IsSubEvent)
      .Where(MiddleSumBelowFive)
      .OneOrMore();
  if (!eager) p.AllowCombinations();
  p.FollowedBy("end").Where(NameIs("end"));
  return p;
}

// Mirrors IterativeConditionsITCase#testIterativeWithBranchingPatternEager.
TEST(IterativeConditionTest, IterativeWithBranchingPatternEager) {
  Harness<Ev> h(BranchingPattern(/*eager=*/true));
  EXPECT_THAT(h.FeedAll(BranchingInput()),
              UnorderedElementsAre("start=[s1] middle=[m1 m2 m4] end=[end]",
                                   "start=[s1] middle=[m1 m2] end=[end]",
                                   "start=[s1] middle=[m1] end=[end]",
                                   "start=[s2] middle=[m3 m4] end=[end]",
                                   "start=[s2] middle=[m3] end=[end]"));
}

// Mirrors
// IterativeConditionsITCase#testIterativeWithBranchingPatternCombinations.
TEST(IterativeConditionTest, IterativeWithBranchingPatternCombinations) {
  Harness<Ev> h(BranchingPattern(/*eager=*/false));
  EXPECT_THAT(h.FeedAll(BranchingInput()),
              UnorderedElementsAre("start=[s1] middle=[m1 m2 m4] end=[end]",
                                   "start=[s1] middle=[m1 m2] end=[end]",
                                   "start=[s1] middle=[m1 m3] end=[end]",
                                   "start=[s2] middle=[m3 m4] end=[end]",
                                   "start=[s1] middle=[m1 m4] end=[end]",
                                   "start=[s1] middle=[m1] end=[end]",
                                   "start=[s2] middle=[m3] end=[end]"));
}

// "start": a start event whose price keeps the start sum below 5.
bool StartSumBelowFive(const Ev& e, const Ctx& ctx) {
  if (e.name != "start") return false;
  return SumOfPrices(ctx.EventsFor("start")) + e.price < 5.0;
}

P LoopingStartPattern(bool eager) {
  P p = P::Begin("start").Where(StartSumBelowFive).OneOrMore();
  if (!eager) p.AllowCombinations();
  p.Optional().FollowedBy("end").Where(NameIs("end"));
  return p;
}

// Mirrors IterativeConditionsITCase#testIterativeWithLoopingStartingEager.
TEST(IterativeConditionTest, IterativeWithLoopingStartingEager) {
  Harness<Ev> h(LoopingStartPattern(/*eager=*/true));
  EXPECT_THAT(h.FeedAll({S1(1), S2(2), S3(3), End(4)}),
              UnorderedElementsAre(
                  "start=[s1 s2] end=[end]", "start=[s1] end=[end]",
                  "start=[s2] end=[end]", "start=[s3] end=[end]", "end=[end]"));
}

// Mirrors
// IterativeConditionsITCase#testIterativeWithLoopingStartingCombination.
TEST(IterativeConditionTest, IterativeWithLoopingStartingCombination) {
  Harness<Ev> h(LoopingStartPattern(/*eager=*/false));
  EXPECT_THAT(
      h.FeedAll({S1(1), S2(2), S3(3), End(4)}),
      UnorderedElementsAre("start=[s1 s2] end=[end]", "start=[s1 s3] end=[end]",
                           "start=[s1] end=[end]", "start=[s2] end=[end]",
                           "start=[s3] end=[end]", "end=[end]"));
}

// "end": the end event, once the start events sum to at least 2.
bool EndAfterStartSumAtLeastTwo(const Ev& e, const Ctx& ctx) {
  if (e.name != "end") return false;
  return SumOfPrices(ctx.EventsFor("start")) >= 2.0;
}

// Mirrors IterativeConditionsITCase#testIterativeWithPrevPatternDependency.
TEST(IterativeConditionTest, IterativeWithPrevPatternDependency) {
  P p = P::Begin("start")
            .Where(NameIs("start"))
            .OneOrMore()
            .FollowedBy("end")
            .Where(EndAfterStartSumAtLeastTwo);
  Harness<Ev> h(p);
  EXPECT_THAT(
      h.FeedAll({S1(1), S2(2), End(4)}),
      UnorderedElementsAre("start=[s1 s2] end=[end]", "start=[s2] end=[end]"));
}

// "middle2": start events whose prices sum to at most 5.
bool Middle2SumAtMostFive(const Ev& e, const Ctx& ctx) {
  if (e.name != "start") return false;
  return SumOfPrices(ctx.EventsFor("middle2")) + e.price <= 5.0;
}

std::vector<Ev> AbacInput() {
  return {S1(1), M1(2), S2(2), S3(2), M2(2), S4(2), M3(2), M4(2), End(4)};
}

// Mirrors IterativeConditionsITCase#testIterativeWithABACPattern.
TEST(IterativeConditionTest, IterativeWithAbacPattern) {
  P p = P::Begin("start")
            .Where(NameIs("start"))
            .FollowedByAny("middle1")
            .Where(IsSubEvent)
            .Where(StartsWithFoo)
            .FollowedBy("middle2")
            .Where(Middle2SumAtMostFive)
            .OneOrMore()
            .FollowedBy("end")
            .Where(NameIs("end"));
  Harness<Ev> h(p);
  EXPECT_THAT(
      h.FeedAll(AbacInput()),
      UnorderedElementsAre("start=[s1] middle1=[m1] middle2=[s2 s3] end=[end]",
                           "start=[s1] middle1=[m1] middle2=[s2] end=[end]",
                           "start=[s1] middle1=[m2] middle2=[s4] end=[end]",
                           "start=[s2] middle1=[m2] middle2=[s4] end=[end]",
                           "start=[s3] middle1=[m2] middle2=[s4] end=[end]"));
}

std::vector<Ev> AfterBranchingInput() {
  return {S1(1), S2(2), M1(4), S3(5), M2(6), End(7)};
}

// Mirrors
// IterativeConditionsITCase#testIterativeWithPrevPatternDependencyAfterBranching.
TEST(IterativeConditionTest, IterativeWithPrevPatternDependencyAfterBranching) {
  P p = P::Begin("start")
            .Where(NameIs("start"))
            .OneOrMore()
            .FollowedByAny("middle1")
            .Where(IsSubEvent)
            .Where(StartsWithFoo)
            .FollowedByAny("end")
            .Where(EndAfterStartSumAtLeastTwo);
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(AfterBranchingInput()),
              UnorderedElementsAre("start=[s1 s2] middle1=[m1] end=[end]",
                                   "start=[s2] middle1=[m1] end=[end]",
                                   "start=[s1 s2] middle1=[m2] end=[end]",
                                   "start=[s1 s2 s3] middle1=[m2] end=[end]",
                                   "start=[s2 s3] middle1=[m2] end=[end]",
                                   "start=[s2] middle1=[m2] end=[end]",
                                   "start=[s3] middle1=[m2] end=[end]"));
}

// ---------------------------------------------------------------------------
// Our incremental aggregates. Each condition below decides with
// ctx.Aggregate(id) and also records whether that aggregate equals the one
// rebuilt from ctx.EventsFor(stage); every test asserts the matches Flink's
// rescanning conditions give and that no comparison differed.
// ---------------------------------------------------------------------------

class AggregateAudit {
 public:
  // Compares `got` with the aggregate of `value` over `events`.
  void Check(const AggregateValue& got, std::span<const Ev* const> events,
             const std::function<double(const Ev&)>& value, const Ev& current,
             const std::string& what) {
    AggregateValue want;
    std::string labels;
    for (const Ev* e : events) {
      want.Add(value(*e));
      absl::StrAppend(&labels, labels.empty() ? "" : " ", e->label);
    }
    ++checks_;
    if (!(got == want)) {
      mismatches_.push_back(absl::StrCat(
          what, " testing ", current.label, " over [", labels,
          "]: got count=", got.count, " sum=", got.sum, " min=", got.min,
          " max=", got.max, " first=", got.first, " last=", got.last,
          "; want count=", want.count, " sum=", want.sum, " min=", want.min,
          " max=", want.max, " first=", want.first, " last=", want.last));
    }
  }

  int checks() const { return checks_; }
  const std::vector<std::string>& mismatches() const { return mismatches_; }

 private:
  int checks_ = 0;
  std::vector<std::string> mismatches_;
};

double Price(const Ev& e) { return e.price; }

P AggregateBranchingPattern(bool eager, AggregateAudit& audit) {
  P p = P::Begin("start").Where(NameIs("start"));
  AggregateId sum = p.Aggregate("middle", Price);
  p.FollowedBy("middle")
      .Where(IsSubEvent)
      .Where([sum, &audit](const Ev& e, const Ctx& ctx) {
        const AggregateValue& agg = ctx.Aggregate(sum);
        audit.Check(agg, ctx.EventsFor("middle"), Price, e, "middle");
        return StartsWithFoo(e) && agg.sum + e.price < 5.0;
      })
      .OneOrMore();
  if (!eager) p.AllowCombinations();
  p.FollowedBy("end").Where(NameIs("end"));
  return p;
}

// Not in Flink: testIterativeWithBranchingPatternEager with the middle sum
// read from an aggregate ("previous middle prices + this price < 5").
TEST(IterativeConditionTest, AggregateSumWithBranchingPatternEager) {
  AggregateAudit audit;
  Harness<Ev> h(AggregateBranchingPattern(/*eager=*/true, audit));
  EXPECT_THAT(h.FeedAll(BranchingInput()),
              UnorderedElementsAre("start=[s1] middle=[m1 m2 m4] end=[end]",
                                   "start=[s1] middle=[m1 m2] end=[end]",
                                   "start=[s1] middle=[m1] end=[end]",
                                   "start=[s2] middle=[m3 m4] end=[end]",
                                   "start=[s2] middle=[m3] end=[end]"));
  EXPECT_GT(audit.checks(), 0);
  EXPECT_THAT(audit.mismatches(), IsEmpty());
}

// Not in Flink: the same with AllowCombinations, where every branch must
// carry its own aggregate.
TEST(IterativeConditionTest, AggregateSumWithBranchingPatternCombinations) {
  AggregateAudit audit;
  Harness<Ev> h(AggregateBranchingPattern(/*eager=*/false, audit));
  EXPECT_THAT(h.FeedAll(BranchingInput()),
              UnorderedElementsAre("start=[s1] middle=[m1 m2 m4] end=[end]",
                                   "start=[s1] middle=[m1 m2] end=[end]",
                                   "start=[s1] middle=[m1 m3] end=[end]",
                                   "start=[s2] middle=[m3 m4] end=[end]",
                                   "start=[s1] middle=[m1 m4] end=[end]",
                                   "start=[s1] middle=[m1] end=[end]",
                                   "start=[s2] middle=[m3] end=[end]"));
  EXPECT_GT(audit.checks(), 0);
  EXPECT_THAT(audit.mismatches(), IsEmpty());
}

// Not in Flink: testIterativeWithLoopingStartingCombination with an aggregate
// over the looping first stage, read by that stage's own condition.
TEST(IterativeConditionTest, AggregateOnLoopingFirstStage) {
  AggregateAudit audit;
  P p = P::Begin("start");
  AggregateId sum = p.Aggregate("start", Price);
  p.Where([sum, &audit](const Ev& e, const Ctx& ctx) {
     const AggregateValue& agg = ctx.Aggregate(sum);
     audit.Check(agg, ctx.EventsFor("start"), Price, e, "start");
     return e.name == "start" && agg.sum + e.price < 5.0;
   })
      .OneOrMore()
      .AllowCombinations()
      .Optional()
      .FollowedBy("end")
      .Where(NameIs("end"));
  Harness<Ev> h(p);
  EXPECT_THAT(
      h.FeedAll({S1(1), S2(2), S3(3), End(4)}),
      UnorderedElementsAre("start=[s1 s2] end=[end]", "start=[s1 s3] end=[end]",
                           "start=[s1] end=[end]", "start=[s2] end=[end]",
                           "start=[s3] end=[end]", "end=[end]"));
  EXPECT_GT(audit.checks(), 0);
  EXPECT_THAT(audit.mismatches(), IsEmpty());
}

// Not in Flink: testIterativeWithPrevPatternDependencyAfterBranching with the
// "end" condition reading an aggregate of the earlier "start" stage.
TEST(IterativeConditionTest, AggregateOfEarlierStageAfterBranching) {
  AggregateAudit audit;
  P p = P::Begin("start");
  AggregateId sum = p.Aggregate("start", Price);
  p.Where(NameIs("start"))
      .OneOrMore()
      .FollowedByAny("middle1")
      .Where(IsSubEvent)
      .Where(StartsWithFoo)
      .FollowedByAny("end")
      .Where([sum, &audit](const Ev& e, const Ctx& ctx) {
        const AggregateValue& agg = ctx.Aggregate(sum);
        audit.Check(agg, ctx.EventsFor("start"), Price, e, "end");
        return e.name == "end" && agg.sum >= 2.0;
      });
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll(AfterBranchingInput()),
              UnorderedElementsAre("start=[s1 s2] middle1=[m1] end=[end]",
                                   "start=[s2] middle1=[m1] end=[end]",
                                   "start=[s1 s2] middle1=[m2] end=[end]",
                                   "start=[s1 s2 s3] middle1=[m2] end=[end]",
                                   "start=[s2 s3] middle1=[m2] end=[end]",
                                   "start=[s2] middle1=[m2] end=[end]",
                                   "start=[s3] middle1=[m2] end=[end]"));
  EXPECT_GT(audit.checks(), 0);
  EXPECT_THAT(audit.mismatches(), IsEmpty());
}

// Not in Flink: testIterativeWithABACPattern with the middle2 sum read from
// an aggregate, plus a second aggregate (of volume) on the same stage that
// must stay independent of the first.
TEST(IterativeConditionTest, AggregateInAbacPatternWithTwoAggregates) {
  AggregateAudit audit;
  auto volume = [](const Ev& e) { return e.volume; };
  P p = P::Begin("start");
  AggregateId sum = p.Aggregate("middle2", Price);
  AggregateId vol = p.Aggregate("middle2", volume);
  p.Where(NameIs("start"))
      .FollowedByAny("middle1")
      .Where(IsSubEvent)
      .Where(StartsWithFoo)
      .FollowedBy("middle2")
      .Where([sum, vol, volume, &audit](const Ev& e, const Ctx& ctx) {
        audit.Check(ctx.Aggregate(sum), ctx.EventsFor("middle2"), Price, e,
                    "middle2 price");
        audit.Check(ctx.Aggregate(vol), ctx.EventsFor("middle2"), volume, e,
                    "middle2 volume");
        return e.name == "start" && ctx.Aggregate(sum).sum + e.price <= 5.0;
      })
      .OneOrMore()
      .FollowedBy("end")
      .Where(NameIs("end"));
  Harness<Ev> h(p);
  EXPECT_THAT(
      h.FeedAll(AbacInput()),
      UnorderedElementsAre("start=[s1] middle1=[m1] middle2=[s2 s3] end=[end]",
                           "start=[s1] middle1=[m1] middle2=[s2] end=[end]",
                           "start=[s1] middle1=[m2] middle2=[s4] end=[end]",
                           "start=[s2] middle1=[m2] middle2=[s4] end=[end]",
                           "start=[s3] middle1=[m2] middle2=[s4] end=[end]"));
  EXPECT_GT(audit.checks(), 0);
  EXPECT_THAT(audit.mismatches(), IsEmpty());
}

// Not in Flink: UntilConditionITCase#testIterativeUntilConditionOneOrMore with
// the until condition ("middle prices sum to 6") read from an aggregate.
TEST(IterativeConditionTest, AggregateInUntilCondition) {
  AggregateAudit audit;
  P p = P::Begin("start");
  AggregateId sum = p.Aggregate("middle", Price);
  p.Where(NameIs("c"))
      .FollowedBy("middle")
      .OneOrMore()
      .Until([sum, &audit](const Ev& e, const Ctx& ctx) {
        const AggregateValue& agg = ctx.Aggregate(sum);
        audit.Check(agg, ctx.EventsFor("middle"), Price, e, "until");
        return agg.sum == 6.0;
      });
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({E("c", "c", 1.0, 1), E("a1", "a", 2.0, 3),
                         E("a2", "a", 3.0, 4), E("d", "d", 1.0, 5),
                         E("brk", "a", 5.0, 6), E("ign", "a", 6.0, 7)}),
              UnorderedElementsAre("start=[c] middle=[a1 a2 d]",
                                   "start=[c] middle=[a1 a2]",
                                   "start=[c] middle=[a1]"));
  EXPECT_EQ(h.partial_matches(), 0u);
  EXPECT_GT(audit.checks(), 0);
  EXPECT_THAT(audit.mismatches(), IsEmpty());
}

// Not in Flink: every field of an aggregate. "middle" takes only new maxima
// (empty aggregate, or price > max); "end" needs at least two middle events
// with last - first >= 2, min < 1.5 and avg >= 2.
//   c a1(1) a2(3) a3(2) a4(4) e
// [a1 a2] and [a1 a2 a4] qualify (a3 is no new maximum and is skipped);
// [a1] has a single event.
TEST(IterativeConditionTest, AggregateFieldsMatchRescan) {
  AggregateAudit audit;
  P p = P::Begin("start");
  AggregateId agg_id = p.Aggregate("middle", Price);
  p.Where(NameIs("c"))
      .FollowedBy("middle")
      .Where([agg_id, &audit](const Ev& e, const Ctx& ctx) {
        const AggregateValue& agg = ctx.Aggregate(agg_id);
        audit.Check(agg, ctx.EventsFor("middle"), Price, e, "middle");
        return e.name == "a" && (agg.empty() || e.price > agg.max);
      })
      .OneOrMore()
      .FollowedBy("end")
      .Where([agg_id, &audit](const Ev& e, const Ctx& ctx) {
        const AggregateValue& agg = ctx.Aggregate(agg_id);
        audit.Check(agg, ctx.EventsFor("middle"), Price, e, "end");
        return e.name == "e" && agg.count >= 2 && agg.last - agg.first >= 2 &&
               agg.min < 1.5 && agg.avg() >= 2.0;
      });
  Harness<Ev> h(p);
  EXPECT_THAT(h.FeedAll({E("c", "c", 0.0, 1), E("a1", "a", 1.0, 2),
                         E("a2", "a", 3.0, 3), E("a3", "a", 2.0, 4),
                         E("a4", "a", 4.0, 5), E("e", "e", 0.0, 6)}),
              UnorderedElementsAre("start=[c] middle=[a1 a2] end=[e]",
                                   "start=[c] middle=[a1 a2 a4] end=[e]"));
  EXPECT_GT(audit.checks(), 0);
  EXPECT_THAT(audit.mismatches(), IsEmpty());
}

}  // namespace
