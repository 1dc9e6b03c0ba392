// sql/match_recognize.hpp and sql/to_cep.hpp: SQL MATCH_RECOGNIZE queries
// translated into pattern files (exact text), and the exact errors for what
// cannot be translated. Queries run over events: tests/sql/ (sql_cases_test).

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sql/match_recognize.hpp"
#include "sql/to_cep.hpp"
#include "testing/status_matchers.hpp"

namespace cep::sql {
namespace {

using ::cep::testing::IsOk;
using ::cep::testing::IsOkAndHolds;
using ::cep::testing::StatusIs;

absl::StatusOr<std::string> Import(const std::string& sql) {
  return ImportMatchRecognize(sql,
                              {.source_name = "q.sql", .pattern_name = "q"});
}

// The generated file from its `event` line on (the comment above it repeats
// the query).
absl::StatusOr<std::string> Body(const std::string& sql) {
  absl::StatusOr<std::string> text = Import(sql);
  if (!text.ok()) return text;
  return text->substr(text->find("event "));
}

::testing::Matcher<absl::StatusOr<std::string>> ErrorIs(const std::string& m) {
  return StatusIs(absl::StatusCode::kInvalidArgument, m);
}

constexpr char kHead[] =
    "SELECT * FROM t MATCH_RECOGNIZE (PARTITION BY k ORDER BY ts ";

TEST(SqlImportTest, HeaderNamesTheSourceAndQuotesTheQuery) {
  EXPECT_THAT(
      Import("-- a comment before\nSELECT *\nFROM t\n  MATCH_RECOGNIZE (\n"
             "    ORDER BY ts\n    MEASURES A.ts AS a_ts, LAST(A.ts) AS last\n"
             "    PATTERN (A B) DEFINE B AS v > A.v) AS m;\n"),
      IsOkAndHolds(
          "// Imported from q.sql by `cep import-sql`:\n"
          "//\n"
          "//   SELECT *\n"
          "//   FROM t\n"
          "//     MATCH_RECOGNIZE (\n"
          "//       ORDER BY ts\n"
          "//       MEASURES A.ts AS a_ts, LAST(A.ts) AS last\n"
          "//       PATTERN (A B) DEFINE B AS v > A.v) AS m\n"
          "//\n"
          "// Rows are t events in the order of ts.\n"
          "// Variables follow each other with 'next' (the rows of a SQL "
          "match are\n"
          "// consecutive); quantifiers are consecutive, and greedy unless "
          "reluctant,\n"
          "// as Flink SQL translates them.\n"
          "// A match is one output line with the rows of each variable; "
          "MEASURES\n"
          "// are not computed:\n"
          "//   A.ts AS a_ts\n"
          "//   LAST(A.ts) AS last\n"
          "// No AFTER MATCH SKIP: SQL's default, PAST LAST ROW (Flink SQL's "
          "is TO NEXT ROW).\n"
          "event t {\n"
          "  ts  timestamp  time\n"
          "  v   double\n"
          "}\n"
          "\n"
          "pattern q on t\n"
          "  after match skip past last event {\n"
          "  begin A\n"
          "  next B where v > A.v\n"
          "}\n"));
}

TEST(SqlImportTest, QuantifiersAsFlinkSqlTranslatesThem) {
  EXPECT_THAT(Body(std::string(kHead) +
                   "PATTERN (A B+? C{2} D{1,3}? E* F H{,4}? G{2,} I) "
                   "DEFINE A AS v > 0, I AS v < 0)"),
              IsOkAndHolds("event t {\n"
                           "  k   string     key\n"
                           "  ts  timestamp  time\n"
                           "  v   double\n"
                           "}\n"
                           "\n"
                           "pattern q on t\n"
                           "  after match skip past last event {\n"
                           "  begin A where v > 0\n"
                           "  next B+ consecutive\n"
                           "  next C {2} consecutive\n"
                           "  next D {1,3} consecutive\n"
                           "  next E* consecutive greedy\n"
                           "  next F\n"
                           "  next H {0,4} consecutive\n"
                           "  next G {2,} consecutive greedy\n"
                           "  next I where v < 0\n"
                           "}\n"));
}

TEST(SqlImportTest, GreedyLastVariableWaitsForTheRowThatEndsIt) {
  EXPECT_THAT(Body(std::string(kHead) +
                   "PATTERN (A B{2,5}) DEFINE B AS B.v > PREV(B.v))"),
              IsOkAndHolds("event t {\n"
                           "  k   string     key\n"
                           "  ts  timestamp  time\n"
                           "  v   double\n"
                           "}\n"
                           "\n"
                           "pattern q on t\n"
                           "  after match skip past last event {\n"
                           "  begin A\n"
                           "  next B {2,5} consecutive greedy where v > "
                           "coalesce(B.v, A.v)\n"
                           "  // SQL's greedy B{2,5} ends before a row that "
                           "would continue it\n"
                           "  not next B_end where count(B) < 5 and v > "
                           "coalesce(B.v, A.v)\n"
                           "}\n"));
}

TEST(SqlImportTest, RunningSemanticsBecomeEarlierRowsPlusTheCurrentOne) {
  // In SQL a variable's DEFINE sees its current row as one of its rows; in
  // the language a stage's aggregates and last() cover the rows before.
  EXPECT_THAT(
      Body("SELECT * FROM t MATCH_RECOGNIZE (ORDER BY ts AFTER MATCH SKIP "
           "TO NEXT ROW PATTERN (A B*? C) DEFINE B AS B.v > PREV(B.v) AND "
           "B.v >= FIRST(B.v) AND COUNT(B.*) <= 5 AND AVG(B.v) < 10 AND "
           "SUM(B.v) > A.v AND (LAST(B.v, 1) IS NULL OR LAST(B.v) <> "
           "LAST(B.v, 1)), C AS C.v BETWEEN FIRST(B.v) AND LAST(B.v) AND "
           "tag NOT IN ('x', 'y') AND COUNT(*) > 2 AND ABS(-v) NOT BETWEEN "
           "1 AND 2 AND PREV(v) IS NOT NULL AND B.v IS NULL)"),
      IsOkAndHolds(
          "event t {\n"
          "  ts   timestamp  time\n"
          "  v    double\n"
          "  tag  string\n"
          "}\n"
          "\n"
          "pattern q on t\n"
          "  after match skip to next {\n"
          "  begin A\n"
          "  next B* consecutive where v > coalesce(B.v, A.v) and v >= "
          "coalesce(first(B).v, v) and count(B) + 1 <= 5 and (sum(B.v) + v) "
          "/ (count(B) + 1) < 10 and sum(B.v) + v > A.v and (count(B) == 0 "
          "or v != last(B).v)\n"
          "  next C where v >= first(B).v and v <= B.v and tag not in (\"x\", "
          "\"y\") and count(A) + count(B) + count(C) + 1 > 2 and (abs(-v) < 1 "
          "or abs(-v) > 2) and true and count(B) == 0\n"
          "}\n"));
}

TEST(SqlImportTest, PrevAcrossOptionalVariablesCoalescesNewestFirst) {
  EXPECT_THAT(Body(std::string(kHead) +
                   "PATTERN (A B? C) DEFINE C AS PREV(v) IS NULL OR "
                   "v > PREV(C.v))"),
              IsOkAndHolds("event t {\n"
                           "  k   string     key\n"
                           "  ts  timestamp  time\n"
                           "  v   double\n"
                           "}\n"
                           "\n"
                           "pattern q on t\n"
                           "  after match skip past last event {\n"
                           "  begin A\n"
                           "  next B?\n"
                           "  next C where false or v > coalesce(B.v, A.v)\n"
                           "}\n"));
}

TEST(SqlImportTest, CreateTableGivesTypesLikeAndIntervals) {
  EXPECT_THAT(
      Body("CREATE TABLE IF NOT EXISTS db.Orders (\n"
           "  `user` VARCHAR(10) NOT NULL, amount INT, vip BOOLEAN,\n"
           "  note STRING, t TIMESTAMP_LTZ(3),\n"
           "  WATERMARK FOR t AS t - INTERVAL '5' SECOND\n"
           ") WITH ('connector' = 'kafka');\n"
           "INSERT INTO alerts SELECT * FROM Orders MATCH_RECOGNIZE (\n"
           "  PARTITION BY \"user\" ORDER BY t ASC ALL ROWS PER MATCH\n"
           "  AFTER MATCH SKIP TO LAST b PATTERN (a b) WITHIN INTERVAL '90' "
           "SECOND\n"
           "  DEFINE a AS note LIKE '%gift%' AND vip = TRUE,\n"
           "         b AS note LIKE 'refund%' AND t - a.t < INTERVAL '1.5' "
           "MINUTE AND amount = .5 * a.amount\n"
           ");"),
      IsOkAndHolds("event Orders {\n"
                   "  user    string     key\n"
                   "  amount  int\n"
                   "  vip     bool\n"
                   "  note    string\n"
                   "  t       timestamp  time\n"
                   "}\n"
                   "\n"
                   "pattern q on Orders\n"
                   "  within 90s\n"
                   "  after match skip to last b {\n"
                   "  begin a where contains(note, \"gift\") and vip == true\n"
                   "  next b where starts_with(note, \"refund\") and t - a.t "
                   "< 90s and amount == 0.5 * a.amount\n"
                   "}\n"));
}

TEST(SqlImportTest, ReluctantGroupIsAGroup) {
  EXPECT_THAT(Body(std::string(kHead) +
                   "PATTERN (A (B C)+? (D) E{3}) DEFINE B AS v > A.v, "
                   "C AS v < B.v)"),
              IsOkAndHolds("event t {\n"
                           "  k   string     key\n"
                           "  ts  timestamp  time\n"
                           "  v   double\n"
                           "}\n"
                           "\n"
                           "pattern q on t\n"
                           "  after match skip past last event {\n"
                           "  begin A\n"
                           "  next (\n"
                           "    begin B where v > A.v\n"
                           "    next C where v < B.v\n"
                           "  )+ consecutive\n"
                           "  next D\n"
                           "  next E {3} consecutive\n"
                           "}\n"));
}

TEST(SqlImportTest, PatternNameFromPath) {
  EXPECT_EQ(PatternNameFromPath("dir/price-drop.sql"), "price_drop");
  EXPECT_EQ(PatternNameFromPath("2024.sql"), "q_2024");
  EXPECT_EQ(PatternNameFromPath("next.sql"), "imported");
  EXPECT_EQ(PatternNameFromPath(".sql"), "imported");
}

// -- What cannot be imported --------------------------------------------------

TEST(SqlImportErrorTest, Permute) {
  EXPECT_THAT(Import(std::string(kHead) + "PATTERN (PERMUTE(A, B) C))"),
              ErrorIs("q.sql:1:70: error: cannot import PATTERN: PERMUTE has "
                      "no equivalent; the stages of a pattern match in one "
                      "order (write one query per order)"));
}

TEST(SqlImportErrorTest, Alternation) {
  EXPECT_THAT(
      Import(std::string(kHead) + "PATTERN (A (B | C) D))"),
      ErrorIs("q.sql:1:75: error: cannot import PATTERN: alternation '|' has "
              "no equivalent; a pattern of the language is one sequence of "
              "stages, without branches (FlinkCEP and Flink SQL have no "
              "branching patterns either); write one query per alternative"));
}

TEST(SqlImportErrorTest, AnchorsAndExclusion) {
  EXPECT_THAT(Import(std::string(kHead) + "PATTERN (^A B))"),
              ErrorIs("q.sql:1:70: error: cannot import PATTERN: the anchor "
                      "'^' has no equivalent; matches start and end anywhere "
                      "in a key's stream"));
  EXPECT_THAT(Import(std::string(kHead) + "PATTERN (A {- B -} C))"),
              ErrorIs("q.sql:1:72: error: cannot import PATTERN: the "
                      "exclusion '{- ... -}' has no equivalent; every row a "
                      "match takes is in its output"));
}

TEST(SqlImportErrorTest, UnknownFunction) {
  EXPECT_THAT(Import(std::string(kHead) +
                     "PATTERN (A B) DEFINE B AS UPPER(name) = 'X')"),
              ErrorIs("q.sql:1:87: error: cannot import DEFINE: the function "
                      "UPPER has no equivalent in the pattern language (it "
                      "has PREV, FIRST, LAST, SUM, AVG, MIN, MAX, COUNT and "
                      "ABS)"));
}

TEST(SqlImportErrorTest, DefineOfAVariableNotInPattern) {
  EXPECT_THAT(Import(std::string(kHead) + "PATTERN (A B) DEFINE C AS v > 0)"),
              ErrorIs("q.sql:1:82: error: cannot import DEFINE: 'C' is not a "
                      "variable of PATTERN"));
}

TEST(SqlImportErrorTest, ReferenceToAnUndefinedVariable) {
  EXPECT_THAT(Import(std::string(kHead) + "PATTERN (A B) DEFINE B AS v > X.v)"),
              ErrorIs("q.sql:1:91: error: cannot import DEFINE: 'X' in 'X.v' "
                      "is not a variable of PATTERN"));
}

TEST(SqlImportErrorTest, ReferenceToALaterVariable) {
  EXPECT_THAT(
      Import(std::string(kHead) + "PATTERN (A B) DEFINE A AS v > LAST(B.v))"),
      ErrorIs("q.sql:1:96: error: cannot import 'LAST(B.v)' in the "
              "DEFINE of 'A': it refers to 'B', which comes later in "
              "PATTERN; a condition sees only rows matched before it"));
}

TEST(SqlImportErrorTest, MissingOrderBy) {
  EXPECT_THAT(
      Import("SELECT * FROM t MATCH_RECOGNIZE (PARTITION BY k PATTERN (A B) "
             "DEFINE B AS v > A.v)"),
      ErrorIs("q.sql:1:49: error: cannot import MATCH_RECOGNIZE: ORDER BY the "
              "time column is missing; the pattern language matches events "
              "in the order of their time field"));
}

TEST(SqlImportErrorTest, OrderByAndPartitionByOfSeveralColumns) {
  EXPECT_THAT(
      Import("SELECT * FROM t MATCH_RECOGNIZE (PARTITION BY k, j ORDER BY ts "
             "PATTERN (A))"),
      ErrorIs("q.sql:1:50: error: cannot import PARTITION BY: one column "
              "only; a pattern is keyed by one field"));
  EXPECT_THAT(
      Import("SELECT * FROM t MATCH_RECOGNIZE (ORDER BY ts, id PATTERN (A))"),
      ErrorIs("q.sql:1:47: error: cannot import ORDER BY: one column only, "
              "the time column; events are ordered by their time field "
              "alone"));
  EXPECT_THAT(
      Import("SELECT * FROM t MATCH_RECOGNIZE (ORDER BY ts DESC PATTERN (A))"),
      ErrorIs("q.sql:1:46: error: cannot import ORDER BY ... DESC: events are "
              "matched in ascending time order"));
}

TEST(SqlImportErrorTest, OrderByAColumnThatIsNotATimestamp) {
  EXPECT_THAT(
      Import("CREATE TABLE t (k INT, seq BIGINT);\nSELECT * FROM t "
             "MATCH_RECOGNIZE (ORDER BY seq PATTERN (A))"),
      ErrorIs("q.sql:2:43: error: cannot import ORDER BY: column 'seq' is int "
              "in CREATE TABLE; the time column must be a TIMESTAMP"));
}

TEST(SqlImportErrorTest, UnknownColumnOfADeclaredTable) {
  EXPECT_THAT(
      Import("CREATE TABLE t (k INT, ts TIMESTAMP);\nSELECT * FROM t "
             "MATCH_RECOGNIZE (ORDER BY ts PATTERN (A) DEFINE A AS prize > 1)"),
      ErrorIs("q.sql:2:70: error: cannot import: table t has no column "
              "'prize'"));
}

TEST(SqlImportErrorTest, ReluctantOptional) {
  EXPECT_THAT(Import(std::string(kHead) + "PATTERN (A B?\? C))"),
              ErrorIs("q.sql:1:73: error: cannot import PATTERN: the "
                      "reluctant optional '?\?'; FlinkCEP has no reluctant "
                      "optional stage (Flink SQL refuses it too); use '?'"));
}

TEST(SqlImportErrorTest, GreedyGroup) {
  EXPECT_THAT(Import(std::string(kHead) + "PATTERN (A (B C)+ D))"),
              ErrorIs("q.sql:1:77: error: cannot import PATTERN: the greedy "
                      "quantifier '+' on a group; the pattern language has no "
                      "greedy groups (FlinkCEP neither); make it reluctant "
                      "('+?') to import a non-greedy group"));
}

TEST(SqlImportErrorTest, GreedyOptionalAtTheEnd) {
  EXPECT_THAT(
      Import(std::string(kHead) + "PATTERN (A B*) DEFINE B AS v > 0)"),
      ErrorIs("q.sql:1:73: error: cannot import PATTERN: the greedy 'B*' ends "
              "the pattern and may take no rows; a match would be reported "
              "before the rows it should take (Flink SQL refuses greedy "
              "quantifiers at the end); make it reluctant ('B*?') or follow "
              "it with a variable"));
}

TEST(SqlImportErrorTest, OptionalAfterGreedy) {
  EXPECT_THAT(
      Import(std::string(kHead) + "PATTERN (A+ B? C))"),
      ErrorIs("q.sql:1:74: error: cannot import PATTERN: 'B?' is optional "
              "right after the greedy 'A+', which the pattern language (like "
              "FlinkCEP) does not allow; make the first one reluctant ('+?')"));
}

TEST(SqlImportErrorTest, PatternThatMatchesNoRows) {
  EXPECT_THAT(Import(std::string(kHead) + "PATTERN (A*? B?))"),
              ErrorIs("q.sql:1:61: error: cannot import PATTERN: it can match "
                      "no rows at all; every variable is optional (Flink SQL "
                      "refuses such patterns too)"));
}

TEST(SqlImportErrorTest, VariableTwice) {
  EXPECT_THAT(Import(std::string(kHead) + "PATTERN (A B A))"),
              ErrorIs("q.sql:1:74: error: cannot import PATTERN: variable "
                      "'A' appears twice; each variable is one stage of the "
                      "pattern (as in Flink SQL)"));
}

TEST(SqlImportErrorTest, Navigation) {
  EXPECT_THAT(
      Import(std::string(kHead) + "PATTERN (A B) DEFINE A AS v < NEXT(v))"),
      ErrorIs("q.sql:1:91: error: cannot import NEXT: it reads rows after the "
              "current one, and conditions see only rows up to the current "
              "one"));
  EXPECT_THAT(
      Import(std::string(kHead) + "PATTERN (A B) DEFINE A AS v < PREV(v))"),
      ErrorIs("q.sql:1:91: error: cannot import PREV in the DEFINE of 'A': "
              "the row before is not part of the match, and conditions see "
              "only rows of the match (Flink SQL gives NULL there)"));
  EXPECT_THAT(
      Import(std::string(kHead) + "PATTERN (A+ B) DEFINE A AS v < PREV(v, 2))"),
      ErrorIs("q.sql:1:92: error: cannot import PREV with offset 2: only the "
              "row just before is reached"));
  EXPECT_THAT(Import(std::string(kHead) +
                     "PATTERN (A+ B) DEFINE B AS v < FIRST(A.v, 1))"),
              ErrorIs("q.sql:1:92: error: cannot import FIRST with offset 1: "
                      "the pattern language reaches only the first and the "
                      "last row of a variable"));
}

// The documentation's own ticker query (tests/sql/flink_price_drop has it
// with the one change that makes it importable).
TEST(SqlImportErrorTest, FlinkPriceDropAsDocumentedIsRefused) {
  EXPECT_THAT(
      Import("SELECT *\nFROM Ticker\n    MATCH_RECOGNIZE (\n"
             "        PARTITION BY symbol\n        ORDER BY rowtime\n"
             "        MEASURES\n"
             "            START_ROW.rowtime AS start_tstamp,\n"
             "            LAST(PRICE_DOWN.rowtime) AS bottom_tstamp,\n"
             "            LAST(PRICE_UP.rowtime) AS end_tstamp\n"
             "        ONE ROW PER MATCH\n"
             "        AFTER MATCH SKIP TO LAST PRICE_UP\n"
             "        PATTERN (START_ROW PRICE_DOWN+ PRICE_UP)\n"
             "        DEFINE\n"
             "            PRICE_DOWN AS\n"
             "                (LAST(PRICE_DOWN.price, 1) IS NULL AND "
             "PRICE_DOWN.price < START_ROW.price) OR\n"
             "                    PRICE_DOWN.price < LAST(PRICE_DOWN.price, "
             "1),\n"
             "            PRICE_UP AS\n"
             "                PRICE_UP.price > LAST(PRICE_DOWN.price, 1)\n"
             "    ) MR;\n"),
      ErrorIs("q.sql:18:34: error: cannot import LAST(PRICE_DOWN.price, 1) in "
              "the DEFINE of 'PRICE_UP': the pattern language reaches the "
              "first and the last row of a variable (and, in its own DEFINE, "
              "the row before the current one), not the rows between"));
}

TEST(SqlImportErrorTest, AggregatesThatDoNotMap) {
  EXPECT_THAT(
      Import(std::string(kHead) + "PATTERN (A+ B) DEFINE A AS v >= MIN(A.v))"),
      ErrorIs("q.sql:1:93: error: cannot import MIN(A.v) in the DEFINE of "
              "'A': in SQL it includes the current row, and the language's "
              "min(A.v) covers only the rows taken before"));
  EXPECT_THAT(Import(std::string(kHead) +
                     "PATTERN (A+ B) DEFINE B AS SUM(DISTINCT A.v) > 1)"),
              ErrorIs("q.sql:1:88: error: cannot import SUM(DISTINCT ...): "
                      "the language's aggregates count every row"));
  EXPECT_THAT(
      Import(std::string(kHead) + "PATTERN (A+ B) DEFINE B AS MAX(v) > 1)"),
      ErrorIs("q.sql:1:88: error: cannot import MAX(v) over every row of the "
              "match: name one variable, as MAX(A.v)"));
}

TEST(SqlImportErrorTest, ExpressionsThatDoNotMap) {
  EXPECT_THAT(
      Import(std::string(kHead) + "PATTERN (A B) DEFINE B AS v = NULL)"),
      ErrorIs("q.sql:1:91: error: cannot import a comparison with NULL: it is "
              "never true in SQL; write IS NULL"));
  EXPECT_THAT(
      Import(std::string(kHead) + "PATTERN (A B) DEFINE B AS v % 2 = 0)"),
      ErrorIs("q.sql:1:89: error: cannot import the operator '%': the pattern "
              "language has no equivalent"));
  EXPECT_THAT(
      Import(std::string(kHead) +
             "PATTERN (A B) DEFINE B AS CASE WHEN v > 1 THEN TRUE END)"),
      ErrorIs("q.sql:1:87: error: cannot import DEFINE: CASE has no "
              "equivalent in the pattern language"));
  EXPECT_THAT(
      Import(std::string(kHead) + "PATTERN (A B) DEFINE B AS s LIKE 'a_c')"),
      ErrorIs("q.sql:1:94: error: cannot import LIKE with '_': only '%' at the "
              "start or the end of the pattern is imported (as starts_with, "
              "ends_with, contains)"));
  EXPECT_THAT(
      Import(std::string(kHead) + "PATTERN (A B) DEFINE B AS CLASSIFIER() = "
                                  "'A')"),
      ErrorIs("q.sql:1:87: error: cannot import CLASSIFIER(): the pattern "
              "language has no equivalent in conditions"));
}

TEST(SqlImportErrorTest, ClausesThatDoNotMap) {
  EXPECT_THAT(
      Import(std::string(kHead) +
             "PATTERN (A B) SUBSET U = (A, B) DEFINE B AS v > 0)"),
      ErrorIs("q.sql:1:75: error: cannot import SUBSET: union variables have "
              "no equivalent; refer to each variable"));
  EXPECT_THAT(
      Import(std::string(kHead) +
             "ALL ROWS PER MATCH WITH UNMATCHED ROWS PATTERN (A B))"),
      ErrorIs("q.sql:1:61: error: cannot import ALL ROWS PER MATCH WITH "
              "UNMATCHED ROWS: only matches are reported, never unmatched or "
              "empty ones"));
  EXPECT_THAT(
      Import(std::string(kHead) + "AFTER MATCH SKIP TO FIRST A PATTERN (A B))"),
      ErrorIs("q.sql:1:87: error: cannot import AFTER MATCH SKIP TO FIRST A: "
              "'A' starts every match there, so the next match would start at "
              "the same row again (Flink SQL fails at run time)"));
  EXPECT_THAT(
      Import(std::string(kHead) +
             "PATTERN (A B) WITHIN INTERVAL '1' MONTH DEFINE B AS v > 0)"),
      ErrorIs("q.sql:1:95: error: cannot import INTERVAL ... MONTH: only one "
              "of MILLISECOND, SECOND, MINUTE, HOUR, DAY is imported"));
  EXPECT_THAT(
      Import("SELECT * FROM (SELECT * FROM t) MATCH_RECOGNIZE (ORDER BY ts "
             "PATTERN (A))"),
      ErrorIs("q.sql:1:15: error: cannot import FROM: a subquery; "
              "MATCH_RECOGNIZE must read a table by name"));
}

TEST(SqlImportErrorTest, NamesThePatternLanguageCannotHold) {
  EXPECT_THAT(Import(std::string(kHead) + "PATTERN (A next))"),
              ErrorIs("q.sql:1:72: error: cannot import variable 'next': it is "
                      "a reserved word of the pattern language"));
  EXPECT_THAT(
      Import(std::string(kHead) + "PATTERN (A B) DEFINE B AS \"unit price\" > "
                                  "1)"),
      ErrorIs("q.sql:1:87: error: cannot import column 'unit price': names in "
              "the pattern language are letters, digits and '_', not starting "
              "with a digit"));
}

TEST(SqlImportErrorTest, TypeErrorsNameTheDefine) {
  EXPECT_THAT(
      Import("CREATE TABLE t (k VARCHAR, name VARCHAR, ts TIMESTAMP(3));\n"
             "SELECT * FROM t MATCH_RECOGNIZE (PARTITION BY k ORDER BY ts "
             "PATTERN (A B)\nDEFINE A AS name = 'x', B AS name > 5)"),
      ErrorIs("q.sql:3:30: error: cannot import DEFINE of 'B': the translated "
              "condition does not check: cannot compare a string with an "
              "int"));
}

TEST(SqlImportErrorTest, SyntaxErrors) {
  EXPECT_THAT(Import(std::string(kHead) + "PATTERN A B)"),
              ErrorIs("q.sql:1:69: error: expected '(', found 'A'"));
  EXPECT_THAT(Import("SELECT * FROM t WHERE x = 1"),
              ErrorIs("q.sql:1:17: error: expected 'MATCH_RECOGNIZE', found "
                      "'WHERE'"));
  EXPECT_THAT(Import("/* open"),
              ErrorIs("q.sql:1:1: error: unterminated comment (no '*/' closes "
                      "this '/*')"));
  EXPECT_THAT(Import(std::string(kHead) + "PATTERN (A) DEFINE A AS s = 'x)"),
              ErrorIs("q.sql:1:89: error: unterminated string"));
  EXPECT_THAT(Import(std::string(kHead) + "PATTERN (A)) x y"),
              ErrorIs("q.sql:1:76: error: expected the end of the query, found "
                      "'y'; a file holds one MATCH_RECOGNIZE query"));
}

TEST(SqlImportErrorTest, DeepNestingIsRefusedBeforeTheStackRunsOut) {
  const std::string head =
      "SELECT * FROM t MATCH_RECOGNIZE (ORDER BY ts PATTERN (A) DEFINE A AS ";
  EXPECT_THAT(Import(head + std::string(5000, '(') + "v > 1" +
                     std::string(5000, ')') + ")"),
              ErrorIs("q.sql:1:170: error: nesting deeper than 100 levels"));
  std::string chain = "v > 0";
  for (int idx = 1; idx < 2000; ++idx) chain += " OR v > 0";
  EXPECT_THAT(Import(head + chain + ")"),
              ErrorIs("q.sql:1:9058: error: the condition is nested deeper "
                      "than 1000 operations"));
  EXPECT_THAT(
      Import("SELECT * FROM t MATCH_RECOGNIZE (ORDER BY ts PATTERN (" +
             std::string(5000, '(') + "A" + std::string(5000, ')') + "))"),
      ErrorIs("q.sql:1:155: error: nesting deeper than 100 levels"));
}

TEST(SqlImportTest, DeclaredColumnsTheLanguageCannotHoldAreLeftOutUnlessRead) {
  const std::string table =
      "CREATE TABLE t (k STRING, tags ARRAY<STRING>, \"unit price\" DOUBLE, "
      "ts TIMESTAMP(3), proc AS PROCTIME());\n";
  EXPECT_THAT(
      Body(table + "SELECT * FROM t MATCH_RECOGNIZE (PARTITION BY k ORDER BY "
                   "ts PATTERN (A))"),
      IsOkAndHolds("event t {\n"
                   "  k   string     key\n"
                   "  ts  timestamp  time\n"
                   "}\n"
                   "\n"
                   "pattern q on t\n"
                   "  after match skip past last event {\n"
                   "  begin A\n"
                   "}\n"));
  EXPECT_THAT(
      Import(table + "SELECT * FROM t MATCH_RECOGNIZE (ORDER BY ts PATTERN (A) "
                     "DEFINE A AS tags IS NULL)"),
      ErrorIs("q.sql:1:32: error: cannot import CREATE TABLE: column "
              "'tags' has type ARRAY; the pattern language has int, "
              "double, string, bool and timestamp fields"));
  EXPECT_THAT(
      Import(table + "SELECT * FROM t MATCH_RECOGNIZE (ORDER BY ts PATTERN (A) "
                     "DEFINE A AS \"unit price\" > 1)"),
      ErrorIs("q.sql:1:47: error: cannot import column 'unit price': "
              "names in the pattern language are letters, digits and "
              "'_', not starting with a digit"));
  EXPECT_THAT(
      Import("SELECT * FROM t MATCH_RECOGNIZE (ORDER BY ts PATTERN (A) WITHIN "
             "ts DEFINE A AS v > 1)"),
      ErrorIs("q.sql:1:65: error: expected 'INTERVAL' after 'WITHIN', found "
              "'ts'"));
}

TEST(SqlImportErrorTest, KeyAndTimeAreOneColumn) {
  EXPECT_THAT(
      Import("SELECT * FROM t MATCH_RECOGNIZE (PARTITION BY ts ORDER BY ts "
             "PATTERN (A))"),
      ErrorIs("q.sql:1:59: error: cannot import ORDER BY: it names the "
              "PARTITION BY column; the time field cannot be the key"));
}

TEST(SqlImportTest, NotNextStageNameAvoidsTheVariables) {
  absl::StatusOr<std::string> text =
      Body(std::string(kHead) + "PATTERN (B_end B+) DEFINE B AS v > B_end.v)");
  ASSERT_THAT(text, IsOk());
  EXPECT_THAT(*text, ::testing::HasSubstr(
                         "\n  not next B_end_ where v > B_end.v\n}\n"));
}

TEST(SqlImportParseTest, KeepsClausesAndPositions) {
  absl::StatusOr<Query> query = ParseMatchRecognize(
      "select * from T match_recognize (\n"
      "  partition by \"Card\" order by ts\n"
      "  after match skip to a\n"
      "  pattern (a b{2,}?) define b as b.x > 1) r",
      "q.sql");
  ASSERT_THAT(query, IsOk());
  EXPECT_EQ(query->table.text, "T");
  ASSERT_EQ(query->partition_by.size(), 1u);
  EXPECT_EQ(query->partition_by[0].Key(), "Card");
  EXPECT_EQ(query->order_by[0].column.Key(), "TS");
  EXPECT_EQ(query->skip, Query::Skip::kToLast);
  EXPECT_EQ(query->skip_var.text, "a");
  ASSERT_EQ(query->pattern.items.size(), 2u);
  const Quantifier& q = query->pattern.items[1].quantifier;
  EXPECT_EQ(q.min, 2);
  EXPECT_EQ(q.max, -1);
  EXPECT_TRUE(q.reluctant);
  EXPECT_EQ(q.text, "{2,}?");
  EXPECT_EQ(q.pos.line, 4u);
  EXPECT_EQ(q.pos.col, 15u);
  EXPECT_EQ(query->alias.text, "r");
}

}  // namespace
}  // namespace cep::sql
