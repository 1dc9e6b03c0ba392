// The child processes of the Kafka tests (tests/kafka/): a program (`cep`,
// fraud_service, kafka_mock_host --dump) run in a directory with its stdout
// and stderr in files there, waited for with a bound; kafka_mock_host
// hosting librdkafka's mock cluster for them (MockHost); KafkaProcessTest,
// the fixture that ties them together; and the small file and line helpers
// the tests compare outputs with. The including test defines CEP_BINARY
// and CEP_KAFKA_MOCK_HOST (the programs' paths).
//
// Example:
//   class MyTest : public KafkaProcessTest {};
//   TEST_F(MyTest, X) {
//     ASSERT_NO_FATAL_FAILURE(MakeSpacedEvents());
//     ASSERT_NO_FATAL_FAILURE(StartHost("matches"));
//     ASSERT_EQ(Wait(Start("one", {CEP_BINARY, "run", "p.cep", "--input",
//                                  Topic("auths"), ...})), 0) << Err("one");
//     EXPECT_EQ(Sorted(Lines(Out("one"))), expected);
//   }
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testing/cep_process.hpp"

namespace cep::kafka_testing {

namespace fs = std::filesystem;

// The events of MakeSpacedEvents(): `cep gen card-testing` with these.
inline constexpr int kEvents = 4000;

using ::cep::testing::ReadFile;

inline void WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

inline std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

inline std::vector<std::string> Sorted(std::vector<std::string> lines) {
  std::sort(lines.begin(), lines.end());
  return lines;
}

// A match line without its "seq" numbers and "id": what a run over Kafka
// agrees on with a run over the file (an event read from Kafka has the seq
// partition * 2^40 + offset, one read from a file its line's index).
inline std::string WithoutSeqs(const std::string& line) {
  static const std::regex seq("\"seq\":[0-9]+,");
  static const std::regex id(",\"id\":\"[0-9a-f]+\"");
  return std::regex_replace(std::regex_replace(line, seq, ""), id, "");
}

// WithoutSeqs of every line, sorted.
inline std::vector<std::string> WithoutSeqs(
    const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  for (const std::string& line : lines) out.push_back(WithoutSeqs(line));
  std::sort(out.begin(), out.end());
  return out;
}

// Starts `args` (the program's path first) in `dir`, stdout and stderr to
// files named `name`.out and `name`.err there; returns the pid.
inline pid_t Spawn(const fs::path& dir, const std::string& name,
                   std::vector<std::string> args) {
  return ::cep::testing::SpawnProgram(
      dir, std::move(args), dir / (name + ".out"), dir / (name + ".err"));
}

// Waits up to `seconds` for `pid`: its exit status, or -1 when it died of a
// signal or had to be killed.
inline int Wait(pid_t pid, int seconds = 60) {
  return ::cep::testing::WaitExit(pid, seconds);
}

// kafka_mock_host as a child: its stdin is a pipe (closing it ends the
// host), its stdout a pipe read line by line.
class MockHost {
 public:
  // Starts the host; returns false when it does not print the bootstrap
  // servers (and "produced N" after --produce) within 30 s.
  bool Start(const std::vector<std::string>& flags) {
    int in[2];
    int out[2];
    if (::pipe(in) != 0 || ::pipe(out) != 0) return false;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(in[0], STDIN_FILENO);
      ::dup2(out[1], STDOUT_FILENO);
      ::close(in[1]);
      ::close(out[0]);
      std::vector<std::string> args = {CEP_KAFKA_MOCK_HOST};
      args.insert(args.end(), flags.begin(), flags.end());
      std::vector<char*> argv;
      for (std::string& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    stdin_ = in[1];
    stdout_ = out[0];
    std::optional<std::string> bootstrap = ReadLine();
    if (!bootstrap) return false;
    bootstrap_ = *bootstrap;
    if (std::find(flags.begin(), flags.end(), "--produce") != flags.end()) {
      std::optional<std::string> produced = ReadLine();
      if (!produced) return false;
      produced_ = *produced;
    }
    return true;
  }
  ~MockHost() {
    if (pid_ <= 0) return;
    ::close(stdin_);
    ::close(stdout_);
    Wait(pid_, 10);
  }

  // Sends a command (kafka_mock_host.cpp); its answer, "ok" when done.
  std::string Command(const std::string& command) {
    const std::string line = command + "\n";
    if (::write(stdin_, line.data(), line.size()) !=
        static_cast<ssize_t>(line.size())) {
      return "cannot write to the host";
    }
    return ReadLine().value_or("no answer");
  }

  const std::string& bootstrap() const { return bootstrap_; }
  const std::string& produced() const { return produced_; }

 private:
  std::optional<std::string> ReadLine() {
    std::string line;
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      struct pollfd wait = {.fd = stdout_, .events = POLLIN, .revents = 0};
      if (::poll(&wait, 1, 100) <= 0) continue;
      char c;
      if (::read(stdout_, &c, 1) != 1) return std::nullopt;
      if (c == '\n') return line;
      line += c;
    }
    return std::nullopt;
  }

  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
  std::string bootstrap_;
  std::string produced_;
};

// JSON lines with their "ts" rewritten to `step_ms` apart from
// `first_ts_ms` on, in order: distinct timestamps in file order, so that
// the Kafka source's event-time merge of the partitions gives exactly the
// file's order (and with it the same matches).
inline std::string EvenlySpaced(const std::string& jsonl, int64_t first_ts_ms,
                                int64_t step_ms) {
  static const std::regex ts("\"ts\":[0-9]+");
  std::string events;
  int64_t next_ts = first_ts_ms;
  for (const std::string& line : Lines(jsonl)) {
    events +=
        std::regex_replace(line, ts, "\"ts\":" + std::to_string(next_ts)) +
        "\n";
    next_ts += step_ms;
  }
  return events;
}

// The value of a message line of KafkaProcessTest::Messages().
inline std::string MessageValue(const std::string& line) {
  return line.substr(line.find('\t', line.find('\t') + 1) + 1);
}

// A test that runs programs against a MockHost: each test has a directory
// of its own (removed after it), where the programs run, and the children
// it started are killed if they still run when it ends.
class KafkaProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const ::testing::TestInfo* test =
        ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("cep_" + std::string(test->test_suite_name()) + "_" +
            std::to_string(::getpid()) + "_" + test->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    for (const pid_t pid : spawned_) {
      if (::waitpid(pid, nullptr, WNOHANG) == 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
      }
    }
    fs::remove_all(dir_);
  }

  // Starts `args` (the program first) in dir_, its stdout and stderr to
  // NAME.out and NAME.err there (Out(), Err()).
  pid_t Start(const std::string& name, std::vector<std::string> args) {
    const pid_t pid = Spawn(dir_, name, std::move(args));
    spawned_.push_back(pid);
    return pid;
  }
  std::string Out(const std::string& name) const {
    return ReadFile(dir_ / (name + ".out"));
  }
  std::string Err(const std::string& name) const {
    return ReadFile(dir_ / (name + ".err"));
  }

  // dir_/events.jsonl: kEvents card authorisations of `cep gen
  // card-testing` (seed 7, 200 cards, 1% planted frauds), their timestamps
  // 250 ms apart (EvenlySpaced).
  void MakeSpacedEvents() {
    ASSERT_EQ(Wait(Start("gen", {CEP_BINARY, "gen", "card-testing", "--events",
                                 std::to_string(kEvents), "--seed", "7",
                                 "--keys", "200", "--fraud-rate", "0.01"})),
              0)
        << Err("gen");
    WriteFile(dir_ / "events.jsonl",
              EvenlySpaced(Out("gen"), 1764547200250, 250));
  }

  // host_ with topics auths (events.jsonl, keyed by card) and `output`, 8
  // partitions each.
  void StartHost(const std::string& output) {
    ASSERT_TRUE(
        host_.Start({"--topic", "auths", "--topic", output, "--partitions", "8",
                     "--produce", (dir_ / "events.jsonl").string(),
                     "--key-field", "card"}));
    ASSERT_EQ(host_.produced(), "produced " + std::to_string(kEvents));
  }

  std::string Topic(const std::string& topic) const {
    return "kafka://" + host_.bootstrap() + "/" + topic;
  }

  // Every message of `topic` now, one line each: PARTITION, a tab, the
  // key, a tab, the value (kafka_mock_host --dump, run as NAME).
  std::vector<std::string> Messages(const std::string& name,
                                    const std::string& topic) {
    EXPECT_EQ(Wait(Start(name, {CEP_KAFKA_MOCK_HOST, "--dump",
                                host_.bootstrap(), topic})),
              0)
        << Err(name);
    return Lines(Out(name));
  }

  fs::path dir_;
  std::vector<pid_t> spawned_;
  MockHost host_;
};

}  // namespace cep::kafka_testing
