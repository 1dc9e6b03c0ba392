// Crash recovery of `cep run --state rocksdb:DIR`, for real: the `cep`
// binary runs as a child process and is killed with SIGKILL at seeded random
// moments, then restarted, until a run completes; its outputs must equal a
// crash-free run's byte for byte. Label `slow` (about 30 s in a debug
// build).

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
// completes; its outputs must equal a crash-free run's.
void KilledRunsResumeToTheSameBytes(const std::string& name,
                                    const std::string& pattern_text) {
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

  const std::vector<std::string> durable = {
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
  std::mt19937 rng(7);
  const auto max_delay_us =
      std::chrono::duration_cast<std::chrono::microseconds>(duration).count() *
      5 / 4;
  std::uniform_int_distribution<int64_t> delay(0, max_delay_us);
  int killed = 0;
  int completed = 0;
  for (int kill_idx = 0; kill_idx < 20; ++kill_idx) {
    const pid_t pid = Spawn(durable, "");
    std::this_thread::sleep_for(std::chrono::microseconds(delay(rng)));
    ::kill(pid, SIGKILL);
    const int status = Wait(pid);
    if (WIFSIGNALED(status)) {
      ++killed;
      continue;
    }
    // Finished before its kill: it must have succeeded with the reference
    // bytes; the next run starts over, so later kills hit real work.
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "run " << kill_idx << " failed with wait status " << status;
    ++completed;
    EXPECT_EQ(ReadFile(dir / "out"), reference) << "run " << kill_idx;
    EXPECT_EQ(ReadFile(dir / "to"), ReadFile(dir / "ref.to"));
    fs::remove_all(dir / "state");
    fs::remove(dir / "out");
    fs::remove(dir / "to");
  }
  // Restart until a run completes.
  ASSERT_EQ(Wait(Spawn(durable, "")), 0);
  EXPECT_GE(killed, 10);
  ::testing::Test::RecordProperty("killed", killed);
  ::testing::Test::RecordProperty("completed_before_kill", completed);
  EXPECT_EQ(ReadFile(dir / "out"), reference);
  EXPECT_EQ(ReadFile(dir / "to"), ReadFile(dir / "ref.to"));
  fs::remove_all(dir);
}

TEST(CrashRecoveryTest, KilledRunsResumeToTheSameBytes) {
  KilledRunsResumeToTheSameBytes("per_run", "");
}

TEST(CrashRecoveryTest,
     KilledRunsWithSharedPartialMatchesResumeToTheSameBytes) {
  KilledRunsResumeToTheSameBytes("shared", kSharedCardTesting);
}

}  // namespace
