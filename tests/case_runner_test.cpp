// The data-driven cases: every directory under tests/cases/ is one
// GoogleTest test, Cases.<directory name>, registered at start-up.
//
// A case directory holds:
//   pattern.cep                 the pattern file. Opens with comments: what
//                               the case checks, the FlinkCEP test it mirrors,
//                               #123 for regressions. Lines
//                                 // options: --max-out-of-orderness 5s
//                                 --on-error skip
//                               set run options, with `cep run`'s flag names
//                               and values (parsed by cep::ParseRunOptions,
//                               the same code the command uses).
//   events.jsonl                the input, one JSON object per line (absent:
//                               no events)
//   expected.jsonl              the matches
//   expected_timeouts.jsonl     timed-out partial matches
//   expected_late.jsonl         late events
//   expected_dead_letter.jsonl  lines skipped by --on-error skip
//   expected_error.txt          the error text: from parsing pattern.cep
//                               (parsed with the file name "pattern.cep"),
//                               or from the run ("events.jsonl:3: error: ...")
// A missing expected file means that output must be empty. The case runs
// exactly what `cep run` runs (cep::RunPatternFile); outputs are compared
// line by line, exactly. A failure names the expected file, the first
// differing line, expected vs actual and the lines around it.
//
// CEP_UPDATE_EXPECTED=1 rewrites the expected files from the actual outputs
// (deleting those whose output is empty) of every case that runs; read the
// diff before committing. Rewrite only the cases you mean to:
//   CEP_UPDATE_EXPECTED=1 build/case_runner_test --gtest_filter='Cases.NAME'
// (an unfiltered run with a broken parser rewrites every case).
//
// Also here: every file in patterns/ parses.

#include <algorithm>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "cep/dsl.hpp"

#include "testing/case_comparer.hpp"
#include "testing/case_executor.hpp"
#include "testing/case_loader.hpp"
#include "testing/status_matchers.hpp"

namespace cep::testing {
namespace {

const std::filesystem::path kCasesDir =
    std::filesystem::path(CEP_SOURCE_DIR) / "tests" / "cases";

class CaseTest : public ::testing::Test {
 public:
  explicit CaseTest(std::filesystem::path dir) : dir_(std::move(dir)) {}

  // The expected files hold the output of the event loop with one worker.
  // Every other loop must give the same bytes; with several workers, the
  // same lines (outputs of different keys may interleave differently).
  void TestBody() override {
    const Case c = LoadCase(dir_);
    const CaseOutputs outputs = ExecuteCase(c);
    if (UpdateExpectedRequested()) {
      WriteExpected(c, outputs);
      return;
    }
    for (const std::string& failure : CompareCase(c, outputs)) {
      ADD_FAILURE() << "case " << dir_.string() << "\n" << failure;
    }
    for (const LoopConfig& config : kLoopConfigs) {
      CaseOutputs other = ExecuteCase(c, config.options);
      if (config.sorted) other = SortLines(std::move(other));
      const CaseOutputs& reference =
          config.sorted ? SortLines(outputs) : outputs;
      for (const auto& [file, text] : reference) {
        if (other[file] == text) continue;
        ADD_FAILURE()
            << "case " << dir_.string() << " with " << config.name << ": "
            << file << " differs from the event loop's\n"
            << CompareOutput(std::string(file), text, other[file]).value_or("");
      }
    }
    // Durable state: RocksDB in a fresh directory, a checkpoint every two
    // events; the same bytes as the event loop in memory, and the same lines
    // with two workers. Not for cases that ask for what it refuses (sorted
    // output).
    const bool sorts = HasOption(c, "sort-output");
    const bool parallel = HasOption(c, "parallelism");
    if (!sorts) {
      ExpectDurable(c, outputs, {}, parallel);
      if (!parallel) ExpectDurable(c, outputs, {"--parallelism", "2"}, true);
    }
  }

 private:
  struct LoopConfig {
    const char* name;
    std::vector<std::string> options;
    bool sorted;  // compare sorted lines
  };
  static inline const std::vector<LoopConfig> kLoopConfigs = {
      {"--loop microbatch --trigger 3events",
       {"--loop", "microbatch", "--trigger", "3events"},
       false},
      {"--loop microbatch --trigger 1s",
       {"--loop", "microbatch", "--trigger", "1s"},
       false},
      {"--loop realtime", {"--loop", "realtime"}, false},
      {"--parallelism 2", {"--parallelism", "2"}, true},
      {"--loop microbatch --trigger 5events --parallelism 3",
       {"--loop", "microbatch", "--trigger", "5events", "--parallelism", "3"},
       true},
      {"--loop realtime --parallelism 2",
       {"--loop", "realtime", "--parallelism", "2"},
       true},
  };

  static bool HasOption(const Case& c, std::string_view name) {
    return std::any_of(c.options.begin(), c.options.end(), [&](const auto& w) {
      return w.find(name) != std::string::npos;
    });
  }

  // The case run with --state rocksdb (plus `extra`) gives `outputs`
  // (their lines, when `sorted`).
  void ExpectDurable(const Case& c, const CaseOutputs& outputs,
                     std::vector<std::string> extra, bool sorted) {
    const std::filesystem::path state =
        std::filesystem::temp_directory_path() /
        ("cep_case_state_" + std::to_string(::getpid()) + "_" +
         dir_.filename().string());
    std::filesystem::remove_all(state);
    std::vector<std::string> options = {"--state", "rocksdb:" + state.string(),
                                        "--checkpoint-every", "2events"};
    options.insert(options.end(), extra.begin(), extra.end());
    CaseOutputs other = ExecuteCase(c, options);
    std::filesystem::remove_all(state);
    const CaseOutputs reference = sorted ? SortLines(outputs) : outputs;
    if (sorted) other = SortLines(std::move(other));
    const std::string name = absl::StrJoin(
        std::vector<std::string>(options.begin() + 2, options.end()), " ");
    for (const auto& [file, text] : reference) {
      if (other.at(file) == text) continue;
      ADD_FAILURE() << "case " << dir_.string() << " with --state rocksdb "
                    << name << ": " << file
                    << " differs from the event loop's\n"
                    << CompareOutput(std::string(file), text, other.at(file))
                           .value_or("");
    }
  }

  static CaseOutputs SortLines(CaseOutputs outputs) {
    for (auto& [file, text] : outputs) {
      std::vector<std::string> lines = absl::StrSplit(text, '\n');
      std::sort(lines.begin(), lines.end());
      text = absl::StrJoin(lines, "\n");
    }
    return outputs;
  }

  std::filesystem::path dir_;
};

void RegisterCases() {
  for (const std::filesystem::path& dir : DiscoverCases(kCasesDir)) {
    const std::string name = dir.filename().string();
    ::testing::RegisterTest(
        "Cases", name.c_str(), nullptr, nullptr, __FILE__, __LINE__,
        [dir]() -> ::testing::Test* { return new CaseTest(dir); });
  }
}

TEST(CaseRunnerTest, FindsCases) {
  EXPECT_FALSE(DiscoverCases(kCasesDir).empty()) << kCasesDir.string();
}

TEST(CaseRunnerTest, ReadsOptionLines) {
  EXPECT_THAT(
      OptionWords("// what\n  // options: --on-error skip\n"
                  "pattern p\n// options:  --max-out-of-orderness=5s\n"),
      ::testing::ElementsAre("--on-error", "skip",
                             "--max-out-of-orderness=5s"));
}

TEST(CaseRunnerTest, ComparisonNamesFirstDifferingLine) {
  auto report = CompareOutput("x/expected.jsonl", "a\nb\nc\n", "a\nB\nc\n");
  ASSERT_TRUE(report.has_value());
  EXPECT_THAT(*report, ::testing::StartsWith(
                           "x/expected.jsonl:2: first difference (expected 3 "
                           "lines, got 3)\n  expected: b\n  actual:   B\n"));
  EXPECT_FALSE(CompareOutput("x", "a\n", "a\n").has_value());
  EXPECT_THAT(*CompareOutput("x", "", "a\n"),
              ::testing::HasSubstr("expected: <end of output>"));
}

TEST(PatternsTest, EveryPatternFileParses) {
  const std::filesystem::path dir =
      std::filesystem::path(CEP_SOURCE_DIR) / "patterns";
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".cep") continue;
    ++files;
    EXPECT_THAT(LoadPatternFile(entry.path().string()), IsOk()) << entry.path();
  }
  EXPECT_GT(files, 0);
}

}  // namespace
}  // namespace cep::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  cep::testing::RegisterCases();
  return RUN_ALL_TESTS();
}
