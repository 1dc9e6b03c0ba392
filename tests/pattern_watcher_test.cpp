// PatternWatcher (`cep run --watch`): which changes of the pattern files it
// notices, what it says about a version that does not check, and
// PlanReload's decisions and messages.

#include "run/pattern_watcher.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "cep/dsl.hpp"
#include "cep/runtime.hpp"

#include "run/reload_plan.hpp"
#include "testing/status_matchers.hpp"

namespace cep::run {
namespace {

namespace fs = std::filesystem;
using ::cep::testing::IsOk;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr const char* kTypes = R"(event Tx {
  card    string     key
  amount  double
  ts      timestamp  time
}
)";

std::string Pattern(const std::string& name, int threshold) {
  return "pattern " + name + " on Tx within 10m {\n  begin a where amount >= " +
         std::to_string(threshold) +
         "\n  followed by b where amount >= " + std::to_string(threshold) +
         "\n}\n";
}

class PatternWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cep_pattern_watcher_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    a_ = (dir_ / "a.cep").string();
    b_ = (dir_ / "b.cep").string();
    Write(a_, std::string(kTypes) + Pattern("p", 100));
    Write(b_, std::string(kTypes) + Pattern("q", 100));
    absl::StatusOr<PatternFile> a = LoadPatternFile(a_);
    ASSERT_THAT(a.status(), IsOk());
    running_ = *std::move(a);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static void Write(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
  }

  PatternWatcher Watch() {
    return PatternWatcher({a_, b_}, std::chrono::milliseconds(100),
                          [this](const PatternFile& candidate) {
                            return CheckReload(running_, candidate);
                          });
  }

  // A poll now (due or not).
  std::optional<WatchedReload> Poll(PatternWatcher& watcher) {
    messages_.clear();
    return watcher.Poll(SteadyClockNanos(), messages_);
  }

  fs::path dir_;
  std::string a_, b_;
  PatternFile running_;
  std::vector<std::string> messages_;
};

TEST_F(PatternWatcherTest, UnchangedFilesGiveNothing) {
  PatternWatcher watcher = Watch();
  EXPECT_FALSE(watcher.Due(SteadyClockNanos()));
  EXPECT_FALSE(Poll(watcher).has_value());
  EXPECT_THAT(messages_, IsEmpty());
  // Rewritten with the same text (a touch): nothing.
  Write(a_, std::string(kTypes) + Pattern("p", 100));
  EXPECT_FALSE(Poll(watcher).has_value());
  EXPECT_THAT(messages_, IsEmpty());
  EXPECT_EQ(watcher.rejected(), 0u);
}

TEST_F(PatternWatcherTest, ANewContentComesBackMergedWithTheChangedPaths) {
  PatternWatcher watcher = Watch();
  // Same size as before: the content hash sees it.
  Write(b_, std::string(kTypes) + Pattern("q", 200));
  std::optional<WatchedReload> reload = Poll(watcher);
  ASSERT_TRUE(reload.has_value());
  EXPECT_THAT(messages_, IsEmpty());
  EXPECT_THAT(reload->changed, ElementsAre(b_));
  ASSERT_EQ(reload->file->patterns().size(), 2u);
  EXPECT_EQ(reload->file->patterns()[0].name, "p");
  EXPECT_EQ(reload->file->patterns()[1].name, "q");
  EXPECT_EQ(reload->file->patterns()[1].filename, b_);
  watcher.Accept();
  // Once accepted, the same content is the running version.
  EXPECT_FALSE(Poll(watcher).has_value());
  // Another change, then back to the accepted one before a poll: nothing.
  Write(a_, std::string(kTypes) + Pattern("p", 300));
  Write(a_, std::string(kTypes) + Pattern("p", 100));
  EXPECT_FALSE(Poll(watcher).has_value());
}

TEST_F(PatternWatcherTest, AVersionThatDoesNotCheckIsReportedOnceAndKept) {
  PatternWatcher watcher = Watch();
  Write(a_, std::string(kTypes) +
                "pattern p on Tx within 10m {\n  begin a where amout > 1\n}\n");
  EXPECT_FALSE(Poll(watcher).has_value());
  EXPECT_THAT(
      messages_,
      ElementsAre(a_ + ":7:17: error: unknown field 'amout' of event Tx; "
                       "did you mean 'amount'?; keeping the running "
                       "version\n  begin a where amout > 1\n"
                       "                ^"));
  EXPECT_EQ(watcher.rejected(), 1u);
  // Not said again while the files stay so.
  EXPECT_FALSE(Poll(watcher).has_value());
  EXPECT_THAT(messages_, IsEmpty());
  EXPECT_EQ(watcher.rejected(), 1u);
  // Fixed: offered.
  Write(a_, std::string(kTypes) + Pattern("p", 150));
  std::optional<WatchedReload> reload = Poll(watcher);
  ASSERT_TRUE(reload.has_value());
  EXPECT_THAT(reload->changed, ElementsAre(a_));
}

TEST_F(PatternWatcherTest, EachWayOfNotCheckingIsNamed) {
  PatternWatcher watcher = Watch();
  auto refused = [&](const std::string& text) {
    Write(a_, text);
    EXPECT_FALSE(Poll(watcher).has_value());
    return messages_.size() == 1 ? messages_[0] : "";
  };
  // Files that disagree on the event types.
  EXPECT_EQ(refused("event Tx {\n  card string key\n  ts timestamp time\n}\n"
                    "pattern p on Tx { begin a where card == \"x\" }\n"),
            b_ + ": error: event Tx has 3 fields, not 2 (first file: " + a_ +
                "); keeping the running version");
  // Both on other event types than the run's.
  const std::string other =
      "event Tx {\n  card string key\n  ts timestamp time\n}\n";
  Write(b_, other + "pattern q on Tx { begin a where card == \"y\" }\n");
  EXPECT_EQ(
      refused(other + "pattern p on Tx { begin a where card == \"x\" }\n"),
      a_ + ": error: event Tx has 2 fields, not 3 as in the running "
           "version (changing the event types needs a restart); "
           "keeping the running version");
  Write(b_, std::string(kTypes) + Pattern("q", 100));
  // Two files declaring one pattern name.
  EXPECT_EQ(refused(std::string(kTypes) + Pattern("q", 100)),
            b_ + ": error: pattern 'q' is also declared in an earlier file; "
                 "keeping the running version");
  // No pattern left at all.
  Write(b_, kTypes);
  Write(a_, kTypes + std::string("// none\n"));
  EXPECT_FALSE(Poll(watcher).has_value());
  EXPECT_EQ(refused(kTypes),
            a_ + ": error: the files declare no pattern; keeping the running "
                 "version");
  // Missing.
  fs::remove(a_);
  EXPECT_FALSE(Poll(watcher).has_value());
  EXPECT_THAT(messages_,
              ElementsAre("cannot read '" + a_ +
                          "': No such file or directory; keeping the running "
                          "version"));
  EXPECT_EQ(watcher.rejected(), 6u);
}

TEST(PlanReloadTest, DecidesAndSaysWhatHappensToEachVersion) {
  absl::StatusOr<PatternFile> next = ParsePatternFile(
      std::string(kTypes) + Pattern("keep", 1) + Pattern("changed", 2) +
          Pattern("added", 3) + Pattern("back", 4),
      "n.cep");
  ASSERT_THAT(next.status(), IsOk());
  const std::vector<HeldVersion> held = {
      {"keep", "K", "n.cep", true, 5},       // 0: goes on
      {"changed", "C1", "n.cep", true, 3},   // 1: drains
      {"removed", "R", "n.cep", true, 0},    // 2: dropped (nothing held)
      {"gone", "G", "n.cep", true, 1},       // 3: drains
      {"back", "B2", "n.cep", true, 2},      // 4: drains
      {"back", "B1", "n.cep", false, 7},     // 5: current again
      {"changed", "C0", "n.cep", false, 0},  // 6: done draining: dropped
  };
  const ReloadPlan plan =
      PlanReload(held, {"K", "C2", "A", "B1"}, *next, {"n.cep"});
  EXPECT_THAT(plan.takes_over,
              ElementsAre(std::optional<size_t>(0), std::nullopt, std::nullopt,
                          std::optional<size_t>(5)));
  EXPECT_THAT(plan.drains, ElementsAre(1u, 3u, 4u));
  // Events waiting for the watermark at the swap may still start partial
  // matches of every old version: none is dropped yet.
  EXPECT_THAT(PlanReload(held, {"K", "C2", "A", "B1"}, *next, {"n.cep"},
                         /*waiting=*/true)
                  .drains,
              ElementsAre(1u, 2u, 3u, 4u, 6u));
  EXPECT_THAT(plan.messages,
              ElementsAre("reloaded n.cep: pattern 'changed' changed (old "
                          "version drains 3 keys), pattern 'added' added, "
                          "pattern 'back' changed (old version drains 2 "
                          "keys), pattern 'removed' removed (drains 0 keys), "
                          "pattern 'gone' removed (drains 1 key)"));
}

TEST(PlanReloadTest, EachChangedFileGetsItsLine) {
  absl::StatusOr<PatternFile> a =
      ParsePatternFile(std::string(kTypes) + Pattern("p", 1), "a.cep");
  absl::StatusOr<PatternFile> b =
      ParsePatternFile(std::string(kTypes) + Pattern("q", 2), "b.cep");
  ASSERT_THAT(a.status(), IsOk());
  ASSERT_THAT(b.status(), IsOk());
  std::vector<PatternFile> files;
  files.push_back(*std::move(a));
  files.push_back(*std::move(b));
  absl::StatusOr<PatternFile> next = MergePatternFiles(std::move(files));
  ASSERT_THAT(next.status(), IsOk());
  const std::vector<HeldVersion> held = {{"p", "P", "a.cep", true, 0},
                                         {"q", "Q1", "b.cep", true, 4}};
  const ReloadPlan plan =
      PlanReload(held, {"P", "Q2"}, *next, {"a.cep", "b.cep"});
  EXPECT_THAT(plan.messages,
              ElementsAre("reloaded a.cep: no pattern changed",
                          "reloaded b.cep: pattern 'q' changed (old version "
                          "drains 4 keys)"));
}

}  // namespace
}  // namespace cep::run
