#include "cep/workload.hpp"

#include <cstdint>
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

TEST(WorkloadTest, ListsCardTestingAndStockTicks) {
  std::vector<std::string_view> names;
  for (const WorkloadInfo& info : Workloads()) {
    names.push_back(info.name);
    EXPECT_FALSE(info.description.empty()) << info.name;
  }
  EXPECT_THAT(names, ElementsAre("card-testing", "stock-ticks"));
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
