// RunPatternFile with RunOptions::watch_files (`cep run --watch`): the
// pattern file is rewritten under a running run fed through a stream the
// test controls (a live pipe: reads wait until the test feeds more), and
// the outputs before and after the swap are exact: a changed pattern's old
// version finishes its partial matches (drain), the new version matches
// only events after the swap, an added pattern starts, a removed one
// drains, and an unchanged pattern's output is that of a run without the
// reload — in memory and with RocksDB state, with 1 and 2 workers.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <streambuf>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "cep/dsl.hpp"
#include "cep/run.hpp"

#include "testing/status_matchers.hpp"

namespace cep {
namespace {

namespace fs = std::filesystem;
using ::cep::testing::IsOk;

// A live input: reads wait until the test feeds more, or closes it.
// idle() tells that the reader found nothing more to read (it asked how
// much it could read without waiting, with everything fed taken).
class FeedBuf final : public std::streambuf {
 public:
  void Feed(const std::string& text) {
    std::lock_guard<std::mutex> lock(mu_);
    data_ += text;
    idle_.store(false);
    cv_.notify_all();
  }
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    cv_.notify_all();
  }
  bool idle() const { return idle_.load(); }

 protected:
  int_type underflow() override {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return taken_ < data_.size() || closed_; });
    if (taken_ >= data_.size()) return traits_type::eof();
    chunk_ = data_.substr(taken_);
    taken_ = data_.size();
    setg(chunk_.data(), chunk_.data(), chunk_.data() + chunk_.size());
    return traits_type::to_int_type(*gptr());
  }
  std::streamsize showmanyc() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (taken_ < data_.size()) {
      return static_cast<std::streamsize>(data_.size() - taken_);
    }
    if (closed_) return -1;
    idle_.store(true);
    return 0;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::string data_;  // guarded by mu_
  size_t taken_ = 0;  // guarded by mu_
  bool closed_ = false;
  std::string chunk_;  // the reader's
  std::atomic<bool> idle_{false};
};

constexpr const char* kTypes = R"(event Tx {
  card    string     key
  amount  double
  ts      timestamp  time
}
)";

// Before: `big` (>= 100 twice), `small` (< 10 twice), `gone` (42 twice).
constexpr const char* kBefore = R"(
pattern big on Tx within 10m {
  begin a where amount >= 100
  followed by b where amount >= 100
}

pattern small on Tx within 10m {
  begin a where amount < 10
  followed by b where amount < 10
}

pattern gone on Tx within 10m {
  begin a where amount == 42
  followed by b where amount == 42
}
)";

// After: `big` changed (>= 200), `small` the same (comments and layout
// differ), `gone` removed, `mid` added (50 to 60 twice).
constexpr const char* kAfter = R"(
// small: unchanged, but moved first and commented.
pattern small on Tx within 10m {
  begin a where amount < 10
  followed by b where amount < 10   // again
}

pattern big on Tx within 10m {
  begin a where amount >= 200
  followed by b where amount >= 200
}

pattern mid on Tx within 10m {
  begin a where amount >= 50 and amount <= 60
  followed by b where amount >= 50 and amount <= 60
}
)";

std::string Event(const std::string& card, int amount, int ts) {
  return "{\"card\":\"" + card + "\",\"amount\":" + std::to_string(amount) +
         ",\"ts\":" + std::to_string(ts) + "}\n";
}

// Before the swap: partial matches of big (c1, c3), small (c2), gone (c4);
// c5's 55 would start `mid`, which does not exist yet; c8's 500, the last,
// still waits for the watermark at the swap: read before it, it starts a
// match of the old `big` (which drains, so finishes it) and none of the
// new one.
const std::string kPhase1 = Event("c1", 150, 1000) + Event("c2", 5, 2000) +
                            Event("c3", 300, 2500) + Event("c4", 42, 2600) +
                            Event("c5", 55, 2650) + Event("c8", 500, 2700);
const std::string kPhase2 =
    Event("c1", 160, 3000) + Event("c2", 6, 4000) + Event("c3", 350, 4500) +
    Event("c4", 42, 4600) + Event("c5", 56, 4700) + Event("c5", 57, 4800) +
    Event("c3", 400, 5000) + Event("c8", 510, 5100) + Event("c8", 520, 5200);

std::string Match(const std::string& pattern, const std::string& card,
                  int seq_a, int amount_a, int ts_a, int seq_b, int amount_b,
                  int ts_b) {
  auto event = [&](int seq, int amount, int ts) {
    return "[{\"seq\":" + std::to_string(seq) + ",\"card\":\"" + card +
           "\",\"amount\":" + std::to_string(amount) +
           ".0,\"ts\":" + std::to_string(ts) + "}]";
  };
  return "{\"pattern\":\"" + pattern + "\",\"key\":\"" + card +
         "\",\"events\":{\"a\":" + event(seq_a, amount_a, ts_a) +
         ",\"b\":" + event(seq_b, amount_b, ts_b) + "}}\n";
}

// In time order: the old `big` drains (c1, c3, and c8 from its waiting
// 500), `small` goes on (c2), the removed `gone` drains (c4), `mid` starts
// after the swap (56, 57: not 55), the new `big` matches only events read
// after the swap (350 then 400; 510 then 520; not 500).
const std::string kExpected = Match("big", "c1", 0, 150, 1000, 6, 160, 3000) +
                              Match("small", "c2", 1, 5, 2000, 7, 6, 4000) +
                              Match("big", "c3", 2, 300, 2500, 8, 350, 4500) +
                              Match("gone", "c4", 3, 42, 2600, 9, 42, 4600) +
                              Match("mid", "c5", 10, 56, 4700, 11, 57, 4800) +
                              Match("big", "c3", 8, 350, 4500, 12, 400, 5000) +
                              Match("big", "c8", 5, 500, 2700, 13, 510, 5100) +
                              Match("big", "c8", 13, 510, 5100, 14, 520, 5200);

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string Sorted(const std::string& text) {
  std::vector<std::string> lines = Lines(text);
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const std::string& line : lines) out += line + "\n";
  return out;
}

std::string OfPattern(const std::string& text, const std::string& pattern) {
  std::string out;
  for (const std::string& line : Lines(text)) {
    if (line.find("\"pattern\":\"" + pattern + "\"") != std::string::npos) {
      out += line + "\n";
    }
  }
  return out;
}

// Waits up to 20 s for `done`.
template <typename Fn>
bool WaitFor(Fn done) {
  for (int tries = 0; tries < 2000; ++tries) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

struct Mode {
  const char* name;
  bool rocksdb;
  size_t parallelism;
  bool per_run = false;  // EvaluationStrategy::kPerRun (default: shared)
};

class WatchRunTest : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override {
    std::string name = GetParam().name;
    dir_ = fs::temp_directory_path() /
           ("cep_watch_run_" + std::to_string(::getpid()) + "_" + name);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "p.cep").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Replaces the pattern file at once (a rename), as an editor or a
  // deployment would.
  void Rewrite(const std::string& text) {
    const std::string tmp = path_ + ".tmp";
    std::ofstream(tmp, std::ios::binary) << text;
    fs::rename(tmp, path_);
  }

  fs::path dir_;
  std::string path_;
};

TEST_P(WatchRunTest, SwapsTheNewVersionInWithoutStopping) {
  const Mode mode = GetParam();
  Rewrite(std::string(kTypes) + kBefore);
  absl::StatusOr<PatternFile> file = LoadPatternFile(path_);
  ASSERT_THAT(file.status(), IsOk());

  RunOptions options;
  options.parallelism = mode.parallelism;
  if (mode.per_run) options.evaluator.strategy = EvaluationStrategy::kPerRun;
  if (mode.rocksdb) options.state_dir = (dir_ / "state").string();
  options.watch_files = {path_};
  options.watch_interval = std::chrono::milliseconds(20);
  std::mutex mu;
  std::vector<std::string> reports;
  options.watch_report = [&](const std::string& line) {
    std::lock_guard<std::mutex> lock(mu);
    reports.push_back(line);
  };
  auto reported = [&] {
    std::lock_guard<std::mutex> lock(mu);
    return reports;
  };
  FeedBuf feed;
  std::istream input(&feed);
  std::ostringstream matches;
  RunOutputs outputs{.matches = &matches};
  absl::StatusOr<RunStats> stats;
  std::thread run(
      [&] { stats = RunPatternFile(*file, input, "live", options, outputs); });

  feed.Feed(kPhase1);
  ASSERT_TRUE(WaitFor([&] { return feed.idle(); }));
  Rewrite(std::string(kTypes) + kAfter);
  const bool reloaded = WaitFor([&] { return !reported().empty(); });
  feed.Feed(kPhase2);
  feed.Close();
  run.join();
  ASSERT_TRUE(reloaded);
  ASSERT_THAT(stats.status(), IsOk());
  EXPECT_THAT(reported(),
              ::testing::ElementsAre(
                  "reloaded " + path_ +
                  ": pattern 'big' changed (old version drains 2 keys), "
                  "pattern 'mid' added, pattern 'gone' removed (drains 1 "
                  "key)"));
  EXPECT_EQ(stats->reloads, 1u);
  EXPECT_EQ(stats->rejected_reloads, 0u);
  EXPECT_EQ(stats->events, 15u);
  EXPECT_EQ(stats->matches, 8u);
  if (mode.parallelism == 1) {
    EXPECT_EQ(matches.str(), kExpected);
  } else {
    EXPECT_EQ(Sorted(matches.str()), Sorted(kExpected));
  }

  // `small` as a run without the reload gives it.
  std::istringstream all(kPhase1 + kPhase2);
  std::ostringstream reference;
  RunOutputs reference_outputs{.matches = &reference};
  RunOptions plain;
  ASSERT_THAT(
      RunPatternFile(*file, all, "all", plain, reference_outputs).status(),
      IsOk());
  EXPECT_EQ(OfPattern(matches.str(), "small"),
            OfPattern(reference.str(), "small"));
  EXPECT_FALSE(OfPattern(reference.str(), "small").empty());
}

// The old version holds nothing at the swap, but the event read before it
// still waits for the watermark: the old version drains it (starts and
// finishes its match); the new version matches only later events.
TEST_P(WatchRunTest, AWaitingEventStillStartsTheOldVersion) {
  const Mode mode = GetParam();
  const std::string big = R"(
pattern big on Tx within 10m {
  begin a where amount >= 100
  followed by b where amount >= 100
}
)";
  Rewrite(std::string(kTypes) + big);
  absl::StatusOr<PatternFile> file = LoadPatternFile(path_);
  ASSERT_THAT(file.status(), IsOk());
  RunOptions options;
  options.parallelism = mode.parallelism;
  if (mode.per_run) options.evaluator.strategy = EvaluationStrategy::kPerRun;
  if (mode.rocksdb) options.state_dir = (dir_ / "state").string();
  options.watch_files = {path_};
  options.watch_interval = std::chrono::milliseconds(20);
  std::mutex mu;
  std::vector<std::string> reports;
  options.watch_report = [&](const std::string& line) {
    std::lock_guard<std::mutex> lock(mu);
    reports.push_back(line);
  };
  FeedBuf feed;
  std::istream input(&feed);
  std::ostringstream matches;
  RunOutputs outputs{.matches = &matches};
  absl::StatusOr<RunStats> stats;
  std::thread run(
      [&] { stats = RunPatternFile(*file, input, "live", options, outputs); });
  feed.Feed(Event("c1", 150, 1000));
  ASSERT_TRUE(WaitFor([&] { return feed.idle(); }));
  std::string after = big;
  after.replace(after.find(">= 100"), 6, ">= 200");
  after.replace(after.find(">= 100"), 6, ">= 200");
  Rewrite(std::string(kTypes) + after);
  const bool reloaded = WaitFor([&] {
    std::lock_guard<std::mutex> lock(mu);
    return !reports.empty();
  });
  feed.Feed(Event("c1", 160, 3000) + Event("c1", 260, 6000) +
            Event("c1", 270, 7000));
  feed.Close();
  run.join();
  ASSERT_TRUE(reloaded);
  ASSERT_THAT(stats.status(), IsOk());
  EXPECT_THAT(reports, ::testing::ElementsAre(
                           "reloaded " + path_ +
                           ": pattern 'big' changed (old version drains 0 "
                           "keys)"));
  EXPECT_EQ(matches.str(), Match("big", "c1", 0, 150, 1000, 1, 160, 3000) +
                               Match("big", "c1", 2, 260, 6000, 3, 270, 7000));
}

INSTANTIATE_TEST_SUITE_P(
    Modes, WatchRunTest,
    ::testing::Values(Mode{"memory", false, 1}, Mode{"memory_p2", false, 2},
                      Mode{"rocksdb", true, 1}, Mode{"rocksdb_p2", true, 2},
                      Mode{"memory_per_run", false, 1, true},
                      Mode{"rocksdb_per_run", true, 1, true}),
    [](const ::testing::TestParamInfo<Mode>& info) {
      return std::string(info.param.name);
    });

}  // namespace
}  // namespace cep
