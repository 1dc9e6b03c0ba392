#include "cep/workload.hpp"

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <absl/status/status.h>
#include <absl/status/statusor.h>
#include <absl/strings/str_cat.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cep/dsl.hpp"
#include "cep/event.hpp"
#include "cep/record_csv.hpp"
#include "cep/record_json.hpp"
#include "cep/run.hpp"

#include "testing/status_matchers.hpp"

namespace cep {
namespace {

using ::cep::testing::IsOk;
using ::cep::testing::StatusIs;
using ::testing::ElementsAre;

// All lines of workload `name` with `options`, and the planted frauds.
struct Generated {
  std::string text;
  uint64_t frauds = 0;
};

Generated Generate(std::string_view name, const WorkloadOptions& options) {
  absl::StatusOr<std::unique_ptr<WorkloadGenerator>> generator =
      MakeWorkload(name, options);
  EXPECT_THAT(generator.status(), IsOk());
  if (!generator.ok()) return {};
  Generated out;
  (*generator)->AppendHeader(out.text);
  while ((*generator)->AppendLine(out.text)) {
  }
  out.frauds = (*generator)->planted_frauds();
  return out;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(WorkloadTest, ListsTheWorkloads) {
  std::vector<std::string_view> names;
  for (const WorkloadInfo& info : Workloads()) {
    names.push_back(info.name);
    EXPECT_FALSE(info.description.empty()) << info.name;
    EXPECT_FALSE(info.layout_in_words.empty()) << info.name;
    EXPECT_FALSE(info.pattern_in_words.empty()) << info.name;
  }
  EXPECT_THAT(names,
              ElementsAre("card-testing", "stock-ticks", "skewed", "velocity",
                          "declines-then-charge", "impossible-travel",
                          "account-takeover", "abandoned-challenge"));
}

TEST(WorkloadTest, UnknownNameIsInvalidArgument) {
  EXPECT_THAT(
      MakeWorkload("nope", {}).status(),
      StatusIs(absl::StatusCode::kInvalidArgument, "unknown workload 'nope'"));
}

TEST(WorkloadTest, TooManyTickersIsInvalidArgument) {
  EXPECT_THAT(MakeWorkload("stock-ticks", {.keys = 21}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "keys: 21 is more than the 20 tickers of stock-ticks"));
}

TEST(WorkloadTest, SameSeedSameBytes) {
  for (const WorkloadInfo& info : Workloads()) {
    const WorkloadOptions options{.events = 20'000, .seed = 42};
    EXPECT_EQ(Generate(info.name, options).text,
              Generate(info.name, options).text)
        << info.name;
  }
}

TEST(WorkloadTest, DifferentSeedDifferentBytes) {
  for (const WorkloadInfo& info : Workloads()) {
    EXPECT_NE(Generate(info.name, {.events = 1000, .seed = 1}).text,
              Generate(info.name, {.events = 1000, .seed = 2}).text)
        << info.name;
  }
}

TEST(WorkloadTest, GeneratesExactlyTheEventsAsked) {
  for (const WorkloadInfo& info : Workloads()) {
    for (uint64_t events : {0, 1, 7, 8, 1000}) {
      const Generated out =
          Generate(info.name, {.events = events, .fraud_rate = 1});
      EXPECT_EQ(Lines(out.text).size(), events) << info.name;
    }
  }
}

TEST(WorkloadTest, CardTestingGoldenJsonl) {
  EXPECT_THAT(
      Lines(Generate("card-testing", {.events = 3, .seed = 1}).text),
      ElementsAre(
          R"({"card":"4000-0000-0000-5741","amount":61.28,"merchant":"grocery","result":"approved","ts":1764547200121})",
          R"({"card":"4000-0000-0000-5517","amount":388.25,"merchant":"online","result":"approved","ts":1764547200211})",
          R"({"card":"4000-0000-0000-0804","amount":17.20,"merchant":"pharmacy","result":"approved","ts":1764547200361})"));
}

TEST(WorkloadTest, CardTestingGoldenCsv) {
  EXPECT_THAT(
      Lines(Generate("card-testing",
                     {.events = 2, .seed = 7, .format = WorkloadFormat::kCsv})
                .text),
      ElementsAre("card,amount,merchant,result,ts",
                  "4000-0000-0000-8396,469.49,grocery,approved,1764547200121",
                  "4000-0000-0000-1518,93.84,electronics,approved,"
                  "1764547200169"));
}

// With fraud rate 1 the first event plants a fraud; its seven events come
// in time order, the last ones after the ordinary events run out.
TEST(WorkloadTest, CardTestingGoldenPlantedFraud) {
  const Generated out = Generate(
      "card-testing", {.events = 9, .keys = 100, .seed = 3, .fraud_rate = 1});
  EXPECT_EQ(out.frauds, 1);
  EXPECT_THAT(
      Lines(out.text),
      ElementsAre(
          R"({"card":"4000-0000-0000-0021","amount":45.44,"merchant":"fuel","result":"approved","ts":1764547200119})",
          R"({"card":"4000-0000-0000-0091","amount":187.79,"merchant":"fuel","result":"approved","ts":1764547200229})",
          R"({"card":"4000-0000-9000-0000","amount":0.79,"merchant":"online-test","result":"approved","ts":1764547256772})",
          R"({"card":"4000-0000-9000-0000","amount":1.52,"merchant":"online-test","result":"approved","ts":1764547312327})",
          R"({"card":"4000-0000-9000-0000","amount":1.63,"merchant":"online-test","result":"approved","ts":1764547351731})",
          R"({"card":"4000-0000-9000-0000","amount":0.66,"merchant":"online-test","result":"approved","ts":1764547393492})",
          R"({"card":"4000-0000-9000-0000","amount":0.67,"merchant":"online-test","result":"approved","ts":1764547402193})",
          R"({"card":"4000-0000-9000-0000","amount":1.56,"merchant":"online-test","result":"approved","ts":1764547456245})",
          R"({"card":"4000-0000-9000-0000","amount":1267.00,"merchant":"travel","result":"approved","ts":1764547648325})"));
}

TEST(WorkloadTest, StockTicksGoldenJsonl) {
  EXPECT_THAT(
      Lines(Generate("stock-ticks", {.events = 2, .seed = 1}).text),
      ElementsAre(
          R"({"event_type":"SELL","id":0,"name":"DELL","volume":611,"price":119.28,"stock_time":0})",
          R"({"event_type":"SELL","id":1,"name":"ORCL","volume":388,"price":145.56,"stock_time":1})"));
}

TEST(WorkloadTest, StockTicksGoldenCsv) {
  EXPECT_THAT(
      Lines(Generate("stock-ticks",
                     {.events = 3, .seed = 1, .format = WorkloadFormat::kCsv})
                .text),
      ElementsAre("event_type,id,name,volume,price,stock_time",
                  "SELL,0,DELL,611,119.28,0", "SELL,1,ORCL,388,145.56,1",
                  "BUY,2,ADBE,11,31.56,2"));
}

TEST(WorkloadTest, SkewedGoldenJsonl) {
  EXPECT_THAT(
      Lines(Generate("skewed", {.events = 3, .seed = 1}).text),
      ElementsAre(
          R"({"card":"bot-0000","amount":1.55,"merchant":"online-test","result":"approved","ts":1764547200121})",
          R"({"card":"bot-0000","amount":1.80,"merchant":"online-test","result":"approved","ts":1764547200211})",
          R"({"card":"4000-0000-0000-0005","amount":388.68,"merchant":"travel","result":"approved","ts":1764547200235})"));
}

TEST(WorkloadTest, SkewedSameSeedSameBytesDifferentSeedDifferentBytes) {
  const std::string first =
      Generate("skewed", {.events = 20'000, .keys = 500, .seed = 9}).text;
  EXPECT_EQ(
      first,
      Generate("skewed", {.events = 20'000, .keys = 500, .seed = 9}).text);
  EXPECT_NE(
      first,
      Generate("skewed", {.events = 20'000, .keys = 500, .seed = 10}).text);
}

TEST(WorkloadTest, SkewedTooManyCardsIsInvalidArgument) {
  EXPECT_THAT(
      MakeWorkload("skewed", {.keys = 10'000'001}).status(),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "keys: 10000001 is more than the 10000000 cards skewed can "
               "draw from"));
}

// Events per card of a skewed stream, by NextValues.
std::map<std::string, uint64_t> SkewedCardCounts(
    const WorkloadOptions& options) {
  std::map<std::string, uint64_t> counts;
  absl::StatusOr<std::unique_ptr<WorkloadGenerator>> generator =
      MakeWorkload("skewed", options);
  EXPECT_THAT(generator.status(), IsOk());
  if (!generator.ok()) return counts;
  std::vector<Value> values;
  int64_t last_ts = 0;
  while ((*generator)->NextValues(values)) {
    ++counts[std::get<std::string>(values[0])];
    const int64_t ts = std::get<int64_t>(values[4]);
    EXPECT_GE(ts, last_ts);
    last_ts = ts;
  }
  return counts;
}

// "4000-0000-DDDD-DDDD" with rank - 1 in the digits.
std::string ZipfCard(uint64_t rank) {
  char digits[9];
  std::snprintf(digits, sizeof(digits), "%08llu",
                static_cast<unsigned long long>(rank - 1));
  return "4000-0000-" + std::string(digits, 4) + "-" +
         std::string(digits + 4, 4);
}

// The bot has weight 100 against 1/r for Zipf rank r: its share of the
// events is 100 / (100 + H(keys)).
TEST(WorkloadTest, SkewedBotShare) {
  constexpr uint64_t kEvents = 200'000;
  const std::map<std::string, uint64_t> counts =
      SkewedCardCounts({.events = kEvents});
  double harmonic = 0;
  for (int rank = 1; rank <= 10'000; ++rank) harmonic += 1.0 / rank;
  const double expected = 100 / (100 + harmonic);
  ASSERT_TRUE(counts.contains("bot-0000"));
  const double share =
      static_cast<double>(counts.at("bot-0000")) / static_cast<double>(kEvents);
  EXPECT_NEAR(share, expected, 0.005);
  // The bot has about 100 times the events of the top Zipf card.
  ASSERT_TRUE(counts.contains(ZipfCard(1)));
  const double ratio = static_cast<double>(counts.at("bot-0000")) /
                       static_cast<double>(counts.at(ZipfCard(1)));
  EXPECT_GT(ratio, 90);
  EXPECT_LT(ratio, 110);
}

// Zipf with exponent 1: rank r gets about 1/r of rank 1's events, so the
// counts fall with rank, and halve from rank r to 2r.
TEST(WorkloadTest, SkewedZipfRankFrequencyFalls) {
  constexpr uint64_t kCards = 16;
  const std::map<std::string, uint64_t> counts =
      SkewedCardCounts({.events = 1'000'000, .keys = kCards, .seed = 5});
  EXPECT_EQ(counts.size(), kCards + 1);  // every card, and the bot
  std::vector<double> by_rank(kCards + 1, 0);
  for (uint64_t rank = 1; rank <= kCards; ++rank) {
    const auto found = counts.find(ZipfCard(rank));
    ASSERT_NE(found, counts.end()) << rank;
    by_rank[rank] = static_cast<double>(found->second);
  }
  for (uint64_t rank = 1; rank * 2 <= kCards; rank *= 2) {
    EXPECT_GT(by_rank[rank], by_rank[rank * 2]) << rank;
    EXPECT_NEAR(by_rank[rank] / by_rank[rank * 2], 2.0, 0.3) << rank;
  }
  // Roughly decreasing: each rank's count is below 1.2 times the previous
  // rank's (the noise at the tail, about 600 events a rank, is near 6%).
  for (uint64_t rank = 2; rank <= kCards; ++rank) {
    EXPECT_LT(by_rank[rank], 1.2 * by_rank[rank - 1]) << rank;
  }
  // Rank 1 has 1 / H(16) of the Zipf events.
  double harmonic = 0;
  double zipf_events = 0;
  for (uint64_t rank = 1; rank <= kCards; ++rank) {
    harmonic += 1.0 / static_cast<double>(rank);
    zipf_events += by_rank[rank];
  }
  EXPECT_NEAR(by_rank[1] / zipf_events, 1 / harmonic, 0.01);
}

TEST(WorkloadTest, SkewedBotEventsAreProbesAndCashouts) {
  absl::StatusOr<std::unique_ptr<WorkloadGenerator>> generator =
      MakeWorkload("skewed", {.events = 50'000, .seed = 3});
  ASSERT_THAT(generator.status(), IsOk());
  std::vector<Value> values;
  uint64_t probes = 0;
  uint64_t cashouts = 0;
  while ((*generator)->NextValues(values)) {
    if (std::get<std::string>(values[0]) != "bot-0000") continue;
    const double amount = std::get<double>(values[1]);
    EXPECT_EQ(std::get<std::string>(values[3]), "approved");
    if (amount <= 2.00) {
      EXPECT_GE(amount, 0.50);
      EXPECT_EQ(std::get<std::string>(values[2]), "online-test");
      ++probes;
    } else {
      EXPECT_GE(amount, 500.00);
      EXPECT_LE(amount, 2000.00);
      ++cashouts;
    }
  }
  EXPECT_GT(cashouts, probes / 200);
  EXPECT_LT(cashouts, probes / 50);
}

TEST(WorkloadTest, DescribeStockTicks) {
  absl::StatusOr<std::string> text = DescribeWorkload("stock-ticks");
  ASSERT_THAT(text.status(), IsOk());
  EXPECT_EQ(
      *text,
      R"(stock-ticks: BUY/SELL stock ticks of 20 tickers, the CORE (VLDB 2022) benchmark stream
fields, in JSON member and CSV column order:
  event_type  string
  id          int
  name        string
  volume      int
  price       double
  stock_time  int
layout:
  One stream, no key. Every event has all six fields; event_type names
  its type (BUY or SELL), so an engine with typed events can declare two
  types with the same fields.
  event_type: "BUY" or "SELL", each with chance 1/2.
  id: the event's 0-based index in the stream.
  name: the ticker, uniform over the first `keys` (default all 20) of
    INTC RIMM QQQ MSFT ORCL AAPL AMZN GOOG CSCO DELL YHOO AMAT EBAY NVDA
    ALTR BRCD SUNW JDSU QCOM ADBE.
  volume: 1 to 1000.
  price: a decimal with two places; per ticker a random walk from an
    opening price of 20.00 to 200.00, -0.10 to +0.10 per tick of the
    ticker, never below 1.00.
  stock_time: the time field, equal to id: it grows by 1 per event.
    `cep` declares it a timestamp, so it reads stock_time as
    milliseconds (a window of W stock_time units is `within Wms`).
patterns:
  The stock queries of CORE (VLDB 2022), over the whole stream as one
  key, stages joined by followed-by-any (skip till any match: every
  combination of events in stream order), no skip after a match, within
  W stock_time units from the first to the last event, exclusive
  (last.stock_time - first.stock_time < W). A step "SELL INTC" is an
  event with event_type SELL and name INTC.
  3 steps: SELL INTC followed-by-any BUY RIMM followed-by-any BUY QQQ
    within W (stock_time): its matches are all index triples i < j < k
    of such events with stock_time[k] - stock_time[i] < W.
  6 steps: the 3 steps, then SELL MSFT, BUY ORCL, BUY AAPL.
  9 steps: the 6 steps, then SELL AMZN, BUY GOOG, BUY CSCO.
  Never completing, 4 steps: the 3 steps, then SELL ZZZZ, a ticker the
    generator never makes: no match, but the partial matches of the 3
    steps live until their window passes.
  `cep gen stock-ticks --query 3 --window W` writes the .cep file of a
  query (--query 3,never for the never-completing one).
)");
}

TEST(WorkloadTest, DescribeEveryWorkload) {
  for (const WorkloadInfo& info : Workloads()) {
    absl::StatusOr<std::string> text = DescribeWorkload(info.name);
    ASSERT_THAT(text.status(), IsOk()) << info.name;
    EXPECT_TRUE(text->starts_with(absl::StrCat(std::string(info.name), ": ")))
        << *text;
    EXPECT_TRUE(text->ends_with("\n")) << info.name;
    // Past the first line (name: description), lines fit a terminal.
    const std::vector<std::string> lines = Lines(*text);
    for (size_t line_idx = 1; line_idx < lines.size(); ++line_idx) {
      EXPECT_LE(lines[line_idx].size(), 80)
          << info.name << ": " << lines[line_idx];
    }
  }
  EXPECT_THAT(
      DescribeWorkload("nope").status(),
      StatusIs(absl::StatusCode::kInvalidArgument, "unknown workload 'nope'"));
}

TEST(CoreStockQueryTest, ThreeStepsGolden) {
  absl::StatusOr<std::string> text = CoreStockQueryText(3, false, 1000);
  ASSERT_THAT(text.status(), IsOk());
  EXPECT_EQ(*text, R"(// The CORE (VLDB 2022) stock query with 3 steps,
// over `cep gen stock-ticks` data: SELL INTC, BUY RIMM, BUY QQQ,
// each followed by any, within 1000 stock_time units (read as milliseconds).
// Written by `cep gen stock-ticks --query 3 --window 1000`.

event Stock {
  event_type  string
  id          int
  name        string
  volume      int
  price       double
  stock_time  timestamp  time
}

pattern core_stock_3 on Stock
  within 1000ms {
  begin sell_intc where event_type == "SELL" and name == "INTC"
  followed by any buy_rimm where event_type == "BUY" and name == "RIMM"
  followed by any buy_qqq where event_type == "BUY" and name == "QQQ"
}
)");
}

TEST(CoreStockQueryTest, EveryVariantParses) {
  for (int steps = 1; steps <= 20; ++steps) {
    for (bool never : {false, true}) {
      for (int64_t window : {int64_t{1}, int64_t{1000}, int64_t{86'400'000}}) {
        absl::StatusOr<std::string> text =
            CoreStockQueryText(steps, never, window);
        ASSERT_THAT(text.status(), IsOk()) << steps;
        absl::StatusOr<PatternFile> file = ParsePatternFile(*text, "core.cep");
        ASSERT_THAT(file.status(), IsOk()) << *text;
        ASSERT_EQ(file->patterns().size(), 1);
        // The file reads the data cep gen writes.
        absl::StatusOr<std::unique_ptr<WorkloadGenerator>> generator =
            MakeWorkload("stock-ticks", {.events = 10});
        ASSERT_THAT(generator.status(), IsOk());
        EXPECT_THAT(
            WorkloadRecords::Create(*std::move(generator), *file).status(),
            IsOk());
      }
    }
  }
}

TEST(CoreStockQueryTest, OutOfRangeIsInvalidArgument) {
  EXPECT_THAT(
      CoreStockQueryText(0, false, 10).status(),
      StatusIs(absl::StatusCode::kInvalidArgument, "steps: 0 is not 1 to 20"));
  EXPECT_THAT(
      CoreStockQueryText(21, true, 10).status(),
      StatusIs(absl::StatusCode::kInvalidArgument, "steps: 21 is not 1 to 20"));
  EXPECT_THAT(CoreStockQueryText(3, false, 0).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "window: 0 is not 1 to 1000000000000000"));
}

// The events of a stock-ticks stream as (event_type name, stock_time).
struct Tick {
  std::string step;  // "SELL INTC"
  int64_t time = 0;
};

std::vector<Tick> StockTicks(const WorkloadOptions& options) {
  std::vector<Tick> ticks;
  absl::StatusOr<std::unique_ptr<WorkloadGenerator>> generator =
      MakeWorkload("stock-ticks", options);
  EXPECT_THAT(generator.status(), IsOk());
  if (!generator.ok()) return ticks;
  std::vector<Value> values;
  while ((*generator)->NextValues(values)) {
    ticks.push_back(
        Tick{.step = absl::StrCat(std::get<std::string>(values[0]), " ",
                                  std::get<std::string>(values[2])),
             .time = std::get<int64_t>(values[5])});
  }
  return ticks;
}

// Brute force of followed-by-any with no skip: the number of index-ordered
// choices of one event per step, i0 < i1 < ... < in, with
// time[in] - time[i0] < window (FlinkCEP's window is exclusive: see
// tests/cases/time_within_boundary). Counted per first event by dynamic
// programming over the events in its window: ways[s] is the number of
// ways to pick steps 0..s so far.
uint64_t BruteForceMatches(const std::vector<Tick>& ticks,
                           const std::vector<std::string>& steps,
                           int64_t window) {
  uint64_t matches = 0;
  for (size_t first = 0; first < ticks.size(); ++first) {
    if (ticks[first].step != steps[0]) continue;
    std::vector<uint64_t> ways(steps.size(), 0);
    ways[0] = 1;
    for (size_t next = first + 1;
         next < ticks.size() && ticks[next].time - ticks[first].time < window;
         ++next) {
      for (size_t step_idx = steps.size() - 1; step_idx >= 1; --step_idx) {
        if (ticks[next].step == steps[step_idx]) {
          ways[step_idx] += ways[step_idx - 1];
        }
      }
    }
    matches += ways.back();
  }
  return matches;
}

// The 3-step query finds exactly every triple the brute force counts, the
// same for 6 steps, and the never-completing one finds none.
TEST(CoreStockQueryTest, MatchesEqualBruteForce) {
  const WorkloadOptions options{.events = 4000, .seed = 17};
  const std::vector<Tick> ticks = StockTicks(options);
  const std::string events = Generate("stock-ticks", options).text;
  struct Case {
    int steps;
    bool never;
    int64_t window;
    std::vector<std::string> words;
  };
  const std::vector<std::string> three = {"SELL INTC", "BUY RIMM", "BUY QQQ"};
  std::vector<std::string> six = three;
  for (const char* step : {"SELL MSFT", "BUY ORCL", "BUY AAPL"}) {
    six.emplace_back(step);
  }
  std::vector<std::string> never = three;
  never.emplace_back("SELL ZZZZ");
  for (const Case& test_case : std::vector<Case>{{3, false, 500, three},
                                                 {3, false, 37, three},
                                                 {6, false, 400, six},
                                                 {3, true, 500, never}}) {
    const uint64_t expected =
        BruteForceMatches(ticks, test_case.words, test_case.window);
    if (!test_case.never) {
      EXPECT_GT(expected, 0) << test_case.steps << " " << test_case.window;
    }
    absl::StatusOr<std::string> text =
        CoreStockQueryText(test_case.steps, test_case.never, test_case.window);
    ASSERT_THAT(text.status(), IsOk());
    absl::StatusOr<PatternFile> file = ParsePatternFile(*text, "core.cep");
    ASSERT_THAT(file.status(), IsOk());
    std::istringstream input(events);
    RunOutputs outputs;
    absl::StatusOr<RunStats> stats =
        RunPatternFile(*file, input, "generated", RunOptions{}, outputs);
    ASSERT_THAT(stats.status(), IsOk());
    EXPECT_EQ(stats->events, 4000);
    EXPECT_EQ(stats->matches, expected)
        << test_case.steps << (test_case.never ? ",never" : "") << " within "
        << test_case.window;
  }
}

absl::StatusOr<RunStats> RunOn(const std::string& pattern_file,
                               const std::string& events) {
  absl::StatusOr<PatternFile> file = LoadPatternFile(pattern_file);
  if (!file.ok()) return file.status();
  std::istringstream input(events);
  RunOutputs outputs;
  return RunPatternFile(*file, input, "generated", RunOptions{}, outputs);
}

// The planted-fraud count is the benchmark's expected match count: every
// planted fraud is one match, and ordinary traffic makes none.
TEST(WorkloadTest, CardTestingMatchesEqualPlantedFrauds) {
  const Generated out = Generate(
      "card-testing", {.events = 50'000, .seed = 11, .fraud_rate = 0.002});
  ASSERT_GT(out.frauds, 50);
  for (const char* pattern :
       {"/patterns/card_testing.cep", "/patterns/card_cashout.cep"}) {
    absl::StatusOr<RunStats> stats =
        RunOn(std::string(CEP_SOURCE_DIR) + pattern, out.text);
    ASSERT_THAT(stats.status(), IsOk());
    EXPECT_EQ(stats->events, 50'000) << pattern;
    EXPECT_EQ(stats->matches, out.frauds) << pattern;
    EXPECT_EQ(stats->late, 0) << pattern;
  }
}

TEST(WorkloadTest, CardTestingDefaultRateMatchesEqualPlantedFrauds) {
  const Generated out = Generate("card-testing", {.events = 50'000});
  absl::StatusOr<RunStats> stats = RunOn(
      std::string(CEP_SOURCE_DIR) + "/patterns/card_testing.cep", out.text);
  ASSERT_THAT(stats.status(), IsOk());
  EXPECT_EQ(stats->matches, out.frauds);
}

// The workloads made for one pattern file each, with that file.
struct PatternWorkload {
  const char* workload;
  const char* pattern;
};
constexpr PatternWorkload kPatternWorkloads[] = {
    {"velocity", "/patterns/velocity.cep"},
    {"declines-then-charge", "/patterns/declines_then_charge.cep"},
    {"impossible-travel", "/patterns/impossible_travel.cep"},
    {"account-takeover", "/patterns/account_takeover.cep"},
    {"abandoned-challenge", "/patterns/abandoned_challenge.cep"},
};

// Each pattern file finds exactly the planted instances of its workload,
// for several seeds, and ordinary traffic makes no match.
TEST(WorkloadTest, PatternWorkloadMatchesEqualPlantedFrauds) {
  for (const PatternWorkload& test_case : kPatternWorkloads) {
    for (uint64_t seed : {1, 11, 12345}) {
      const Generated out =
          Generate(test_case.workload,
                   {.events = 20'000, .seed = seed, .fraud_rate = 0.002});
      EXPECT_GT(out.frauds, 5) << test_case.workload;
      absl::StatusOr<RunStats> stats =
          RunOn(std::string(CEP_SOURCE_DIR) + test_case.pattern, out.text);
      ASSERT_THAT(stats.status(), IsOk()) << test_case.workload;
      EXPECT_EQ(stats->events, 20'000) << test_case.workload;
      EXPECT_EQ(stats->matches, out.frauds)
          << test_case.workload << " seed " << seed;
      EXPECT_EQ(stats->late, 0) << test_case.workload;
    }
  }
}

// With the default fraud rate (1 in 10000), and with every event trying to
// plant (the stream ends while instances are scheduled: each counted one
// is complete).
TEST(WorkloadTest, PatternWorkloadExtremeRatesMatchPlantedFrauds) {
  for (const PatternWorkload& test_case : kPatternWorkloads) {
    for (double rate : {0.0001, 1.0}) {
      const Generated out = Generate(
          test_case.workload, {.events = 5'000, .seed = 3, .fraud_rate = rate});
      absl::StatusOr<RunStats> stats =
          RunOn(std::string(CEP_SOURCE_DIR) + test_case.pattern, out.text);
      ASSERT_THAT(stats.status(), IsOk()) << test_case.workload;
      EXPECT_EQ(stats->matches, out.frauds)
          << test_case.workload << " rate " << rate;
      if (rate == 1.0) {
        EXPECT_GT(out.frauds, 100) << test_case.workload;
      }
    }
  }
}

TEST(WorkloadTest, PatternWorkloadsSameSeedSameBytes) {
  for (const PatternWorkload& test_case : kPatternWorkloads) {
    const WorkloadOptions options{.events = 20'000, .seed = 5};
    const std::string first = Generate(test_case.workload, options).text;
    EXPECT_EQ(first, Generate(test_case.workload, options).text)
        << test_case.workload;
    EXPECT_NE(first,
              Generate(test_case.workload, {.events = 20'000, .seed = 6}).text)
        << test_case.workload;
  }
}

// Records made in memory (multi-type ones by event_type) equal the
// decoded JSON lines, and the CSV rows decode too.
TEST(WorkloadRecordsTest, PatternWorkloadRecordsEqualDecodedLines) {
  for (const PatternWorkload& test_case : kPatternWorkloads) {
    absl::StatusOr<PatternFile> file =
        LoadPatternFile(std::string(CEP_SOURCE_DIR) + test_case.pattern);
    ASSERT_THAT(file.status(), IsOk());
    const WorkloadOptions options{.events = 2000, .fraud_rate = 0.01};
    absl::StatusOr<std::unique_ptr<WorkloadGenerator>> generator =
        MakeWorkload(test_case.workload, options);
    ASSERT_THAT(generator.status(), IsOk());
    absl::StatusOr<WorkloadRecords> records =
        WorkloadRecords::Create(*std::move(generator), *file);
    ASSERT_THAT(records.status(), IsOk()) << test_case.workload;
    RecordDecoder decoder(*file);
    for (const std::string& line :
         Lines(Generate(test_case.workload, options).text)) {
      std::optional<Record> record = records->Next();
      ASSERT_TRUE(record.has_value());
      absl::StatusOr<Record> decoded = decoder.Decode(line);
      ASSERT_THAT(decoded.status(), IsOk()) << line;
      EXPECT_EQ(*record, *decoded) << line;
    }
    EXPECT_FALSE(records->Next().has_value());

    WorkloadOptions csv = options;
    csv.format = WorkloadFormat::kCsv;
    const std::vector<std::string> rows =
        Lines(Generate(test_case.workload, csv).text);
    ASSERT_EQ(rows.size(), 2001);
    RecordCsvDecoder csv_decoder(*file);
    ASSERT_THAT(csv_decoder.ReadHeader(rows[0]), IsOk()) << test_case.workload;
    for (size_t row_idx = 1; row_idx < rows.size(); ++row_idx) {
      EXPECT_THAT(csv_decoder.Decode(rows[row_idx]).status(), IsOk())
          << rows[row_idx];
    }
  }
}

TEST(WorkloadTest, PatternWorkloadKeysOutOfRangeIsInvalidArgument) {
  EXPECT_THAT(MakeWorkload("velocity", {.keys = 10}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "keys: 10 is fewer than the 1000 cards velocity needs"));
  EXPECT_THAT(MakeWorkload("impossible-travel", {.keys = 1'000'001}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "keys: 1000001 is more than the 1000000 users "
                       "impossible-travel can number"));
  EXPECT_THAT(MakeWorkload("abandoned-challenge", {.fraud_rate = 2}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "fraud-rate: 2 is not between 0 and 1"));
}

// event Stock { event_type string, id int, name string key, volume int,
//               price double, stock_time timestamp time }
Schema StockSchema() {
  return Schema("Stock",
                {{"event_type", FieldType::kString},
                 {"id", FieldType::kInt},
                 {"name", FieldType::kString},
                 {"volume", FieldType::kInt},
                 {"price", FieldType::kDouble},
                 {"stock_time", FieldType::kTimestamp}},
                /*key_field=*/2, /*time_field=*/5);
}

void ExpectStockRecord(const Record& record, int64_t index) {
  const std::string_view type = record.GetString(0);
  EXPECT_TRUE(type == "BUY" || type == "SELL") << type;
  EXPECT_EQ(record.GetInt(1), index);
  EXPECT_GE(record.GetString(2).size(), 3);
  EXPECT_GE(record.GetInt(3), 1);
  EXPECT_LE(record.GetInt(3), 1000);
  EXPECT_GE(record.GetDouble(4), 1.0);
  EXPECT_EQ(record.GetInt(5), index);
}

TEST(WorkloadTest, StockTicksDecodeAsJsonl) {
  const Schema schema = StockSchema();
  RecordDecoder decoder({&schema});
  const std::vector<std::string> lines =
      Lines(Generate("stock-ticks", {.events = 500}).text);
  ASSERT_EQ(lines.size(), 500);
  for (size_t line_idx = 0; line_idx < lines.size(); ++line_idx) {
    absl::StatusOr<Record> record = decoder.Decode(lines[line_idx]);
    ASSERT_THAT(record.status(), IsOk()) << lines[line_idx];
    ExpectStockRecord(*record, static_cast<int64_t>(line_idx));
  }
}

TEST(WorkloadTest, StockTicksDecodeAsCsv) {
  const Schema schema = StockSchema();
  RecordCsvDecoder decoder({&schema});
  const std::vector<std::string> lines = Lines(
      Generate("stock-ticks", {.events = 500, .format = WorkloadFormat::kCsv})
          .text);
  ASSERT_EQ(lines.size(), 501);
  ASSERT_THAT(decoder.ReadHeader(lines[0]), IsOk());
  for (size_t line_idx = 1; line_idx < lines.size(); ++line_idx) {
    absl::StatusOr<Record> record = decoder.Decode(lines[line_idx]);
    ASSERT_THAT(record.status(), IsOk()) << lines[line_idx];
    ExpectStockRecord(*record, static_cast<int64_t>(line_idx - 1));
  }
}

TEST(WorkloadTest, StockTicksUseEveryTickerAndBothSides) {
  const Schema schema = StockSchema();
  RecordDecoder decoder({&schema});
  std::set<std::string> names;
  int buys = 0;
  const std::vector<std::string> lines =
      Lines(Generate("stock-ticks", {.events = 10'000}).text);
  for (const std::string& line : lines) {
    absl::StatusOr<Record> record = decoder.Decode(line);
    ASSERT_THAT(record.status(), IsOk());
    names.emplace(record->GetString(2));
    if (record->GetString(0) == "BUY") ++buys;
  }
  EXPECT_EQ(names.size(), 20);
  EXPECT_GT(buys, 4800);
  EXPECT_LT(buys, 5200);
}

// Records made in memory equal the decoded JSON lines of the same stream.
TEST(WorkloadRecordsTest, RecordsEqualDecodedLines) {
  absl::StatusOr<PatternFile> file =
      LoadPatternFile(CEP_SOURCE_DIR "/patterns/card_testing.cep");
  ASSERT_THAT(file.status(), IsOk());
  const WorkloadOptions options{.events = 2000, .fraud_rate = 0.01};
  absl::StatusOr<std::unique_ptr<WorkloadGenerator>> generator =
      MakeWorkload("card-testing", options);
  ASSERT_THAT(generator.status(), IsOk());
  absl::StatusOr<WorkloadRecords> records =
      WorkloadRecords::Create(*std::move(generator), *file);
  ASSERT_THAT(records.status(), IsOk());

  RecordDecoder decoder(*file);
  const std::vector<std::string> lines =
      Lines(Generate("card-testing", options).text);
  for (const std::string& line : lines) {
    std::optional<Record> record = records->Next();
    ASSERT_TRUE(record.has_value());
    absl::StatusOr<Record> decoded = decoder.Decode(line);
    ASSERT_THAT(decoded.status(), IsOk());
    EXPECT_EQ(*record, *decoded) << line;
  }
  EXPECT_FALSE(records->Next().has_value());
}

TEST(WorkloadRecordsTest, PicksSchemaByEventType) {
  absl::StatusOr<PatternFile> file = ParsePatternFile(
      "event BUY { name string key\n price double\n stock_time timestamp "
      "time }\n"
      "event SELL { name string key\n volume int\n stock_time timestamp "
      "time }\n",
      "stock.cep");
  ASSERT_THAT(file.status(), IsOk());
  absl::StatusOr<std::unique_ptr<WorkloadGenerator>> generator =
      MakeWorkload("stock-ticks", {.events = 100});
  ASSERT_THAT(generator.status(), IsOk());
  absl::StatusOr<WorkloadRecords> records =
      WorkloadRecords::Create(*std::move(generator), *file);
  ASSERT_THAT(records.status(), IsOk());
  int count = 0;
  while (std::optional<Record> record = records->Next()) {
    EXPECT_EQ(record->GetInt(2), count);
    ++count;
  }
  EXPECT_EQ(count, 100);
}

TEST(WorkloadRecordsTest, MissingFieldIsInvalidArgument) {
  absl::StatusOr<PatternFile> file =
      LoadPatternFile(CEP_SOURCE_DIR "/patterns/card_testing.cep");
  ASSERT_THAT(file.status(), IsOk());
  absl::StatusOr<std::unique_ptr<WorkloadGenerator>> generator =
      MakeWorkload("stock-ticks", {});
  ASSERT_THAT(generator.status(), IsOk());
  EXPECT_THAT(WorkloadRecords::Create(*std::move(generator), *file).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "Auth: field 'card' is not made by the workload"));
}

}  // namespace
}  // namespace cep
