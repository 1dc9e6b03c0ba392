// Tests of AnalyzeBounds (cep/pattern_bounds.hpp): the classification of
// each construct and of every pattern in patterns/, and, to keep the
// analysis honest, the partial matches the per-run Evaluator really holds
// (no cap) under an adversarial stream at n = 8, 16 and 32 events (4, 8 and
// 16 for exponential ones): constant stays equal, degree d multiplies by
// about 2^d per doubling of n, exponential far more.
//
// The adversary: one key, events 1 ms apart inside a one-hour window, where
// every stage's condition holds except the last stage's (`x == 0`, never
// true), so no match completes (patterns that end in a loop release matches
// and keep their partial matches). After a greedy loop the worst stream
// alternates events the loop takes (x = 1) with events it does not
// (x = 2); before a group's later repetition it is blocks (kBlocks).
#include "cep/pattern_bounds.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "cep/compiler.hpp"
#include "cep/dsl.hpp"
#include "cep/evaluator.hpp"
#include "cep/key_state.hpp"
#include "cep/record_json.hpp"
#include "cep/shared_runs_evaluator.hpp"

namespace cep {
namespace {

using Kind = BoundFactor::Kind;

// kAllTake: x = 1 throughout. kAlternate: x = 1, 2, 1, 2, ... kBlocks: the
// first half x = 1, then one x = 2, then x = 3.
enum class Stream { kAllTake, kAlternate, kBlocks };

struct Construct {
  std::string name;
  std::string header;  // pattern header clauses: "within 1h", ...
  std::string stages;  // the pattern's body
  Stream stream = Stream::kAllTake;
  BoundGrowth growth = BoundGrowth::kConstant;
  int degree = 0;
  std::vector<BoundFactor> factors;
  std::optional<UnboundedWait> unbounded;
};

std::vector<Construct> Constructs() {
  const std::string w = "within 1h";
  return {
      {"next",
       w,
       "begin a where x == 1\nnext c where x == 0",
       Stream::kAllTake,
       BoundGrowth::kConstant,
       0,
       {},
       std::nullopt},
      {"followed_by",
       w,
       "begin a where x == 1\nfollowed by c where x == 0",
       Stream::kAllTake,
       BoundGrowth::kPolynomial,
       1,
       {{Kind::kStart, "a"}},
       std::nullopt},
      {"followed_by_any_last",
       w,
       "begin a where x == 1\nfollowed by any c where x == 0",
       Stream::kAllTake,
       BoundGrowth::kPolynomial,
       1,
       {{Kind::kStart, "a"}},
       std::nullopt},
      {"followed_by_any",
       w,
       "begin a where x == 1\nfollowed by any b where x == 1\n"
       "followed by c where x == 0",
       Stream::kAllTake,
       BoundGrowth::kPolynomial,
       2,
       {{Kind::kStart, "a"}, {Kind::kFollowedByAny, "b"}},
       std::nullopt},
      {"loop",
       w,
       "begin a where x == 1\nfollowed by b+ where x == 1\n"
       "followed by c where x == 0",
       Stream::kAllTake,
       BoundGrowth::kPolynomial,
       2,
       {{Kind::kStart, "a"}, {Kind::kLoop, "b"}},
       std::nullopt},
      {"loop_consecutive",
       w,
       "begin a where x == 1\nnext b+ consecutive where x == 1\n"
       "followed by c where x == 0",
       Stream::kAllTake,
       BoundGrowth::kPolynomial,
       2,
       {{Kind::kStart, "a"}, {Kind::kLoop, "b"}},
       std::nullopt},
      {"loop_first",
       w,
       "begin b+ where x == 1\nfollowed by c where x == 0",
       Stream::kAllTake,
       BoundGrowth::kPolynomial,
       2,
       {{Kind::kStart, "b"}, {Kind::kLoop, "b"}},
       std::nullopt},
      {"loop_last",
       w,
       "begin a+ where x == 1",
       Stream::kAllTake,
       BoundGrowth::kPolynomial,
       1,
       {{Kind::kStart, "a"}},
       std::nullopt},
      {"loop_until",
       w,
       "begin a where x == 1\nfollowed by b+ where x == 1 until x == 2\n"
       "followed by c where x == 0",
       Stream::kAllTake,
       BoundGrowth::kPolynomial,
       2,
       {{Kind::kStart, "a"}, {Kind::kLoop, "b"}},
       std::nullopt},
      {"loop_greedy",
       w,
       "begin a where x >= 1\nfollowed by b+ greedy where x == 1\n"
       "followed by c where x == 0",
       Stream::kAlternate,
       BoundGrowth::kPolynomial,
       1,
       {{Kind::kStart, "a"}},
       std::nullopt},
      {"followed_by_any_loop",
       w,
       "begin a where x == 1\nfollowed by any b+ where x == 1\n"
       "followed by c where x == 0",
       Stream::kAllTake,
       BoundGrowth::kPolynomial,
       3,
       {{Kind::kStart, "a"}, {Kind::kFollowedByAny, "b"}, {Kind::kLoop, "b"}},
       std::nullopt},
      {"followed_by_any_loop_last",
       w,
       "begin a where x == 1\nfollowed by any b+ where x == 1",
       Stream::kAllTake,
       BoundGrowth::kPolynomial,
       2,
       {{Kind::kStart, "a"}, {Kind::kFollowedByAny, "b"}},
       std::nullopt},
      {"followed_by_any_optional",
       w,
       "begin a where x == 1\nfollowed by any b? where x == 1\n"
       "followed by c where x == 0",
       Stream::kAllTake,
       BoundGrowth::kPolynomial,
       2,
       {{Kind::kStart, "a"}, {Kind::kFollowedByAny, "b"}},
       std::nullopt},
      {"optional",
       w,
       "begin a where x == 1\nfollowed by b? where x == 1\n"
       "followed by c where x == 0",
       Stream::kAllTake,
       BoundGrowth::kPolynomial,
       1,
       {{Kind::kStart, "a"}},
       std::nullopt},
      {"times",
       w,
       "begin a {3} where x == 1\nfollowed by c where x == 0",
       Stream::kAllTake,
       BoundGrowth::kPolynomial,
       1,
       {{Kind::kStart, "a"}},
       std::nullopt},
      {"times_range",
       w,
       "begin a {2,4} where x == 1\nfollowed by c where x == 0",
       Stream::kAllTake,
       BoundGrowth::kPolynomial,
       1,
       {{Kind::kStart, "a"}},
       std::nullopt},
      {"times_without_condition",
       w,
       "begin a {6}",
       Stream::kAllTake,
       BoundGrowth::kConstant,
       0,
       {},
       std::nullopt},
      {"times_any_combination",
       w,
       "begin a where x == 1\nfollowed by b {3} any combination where x == 1\n"
       "followed by c where x == 0",
       Stream::kAllTake,
       BoundGrowth::kPolynomial,
       3,
       {{Kind::kStart, "a"},
        {Kind::kAnyCombination, "b"},
        {Kind::kAnyCombination, "b"}},
       std::nullopt},
      {"any_combination",
       w,
       "begin a where x == 1\nfollowed by b+ any combination where x == 1\n"
       "followed by c where x == 0",
       Stream::kAllTake,
       BoundGrowth::kExponential,
       0,
       {{Kind::kAnyCombination, "b"}, {Kind::kStart, "a"}},
       std::nullopt},
      {"any_combination_greedy",
       w,
       "begin a where x == 1\n"
       "followed by b+ greedy any combination where x == 1\n"
       "followed by c where x == 0",
       Stream::kAllTake,
       BoundGrowth::kExponential,
       0,
       {{Kind::kAnyCombination, "b"}, {Kind::kStart, "a"}},
       std::nullopt},
      {"two_followed_by_any",
       w,
       "begin a where x == 1\nfollowed by any b where x == 1\n"
       "followed by any c where x == 1\nfollowed by d where x == 0",
       Stream::kAllTake,
       BoundGrowth::kPolynomial,
       3,
       {{Kind::kStart, "a"},
        {Kind::kFollowedByAny, "b"},
        {Kind::kFollowedByAny, "c"}},
       std::nullopt},
      {"followed_by_any_consecutive_loop",
       w,
       "begin a where x == 1\n"
       "followed by any b {2,} consecutive where x == 1\n"
       "followed by c where x == 0",
       Stream::kAllTake,
       BoundGrowth::kPolynomial,
       3,
       {{Kind::kStart, "a"}, {Kind::kFollowedByAny, "b"}, {Kind::kLoop, "b"}},
       std::nullopt},
      {"group_loop",
       w,
       "begin a where x == 1\n"
       "followed by (begin b where x == 1 next c where x == 1)+\n"
       "followed by d where x == 0",
       Stream::kAllTake,
       BoundGrowth::kPolynomial,
       2,
       {{Kind::kStart, "a"}, {Kind::kGroupLoop, "(b c)"}},
       std::nullopt},
      {"followed_by_any_group",
       w,
       "begin a where x == 1\n"
       "followed by any (begin b where x == 1 next c where x == 1)\n"
       "followed by d where x == 0",
       Stream::kAllTake,
       BoundGrowth::kPolynomial,
       2,
       {{Kind::kStart, "a"}, {Kind::kFollowedByAny, "(b c)"}},
       std::nullopt},
      {"group_any_combination",
       w,
       "begin a where x == 1\n"
       "followed by (begin b where x == 1 followed by c where x == 1)+ "
       "any combination\n"
       "followed by d where x == 0",
       Stream::kAllTake,
       BoundGrowth::kExponential,
       0,
       {{Kind::kGroupLoop, "(b c)"}, {Kind::kStart, "a"}},
       std::nullopt},
      // Runs piled up before the group's first repetition ends (the x = 1
      // block) each wait for a second one, and each event of the x = 3
      // block sends every one of them on to 'd': starts times events.
      {"group_repetition_wait",
       w,
       "begin (begin ga where x == 1 followed by gb where x == 2){1,2}\n"
       "followed by d where x == 0",
       Stream::kBlocks,
       BoundGrowth::kPolynomial,
       2,
       {{Kind::kStart, "ga"}, {Kind::kGroupLoop, "(ga gb)"}},
       std::nullopt},
      {"not_followed_by",
       w,
       "begin a where x == 1\nnot followed by n where x == 0\n"
       "followed by c where x == 0",
       Stream::kAllTake,
       BoundGrowth::kPolynomial,
       1,
       {{Kind::kStart, "a"}},
       std::nullopt},
      {"skip_past_last_event",
       w + " after match skip past last event",
       "begin a where x == 1\nfollowed by any b where x == 1\n"
       "followed by c where x == 0",
       Stream::kAllTake,
       BoundGrowth::kPolynomial,
       2,
       {{Kind::kStart, "a"}, {Kind::kFollowedByAny, "b"}},
       std::nullopt},
      {"no_window",
       "",
       "begin a where x == 1\nfollowed by b+ where x == 1\n"
       "followed by c where x == 0",
       Stream::kAllTake,
       BoundGrowth::kPolynomial,
       2,
       {{Kind::kStart, "a"}, {Kind::kLoop, "b"}},
       UnboundedWait{UnboundedWait::Kind::kStage, "c", false}},
      {"no_window_loop_until",
       "",
       "begin a where x == 1\nnext b+ consecutive where x == 1 until x == 2",
       Stream::kAllTake,
       BoundGrowth::kPolynomial,
       1,
       {{Kind::kStart, "a"}},
       UnboundedWait{UnboundedWait::Kind::kLoop, "b", true}},
      {"no_window_next",
       "",
       "begin a where x == 1\nnext c where x == 0",
       Stream::kAllTake,
       BoundGrowth::kConstant,
       0,
       {},
       std::nullopt},
  };
}

std::string FileText(const Construct& c) {
  return absl::StrCat(
      "event E {\n  k string key\n  x int\n  ts timestamp time\n",
      "}\npattern p on E ", c.header, " {\n", c.stages, "\n}\n");
}

struct Compiled {
  PatternFile file;
  Nfa<Record> nfa;
};

Compiled Compile(const std::string& text, const std::string& name) {
  absl::StatusOr<PatternFile> file = ParsePatternFile(text, name);
  EXPECT_TRUE(file.ok()) << file.status().message();
  absl::StatusOr<Nfa<Record>> nfa =
      CompilePattern(file->patterns().front().pattern);
  EXPECT_TRUE(nfa.ok()) << nfa.status().message();
  return Compiled{*std::move(file), *std::move(nfa)};
}

class CountingSink : public MatchSink<Record> {
 public:
  void OnMatch(Match<Record>) override {}
};

std::vector<Record> Events(const PatternFile& file, Stream stream, int n) {
  RecordDecoder decoder(file);
  std::vector<Record> events;
  for (int i = 0; i < n; ++i) {
    int x = stream == Stream::kAlternate && i % 2 == 1 ? 2 : 1;
    if (stream == Stream::kBlocks && i >= n / 2) x = i == n / 2 ? 2 : 3;
    absl::StatusOr<Record> record = decoder.Decode(
        absl::StrCat(R"({"k":"k1","x":)", x, R"(,"ts":)", 1000 + i, "}"));
    EXPECT_TRUE(record.ok()) << record.status().message();
    events.push_back(*std::move(record));
  }
  return events;
}

// Partial matches the per-run Evaluator holds, without a cap, after the
// first `n` events of the adversarial stream.
size_t PerRunCount(const Compiled& c, Stream stream, int n) {
  Evaluator<Record> evaluator(c.nfa,
                              EvaluatorOptions{.max_partial_matches = 0});
  KeyState<Record> state;
  CountingSink sink;
  int seq = 0;
  for (const Record& event : Events(c.file, stream, n)) {
    EXPECT_TRUE(evaluator
                    .Process(state, event, FromMillis(1000 + seq),
                             static_cast<uint64_t>(seq), sink)
                    .ok());
    ++seq;
  }
  return state.PartialMatchCount();
}

size_t SharedCount(const Compiled& c, Stream stream, int n) {
  SharedRunsEvaluator<Record> evaluator(c.nfa);
  SharedRunsState<Record> state;
  CountingSink sink;
  int seq = 0;
  for (const Record& event : Events(c.file, stream, n)) {
    EXPECT_TRUE(evaluator
                    .Process(state, event, FromMillis(1000 + seq),
                             static_cast<uint64_t>(seq), sink)
                    .ok());
    ++seq;
  }
  return static_cast<size_t>(evaluator.PartialMatchCount(state));
}

TEST(PatternBoundsTest, ClassifiesEachConstruct) {
  for (const Construct& construct : Constructs()) {
    SCOPED_TRACE(construct.name);
    const Compiled c = Compile(FileText(construct), construct.name + ".cep");
    const PatternBounds bounds =
        AnalyzeBounds(c.file.patterns().front().pattern, c.nfa);
    EXPECT_EQ(bounds.growth, construct.growth);
    EXPECT_EQ(bounds.degree, construct.degree);
    EXPECT_EQ(bounds.factors, construct.factors);
    EXPECT_EQ(bounds.unbounded, construct.unbounded);
  }
}

// Runs every construct over growing n and checks the count grows as the
// analysis says: this is what keeps the classification honest.
TEST(PatternBoundsTest, MeasuredGrowthMatchesClassification) {
  for (const Construct& construct : Constructs()) {
    SCOPED_TRACE(construct.name);
    const Compiled c = Compile(FileText(construct), construct.name + ".cep");
    const PatternBounds bounds =
        AnalyzeBounds(c.file.patterns().front().pattern, c.nfa);
    const bool exponential = bounds.growth == BoundGrowth::kExponential;
    const int n = exponential ? 4 : 8;
    const size_t small = PerRunCount(c, construct.stream, n);
    const size_t middle = PerRunCount(c, construct.stream, 2 * n);
    const size_t large = PerRunCount(c, construct.stream, 4 * n);
    SCOPED_TRACE(absl::StrCat("counts ", small, ", ", middle, ", ", large));
    switch (bounds.growth) {
      case BoundGrowth::kConstant:
        EXPECT_EQ(middle, small);
        EXPECT_EQ(large, middle);
        break;
      case BoundGrowth::kPolynomial: {
        // log2 of the ratio at the largest doubling is the degree, give or
        // take the lower-order terms.
        ASSERT_GT(middle, 0u);
        const double measured =
            std::log2(static_cast<double>(large) / static_cast<double>(middle));
        EXPECT_NEAR(measured, bounds.degree, 0.4);
        break;
      }
      case BoundGrowth::kExponential:
        // From 8 to 16 events: more than any degree up to 5 would give.
        ASSERT_GT(middle, 0u);
        EXPECT_GT(large, 32 * middle);
        break;
    }
  }
}

// The shared strategy holds the same partial matches (in O(n) memory).
TEST(PatternBoundsTest, SharedRunsHoldTheSameCount) {
  int shared = 0;
  for (const Construct& construct : Constructs()) {
    SCOPED_TRACE(construct.name);
    const Compiled c = Compile(FileText(construct), construct.name + ".cep");
    const PatternBounds bounds =
        AnalyzeBounds(c.file.patterns().front().pattern, c.nfa);
    EXPECT_EQ(bounds.shared_runs, CheckSharedRuns(c.nfa).ok());
    if (!bounds.shared_runs) continue;
    ++shared;
    const int n = bounds.growth == BoundGrowth::kExponential ? 8 : 16;
    EXPECT_EQ(SharedCount(c, construct.stream, n),
              PerRunCount(c, construct.stream, n));
  }
  EXPECT_EQ(shared, 31);  // skip past last event is shared too
}

struct Expected {
  BoundGrowth growth;
  int degree;
  bool unbounded;
  bool dangerous;
};

// Random patterns of up to four stages (and groups) over the constructs
// above, the last stage's condition never holding: the count measured at
// n = 20 and 40 (or 40 and 80) under each stream never grows faster than
// the analysis says. The streams are not always the worst ones, so the measured
// growth may be slower; never faster, or the analysis understates.
TEST(PatternBoundsTest, RandomPatternsGrowNoFasterThanClassified) {
  std::mt19937 random(17);
  auto pick = [&random](const std::vector<std::string>& options) {
    return options[std::uniform_int_distribution<size_t>(
        0, options.size() - 1)(random)];
  };
  const std::vector<std::string> connectors = {"next", "followed by",
                                               "followed by any"};
  const std::vector<std::string> quantifiers = {"",
                                                "",
                                                "+",
                                                "*",
                                                "?",
                                                "{2}",
                                                "{1,3}",
                                                "{2,}",
                                                "+ consecutive",
                                                "+ greedy",
                                                "{2} any combination"};
  const std::vector<std::string> group_quantifiers = {"", "+", "{1,2}", "?",
                                                      "{2}"};
  // Under kAlternate and kBlocks some events meet one and not the other.
  const std::vector<std::string> conditions = {"x == 1", "x >= 1", "x != 2"};
  int checked = 0;
  for (int pattern_idx = 0; pattern_idx < 200; ++pattern_idx) {
    const int stages = std::uniform_int_distribution<int>(1, 4)(random);
    std::string body;
    for (int stage_idx = 0; stage_idx < stages; ++stage_idx) {
      const bool last = stage_idx + 1 == stages;
      body += stage_idx == 0 ? "begin" : pick(connectors);
      if (!last && std::uniform_int_distribution<int>(0, 4)(random) == 0) {
        body +=
            absl::StrCat(" (begin g", stage_idx, " where ", pick(conditions),
                         " ", pick(connectors), " h", stage_idx, " where ",
                         pick(conditions), ") ", pick(group_quantifiers), "\n");
      } else {
        body += absl::StrCat(" s", stage_idx, " ", pick(quantifiers), " where ",
                             last && stages > 1 ? "x == 0" : pick(conditions),
                             "\n");
      }
      if (!last && stage_idx > 0 &&
          std::uniform_int_distribution<int>(0, 5)(random) == 0) {
        body += absl::StrCat("not followed by n", stage_idx, " where x == 0\n");
      }
    }
    const std::string text = absl::StrCat(
        "event E {\n  k string key\n  x int\n  ts timestamp time\n}\n"
        "pattern p on E within 1h {\n",
        body, "}\n");
    absl::StatusOr<PatternFile> file = ParsePatternFile(text, "random.cep");
    if (!file.ok()) continue;  // a combination the language refuses
    absl::StatusOr<Nfa<Record>> nfa =
        CompilePattern(file->patterns().front().pattern);
    ASSERT_TRUE(nfa.ok()) << nfa.status().message();
    const PatternBounds bounds =
        AnalyzeBounds(file->patterns().front().pattern, *nfa);
    if (bounds.growth == BoundGrowth::kExponential || bounds.degree > 3) {
      continue;  // too many partial matches to measure quickly
    }
    SCOPED_TRACE(text);
    const Compiled c{*std::move(file), *std::move(nfa)};
    for (const Stream stream :
         {Stream::kAllTake, Stream::kAlternate, Stream::kBlocks}) {
      // At most 2^degree per doubling of n, with some slack for lower-order
      // terms; a pattern that needs many events before its first partial
      // match waits (a group's repetitions) is measured again further out.
      const double limit = 1.75 * std::pow(2.0, bounds.degree);
      size_t middle = PerRunCount(c, stream, 20);
      size_t large = PerRunCount(c, stream, 40);
      if (bounds.growth != BoundGrowth::kConstant &&
          static_cast<double>(large) >
              limit * static_cast<double>(std::max<size_t>(middle, 1))) {
        middle = large;
        large = PerRunCount(c, stream, 80);
      }
      SCOPED_TRACE(absl::StrCat(GrowthWords(bounds), ", stream ",
                                static_cast<int>(stream), ": ", middle, ", ",
                                large));
      if (bounds.growth == BoundGrowth::kConstant) {
        EXPECT_LE(large, middle);
      } else {
        EXPECT_LE(static_cast<double>(large),
                  limit * static_cast<double>(std::max<size_t>(middle, 1)));
      }
    }
    ++checked;
  }
  EXPECT_GT(checked, 100);
}

TEST(PatternBoundsTest, ClassifiesThePatternsDirectory) {
  const std::map<std::string, Expected> expected = {
      {"abandoned_challenge", {BoundGrowth::kPolynomial, 1, false, false}},
      {"account_takeover", {BoundGrowth::kPolynomial, 1, false, false}},
      {"card_cashout", {BoundGrowth::kPolynomial, 1, false, false}},
      {"card_testing", {BoundGrowth::kPolynomial, 1, false, false}},
      {"declines_then_charge", {BoundGrowth::kPolynomial, 1, false, false}},
      {"impossible_travel", {BoundGrowth::kConstant, 0, false, false}},
      {"velocity", {BoundGrowth::kConstant, 0, false, false}},
  };
  std::map<std::string, Expected> actual;
  for (const auto& entry : std::filesystem::directory_iterator(
           std::filesystem::path(CEP_SOURCE_DIR) / "patterns")) {
    if (entry.path().extension() != ".cep") continue;
    absl::StatusOr<PatternFile> file = LoadPatternFile(entry.path().string());
    ASSERT_TRUE(file.ok()) << file.status().message();
    for (const FilePattern& pattern : file->patterns()) {
      absl::StatusOr<Nfa<Record>> nfa = CompilePattern(pattern.pattern);
      ASSERT_TRUE(nfa.ok()) << nfa.status().message();
      const PatternBounds bounds = AnalyzeBounds(pattern.pattern, *nfa);
      actual[pattern.name] = {bounds.growth, bounds.degree,
                              bounds.unbounded.has_value(), bounds.Dangerous()};
    }
  }
  ASSERT_EQ(actual.size(), expected.size());
  for (const auto& [name, want] : expected) {
    SCOPED_TRACE(name);
    ASSERT_EQ(actual.count(name), 1u);
    EXPECT_EQ(actual[name].growth, want.growth);
    EXPECT_EQ(actual[name].degree, want.degree);
    EXPECT_EQ(actual[name].unbounded, want.unbounded);
    EXPECT_EQ(actual[name].dangerous, want.dangerous);
  }
}

TEST(PatternBoundsTest, StageWindowsBoundAPatternWithoutWindow) {
  const Compiled c = Compile(
      "event E {\n  k string key\n  x int\n  ts timestamp time\n}\n"
      "pattern p on E {\n  begin a where x == 1\n"
      "  followed by b where x == 1 within 1h\n"
      "  followed by c where x == 0 within 10m\n}\n",
      "stage_windows.cep");
  const PatternBounds bounds =
      AnalyzeBounds(c.file.patterns().front().pattern, c.nfa);
  EXPECT_EQ(bounds.window, Duration::zero());
  EXPECT_FALSE(bounds.unbounded.has_value());
  EXPECT_EQ(
      bounds.stage_windows,
      (std::vector<std::pair<std::string, Duration>>{
          {"b", std::chrono::hours(1)}, {"c", std::chrono::minutes(10)}}));
  EXPECT_EQ(GrowthWords(bounds), "linear");
  EXPECT_FALSE(bounds.Dangerous());
}

TEST(PatternBoundsTest, GrowthWordsAndDanger) {
  PatternBounds bounds;
  EXPECT_EQ(GrowthWords(bounds), "constant");
  EXPECT_FALSE(bounds.Dangerous());
  bounds.unbounded = UnboundedWait{};
  EXPECT_FALSE(bounds.Dangerous()) << "constant needs no window";
  bounds.growth = BoundGrowth::kPolynomial;
  bounds.degree = 1;
  EXPECT_EQ(GrowthWords(bounds), "linear");
  EXPECT_TRUE(bounds.Dangerous()) << "linear in the whole stream";
  bounds.unbounded.reset();
  EXPECT_FALSE(bounds.Dangerous());
  bounds.degree = 2;
  EXPECT_EQ(GrowthWords(bounds), "polynomial of degree 2");
  EXPECT_TRUE(bounds.Dangerous());
  bounds.growth = BoundGrowth::kExponential;
  bounds.degree = 0;
  EXPECT_EQ(GrowthWords(bounds), "exponential");
  EXPECT_TRUE(bounds.Dangerous());
}

}  // namespace
}  // namespace cep
