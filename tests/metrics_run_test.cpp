// `cep run --metrics-port` end to end: the `cep` binary as a child process
// reading a named pipe the test keeps open, scraped over HTTP while it
// waits for more input; then the pipe closes and the run ends cleanly. And
// a port in use: one clear line, exit 1, before any input is read.

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testing/cep_process.hpp"
#include "testing/prometheus_text.hpp"

namespace {

namespace fs = std::filesystem;
using ::cep::testing::CheckExposition;
using ::cep::testing::HttpBody;
using ::cep::testing::HttpGet;
using ::cep::testing::SampleValue;
using ::testing::IsEmpty;
using ::testing::StartsWith;

using ::cep::testing::Eventually;
using ::cep::testing::ReadFile;
using ::cep::testing::SpawnCep;
using ::cep::testing::WaitExit;

class MetricsRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cep_metrics_run_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    fs::copy_file(fs::path(CEP_SOURCE_DIR) / "patterns" / "card_testing.cep",
                  dir_ / "p.cep");
    // 12 events of 3 cards; c1 matches (3 probes, then a cash-out).
    input_ = ReadFile(fs::path(CEP_SOURCE_DIR) / "tests" / "cases" /
                      "card_testing_basic" / "events.jsonl");
  }
  void TearDown() override {
    if (writer_ >= 0) ::close(writer_);
    if (pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    fs::remove_all(dir_);
  }

  // The port from "cep: metrics on http://127.0.0.1:PORT/metrics" on the
  // child's stderr; 0 when it does not come within 10 s.
  int PortFromStderr() {
    static const std::regex kLine(
        R"(cep: metrics on http://127\.0\.0\.1:([0-9]+)/metrics\n)");
    int port = 0;
    Eventually([&] {
      std::smatch match;
      const std::string err = ReadFile(dir_ / "stderr");
      if (!std::regex_search(err, match, kLine)) return false;
      port = std::stoi(match[1]);
      return true;
    });
    return port;
  }

  fs::path dir_;
  std::string input_;
  pid_t pid_ = -1;
  int writer_ = -1;
};

TEST_F(MetricsRunTest, ScrapesALiveRunThenEndsCleanly) {
  ASSERT_EQ(::mkfifo((dir_ / "in.fifo").c_str(), 0600), 0);
  pid_ = SpawnCep(dir_, {"run", "p.cep", "--input", "in.fifo", "--output",
                         "matches.jsonl", "--metrics-port", "0"});
  // The pipe opens for writing once `cep` opened it for reading.
  ASSERT_TRUE(Eventually([&] {
    writer_ = ::open((dir_ / "in.fifo").c_str(), O_WRONLY | O_NONBLOCK);
    return writer_ >= 0;
  })) << std::strerror(errno);
  ASSERT_EQ(::fcntl(writer_, F_SETFL, 0), 0);  // blocking writes
  const int port = PortFromStderr();
  ASSERT_GT(port, 0) << ReadFile(dir_ / "stderr");

  // Nothing read yet: the counters are there, at 0.
  const std::string before = HttpBody(HttpGet(port, "/metrics"));
  EXPECT_EQ(SampleValue(before, "cep_input_events_total"), "0");
  EXPECT_EQ(SampleValue(before, "cep_matches_total{pattern=\"card_testing\"}"),
            "0");
  EXPECT_THAT(CheckExposition(before), IsEmpty());

  ASSERT_EQ(::write(writer_, input_.data(), input_.size()),
            static_cast<ssize_t>(input_.size()));
  // The run publishes before it waits for more input.
  std::string text;
  ASSERT_TRUE(Eventually([&] {
    text = HttpBody(HttpGet(port, "/metrics"));
    return SampleValue(text, "cep_input_events_total") == "12";
  })) << text;
  EXPECT_THAT(CheckExposition(text), IsEmpty()) << text;
  const std::string pattern = "{pattern=\"card_testing\"}";
  EXPECT_EQ(SampleValue(text, "cep_late_events_total"), "0");
  EXPECT_EQ(SampleValue(text, "cep_pattern_late_events_total" + pattern), "0");
  EXPECT_EQ(SampleValue(text, "cep_input_offset_bytes"),
            std::to_string(input_.size()));
  // With --max-out-of-orderness 0 the last event (c3's cash-out, the
  // largest timestamp) waits for the watermark: the pattern took 11; c1's
  // cash-out, released by c2's, completed the one match.
  EXPECT_EQ(SampleValue(text, "cep_events_total" + pattern), "11");
  EXPECT_EQ(SampleValue(text, "cep_matches_total" + pattern), "1");
  EXPECT_EQ(SampleValue(text, "cep_timeouts_total" + pattern), "0");
  EXPECT_EQ(SampleValue(text, "cep_partial_matches_evicted_total" + pattern),
            "0");
  EXPECT_EQ(SampleValue(text, "cep_keys" + pattern), "3");
  // c3 took two probes: one partial match from each (c1 matched; c2's
  // refund ended its).
  EXPECT_EQ(SampleValue(text, "cep_partial_matches" + pattern), "2");
  EXPECT_EQ(SampleValue(text, "cep_detection_latency_seconds_count" + pattern),
            "1");
  EXPECT_EQ(SampleValue(text,
                        "cep_detection_latency_seconds_bucket{pattern="
                        "\"card_testing\",le=\"+Inf\"}"),
            "1");
  // The watermark trails the largest timestamp by 1 ms.
  EXPECT_EQ(SampleValue(text, "cep_watermark_lag_seconds"), "0.001");
  // No checkpoint families with memory state.
  EXPECT_EQ(SampleValue(text, "cep_checkpoints_total"), "");

  EXPECT_THAT(HttpGet(port, "/"), StartsWith("HTTP/1.1 404 Not Found\r\n"));
  EXPECT_THAT(HttpGet(port, "/nothing"),
              StartsWith("HTTP/1.1 404 Not Found\r\n"));

  // End of input: the run finishes and the server goes with it.
  ::close(writer_);
  writer_ = -1;
  EXPECT_EQ(WaitExit(pid_), 0) << ReadFile(dir_ / "stderr");
  pid_ = -1;
  EXPECT_EQ(ReadFile(dir_ / "matches.jsonl").find("\"key\":\"c1\""),
            std::string("{\"pattern\":\"card_testing\",").size());
  EXPECT_EQ(HttpGet(port, "/metrics"), "");
}

// With two workers the per-pattern counters are read at a barrier: the same
// values as with one.
TEST_F(MetricsRunTest, TwoWorkersExportThePerPatternCounters) {
  ASSERT_EQ(::mkfifo((dir_ / "in.fifo").c_str(), 0600), 0);
  pid_ = SpawnCep(
      dir_, {"run", "p.cep", "--input", "in.fifo", "--output", "matches.jsonl",
             "--metrics-port", "0", "--parallelism", "2"});
  ASSERT_TRUE(Eventually([&] {
    writer_ = ::open((dir_ / "in.fifo").c_str(), O_WRONLY | O_NONBLOCK);
    return writer_ >= 0;
  })) << std::strerror(errno);
  ASSERT_EQ(::fcntl(writer_, F_SETFL, 0), 0);
  const int port = PortFromStderr();
  ASSERT_GT(port, 0) << ReadFile(dir_ / "stderr");
  // The input, then one event far behind the watermark: late, and one the
  // pattern would have taken.
  const std::string input =
      input_ +
      "{\"card\":\"c9\",\"amount\":1.00,\"merchant\":\"m1\",\"result\":"
      "\"approved\",\"ts\":\"2025-01-01T10:00:00Z\"}\n";
  ASSERT_EQ(::write(writer_, input.data(), input.size()),
            static_cast<ssize_t>(input.size()));
  const std::string pattern = "{pattern=\"card_testing\"}";
  std::string text;
  ASSERT_TRUE(Eventually([&] {
    text = HttpBody(HttpGet(port, "/metrics"));
    return SampleValue(text, "cep_input_events_total") == "13" &&
           SampleValue(text, "cep_events_total" + pattern) == "11";
  })) << text;
  EXPECT_THAT(CheckExposition(text), IsEmpty()) << text;
  EXPECT_EQ(SampleValue(text, "cep_late_events_total"), "1");
  EXPECT_EQ(SampleValue(text, "cep_pattern_late_events_total" + pattern), "1");
  EXPECT_EQ(SampleValue(text, "cep_matches_total" + pattern), "1");
  EXPECT_EQ(SampleValue(text, "cep_timeouts_total" + pattern), "0");
  EXPECT_EQ(SampleValue(text, "cep_keys" + pattern), "3");
  EXPECT_EQ(SampleValue(text, "cep_partial_matches" + pattern), "2");
  ::close(writer_);
  writer_ = -1;
  EXPECT_EQ(WaitExit(pid_), 0) << ReadFile(dir_ / "stderr");
  pid_ = -1;
}

// With RocksDB state, the checkpoint families come too.
TEST_F(MetricsRunTest, CheckpointMetricsWithRocksDbState) {
  ASSERT_EQ(::mkfifo((dir_ / "in.fifo").c_str(), 0600), 0);
  pid_ = SpawnCep(dir_, {"run", "p.cep", "--input", "in.fifo", "--output",
                         "matches.jsonl", "--metrics-port", "0", "--state",
                         "rocksdb:state", "--checkpoint-every", "4events"});
  ASSERT_TRUE(Eventually([&] {
    writer_ = ::open((dir_ / "in.fifo").c_str(), O_WRONLY | O_NONBLOCK);
    return writer_ >= 0;
  }));
  ASSERT_EQ(::fcntl(writer_, F_SETFL, 0), 0);
  const int port = PortFromStderr();
  ASSERT_GT(port, 0) << ReadFile(dir_ / "stderr");
  ASSERT_EQ(::write(writer_, input_.data(), input_.size()),
            static_cast<ssize_t>(input_.size()));
  std::string text;
  ASSERT_TRUE(Eventually([&] {
    text = HttpBody(HttpGet(port, "/metrics"));
    return SampleValue(text, "cep_input_events_total") == "12";
  })) << text;
  EXPECT_THAT(CheckExposition(text), IsEmpty()) << text;
  // A checkpoint after lines 4, 8 and 12.
  EXPECT_EQ(SampleValue(text, "cep_checkpoints_total"), "3");
  EXPECT_NE(SampleValue(text, "cep_checkpoint_duration_seconds"), "");
  EXPECT_NE(SampleValue(text, "cep_checkpoint_age_seconds"), "");
  EXPECT_EQ(SampleValue(text, "cep_matches_total{pattern=\"card_testing\"}"),
            "1");
  // A fresh database answers from its memtable: no block-cache read yet.
  EXPECT_EQ(SampleValue(text, "cep_rocksdb_block_cache_hits_total"), "0");
  EXPECT_EQ(SampleValue(text, "cep_rocksdb_block_cache_misses_total"), "0");
  EXPECT_EQ(SampleValue(text, "cep_rocksdb_block_cache_hit_ratio"), "0");
  ::close(writer_);
  writer_ = -1;
  EXPECT_EQ(WaitExit(pid_), 0) << ReadFile(dir_ / "stderr");
  pid_ = -1;
}

// The partial matches held survive a restart: the next run over the same
// state shows the count the checkpoint saved before it reads anything.
TEST_F(MetricsRunTest, PartialMatchesHeldSurviveARestart) {
  const std::string pattern = "{pattern=\"card_testing\"}";
  for (int run = 0; run < 2; ++run) {
    const fs::path fifo = dir_ / ("in" + std::to_string(run) + ".fifo");
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    pid_ = SpawnCep(dir_, {"run", "p.cep", "--input", fifo.filename().string(),
                           "--output", "matches.jsonl", "--metrics-port", "0",
                           "--state", "rocksdb:state"});
    ASSERT_TRUE(Eventually([&] {
      writer_ = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
      return writer_ >= 0;
    }));
    ASSERT_EQ(::fcntl(writer_, F_SETFL, 0), 0);
    const int port = PortFromStderr();
    ASSERT_GT(port, 0) << ReadFile(dir_ / "stderr");
    std::string text;
    if (run == 0) {
      ASSERT_EQ(::write(writer_, input_.data(), input_.size()),
                static_cast<ssize_t>(input_.size()));
      ASSERT_TRUE(Eventually([&] {
        text = HttpBody(HttpGet(port, "/metrics"));
        return SampleValue(text, "cep_input_events_total") == "12";
      })) << text;
    } else {
      // Restored before the input is read up to the checkpoint.
      ASSERT_TRUE(Eventually([&] {
        text = HttpBody(HttpGet(port, "/metrics"));
        return SampleValue(text, "cep_partial_matches" + pattern) == "2";
      })) << text;
      EXPECT_EQ(SampleValue(text, "cep_input_events_total"), "0");
    }
    EXPECT_EQ(SampleValue(text, "cep_partial_matches" + pattern), "2")
        << "run " << run;
    // RocksDB stores keys with live partial matches: c3.
    EXPECT_EQ(SampleValue(text, "cep_keys" + pattern), "1") << "run " << run;
    ASSERT_EQ(::kill(pid_, SIGTERM), 0);
    EXPECT_EQ(WaitExit(pid_), 0) << ReadFile(dir_ / "stderr");
    pid_ = -1;
    ::close(writer_);
    writer_ = -1;
  }
  // The second run stopped while it waited for the pipe to reach the
  // checkpoint: it took nothing and says so.
  EXPECT_THAT(ReadFile(dir_ / "stderr"),
              ::testing::EndsWith(
                  "cep: stopped by a signal: in1.fifo: stopped before the "
                  "input reached the checkpoint at byte 1082; the state in "
                  "state is unchanged\n"));
}

// A port in use: one line naming the flag and the port, exit 1, nothing
// read and no output file created.
TEST_F(MetricsRunTest, PortInUseIsAClearError) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<const sockaddr*>(&address),
                   sizeof(address)),
            0);
  ASSERT_EQ(::listen(listener, 1), 0);
  socklen_t length = sizeof(address);
  ASSERT_EQ(
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length),
      0);
  const std::string port = std::to_string(ntohs(address.sin_port));
  // A pipe nobody writes to: a run that read its input would wait forever.
  ASSERT_EQ(::mkfifo((dir_ / "in.fifo").c_str(), 0600), 0);
  pid_ = SpawnCep(dir_, {"run", "p.cep", "--input", "in.fifo", "--output",
                         "matches.jsonl", "--metrics-port", port});
  // Whether `cep` opens the pipe before it fails or not, it must end
  // without reading: a writer is there for it to open, writing nothing.
  int status = -1;
  ASSERT_TRUE(Eventually([&] {
    if (writer_ < 0) {
      writer_ = ::open((dir_ / "in.fifo").c_str(), O_WRONLY | O_NONBLOCK);
    }
    return ::waitpid(pid_, &status, WNOHANG) == pid_;
  }));
  pid_ = -1;
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_EQ(ReadFile(dir_ / "stderr"), "cep: error: --metrics-port " + port +
                                           ": address already in use\n");
  EXPECT_FALSE(fs::exists(dir_ / "matches.jsonl"));
  ::close(listener);
}

// Bad flag values are usage errors (exit 2), before anything starts.
TEST_F(MetricsRunTest, BadFlagValues) {
  std::ofstream(dir_ / "in.jsonl") << input_;
  pid_ = SpawnCep(
      dir_, {"run", "p.cep", "--input", "in.jsonl", "--metrics-port", "70000"});
  EXPECT_EQ(WaitExit(pid_), 2);
  EXPECT_THAT(ReadFile(dir_ / "stderr"),
              StartsWith("cep: error: --metrics-port: '70000' is not a number "
                         "from 0 to 65535"));
  pid_ =
      SpawnCep(dir_, {"run", "p.cep", "--input", "in.jsonl", "--metrics-port",
                      "0", "--metrics-address", "localhost"});
  EXPECT_EQ(WaitExit(pid_), 2);
  EXPECT_THAT(ReadFile(dir_ / "stderr"),
              StartsWith("cep: error: --metrics-address: 'localhost' is not "
                         "an IP address"));
  pid_ = -1;
}

}  // namespace
