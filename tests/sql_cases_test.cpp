// The SQL import cases: every directory under tests/sql/ is one GoogleTest
// test, SqlCases.<directory name>, registered at start-up. A directory holds
//   query.sql       a MATCH_RECOGNIZE query (opening with comments: where it
//                   comes from and which matches it must give)
//   expected.cep    what `cep import-sql query.sql --name DIRECTORY` prints
//   events.jsonl    events
//   expected.jsonl  the matches `cep run expected.cep` finds in them
// The test translates query.sql (sql::ImportMatchRecognize, what the command
// calls), compares the text with expected.cep, then runs it as `cep run`
// does (cep::RunPatternFile) and compares the matches, both exactly.
// CEP_UPDATE_EXPECTED=1 rewrites both expected files; read the diff.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cep/dsl.hpp"
#include "cep/run.hpp"

#include "sql/to_cep.hpp"
#include "testing/status_matchers.hpp"

namespace cep::testing {
namespace {

const std::filesystem::path kSqlDir =
    std::filesystem::path(CEP_SOURCE_DIR) / "tests" / "sql";

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteAll(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

bool Update() {
  const char* update = std::getenv("CEP_UPDATE_EXPECTED");
  return update != nullptr && std::string(update) == "1";
}

class SqlCaseTest : public ::testing::Test {
 public:
  explicit SqlCaseTest(std::filesystem::path dir) : dir_(std::move(dir)) {}

  void TestBody() override {
    const std::string name = dir_.filename().string();
    absl::StatusOr<std::string> cep_text = sql::ImportMatchRecognize(
        ReadAll(dir_ / "query.sql"),
        {.source_name = "query.sql", .pattern_name = name});
    ASSERT_THAT(cep_text, IsOk());
    if (Update()) WriteAll(dir_ / "expected.cep", *cep_text);
    EXPECT_EQ(*cep_text, ReadAll(dir_ / "expected.cep"))
        << (dir_ / "expected.cep").string();

    absl::StatusOr<PatternFile> file =
        ParsePatternFile(*cep_text, "expected.cep");
    ASSERT_THAT(file, IsOk());
    std::istringstream input(ReadAll(dir_ / "events.jsonl"));
    std::ostringstream matches;
    RunOutputs outputs{.matches = &matches};
    absl::StatusOr<RunStats> stats =
        RunPatternFile(*file, input, "events.jsonl", RunOptions{}, outputs);
    ASSERT_THAT(stats, IsOk());
    if (Update()) WriteAll(dir_ / "expected.jsonl", matches.str());
    EXPECT_EQ(matches.str(), ReadAll(dir_ / "expected.jsonl"))
        << (dir_ / "expected.jsonl").string();
  }

 private:
  std::filesystem::path dir_;
};

std::vector<std::filesystem::path> DiscoverSqlCases() {
  std::vector<std::filesystem::path> dirs;
  for (const auto& entry : std::filesystem::directory_iterator(kSqlDir)) {
    if (entry.is_directory() &&
        std::filesystem::exists(entry.path() / "query.sql")) {
      dirs.push_back(entry.path());
    }
  }
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

void RegisterSqlCases() {
  for (const std::filesystem::path& dir : DiscoverSqlCases()) {
    const std::string name = dir.filename().string();
    ::testing::RegisterTest(
        "SqlCases", name.c_str(), nullptr, nullptr, __FILE__, __LINE__,
        [dir]() -> ::testing::Test* { return new SqlCaseTest(dir); });
  }
}

TEST(SqlCasesTest, FindsCases) {
  EXPECT_GE(DiscoverSqlCases().size(), 4u) << kSqlDir.string();
}

}  // namespace
}  // namespace cep::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  cep::testing::RegisterSqlCases();
  return RUN_ALL_TESTS();
}
