// The child processes of the Kafka tests (tests/kafka/): a program (`cep`,
// fraud_service, kafka_mock_host --dump) run in a directory with its stdout
// and stderr in files there, waited for with a bound; kafka_mock_host
// hosting librdkafka's mock cluster for them (MockHost); and the small file
// and line helpers the tests compare outputs with.
//
// Example:
//   MockHost host;
//   ASSERT_TRUE(host.Start({"--topic", "auths", "--partitions", "8"}));
//   const pid_t pid = Spawn(dir, "one", {CEP_BINARY, "run", "p.cep",
//       "--input", "kafka://" + host.bootstrap() + "/auths", ...});
//   ASSERT_EQ(Wait(pid), 0) << ReadFile(dir / "one.err");
//   EXPECT_EQ(Sorted(Lines(ReadFile(dir / "one.out"))), expected);
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
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace cep::kafka_testing {

namespace fs = std::filesystem;

inline std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

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

// A match line without its "seq" numbers and "id": what two processes of
// Starts `program ARGS...` in `dir`, stdout and stderr to files named
// `name`.out and `name`.err there; returns the pid.
inline pid_t Spawn(const fs::path& dir, const std::string& name,
                   std::vector<std::string> args) {
  const std::string out = (dir / (name + ".out")).string();
  const std::string err = (dir / (name + ".err")).string();
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  if (::chdir(dir.c_str()) != 0) ::_exit(126);
  const int out_fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const int err_fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ::dup2(out_fd, STDOUT_FILENO);
  ::dup2(err_fd, STDERR_FILENO);
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  ::execv(argv[0], argv.data());
  ::_exit(127);
}

// Waits up to `seconds` for `pid`: its exit status, or -1 when it died of a
// signal or had to be killed.
inline int Wait(pid_t pid, int seconds = 60) {
  for (int tries = 0; tries < seconds * 100; ++tries) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  return -1;
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
// file's order (and with it the same seq numbers and match ids).
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

}  // namespace cep::kafka_testing
