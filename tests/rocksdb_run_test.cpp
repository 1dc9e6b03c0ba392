// RunPatternFile with durable state (--state rocksdb:DIR): the same bytes
// as a run in memory, also when a run stops part-way (as a crash would) and
// a second run resumes from the last checkpoint. The real crash test, with
// SIGKILL, is crash_recovery_test.cpp.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <set>
#include <sstream>
#include <streambuf>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "cep/dsl.hpp"
#include "cep/rocksdb_state.hpp"
#include "cep/run.hpp"

#include "testing/status_matchers.hpp"

namespace cep {
namespace {

using ::cep::testing::IsOk;
using ::cep::testing::StatusIs;
using ::testing::HasSubstr;

// The events of MakeInput().
constexpr const char* kAuthEvent = R"(
event Auth {
  card      string     key
  amount    double
  merchant  string
  result    string
  ts        timestamp  time
}
)";

// Two patterns, one with timeouts, over several cards.
const std::string kPatterns = std::string(kAuthEvent) + R"(
pattern card_testing on Auth
  within 30m
  after match skip past last event {
  begin probe {3,} consecutive greedy where amount <= 2.00 and result == "approved"
  not followed by refund where result == "refund"
  followed by cashout where amount >= 500 and result == "approved"
}

pattern big_then_big on Auth within 2m {
  begin a where amount >= 300
  followed by b where amount >= 400
}
)";

// Seeded events: small probes, big purchases, refunds; a little disorder.
std::string MakeInput(size_t events, uint32_t seed) {
  std::mt19937 rng(seed);
  std::ostringstream out;
  int64_t ts = 1767261600000;  // 2026-01-01T10:00:00Z
  for (size_t idx = 0; idx < events; ++idx) {
    ts += static_cast<int64_t>(rng() % 20000);
    const int64_t jitter = static_cast<int64_t>(rng() % 3000);
    const uint32_t kind = rng() % 10;
    const double amount = kind < 6 ? 0.5 + (rng() % 150) / 100.0
                                   : 100.0 + static_cast<double>(rng() % 900);
    const char* result = kind == 9 ? "refund" : "approved";
    out << "{\"card\":\"c" << rng() % 12 << "\",\"amount\":" << amount
        << ",\"merchant\":\"m" << rng() % 5 << "\",\"result\":\"" << result
        << "\",\"ts\":" << ts - jitter << "}\n";
  }
  return out.str();
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Reads a string like a pipe: no seeking.
class UnseekableBuffer : public std::streambuf {
 public:
  explicit UnseekableBuffer(std::string data) : data_(std::move(data)) {
    setg(data_.data(), data_.data(), data_.data() + data_.size());
  }

 private:
  std::string data_;
};

class RocksDbRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("cep_rocksdb_run_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    absl::StatusOr<PatternFile> file =
        ParsePatternFile(kPatterns, "patterns.cep");
    ASSERT_THAT(file.status(), IsOk());
    file_.emplace(*std::move(file));
    input_ = dir_ / "events.jsonl";
    std::ofstream(input_, std::ios::binary) << MakeInput(3000, 11);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  struct Result {
    absl::Status status;
    bool stopped = false;
    std::string matches;
    std::string timeouts;
    std::string late;
  };

  // One run over input_ writing files under dir_/PREFIX.*; `words` are
  // run options as on the command line.
  // `adjust` changes the options further; `pipe` reads the input through
  // a stream that cannot seek.
  Result Run(const std::string& prefix, const std::vector<std::string>& words,
             size_t stop_after_lines = 0,
             const std::function<void(RunOptions&)>& adjust = nullptr,
             bool pipe = false) {
    RunOptions options;
    EXPECT_THAT(ParseRunOptions(words, options), IsOk());
    options.stop_after_lines = stop_after_lines;
    if (adjust) adjust(options);
    const std::string matches = (dir_ / (prefix + ".matches")).string();
    const std::string timeouts = (dir_ / (prefix + ".timeouts")).string();
    const std::string late = (dir_ / (prefix + ".late")).string();
    Result result;
    {
      const auto mode = std::ios::binary | std::ios::app;
      std::ofstream m(matches, mode), t(timeouts, mode), l(late, mode);
      RunOutputs outputs{.matches = &m, .timeouts = &t, .late = &l};
      if (!options.state_dir.empty()) {
        outputs.matches_path = matches;
        outputs.timeouts_path = timeouts;
        outputs.late_path = late;
      }
      std::ifstream file(input_, std::ios::binary);
      UnseekableBuffer unseekable(ReadFile(input_));
      std::istream piped(&unseekable);
      std::istream& in = pipe ? piped : file;
      absl::StatusOr<RunStats> stats =
          RunPatternFile(*file_, in, input_.string(), options, outputs);
      result.status = stats.status();
      result.stopped = stats.ok() && stats->stopped;
    }
    result.matches = ReadFile(matches);
    result.timeouts = ReadFile(timeouts);
    result.late = ReadFile(late);
    return result;
  }

  std::vector<std::string> State(std::vector<std::string> words) {
    words.push_back("--state");
    words.push_back("rocksdb:" + (dir_ / "state").string());
    return words;
  }

  std::filesystem::path dir_;
  std::optional<PatternFile> file_;
  std::filesystem::path input_;
};

TEST_F(RocksDbRunTest, SameAsInMemory) {
  const Result reference = Run("memory", {"--max-out-of-orderness", "2s"});
  ASSERT_THAT(reference.status, IsOk());
  ASSERT_FALSE(reference.matches.empty());
  ASSERT_FALSE(reference.timeouts.empty());
  ASSERT_FALSE(reference.late.empty());
  const Result durable =
      Run("rocksdb", State({"--max-out-of-orderness", "2s",
                            "--checkpoint-every", "100events"}));
  ASSERT_THAT(durable.status, IsOk());
  EXPECT_EQ(durable.matches, reference.matches);
  EXPECT_EQ(durable.timeouts, reference.timeouts);
  EXPECT_EQ(durable.late, reference.late);
}

TEST_F(RocksDbRunTest, StopsAndResumesToTheSameBytes) {
  for (const char* loop : {"event", "microbatch", "realtime"}) {
    SCOPED_TRACE(loop);
    std::filesystem::remove_all(dir_ / "state");
    const std::vector<std::string> common = {
        "--max-out-of-orderness", "2s", "--loop", loop, "--trigger", "7events"};
    const Result reference = Run(std::string("memory_") + loop, common);
    ASSERT_THAT(reference.status, IsOk());
    std::vector<std::string> words = common;
    words.insert(words.end(), {"--checkpoint-every", "97events"});
    words = State(words);
    const std::string prefix = std::string("durable_") + loop;
    // Three stops, at lines not on a checkpoint, then the rest.
    for (size_t stop : {1000, 1500, 2222}) {
      EXPECT_THAT(Run(prefix, words, stop).status,
                  StatusIs(absl::StatusCode::kAborted, ::testing::_));
    }
    const Result resumed = Run(prefix, words);
    ASSERT_THAT(resumed.status, IsOk());
    EXPECT_EQ(resumed.matches, reference.matches);
    EXPECT_EQ(resumed.timeouts, reference.timeouts);
    EXPECT_EQ(resumed.late, reference.late);
    // A run over a finished state changes nothing.
    const Result again = Run(prefix, words);
    ASSERT_THAT(again.status, IsOk());
    EXPECT_EQ(again.matches, reference.matches);
    EXPECT_EQ(again.timeouts, reference.timeouts);
  }
}

// The lines of `text`, sorted.
std::vector<std::string> SortedLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::sort(lines.begin(), lines.end());
  return lines;
}

// Several workers, each owning a range of key groups, checkpoint at aligned
// barriers; every stop resumes with another number of workers (the key
// groups, timers and waiting events divided again). The outputs are those
// of one worker in memory, line for line (keys interleave as they ran).
TEST_F(RocksDbRunTest, StopsAndResumesWithAnotherNumberOfWorkers) {
  for (const char* loop : {"event", "microbatch", "realtime"}) {
    SCOPED_TRACE(loop);
    std::filesystem::remove_all(dir_ / "state");
    const std::vector<std::string> common = {
        "--max-out-of-orderness", "2s", "--loop", loop, "--trigger", "7events"};
    const Result reference = Run(std::string("memory_") + loop, common);
    ASSERT_THAT(reference.status, IsOk());
    const std::string prefix = std::string("durable_") + loop;
    const std::vector<std::pair<size_t, const char*>> runs = {
        {1000, "2"}, {1500, "3"}, {2222, "1"}, {0, "2"}};
    for (const auto& [stop, workers] : runs) {
      std::vector<std::string> words = common;
      words.insert(words.end(), {"--checkpoint-every", "97events",
                                 "--parallelism", workers});
      const Result result = Run(prefix, State(words), stop);
      if (stop != 0) {
        EXPECT_THAT(result.status,
                    StatusIs(absl::StatusCode::kAborted, ::testing::_));
        continue;
      }
      ASSERT_THAT(result.status, IsOk());
      EXPECT_EQ(SortedLines(result.matches), SortedLines(reference.matches));
      EXPECT_EQ(SortedLines(result.timeouts), SortedLines(reference.timeouts));
      EXPECT_EQ(SortedLines(result.late), SortedLines(reference.late));
    }
  }
}

// Seeded random streams, stop points, worker counts and loops: a durable
// run stopped and resumed any number of times, with any number of workers
// each time, gives the lines of one uninterrupted worker in memory.
TEST_F(RocksDbRunTest, RandomStopsAndWorkerCountsGiveTheReferenceLines) {
  const char* loops[] = {"event", "microbatch", "realtime"};
  for (uint32_t seed = 1; seed <= 6; ++seed) {
    SCOPED_TRACE(seed);
    std::mt19937 rng(seed);
    std::ofstream(input_, std::ios::binary | std::ios::trunc)
        << MakeInput(1500 + rng() % 1000, seed);
    std::filesystem::remove_all(dir_ / "state");
    const std::vector<std::string> common = {
        "--max-out-of-orderness",
        std::to_string(rng() % 4) + "s",
        "--loop",
        loops[rng() % 3],
        "--trigger",
        std::to_string(1 + rng() % 20) + "events"};
    const std::string prefix = "seed" + std::to_string(seed);
    const Result reference = Run(prefix + "_memory", common);
    ASSERT_THAT(reference.status, IsOk());
    size_t line = 0;
    for (int stop = 0; stop < 4; ++stop) {
      line += 1 + rng() % 600;
      std::vector<std::string> words = common;
      words.insert(
          words.end(),
          {"--checkpoint-every", std::to_string(1 + rng() % 150) + "events",
           "--parallelism", std::to_string(1 + rng() % 4)});
      const Result result = Run(prefix, State(words), stop < 3 ? line : 0);
      if (stop < 3) {
        if (result.status.ok()) break;  // the stream ended first
        ASSERT_THAT(result.status,
                    StatusIs(absl::StatusCode::kAborted, ::testing::_));
        continue;
      }
      ASSERT_THAT(result.status, IsOk());
    }
    const Result resumed = Run(prefix, State(common));
    ASSERT_THAT(resumed.status, IsOk());
    EXPECT_EQ(SortedLines(resumed.matches), SortedLines(reference.matches));
    EXPECT_EQ(SortedLines(resumed.timeouts), SortedLines(reference.timeouts));
    EXPECT_EQ(SortedLines(resumed.late), SortedLines(reference.late));
    EXPECT_FALSE(reference.matches.empty());
  }
}

// A checkpoint of several workers is one database: every key once, under
// its key group, and each pattern's key count the sum over the workers; a
// run with one worker resumes from it.
TEST_F(RocksDbRunTest, WorkersCheckpointIntoOneDatabase) {
  const std::vector<std::string> common = {"--max-out-of-orderness", "2s"};
  const Result reference = Run("memory", common);
  ASSERT_THAT(reference.status, IsOk());
  std::vector<std::string> words = common;
  words.insert(words.end(), {"--checkpoint-every", "50events"});
  EXPECT_THAT(Run("durable", State(words), 1710,
                  [](RunOptions& o) { o.parallelism = 4; })
                  .status,
              StatusIs(absl::StatusCode::kAborted, ::testing::_));
  {
    RocksDbStoreOptions options;
    options.path = (dir_ / "state" / "db").string();
    options.create_if_missing = false;
    absl::StatusOr<RocksDbStore::Shared> listed =
        RocksDbStore::OpenShared(options, {});
    ASSERT_THAT(listed.status(), IsOk());
    const std::vector<std::string> names = listed->other_namespaces;
    ASSERT_EQ(names.size(), 2u);
    listed->stores.clear();
    *listed = RocksDbStore::Shared();
    absl::StatusOr<RocksDbStore::Shared> shared =
        RocksDbStore::OpenShared(options, names);
    ASSERT_THAT(shared.status(), IsOk());
    uint64_t all_keys = 0;
    for (auto& store : shared->stores) {
      uint64_t keys = 0;
      ASSERT_THAT(store->ForEach([&](std::string_view, std::string_view) {
        ++keys;
        return absl::OkStatus();
      }),
                  IsOk());
      absl::StatusOr<std::optional<std::string>> count =
          store->GetMeta("key_count");
      ASSERT_THAT(count.status(), IsOk());
      ASSERT_TRUE(count->has_value());
      EXPECT_EQ(**count, std::to_string(keys)) << store->path();
      all_keys += keys;
    }
    EXPECT_GT(all_keys, 0u);
  }
  const Result resumed = Run("durable", State(words));
  ASSERT_THAT(resumed.status, IsOk());
  EXPECT_EQ(SortedLines(resumed.matches), SortedLines(reference.matches));
  EXPECT_EQ(SortedLines(resumed.timeouts), SortedLines(reference.timeouts));
}

// Lanes (several workers over JSON lines) keyed on two fields: an event
// waits in the lane of its card for one pattern and in that of its
// merchant for the other, so a checkpoint holds it once and a resumed run
// gives it back to both (and to no other lane). Stops at random lines, each run
// with another number of lanes and checkpointing after so many events or at the
// loop's commit points (block ends for lanes): the lines of one worker in
// memory.
TEST_F(RocksDbRunTest, LanesKeyedOnTwoFieldsStopAndResumeToTheReferenceLines) {
  const std::string by_card = std::string(kAuthEvent) + R"(
pattern by_card on Auth within 2m {
  begin a where amount >= 300
  followed by b where amount >= 400
}
)";
  const std::string by_merchant = R"(
pattern by_merchant on Auth key merchant within 90s {
  begin small where amount <= 1.00
  followed by big where amount >= 800
}
)";
  std::ofstream(input_, std::ios::binary | std::ios::trunc)
      << MakeInput(5000, 3);
  const char* loops[] = {"event", "microbatch", "realtime"};
  // Seeds 1-3: both patterns; 4-6: one (no pattern filter: a lane given
  // another lane's waiting event would match it too).
  for (uint32_t seed = 1; seed <= 6; ++seed) {
    SCOPED_TRACE(seed);
    absl::StatusOr<PatternFile> file = ParsePatternFile(
        seed <= 3 ? by_card + by_merchant : by_card, "lanes.cep");
    ASSERT_THAT(file.status(), IsOk());
    file_.emplace(*std::move(file));
    std::mt19937 rng(seed);
    std::filesystem::remove_all(dir_ / "state");
    const std::vector<std::string> common = {
        "--max-out-of-orderness", "3s",        "--loop",
        loops[seed % 3],          "--trigger", "40events",
        "--commit-interval",      "1ms"};
    const std::string prefix = "seed" + std::to_string(seed);
    const Result reference = Run(prefix + "_memory", common);
    ASSERT_THAT(reference.status, IsOk());
    ASSERT_NE(reference.matches.find("by_card"), std::string::npos);
    ASSERT_EQ(reference.matches.find("by_merchant") != std::string::npos,
              seed <= 3);
    size_t line = 0;
    for (const char* lanes : {"2", "3", "1", "2"}) {
      line += 700 + rng() % 500;
      std::vector<std::string> words = common;
      words.insert(words.end(),
                   {"--checkpoint-every", rng() % 2 == 0 ? "loop" : "97events",
                    "--parallelism", lanes});
      const Result result = Run(prefix, State(words), line);
      ASSERT_THAT(result.status,
                  StatusIs(absl::StatusCode::kAborted, ::testing::_));
    }
    std::vector<std::string> words = common;
    words.insert(words.end(), {"--parallelism", "3"});
    const Result resumed = Run(prefix, State(words));
    ASSERT_THAT(resumed.status, IsOk());
    EXPECT_EQ(SortedLines(resumed.matches), SortedLines(reference.matches));
    EXPECT_EQ(SortedLines(resumed.timeouts), SortedLines(reference.timeouts));
    EXPECT_EQ(SortedLines(resumed.late), SortedLines(reference.late));
  }
}

TEST_F(RocksDbRunTest, CheckpointsAtTheLoopsCommitPointsAndResumes) {
  for (const char* loop : {"event", "microbatch", "realtime"}) {
    SCOPED_TRACE(loop);
    std::filesystem::remove_all(dir_ / "state");
    const std::vector<std::string> common = {
        "--max-out-of-orderness", "2s", "--loop", loop, "--trigger", "50events",
        "--commit-interval",      "1ms"};
    const Result reference = Run(std::string("memory_") + loop, common);
    ASSERT_THAT(reference.status, IsOk());
    std::vector<std::string> words = common;
    words.insert(words.end(), {"--checkpoint-every", "loop"});
    words = State(words);
    const std::string prefix = std::string("durable_") + loop;
    for (size_t stop : {777, 2021}) {
      EXPECT_THAT(Run(prefix, words, stop).status,
                  StatusIs(absl::StatusCode::kAborted, ::testing::_));
    }
    const Result resumed = Run(prefix, words);
    ASSERT_THAT(resumed.status, IsOk());
    EXPECT_EQ(resumed.matches, reference.matches);
    EXPECT_EQ(resumed.timeouts, reference.timeouts);
    EXPECT_EQ(resumed.late, reference.late);
  }
}

TEST_F(RocksDbRunTest, StopFlagTakesAFinalCheckpointToResumeFrom) {
  const std::vector<std::string> common = {"--max-out-of-orderness", "2s"};
  const Result reference = Run("memory", common);
  ASSERT_THAT(reference.status, IsOk());
  // No checkpoint but the one the stop takes (at line 1024, where progress
  // is first reported).
  std::vector<std::string> words = common;
  words.insert(words.end(), {"--checkpoint-every", "100000events"});
  words = State(words);
  std::atomic<bool> stop{false};
  const Result stopped = Run("durable", words, 0, [&stop](RunOptions& o) {
    o.stop = &stop;
    o.progress_interval = Duration(0);
    o.progress = [&stop](const RunProgress&) { stop.store(true); };
  });
  ASSERT_THAT(stopped.status, IsOk());
  EXPECT_TRUE(stopped.stopped);
  EXPECT_LT(stopped.matches.size(), reference.matches.size());
  const Result resumed = Run("durable", words);
  ASSERT_THAT(resumed.status, IsOk());
  EXPECT_FALSE(resumed.stopped);
  EXPECT_EQ(resumed.matches, reference.matches);
  EXPECT_EQ(resumed.timeouts, reference.timeouts);
  EXPECT_EQ(resumed.late, reference.late);
}

TEST_F(RocksDbRunTest, ResumesFromAnInputThatCannotSeek) {
  const std::vector<std::string> common = {"--max-out-of-orderness", "2s"};
  const Result reference = Run("memory", common);
  ASSERT_THAT(reference.status, IsOk());
  std::vector<std::string> words = common;
  words.insert(words.end(), {"--checkpoint-every", "89events"});
  words = State(words);
  EXPECT_THAT(Run("durable", words, 1234, nullptr, /*pipe=*/true).status,
              StatusIs(absl::StatusCode::kAborted, ::testing::_));
  const Result resumed = Run("durable", words, 0, nullptr, /*pipe=*/true);
  ASSERT_THAT(resumed.status, IsOk());
  EXPECT_EQ(resumed.matches, reference.matches);
  EXPECT_EQ(resumed.timeouts, reference.timeouts);
  EXPECT_EQ(resumed.late, reference.late);
}

TEST_F(RocksDbRunTest, RefusesAnInputShorterThanTheCheckpoint) {
  std::vector<std::string> words = State({"--checkpoint-every", "50events"});
  ASSERT_THAT(Run("durable", words).status, IsOk());
  std::ofstream(input_, std::ios::binary | std::ios::trunc)
      << MakeInput(10, 11);
  for (bool pipe : {false, true}) {
    EXPECT_THAT(Run("durable", words, 0, nullptr, pipe).status,
                StatusIs(absl::StatusCode::kFailedPrecondition,
                         HasSubstr("the checkpoint is at byte")));
  }
}

TEST_F(RocksDbRunTest, KeepsTheNewestCheckpointsAndResumesFromAnOldOne) {
  const std::vector<std::string> common = {"--max-out-of-orderness", "2s"};
  const Result reference = Run("memory", common);
  ASSERT_THAT(reference.status, IsOk());
  std::vector<std::string> words = common;
  words.insert(words.end(),
               {"--checkpoint-every", "500events", "--keep-checkpoints", "3"});
  words = State(words);
  // Checkpoints 1 to 5 (lines 500 to 2500), then a crash.
  EXPECT_THAT(Run("durable", words, 2700).status,
              StatusIs(absl::StatusCode::kAborted, ::testing::_));
  std::vector<std::string> kept;
  for (const auto& entry :
       std::filesystem::directory_iterator(dir_ / "state" / "checkpoints")) {
    kept.push_back(entry.path().filename().string());
  }
  std::sort(kept.begin(), kept.end());
  EXPECT_THAT(kept,
              ::testing::ElementsAre("0000000003", "0000000004", "0000000005"));
  // Back to checkpoint 3: its copy replaces the database.
  std::filesystem::remove_all(dir_ / "state" / "db");
  std::filesystem::rename(dir_ / "state" / "checkpoints" / "0000000003",
                          dir_ / "state" / "db");
  const Result resumed = Run("durable", words);
  ASSERT_THAT(resumed.status, IsOk());
  EXPECT_EQ(resumed.matches, reference.matches);
  EXPECT_EQ(resumed.timeouts, reference.timeouts);
  EXPECT_EQ(resumed.late, reference.late);
}

TEST_F(RocksDbRunTest, RefusesStateOfAPatternNoLongerDeclared) {
  EXPECT_THAT(Run("a", State({"--checkpoint-every", "100events"}), 1500).status,
              StatusIs(absl::StatusCode::kAborted, ::testing::_));
  std::string fewer = kPatterns;
  fewer.erase(fewer.find("pattern big_then_big"));
  absl::StatusOr<PatternFile> file = ParsePatternFile(fewer, "patterns.cep");
  ASSERT_THAT(file.status(), IsOk());
  file_.emplace(*std::move(file));
  EXPECT_THAT(Run("b", State({})).status,
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("holds the state of pattern 'big_then_big', "
                                 "which the pattern files do not declare; run "
                                 "with --migrate to let it drain")));
}

TEST_F(RocksDbRunTest, RefusesSortedOutput) {
  EXPECT_THAT(
      Run("s", State({"--sort-output"})).status,
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--sort-output")));
}

TEST_F(RocksDbRunTest, RefusesStateOfAnotherPattern) {
  EXPECT_THAT(Run("a", State({"--checkpoint-every", "100events"}), 1500).status,
              StatusIs(absl::StatusCode::kAborted, ::testing::_));
  std::string other = kPatterns;
  other.replace(other.find("within 2m"), 9, "within 3m");
  absl::StatusOr<PatternFile> file = ParsePatternFile(other, "patterns.cep");
  ASSERT_THAT(file.status(), IsOk());
  file_.emplace(*std::move(file));
  const Result result = Run("b", State({}));
  EXPECT_THAT(result.status, StatusIs(absl::StatusCode::kFailedPrecondition,
                                      HasSubstr("big_then_big")));
}

// The seq of the first event of each line of `lines` with pattern
// `pattern`, and the lines.
std::vector<std::pair<uint64_t, std::string>> LinesOf(
    const std::string& lines, const std::string& pattern) {
  std::vector<std::pair<uint64_t, std::string>> out;
  std::istringstream in(lines);
  const std::string tag = "{\"pattern\":\"" + pattern + "\"";
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(tag, 0) != 0) continue;
    const size_t seq = line.find("\"seq\":");
    out.emplace_back(std::stoull(line.substr(seq + 6)), line);
  }
  return out;
}

TEST_F(RocksDbRunTest, MigrateDrainsTheOldVersionWhileTheNewStartsFresh) {
  constexpr size_t kSwitch = 1500;  // the first run's last checkpoint
  const std::vector<std::string> common = {"--checkpoint-every", "500events"};
  const Result v1 = Run("v1", {});
  EXPECT_THAT(Run("migrated", State(common), kSwitch + 10).status,
              StatusIs(absl::StatusCode::kAborted, ::testing::_));
  std::string text = kPatterns;
  // The new version is narrower, so some alerts are the old one's only.
  text.replace(text.find("within 2m"), 9, "within 1m");
  absl::StatusOr<PatternFile> v2_file = ParsePatternFile(text, "patterns.cep");
  ASSERT_THAT(v2_file.status(), IsOk());
  file_.emplace(*std::move(v2_file));
  const Result v2 = Run("v2", {});
  ASSERT_THAT(v1.status, IsOk());
  ASSERT_THAT(v2.status, IsOk());
  EXPECT_THAT(Run("migrated", State(common)).status,
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("run with --migrate to start it fresh")));
  std::vector<std::string> words = State(common);
  words.push_back("--migrate");
  const Result migrated = Run("migrated", words);
  ASSERT_THAT(migrated.status, IsOk());

  // The unchanged pattern resumed as if nothing happened.
  EXPECT_EQ(LinesOf(migrated.matches, "card_testing"),
            LinesOf(v1.matches, "card_testing"));
  std::set<std::string> old_lines, new_lines, seen;
  for (const auto& [seq, line] : LinesOf(v1.matches, "big_then_big")) {
    old_lines.insert(line);
  }
  for (const auto& [seq, line] : LinesOf(v2.matches, "big_then_big")) {
    new_lines.insert(line);
  }
  for (const auto& [seq, line] : LinesOf(migrated.matches, "big_then_big")) {
    EXPECT_TRUE(seen.insert(line).second) << "twice: " << line;
    // Each alert is one of either version; the old version starts nothing
    // after the switch.
    EXPECT_TRUE(old_lines.contains(line) || new_lines.contains(line)) << line;
    if (!new_lines.contains(line)) {
      EXPECT_LT(seq, kSwitch) << line;
    }
  }
  // The new version saw every event after the switch; the old one completed
  // what had started well before it.
  for (const auto& [seq, line] : LinesOf(v2.matches, "big_then_big")) {
    if (seq >= kSwitch) {
      EXPECT_TRUE(seen.contains(line)) << line;
    }
  }
  size_t drained = 0;
  for (const auto& [seq, line] : LinesOf(v1.matches, "big_then_big")) {
    if (seq + 10 < kSwitch) {
      EXPECT_TRUE(seen.contains(line)) << line;
    }
    drained += seq + 10 < kSwitch && !new_lines.contains(line) ? 1 : 0;
  }
  EXPECT_GT(drained, 0u);  // the test covers old-only alerts
  // Drained to nothing: the next run drops the old state without --migrate.
  EXPECT_THAT(Run("migrated", State(common)).status, IsOk());
}

TEST_F(RocksDbRunTest, MatchIdsAreStableAndOptional) {
  const Result plain = Run("plain", {});
  const Result first = Run("ids1", {"--match-ids"});
  const Result second = Run("ids2", {"--match-ids"});
  ASSERT_THAT(first.status, IsOk());
  EXPECT_EQ(first.matches, second.matches);
  EXPECT_THAT(plain.matches, ::testing::Not(HasSubstr("\"id\"")));
  EXPECT_THAT(first.matches,
              ::testing::ContainsRegex(",\"id\":\"[0-9a-f]{16}\"\\}\n"));
  EXPECT_THAT(first.timeouts,
              ::testing::ContainsRegex(",\"id\":\"[0-9a-f]{16}\"\\}\n"));
}

}  // namespace
}  // namespace cep
