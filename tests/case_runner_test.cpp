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

#include <filesystem>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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
  }

 private:
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
