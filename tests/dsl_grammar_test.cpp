// Tests of the .cep grammar (src/dsl/grammar_def.hpp) through Parse()
// (src/dsl/parser.hpp): the tree it builds, printed as S-expressions, the
// positions of its nodes, and the exact text of syntax errors.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <absl/status/status.h>
#include <absl/strings/escaping.h>
#include <absl/strings/str_cat.h>
#include <absl/strings/str_join.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../src/dsl/ast.hpp"
#include "../src/dsl/parser.hpp"
#include "../src/dsl/source.hpp"
#include "testing/status_matchers.hpp"

namespace cep::dsl {
namespace {

using ::cep::testing::IsOk;
using ::cep::testing::StatusIs;

// -- An S-expression printer of the tree --------------------------------------
//
//   literals    2  2.5d  true  "text"  10m
//   FieldRef    amount  probe.amount
//   Call        count(probe)  first(probe).amount
//   Unary       (not x)  (- x)
//   Chain       {a or b or c}        one per precedence level
//   InTest      (in x [1 2])  (not-in x [1 2])

std::string Print(const ast::Expr& expr);

struct ExprPrinter {
  using result_type = std::string;
  std::string operator()(const ast::IntLiteral& lit) const {
    return absl::StrCat(lit.value);
  }
  std::string operator()(const ast::DoubleLiteral& lit) const {
    return absl::StrCat(lit.value, "d");
  }
  std::string operator()(const ast::BoolLiteral& lit) const {
    return lit.value ? "true" : "false";
  }
  std::string operator()(const ast::StringLiteral& lit) const {
    return absl::StrCat("\"", absl::CEscape(lit.value), "\"");
  }
  std::string operator()(const ast::DurationLiteral& lit) const {
    return absl::StrCat(lit.amount, lit.unit);
  }
  std::string operator()(const ast::FieldRef& ref) const {
    return ref.second ? absl::StrCat(ref.first.text, ".", ref.second->text)
                      : ref.first.text;
  }
  std::string operator()(const ast::Call& call) const {
    std::vector<std::string> args;
    for (const ast::Expr& arg : call.args) args.push_back(Print(arg));
    return absl::StrCat(call.function.text, "(", absl::StrJoin(args, " "), ")",
                        call.member ? "." + call.member->text : "");
  }
  std::string operator()(const ast::Unary& unary) const {
    return absl::StrCat("(", unary.op, " ", Print(unary.operand), ")");
  }
  std::string operator()(const ast::Chain& chain) const {
    std::string out = "{" + Print(chain.first);
    for (const ast::Operation& operation : chain.rest) {
      absl::StrAppend(&out, " ", operation.op, " ", Print(operation.operand));
    }
    return out + "}";
  }
  std::string operator()(const ast::InTest& test) const {
    std::vector<std::string> items;
    for (const ast::Expr& item : test.items) items.push_back(Print(item));
    return absl::StrCat("(", test.negated ? "not-in " : "in ",
                        Print(test.value), " [", absl::StrJoin(items, " "),
                        "])");
  }
  template <typename T>
  std::string operator()(const boost::spirit::x3::forward_ast<T>& node) const {
    return (*this)(node.get());
  }
};

std::string Print(const ast::Expr& expr) {
  return boost::apply_visitor(ExprPrinter(), expr.get());
}

std::string Print(const ast::Quantifier& q) {
  return absl::StrCat("q(", q.kind, ",", q.from, ",", q.to, ")",
                      q.optional ? "?" : "");
}

std::string Print(const ast::Stage& stage);

struct TargetPrinter {
  using result_type = std::string;
  std::string operator()(const ast::Name& name) const { return name.text; }
  std::string operator()(
      const boost::spirit::x3::forward_ast<ast::Group>& group) const {
    std::vector<std::string> stages;
    for (const ast::Stage& stage : group.get().stages) {
      stages.push_back(Print(stage));
    }
    return absl::StrCat("(group ", absl::StrJoin(stages, " "), ")");
  }
};

std::string Print(const ast::Stage& stage) {
  std::vector<std::string> parts = {
      stage.connector, boost::apply_visitor(TargetPrinter(), stage.target)};
  if (stage.type) parts.push_back(":" + stage.type->text);
  if (stage.quantifier) parts.push_back(Print(*stage.quantifier));
  for (const ast::Name& modifier : stage.modifiers) {
    parts.push_back("[" + modifier.text + "]");
  }
  if (stage.where) parts.push_back("where " + Print(*stage.where));
  if (stage.until) parts.push_back("until " + Print(*stage.until));
  if (stage.within) {
    parts.push_back(
        absl::StrCat("within ", stage.within->amount, stage.within->unit));
  }
  return "(" + absl::StrJoin(parts, " ") + ")";
}

struct ClausePrinter {
  using result_type = std::string;
  std::string operator()(const ast::KeyClause& clause) const {
    return "[key " + clause.field.text + "]";
  }
  std::string operator()(const ast::WithinClause& clause) const {
    return absl::StrCat("[within ", clause.duration.amount,
                        clause.duration.unit, "]");
  }
  std::string operator()(const ast::SkipClause& clause) const {
    return absl::StrCat("[", clause.strategy,
                        clause.stage ? " " + clause.stage->text : "", "]");
  }
  std::string operator()(const ast::CapClause& clause) const {
    return absl::StrCat("[max partial matches ", clause.limit,
                        clause.policy.empty() ? "" : " " + clause.policy, "]");
  }
};

struct DeclarationPrinter {
  using result_type = std::string;
  std::string operator()(const ast::EventDecl& decl) const {
    std::vector<std::string> parts = {"event", decl.name.text};
    for (const ast::FieldDecl& field : decl.fields) {
      std::vector<std::string> words = {field.name.text, field.type.text};
      for (const ast::Name& marker : field.markers) {
        words.push_back(marker.text);
      }
      parts.push_back("(" + absl::StrJoin(words, " ") + ")");
    }
    return "(" + absl::StrJoin(parts, " ") + ")";
  }
  std::string operator()(const ast::PatternDecl& decl) const {
    std::vector<std::string> types;
    for (const ast::Name& type : decl.types) types.push_back(type.text);
    std::vector<std::string> parts = {"pattern", decl.name.text,
                                      "on " + absl::StrJoin(types, ",")};
    for (const ast::HeaderClause& clause : decl.clauses) {
      parts.push_back(boost::apply_visitor(ClausePrinter(), clause.get()));
    }
    for (const ast::Stage& stage : decl.stages) parts.push_back(Print(stage));
    return "(" + absl::StrJoin(parts, " ") + ")";
  }
};

std::string Print(const ast::File& file) {
  std::vector<std::string> parts;
  for (const ast::Declaration& declaration : file.declarations) {
    parts.push_back(
        boost::apply_visitor(DeclarationPrinter(), declaration.get()));
  }
  return absl::StrJoin(parts, "\n");
}

// -- Helpers ------------------------------------------------------------------

// The whole file printed, or the error text.
std::string ParseAndPrint(std::string text) {
  const Source source("test.cep", std::move(text));
  absl::StatusOr<ParsedFile> parsed = Parse(source);
  if (!parsed.ok()) return std::string(parsed.status().message());
  return Print(parsed->file());
}

// The stages of `pattern p on E { STAGES }`, printed.
std::string Stages(const std::string& stages) {
  return ParseAndPrint(absl::StrCat("pattern p on E {\n", stages, "\n}"));
}

// The where-condition of a single stage, printed.
std::string Condition(const std::string& condition) {
  const Source source(
      "test.cep",
      absl::StrCat("pattern p on E { begin a where ", condition, " }"));
  absl::StatusOr<ParsedFile> parsed = Parse(source);
  if (!parsed.ok()) return std::string(parsed.status().message());
  const auto& pattern =
      boost::get<ast::PatternDecl>(parsed->file().declarations.at(0).get());
  return Print(*pattern.stages.at(0).where);
}

// The error text Parse() gives for `text` (empty if it parses).
std::string ErrorOf(std::string text) {
  const Source source("test.cep", std::move(text));
  absl::StatusOr<ParsedFile> parsed = Parse(source);
  if (parsed.ok()) return "";
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(parsed.status().message());
}

// -- Whole files --------------------------------------------------------------

TEST(DslGrammarTest, ParsesTheSpecExample) {
  EXPECT_EQ(ParseAndPrint(R"(// patterns/card_testing.cep
event Auth {
  card      string     key
  amount    double
  merchant  string
  result    string
  ts        timestamp  time
}

pattern card_testing on Auth
  within 30m
  after match skip past last event {
  begin probe {3,} consecutive greedy where amount <= 2.00 and result == "approved"
  not followed by refund where result == "refund"
  followed by cashout where amount >= 500 and result == "approved"
}
)"),
            "(event Auth (card string key) (amount double) (merchant string) "
            "(result string) (ts timestamp time))\n"
            "(pattern card_testing on Auth [within 30m] [skip past last event] "
            "(begin probe q(at least,3,0) [consecutive] [greedy] "
            "where {{amount <= 2d} and {result == \"approved\"}}) "
            "(not followed by refund where {result == \"refund\"}) "
            "(followed by cashout "
            "where {{amount >= 500} and {result == \"approved\"}}))");
}

TEST(DslGrammarTest, EmptyFileHasNoDeclarations) {
  const Source source("test.cep", "");
  absl::StatusOr<ParsedFile> parsed = Parse(source);
  ASSERT_THAT(parsed, IsOk());
  EXPECT_TRUE(parsed->file().declarations.empty());
}

TEST(DslGrammarTest, FileOfCommentsAndBlanksHasNoDeclarations) {
  const Source source("test.cep", "  // one\n/* two\n three */\n\t\n// end");
  absl::StatusOr<ParsedFile> parsed = Parse(source);
  ASSERT_THAT(parsed, IsOk());
  EXPECT_TRUE(parsed->file().declarations.empty());
}

TEST(DslGrammarTest, CommentsMayStandWhereverBlanksMay) {
  EXPECT_EQ(ParseAndPrint("event/*a*/E/*b*/{/*c*/x/*d*/int/*e*/key// f\n}"
                          "pattern/**/p/**/on/**/E/**/within/**/5m{//g\n"
                          "begin/**/a/**/+/**/where/**/x/**/>/**/1// h\n"
                          "next/**/b}"),
            "(event E (x int key))\n"
            "(pattern p on E [within 5m] (begin a q(+,0,0) where {x > 1}) "
            "(next b))");
}

TEST(DslGrammarTest, SeveralTypesAndTypedStages) {
  EXPECT_EQ(ParseAndPrint("pattern p on Login, Order ,Pay {\n"
                          "  begin l: Login\n"
                          "  followed by o : Order {2} where total > 5\n"
                          "}"),
            "(pattern p on Login,Order,Pay (begin l :Login) "
            "(followed by o :Order q(times,2,2) where {total > 5}))");
}

// -- Event declarations -------------------------------------------------------

TEST(DslGrammarTest, FieldsMaySharePlainLinesAndBeCalledKeyOrTime) {
  EXPECT_EQ(ParseAndPrint("event E { a int key b string key int time "
                          "timestamp time ts timestamp key time }"),
            "(event E (a int key) (b string) (key int) (time timestamp time) "
            "(ts timestamp key time))");
}

TEST(DslGrammarTest, EmptyEventHasNoFields) {
  EXPECT_EQ(ParseAndPrint("event E {}"), "(event E)");
}

// -- Pattern headers ----------------------------------------------------------

TEST(DslGrammarTest, HeaderClausesComeInAnyOrder) {
  EXPECT_EQ(ParseAndPrint("pattern p on E after match no skip key card "
                          "within 1h { begin a }"),
            "(pattern p on E [no skip] [key card] [within 1h] (begin a))");
}

TEST(DslGrammarTest, EveryAfterMatchStrategy) {
  const char* const kStrategies[] = {"no skip", "skip to next",
                                     "skip past last event", "skip to first a",
                                     "skip to last a"};
  std::vector<std::string> printed;
  for (const char* strategy : kStrategies) {
    printed.push_back(ParseAndPrint(
        absl::StrCat("pattern p on E after match ", strategy, " { begin a }")));
  }
  EXPECT_THAT(printed, ::testing::ElementsAre(
                           "(pattern p on E [no skip] (begin a))",
                           "(pattern p on E [skip to next] (begin a))",
                           "(pattern p on E [skip past last event] (begin a))",
                           "(pattern p on E [skip to first a] (begin a))",
                           "(pattern p on E [skip to last a] (begin a))"));
}

TEST(DslGrammarTest, MaxPartialMatchesClause) {
  EXPECT_EQ(ParseAndPrint("pattern p on E max partial matches 100 { begin a }"),
            "(pattern p on E [max partial matches 100] (begin a))");
  EXPECT_EQ(ParseAndPrint("pattern p on E key card max partial matches 5 drop "
                          "oldest within 1h { begin a }"),
            "(pattern p on E [key card] [max partial matches 5 drop oldest] "
            "[within 1h] (begin a))");
  EXPECT_EQ(ParseAndPrint("pattern p on E\n  max  partial\tmatches 0 refuse "
                          "new { begin a }"),
            "(pattern p on E [max partial matches 0 refuse new] (begin a))");
}

TEST(DslGrammarTest, ContextualWordsAreNames) {
  EXPECT_EQ(ParseAndPrint("event on { key int time timestamp first string }\n"
                          "pattern match on on key key {\n"
                          "  begin skip where after > 1 and to == past\n"
                          "  next last where first == no\n"
                          "}"),
            "(event on (key int) (time timestamp) (first string))\n"
            "(pattern match on on [key key] (begin skip where {{after > 1} and "
            "{to == past}}) (next last where {first == no}))");
}

TEST(DslGrammarTest, WordsThatStartWithReservedWordsAreNames) {
  EXPECT_EQ(Condition("android and order or notes in (index, nextx, "
                      "trueish, prevx, byte, anyone, eventual)"),
            "{{android and order} or (in notes [index nextx trueish prevx "
            "byte anyone eventual])}");
}

// -- Stages -------------------------------------------------------------------

TEST(DslGrammarTest, StageNamesMayStartWithReservedWords) {
  EXPECT_EQ(Stages("begin android next order followed by nextstage "
                   "followed by any inside"),
            "(pattern p on E (begin android) (next order) "
            "(followed by nextstage) (followed by any inside))");
}

TEST(DslGrammarTest, EveryConnector) {
  EXPECT_EQ(Stages("begin a next b followed by c followed by any d "
                   "not next e not followed by f"),
            "(pattern p on E (begin a) (next b) (followed by c) "
            "(followed by any d) (not next e) (not followed by f))");
}

TEST(DslGrammarTest, EveryQuantifier) {
  EXPECT_EQ(Stages("begin a {3} next b {2,4} next c {2,} next d + next e * "
                   "next f ?"),
            "(pattern p on E (begin a q(times,3,3)) (next b q(range,2,4)) "
            "(next c q(at least,2,0)) (next d q(+,0,0)) (next e q(*,0,0)) "
            "(next f q(?,0,0)))");
}

TEST(DslGrammarTest, TrailingQuestionMarkMakesAQuantifierOptional) {
  EXPECT_EQ(Stages("begin a{3}? next b{ 2 , 4 }? next c{2,}? next d+? "
                   "next e*?"),
            "(pattern p on E (begin a q(times,3,3)?) (next b q(range,2,4)?) "
            "(next c q(at least,2,0)?) (next d q(+,0,0)?) (next e q(*,0,0)?))");
}

TEST(DslGrammarTest, ModifiersInTheOrderWritten) {
  EXPECT_EQ(Stages("begin a+ any combination greedy consecutive"),
            "(pattern p on E (begin a q(+,0,0) [any combination] [greedy] "
            "[consecutive]))");
}

TEST(DslGrammarTest, StageClausesWhereUntilWithin) {
  EXPECT_EQ(Stages("begin a\n  next b* where x > 1 until y < 2 within 10s\n"
                   "  followed by c within 250ms"),
            "(pattern p on E (begin a) (next b q(*,0,0) where {x > 1} "
            "until {y < 2} within 10s) (followed by c within 250ms))");
}

TEST(DslGrammarTest, GroupsNest) {
  EXPECT_EQ(Stages("begin (begin a next (begin b followed by c){2} "
                   "greedy) + within 1m\n"
                   "followed by d"),
            "(pattern p on E (begin (group (begin a) (next (group (begin b) "
            "(followed by c)) q(times,2,2) [greedy])) q(+,0,0) within 1m) "
            "(followed by d))");
}

// -- Conditions ---------------------------------------------------------------

TEST(DslGrammarTest, PrecedenceOneChainPerLevel) {
  EXPECT_EQ(Condition("a or b and not c == 1 + 2 * -d"),
            "{a or {b and (not {c == {1 + {2 * (- d)}}})}}");
}

TEST(DslGrammarTest, LevelWithoutOperationIsItsOperand) {
  EXPECT_EQ(Condition("flag"), "flag");
  EXPECT_EQ(Condition("(flag)"), "flag");
  EXPECT_EQ(Condition("-x"), "(- x)");
}

TEST(DslGrammarTest, OperationsOfOneLevelShareAChain) {
  EXPECT_EQ(Condition("a or b or c"), "{a or b or c}");
  EXPECT_EQ(Condition("a - b + c * d / e - f > 0"),
            "{{a - b + {c * d / e} - f} > 0}");
}

TEST(DslGrammarTest, ParenthesesGroup) {
  EXPECT_EQ(Condition("(a or b) and not (c and d)"),
            "{{a or b} and (not {c and d})}");
  EXPECT_EQ(Condition("(ts - first(a).ts) / 1h >= 2"),
            "{{{ts - first(a).ts} / 1h} >= 2}");
}

TEST(DslGrammarTest, InAndNotIn) {
  EXPECT_EQ(Condition("m in (\"a\", \"b\") and n not in (1, 2 + 3)"),
            "{(in m [\"a\" \"b\"]) and (not-in n [1 {2 + 3}])}");
  EXPECT_EQ(Condition("not m in (1)"), "(not (in m [1]))");
}

TEST(DslGrammarTest, FieldReferences) {
  EXPECT_EQ(Condition("amount > prev.amount and type == \"Login\" and "
                      "probe.amount > 1"),
            "{{amount > prev.amount} and {type == \"Login\"} and "
            "{probe.amount > 1}}");
}

TEST(DslGrammarTest, Calls) {
  EXPECT_EQ(Condition("count(p) > 2 and first(p).x == last(p).x and "
                      "sum(p.amount) > avg(p.amount) and contains(m, \"x\") "
                      "and distance_km(a, b, c, d) < 5 and now() == f(1).g"),
            "{{count(p) > 2} and {first(p).x == last(p).x} and "
            "{sum(p.amount) > avg(p.amount)} and contains(m \"x\") and "
            "{distance_km(a b c d) < 5} and {now() == f(1).g}}");
}

TEST(DslGrammarTest, NumbersIntegersDoublesAndDurations) {
  EXPECT_EQ(
      Condition("x in (2, 2.0, 2.5, 1e3, 2.5E-3, 0, 9223372036854775807)"),
      "(in x [2 2d 2.5d 1000d 0.0025d 0 9223372036854775807])");
  EXPECT_EQ(Condition("x in (250ms, 10s, 5m, 2h, 1d, 0m)"),
            "(in x [250ms 10s 5m 2h 1d 0m])");
}

TEST(DslGrammarTest, BooleansAndStrings) {
  EXPECT_EQ(Condition("x in (true, false, \"\", \"q\\\"b\\\\s\\nn\\tt\")"),
            "(in x [true false \"\" \"q\\\"b\\\\s\\nn\\tt\"])");
}

// -- Positions ----------------------------------------------------------------

// The offset of the first occurrence of `needle` in `text`.
size_t At(std::string_view text, std::string_view needle, size_t from = 0) {
  return text.find(needle, from);
}

TEST(DslGrammarTest, NodesKnowWhereTheyStart) {
  const std::string text =
      "event E {\n  card string key\n}\n"
      "pattern p on E\n  key card within 5m after match skip to first a {\n"
      "  begin a: E {2,3} greedy where x > 1.5 and f(y).z < \"s\" or not "
      "b.c in (true) within 10s\n"
      "  next b\n}\n";
  const Source source("test.cep", text);
  absl::StatusOr<ParsedFile> parsed = Parse(source);
  ASSERT_THAT(parsed, IsOk());
  const ast::File& file = parsed->file();
  const auto& event = boost::get<ast::EventDecl>(file.declarations[0].get());
  const auto& pattern =
      boost::get<ast::PatternDecl>(file.declarations[1].get());

  EXPECT_EQ(parsed->OffsetOf(event), At(text, "event"));
  EXPECT_EQ(parsed->OffsetOf(event.name), At(text, "E {"));
  EXPECT_EQ(parsed->OffsetOf(event.fields[0]), At(text, "card"));
  EXPECT_EQ(parsed->OffsetOf(event.fields[0].type), At(text, "string"));
  EXPECT_EQ(parsed->OffsetOf(event.fields[0].markers[0]), At(text, "key"));

  EXPECT_EQ(parsed->OffsetOf(pattern), At(text, "pattern"));
  EXPECT_EQ(parsed->OffsetOf(pattern.name), At(text, "p on"));
  EXPECT_EQ(parsed->OffsetOf(pattern.types[0]), At(text, "E\n  key"));
  const auto& key = boost::get<ast::KeyClause>(pattern.clauses[0].get());
  const auto& within = boost::get<ast::WithinClause>(pattern.clauses[1].get());
  const auto& skip = boost::get<ast::SkipClause>(pattern.clauses[2].get());
  EXPECT_EQ(parsed->OffsetOf(key), At(text, "key card"));
  EXPECT_EQ(parsed->OffsetOf(key.field), At(text, "card within"));
  EXPECT_EQ(parsed->OffsetOf(within), At(text, "within 5m"));
  EXPECT_EQ(parsed->OffsetOf(within.duration), At(text, "5m"));
  EXPECT_EQ(parsed->OffsetOf(skip), At(text, "after"));
  EXPECT_EQ(parsed->OffsetOf(*skip.stage), At(text, "a {"));

  const ast::Stage& stage = pattern.stages[0];
  EXPECT_EQ(parsed->OffsetOf(stage), At(text, "begin"));
  EXPECT_EQ(parsed->OffsetOf(boost::get<ast::Name>(stage.target)),
            At(text, "a: E"));
  EXPECT_EQ(parsed->OffsetOf(*stage.type), At(text, "E {2"));
  EXPECT_EQ(parsed->OffsetOf(*stage.quantifier), At(text, "{2,3}"));
  EXPECT_EQ(parsed->OffsetOf(stage.modifiers[0]), At(text, "greedy"));
  EXPECT_EQ(parsed->OffsetOf(*stage.within), At(text, "10s"));
  EXPECT_EQ(parsed->OffsetOf(pattern.stages[1]), At(text, "next"));

  // where {{x > 1.5} and {f(y).z < "s"}} or (not (in b.c [true]))
  const auto& orchain =
      boost::get<boost::spirit::x3::forward_ast<ast::Chain>>(stage.where->get())
          .get();
  EXPECT_EQ(parsed->OffsetOf(orchain), At(text, "x > 1.5"));
  EXPECT_EQ(parsed->OffsetOf(orchain.rest[0]), At(text, "or not"));
  const auto& andchain = boost::get<boost::spirit::x3::forward_ast<ast::Chain>>(
                             orchain.first.get())
                             .get();
  EXPECT_EQ(parsed->OffsetOf(andchain), At(text, "x > 1.5"));
  EXPECT_EQ(parsed->OffsetOf(andchain.rest[0]), At(text, "and f"));
  const auto& greater = boost::get<boost::spirit::x3::forward_ast<ast::Chain>>(
                            andchain.first.get())
                            .get();
  EXPECT_EQ(parsed->OffsetOf(greater), At(text, "x > 1.5"));
  EXPECT_EQ(parsed->OffsetOf(greater.rest[0]), At(text, "> 1.5"));
  const auto& x = boost::get<boost::spirit::x3::forward_ast<ast::FieldRef>>(
                      greater.first.get())
                      .get();
  EXPECT_EQ(parsed->OffsetOf(x), At(text, "x > 1.5"));
  EXPECT_EQ(parsed->OffsetOf(x.first), At(text, "x > 1.5"));
  EXPECT_EQ(parsed->OffsetOf(
                boost::get<ast::DoubleLiteral>(greater.rest[0].operand.get())),
            At(text, "1.5"));
  const auto& less = boost::get<boost::spirit::x3::forward_ast<ast::Chain>>(
                         andchain.rest[0].operand.get())
                         .get();
  const auto& call =
      boost::get<boost::spirit::x3::forward_ast<ast::Call>>(less.first.get())
          .get();
  EXPECT_EQ(parsed->OffsetOf(call), At(text, "f(y)"));
  EXPECT_EQ(parsed->OffsetOf(*call.member), At(text, "z <"));
  EXPECT_EQ(parsed->OffsetOf(
                boost::get<ast::StringLiteral>(less.rest[0].operand.get())),
            At(text, "\"s\""));
  const auto& negation = boost::get<boost::spirit::x3::forward_ast<ast::Unary>>(
                             orchain.rest[0].operand.get())
                             .get();
  EXPECT_EQ(parsed->OffsetOf(negation), At(text, "not b"));
  const auto& in = boost::get<boost::spirit::x3::forward_ast<ast::InTest>>(
                       negation.operand.get())
                       .get();
  EXPECT_EQ(parsed->OffsetOf(in), At(text, "b.c"));
  const auto& ref =
      boost::get<boost::spirit::x3::forward_ast<ast::FieldRef>>(in.value.get())
          .get();
  EXPECT_EQ(parsed->OffsetOf(*ref.second), At(text, "c in"));
  EXPECT_EQ(parsed->OffsetOf(boost::get<ast::BoolLiteral>(in.items[0].get())),
            At(text, "true"));
}

TEST(DslGrammarTest, PositionsSkipCommentsAndCountIntegers) {
  const std::string text =
      "pattern p on E { begin a where /* c */ x == 42 // d\n"
      "  and y == 7 next /* e */ b }";
  const Source source("test.cep", text);
  absl::StatusOr<ParsedFile> parsed = Parse(source);
  ASSERT_THAT(parsed, IsOk());
  const auto& pattern =
      boost::get<ast::PatternDecl>(parsed->file().declarations[0].get());
  const auto& chain = boost::get<boost::spirit::x3::forward_ast<ast::Chain>>(
                          pattern.stages[0].where->get())
                          .get();
  EXPECT_EQ(parsed->OffsetOf(chain), At(text, "x =="));
  EXPECT_EQ(parsed->OffsetOf(chain.rest[0]), At(text, "and"));
  const auto& equals =
      boost::get<boost::spirit::x3::forward_ast<ast::Chain>>(chain.first.get())
          .get();
  EXPECT_EQ(parsed->OffsetOf(
                boost::get<ast::IntLiteral>(equals.rest[0].operand.get())),
            At(text, "42"));
  EXPECT_EQ(parsed->OffsetOf(pattern.stages[1]), At(text, "next"));
  EXPECT_EQ(parsed->OffsetOf(boost::get<ast::Name>(pattern.stages[1].target)),
            At(text, "b }"));
}

// -- Errors -------------------------------------------------------------------

TEST(DslGrammarTest, ErrorMissingDurationAfterWithin) {
  EXPECT_EQ(ErrorOf("pattern p on E\n  within 10 {\n  begin a\n}"),
            "test.cep:2:10: error: expected a duration such as 10m after "
            "'within'\n"
            "  within 10 {\n"
            "         ^");
}

TEST(DslGrammarTest, ErrorDurationWithUnknownUnit) {
  EXPECT_EQ(ErrorOf("pattern p on E { begin a within 5min }"),
            "test.cep:1:33: error: unknown duration unit 'min' in '5min'; "
            "use ms, s, m, h or d\n"
            "pattern p on E { begin a within 5min }\n"
            "                                ^");
}

TEST(DslGrammarTest, ErrorBadMaxPartialMatchesClause) {
  EXPECT_EQ(ErrorOf("pattern p on E max partial matches 10 drop newest {\n"
                    "  begin a\n}"),
            "test.cep:1:44: error: expected 'oldest' after 'drop'\n"
            "pattern p on E max partial matches 10 drop newest {\n"
            "                                           ^");
  EXPECT_EQ(ErrorOf("pattern p on E max partial matches ten { begin a }"),
            "test.cep:1:36: error: expected a count (0: no limit) after 'max "
            "partial matches'\n"
            "pattern p on E max partial matches ten { begin a }\n"
            "                                   ^");
  EXPECT_EQ(ErrorOf("pattern p on E max matches 10 { begin a }"),
            "test.cep:1:20: error: expected 'partial matches' after 'max'\n"
            "pattern p on E max matches 10 { begin a }\n"
            "                   ^");
  EXPECT_EQ(ErrorOf("pattern p on E max partial matches 99999999999999999999 "
                    "{ begin a }"),
            "test.cep:1:36: error: expected a count (0: no limit) after 'max "
            "partial matches'\n"
            "pattern p on E max partial matches 99999999999999999999 "
            "{ begin a }\n"
            "                                   ^");
  EXPECT_EQ(ErrorOf("pattern p on E max partial matches 1 max partial matches "
                    "2 { begin a }"),
            "test.cep:1:38: error: the pattern header has a second 'max "
            "partial matches' clause\n"
            "pattern p on E max partial matches 1 max partial matches 2 "
            "{ begin a }\n"
            "                                     ^");
}

TEST(DslGrammarTest, ErrorMissingConditionAfterWhere) {
  EXPECT_EQ(ErrorOf("pattern p on E {\n  begin a where\n}"),
            "test.cep:3:1: error: expected a condition after 'where'\n"
            "}\n"
            "^");
}

TEST(DslGrammarTest, ErrorMissingBody) {
  EXPECT_EQ(ErrorOf("pattern p on E within 5m\nbegin a"),
            "test.cep:2:1: error: expected '{' to open the pattern body\n"
            "begin a\n"
            "^");
}

TEST(DslGrammarTest, ErrorMissingStageName) {
  EXPECT_EQ(ErrorOf("pattern p on E {\n  begin a\n  followed by\n}"),
            "test.cep:4:1: error: expected a stage name after 'followed by'\n"
            "}\n"
            "^");
}

TEST(DslGrammarTest, ErrorReservedWordAsStageName) {
  EXPECT_EQ(ErrorOf("pattern p on E {\n  begin a\n  next next\n}"),
            "test.cep:3:8: error: 'next' is a reserved word and cannot name "
            "a stage\n"
            "  next next\n"
            "       ^");
}

TEST(DslGrammarTest, ErrorReservedWordAsFieldName) {
  EXPECT_EQ(ErrorOf("event E {\n  in int\n}"),
            "test.cep:2:3: error: 'in' is a reserved word and cannot name a "
            "field\n"
            "  in int\n"
            "  ^");
}

TEST(DslGrammarTest, ErrorReservedWordAsEventName) {
  EXPECT_EQ(ErrorOf("pattern p on any { begin a }"),
            "test.cep:1:14: error: 'any' is a reserved word and cannot name "
            "an event\n"
            "pattern p on any { begin a }\n"
            "             ^");
}

TEST(DslGrammarTest, ErrorReservedWordAsPatternName) {
  EXPECT_EQ(ErrorOf("pattern within on E { begin a }"),
            "test.cep:1:9: error: 'within' is a reserved word and cannot name "
            "a pattern\n"
            "pattern within on E { begin a }\n"
            "        ^");
}

TEST(DslGrammarTest, ErrorMissingFieldType) {
  EXPECT_EQ(ErrorOf("event Auth {\n  card\n}"),
            "test.cep:3:1: error: expected a field type after 'card'\n"
            "}\n"
            "^");
}

TEST(DslGrammarTest, ErrorTextAfterLastDeclaration) {
  EXPECT_EQ(ErrorOf("event E { a int }\nevnt F { }"),
            "test.cep:2:1: error: expected 'event' or 'pattern'\n"
            "evnt F { }\n"
            "^");
}

TEST(DslGrammarTest, ErrorUnterminatedString) {
  EXPECT_EQ(ErrorOf("pattern p on E {\n  begin a where m == \"abc\n}"),
            "test.cep:2:22: error: unterminated string\n"
            "  begin a where m == \"abc\n"
            "                     ^");
}

TEST(DslGrammarTest, ErrorUnknownEscape) {
  EXPECT_EQ(ErrorOf("pattern p on E { begin a where m == \"a\\qb\" }"),
            "test.cep:1:39: error: unknown escape '\\q' in a string (use \\\" "
            "\\\\ \\n or \\t)\n"
            "pattern p on E { begin a where m == \"a\\qb\" }\n"
            "                                      ^");
}

TEST(DslGrammarTest, ErrorUnterminatedComment) {
  EXPECT_EQ(ErrorOf("event E { a int }\n  /* no end\n"),
            "test.cep:2:3: error: unterminated comment (no '*/' closes this "
            "'/*')\n"
            "  /* no end\n"
            "  ^");
}

TEST(DslGrammarTest, ErrorUnterminatedCommentInsideACondition) {
  EXPECT_EQ(ErrorOf("pattern p on E { begin a where x / /* y"),
            "test.cep:1:36: error: unterminated comment (no '*/' closes this "
            "'/*')\n"
            "pattern p on E { begin a where x / /* y\n"
            "                                   ^");
}

TEST(DslGrammarTest, ErrorMissingValueAfterOperator) {
  EXPECT_EQ(ErrorOf("pattern p on E { begin a where x >= }"),
            "test.cep:1:37: error: expected a value after '>='\n"
            "pattern p on E { begin a where x >= }\n"
            "                                    ^");
}

TEST(DslGrammarTest, ErrorMissingConditionAfterAnd) {
  EXPECT_EQ(ErrorOf("pattern p on E { begin a where x and\n  next b }"),
            "test.cep:2:3: error: expected a condition after 'and'\n"
            "  next b }\n"
            "  ^");
}

TEST(DslGrammarTest, ErrorChainedComparison) {
  EXPECT_EQ(ErrorOf("pattern p on E { begin a where 1 < x < 3 }"),
            "test.cep:1:38: error: comparisons do not chain; join them with "
            "'and'\n"
            "pattern p on E { begin a where 1 < x < 3 }\n"
            "                                     ^");
}

TEST(DslGrammarTest, ErrorSingleEquals) {
  EXPECT_EQ(ErrorOf("pattern p on E { begin a where x = 3 }"),
            "test.cep:1:34: error: use '==' to compare values\n"
            "pattern p on E { begin a where x = 3 }\n"
            "                                 ^");
}

TEST(DslGrammarTest, ErrorUnclosedQuantifier) {
  EXPECT_EQ(ErrorOf("pattern p on E { begin a {2,3 where x }"),
            "test.cep:1:31: error: expected '}' to close the quantifier\n"
            "pattern p on E { begin a {2,3 where x }\n"
            "                              ^");
}

TEST(DslGrammarTest, ErrorFirstStageWithoutBegin) {
  EXPECT_EQ(ErrorOf("pattern p on E {\n  next a\n}"),
            "test.cep:2:3: error: expected 'begin' to start the first stage\n"
            "  next a\n"
            "  ^");
}

TEST(DslGrammarTest, ErrorSecondBegin) {
  EXPECT_EQ(ErrorOf("pattern p on E { begin a begin b }"),
            "test.cep:1:26: error: 'begin' starts only the first stage; use "
            "'next' or 'followed by'\n"
            "pattern p on E { begin a begin b }\n"
            "                         ^");
}

TEST(DslGrammarTest, ErrorJunkAfterStage) {
  EXPECT_EQ(ErrorOf("pattern p on E {\n  begin a wher x > 1\n}"),
            "test.cep:2:11: error: expected 'next', 'followed by', 'followed "
            "by any', 'not next', 'not followed by' or '}'\n"
            "  begin a wher x > 1\n"
            "          ^");
}

TEST(DslGrammarTest, ErrorUnknownConnectorAtLineStart) {
  EXPECT_EQ(ErrorOf("pattern p on E {\n  begin a\n  then b\n}"),
            "test.cep:3:3: error: unknown connector 'then'; expected 'next', "
            "'followed by', 'followed by any', 'not next', 'not followed by' "
            "or '}'\n"
            "  then b\n"
            "  ^");
}

TEST(DslGrammarTest, ErrorUnknownConnectorInGroup) {
  EXPECT_EQ(ErrorOf("pattern p on E {\n  begin a\n  next (begin b\n"
                    "    afterwards c)\n}"),
            "test.cep:4:5: error: unknown connector 'afterwards'; expected "
            "'next', 'followed by', 'followed by any', 'not next', 'not "
            "followed by' or ')'\n"
            "    afterwards c)\n"
            "    ^");
}

TEST(DslGrammarTest, ErrorReservedWordAtLineStartIsNoConnector) {
  EXPECT_EQ(ErrorOf("pattern p on E {\n  begin a where x > 1\n  greedy\n}"),
            "test.cep:3:3: error: expected 'next', 'followed by', 'followed "
            "by any', 'not next', 'not followed by' or '}'\n"
            "  greedy\n"
            "  ^");
}

TEST(DslGrammarTest, ErrorDurationWithUnknownUnitInCondition) {
  EXPECT_EQ(ErrorOf("pattern p on E { begin a where x < 30sec }"),
            "test.cep:1:36: error: unknown duration unit 'sec' in '30sec'; "
            "use ms, s, m, h or d\n"
            "pattern p on E { begin a where x < 30sec }\n"
            "                                   ^");
}

TEST(DslGrammarTest, ErrorMissingOn) {
  EXPECT_EQ(ErrorOf("pattern p Auth { begin a }"),
            "test.cep:1:11: error: expected 'on' and an event type after the "
            "pattern name\n"
            "pattern p Auth { begin a }\n"
            "          ^");
}

TEST(DslGrammarTest, ErrorBadSkipStrategy) {
  EXPECT_EQ(ErrorOf("pattern p on E after match skip to past { begin a }"),
            "test.cep:1:36: error: expected 'next', 'first' or 'last' after "
            "'skip to'\n"
            "pattern p on E after match skip to past { begin a }\n"
            "                                   ^");
}

TEST(DslGrammarTest, ErrorDuplicateHeaderClause) {
  EXPECT_EQ(ErrorOf("pattern p on E within 5m key k within 1h { begin a }"),
            "test.cep:1:32: error: the pattern header has a second 'within' "
            "clause\n"
            "pattern p on E within 5m key k within 1h { begin a }\n"
            "                               ^");
}

TEST(DslGrammarTest, ErrorUnclosedCall) {
  EXPECT_EQ(ErrorOf("pattern p on E { begin a where count(a b) > 1 }"),
            "test.cep:1:40: error: expected ',' or ')' in the arguments of "
            "'count'\n"
            "pattern p on E { begin a where count(a b) > 1 }\n"
            "                                       ^");
}

TEST(DslGrammarTest, ErrorUnclosedEvent) {
  EXPECT_EQ(ErrorOf("event E {\n  a int\n  b string,\n}"),
            "test.cep:3:11: error: expected a field or '}' to close the event "
            "body\n"
            "  b string,\n"
            "          ^");
}

TEST(DslGrammarTest, ErrorAnyWithoutCombination) {
  EXPECT_EQ(ErrorOf("pattern p on E { begin a+ any\n}"),
            "test.cep:2:1: error: expected 'combination' after 'any'\n"
            "}\n"
            "^");
}

TEST(DslGrammarTest, ErrorPrevWithoutField) {
  EXPECT_EQ(ErrorOf("pattern p on E { begin a+ where x > prev }"),
            "test.cep:1:42: error: expected '.' and a field name after "
            "'prev'\n"
            "pattern p on E { begin a+ where x > prev }\n"
            "                                         ^");
}

TEST(DslGrammarTest, ErrorNumberTooLarge) {
  EXPECT_EQ(
      ErrorOf("pattern p on E { begin a where x > 99999999999999999999 }"),
      "test.cep:1:36: error: number is too large\n"
      "pattern p on E { begin a where x > 99999999999999999999 }\n"
      "                                   ^");
}

// #13: 1e309 overflows a double; it used to be read as 1 with the unknown
// duration unit 'e309'.
TEST(DslGrammarTest, ErrorDoubleTooLarge) {
  EXPECT_EQ(ErrorOf("pattern p on E { begin a where x > 1e309 }"),
            "test.cep:1:36: error: number is too large for a double\n"
            "pattern p on E { begin a where x > 1e309 }\n"
            "                                   ^");
  EXPECT_EQ(ErrorOf("pattern p on E { begin a where x > 1.5e308 }"), "");
}

// -- Garbage never crashes ----------------------------------------------------

TEST(DslGrammarTest, BinaryBytesAreAnError) {
  const std::string line =
      std::string("\x01\xff\xfe", 3) + std::string(1, '\0') + "\x80 event";
  EXPECT_EQ(
      ErrorOf(line + "\n{"),
      "test.cep:1:1: error: expected 'event' or 'pattern'\n" + line + "\n^");
}

TEST(DslGrammarTest, HighBytesInsideDeclarationsAreErrors) {
  EXPECT_THAT(Parse(Source("test.cep", "event \xc3\xa9 { }")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::StartsWith("test.cep:1:7: error: expected an "
                                             "event name after 'event'")));
  EXPECT_THAT(Parse(Source("test.cep",
                           "pattern p on E { begin a where "
                           "x == \"\xc3\xa9\" and \xff }")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::StartsWith("test.cep:1:46: error: expected a "
                                             "condition after 'and'")));
}

TEST(DslGrammarTest, DeepNestingIsAnErrorNotACrash) {
  const std::string prefix = "pattern p on E { begin a where x == ";
  const std::string deep(10000, '(');
  EXPECT_EQ(ErrorOf(prefix + deep),
            "test.cep:1:70: error: nesting is too deep (more than 32 "
            "levels)\n" +
                prefix + deep + "\n" + std::string(69, ' ') + "^");
  std::string nots;
  for (int level = 0; level < 10000; ++level) nots += "not ";
  EXPECT_THAT(Parse(Source("test.cep",
                           "pattern p on E { begin a where " + nots + "x }")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::HasSubstr("nesting is too deep")));
  EXPECT_THAT(Parse(Source("test.cep", prefix + std::string(10000, '-'))),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::HasSubstr("nesting is too deep")));
  std::string calls;
  for (int level = 0; level < 10000; ++level) calls += "f(";
  EXPECT_THAT(Parse(Source("test.cep", prefix + calls)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::HasSubstr("nesting is too deep")));
  std::string groups;
  for (int level = 0; level < 10000; ++level) groups += "(begin ";
  EXPECT_THAT(Parse(Source("test.cep", "pattern p on E { begin " + groups)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::HasSubstr("nesting is too deep")));
}

TEST(DslGrammarTest, NestingUpToTheLimitParses) {
  EXPECT_EQ(Condition(std::string(32, '(') + "x" + std::string(32, ')')), "x");
}

TEST(DslGrammarTest, EveryPrefixOfAValidFileParsesOrFailsCleanly) {
  const std::string text =
      "event E { a int key t timestamp time }\n"
      "pattern p on E key a within 5m after match skip to first x {\n"
      "  begin x: E {2,}? greedy where a in (1, 2) and \"s\\n\" != m\n"
      "  followed by any (begin y+ until not (a > 1.5e2) next z)\n"
      "  not followed by w within 1h // end\n"
      "}\n";
  for (size_t length = 0; length <= text.size(); ++length) {
    const Source source("test.cep", text.substr(0, length));
    const absl::StatusOr<ParsedFile> parsed = Parse(source);
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument)
          << parsed.status();
    }
  }
  EXPECT_THAT(Parse(Source("test.cep", text)), IsOk());
}

}  // namespace
}  // namespace cep::dsl
