#include "cep/run.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <absl/status/status.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cep/dsl.hpp"
#include "cep/event.hpp"
#include "cep/pattern.hpp"

#include "testing/status_matchers.hpp"

namespace cep {
namespace {

using ::cep::testing::IsOk;
using ::cep::testing::StatusIs;
using ::std::chrono::milliseconds;
using ::std::chrono::seconds;

// event Auth { card string key; amount double; ts timestamp time }
// and a pattern built by hand as the lowering would build it.
PatternFile MakeFile(Pattern<Record> pattern, bool with_time = true) {
  std::vector<std::unique_ptr<const Schema>> schemas;
  schemas.push_back(std::make_unique<Schema>(
      "Auth",
      std::vector<FieldDef>{{"card", FieldType::kString},
                            {"amount", FieldType::kDouble},
                            {"ts", FieldType::kTimestamp}},
      0, with_time ? std::optional<size_t>(2) : std::nullopt, 0));
  FilePattern fp;
  fp.name = "p";
  fp.types = {schemas[0].get()};
  fp.key_field = "card";
  fp.key_index = {0};
  fp.accepts = {true};
  fp.pattern = std::move(pattern);
  fp.line = 3;
  std::vector<FilePattern> patterns;
  patterns.push_back(std::move(fp));
  return PatternFile("t.cep", std::move(schemas), std::move(patterns));
}

// small (amount < 10) followed by big (amount > 100) [within `window`].
Pattern<Record> SmallThenBig(std::optional<Duration> window = std::nullopt) {
  auto p = Pattern<Record>::Begin("small")
               .Where([](const Record& r) { return r.GetDouble(1) < 10; })
               .FollowedBy("big")
               .Where([](const Record& r) { return r.GetDouble(1) > 100; });
  if (window) p.Within(*window);
  return p;
}

std::string Event(const std::string& card, double amount, int64_t ts) {
  std::ostringstream out;
  out << R"({"card":")" << card << R"(","amount":)" << amount << R"(,"ts":)"
      << ts << "}";
  return out.str();
}

struct Result {
  absl::StatusOr<RunStats> stats;
  std::string matches{}, timeouts{}, late{}, dead_letter{};
};

Result RunOn(const PatternFile& file, const std::string& input,
             RunOptions options = {}) {
  std::istringstream in(input);
  std::ostringstream matches, timeouts, late, dead_letter;
  RunOutputs outputs{.matches = &matches,
                     .timeouts = &timeouts,
                     .late = &late,
                     .dead_letter = &dead_letter};
  Result result{.stats =
                    RunPatternFile(file, in, "events.jsonl", options, outputs)};
  result.matches = matches.str();
  result.timeouts = timeouts.str();
  result.late = late.str();
  result.dead_letter = dead_letter.str();
  return result;
}

TEST(RunPatternFileTest, MatchesInOrderInput) {
  PatternFile file = MakeFile(SmallThenBig());
  Result r = RunOn(file, Event("c1", 1, 1000) + "\n" + Event("c2", 500, 1500) +
                             "\n\n" + Event("c1", 500, 2000) + "\n");
  ASSERT_THAT(r.stats, IsOk());
  EXPECT_EQ(
      r.matches,
      R"({"pattern":"p","key":"c1","events":{"small":[{"seq":0,"card":"c1","amount":1.0,"ts":1000}],"big":[{"seq":2,"card":"c1","amount":500.0,"ts":2000}]}})"
      "\n");
  EXPECT_EQ(r.stats->events, 3);
  EXPECT_EQ(r.stats->matches, 1);
  EXPECT_EQ(r.stats->late, 0);
  EXPECT_EQ(r.timeouts, "");
  EXPECT_EQ(r.late, "");
}

TEST(RunPatternFileTest, ReordersWithinTheBound) {
  PatternFile file = MakeFile(SmallThenBig());
  RunOptions options;
  options.max_out_of_orderness = seconds(5);
  // The big event arrives first but happened after the small one.
  Result r = RunOn(file, Event("c1", 500, 3000) + "\n" + Event("c1", 1, 1000),
                   options);
  ASSERT_THAT(r.stats, IsOk());
  EXPECT_EQ(
      r.matches,
      R"({"pattern":"p","key":"c1","events":{"small":[{"seq":1,"card":"c1","amount":1.0,"ts":1000}],"big":[{"seq":0,"card":"c1","amount":500.0,"ts":3000}]}})"
      "\n");
  EXPECT_EQ(r.stats->late, 0);
}

TEST(RunPatternFileTest, EventAtOrBeforeTheWatermarkIsLate) {
  PatternFile file = MakeFile(SmallThenBig());
  // Bound 0: watermark = 3000 - 1 after the first event; 2999 is late,
  // 3000 is not.
  Result r = RunOn(file, Event("c1", 500, 3000) + "\n" + Event("c1", 1, 2999) +
                             "\n" + Event("c1", 1, 3000) + "\n" +
                             Event("c1", 200, 3001) + "\n");
  ASSERT_THAT(r.stats, IsOk());
  EXPECT_EQ(r.late, R"({"seq":1,"card":"c1","amount":1.0,"ts":2999})"
                    "\n");
  EXPECT_EQ(r.stats->late, 1);
  EXPECT_EQ(r.stats->events, 4);
  EXPECT_EQ(
      r.matches,
      R"({"pattern":"p","key":"c1","events":{"small":[{"seq":2,"card":"c1","amount":1.0,"ts":3000}],"big":[{"seq":3,"card":"c1","amount":200.0,"ts":3001}]}})"
      "\n");
}

TEST(RunPatternFileTest, EqualTimestampsKeepInputOrder) {
  PatternFile file = MakeFile(SmallThenBig());
  Result r = RunOn(file, Event("c1", 1, 1000) + "\n" + Event("c1", 500, 1000));
  ASSERT_THAT(r.stats, IsOk());
  EXPECT_EQ(r.stats->matches, 1);
  EXPECT_EQ(r.stats->late, 0);
}

TEST(RunPatternFileTest, TimeoutsFlushAtEndOfInput) {
  PatternFile file = MakeFile(SmallThenBig(seconds(10)));
  Result r = RunOn(file, Event("c1", 1, 1000) + "\n" + Event("c2", 1, 2000));
  ASSERT_THAT(r.stats, IsOk());
  EXPECT_EQ(r.matches, "");
  EXPECT_EQ(
      r.timeouts,
      R"({"pattern":"p","key":"c1","events":{"small":[{"seq":0,"card":"c1","amount":1.0,"ts":1000}]},"timeout":true})"
      "\n"
      R"({"pattern":"p","key":"c2","events":{"small":[{"seq":1,"card":"c2","amount":1.0,"ts":2000}]},"timeout":true})"
      "\n");
  EXPECT_EQ(r.stats->timeouts, 2);
}

TEST(RunPatternFileTest, WatermarkTimesOutBeforeTheEnd) {
  PatternFile file = MakeFile(SmallThenBig(seconds(10)));
  // c2's event at 20000 moves the watermark past c1's window: c1 times out
  // before c2's own match is found.
  Result r =
      RunOn(file, Event("c1", 1, 1000) + "\n" + Event("c2", 1, 20000) + "\n" +
                      Event("c2", 500, 20001) + "\n" + Event("c2", 5, 20002));
  ASSERT_THAT(r.stats, IsOk());
  EXPECT_EQ(r.stats->timeouts, 2);  // c1, then c2's last small at the end
  EXPECT_EQ(r.stats->matches, 1);
}

TEST(RunPatternFileTest, TrailingNotFollowedByIsReleasedAtTheEnd) {
  auto pattern =
      Pattern<Record>::Begin("small")
          .Where([](const Record& r) { return r.GetDouble(1) < 10; })
          .NotFollowedBy("big")
          .Where([](const Record& r) { return r.GetDouble(1) > 100; })
          .Within(seconds(10));
  PatternFile file = MakeFile(std::move(pattern));
  Result r = RunOn(file, Event("c1", 1, 1000) + "\n" + Event("c2", 1, 1000) +
                             "\n" + Event("c2", 500, 2000));
  ASSERT_THAT(r.stats, IsOk());
  EXPECT_EQ(
      r.matches,
      R"({"pattern":"p","key":"c1","events":{"small":[{"seq":0,"card":"c1","amount":1.0,"ts":1000}]}})"
      "\n");
}

TEST(RunPatternFileTest, BadLineStopsTheRun) {
  PatternFile file = MakeFile(SmallThenBig());
  Result r = RunOn(file, Event("c1", 1, 1000) + "\n\n" + R"({"amount":1})" +
                             "\n" + Event("c1", 500, 2000));
  EXPECT_THAT(r.stats, StatusIs(absl::StatusCode::kInvalidArgument,
                                "events.jsonl:3: error: missing field 'card'"));
}

TEST(RunPatternFileTest, BadLineIsSkippedToTheDeadLetterOutput) {
  PatternFile file = MakeFile(SmallThenBig());
  RunOptions options;
  options.on_error = OnError::kSkip;
  Result r = RunOn(
      file,
      Event("c1", 1, 1000) + "\nnot json\r\n" + Event("c1", 500, 2000) + "\n",
      options);
  ASSERT_THAT(r.stats, IsOk());
  EXPECT_EQ(r.dead_letter, "not json\r\n");
  EXPECT_EQ(r.stats->errors, 1);
  EXPECT_EQ(r.stats->events, 2);
  // seq counts decoded events only.
  EXPECT_THAT(r.matches, ::testing::HasSubstr(R"("big":[{"seq":1,)"));
}

TEST(RunPatternFileTest, InputThatIsNotTextFails) {
  PatternFile file = MakeFile(SmallThenBig());
  RunOptions options;  // with --on-error skip: a dead letter (input_limits)
  Result r = RunOn(
      file, Event("c1", 1, 1000) + "\n" + std::string("\x7f\0E", 3), options);
  EXPECT_THAT(r.stats,
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "events.jsonl:2: error: the input is not text (it "
                       "contains a NUL byte); expected one JSON object per "
                       "line"));
}

TEST(RunPatternFileTest, TypeWithoutTimeFieldFailsAtStart) {
  PatternFile file = MakeFile(SmallThenBig(), /*with_time=*/false);
  Result r = RunOn(file, "");
  EXPECT_THAT(r.stats, StatusIs(absl::StatusCode::kInvalidArgument,
                                "t.cep: error: event type 'Auth' has no time "
                                "field; a run orders events by event time "
                                "(mark a timestamp field with 'time', or run "
                                "with --time processing)"));
}

TEST(RunPatternFileTest, NullOutputsStillCount) {
  PatternFile file = MakeFile(SmallThenBig());
  std::istringstream in(Event("c1", 1, 1000) + "\n" + Event("c1", 500, 2000) +
                        "\n" + Event("c1", 1, 5));
  RunOutputs outputs;
  auto stats = RunPatternFile(file, in, "in", RunOptions(), outputs);
  ASSERT_THAT(stats, IsOk());
  EXPECT_EQ(stats->matches, 1);
  EXPECT_EQ(stats->late, 1);
}

TEST(RunOptionsTest, ParseDuration) {
  EXPECT_EQ(*ParseDuration("0"), milliseconds(0));
  EXPECT_EQ(*ParseDuration("250ms"), milliseconds(250));
  EXPECT_EQ(*ParseDuration("10s"), seconds(10));
  EXPECT_EQ(*ParseDuration("5m"), milliseconds(300000));
  EXPECT_EQ(*ParseDuration("2h"), milliseconds(7200000));
  EXPECT_EQ(*ParseDuration("1d"), milliseconds(86400000));
  for (const char* bad : {"", "5", "s", "-1s", "1.5s", "5 s", "5x"}) {
    EXPECT_THAT(ParseDuration(bad),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         std::string("'") + bad +
                             "' is not a duration (an integer and a unit: "
                             "250ms, 10s, 5m, 2h, 1d)"));
  }
}

TEST(RunOptionsTest, ParseRunOptions) {
  RunOptions options;
  ASSERT_THAT(ParseRunOptions(
                  {"--max-out-of-orderness", "5s", "--on-error=skip"}, options),
              IsOk());
  EXPECT_EQ(options.max_out_of_orderness, seconds(5));
  EXPECT_EQ(options.on_error, OnError::kSkip);
  EXPECT_THAT(ParseRunOptions({"--on-error", "ignore"}, options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "--on-error: 'ignore' is not stop or skip"));
  EXPECT_THAT(
      ParseRunOptions({"--bogus=1"}, options),
      StatusIs(absl::StatusCode::kInvalidArgument, "unknown option '--bogus'"));
  EXPECT_THAT(ParseRunOptions({"--on-error"}, options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "option '--on-error' needs a value"));
  EXPECT_THAT(ParseRunOptions({"skip"}, options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "expected an option (--name VALUE), not 'skip'"));
}

TEST(RunOptionsTest, ParsesLoopTriggerParallelismTimeAndSorting) {
  RunOptions options;
  ASSERT_THAT(ParseRunOptions(
                  {"--loop", "microbatch", "--trigger", "250ms",
                   "--parallelism=3", "--time", "processing", "--sort-output",
                   "--commit-interval", "2s", "--format", "csv"},
                  options),
              IsOk());
  EXPECT_EQ(options.loop, Loop::kMicrobatch);
  EXPECT_EQ(options.trigger_interval, milliseconds(250));
  EXPECT_EQ(options.trigger_events, 0u);
  EXPECT_EQ(options.parallelism, 3u);
  EXPECT_EQ(options.time, TimeMode::kProcessing);
  EXPECT_TRUE(options.sort_output);
  EXPECT_EQ(options.commit_interval, seconds(2));
  EXPECT_EQ(options.format, InputFormat::kCsv);
  ASSERT_THAT(ParseRunOptions({"--trigger", "10000events"}, options), IsOk());
  EXPECT_EQ(options.trigger_events, 10000u);
  EXPECT_EQ(options.trigger_interval, milliseconds(0));
  EXPECT_THAT(ParseRunOptions({"--loop", "batch"}, options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "--loop: unknown loop 'batch' (expected event, "
                       "microbatch or realtime)"));
  EXPECT_THAT(ParseRunOptions({"--trigger", "0events"}, options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "--trigger: '0events' is not a count of events such "
                       "as 10000events"));
  EXPECT_THAT(ParseRunOptions({"--trigger", "soon"}, options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "--trigger: 'soon' is neither an interval (100ms, 1s) "
                       "nor a count of events (10000events)"));
  EXPECT_THAT(ParseRunOptions({"--parallelism", "0"}, options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "--parallelism: '0' is not a number from 1 to 256"));
  EXPECT_THAT(ParseRunOptions({"--time", "wall"}, options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "--time: 'wall' is not event or processing"));
}

// Several cards, each with small amounts then a big one: every loop and
// parallelism finds the same matches; sorted output is byte-identical.
TEST(RunPatternFileTest, EveryLoopAndParallelismGivesTheSameSortedOutput) {
  PatternFile file = MakeFile(SmallThenBig(seconds(5)));
  std::string input;
  for (int i = 0; i < 300; ++i) {
    const std::string card = "c" + std::to_string(i % 17);
    const double amount = i % 7 == 0 ? 500 : (i % 3 == 0 ? 50 : 1);
    input += Event(card, amount, 1000 + 100 * i) + "\n";
  }
  RunOptions reference_options;
  reference_options.sort_output = true;
  const Result reference = RunOn(file, input, reference_options);
  ASSERT_THAT(reference.stats, IsOk());
  ASSERT_GT(reference.stats->matches, 10u);
  ASSERT_GT(reference.stats->timeouts, 10u);
  for (const char* loop : {"event", "microbatch", "realtime"}) {
    for (const char* parallelism : {"1", "2", "3"}) {
      RunOptions options;
      ASSERT_THAT(ParseRunOptions({"--loop", loop, "--parallelism", parallelism,
                                   "--trigger", "7events", "--sort-output"},
                                  options),
                  IsOk());
      const Result result = RunOn(file, input, options);
      ASSERT_THAT(result.stats, IsOk());
      EXPECT_EQ(result.matches, reference.matches) << loop << parallelism;
      EXPECT_EQ(result.timeouts, reference.timeouts) << loop << parallelism;
      EXPECT_EQ(result.stats->matches, reference.stats->matches);
      EXPECT_EQ(result.stats->latency.count(), reference.stats->matches);
    }
  }
}

TEST(RunPatternFileTest, ReadsCsvWithAHeaderRow) {
  PatternFile file = MakeFile(SmallThenBig());
  RunOptions options;
  options.format = InputFormat::kCsv;
  Result r =
      RunOn(file, "ts,card,amount\n1000,c1,1.5\n\n2000,c1,500\n", options);
  ASSERT_THAT(r.stats, IsOk());
  EXPECT_EQ(r.matches,
            R"({"pattern":"p","key":"c1","events":{"small":[{"seq":0,)"
            R"("card":"c1","amount":1.5,"ts":1000}],"big":[{"seq":1,)"
            R"("card":"c1","amount":500.0,"ts":2000}]}})"
            "\n");
  Result bad_row = RunOn(file, "ts,card,amount\n1000,c1,abc\n", options);
  EXPECT_THAT(bad_row.stats, StatusIs(absl::StatusCode::kInvalidArgument,
                                      "events.jsonl:2: error: field 'amount' "
                                      "must be a number, not 'abc'"));
  Result bad_header = RunOn(file, "ts,card\n1000,c1\n", options);
  EXPECT_THAT(bad_header.stats,
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "events.jsonl:1: error: header: missing column "
                       "'amount'"));
}

TEST(RunPatternFileTest, ProcessingTimeMakesNothingLate) {
  PatternFile file = MakeFile(SmallThenBig(), /*with_time=*/false);
  RunOptions options;
  options.time = TimeMode::kProcessing;
  // The lines' own times do not matter: only their order.
  const std::string input = R"({"card":"c1","amount":1,"ts":9000})"
                            "\n"
                            R"({"card":"c1","amount":500,"ts":1000})"
                            "\n";
  Result r = RunOn(file, input, options);
  ASSERT_THAT(r.stats, IsOk());
  EXPECT_EQ(r.stats->late, 0u);
  EXPECT_EQ(r.stats->matches, 1u);
}

TEST(RunPatternFileTest, ReportsProgressAndLatencyPerPattern) {
  PatternFile file = MakeFile(SmallThenBig());
  std::string input;
  for (int i = 0; i < 5000; ++i) {
    input += Event("c1", i % 2 == 0 ? 1 : 500, 1000 + i) + "\n";
  }
  RunOptions options;
  options.progress_interval = milliseconds(0);
  std::vector<RunProgress> reports;
  options.progress = [&](const RunProgress& p) { reports.push_back(p); };
  Result r = RunOn(file, input, options);
  ASSERT_THAT(r.stats, IsOk());
  ASSERT_FALSE(reports.empty());
  EXPECT_EQ(reports.front().events, 1024u);
  EXPECT_GT(reports.back().matches, 0u);
  EXPECT_EQ(reports.back().watermark_lag, milliseconds(1));
  EXPECT_EQ(r.stats->pattern_names, std::vector<std::string>{"p"});
  ASSERT_EQ(r.stats->pattern_latency.size(), 1u);
  EXPECT_EQ(r.stats->pattern_latency[0].count(), r.stats->matches);
}

TEST(RunPatternFileTest, LatencyFlagAddsTheDetectionLatency) {
  PatternFile file = MakeFile(SmallThenBig());
  RunOptions options;
  ASSERT_THAT(ParseRunOptions({"--latency", "--match-ids"}, options), IsOk());
  Result r = RunOn(file, Event("c1", 1, 1000) + "\n" + Event("c1", 500, 2000),
                   options);
  ASSERT_THAT(r.stats, IsOk());
  EXPECT_THAT(r.matches,
              ::testing::ContainsRegex(
                  ",\"id\":\"[0-9a-f]{16}\",\"latency_us\":[0-9]+\\}\n"));
}

TEST(RunPatternFileTest, RatePacesTheInputAndLatencyCountsFromTheDueTime) {
  PatternFile file = MakeFile(SmallThenBig());
  std::string input;
  for (int i = 0; i < 100; ++i) {
    input += Event("c1", i % 2 == 0 ? 1 : 500, 1000 + i) + "\n";
  }
  RunOptions options;
  ASSERT_THAT(ParseRunOptions({"--rate", "1000"}, options), IsOk());
  const auto start = std::chrono::steady_clock::now();
  Result r = RunOn(file, input, options);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_THAT(r.stats, IsOk());
  EXPECT_EQ(r.stats->matches, 50u);
  // The 100th event is due 99 ms after the first: never earlier.
  EXPECT_GE(elapsed, milliseconds(99));
  EXPECT_THAT(SetRunOption("rate", "0", options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "--rate: '0' is not a number of events per second "
                       "(above 0, at most 1e9)"));
}

TEST(RunPatternFileTest, StopFlagEndsTheRunWithoutEndingTheInput) {
  PatternFile file = MakeFile(SmallThenBig(seconds(10)));
  std::string input;
  for (int i = 0; i < 3000; ++i) input += Event("c1", 1, 1000 + i) + "\n";
  std::atomic<bool> stop{false};
  RunOptions options;
  options.stop = &stop;
  options.progress_interval = milliseconds(0);
  options.progress = [&stop](const RunProgress&) { stop.store(true); };
  Result r = RunOn(file, input, options);
  ASSERT_THAT(r.stats, IsOk());
  EXPECT_TRUE(r.stats->stopped);
  EXPECT_EQ(r.stats->events, 1024u);
  // Windows stay open: nothing timed out.
  EXPECT_EQ(r.stats->timeouts, 0u);
  EXPECT_EQ(r.timeouts, "");
}

// Bad lines every fifth line, read on the reading thread while four workers
// write matches: every dead letter comes out whole and in input order, and
// the matches are those of parallelism 1.
TEST(RunPatternFileTest, DeadLettersAndMatchesFromFourWorkersStayWhole) {
  PatternFile file = MakeFile(SmallThenBig());
  std::string input;
  std::string expected_dead_letters;
  for (int i = 0; i < 20000; ++i) {
    if (i % 5 == 4) {
      const std::string bad = "not json " + std::to_string(i);
      input += bad + "\n";
      expected_dead_letters += bad + "\n";
      continue;
    }
    input += Event("c" + std::to_string(i % 97), (i / 97) % 2 == 0 ? 1 : 500,
                   1000 + i) +
             "\n";
  }
  auto sorted_lines = [](const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    std::sort(lines.begin(), lines.end());
    return lines;
  };
  RunOptions one;
  one.on_error = OnError::kSkip;
  Result reference = RunOn(file, input, one);
  ASSERT_THAT(reference.stats, IsOk());
  ASSERT_EQ(reference.stats->errors, 4000u);
  ASSERT_EQ(reference.stats->matches, 7973u);
  ASSERT_EQ(reference.dead_letter, expected_dead_letters);
  for (const Loop loop : {Loop::kEvent, Loop::kMicrobatch, Loop::kRealtime}) {
    RunOptions four = one;
    four.parallelism = 4;
    four.loop = loop;
    four.trigger_events = 64;
    Result r = RunOn(file, input, four);
    ASSERT_THAT(r.stats, IsOk());
    EXPECT_EQ(r.stats->errors, 4000u);
    EXPECT_EQ(r.stats->matches, 7973u);
    EXPECT_EQ(r.dead_letter, expected_dead_letters);
    EXPECT_EQ(sorted_lines(r.matches), sorted_lines(reference.matches));
  }
}

TEST(RunOptionsTest, DurationsThatDoNotFitAreRefusedNamingTheFlag) {
  RunOptions options;
  for (const std::string flag :
       {"max-out-of-orderness", "state-ttl", "commit-interval", "trigger",
        "checkpoint-every"}) {
    EXPECT_THAT(
        SetRunOption(flag, "106752d", options),
        StatusIs(absl::StatusCode::kInvalidArgument,
                 "--" + flag + ": '106752d' is too long (at most 106751d)"))
        << flag;
    EXPECT_THAT(SetRunOption(flag, "106751d", options), IsOk()) << flag;
  }
  EXPECT_THAT(
      SetRunOption("max-out-of-orderness", "9223372036854775807ms", options),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "--max-out-of-orderness: '9223372036854775807ms' is "
               "too long (at most 106751d)"));
}

TEST(RunPatternFileTest, LongestOutOfOrdernessKeepsPre1970EventsOnTime) {
  PatternFile file = MakeFile(SmallThenBig());
  RunOptions options;
  ASSERT_THAT(SetRunOption("max-out-of-orderness", "106751d", options), IsOk());
  Result r = RunOn(
      file, Event("c1", 500, 5000) + "\n" + Event("c1", 1, -86400000) + "\n",
      options);
  ASSERT_THAT(r.stats, IsOk());
  EXPECT_EQ(r.stats->late, 0u);
  EXPECT_EQ(r.late, "");
  // The small one happened a day before 1970, the big one after.
  EXPECT_EQ(
      r.matches,
      R"({"pattern":"p","key":"c1","events":{"small":[{"seq":1,"card":"c1","amount":1.0,"ts":-86400000}],"big":[{"seq":0,"card":"c1","amount":500.0,"ts":5000}]}})"
      "\n");
}

TEST(RunPatternFileTest, OutputsOpenOnlyOnceTheRunStarts) {
  int opened = 0;
  RunOutputs outputs;
  outputs.open = [&opened] {
    ++opened;
    return absl::OkStatus();
  };
  std::istringstream in(Event("c1", 1, 1000) + "\n");
  // A file that cannot run: nothing opened.
  PatternFile no_time = MakeFile(SmallThenBig(), /*with_time=*/false);
  EXPECT_THAT(RunPatternFile(no_time, in, "in", {}, outputs),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "t.cep: error: event type 'Auth' has no time field; a "
                       "run orders events by event time (mark a timestamp "
                       "field with 'time', or run with --time processing)"));
  EXPECT_EQ(opened, 0);
  PatternFile file = MakeFile(SmallThenBig());
  EXPECT_THAT(RunPatternFile(file, in, "in", {}, outputs), IsOk());
  EXPECT_EQ(opened, 1);
  // Its error ends the run.
  outputs.open = [] { return absl::UnavailableError("cannot write 'x'"); };
  std::istringstream again(Event("c1", 1, 1000) + "\n");
  EXPECT_THAT(RunPatternFile(file, again, "in", {}, outputs),
              StatusIs(absl::StatusCode::kUnavailable, "cannot write 'x'"));
}

// A source that gives `text`, then, as a reader interrupted by a stop
// (InputFile), sets `stop` and ends.
class StoppingBuffer : public std::streambuf {
 public:
  StoppingBuffer(std::string text, std::atomic<bool>& stop)
      : text_(std::move(text)), stop_(stop) {
    setg(text_.data(), text_.data(), text_.data() + text_.size());
  }

 protected:
  int_type underflow() override {
    stop_.store(true);
    return traits_type::eof();
  }

 private:
  std::string text_;
  std::atomic<bool>& stop_;
};

TEST(RunPatternFileTest, LineCutShortByAStopIsLeftForTheNextRun) {
  PatternFile file = MakeFile(SmallThenBig());
  std::atomic<bool> stop{false};
  StoppingBuffer buffer(Event("c1", 1, 1000) + "\n{\"card\":\"c1\",\"am", stop);
  std::istream in(&buffer);
  RunOptions options;
  options.stop = &stop;
  RunOutputs outputs;
  absl::StatusOr<RunStats> stats =
      RunPatternFile(file, in, "events.jsonl", options, outputs);
  ASSERT_THAT(stats, IsOk());
  EXPECT_TRUE(stats->stopped);
  EXPECT_EQ(stats->events, 1u);
  EXPECT_EQ(stats->errors, 0u);
}

}  // namespace
}  // namespace cep
