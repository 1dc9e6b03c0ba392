// `cep run` with parallelism > 1: JSON lines of one event type run in lanes
// (each worker a runtime of its own over every line, taking its keys'
// events); CSV and several event types have threads decode the input lines
// while the reading thread frames them, and the events reach the runtime
// in input order. Outputs (sorted), dead letters, errors and seqs are those
// of parallelism 1, byte for byte.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <streambuf>
#include <string>
#include <utility>
#include <vector>

#include <absl/status/status.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cep/dsl.hpp"
#include "cep/event.hpp"
#include "cep/pattern.hpp"
#include "cep/run.hpp"

#include "testing/status_matchers.hpp"

namespace cep {
namespace {

using ::cep::testing::IsOk;
using ::cep::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kPatterns[] = R"(event Auth {
  card    string     key
  amount  double
  ts      timestamp  time
}

pattern small_then_big on Auth
  within 2s {
  begin small where amount < 10
  followed by big where amount > 100
}

pattern big_twice on Auth
  within 1s {
  begin first where amount > 100
  next second where amount > 100
}
)";

PatternFile File() {
  absl::StatusOr<PatternFile> file = ParsePatternFile(kPatterns, "t.cep");
  EXPECT_THAT(file, IsOk());
  return *std::move(file);
}

// A seeded stream of `lines` lines over 40 cards, slightly out of order
// (some events late for a 50ms bound), with, when `bad`, lines that do not
// decode (not JSON, a missing field, a NUL byte, longer than 200 bytes, a
// string amount, no time, an object for a card) and blank lines among them,
// and events the reading thread's scanner leaves to the DOM parser (an
// escaped card number, an unknown member, fields in another order).
// `dead_letters` gets the bad ones, in order.
std::string Workload(int lines, bool bad, std::string* dead_letters) {
  uint64_t state = 42;
  auto next = [&state](uint64_t bound) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return (state >> 33) % bound;
  };
  std::string input;
  int64_t ts = 1'000'000;
  for (int line = 1; line <= lines; ++line) {
    if (bad && next(40) == 0) {
      std::string text;
      switch (next(8)) {
        case 0:
          text = "not json " + std::to_string(line);
          break;
        case 1:
          text = R"({"card":"c1","ts":)" + std::to_string(ts) + "}";
          break;
        case 2:
          text = std::string("{\"card\":\"c\0\"}", 13);
          break;
        case 3:
          text = R"({"card":")" + std::string(300, 'x') + R"("})";
          break;
        case 5:
          text =
              R"({"card":"c1","amount":"5","ts":)" + std::to_string(ts) + "}";
          break;
        case 6:
          text = R"({"card":"c2","amount":5})";
          break;
        case 7:
          text =
              R"({"card":{"c":3},"amount":5,"ts":)" + std::to_string(ts) + "}";
          break;
        default:
          input += "  \n";  // blank: not an event, not an error
          continue;
      }
      input += text + "\n";
      if (dead_letters != nullptr) {
        *dead_letters += text.size() > 200 ? text.substr(0, 200) : text;
        *dead_letters += "\n";
      }
      continue;
    }
    ts += static_cast<int64_t>(next(30));
    const int64_t event_ts = ts - static_cast<int64_t>(next(8) == 0 ? 80 : 0);
    const uint64_t kind = next(10);
    const std::string amount =
        kind < 5 ? "1.5"
                 : (kind < 8 ? "50.25" : std::to_string(100 + next(900)));
    const std::string card = std::to_string(next(40));
    const uint64_t shape = bad ? next(12) : 11;
    if (shape == 0) {
      // "c\u0031" is "c1": the same key as the scanned lines of card c1.
      input += R"({"card":"c\u00)" + std::to_string(30 + card[0] - '0') +
               card.substr(1) + R"(","amount":)" + amount + R"(,"ts":)" +
               std::to_string(event_ts) + "}\n";
    } else if (shape == 1) {
      input += R"({"ts":)" + std::to_string(event_ts) +
               R"(,"note":[1,{"x":null}],"amount":)" + amount +
               R"(,"card":"c)" + card + "\"}\n";
    } else {
      input += R"({"card":"c)" + card + R"(","amount":)" + amount +
               R"(,"ts":)" + std::to_string(event_ts) + "}\n";
    }
  }
  return input;
}

struct Outputs {
  absl::StatusOr<RunStats> stats;
  std::string matches{}, timeouts{}, late{}, dead_letter{};
};

Outputs RunOn(const PatternFile& file, const std::string& input,
              RunOptions options) {
  std::istringstream in(input);
  std::ostringstream matches, timeouts, late, dead_letter;
  RunOutputs outputs{.matches = &matches,
                     .timeouts = &timeouts,
                     .late = &late,
                     .dead_letter = &dead_letter};
  Outputs result{
      .stats = RunPatternFile(file, in, "events.jsonl", options, outputs)};
  result.matches = matches.str();
  result.timeouts = timeouts.str();
  result.late = late.str();
  result.dead_letter = dead_letter.str();
  return result;
}

RunOptions Options(size_t parallelism, Loop loop, bool sort) {
  RunOptions options;
  options.parallelism = parallelism;
  options.loop = loop;
  options.trigger_events = 100;
  options.sort_output = sort;
  options.on_error = OnError::kSkip;
  options.max_out_of_orderness = std::chrono::milliseconds(50);
  options.max_line_bytes = 200;
  options.match_ids = true;
  return options;
}

// Several batches of lines, with bad, blank, late and out-of-order ones:
// every output of parallelism 2 and 4, sorted, is that of parallelism 1,
// and dead letters come out in input order unsorted.
TEST(RunParallelTest, SortedOutputsAndDeadLettersAreThoseOfOneWorker) {
  const PatternFile file = File();
  std::string expected_dead_letters;
  const std::string input = Workload(6000, true, &expected_dead_letters);
  for (const Loop loop : {Loop::kEvent, Loop::kMicrobatch, Loop::kRealtime}) {
    const Outputs one = RunOn(file, input, Options(1, loop, true));
    ASSERT_THAT(one.stats, IsOk());
    ASSERT_GT(one.stats->matches, 100u);
    ASSERT_GT(one.stats->timeouts, 100u);
    ASSERT_GT(one.stats->late, 10u);
    ASSERT_GT(one.stats->errors, 50u);
    for (const size_t parallelism : {2u, 4u}) {
      const Outputs many = RunOn(file, input, Options(parallelism, loop, true));
      ASSERT_THAT(many.stats, IsOk());
      EXPECT_EQ(many.matches, one.matches) << parallelism;
      EXPECT_EQ(many.timeouts, one.timeouts) << parallelism;
      EXPECT_EQ(many.late, one.late) << parallelism;
      EXPECT_EQ(many.dead_letter, one.dead_letter) << parallelism;
      EXPECT_EQ(many.stats->events, one.stats->events);
      EXPECT_EQ(many.stats->errors, one.stats->errors);
      EXPECT_EQ(many.stats->late, one.stats->late);
      // Unsorted, dead letters and late events keep input order.
      const Outputs unsorted =
          RunOn(file, input, Options(parallelism, loop, false));
      ASSERT_THAT(unsorted.stats, IsOk());
      EXPECT_EQ(unsorted.dead_letter, expected_dead_letters) << parallelism;
      EXPECT_EQ(unsorted.late,
                RunOn(file, input, Options(1, loop, false)).late);
    }
  }
}

// A bad line far into the input stops every parallelism with the same
// error, naming its line.
TEST(RunParallelTest, BadLineStopsEveryParallelismWithTheSameError) {
  const PatternFile file = File();
  std::string input = Workload(5000, false, nullptr);
  size_t at = 0;
  for (int line = 0; line < 3000; ++line) at = input.find('\n', at) + 1;
  const std::string good = input;
  for (const auto& [bad, error] :
       std::vector<std::pair<std::string, std::string>>{
           {R"({"card":"c1","ts":5})",
            "events.jsonl:3001: error: missing "
            "field 'amount'"},
           {std::string("a\0b", 3),
            "events.jsonl:3001: error: the input is not text (it contains a "
            "NUL byte); expected one JSON object per line"},
           {std::string(250, '{'),
            "events.jsonl:3001: error: the line is longer than 200 bytes "
            "(--max-line-bytes)"}}) {
    input = good;
    input.insert(at, bad + "\n");
    for (const size_t parallelism : {1u, 2u, 4u}) {
      RunOptions options = Options(parallelism, Loop::kEvent, false);
      options.on_error = OnError::kStop;
      EXPECT_THAT(RunOn(file, input, options).stats,
                  StatusIs(absl::StatusCode::kInvalidArgument, error))
          << parallelism;
    }
  }
}

// JSON lines of one event type: the reading thread scans them and the
// workers build the events of the keys they own (none decoded on threads
// of their own); parallelism 1 decodes on the reading thread.
TEST(RunParallelTest, WorkersBuildTheEventsOfScannedLines) {
  const PatternFile file = File();
  const std::string input = Workload(5000, false, nullptr);
  const Outputs one = RunOn(file, input, Options(1, Loop::kEvent, true));
  ASSERT_THAT(one.stats, IsOk());
  EXPECT_THAT(one.stats->decoded_per_thread, IsEmpty());
  for (const size_t parallelism : {2u, 4u}) {
    const Outputs many =
        RunOn(file, input, Options(parallelism, Loop::kEvent, true));
    ASSERT_THAT(many.stats, IsOk());
    // Both patterns key on the card: each on-time event is built by the
    // one lane that owns its card, each late one by the first lane (which
    // writes the late output).
    ASSERT_EQ(many.stats->decoded_per_thread.size(), parallelism);
    uint64_t built = 0;
    for (const uint64_t events : many.stats->decoded_per_thread) {
      EXPECT_GT(events, 0u);
      built += events;
    }
    EXPECT_EQ(built, one.stats->events);
    EXPECT_GT(one.stats->late, 0u);
    EXPECT_EQ(many.matches, one.matches);
    EXPECT_EQ(many.timeouts, one.timeouts);
  }
}

// Patterns keyed on different fields: an event goes to the lane that owns
// its card for one pattern and to the one that owns its shop for the other
// (each takes it for its pattern only); outputs are those of one worker.
TEST(RunParallelTest, PatternsKeyedOnDifferentFieldsTakeTheirLanes) {
  absl::StatusOr<PatternFile> file = ParsePatternFile(R"(event Auth {
  card    string     key
  shop    string
  amount  double
  ts      timestamp  time
}

pattern by_card on Auth within 2s {
  begin small where amount < 10
  followed by big where amount > 100
}

pattern by_shop on Auth key shop within 1s {
  begin first where amount > 100
  followed by second where amount > 100
}
)",
                                                      "k.cep");
  ASSERT_THAT(file, IsOk());
  std::string input;
  uint64_t state = 7;
  auto next = [&state](uint64_t bound) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return (state >> 33) % bound;
  };
  int64_t ts = 1'000'000;
  for (int line = 0; line < 4000; ++line) {
    ts += static_cast<int64_t>(next(40));
    input += R"({"card":"c)" + std::to_string(next(30)) + R"(","shop":"s)" +
             std::to_string(next(9)) + R"(","amount":)" +
             (next(3) == 0 ? "500" : "2") + R"(,"ts":)" + std::to_string(ts) +
             "}\n";
  }
  for (const Loop loop : {Loop::kEvent, Loop::kMicrobatch, Loop::kRealtime}) {
    const Outputs one = RunOn(*file, input, Options(1, loop, true));
    ASSERT_THAT(one.stats, IsOk());
    ASSERT_NE(one.matches.find("by_card"), std::string::npos);
    ASSERT_NE(one.matches.find("by_shop"), std::string::npos);
    for (const size_t parallelism : {2u, 3u}) {
      const Outputs many =
          RunOn(*file, input, Options(parallelism, loop, true));
      ASSERT_THAT(many.stats, IsOk());
      EXPECT_EQ(many.matches, one.matches) << parallelism;
      EXPECT_EQ(many.timeouts, one.timeouts) << parallelism;
      EXPECT_EQ(many.stats->matches, one.stats->matches);
      EXPECT_EQ(many.stats->events, one.stats->events);
    }
  }
}

// CSV: the reading thread reads the header, the threads decode the rows.
TEST(RunParallelTest, CsvRowsDecodeOnThreadsAfterTheHeader) {
  const PatternFile file = File();
  std::string input = "\nts,card,amount\n";
  for (int row = 0; row < 3000; ++row) {
    input += std::to_string(1000 + row * 7) + ",c" + std::to_string(row % 13) +
             "," + (row % 5 == 4 ? "500" : "2") + "\n";
  }
  input += "1,c1,abc\n";
  RunOptions options = Options(1, Loop::kEvent, true);
  options.format = InputFormat::kCsv;
  const Outputs one = RunOn(file, input, options);
  ASSERT_THAT(one.stats, IsOk());
  ASSERT_GT(one.stats->matches, 100u);
  EXPECT_EQ(one.dead_letter, "1,c1,abc\n");
  options.parallelism = 3;
  const Outputs three = RunOn(file, input, options);
  ASSERT_THAT(three.stats, IsOk());
  EXPECT_EQ(three.matches, one.matches);
  EXPECT_EQ(three.timeouts, one.timeouts);
  EXPECT_EQ(three.dead_letter, one.dead_letter);
  EXPECT_THAT(three.stats->decoded_per_thread, ElementsAre(1024u, 1024u, 953u));
}

// A condition that throws on a worker stops the run with its error, naming
// the event's seq, at every parallelism.
TEST(RunParallelTest, ConditionThatThrowsOnAWorkerStopsTheRun) {
  std::vector<std::unique_ptr<const Schema>> schemas;
  schemas.push_back(std::make_unique<Schema>(
      "Auth",
      std::vector<FieldDef>{{"card", FieldType::kString},
                            {"amount", FieldType::kDouble},
                            {"ts", FieldType::kTimestamp}},
      0, std::optional<size_t>(2), 0));
  FilePattern pattern;
  pattern.name = "p";
  pattern.types = {schemas[0].get()};
  pattern.key_field = "card";
  pattern.key_index = {0};
  pattern.accepts = {true};
  pattern.pattern = Pattern<Record>::Begin("a").Where([](const Record& r) {
    if (r.GetDouble(1) == 666) throw std::runtime_error("boom");
    return r.GetDouble(1) < 10;
  });
  std::vector<FilePattern> patterns;
  patterns.push_back(std::move(pattern));
  const PatternFile file("t.cep", std::move(schemas), std::move(patterns));
  std::string input;
  for (int line = 0; line < 5000; ++line) {
    input += R"({"card":"c)" + std::to_string(line % 7) + R"(","amount":)" +
             (line == 3000 ? "666" : "5") + R"(,"ts":)" +
             std::to_string(1000 + line) + "}\n";
  }
  for (const size_t parallelism : {1u, 2u, 4u}) {
    const Outputs result =
        RunOn(file, input, Options(parallelism, Loop::kEvent, false));
    EXPECT_THAT(result.stats,
                StatusIs(absl::StatusCode::kUnknown,
                         HasSubstr("threw on the event with seq 3000: boom")))
        << parallelism;
  }
}

// Input that sets a stop flag once `stop_at` bytes were read, as a signal
// handler would in the middle of a run.
class StoppingInput final : public std::streambuf {
 public:
  StoppingInput(std::string text, size_t stop_at, std::atomic<bool>& stop)
      : text_(std::move(text)), stop_at_(stop_at), stop_(stop) {}

 protected:
  int_type underflow() override {
    if (gptr() != nullptr && gptr() < egptr())
      return traits_type::to_int_type(*gptr());
    if (read_ >= text_.size()) return traits_type::eof();
    if (read_ >= stop_at_) stop_.store(true);
    const size_t chunk = std::min<size_t>(256, text_.size() - read_);
    char* begin = text_.data() + read_;
    setg(begin, begin, begin + chunk);
    read_ += chunk;
    return traits_type::to_int_type(*gptr());
  }

 private:
  std::string text_;
  size_t stop_at_;
  std::atomic<bool>& stop_;
  size_t read_ = 0;
};

// A stop with several workers: they finish what they were handed before the
// outputs close and their counters are read, so every match counted was
// written.
TEST(RunParallelTest, StopWaitsForTheWorkersBeforeClosingOutputs) {
  const PatternFile file = File();
  const std::string input = Workload(20000, /*bad=*/false, nullptr);
  for (const size_t parallelism : {2u, 4u}) {
    std::atomic<bool> stop{false};
    StoppingInput buffer(input, input.size() / 2, stop);
    std::istream in(&buffer);
    std::ostringstream matches;
    RunOutputs outputs{.matches = &matches};
    RunOptions options = Options(parallelism, Loop::kEvent, false);
    options.stop = &stop;
    absl::StatusOr<RunStats> stats =
        RunPatternFile(file, in, "events.jsonl", options, outputs);
    ASSERT_THAT(stats, IsOk());
    EXPECT_TRUE(stats->stopped);
    EXPECT_LT(stats->events, 20000u);
    const std::string text = matches.str();
    EXPECT_GT(stats->matches, 0u) << parallelism;
    EXPECT_EQ(static_cast<uint64_t>(std::count(text.begin(), text.end(), '\n')),
              stats->matches)
        << parallelism;
  }
}

// Output that a test thread may watch while the run writes it.
class WatchedOutput final : public std::streambuf {
 public:
  // Waits up to `limit` for `text` to be written; whether it was.
  bool WaitFor(const std::string& text, std::chrono::seconds limit) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(
        lock, limit, [&] { return written_.find(text) != std::string::npos; });
  }

 protected:
  std::streamsize xsputn(const char* data, std::streamsize size) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      written_.append(data, static_cast<size_t>(size));
    }
    cv_.notify_all();
    return size;
  }
  int_type overflow(int_type c) override {
    if (c == traits_type::eof()) return traits_type::not_eof(c);
    const char ch = traits_type::to_char_type(c);
    xsputn(&ch, 1);
    return c;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::string written_;
};

// A live stream: `lines`, then nothing more until `output` shows `awaited`
// (or 10 s pass), then its end. Records whether it was shown in time.
class LiveInput final : public std::streambuf {
 public:
  LiveInput(std::string lines, WatchedOutput& output, std::string awaited)
      : lines_(std::move(lines)), output_(output), awaited_(awaited) {}
  bool shown_before_end() const { return shown_; }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    if (!served_) {
      served_ = true;
      setg(lines_.data(), lines_.data(), lines_.data() + lines_.size());
      return traits_type::to_int_type(*gptr());
    }
    if (!waited_) {
      waited_ = true;
      shown_ = output_.WaitFor(awaited_, std::chrono::seconds(10));
    }
    return traits_type::eof();
  }

 private:
  std::string lines_;
  WatchedOutput& output_;
  std::string awaited_;
  bool served_ = false;
  bool waited_ = false;
  bool shown_ = false;
};

// Lines of a live stream reach the patterns without waiting for a batch to
// fill: the match of the first lines (released by the third one's
// watermark, which travels with it to the key's worker) comes out while
// the input waits.
TEST(RunParallelTest, LinesOfALiveStreamAreNotHeldBack) {
  const PatternFile file = File();
  for (const size_t parallelism : {1u, 2u, 4u}) {
    WatchedOutput watched;
    std::ostream matches(&watched);
    LiveInput live(R"({"card":"c1","amount":1.5,"ts":1000})"
                   "\n"
                   R"({"card":"c1","amount":500,"ts":1200})"
                   "\n"
                   R"({"card":"c1","amount":1.5,"ts":1300})"
                   "\n",
                   watched, R"("big":[{"seq":1)");
    std::istream in(&live);
    RunOptions options;
    options.parallelism = parallelism;
    RunOutputs outputs{.matches = &matches};
    ASSERT_THAT(RunPatternFile(file, in, "live", options, outputs), IsOk());
    EXPECT_TRUE(live.shown_before_end()) << parallelism;
  }
}

}  // namespace
}  // namespace cep
