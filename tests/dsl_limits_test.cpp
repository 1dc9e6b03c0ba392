// Pattern files at the edges of what the language allows (#13): long flat
// `or` / `and` chains evaluate and destroy without deep recursion; long
// arithmetic chains and large counts are refused with the limit named, so
// `cep check` refuses what `cep run` could not run; SQL's three-valued logic
// holds for n-ary `and` / `or`.

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "cep/compiler.hpp"
#include "cep/dsl.hpp"
#include "cep/event.hpp"

#include "testing/status_matchers.hpp"

namespace {

using cep::PatternFile;
using cep::Record;
using cep::Value;
using ::cep::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kSchema[] =
    "event E {\n"
    "  name string\n"
    "  n    int\n"
    "}\n";

// `count` terms `name == "x0" op name == "x1" ...`.
std::string Chain(const char* op, const char* compare, int count) {
  std::string out;
  for (int i = 0; i < count; ++i) {
    if (i > 0) absl::StrAppend(&out, " ", op, " ");
    absl::StrAppend(&out, "name ", compare, " \"x", i, "\"");
  }
  return out;
}

absl::StatusOr<PatternFile> Parse(const std::string& condition) {
  return cep::ParsePatternFile(
      absl::StrCat(kSchema, "pattern p on E { begin a where ", condition,
                   " }\n"),
      "t.cep");
}

// Whether the first stage's condition holds for an E with `name`, `n`.
bool Holds(const PatternFile& file, const std::string& name, int64_t n) {
  const auto& cond = file.patterns()[0].pattern.stages()[0].condition;
  Record record(file.schemas()[0].get(), {Value(name), Value(n)});
  return cond->user->simple(record);
}

TEST(DslLimitsTest, HundredThousandOrTermsEvaluateAndDestroy) {
  absl::StatusOr<PatternFile> file = Parse(Chain("or", "==", 100000));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_TRUE(Holds(*file, "x99999", 0));
  EXPECT_TRUE(Holds(*file, "x0", 0));
  EXPECT_FALSE(Holds(*file, "y", 0));
  EXPECT_TRUE(cep::CompilePattern(file->patterns()[0].pattern).ok());
}

TEST(DslLimitsTest, HundredThousandAndTermsEvaluateAndDestroy) {
  absl::StatusOr<PatternFile> file = Parse(Chain("and", "!=", 100000));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_TRUE(Holds(*file, "y", 0));
  EXPECT_FALSE(Holds(*file, "x50000", 0));
}

// SQL's three-valued logic over more than two operands: false (and) or true
// (or) wins over null, null wins over the other value. `n / 0` is null.
TEST(DslLimitsTest, NaryAndOrFollowThreeValuedLogic) {
  struct Case {
    std::string condition;
    bool holds;
  } cases[] = {
      {"n == 1 and n / 0 > 1 and n == 1", false},         // null
      {"not (n == 1 and n / 0 > 1 and n == 1)", false},   // not null
      {"n == 1 and n / 0 > 1 and n == 2", false},         // false
      {"not (n == 1 and n / 0 > 1 and n == 2)", true},    // not false
      {"n == 2 or n / 0 > 1 or n == 1", true},            // true
      {"n == 2 or n / 0 > 1 or n == 3", false},           // null
      {"not (n == 2 or n / 0 > 1 or n == 3)", false},     // not null
      {"n == 2 or n == 3 or n == 4", false},              // false
      {"not (n == 2 or n == 3 or n == 4)", true},         // not false
      {"n == 1 and (n == 2 or n == 1) and n < 5", true},  // mixed levels
      {"true and true and true", true},                   // constant
      {"false or false or not false", true},              // constant
  };
  for (const Case& c : cases) {
    absl::StatusOr<PatternFile> file = Parse(c.condition);
    ASSERT_TRUE(file.ok()) << c.condition << ": " << file.status();
    EXPECT_EQ(Holds(*file, "a", 1), c.holds) << c.condition;
  }
}

TEST(DslLimitsTest, NonBooleanOperandOfLongChainIsNamed) {
  EXPECT_THAT(Parse("n == 1 or n == 2 or n or n == 3").status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("t.cep:5:52: error: 'or' needs a boolean, "
                                 "not an int")));
}

TEST(DslLimitsTest, ArithmeticChainsAreBounded) {
  std::string at_limit = "n";
  for (int i = 0; i < 1000; ++i) at_limit += " + 1";
  absl::StatusOr<PatternFile> file = Parse("n < " + at_limit);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_TRUE(Holds(*file, "a", 5));

  EXPECT_THAT(Parse("n < " + at_limit + " - 1").status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("error: more than 1000 operations in a row; "
                                 "split the expression")));
}

TEST(DslLimitsTest, CountsAreBounded) {
  EXPECT_THAT(
      cep::ParsePatternFile(
          absl::StrCat(kSchema, "pattern p on E { begin a {30000} }\n"),
          "t.cep")
          .status(),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "t.cep:5:26: error: {30000}: a count is larger than the limit "
               "of 10000\n"
               "pattern p on E { begin a {30000} }\n"
               "                         ^"));
  absl::StatusOr<PatternFile> file = cep::ParsePatternFile(
      absl::StrCat(kSchema, "pattern p on E { begin a {10000} }\n"), "t.cep");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_TRUE(cep::CompilePattern(file->patterns()[0].pattern).ok());
}

}  // namespace
