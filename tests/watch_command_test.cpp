// `cep run --watch` as a user runs it: the `cep` binary as a child process
// reading a named pipe the test writes to, while the test rewrites the
// pattern file (a good version, a bad one, a good one): the messages on
// stderr and the outputs are exact. And a crash right after a reload with
// RocksDB state (SIGKILL): the restarted run gives every output once.

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testing/cep_process.hpp"

namespace {

namespace fs = std::filesystem;
using ::cep::testing::Eventually;
using ::cep::testing::ReadFile;
using ::cep::testing::SpawnCep;
using ::cep::testing::WaitExit;

// Replaces `path` at once (a rename), as an editor or a deployment would.
void Rewrite(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  std::ofstream(tmp, std::ios::binary) << text;
  fs::rename(tmp, path);
}

size_t Count(const std::string& text, const std::string& what) {
  size_t count = 0;
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + 1)) {
    ++count;
  }
  return count;
}

constexpr const char* kTypes = R"(event Tx {
  card    string     key
  amount  double
  ts      timestamp  time
}
)";

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

std::string After(int mid_low, int mid_high) {
  const std::string range = "amount >= " + std::to_string(mid_low) +
                            " and amount <= " + std::to_string(mid_high);
  return R"(
pattern small on Tx within 10m {
  begin a where amount < 10
  followed by b where amount < 10
}

pattern big on Tx within 10m {
  begin a where amount >= 200
  followed by b where amount >= 200
}

pattern mid on Tx within 10m {
  begin a where )" +
         range + R"(
  followed by b where )" +
         range + R"(
}
)";
}

std::string Event(const std::string& card, int amount, int ts) {
  return "{\"card\":\"" + card + "\",\"amount\":" + std::to_string(amount) +
         ",\"ts\":" + std::to_string(ts) + "}\n";
}

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

const std::string kPhase1 = Event("c1", 150, 1000) + Event("c2", 5, 2000) +
                            Event("c3", 300, 2500) + Event("c4", 42, 2600) +
                            Event("c5", 55, 2650) + Event("c9", 20, 2700);
const std::string kPhase2 = Event("c1", 160, 3000) + Event("c2", 6, 4000) +
                            Event("c3", 350, 4500) + Event("c4", 42, 4600) +
                            Event("c5", 56, 4700) + Event("c5", 57, 4800) +
                            Event("c3", 400, 5000);
// The matches of kPhase1 and kPhase2 with kBefore, then After(50, 60)
// swapped in between them (watch_run_test.cpp tells why).
const std::string kExpected12 = Match("big", "c1", 0, 150, 1000, 6, 160, 3000) +
                                Match("small", "c2", 1, 5, 2000, 7, 6, 4000) +
                                Match("big", "c3", 2, 300, 2500, 8, 350, 4500) +
                                Match("gone", "c4", 3, 42, 2600, 9, 42, 4600) +
                                Match("mid", "c5", 10, 56, 4700, 11, 57, 4800) +
                                Match("big", "c3", 8, 350, 4500, 12, 400, 5000);

class WatchCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cep_watch_command_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    Rewrite(dir_ / "p.cep", std::string(kTypes) + kBefore);
    ASSERT_EQ(::mkfifo((dir_ / "in.fifo").c_str(), 0600), 0);
  }
  void TearDown() override {
    if (fifo_ >= 0) ::close(fifo_);
    for (const pid_t pid : spawned_) {
      if (::waitpid(pid, nullptr, WNOHANG) == 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
      }
    }
    fs::remove_all(dir_);
  }

  pid_t Start(const std::vector<std::string>& args) {
    const pid_t pid = SpawnCep(dir_, args);
    spawned_.push_back(pid);
    return pid;
  }

  // Opens the pipe for writing (once `cep` opened it for reading).
  void OpenFifo() {
    fifo_ = ::open((dir_ / "in.fifo").c_str(), O_WRONLY | O_CLOEXEC);
    ASSERT_GE(fifo_, 0);
  }

  // Writes `text` into the pipe and waits until `cep` read all of it (the
  // pipe holds no byte): it then takes those events before it looks at the
  // pattern files again.
  void Feed(const std::string& text) {
    ASSERT_EQ(::write(fifo_, text.data(), text.size()),
              static_cast<ssize_t>(text.size()));
    ASSERT_TRUE(Eventually(
        [&] {
          int unread = 0;
          return ::ioctl(fifo_, FIONREAD, &unread) == 0 && unread == 0;
        },
        std::chrono::seconds(30)));
  }

  void CloseFifo() {
    ::close(fifo_);
    fifo_ = -1;
  }

  std::string Stderr() const { return ReadFile(dir_ / "stderr"); }

  // Waits for the `n`th occurrence of `what` on stderr.
  bool WaitForStderr(const std::string& what, size_t n) {
    return Eventually([&] { return Count(Stderr(), what) >= n; },
                      std::chrono::seconds(30));
  }

  fs::path dir_;
  int fifo_ = -1;
  std::vector<pid_t> spawned_;
};

// Good, bad, good: two reloads with exact messages, the bad version
// reported with its position and ignored, every output exact.
TEST_F(WatchCommandTest, GoodThenBadThenGoodOverANamedPipe) {
  const pid_t pid = Start({"run", "p.cep", "--input", "in.fifo", "--output",
                           "out.jsonl", "--watch", "--watch-interval", "20ms",
                           "--stats-json", "stats.json"});
  OpenFifo();
  Feed(kPhase1);
  Rewrite(dir_ / "p.cep", std::string(kTypes) + After(50, 60));
  ASSERT_TRUE(WaitForStderr("cep: reloaded", 1)) << Stderr();
  Feed(kPhase2);
  Rewrite(dir_ / "p.cep", std::string(kTypes) + After(50, 60) +
                              "pattern broken on Tx { begin a where amout > "
                              "1 }\n");
  ASSERT_TRUE(WaitForStderr("keeping the running version", 1)) << Stderr();
  // Read under the first reload's version: c6's 58 starts its `mid`, also
  // though it still waits for the watermark at the next swap.
  Feed(Event("c6", 58, 6000));
  Rewrite(dir_ / "p.cep", std::string(kTypes) + After(70, 80));
  ASSERT_TRUE(WaitForStderr("cep: reloaded", 2)) << Stderr();
  // The old `mid` drains c6; the new one matches c7.
  Feed(Event("c6", 59, 7000) + Event("c7", 75, 7100) + Event("c7", 76, 7200));
  CloseFifo();
  ASSERT_EQ(WaitExit(pid), 0) << Stderr();

  const std::string err = Stderr();
  EXPECT_EQ(
      err.substr(0, err.find("cep: 17 events")),
      "cep: reloaded p.cep: pattern 'big' changed (old version drains 2 "
      "keys), pattern 'mid' added, pattern 'gone' removed (drains 1 key)\n"
      "cep: p.cep:21:38: error: unknown field 'amout' of event Tx; did you "
      "mean 'amount'?; keeping the running version\n"
      "pattern broken on Tx { begin a where amout > 1 }\n"
      "                                     ^\n"
      "cep: reloaded p.cep: pattern 'mid' changed (old version drains 1 "
      "key)\n");
  EXPECT_THAT(err, ::testing::HasSubstr(
                       "cep: 17 events, 8 matches, 4 timeouts, 0 late, 0 "
                       "errors in "));
  EXPECT_THAT(err,
              ::testing::HasSubstr("cep: --watch: 2 reloaded, 1 refused\n"));
  EXPECT_THAT(ReadFile(dir_ / "stats.json"),
              ::testing::HasSubstr(
                  "\"matches\":8,\"timeouts\":4,\"late\":0,\"errors\":0,"));
  EXPECT_THAT(ReadFile(dir_ / "stats.json"),
              ::testing::HasSubstr("\"reloads\":2,\"rejected_reloads\":1}"));
  EXPECT_EQ(ReadFile(dir_ / "out.jsonl"),
            kExpected12 + Match("mid", "c6", 13, 58, 6000, 14, 59, 7000) +
                Match("mid", "c7", 15, 75, 7100, 16, 76, 7200));
}

// Killed (SIGKILL) right after a reload with RocksDB state, with events
// after it taken and their outputs possibly written; restarted over the
// files on disk (the new version): the old versions drain as the live
// reload had them, and every output comes out once.
TEST_F(WatchCommandTest, CrashRightAfterAReloadRecoversWithEachOutputOnce) {
  const pid_t pid = Start({"run", "p.cep", "--input", "in.fifo", "--output",
                           "out.jsonl", "--state", "rocksdb:state", "--watch",
                           "--watch-interval", "20ms"});
  OpenFifo();
  Feed(kPhase1);
  Rewrite(dir_ / "p.cep", std::string(kTypes) + After(50, 60));
  ASSERT_TRUE(WaitForStderr("cep: reloaded", 1)) << Stderr();
  Feed(Event("c1", 160, 3000) + Event("c2", 6, 4000));
  ::kill(pid, SIGKILL);
  EXPECT_EQ(WaitExit(pid), -1);
  CloseFifo();

  // The same stream again, from its start, in a file the run can seek in.
  std::ofstream(dir_ / "all.jsonl", std::ios::binary) << kPhase1 + kPhase2;
  ASSERT_EQ(
      WaitExit(Start({"run", "p.cep", "--input", "all.jsonl", "--output",
                      "out.jsonl", "--state", "rocksdb:state", "--watch"})),
      0)
      << Stderr();
  EXPECT_EQ(ReadFile(dir_ / "out.jsonl"), kExpected12);
  EXPECT_THAT(Stderr(), ::testing::HasSubstr(
                            "cep: --migrate: pattern 'big': the version with "
                            "hash "));
}

}  // namespace
