// `cep trace` as a user runs it, data-driven: each folder of tests/trace/
// holds pattern.cep, events.jsonl, `key` (the value of --key; no file: no
// --key flag), optionally `args` (more flags, whitespace-separated), and
// expected.txt, the exact trace on stdout. expected_stderr.txt (default:
// empty) and expected_status (default: 0) pin the rest. The `cep` binary
// runs in the case's folder, so the trace names "pattern.cep".
// CEP_UPDATE_EXPECTED=1 rewrites expected.txt.

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;

const fs::path kTraceDir = fs::path(CEP_SOURCE_DIR) / "tests" / "trace";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<std::string> Words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

struct Outcome {
  int status = -1;
  std::string out;
  std::string err;
};

// Runs `cep ARGS...` in `dir`; stdout and stderr go through files in
// `scratch`.
Outcome RunCep(const fs::path& dir, const fs::path& scratch,
               const std::vector<std::string>& args) {
  const std::string out = (scratch / "stdout").string();
  const std::string err = (scratch / "stderr").string();
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::chdir(dir.c_str()) != 0) ::_exit(126);
    const int out_fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err_fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(out_fd, STDOUT_FILENO);
    ::dup2(err_fd, STDERR_FILENO);
    std::vector<std::string> all = {CEP_BINARY};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& arg : all) argv.push_back(arg.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  Outcome outcome;
  outcome.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  outcome.out = ReadFile(out);
  outcome.err = ReadFile(err);
  return outcome;
}

class TraceCase : public ::testing::Test {
 public:
  explicit TraceCase(fs::path dir) : dir_(std::move(dir)) {}

  void TestBody() override {
    std::vector<std::string> args = {"trace", "pattern.cep", "--input",
                                     "events.jsonl"};
    if (fs::exists(dir_ / "key")) {
      const std::vector<std::string> key = Words(ReadFile(dir_ / "key"));
      ASSERT_EQ(key.size(), 1u) << dir_ / "key";
      args.push_back("--key");
      args.push_back(key.front());
    }
    for (const std::string& word : Words(ReadFile(dir_ / "args"))) {
      args.push_back(word);
    }
    const fs::path scratch =
        fs::path(::testing::TempDir()) / ("trace_" + dir_.filename().string());
    fs::create_directories(scratch);
    const Outcome outcome = RunCep(dir_, scratch, args);
    const int expected_status =
        fs::exists(dir_ / "expected_status")
            ? std::stoi(ReadFile(dir_ / "expected_status"))
            : 0;
    EXPECT_EQ(outcome.status, expected_status) << dir_ << "\n" << outcome.err;
    EXPECT_EQ(outcome.err, ReadFile(dir_ / "expected_stderr.txt")) << dir_;
    const fs::path expected_path = dir_ / "expected.txt";
    if (std::getenv("CEP_UPDATE_EXPECTED") != nullptr) {
      std::ofstream(expected_path, std::ios::binary) << outcome.out;
      return;
    }
    const std::string expected = ReadFile(expected_path);
    if (outcome.out == expected) return;
    // The first differing line, with its number, then both texts.
    std::istringstream want(expected), got(outcome.out);
    std::string want_line, got_line;
    size_t line = 0;
    while (true) {
      ++line;
      const bool more_want = static_cast<bool>(std::getline(want, want_line));
      const bool more_got = static_cast<bool>(std::getline(got, got_line));
      if (!more_want && !more_got) break;
      if (!more_want || !more_got || want_line != got_line) {
        ADD_FAILURE() << expected_path.string() << ":" << line
                      << ": expected\n  " << (more_want ? want_line : "<end>")
                      << "\ngot\n  " << (more_got ? got_line : "<end>")
                      << "\nwhole output:\n"
                      << outcome.out;
        return;
      }
    }
    ADD_FAILURE() << expected_path << ": outputs differ";
  }

 private:
  fs::path dir_;
};

std::vector<fs::path> DiscoverCases() {
  std::vector<fs::path> dirs;
  for (const auto& entry : fs::directory_iterator(kTraceDir)) {
    if (entry.is_directory()) dirs.push_back(entry.path());
  }
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

TEST(TraceTest, FindsCases) { EXPECT_GE(DiscoverCases().size(), 7u); }

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (const fs::path& dir : DiscoverCases()) {
    const std::string name = dir.filename().string();
    ::testing::RegisterTest(
        "TraceCases", name.c_str(), nullptr, nullptr, __FILE__, __LINE__,
        [dir]() -> ::testing::Test* { return new TraceCase(dir); });
  }
  return RUN_ALL_TESTS();
}
