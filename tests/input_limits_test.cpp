// Inputs that must not exhaust memory or stop a run that skips bad lines:
// the bounded line reader (src/io/line_reader.hpp) and --max-line-bytes,
// NUL bytes under --on-error skip, pattern files that are not regular files
// or are too large (LoadPatternFile), and the one copy of a file's text its
// patterns share.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <istream>
#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "cep/dsl.hpp"
#include "cep/run.hpp"

#include "io/line_reader.hpp"
#include "testing/status_matchers.hpp"

namespace cep {
namespace {

using ::cep::testing::IsOk;
using ::cep::testing::StatusIs;
using io::LineRead;
using io::LineReader;

// ---- LineReader ------------------------------------------------------------

struct ReadLine {
  LineRead read;
  std::string line;
  uint64_t consumed;
  bool operator==(const ReadLine&) const = default;
};

std::vector<ReadLine> ReadAll(const std::string& text, size_t max_bytes) {
  std::istringstream in(text);
  LineReader reader(max_bytes);
  std::vector<ReadLine> lines;
  std::string line;
  uint64_t consumed = 0;
  LineRead read;
  while ((read = reader.Next(in, line, consumed)) != LineRead::kEnd) {
    lines.push_back({read, line, consumed});
  }
  EXPECT_FALSE(in.bad());
  return lines;
}

TEST(LineReaderTest, ReadsLinesAsGetlineDoes) {
  EXPECT_EQ(ReadAll("ab\n\ncd\r\nlast", 10),
            (std::vector<ReadLine>{{LineRead::kLine, "ab", 3},
                                   {LineRead::kLine, "", 1},
                                   {LineRead::kLine, "cd\r", 4},
                                   {LineRead::kLine, "last", 4}}));
  EXPECT_EQ(ReadAll("x\n", 10),
            (std::vector<ReadLine>{{LineRead::kLine, "x", 2}}));
  EXPECT_EQ(ReadAll("", 10), std::vector<ReadLine>{});
  // NUL bytes are bytes like any other.
  EXPECT_EQ(
      ReadAll(std::string("a\0b\n", 4), 10),
      (std::vector<ReadLine>{{LineRead::kLine, std::string("a\0b", 3), 4}}));
}

TEST(LineReaderTest, LongerLinesAreCutAndTheirRestDropped) {
  EXPECT_EQ(ReadAll("1234\n12345\n123456\nab\n1234567", 5),
            (std::vector<ReadLine>{{LineRead::kLine, "1234", 5},
                                   {LineRead::kLine, "12345", 6},
                                   {LineRead::kTooLong, "12345", 7},
                                   {LineRead::kLine, "ab", 3},
                                   {LineRead::kTooLong, "12345", 7}}));
}

TEST(LineReaderTest, LinesLongerThanOneChunk) {
  // The reader takes 64 KiB at a time.
  const std::string long_line(200000, 'x');
  const std::string exact(65536, 'y');
  EXPECT_EQ(ReadAll(long_line + "\n" + exact + "\n" + exact, 1 << 20),
            (std::vector<ReadLine>{{LineRead::kLine, long_line, 200001},
                                   {LineRead::kLine, exact, 65537},
                                   {LineRead::kLine, exact, 65536}}));
  EXPECT_EQ(ReadAll(long_line + "\nok\n", 100000),
            (std::vector<ReadLine>{
                {LineRead::kTooLong, std::string(100000, 'x'), 200001},
                {LineRead::kLine, "ok", 3}}));
}

// An endless line of 'z' (as /dev/zero is an endless line of NUL bytes),
// `size` bytes of it, produced as it is read.
class EndlessLine : public std::streambuf {
 public:
  explicit EndlessLine(uint64_t size, std::string after)
      : left_(size), after_(std::move(after)) {
    std::fill(std::begin(buffer_), std::end(buffer_), 'z');
  }

 public:
  // Bytes of the line handed to the reader so far.
  uint64_t produced() const { return produced_; }

 private:
  int_type underflow() override {
    if (left_ == 0) {
      if (after_done_) return traits_type::eof();
      after_done_ = true;
      setg(after_.data(), after_.data(), after_.data() + after_.size());
      return after_.empty() ? traits_type::eof()
                            : traits_type::to_int_type(after_[0]);
    }
    const uint64_t n = std::min<uint64_t>(left_, sizeof(buffer_));
    left_ -= n;
    produced_ += n;
    setg(buffer_, buffer_, buffer_ + n);
    return traits_type::to_int_type(buffer_[0]);
  }

  char buffer_[1 << 16];
  uint64_t left_;
  uint64_t produced_ = 0;
  std::string after_;
  bool after_done_ = false;
};

TEST(LineReaderTest, HoldsNoMoreThanTheBoundOfAHugeLine) {
  EndlessLine endless(uint64_t{256} << 20, "\nnext\n");
  std::istream in(&endless);
  LineReader reader(1024);
  std::string line;
  uint64_t consumed = 0;
  EXPECT_EQ(reader.Next(in, line, consumed), LineRead::kTooLong);
  EXPECT_EQ(line, std::string(1024, 'z'));
  EXPECT_LE(line.capacity(), 4096u);
  EXPECT_EQ(consumed, (uint64_t{256} << 20) + 1);
  EXPECT_EQ(reader.Next(in, line, consumed), LineRead::kLine);
  EXPECT_EQ(line, "next");
  EXPECT_EQ(reader.Next(in, line, consumed), LineRead::kEnd);
}

TEST(LineReaderTest, LeavesTheRestWhenAskedTo) {
  EndlessLine endless(uint64_t{256} << 20, "\n");
  std::istream in(&endless);
  LineReader reader(1024, /*drop_rest=*/false);
  std::string line;
  uint64_t consumed = 0;
  EXPECT_EQ(reader.Next(in, line, consumed), LineRead::kTooLong);
  EXPECT_EQ(line, std::string(1024, 'z'));
  EXPECT_EQ(consumed, 1025u);
  EXPECT_LE(endless.produced(), uint64_t{1} << 16);
}

TEST(LineReaderTest, AStopRequestEndsDroppingTheRest) {
  EndlessLine endless(uint64_t{1} << 40, "\n");  // 1 TiB: never read whole
  std::istream in(&endless);
  const std::atomic<bool> stop{true};
  LineReader reader(1024, /*drop_rest=*/true, &stop);
  std::string line;
  uint64_t consumed = 0;
  EXPECT_EQ(reader.Next(in, line, consumed), LineRead::kTooLong);
  EXPECT_EQ(line, std::string(1024, 'z'));
  // The line's first chunk, then 16 chunks of 64 KiB.
  EXPECT_EQ(consumed, 1025u + 16 * 65536);
}

// ---- cep run: --max-line-bytes, NUL bytes -----------------------------------

constexpr const char* kPatterns = R"(
event Auth {
  card    string  key
  amount  double
  ts      timestamp time
}

pattern small_then_big on Auth {
  begin small where amount < 10
  followed by big where amount > 100
}
)";

struct Result {
  absl::StatusOr<RunStats> stats;
  std::string matches{}, dead_letter{};
};

Result RunOn(std::istream& in, const std::vector<std::string>& words) {
  absl::StatusOr<PatternFile> file = ParsePatternFile(kPatterns, "t.cep");
  EXPECT_THAT(file.status(), IsOk());
  RunOptions options;
  EXPECT_THAT(ParseRunOptions(words, options), IsOk());
  std::ostringstream matches, dead_letter;
  RunOutputs outputs{.matches = &matches, .dead_letter = &dead_letter};
  Result result{
      .stats = RunPatternFile(*file, in, "events.jsonl", options, outputs)};
  result.matches = matches.str();
  result.dead_letter = dead_letter.str();
  return result;
}

Result RunOn(const std::string& input, const std::vector<std::string>& words) {
  std::istringstream in(input);
  return RunOn(in, words);
}

const std::string kSmall = R"({"card":"c1","amount":1,"ts":1000})";
const std::string kBig = R"({"card":"c1","amount":500,"ts":2000})";
const std::string kMatch =
    R"({"pattern":"small_then_big","key":"c1","events":{"small":[{"seq":0,"card":"c1","amount":1.0,"ts":1000}],"big":[{"seq":1,"card":"c1","amount":500.0,"ts":2000}]}})"
    "\n";

TEST(MaxLineBytesTest, DefaultIs16MiB) {
  EXPECT_EQ(RunOptions().max_line_bytes, size_t{16} << 20);
}

TEST(MaxLineBytesTest, LongerLineStopsTheRunNamingFileAndLine) {
  const std::string long_line = R"({"card":"c1","amount":1,"ts":1500,"x":")" +
                                std::string(100, 'x') + "\"}";
  Result r = RunOn(kSmall + "\n" + long_line + "\n" + kBig + "\n",
                   {"--max-line-bytes", "64"});
  EXPECT_THAT(r.stats,
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "events.jsonl:2: error: the line is longer than 64 "
                       "bytes (--max-line-bytes)"));
  // Lines up to the bound are read.
  r = RunOn(kSmall + "\n" + kBig + "\n",
            {"--max-line-bytes", std::to_string(kBig.size())});
  ASSERT_THAT(r.stats, IsOk());
  EXPECT_EQ(r.matches, kMatch);
}

TEST(MaxLineBytesTest, LongerLineIsADeadLetterWhenSkipping) {
  const std::string long_line(100, 'x');
  Result r = RunOn(kSmall + "\n" + long_line + "\n" + kBig + "\n",
                   {"--max-line-bytes", "64", "--on-error", "skip"});
  ASSERT_THAT(r.stats, IsOk());
  EXPECT_EQ(r.stats->errors, 1u);
  EXPECT_EQ(r.stats->events, 2u);
  EXPECT_EQ(r.dead_letter, std::string(64, 'x') + "\n");
  EXPECT_EQ(r.matches, kMatch);
}

TEST(MaxLineBytesTest, AnEndlessLineEndsInBoundedMemory) {
  EndlessLine endless(uint64_t{64} << 20, "\n" + kBig + "\n");
  std::istream in(&endless);
  Result r = RunOn(in, {"--max-line-bytes", "4096", "--on-error", "skip"});
  ASSERT_THAT(r.stats, IsOk());
  EXPECT_EQ(r.stats->errors, 1u);
  EXPECT_EQ(r.stats->events, 1u);
  EXPECT_EQ(r.dead_letter, std::string(4096, 'z') + "\n");
}

TEST(MaxLineBytesTest, AnEndlessLineStopsTheRunAtTheBound) {
  EndlessLine endless(uint64_t{1} << 40, "\n");
  std::istream in(&endless);
  Result r = RunOn(in, {"--max-line-bytes", "4096"});
  EXPECT_THAT(r.stats,
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "events.jsonl:1: error: the line is longer than 4096 "
                       "bytes (--max-line-bytes)"));
  EXPECT_LE(endless.produced(), uint64_t{1} << 16);
}

TEST(MaxLineBytesTest, FlagValues) {
  RunOptions options;
  EXPECT_THAT(SetRunOption("max-line-bytes", "1", options), IsOk());
  EXPECT_EQ(options.max_line_bytes, 1u);
  EXPECT_THAT(SetRunOption("max-line-bytes", "1073741824", options), IsOk());
  EXPECT_EQ(options.max_line_bytes, kMaxLineBytesLimit);
  EXPECT_THAT(SetRunOption("max-line-bytes", "0", options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "--max-line-bytes: '0' is not a number from 1 to "
                       "1073741824"));
  EXPECT_THAT(SetRunOption("max-line-bytes", "16MiB", options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "--max-line-bytes: '16MiB' is not a number from 1 to "
                       "1073741824"));
}

TEST(NulByteTest, LineWithANulByteIsADeadLetterWhenSkipping) {
  const std::string nul_line("{\"card\":\"c1\0\"}", 15);
  Result r = RunOn(kSmall + "\n" + nul_line + "\n" + kBig + "\n",
                   {"--on-error", "skip"});
  ASSERT_THAT(r.stats, IsOk());
  EXPECT_EQ(r.stats->errors, 1u);
  EXPECT_EQ(r.stats->events, 2u);
  EXPECT_EQ(r.dead_letter, nul_line + "\n");
  EXPECT_EQ(r.matches, kMatch);
  // Without skipping it stops the run.
  r = RunOn(kSmall + "\n" + nul_line + "\n" + kBig + "\n", {});
  EXPECT_THAT(r.stats,
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "events.jsonl:2: error: the input is not text (it "
                       "contains a NUL byte); expected one JSON object per "
                       "line"));
}

// The CSV header cannot be skipped: a header that is not text stops the run
// under --on-error skip too (found by the fuzzer: the next line was read as
// the header instead).
TEST(NulByteTest, CsvHeaderWithANulByteStopsTheRunWhenSkipping) {
  const std::string header("card,amount\0,ts", 16);
  Result r = RunOn(header + "\nc1,1,1000\n",
                   {"--format", "csv", "--on-error", "skip"});
  EXPECT_THAT(r.stats,
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "events.jsonl:1: error: the input is not text (it "
                       "contains a NUL byte); expected CSV with a header row"));
  EXPECT_EQ(r.dead_letter, "");
  const std::string long_header = "card,amount,ts" + std::string(100, ' ');
  r = RunOn(long_header + "\nc1,1,1000\n", {"--format", "csv", "--on-error",
                                            "skip", "--max-line-bytes", "64"});
  EXPECT_THAT(r.stats,
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "events.jsonl:1: error: the line is longer than 64 "
                       "bytes (--max-line-bytes)"));
}

// ---- pattern files ---------------------------------------------------------

class PatternFileLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("cep_input_limits_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
};

TEST_F(PatternFileLimitsTest, RefusesWhatIsNotARegularFile) {
  EXPECT_THAT(LoadPatternFile("/dev/zero"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "cannot read '/dev/zero': a character device, not a "
                       "regular file"));
  EXPECT_THAT(LoadPatternFile(dir_.string()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "cannot read '" + dir_.string() +
                           "': a directory, not a regular file"));
  // A FIFO without a writer: refused at once, not waited on.
  const std::string fifo = (dir_ / "fifo.cep").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_THAT(
      LoadPatternFile(fifo),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "cannot read '" + fifo + "': a named pipe, not a regular file"));
  EXPECT_THAT(LoadPatternFile((dir_ / "missing.cep").string()),
              StatusIs(absl::StatusCode::kNotFound,
                       "cannot read '" + (dir_ / "missing.cep").string() +
                           "': No such file or directory"));
}

TEST_F(PatternFileLimitsTest, RefusesAFileOverTheLimit) {
  const std::string big = (dir_ / "big.cep").string();
  std::ofstream(big) << kPatterns;
  // Sparse: no disk space taken.
  std::filesystem::resize_file(big, kMaxPatternFileBytes + 1);
  EXPECT_THAT(LoadPatternFile(big),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "cannot read '" + big +
                           "': larger than 4194304 bytes, the limit for a "
                           "pattern file"));
  const std::string fits = (dir_ / "fits.cep").string();
  std::ofstream(fits) << kPatterns;
  absl::StatusOr<PatternFile> file = LoadPatternFile(fits);
  ASSERT_THAT(file.status(), IsOk());
  EXPECT_EQ(file->patterns()[0].source.view(), kPatterns);
}

TEST(SharedTextTest, PatternsOfOneFileShareOneCopyOfItsText) {
  // 10k patterns in a file of about 1 MB: one copy of the text, not one per
  // pattern (which took 10 GB).
  std::string text = "event E { n int\n ts timestamp time }\n";
  constexpr size_t kPatternCount = 10000;
  for (size_t idx = 0; idx < kPatternCount; ++idx) {
    text += "pattern p" + std::to_string(idx) +
            " on E { begin a where n == " + std::to_string(idx) +
            " followed by b where n > 1 } // " + std::string(30, '.') + "\n";
  }
  ASSERT_GT(text.size(), 900000u);
  absl::StatusOr<PatternFile> file = ParsePatternFile(text, "many.cep");
  ASSERT_THAT(file.status(), IsOk());
  ASSERT_EQ(file->patterns().size(), kPatternCount);
  const FilePattern& first = file->patterns().front();
  const FilePattern& last = file->patterns().back();
  EXPECT_EQ(first.source.view(), text);
  EXPECT_EQ(last.source.view().data(), first.source.view().data());
  EXPECT_EQ(first.line, 3u);
  EXPECT_EQ(last.line, kPatternCount + 2);
  // A copied file shares it too.
  const FilePattern copy = last;
  EXPECT_EQ(copy.source.view().data(), first.source.view().data());
}

}  // namespace
}  // namespace cep
