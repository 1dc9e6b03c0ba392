// Crash recovery of `cep run --state rocksdb:DIR`, for real: the `cep`
// binary runs as a child process and is killed with SIGKILL at seeded random
// moments, then restarted, until a run completes; its outputs must equal a
// crash-free run's byte for byte — with several workers (outputs of
// different keys interleave as the workers ran), the same lines, each once.
// Restarts may change the number of workers (key groups re-divided). Label
// `slow` (about 30 s per test in a debug build).

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;

// Starts `args` (args[0] is the program) with stdout to `out` (empty: to
// /dev/null) and stderr to /dev/null; returns the child's pid.
pid_t Spawn(const std::vector<std::string>& args, const std::string& out) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  const int null_fd = ::open("/dev/null", O_WRONLY);
  const int out_fd =
      out.empty() ? null_fd
                  : ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ::dup2(out_fd, STDOUT_FILENO);
  ::dup2(null_fd, STDERR_FILENO);
  std::vector<char*> argv;
  for (const std::string& arg : args)
    argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  ::execv(argv[0], argv.data());
  ::_exit(127);
}

// Waits for `pid`; its wait status.
int Wait(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The lines of `text`, sorted, each with its newline.
std::string SortedLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line + "\n");
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const std::string& line : lines) out += line;
  return out;
}

// patterns/card_testing.cep under `after match no skip`: a pattern whose
// keys keep shared partial matches (SharedRunsState in RocksDB).
constexpr const char* kSharedCardTesting = R"(event Auth {
  card      string     key
  amount    double
  merchant  string
  result    string
  ts        timestamp  time
}

pattern card_testing_shared on Auth within 30m {
  begin probe {3,} consecutive greedy where amount <= 2.00 and result == "approved"
  not followed by refund where result == "refund"
  followed by cashout where amount >= 500 and result == "approved"
}
)";

// Kills `cep run PATTERN --state rocksdb:...` at random moments until a run
// completes; its outputs must equal a crash-free run's. Run k (from 0) has
// --parallelism workers[k % size] (none given: 1); with more than one
// worker anywhere the outputs are compared as sorted lines.
void KilledRunsResume(const std::string& name, const std::string& pattern_text,
                      const std::vector<int>& workers = {}, int kills = 20) {
  const fs::path dir =
      fs::temp_directory_path() /
      ("cep_crash_recovery_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string cep = CEP_BINARY;
  std::string pattern =
      (fs::path(CEP_SOURCE_DIR) / "patterns" / "card_testing.cep").string();
  if (!pattern_text.empty()) {
    pattern = (dir / "pattern.cep").string();
    std::ofstream(pattern) << pattern_text;
    ASSERT_EQ(
        Wait(Spawn({cep, "explain", pattern}, (dir / "explain").string())), 0);
    ASSERT_NE(ReadFile(dir / "explain").find("strategy: shared runs"),
              std::string::npos);
  }
  const std::string input = (dir / "in.jsonl").string();

  ASSERT_EQ(Wait(Spawn({cep, "gen", "card-testing", "--events", "100000",
                        "--fraud-rate", "0.002", "--seed", "7"},
                       input)),
            0);

  // The crash-free reference, timed: kills are spread over its duration.
  const auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(Wait(Spawn({cep, "run", pattern, "--input", input, "--output",
                        (dir / "ref.out").string(), "--timeouts",
                        (dir / "ref.to").string()},
                       "")),
            0);
  const auto duration = std::chrono::steady_clock::now() - start;
  const std::string reference = ReadFile(dir / "ref.out");
  ASSERT_FALSE(reference.empty());

  const std::vector<std::string> durable_args = {
      cep,
      "run",
      pattern,
      "--input",
      input,
      "--output",
      (dir / "out").string(),
      "--timeouts",
      (dir / "to").string(),
      "--state",
      "rocksdb:" + (dir / "state").string(),
      "--checkpoint-every",
      "1000events"};
  const bool parallel =
      std::any_of(workers.begin(), workers.end(), [](int n) { return n > 1; });
  auto same = [&](const std::string& file, const std::string& ref) {
    return parallel ? SortedLines(ReadFile(dir / file)) ==
                          SortedLines(ReadFile(dir / ref))
                    : ReadFile(dir / file) == ReadFile(dir / ref);
  };
  int run_idx = 0;
  auto durable = [&] {
    std::vector<std::string> args = durable_args;
    if (!workers.empty()) {
      args.push_back("--parallelism");
      args.push_back(std::to_string(workers[run_idx % workers.size()]));
    }
    ++run_idx;
    return args;
  };
  std::mt19937 rng(7);
  const auto max_delay_us =
      std::chrono::duration_cast<std::chrono::microseconds>(duration).count() *
      5 / 4;
  std::uniform_int_distribution<int64_t> delay(0, max_delay_us);
  int killed = 0;
  int completed = 0;
  for (int kill_idx = 0; kill_idx < kills; ++kill_idx) {
    const pid_t pid = Spawn(durable(), "");
    std::this_thread::sleep_for(std::chrono::microseconds(delay(rng)));
    ::kill(pid, SIGKILL);
    const int status = Wait(pid);
    if (WIFSIGNALED(status)) {
      ++killed;
      continue;
    }
    // Finished before its kill: it must have succeeded with the reference
    // outputs; the next run starts over, so later kills hit real work.
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "run " << kill_idx << " failed with wait status " << status;
    ++completed;
    EXPECT_TRUE(same("out", "ref.out")) << "run " << kill_idx;
    EXPECT_TRUE(same("to", "ref.to")) << "run " << kill_idx;
    fs::remove_all(dir / "state");
    fs::remove(dir / "out");
    fs::remove(dir / "to");
  }
  // Restart until a run completes.
  ASSERT_EQ(Wait(Spawn(durable(), "")), 0);
  EXPECT_GE(killed, kills / 2);
  ::testing::Test::RecordProperty("killed", killed);
  ::testing::Test::RecordProperty("completed_before_kill", completed);
  EXPECT_TRUE(same("out", "ref.out"));
  EXPECT_TRUE(same("to", "ref.to"));
  if (parallel) {
    // Sorting must not hide a difference in the count of lines.
    EXPECT_EQ(ReadFile(dir / "out").size(), reference.size());
  } else {
    EXPECT_EQ(ReadFile(dir / "out"), reference);
  }
  fs::remove_all(dir);
}

TEST(CrashRecoveryTest, KilledRunsResumeToTheSameBytes) {
  KilledRunsResume("per_run", "");
}

TEST(CrashRecoveryTest,
     KilledRunsWithSharedPartialMatchesResumeToTheSameBytes) {
  KilledRunsResume("shared", kSharedCardTesting);
}

TEST(CrashRecoveryTest, KilledRunsWithTwoWorkersResumeToTheSameLines) {
  KilledRunsResume("two_workers", "", {2}, 12);
}

TEST(CrashRecoveryTest, KilledRunsWithThreeWorkersResumeToTheSameLines) {
  KilledRunsResume("three_workers", kSharedCardTesting, {3}, 12);
}

// Each restart with another number of workers: 3, 1, 2, 3, ...: the key
// groups, the timers and the waiting events are divided again.
TEST(CrashRecoveryTest, KilledRunsResumeWithAnotherNumberOfWorkers) {
  KilledRunsResume("rescaled", "", {3, 1, 2}, 12);
}

}  // namespace
