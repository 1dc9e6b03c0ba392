// RunPatternFile and the partial-match cap (#13): the default, the flags
// --max-partial-matches and --overflow, a pattern's `max partial matches`
// clause winning over them, evictions in RunStats overall and per pattern;
// and timed-out partial matches counted exactly when no output takes them.
#include <algorithm>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cep/dsl.hpp"
#include "cep/evaluator.hpp"
#include "cep/run.hpp"

#include "testing/status_matchers.hpp"

namespace cep {
namespace {

using ::cep::testing::IsOk;
using ::cep::testing::StatusIs;
using ::testing::ElementsAre;

constexpr char kEvents[] = R"(event E {
  card  string     key
  name  string
  ts    timestamp  time
}
)";

// #13's pattern: after k b's a key holds 1 + k(k+1)/2 partial matches.
std::string Quadratic(const std::string& name, const std::string& clause) {
  return absl::StrCat("pattern ", name, " on E ", clause,
                      " {\n"
                      "  begin a where name == \"a\"\n"
                      "  followed by any b + where name == \"b\"\n"
                      "  followed by c where name == \"c\"\n"
                      "}\n");
}

// One key: an a, then `bs` b's.
std::string HotKey(int bs) {
  std::string input = R"({"card":"c1","name":"a","ts":0})"
                      "\n";
  for (int i = 1; i <= bs; ++i) {
    absl::StrAppend(&input, R"({"card":"c1","name":"b","ts":)", i, "}\n");
  }
  return input;
}

absl::StatusOr<RunStats> RunText(const std::string& text,
                                 const std::string& input,
                                 const RunOptions& options,
                                 RunOutputs outputs) {
  absl::StatusOr<PatternFile> file = ParsePatternFile(text, "t.cep");
  if (!file.ok()) return file.status();
  std::istringstream in(input);
  return RunPatternFile(*file, in, "events.jsonl", options, outputs);
}

TEST(RunCapTest, DefaultIsTenThousandPerKeyAndPattern) {
  EXPECT_EQ(RunOptions().evaluator.max_partial_matches, 10000u);
  EXPECT_EQ(RunOptions().evaluator.overflow_policy,
            OverflowPolicy::kDropOldest);
  // 300 events on one key: unbounded, 45151 partial matches (#13: 6 GB).
  // 1 + 140 * 141 / 2 = 9871 fit; the 141st b makes 10012.
  // The cap applies to partial matches kept per run.
  RunOptions per_run;
  per_run.evaluator.strategy = EvaluationStrategy::kPerRun;
  absl::StatusOr<RunStats> stats =
      RunText(absl::StrCat(kEvents, Quadratic("p", "")), HotKey(299), per_run,
              RunOutputs());
  ASSERT_THAT(stats, IsOk());
  EXPECT_EQ(stats->evicted_partial_matches, 22290u);
  EXPECT_THAT(stats->pattern_evicted, ElementsAre(22290u));
  EXPECT_THAT(stats->pattern_shared, ElementsAre(false));
  // By default the pattern shares its partial matches: nothing is evicted
  // (their memory grows with the events, not with their number).
  stats = RunText(absl::StrCat(kEvents, Quadratic("p", "")), HotKey(299),
                  RunOptions(), RunOutputs());
  ASSERT_THAT(stats, IsOk());
  EXPECT_EQ(stats->evicted_partial_matches, 0u);
  EXPECT_THAT(stats->pattern_shared, ElementsAre(true));
}

TEST(RunCapTest, FlagsSetTheCapAndPolicy) {
  RunOptions options;
  ASSERT_THAT(
      ParseRunOptions(
          {"--max-partial-matches", "16", "--overflow", "refuse-new"}, options),
      IsOk());
  EXPECT_EQ(options.evaluator.max_partial_matches, 16u);
  EXPECT_EQ(options.evaluator.overflow_policy,
            OverflowPolicy::kRejectNewStarts);
  ASSERT_THAT(SetRunOption("overflow", "drop-oldest", options), IsOk());
  EXPECT_EQ(options.evaluator.overflow_policy, OverflowPolicy::kDropOldest);
  ASSERT_THAT(SetRunOption("max-partial-matches", "0", options), IsOk());
  EXPECT_EQ(options.evaluator.max_partial_matches, 0u);
  EXPECT_THAT(SetRunOption("overflow", "drop-newest", options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "--overflow: 'drop-newest' is not drop-oldest or "
                       "refuse-new"));
  EXPECT_THAT(SetRunOption("max-partial-matches", "-1", options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "--max-partial-matches: '-1' is not a number, 0 or "
                       "more"));
}

TEST(RunCapTest, ClauseWinsOverTheFlagAndEvictionsArePerPattern) {
  // Cap 16 dropping the oldest: 6 evicted per b from the 6th (evaluator
  // test CapDropOldestNeverExceededAndEvictionsCountedExactly); 100 b's.
  // `clause` has its own 16, `none` its own 0 (no limit), `refuse` 16
  // refusing the newest: k + 14 after the 50th b. A clause keeps its
  // pattern per run; `flag` has none, so it shares its partial matches and
  // --max-partial-matches 16 does not apply to it; with --evaluation
  // per-run it does.
  const std::string text =
      absl::StrCat(kEvents, Quadratic("flag", ""),
                   Quadratic("clause", "max partial matches 16 drop oldest"),
                   Quadratic("none", "max partial matches 0"),
                   Quadratic("refuse", "max partial matches 16 refuse new"));
  RunOptions options;
  options.evaluator.max_partial_matches = 16;
  options.evaluator.overflow_policy = OverflowPolicy::kRejectNewStarts;
  // The clause without a policy keeps the flag's: `flag` refuses new ones.
  absl::StatusOr<RunStats> stats = RunText(text, HotKey(100), options, {});
  ASSERT_THAT(stats, IsOk());
  EXPECT_THAT(stats->pattern_names,
              ElementsAre("flag", "clause", "none", "refuse"));
  EXPECT_THAT(stats->pattern_evicted, ElementsAre(0u, 570u, 0u, 114u));
  EXPECT_EQ(stats->evicted_partial_matches, 570u + 114u);
  EXPECT_THAT(stats->pattern_shared, ElementsAre(true, false, false, false));
  options.evaluator.strategy = EvaluationStrategy::kPerRun;
  stats = RunText(text, HotKey(100), options, {});
  ASSERT_THAT(stats, IsOk());
  EXPECT_THAT(stats->pattern_evicted, ElementsAre(114u, 570u, 0u, 114u));
  EXPECT_EQ(stats->evicted_partial_matches, 114u + 570u + 114u);
}

TEST(RunCapTest, EvaluationFlagChoosesTheStrategy) {
  RunOptions options;
  EXPECT_EQ(options.evaluator.strategy, EvaluationStrategy::kAuto);
  ASSERT_THAT(SetRunOption("evaluation", "per-run", options), IsOk());
  EXPECT_EQ(options.evaluator.strategy, EvaluationStrategy::kPerRun);
  ASSERT_THAT(SetRunOption("evaluation", "auto", options), IsOk());
  EXPECT_EQ(options.evaluator.strategy, EvaluationStrategy::kAuto);
  ASSERT_THAT(SetRunOption("evaluation", "shared", options), IsOk());
  EXPECT_EQ(options.evaluator.strategy, EvaluationStrategy::kShared);
  EXPECT_THAT(SetRunOption("evaluation", "both", options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "--evaluation: 'both' is not auto, shared or per-run"));
}

// `after match skip past last event` shares its partial matches only when
// asked for (--evaluation shared), with the same matches as per run.
TEST(RunCapTest, SkipPastLastEventSharesOnlyWhenAskedFor) {
  const std::string text =
      absl::StrCat(kEvents,
                   "pattern p on E after match skip past last event {\n"
                   "  begin a where name == \"a\"\n"
                   "  followed by any b + where name == \"b\"\n"
                   "  followed by c where name == \"c\"\n"
                   "}\n");
  std::string input;
  for (int i = 0; i < 40; ++i) {
    const char* name = i % 7 == 0 ? "a" : i % 5 == 0 ? "c" : "b";
    absl::StrAppend(&input, R"({"card":"c)", i % 3, R"(","name":")", name,
                    R"(","ts":)", i, "}\n");
  }
  std::string outputs[3];
  const EvaluationStrategy strategies[] = {EvaluationStrategy::kAuto,
                                           EvaluationStrategy::kShared,
                                           EvaluationStrategy::kPerRun};
  const bool shared[] = {false, true, false};
  for (int i = 0; i < 3; ++i) {
    RunOptions options;
    options.evaluator.strategy = strategies[i];
    std::ostringstream matches;
    absl::StatusOr<RunStats> stats =
        RunText(text, input, options, RunOutputs{.matches = &matches});
    ASSERT_THAT(stats, IsOk());
    EXPECT_THAT(stats->pattern_shared, ElementsAre(shared[i])) << i;
    outputs[i] = matches.str();
  }
  EXPECT_NE(outputs[0], "");
  EXPECT_EQ(outputs[1], outputs[0]);
  EXPECT_EQ(outputs[2], outputs[0]);
}

TEST(RunCapTest, TimeoutsWithoutAnOutputAreCountedExactly) {
  const std::string text = absl::StrCat(kEvents,
                                        "pattern p on E within 10ms {\n"
                                        "  begin a where name == \"a\"\n"
                                        "  followed by b where name == \"b\"\n"
                                        "}\n");
  std::string input;
  for (int i = 0; i < 50; ++i) {
    absl::StrAppend(&input, R"({"card":"c)", i % 7, R"(","name":"a","ts":)",
                    i * 3, "}\n");
  }
  absl::StrAppend(&input, R"({"card":"c0","name":"b","ts":150})", "\n");
  std::ostringstream timeouts;
  absl::StatusOr<RunStats> with_output =
      RunText(text, input, RunOptions(), RunOutputs{.timeouts = &timeouts});
  ASSERT_THAT(with_output, IsOk());
  const std::string lines = timeouts.str();
  const uint64_t written =
      static_cast<uint64_t>(std::count(lines.begin(), lines.end(), '\n'));
  EXPECT_EQ(with_output->timeouts, written);
  // 50 a's on 7 cards, each waiting 10 ms: all time out but the last of
  // c0 (ts 147), which the b at 150 completes.
  EXPECT_EQ(written, 49u);
  EXPECT_EQ(with_output->matches, 1u);
  for (size_t parallelism : {1, 3}) {
    RunOptions options;
    options.parallelism = parallelism;
    absl::StatusOr<RunStats> counted = RunText(text, input, options, {});
    ASSERT_THAT(counted, IsOk());
    EXPECT_EQ(counted->timeouts, written) << parallelism;
    EXPECT_EQ(counted->matches, with_output->matches) << parallelism;
  }
}

}  // namespace
}  // namespace cep
