// A --state directory whose run finished holds no partial match, but still
// belongs to its pattern: a run with another version of the pattern, or
// without it, is refused naming both hashes unless --migrate (README,
// "State in RocksDB"); the old run's output stays as it was.

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "cep/dsl.hpp"
#include "cep/run.hpp"

#include "testing/status_matchers.hpp"

namespace cep {
namespace {

using ::cep::testing::IsOk;
using ::cep::testing::StatusIs;
using ::testing::MatchesRegex;

constexpr const char* kEvents = R"(
event Auth {
  card    string  key
  amount  double
  ts      timestamp time
}
)";

constexpr const char* kSmallThenBig = R"(
pattern small_then_big on Auth within 2m {
  begin small where amount < 10
  followed by big where amount > 100
}
)";

constexpr const char* kOther = R"(
pattern big_twice on Auth within 2m {
  begin a where amount > 100
  followed by b where amount > 100
}
)";

class RocksDbRefusalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("cep_rocksdb_refusal_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    input_ = (dir_ / "events.jsonl").string();
    std::ofstream(input_) << R"({"card":"c1","amount":1,"ts":1000})"
                          << "\n"
                          << R"({"card":"c1","amount":500,"ts":2000})"
                          << "\n"
                          << R"({"card":"c2","amount":300,"ts":3000})"
                          << "\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A run of `patterns` over input_ with --state in dir_, matches appended
  // to dir_/matches.jsonl.
  absl::StatusOr<RunStats> Run(const std::string& patterns,
                               std::vector<std::string> words = {}) {
    absl::StatusOr<PatternFile> file =
        ParsePatternFile(kEvents + patterns, "p.cep");
    if (!file.ok()) return file.status();
    words.push_back("--state");
    words.push_back("rocksdb:" + (dir_ / "state").string());
    RunOptions options;
    if (absl::Status status = ParseRunOptions(words, options); !status.ok()) {
      return status;
    }
    const std::string matches_path = (dir_ / "matches.jsonl").string();
    std::ofstream matches(matches_path, std::ios::app);
    RunOutputs outputs{.matches = &matches, .matches_path = matches_path};
    std::ifstream in(input_);
    return RunPatternFile(*file, in, "events.jsonl", options, outputs);
  }

  std::string Matches() const {
    std::ifstream in(dir_ / "matches.jsonl");
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }

  std::filesystem::path dir_;
  std::string input_;
};

TEST_F(RocksDbRefusalTest, FinishedRunRefusesAnotherVersionOfItsPattern) {
  absl::StatusOr<RunStats> first = Run(kSmallThenBig);
  ASSERT_THAT(first.status(), IsOk());
  EXPECT_EQ(first->matches, 1u);
  const std::string matches = Matches();
  ASSERT_FALSE(matches.empty());

  std::string changed = kSmallThenBig;
  changed.replace(changed.find("within 2m"), 9, "within 3m");
  EXPECT_THAT(
      Run(changed).status(),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               MatchesRegex(
                   ".*/state/db\\[small_then_big@[0-9a-f]{16}\\]: error: "
                   "holds the state of pattern 'small_then_big' with hash "
                   "[0-9a-f]{16}; the pattern now has hash [0-9a-f]{16}; run "
                   "with --migrate to start it fresh while the old version "
                   "drains, or with another --state directory")));
  EXPECT_EQ(Matches(), matches);  // left as it was

  // The same version resumes at the end of its input: nothing more to do.
  absl::StatusOr<RunStats> again = Run(kSmallThenBig);
  ASSERT_THAT(again.status(), IsOk());
  EXPECT_EQ(again->events, 0u);
  EXPECT_EQ(Matches(), matches);

  // --migrate: the old version holds nothing, so it is dropped at once.
  ASSERT_THAT(Run(changed, {"--migrate"}).status(), IsOk());
  ASSERT_THAT(Run(changed).status(), IsOk());
}

TEST_F(RocksDbRefusalTest, FinishedRunRefusesFilesWithoutItsPattern) {
  ASSERT_THAT(Run(kSmallThenBig).status(), IsOk());
  EXPECT_THAT(Run(kOther).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       MatchesRegex(".*: error: holds the state of pattern "
                                    "'small_then_big', which the pattern "
                                    "files do not declare; run with "
                                    "--migrate to let it drain, or with "
                                    "another --state directory")));
  ASSERT_THAT(Run(kOther, {"--migrate"}).status(), IsOk());
  ASSERT_THAT(Run(kOther).status(), IsOk());
}

}  // namespace
}  // namespace cep
