// `cep run` as a user runs it: the `cep` binary as a child process, for what
// only the command line shows — outputs that would overwrite an input or
// each other, SIGTERM while reading an idle named pipe, a run refused over a
// locked state directory, warnings for flags without effect, durations that
// do not fit.

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

void WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// Waits up to 30 s for `path` to exist.
bool WaitForFile(const fs::path& path) {
  return Eventually([&] { return fs::exists(path); }, std::chrono::seconds(30));
}

class RunCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cep_run_command_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    fs::copy_file(fs::path(CEP_SOURCE_DIR) / "patterns" / "card_testing.cep",
                  dir_ / "p.cep");
    input_ = ReadFile(fs::path(CEP_SOURCE_DIR) / "tests" / "cases" /
                      "card_testing_basic" / "events.jsonl");
    WriteFile(dir_ / "in.jsonl", input_);
  }
  void TearDown() override {
    // Children a failed assertion left running.
    for (const pid_t pid : spawned_) {
      if (::waitpid(pid, nullptr, WNOHANG) == 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
      }
    }
    fs::remove_all(dir_);
  }

  pid_t Start(const fs::path& dir, const std::vector<std::string>& args) {
    const pid_t pid = SpawnCep(dir, args);
    spawned_.push_back(pid);
    return pid;
  }

  // Runs `cep run p.cep ARGS...` in dir_ to the end; its exit status.
  int Run(const std::vector<std::string>& args) {
    std::vector<std::string> all = {"run", "p.cep"};
    all.insert(all.end(), args.begin(), args.end());
    return WaitExit(Start(dir_, all));
  }
  std::string Stderr() const { return ReadFile(dir_ / "stderr"); }

  fs::path dir_;
  std::string input_;
  std::vector<pid_t> spawned_;
};

// Every output flag, and every way of naming the same file: refused before
// anything is opened (the input intact, no file created), exit status 2,
// both paths named.
TEST_F(RunCommandTest, OutputThatIsAnInputOrAnotherOutputIsRefused) {
  fs::create_symlink("in.jsonl", dir_ / "link.jsonl");
  fs::create_hard_link(dir_ / "in.jsonl", dir_ / "hard.jsonl");
  fs::create_directory(dir_ / "sub");
  fs::create_directory_symlink("sub", dir_ / "sublink");
  fs::create_symlink("sub/new.jsonl", dir_ / "dangling.jsonl");
  struct Case {
    std::vector<std::string> args;
    std::string error;
  };
  const std::string usage = " (see 'cep --help')\n";
  const Case cases[] = {
      {{"--input", "in.jsonl", "-o", "./in.jsonl"},
       "--output './in.jsonl' is the same file as --input 'in.jsonl'"},
      {{"--input", "in.jsonl", "--timeouts", "link.jsonl"},
       "--timeouts 'link.jsonl' is the same file as --input 'in.jsonl'"},
      {{"--input", "in.jsonl", "--late", "hard.jsonl"},
       "--late 'hard.jsonl' is the same file as --input 'in.jsonl'"},
      {{"--input", "in.jsonl", "--on-error", "skip", "--dead-letter",
        "sub/../in.jsonl"},
       "--dead-letter 'sub/../in.jsonl' is the same file as --input "
       "'in.jsonl'"},
      {{"--input", "in.jsonl", "--stats-json", "p.cep"},
       "--stats-json 'p.cep' is the same file as pattern file 'p.cep'"},
      {{"--input", "in.jsonl", "-o", "./link.jsonl"},
       "--output './link.jsonl' is the same file as --input 'in.jsonl'"},
      // Files not created yet: by their paths.
      {{"--input", "in.jsonl", "-o", "out.jsonl", "--timeouts", "./out.jsonl"},
       "--timeouts './out.jsonl' is the same file as --output 'out.jsonl'"},
      {{"--input", "in.jsonl", "--late", "sub/new.jsonl", "--stats-json",
        "sublink/new.jsonl"},
       "--stats-json 'sublink/new.jsonl' is the same file as --late "
       "'sub/new.jsonl'"},
      {{"--input", "in.jsonl", "-o", "dangling.jsonl", "--late",
        "sub/new.jsonl"},
       "--late 'sub/new.jsonl' is the same file as --output "
       "'dangling.jsonl'"},
      // Also with durable state (the outputs are truncated to a checkpoint).
      {{"--input", "in.jsonl", "-o", "in.jsonl", "--state", "rocksdb:st"},
       "--output 'in.jsonl' is the same file as --input 'in.jsonl'"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Run(c.args), 2) << c.error;
    EXPECT_EQ(Stderr(), "cep: error: " + c.error + usage);
    EXPECT_EQ(ReadFile(dir_ / "stdout"), "");
    EXPECT_EQ(ReadFile(dir_ / "in.jsonl"), input_);
    EXPECT_FALSE(fs::exists(dir_ / "out.jsonl"));
    EXPECT_FALSE(fs::exists(dir_ / "sub" / "new.jsonl"));
    EXPECT_FALSE(fs::exists(dir_ / "st"));
  }
  EXPECT_EQ(
      ReadFile(dir_ / "p.cep"),
      ReadFile(fs::path(CEP_SOURCE_DIR) / "patterns" / "card_testing.cep"));
  // /dev/null twice, and stdout twice, are fine.
  EXPECT_EQ(Run({"--input", "in.jsonl", "--timeouts", "/dev/null", "--late",
                 "/dev/null", "--stats-json", "/dev/null", "-o", "-",
                 "--on-error", "skip", "--dead-letter", "-"}),
            0)
      << Stderr();
}

// SIGTERM while `--input` is a named pipe nobody writes to: a clean stop,
// within the test's bound, with or without a writer holding the pipe.
TEST_F(RunCommandTest, SigtermStopsARunReadingAnIdleNamedPipe) {
  ASSERT_EQ(::mkfifo((dir_ / "in.fifo").c_str(), 0644), 0);
  // No writer: the output file is created once the run has started.
  pid_t pid =
      Start(dir_, {"run", "p.cep", "--input", "in.fifo", "-o", "a.jsonl"});
  ASSERT_TRUE(WaitForFile(dir_ / "a.jsonl"));
  ::kill(pid, SIGTERM);
  EXPECT_EQ(WaitExit(pid), 0);
  EXPECT_THAT(Stderr(),
              ::testing::StartsWith("cep: stopped by a signal\ncep: 0 events, "
                                    "0 matches, 0 timeouts, 0 late, 0 errors "
                                    "in "));
  // A writer that sent three lines and went quiet (the third is late: with
  // a checkpoint per event, once it is in the --late file all three were
  // read); the next run resumes after them.
  pid = Start(dir_, {"run", "p.cep", "--input", "in.fifo", "-o", "b.jsonl",
                     "--late", "late.jsonl", "--state", "rocksdb:st",
                     "--checkpoint-every", "1events"});
  const int writer = ::open((dir_ / "in.fifo").c_str(), O_WRONLY);
  ASSERT_GE(writer, 0);
  const std::string first = input_.substr(0, input_.find('\n') + 1);
  const std::string lines =
      input_.substr(0, input_.find('\n', first.size()) + 1) + first;
  ASSERT_EQ(::write(writer, lines.data(), lines.size()),
            static_cast<ssize_t>(lines.size()));
  for (int tries = 0; tries < 3000 && ReadFile(dir_ / "late.jsonl").empty();
       ++tries) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_FALSE(ReadFile(dir_ / "late.jsonl").empty());
  ::kill(pid, SIGTERM);
  EXPECT_EQ(WaitExit(pid), 0);
  ::close(writer);
  EXPECT_THAT(Stderr(), ::testing::StartsWith(
                            "cep: stopped by a signal; the next run with this "
                            "--state resumes here\ncep: 3 events, 0 matches, "
                            "0 timeouts, 1 late, 0 errors in "));
}

// A run refused because another holds the state directory creates none of
// its output files.
TEST_F(RunCommandTest, RefusedConcurrentRunCreatesNoOutputFile) {
  ASSERT_EQ(::mkfifo((dir_ / "in.fifo").c_str(), 0644), 0);
  const pid_t first = Start(dir_, {"run", "p.cep", "--input", "in.fifo", "-o",
                                   "first.jsonl", "--state", "rocksdb:st"});
  ASSERT_TRUE(WaitForFile(dir_ / "first.jsonl"));  // the state is locked
  const fs::path second = dir_ / "second";
  fs::create_directory(second);
  const int status = WaitExit(
      Start(second, {"run", "../p.cep", "--input", "../in.jsonl", "-o",
                     "second.jsonl", "--timeouts", "t.jsonl", "--stats-json",
                     "s.json", "--state", "rocksdb:../st"}));
  EXPECT_EQ(status, 1);
  EXPECT_NE(ReadFile(second / "stderr").find("lock"), std::string::npos)
      << ReadFile(second / "stderr");
  EXPECT_FALSE(fs::exists(second / "second.jsonl"));
  EXPECT_FALSE(fs::exists(second / "t.jsonl"));
  EXPECT_FALSE(fs::exists(second / "s.json"));
  ::kill(first, SIGTERM);
  EXPECT_EQ(WaitExit(first), 0);
}

TEST_F(RunCommandTest, FlagsWithoutEffectAreWarnedAbout) {
  EXPECT_EQ(
      Run({"--input", "in.jsonl", "--trigger", "5events", "--commit-interval",
           "1s", "--checkpoint-every", "loop", "--keep-checkpoints", "2",
           "--state-cache", "5", "--migrate", "--dead-letter", "dead.jsonl"}),
      0);
  const std::string err = Stderr();
  EXPECT_EQ(err.substr(0, err.find("cep: 12 events")),
            "cep: warning: --trigger has no effect without --loop microbatch\n"
            "cep: warning: --commit-interval has no effect without --loop "
            "realtime\n"
            "cep: warning: --checkpoint-every has no effect without --state "
            "rocksdb:DIR\n"
            "cep: warning: --keep-checkpoints has no effect without --state "
            "rocksdb:DIR\n"
            "cep: warning: --state-cache has no effect without --state "
            "rocksdb:DIR\n"
            "cep: warning: --migrate has no effect without --state "
            "rocksdb:DIR\n"
            "cep: warning: --dead-letter has no effect without --on-error "
            "skip\n");
  // Where they apply, no warning.
  EXPECT_EQ(Run({"--input", "in.jsonl", "--loop", "microbatch", "--trigger",
                 "5events", "--on-error", "skip", "--dead-letter", "dead.jsonl",
                 "--state", "rocksdb:st", "--checkpoint-every", "loop"}),
            0);
  EXPECT_EQ(Stderr().find("warning"), std::string::npos) << Stderr();
}

TEST_F(RunCommandTest, DurationsThatDoNotFitAreUsageErrors) {
  EXPECT_EQ(Run({"--input", "in.jsonl", "--max-out-of-orderness",
                 "9223372036854775807ms"}),
            2);
  EXPECT_EQ(Stderr(),
            "cep: error: --max-out-of-orderness: '9223372036854775807ms' is "
            "too long (at most 106751d) (see 'cep --help')\n");
  EXPECT_EQ(Run({"--input", "in.jsonl", "--loop", "microbatch", "--trigger",
                 "106752d"}),
            2);
  EXPECT_EQ(Stderr(),
            "cep: error: --trigger: '106752d' is too long (at most 106751d) "
            "(see 'cep --help')\n");
}

}  // namespace
