// Tests that run the `cep` binary (CEP_BINARY) as a child process: start it
// in a directory with its stdout and stderr in files there, wait for it with
// a bound, poll for a condition with a bound.
//
// Example:
//   const pid_t pid = cep::testing::SpawnCep(dir, {"run", "p.cep", ...});
//   ASSERT_TRUE(cep::testing::Eventually([&] { return fs::exists(out); }));
//   EXPECT_EQ(cep::testing::WaitExit(pid), 0)
//       << cep::testing::ReadFile(dir / "stderr");
#pragma once

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace cep::testing {

inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Starts `args` (the program's path first) in `dir`, stdout and stderr to
// the files `out` and `err`; returns the child's pid.
inline pid_t SpawnProgram(const std::filesystem::path& dir,
                          std::vector<std::string> args,
                          const std::filesystem::path& out,
                          const std::filesystem::path& err) {
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

// Starts `CEP_BINARY ARGS...` in `dir`, stdout and stderr to the files
// dir/stdout and dir/stderr; returns the child's pid.
inline pid_t SpawnCep(const std::filesystem::path& dir,
                      const std::vector<std::string>& args) {
  std::vector<std::string> all = {CEP_BINARY};
  all.insert(all.end(), args.begin(), args.end());
  return SpawnProgram(dir, std::move(all), dir / "stdout", dir / "stderr");
}

// Waits up to `seconds` (default 30) for `pid`: its exit status, or -1
// when it died of a signal or had to be killed.
inline int WaitExit(pid_t pid, int seconds = 30) {
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

// Polls `done` every 10 ms until it holds (true) or `limit` passed (false).
template <typename Done>
bool Eventually(Done done,
                std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  for (auto waited = std::chrono::milliseconds(0); waited < limit;
       waited += std::chrono::milliseconds(10)) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

}  // namespace cep::testing
