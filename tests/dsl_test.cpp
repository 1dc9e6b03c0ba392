// Tests of pattern files (dsl.hpp): event declarations, lowering of patterns
// into Pattern<Record> (compared with the same pattern built in C++),
// condition evaluation and null logic on hand-made Records, iterative
// references run through a KeyedMatcher, and every semantic error's exact
// three-line text.
#include "cep/dsl.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "cep/compiler.hpp"
#include "cep/event.hpp"
#include "cep/matcher.hpp"
#include "cep/pattern.hpp"
#include "cep/state.hpp"

#include "testing/status_matchers.hpp"

namespace {

using cep::FieldType;
using cep::PatternFile;
using cep::Record;
using cep::Value;
using P = cep::Pattern<Record>;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

PatternFile MustParse(const std::string& text) {
  absl::StatusOr<PatternFile> file = cep::ParsePatternFile(text, "t.cep");
  EXPECT_TRUE(file.ok()) << file.status().message();
  if (!file.ok()) return PatternFile();
  return *std::move(file);
}

std::string ErrorOf(const std::string& text) {
  absl::StatusOr<PatternFile> file = cep::ParsePatternFile(text, "t.cep");
  if (file.ok()) return "OK";
  EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(file.status().message());
}

// The compiled automaton of `p`, or the error.
std::string Nfa(const P& p) {
  absl::StatusOr<cep::Nfa<Record>> nfa = cep::CompilePattern(p);
  return nfa.ok() ? nfa->ToString() : std::string(nfa.status().message());
}

// The first pattern of `text`, compiled.
std::string NfaOf(const std::string& text) {
  PatternFile file = MustParse(text);
  if (file.patterns().empty()) return "no pattern";
  return Nfa(file.patterns().front().pattern);
}

constexpr char kEvent[] = "event E { id string key  n int  x double }\n";

// -- Event declarations ------------------------------------------------------

TEST(DslTest, EventDeclarationBecomesSchema) {
  PatternFile file = MustParse(
      "event Auth {\n"
      "  card string key\n"
      "  amount double\n"
      "  ok bool\n"
      "  n int\n"
      "  ts timestamp time\n"
      "}\n"
      "event Refund { card string key  ts timestamp }\n");
  ASSERT_EQ(file.schemas().size(), 2u);
  const cep::Schema& auth = *file.schemas()[0];
  EXPECT_EQ(auth.name(), "Auth");
  EXPECT_EQ(auth.id(), 0u);
  ASSERT_EQ(auth.fields().size(), 5u);
  EXPECT_EQ(auth.fields()[1].name, "amount");
  EXPECT_EQ(auth.fields()[1].type, FieldType::kDouble);
  EXPECT_EQ(auth.fields()[2].type, FieldType::kBool);
  EXPECT_EQ(auth.fields()[3].type, FieldType::kInt);
  EXPECT_EQ(auth.fields()[4].type, FieldType::kTimestamp);
  EXPECT_EQ(auth.key_field(), std::optional<size_t>(0));
  EXPECT_EQ(auth.time_field(), std::optional<size_t>(4));
  EXPECT_EQ(file.schemas()[1]->id(), 1u);
  EXPECT_EQ(file.schemas()[1]->time_field(), std::nullopt);
  EXPECT_EQ(file.FindSchema("Refund"), file.schemas()[1].get());
}

TEST(DslTest, FieldMayBeCalledKey) {
  PatternFile file = MustParse(
      "event E { key string }\n"
      "pattern p on E key key { begin a where key == \"x\" }");
  ASSERT_EQ(file.patterns().size(), 1u);
  EXPECT_EQ(file.patterns()[0].key_field, "key");
  EXPECT_THAT(file.patterns()[0].key_index, ElementsAre(0));
}

TEST(DslTest, OneEventTypeMayHaveFieldCalledType) {
  PatternFile file = MustParse(
      "event E { type string }\n"
      "pattern p on E { begin a where type == \"x\" }");
  ASSERT_EQ(file.patterns().size(), 1u);
  const auto& cond = *file.patterns()[0].pattern.stages()[0].condition;
  cep::Record r(file.schemas()[0].get(), {Value(std::string("x"))});
  EXPECT_TRUE(cond.user->simple(r));
}

// -- Patterns: header, key, types --------------------------------------------

TEST(DslTest, PatternHeaderAndKey) {
  PatternFile file = MustParse(
      "event Auth { card string key  amount double  ts timestamp time }\n"
      "event Login { user string  card string key }\n"
      "event Other { z int }\n"
      "\n"
      "pattern p on Login, Auth within 10m after match skip to next {\n"
      "  begin a: Login next b: Auth\n"
      "}\n");
  ASSERT_EQ(file.patterns().size(), 1u);
  const cep::FilePattern& p = file.patterns()[0];
  EXPECT_EQ(p.name, "p");
  EXPECT_EQ(p.line, 5u);
  ASSERT_EQ(p.types.size(), 2u);
  EXPECT_EQ(p.types[0]->name(), "Login");
  EXPECT_EQ(p.key_field, "card");
  EXPECT_THAT(p.key_index, ElementsAre(0, 1, -1));
  EXPECT_THAT(p.accepts, ElementsAre(true, true, false));
  EXPECT_EQ(p.pattern.skip().kind(), cep::AfterMatchSkip::Kind::kSkipToNext);
  Record login(file.schemas()[1].get(),
               {Value(std::string("u")), Value(std::string("c9"))});
  EXPECT_EQ(p.KeyOf(login), Value(std::string("c9")));
}

TEST(DslTest, KeyClauseOverridesMarkedKey) {
  PatternFile file = MustParse(
      "event A { card string key  user string }\n"
      "event B { user string  z int }\n"
      "pattern p on A, B key user { begin a }");
  ASSERT_EQ(file.patterns().size(), 1u);
  EXPECT_EQ(file.patterns()[0].key_field, "user");
  EXPECT_THAT(file.patterns()[0].key_index, ElementsAre(1, 0));
}

TEST(DslTest, PatternWithoutKeyHasNullKey) {
  PatternFile file = MustParse(
      "event E { n int }\n"
      "pattern p on E { begin a }");
  ASSERT_EQ(file.patterns().size(), 1u);
  const cep::FilePattern& p = file.patterns()[0];
  EXPECT_EQ(p.key_field, "");
  EXPECT_THAT(p.key_index, ElementsAre(-1));
  Record r(file.schemas()[0].get(), {Value(int64_t{1})});
  EXPECT_EQ(p.KeyOf(r), Value());
}

TEST(DslTest, SkipStrategies) {
  const std::string events = kEvent;
  auto skip_of = [&](const std::string& clause) {
    PatternFile file = MustParse(events + "pattern p on E after match " +
                                 clause + " { begin a next b }");
    return file.patterns().empty() ? cep::AfterMatchSkip::NoSkip()
                                   : file.patterns()[0].pattern.skip();
  };
  using Kind = cep::AfterMatchSkip::Kind;
  EXPECT_EQ(skip_of("no skip").kind(), Kind::kNoSkip);
  EXPECT_EQ(skip_of("skip to next").kind(), Kind::kSkipToNext);
  EXPECT_EQ(skip_of("skip past last event").kind(), Kind::kSkipPastLastEvent);
  EXPECT_EQ(skip_of("skip to first b").kind(), Kind::kSkipToFirst);
  EXPECT_EQ(skip_of("skip to first b").stage(), "b");
  EXPECT_EQ(skip_of("skip to last a").kind(), Kind::kSkipToLast);
}

TEST(DslTest, MaxPartialMatchesClause) {
  const std::string events = kEvent;
  PatternFile file = MustParse(
      events +
      "pattern none on E { begin a }\n"
      "pattern count on E max partial matches 50 { begin a }\n"
      "pattern oldest on E max partial matches 7 drop oldest { begin a }\n"
      "pattern newest on E max partial matches 0 refuse new { begin a }\n");
  ASSERT_EQ(file.patterns().size(), 4u);
  const auto& p = file.patterns();
  EXPECT_EQ(p[0].max_partial_matches, std::nullopt);
  EXPECT_EQ(p[0].overflow_policy, std::nullopt);
  EXPECT_EQ(p[1].max_partial_matches, std::optional<size_t>(50));
  EXPECT_EQ(p[1].overflow_policy, std::nullopt);
  EXPECT_EQ(p[2].max_partial_matches, std::optional<size_t>(7));
  EXPECT_EQ(p[2].overflow_policy, std::optional<cep::OverflowPolicy>(
                                      cep::OverflowPolicy::kDropOldest));
  EXPECT_EQ(p[3].max_partial_matches, std::optional<size_t>(0));
  EXPECT_EQ(p[3].overflow_policy, std::optional<cep::OverflowPolicy>(
                                      cep::OverflowPolicy::kRejectNewStarts));
}

// -- Quantifiers, modifiers, connectors, windows: same NFA as the builder ----

struct MappingCase {
  const char* name;
  const char* stages;
  P (*build)();
};

class DslMappingTest : public ::testing::TestWithParam<MappingCase> {};

TEST_P(DslMappingTest, SameAutomatonAsBuilder) {
  const MappingCase& c = GetParam();
  EXPECT_EQ(NfaOf(std::string(kEvent) + "pattern p on E " + c.stages),
            Nfa(c.build()));
}

const MappingCase kMappingCases[] = {
    {"Times", "{ begin a {3} next b }",
     [] { return P::Begin("a").Times(3).Next("b"); }},
    {"TimesOptional", "{ begin a {3}? followed by b }",
     [] { return P::Begin("a").Times(3).Optional().FollowedBy("b"); }},
    {"Range", "{ begin a {2,4} next b }",
     [] { return P::Begin("a").Times(2, 4).Next("b"); }},
    {"RangeFromZero", "{ begin a {0,4} next b }",
     [] { return P::Begin("a").Times(1, 4).Optional().Next("b"); }},
    {"RangeOptional", "{ begin a {2,3}? next b }",
     [] { return P::Begin("a").Times(2, 3).Optional().Next("b"); }},
    {"AtLeast", "{ begin a {2,} next b }",
     [] { return P::Begin("a").TimesOrMore(2).Next("b"); }},
    {"AtLeastZero", "{ begin a {0,} next b }",
     [] { return P::Begin("a").OneOrMore().Optional().Next("b"); }},
    {"Plus", "{ begin a + next b }",
     [] { return P::Begin("a").OneOrMore().Next("b"); }},
    {"PlusOptional", "{ begin a +? next b }",
     [] { return P::Begin("a").OneOrMore().Optional().Next("b"); }},
    {"Star", "{ begin a * next b }",
     [] { return P::Begin("a").OneOrMore().Optional().Next("b"); }},
    {"Question", "{ begin a next b ? next c }",
     [] { return P::Begin("a").Next("b").Optional().Next("c"); }},
    {"Greedy", "{ begin a {2,} greedy next b }",
     [] { return P::Begin("a").TimesOrMore(2).Greedy().Next("b"); }},
    {"Consecutive", "{ begin a + consecutive next b }",
     [] { return P::Begin("a").OneOrMore().Consecutive().Next("b"); }},
    {"AnyCombination", "{ begin a {2,3} any combination next b }",
     [] { return P::Begin("a").Times(2, 3).AllowCombinations().Next("b"); }},
    {"ConsecutiveGreedy", "{ begin a {3,} consecutive greedy followed by b }",
     [] {
       return P::Begin("a").TimesOrMore(3).Consecutive().Greedy().FollowedBy(
           "b");
     }},
    {"Connectors",
     "within 1h { begin a next b followed by c followed by any d "
     "not next e followed by f not followed by g }",
     [] {
       return P::Begin("a")
           .Next("b")
           .FollowedBy("c")
           .FollowedByAny("d")
           .NotNext("e")
           .FollowedBy("f")
           .NotFollowedBy("g")
           .Within(std::chrono::hours(1));
     }},
    {"StageWithin", "within 10m { begin a followed by b within 30s }",
     [] {
       return P::Begin("a")
           .FollowedBy("b")
           .Within(std::chrono::seconds(30),
                   cep::WithinType::kPreviousAndCurrent)
           .Within(std::chrono::minutes(10));
     }},
    {"Group", "{ begin a followed by (begin b next c) {2} consecutive next d }",
     [] {
       return P::Begin("a")
           .FollowedBy(P::Begin("b").Next("c"))
           .Times(2)
           .Consecutive()
           .Next("d");
     }},
    {"GroupFirst", "{ begin (begin a next b ?) + next c }",
     [] {
       return P::Begin(P::Begin("a").Next("b").Optional())
           .OneOrMore()
           .Next("c");
     }},
};

INSTANTIATE_TEST_SUITE_P(Quantifiers, DslMappingTest,
                         ::testing::ValuesIn(kMappingCases),
                         [](const auto& info) { return info.param.name; });

TEST(DslTest, SkipStrategyMapsToBuilder) {
  EXPECT_EQ(
      NfaOf(std::string(kEvent) + "pattern p on E after match skip to last a "
                                  "{ begin a + next b }"),
      Nfa(P::Begin("a", cep::AfterMatchSkip::SkipToLast("a"))
              .OneOrMore()
              .Next("b")));
}

// -- Conditions ---------------------------------------------------------------

constexpr char kValues[] =
    "event V {\n"
    "  i int\n"
    "  d double\n"
    "  s string\n"
    "  p bool\n"
    "  q bool\n"
    "  ts timestamp\n"
    "  ts2 timestamp\n"
    "  lat double\n"
    "  lon double\n"
    "}\n";

// Evaluates `condition` as the where clause of a one-stage pattern on V.
class ConditionTest : public ::testing::Test {
 protected:
  // i=7 d=2.5 s="card-123" p=true q=false ts=1000 ts2=5401000 (1.5h later),
  // lat/lon: Paris.
  Record Make() {
    std::vector<Value> values = {Value(int64_t{7}),
                                 Value(2.5),
                                 Value(std::string("card-123")),
                                 Value(true),
                                 Value(false),
                                 Value(int64_t{1000}),
                                 Value(int64_t{1000 + 90 * 60 * 1000}),
                                 Value(48.8566),
                                 Value(2.3522)};
    return Record(file_.schemas()[0].get(), std::move(values));
  }

  // Whether `condition` holds for `record` (null counts as false).
  bool Holds(const std::string& condition, const Record& record) {
    file_ = MustParse(std::string(kValues) + "pattern t on V { begin a where " +
                      condition + " }");
    if (file_.patterns().empty()) return false;
    const auto& cond = file_.patterns()[0].pattern.stages()[0].condition;
    EXPECT_NE(cond->user->simple, nullptr) << condition;
    if (cond->user->simple == nullptr) return false;
    Record rebound(file_.schemas()[0].get(), record.values());
    return cond->user->simple(rebound);
  }
  bool Holds(const std::string& condition) {
    file_ = MustParse(std::string(kValues) + "pattern t on V { begin a }");
    return Holds(condition, Make());
  }

  // Three-valued result: "true", "false" or "null", from `c` and `not (c)`.
  std::string Truth(const std::string& condition, const Record& record) {
    const bool yes = Holds(condition, record);
    const bool no = Holds("not (" + condition + ")", record);
    if (yes && !no) return "true";
    if (!yes && no) return "false";
    if (!yes && !no) return "null";
    return "both?";
  }

  // A record with p and q set to true / false / null.
  Record Bools(std::optional<bool> p, std::optional<bool> q) {
    file_ = MustParse(std::string(kValues) + "pattern t on V { begin a }");
    Record base = Make();
    std::vector<Value> values = base.values();
    values[3] = p ? Value(*p) : Value();
    values[4] = q ? Value(*q) : Value();
    return Record(file_.schemas()[0].get(), std::move(values));
  }

  PatternFile file_;
};

TEST_F(ConditionTest, Arithmetic) {
  EXPECT_TRUE(Holds("i + 2 * 3 == 13"));
  EXPECT_TRUE(Holds("(i + 2) * 3 == 27"));
  EXPECT_TRUE(Holds("i / 2 == 3.5"));
  EXPECT_TRUE(Holds("7 / 2 == 3.5"));
  EXPECT_TRUE(Holds("i - 10 == -3"));
  EXPECT_TRUE(Holds("-i + d == -4.5"));
  EXPECT_TRUE(Holds("d * 2 == 5"));
  EXPECT_TRUE(Holds("i > d"));
  EXPECT_TRUE(Holds("abs(d - 10) == 7.5"));
  EXPECT_TRUE(Holds("abs(-3) == 3"));
  EXPECT_TRUE(Holds("1e3 == 1000"));
  EXPECT_FALSE(Holds("i / 0 > 0"));
  EXPECT_FALSE(Holds("not (i / 0 > 0)"));
}

TEST_F(ConditionTest, Durations) {
  EXPECT_TRUE(Holds("(ts2 - ts) / 1h == 1.5"));
  EXPECT_TRUE(Holds("ts2 - ts == 90m"));
  EXPECT_TRUE(Holds("ts + 90m == ts2"));
  EXPECT_TRUE(Holds("ts2 - 1h > ts"));
  EXPECT_TRUE(Holds("30m * 3 == 90m"));
  EXPECT_TRUE(Holds("2 * 45m == 5400s"));
  EXPECT_TRUE(Holds("1d == 24h and 1s == 1000ms"));
  EXPECT_TRUE(Holds("abs(ts - ts2) > 1h"));
  EXPECT_TRUE(Holds("1h * 0.5 == 30m"));
}

TEST_F(ConditionTest, Strings) {
  EXPECT_TRUE(Holds("s == \"card-123\""));
  EXPECT_TRUE(Holds("s != \"card\""));
  EXPECT_TRUE(Holds("s < \"card-2\" and s > \"card-1\""));
  EXPECT_TRUE(Holds("contains(s, \"d-1\")"));
  EXPECT_FALSE(Holds("contains(s, \"x\")"));
  EXPECT_TRUE(Holds("starts_with(s, \"card\")"));
  EXPECT_FALSE(Holds("starts_with(s, \"123\")"));
  EXPECT_TRUE(Holds("ends_with(s, \"123\")"));
  EXPECT_FALSE(Holds("ends_with(s, \"card-1234\")"));
  EXPECT_TRUE(Holds("\"a\\\"b\" == \"a\\\"b\""));
}

TEST_F(ConditionTest, InLists) {
  EXPECT_TRUE(Holds("s in (\"x\", \"card-123\")"));
  EXPECT_FALSE(Holds("s not in (\"x\", \"card-123\")"));
  EXPECT_TRUE(Holds("i in (1, 7, 9)"));
  EXPECT_TRUE(Holds("i not in (1, 2)"));
  EXPECT_TRUE(Holds("d in (1, 2.5)"));
  EXPECT_TRUE(Holds("i in (7.0)"));
  EXPECT_TRUE(Holds("i in (-7, 7)"));
  EXPECT_TRUE(Holds("p in (true)"));
  EXPECT_TRUE(Holds("type in (\"V\")"));
}

TEST_F(ConditionTest, TypeAndBooleans) {
  EXPECT_TRUE(Holds("type == \"V\""));
  EXPECT_TRUE(Holds("p"));
  EXPECT_FALSE(Holds("q"));
  EXPECT_TRUE(Holds("p == true and q != true"));
  EXPECT_TRUE(Holds("not q"));
}

TEST_F(ConditionTest, DistanceParisLondon) {
  // Paris (48.8566, 2.3522) to London (51.5074, -0.1278): 343.556 km.
  EXPECT_TRUE(
      Holds("abs(distance_km(lat, lon, 51.5074, -0.1278) - 343.556) "
            "< 0.001"));
  EXPECT_TRUE(Holds("distance_km(lat, lon, lat, lon) == 0"));
}

TEST_F(ConditionTest, CoalesceAndNullFields) {
  Record r = Bools(std::nullopt, false);
  EXPECT_TRUE(Holds("coalesce(p, true)", r));
  EXPECT_FALSE(Holds("coalesce(q, true)", r));
  EXPECT_EQ(Truth("p == true", r), "null");
  EXPECT_EQ(Truth("p in (true, false)", r), "null");
  EXPECT_TRUE(Holds("coalesce(i, 0.5) == 7"));
}

TEST_F(ConditionTest, ThreeValuedLogic) {
  const std::optional<bool> t = true, f = false, n = std::nullopt;
  // and
  EXPECT_EQ(Truth("p and q", Bools(t, t)), "true");
  EXPECT_EQ(Truth("p and q", Bools(t, f)), "false");
  EXPECT_EQ(Truth("p and q", Bools(t, n)), "null");
  EXPECT_EQ(Truth("p and q", Bools(f, n)), "false");
  EXPECT_EQ(Truth("p and q", Bools(n, f)), "false");
  EXPECT_EQ(Truth("p and q", Bools(n, n)), "null");
  // or
  EXPECT_EQ(Truth("p or q", Bools(f, f)), "false");
  EXPECT_EQ(Truth("p or q", Bools(t, n)), "true");
  EXPECT_EQ(Truth("p or q", Bools(n, t)), "true");
  EXPECT_EQ(Truth("p or q", Bools(f, n)), "null");
  EXPECT_EQ(Truth("p or q", Bools(n, n)), "null");
  // not
  EXPECT_EQ(Truth("not p", Bools(n, t)), "null");
  EXPECT_EQ(Truth("not p", Bools(f, t)), "true");
  // comparisons and arithmetic with null
  EXPECT_EQ(Truth("p == q", Bools(n, t)), "null");
  EXPECT_EQ(Truth("p != q", Bools(t, f)), "true");
}

TEST(DslTest, SimpleAndIterativeConditions) {
  PatternFile file = MustParse(std::string(kEvent) +
                               "pattern p on E {\n"
                               "  begin a where n > 1 and type == \"E\"\n"
                               "  next b + where n > a.n\n"
                               "  next c where count(b) > 2\n"
                               "  next d where x < avg(b.x)\n"
                               "  next e where n > first(b).n\n"
                               "  next f + where n > 1 until n > 5\n"
                               "}");
  ASSERT_EQ(file.patterns().size(), 1u);
  const auto& stages = file.patterns()[0].pattern.stages();
  ASSERT_EQ(stages.size(), 6u);
  EXPECT_NE(stages[0].condition->user->simple, nullptr);
  EXPECT_NE(stages[1].condition->user->iterative, nullptr);
  EXPECT_NE(stages[2].condition->user->iterative, nullptr);
  EXPECT_NE(stages[3].condition->user->iterative, nullptr);
  EXPECT_NE(stages[4].condition->user->iterative, nullptr);
  EXPECT_NE(stages[5].condition->user->simple, nullptr);
}

TEST(DslTest, ConditionDescriptionIsSourceText) {
  PatternFile file = MustParse(
      "event Auth { card string key  amount double  result string }\n"
      "pattern card_testing on Auth within 30m {\n"
      "  begin probe {3,} consecutive greedy where amount <= 2.00 and\n"
      "     /* small */ result ==   \"approved\"\n"
      "  followed by more + where (amount > 1 or result == \"a  b\") until "
      "amount > 3\n"
      "}");
  ASSERT_EQ(file.patterns().size(), 1u);
  const auto& stages = file.patterns()[0].pattern.stages();
  EXPECT_EQ(stages[0].condition->user->description,
            "amount <= 2.00 and result == \"approved\"");
  EXPECT_EQ(stages[1].condition->user->description,
            "(amount > 1 or result == \"a  b\")");
  EXPECT_EQ(stages[1].until->user->description, "amount > 3");
}

TEST(DslTest, TypedStageTestsSchema) {
  PatternFile file = MustParse(
      "event Login { user string key  ok bool }\n"
      "event Buy { user string key  amount double }\n"
      "pattern p on Login, Buy {\n"
      "  begin l: Login where ok\n"
      "  followed by b: Buy where amount > 10\n"
      "}");
  ASSERT_EQ(file.patterns().size(), 1u);
  const cep::FilePattern& p = file.patterns()[0];
  EXPECT_EQ(Nfa(p.pattern),
            "state $end$ (final)\n"
            "state b\n"
            "  TAKE -> $end$ if (type == \"Buy\" and amount > 10)\n"
            "  IGNORE -> b if not((type == \"Buy\" and amount > 10))\n"
            "state l (start)\n"
            "  TAKE -> b if (type == \"Login\" and ok)\n");
  Record login(file.schemas()[0].get(), {Value(std::string("u")), Value(true)});
  Record buy(file.schemas()[1].get(), {Value(std::string("u")), Value(50.0)});
  const auto& cond = p.pattern.stages()[1].condition;
  ASSERT_EQ(cond->op, cep::ConditionExpr<Record>::Op::kAnd);
  EXPECT_TRUE(cond->lhs->user->simple(buy));
  EXPECT_FALSE(cond->lhs->user->simple(login));
  EXPECT_TRUE(cond->rhs->user->simple(buy));
}

// -- Iterative references, run through a matcher ---------------------------

class CollectSink : public cep::KeyedMatchSink<Record, Value> {
 public:
  void OnMatch(const Value& key, cep::Match<Record> match) override {
    (void)key;
    std::string text;
    for (const auto& stage : match.stages) {
      text += stage.stage + ":";
      for (const auto& e : stage.events) {
        text += " " + std::to_string(std::get<int64_t>(e.event[1]));
      }
      text += ";";
    }
    matches.push_back(text);
  }
  std::vector<std::string> matches;
};

// Runs the first pattern of `text` (on event E: id, n, x) over events with
// the given n (x = n / 2.0), one millisecond apart, all with id "k".
std::vector<std::string> RunPattern(const std::string& text,
                                    const std::vector<int64_t>& ns) {
  PatternFile file = MustParse(std::string(kEvent) + text);
  if (file.patterns().empty()) return {"parse error"};
  const cep::FilePattern& p = file.patterns()[0];
  absl::StatusOr<cep::Nfa<Record>> nfa = cep::CompilePattern(p.pattern);
  if (!nfa.ok()) return {std::string(nfa.status().message())};
  cep::InMemoryStateBackend<Record, Value> backend;
  cep::KeyedMatcher<Record, Value> matcher(
      *nfa, [&p](const Record& r) { return p.KeyOf(r); }, backend);
  CollectSink sink;
  int64_t ts = 0;
  for (int64_t n : ns) {
    Record r(file.schemas()[0].get(), {Value(std::string("k")), Value(n),
                                       Value(static_cast<double>(n) / 2.0)});
    absl::Status status = matcher.Process(r, cep::FromMillis(++ts), sink);
    if (!status.ok()) return {std::string(status.message())};
  }
  return sink.matches;
}

TEST(DslTest, RunsPrevReferences) {
  // Strictly increasing run of at least 3, then a drop.
  EXPECT_THAT(
      RunPattern("pattern p on E after match skip past last event {\n"
                 "  begin up {3,} consecutive greedy where n > coalesce("
                 "prev.n, 0)\n"
                 "  next down where n < last(up).n\n"
                 "}",
                 {5, 1, 2, 3, 4, 2}),
      ElementsAre("up: 1 2 3 4;down: 2;"));
}

TEST(DslTest, RunsStageReferencesAndAggregates) {
  EXPECT_THAT(
      RunPattern(
          "pattern p on E after match skip past last event {\n"
          "  begin a where n == 1\n"
          "  followed by b {2,} consecutive greedy where n > a.n and n < 10 "
          "and x > first(a).x\n"
          "  next c where count(b) >= 2 and n > 10 * avg(b.x) and "
          "sum(b.n) == 5 and min(b.x) == 1 and max(b.n) == 3\n"
          "}",
          {1, 2, 3, 30, 1, 2, 3, 4}),
      ElementsAre("a: 1;b: 2 3;c: 30;"));
}

TEST(DslTest, EmptyAggregatesAreNullExceptCountAndSum) {
  EXPECT_THAT(
      RunPattern("pattern p on E {\n"
                 "  begin a where n == 1\n"
                 "  next b * where n == 2\n"
                 "  next c where count(b) == 0 and sum(b.x) == 0 and "
                 "coalesce(avg(b.x), -1) == -1 and coalesce(max(b.x), -1) "
                 "== -1 and coalesce(b.n, -1) == -1\n"
                 "}",
                 {1, 5}),
      ElementsAre("a: 1;c: 5;"));
}

// -- Semantic errors
// ------------------------------------------------------------

struct ErrorCase {
  const char* name;
  const char* text;
  const char* error;
};

class DslErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(DslErrorTest, ExactMessage) {
  EXPECT_EQ(ErrorOf(GetParam().text), GetParam().error);
}

// clang-format off
const ErrorCase kErrorCases[] = {
    // Events.
    {"UnknownFieldType",
     "event E { n float }",
     "t.cep:1:13: error: unknown type 'float'; a field is int, double, string, bool or timestamp\n"
     "event E { n float }\n"
     "            ^"},
    {"DuplicateField",
     "event E { n int  n double }",
     "t.cep:1:18: error: duplicate field 'n'\n"
     "event E { n int  n double }\n"
     "                 ^"},
    {"DuplicateEvent",
     "event E { n int }\nevent E { m int }",
     "t.cep:2:7: error: duplicate event 'E'\n"
     "event E { m int }\n"
     "      ^"},
    {"TwoKeys",
     "event E { a string key  b string key }",
     "t.cep:1:34: error: event E already has a key field, 'a'\n"
     "event E { a string key  b string key }\n"
     "                                 ^"},
    {"KeyTwice",
     "event E { a string key key }",
     "t.cep:1:24: error: 'key' is given twice\n"
     "event E { a string key key }\n"
     "                       ^"},
    {"TwoTimes",
     "event E { a timestamp time  b timestamp time }",
     "t.cep:1:41: error: event E already has a time field, 'a'\n"
     "event E { a timestamp time  b timestamp time }\n"
     "                                        ^"},
    {"TimeNotTimestamp",
     "event E { a int time }",
     "t.cep:1:13: error: the time field must be a timestamp; 'a' is an int\n"
     "event E { a int time }\n"
     "            ^"},
    {"FieldCalledTypeWithSeveralEvents",
     "event A { type string }\nevent B { n int }",
     "t.cep:1:11: error: a file with several event types cannot declare a field called 'type': input lines name their type in it\n"
     "event A { type string }\n"
     "          ^"},
    // Pattern headers.
    {"UnknownPatternType",
     "event E { n int }\npattern p on Ee { begin a }",
     "t.cep:2:14: error: unknown event type 'Ee' (declared: E)\n"
     "pattern p on Ee { begin a }\n"
     "             ^"},
    {"DuplicatePatternType",
     "event E { n int }\npattern p on E, E { begin a }",
     "t.cep:2:17: error: duplicate type 'E'\n"
     "pattern p on E, E { begin a }\n"
     "                ^"},
    {"DuplicatePattern",
     "event E { n int }\npattern p on E { begin a }\npattern p on E { begin a }",
     "t.cep:3:9: error: duplicate pattern 'p'\n"
     "pattern p on E { begin a }\n"
     "        ^"},
    {"ZeroWithin",
     "event E { n int }\npattern p on E within 0s { begin a }",
     "t.cep:2:23: error: 'within' needs a positive duration\n"
     "pattern p on E within 0s { begin a }\n"
     "                      ^"},
    {"KeyClauseFieldMissing",
     "event A { n int }\nevent B { m int }\npattern p on A, B key n { begin a }",
     "t.cep:3:23: error: event B has no field 'n'\n"
     "pattern p on A, B key n { begin a }\n"
     "                      ^"},
    {"KeyClauseTypesDiffer",
     "event A { n int }\nevent B { n string }\npattern p on A, B key n { begin a }",
     "t.cep:3:23: error: key field 'n' is an int in A but a string in B\n"
     "pattern p on A, B key n { begin a }\n"
     "                      ^"},
    {"MarkedKeyMissing",
     "event A { n int key }\nevent B { n int }\npattern p on A, B { begin a }",
     "t.cep:3:9: error: event B has no key field but A has one ('n'); name the key with 'key FIELD'\n"
     "pattern p on A, B { begin a }\n"
     "        ^"},
    {"MarkedKeysDiffer",
     "event A { n int key }\nevent B { m int key }\npattern p on A, B { begin a }",
     "t.cep:3:9: error: the key fields of A ('n') and B ('m') differ\n"
     "pattern p on A, B { begin a }\n"
     "        ^"},
    {"UnknownSkipStage",
     "event E { n int }\npattern p on E after match skip to first x { begin a }",
     "t.cep:2:42: error: unknown stage 'x'\n"
     "pattern p on E after match skip to first x { begin a }\n"
     "                                         ^"},
    // Stages.
    {"DuplicateStage",
     "event E { n int }\npattern p on E { begin a next (begin b next a) }",
     "t.cep:2:45: error: duplicate stage 'a'\n"
     "pattern p on E { begin a next (begin b next a) }\n"
     "                                            ^"},
    {"UnknownStageType",
     "event E { n int }\npattern p on E { begin a: F }",
     "t.cep:2:27: error: unknown event type 'F' (declared: E)\n"
     "pattern p on E { begin a: F }\n"
     "                          ^"},
    {"UnknownEventTypeNoEvents",
     "pattern p on E { begin a }",
     "t.cep:1:14: error: unknown event type 'E' (the file declares no events)\n"
     "pattern p on E { begin a }\n"
     "             ^"},
    {"StageTypeNotInPattern",
     "event E { n int }\nevent F { n int }\npattern p on E { begin a: F }",
     "t.cep:3:27: error: event F is not one of this pattern's types (E)\n"
     "pattern p on E { begin a: F }\n"
     "                          ^"},
    {"TimesZero",
     "event E { n int }\npattern p on E { begin a {0} }",
     "t.cep:2:26: error: {0} takes no events; the count must be at least 1\n"
     "pattern p on E { begin a {0} }\n"
     "                         ^"},
    {"RangeReversed",
     "event E { n int }\npattern p on E { begin a {3,2} }",
     "t.cep:2:26: error: {3,2}: the first count is larger than the second\n"
     "pattern p on E { begin a {3,2} }\n"
     "                         ^"},
    {"RangeZero",
     "event E { n int }\npattern p on E { begin a {0,0} }",
     "t.cep:2:26: error: {0,0} takes no events; the second count must be at least 1\n"
     "pattern p on E { begin a {0,0} }\n"
     "                         ^"},
    {"GreedyWithoutQuantifier",
     "event E { n int }\npattern p on E { begin a greedy }",
     "t.cep:2:26: error: 'greedy' needs a quantifier that takes several events\n"
     "pattern p on E { begin a greedy }\n"
     "                         ^"},
    {"ConsecutiveOnOptional",
     "event E { n int }\npattern p on E { begin a ? consecutive }",
     "t.cep:2:28: error: 'consecutive' needs a quantifier that takes several events\n"
     "pattern p on E { begin a ? consecutive }\n"
     "                           ^"},
    {"ModifierTwice",
     "event E { n int }\npattern p on E { begin a + greedy greedy }",
     "t.cep:2:35: error: 'greedy' is given twice\n"
     "pattern p on E { begin a + greedy greedy }\n"
     "                                  ^"},
    {"ConsecutiveAndCombinations",
     "event E { n int }\npattern p on E { begin a + consecutive any combination }",
     "t.cep:2:40: error: 'consecutive' and 'any combination' exclude each other\n"
     "pattern p on E { begin a + consecutive any combination }\n"
     "                                       ^"},
    {"GreedyGroup",
     "event E { n int }\npattern p on E { begin (begin a next b) + greedy }",
     "t.cep:2:43: error: 'greedy' does not apply to a group\n"
     "pattern p on E { begin (begin a next b) + greedy }\n"
     "                                          ^"},
    {"OptionalAfterGreedy",
     "event E { n int }\npattern p on E { begin a + greedy next b ? }",
     "t.cep:2:42: error: an optional stage cannot follow the greedy stage 'a'\n"
     "pattern p on E { begin a + greedy next b ? }\n"
     "                                         ^"},
    {"QuantifiedNotStage",
     "event E { n int }\npattern p on E { begin a not next b + next c }",
     "t.cep:2:37: error: a 'not next' stage takes no quantifier\n"
     "pattern p on E { begin a not next b + next c }\n"
     "                                    ^"},
    {"NotAfterOptional",
     "event E { n int }\npattern p on E { begin a next b ? not next c next d }",
     "t.cep:2:35: error: 'not next' cannot follow the optional stage 'b' (as in FlinkCEP; write two patterns, one with it and one without)\n"
     "pattern p on E { begin a next b ? not next c next d }\n"
     "                                  ^"},
    {"TrailingNotFollowedByWithoutWithin",
     "event E { n int }\npattern p on E { begin a not followed by b }",
     "t.cep:2:26: error: a pattern cannot end with 'not followed by' unless its header has 'within'\n"
     "pattern p on E { begin a not followed by b }\n"
     "                         ^"},
    {"GroupEndsWithNotFollowedBy",
     "event E { n int }\npattern p on E { begin a next (begin b not followed by c) next d }",
     "t.cep:2:40: error: a group cannot end with 'not followed by'\n"
     "pattern p on E { begin a next (begin b not followed by c) next d }\n"
     "                                       ^"},
    {"UntilOnSingleStage",
     "event E { n int }\npattern p on E { begin a {3} until n > 1 }",
     "t.cep:2:36: error: 'until' needs a looping stage (+, * or {n,})\n"
     "pattern p on E { begin a {3} until n > 1 }\n"
     "                                   ^"},
    {"WithinOnLoopingStage",
     "event E { n int }\npattern p on E { begin a next b + within 1m }",
     "t.cep:2:42: error: 'within' on a stage needs a stage that takes one event; bound the whole match with the pattern's 'within'\n"
     "pattern p on E { begin a next b + within 1m }\n"
     "                                         ^"},
    {"StageWithinLongerThanPattern",
     "event E { n int }\npattern p on E within 1m { begin a next b within 2m }",
     "t.cep:2:50: error: this stage's window (2m) is longer than the pattern's (1m)\n"
     "pattern p on E within 1m { begin a next b within 2m }\n"
     "                                                 ^"},
    // Conditions.
    {"UnknownField",
     "event Auth { amount double }\npattern p on Auth { begin probe where amout < 2 }",
     "t.cep:2:39: error: unknown field 'amout' of event Auth; did you mean 'amount'?\n"
     "pattern p on Auth { begin probe where amout < 2 }\n"
     "                                      ^"},
    {"UnknownFieldFarFromEveryField",
     "event Auth { amount double }\npattern p on Auth { begin probe where colour < 2 }",
     "t.cep:2:39: error: unknown field 'colour' of event Auth\n"
     "pattern p on Auth { begin probe where colour < 2 }\n"
     "                                      ^"},
    {"UnknownFieldSuggestsFromEveryType",
     "event A { n int  size int }\nevent B { n int  size int }\npattern p on A, B { begin a where sise < 2 }",
     "t.cep:3:35: error: unknown field 'sise' of events A, B; did you mean 'size'?\n"
     "pattern p on A, B { begin a where sise < 2 }\n"
     "                                  ^"},
    {"UnknownFieldSeveralTypes",
     "event A { n int }\nevent B { n int }\npattern p on A, B { begin a where m < 2 }",
     "t.cep:3:35: error: unknown field 'm' of events A, B\n"
     "pattern p on A, B { begin a where m < 2 }\n"
     "                                  ^"},
    {"FieldNotInEveryType",
     "event A { n int }\nevent B { m int }\npattern p on A, B { begin a where n < 2 }",
     "t.cep:3:35: error: event B has no field 'n'; restrict stage 'a' to one type ('a: A') to read it\n"
     "pattern p on A, B { begin a where n < 2 }\n"
     "                                  ^"},
    {"FieldTypesDiffer",
     "event A { n int }\nevent B { n double }\npattern p on A, B { begin a where n < 2 }",
     "t.cep:3:35: error: field 'n' is an int in A but a double in B\n"
     "pattern p on A, B { begin a where n < 2 }\n"
     "                                  ^"},
    {"CompareStringWithDouble",
     "event E { s string }\npattern p on E { begin a where s == 2.5 }",
     "t.cep:2:34: error: cannot compare a string with a double\n"
     "pattern p on E { begin a where s == 2.5 }\n"
     "                                 ^"},
    {"ChainedComparison",
     "event E { n int }\npattern p on E { begin a where 1 < n < 3 }",
     "t.cep:2:38: error: comparisons do not chain; join them with 'and'\n"
     "pattern p on E { begin a where 1 < n < 3 }\n"
     "                                     ^"},
    {"OrderBooleans",
     "event E { b bool }\npattern p on E { begin a where b < true }",
     "t.cep:2:34: error: cannot order booleans with '<'; they compare with == and !=\n"
     "pattern p on E { begin a where b < true }\n"
     "                                 ^"},
    {"ConditionNotBoolean",
     "event E { x double }\npattern p on E { begin a where x * 2 }",
     "t.cep:2:32: error: condition must be a boolean, not a double\n"
     "pattern p on E { begin a where x * 2 }\n"
     "                               ^"},
    {"AndNeedsBoolean",
     "event E { n int }\npattern p on E { begin a where n > 1 and n }",
     "t.cep:2:42: error: 'and' needs a boolean, not an int\n"
     "pattern p on E { begin a where n > 1 and n }\n"
     "                                         ^"},
    {"NotNeedsBoolean",
     "event E { s string }\npattern p on E { begin a where not s }",
     "t.cep:2:36: error: 'not' needs a boolean, not a string\n"
     "pattern p on E { begin a where not s }\n"
     "                                   ^"},
    {"NegateString",
     "event E { s string }\npattern p on E { begin a where -s == 1 }",
     "t.cep:2:32: error: cannot negate a string\n"
     "pattern p on E { begin a where -s == 1 }\n"
     "                               ^"},
    {"AddStringAndInt",
     "event E { s string }\npattern p on E { begin a where s + 1 == 2 }",
     "t.cep:2:34: error: cannot apply '+' to a string and an int\n"
     "pattern p on E { begin a where s + 1 == 2 }\n"
     "                                 ^"},
    {"DivideDurationByInt",
     "event E { n int }\npattern p on E { begin a where 1h / 2 > 1m }",
     "t.cep:2:35: error: cannot apply '/' to a duration and an int\n"
     "pattern p on E { begin a where 1h / 2 > 1m }\n"
     "                                  ^"},
    {"CompareTimestampWithInt",
     "event E { ts timestamp }\npattern p on E { begin a where ts > 5 }",
     "t.cep:2:35: error: cannot compare a timestamp with an int\n"
     "pattern p on E { begin a where ts > 5 }\n"
     "                                  ^"},
    {"InListNotLiteral",
     "event E { n int  m int }\npattern p on E { begin a where n in (1, m) }",
     "t.cep:2:41: error: 'in' takes a list of literals\n"
     "pattern p on E { begin a where n in (1, m) }\n"
     "                                        ^"},
    {"InListWrongType",
     "event E { s string }\npattern p on E { begin a where s in (\"a\", 2) }",
     "t.cep:2:43: error: cannot compare a string with an int\n"
     "pattern p on E { begin a where s in (\"a\", 2) }\n"
     "                                          ^"},
    {"UnknownTypeName",
     "event E { n int }\npattern p on E { begin a where type == \"F\" }",
     "t.cep:2:40: error: 'F' is not a type of this pattern (E)\n"
     "pattern p on E { begin a where type == \"F\" }\n"
     "                                       ^"},
    {"UnknownFunction",
     "event E { n int }\npattern p on E { begin a where sqrt(n) > 1 }",
     "t.cep:2:32: error: unknown function 'sqrt'\n"
     "pattern p on E { begin a where sqrt(n) > 1 }\n"
     "                               ^"},
    {"WrongArgumentCount",
     "event E { s string }\npattern p on E { begin a where contains(s) }",
     "t.cep:2:32: error: contains takes 2 arguments, not 1\n"
     "pattern p on E { begin a where contains(s) }\n"
     "                               ^"},
    {"StringFunctionOnInt",
     "event E { s string  n int }\npattern p on E { begin a where starts_with(s, n) }",
     "t.cep:2:47: error: starts_with needs strings; argument 2 is an int\n"
     "pattern p on E { begin a where starts_with(s, n) }\n"
     "                                              ^"},
    {"AbsOfString",
     "event E { s string }\npattern p on E { begin a where abs(s) > 1 }",
     "t.cep:2:36: error: abs needs a number or a duration, not a string\n"
     "pattern p on E { begin a where abs(s) > 1 }\n"
     "                                   ^"},
    {"DistanceOfString",
     "event E { s string  x double }\npattern p on E { begin a where distance_km(x, x, s, x) > 1 }",
     "t.cep:2:50: error: distance_km needs numbers; argument 3 is a string\n"
     "pattern p on E { begin a where distance_km(x, x, s, x) > 1 }\n"
     "                                                 ^"},
    {"CoalesceTypesDiffer",
     "event E { s string  x double }\npattern p on E { begin a where coalesce(s, x) == \"a\" }",
     "t.cep:2:44: error: coalesce needs two values of one type, not a string and a double\n"
     "pattern p on E { begin a where coalesce(s, x) == \"a\" }\n"
     "                                           ^"},
    {"SumOfString",
     "event E { merchant string  x double }\npattern p on E { begin a + next b where sum(a.merchant) > 1 }",
     "t.cep:2:47: error: sum needs a numeric field; 'merchant' is a string\n"
     "pattern p on E { begin a + next b where sum(a.merchant) > 1 }\n"
     "                                              ^"},
    {"SumOfStage",
     "event E { x double }\npattern p on E { begin a + next b where sum(a) > 1 }",
     "t.cep:2:45: error: sum takes a field of a stage: sum(STAGE.FIELD)\n"
     "pattern p on E { begin a + next b where sum(a) > 1 }\n"
     "                                            ^"},
    {"CountOfField",
     "event E { x double }\npattern p on E { begin a + next b where count(a.x) > 1 }",
     "t.cep:2:47: error: count takes a stage name: count(STAGE)\n"
     "pattern p on E { begin a + next b where count(a.x) > 1 }\n"
     "                                              ^"},
    {"FirstWithoutField",
     "event E { x double }\npattern p on E { begin a next b where first(a) > 1 }",
     "t.cep:2:39: error: first(a) needs a field: first(a).FIELD\n"
     "pattern p on E { begin a next b where first(a) > 1 }\n"
     "                                      ^"},
    {"UnknownStage",
     "event E { x double }\npattern p on E { begin probe next b where prob.x > 1 }",
     "t.cep:2:43: error: unknown stage 'prob'; did you mean 'probe'?\n"
     "pattern p on E { begin probe next b where prob.x > 1 }\n"
     "                                          ^"},
    {"UnknownStageTwoAsClose",
     "event E { x double }\npattern p on E { begin ab next ac next b where ad.x > 1 }",
     "t.cep:2:48: error: unknown stage 'ad'\n"
     "pattern p on E { begin ab next ac next b where ad.x > 1 }\n"
     "                                               ^"},
    {"LaterStage",
     "event E { x double }\npattern p on E { begin probe where x > cashout.x next cashout }",
     "t.cep:2:40: error: stage 'cashout' comes after 'probe'; a condition can refer only to its own stage and earlier ones\n"
     "pattern p on E { begin probe where x > cashout.x next cashout }\n"
     "                                       ^"},
    {"NotStageReference",
     "event E { x double }\npattern p on E { begin a not next r next c where x > r.x }",
     "t.cep:2:54: error: stage 'r' is a 'not next' stage; it takes no events to refer to\n"
     "pattern p on E { begin a not next r next c where x > r.x }\n"
     "                                                     ^"},
    {"PrevOnSingleStage",
     "event E { x double }\npattern p on E { begin a where x > prev.x }",
     "t.cep:2:36: error: 'prev' needs a stage that takes several events; 'a' takes one\n"
     "pattern p on E { begin a where x > prev.x }\n"
     "                                   ^"},
    {"UnknownFieldOfStage",
     "event E { x double }\npattern p on E { begin a next b where x > a.y }",
     "t.cep:2:45: error: unknown field 'y' of event E\n"
     "pattern p on E { begin a next b where x > a.y }\n"
     "                                            ^"},
    {"MemberOnOtherFunction",
     "event E { x double }\npattern p on E { begin a + next b where count(a).x > 1 }",
     "t.cep:2:50: error: only first(...) and last(...) take a field after them, not count(...)\n"
     "pattern p on E { begin a + next b where count(a).x > 1 }\n"
     "                                                 ^"},
};
// clang-format on

INSTANTIATE_TEST_SUITE_P(Errors, DslErrorTest, ::testing::ValuesIn(kErrorCases),
                         [](const auto& info) { return info.param.name; });

TEST(DslTest, CompilerErrorsPointAtPatternName) {
  // A looping group whose stages are all optional could repeat without
  // taking an event: only the compiler sees it.
  EXPECT_EQ(
      ErrorOf("event E { n int }\n"
              "pattern loop on E { begin a next (begin b ? next c ?) + "
              "next d }"),
      "t.cep:2:9: error: stage '(b c)': a looping group needs a stage that "
      "is not optional (it could repeat without taking an event)\n"
      "pattern loop on E { begin a next (begin b ? next c ?) + next d }\n"
      "        ^");
}

TEST(DslTest, LoadPatternFileReportsMissingFile) {
  EXPECT_THAT(cep::LoadPatternFile("/nonexistent/x.cep"),
              cep::testing::StatusIs(
                  absl::StatusCode::kNotFound,
                  "cannot read '/nonexistent/x.cep': No such file or "
                  "directory"));
}

TEST(DslTest, LoadsEveryFileOfPatternsDirectory) {
  size_t files = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(CEP_SOURCE_DIR "/patterns")) {
    if (entry.path().extension() != ".cep") continue;
    ++files;
    absl::StatusOr<PatternFile> file =
        cep::LoadPatternFile(entry.path().string());
    ASSERT_TRUE(file.ok()) << file.status().message();
    EXPECT_FALSE(file->patterns().empty()) << entry.path();
  }
  EXPECT_GT(files, 0u);
}

TEST(DslTest, LoadsCardTesting) {
  absl::StatusOr<PatternFile> file =
      cep::LoadPatternFile(CEP_SOURCE_DIR "/patterns/card_testing.cep");
  ASSERT_TRUE(file.ok()) << file.status().message();
  ASSERT_EQ(file->patterns().size(), 1u);
  EXPECT_EQ(file->patterns()[0].name, "card_testing");
  EXPECT_EQ(file->patterns()[0].key_field, "card");
}

}  // namespace
