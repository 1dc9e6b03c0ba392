// cep/run_kafka.hpp in process: RunPatternKafka over a topic of
// librdkafka's mock cluster (hosted by a kafka_mock_host child) finds the
// matches RunPatternFile finds over the same events from a file, and writes
// them to a topic; KafkaRun::Open's and Run()'s errors.

#include "cep/run_kafka.hpp"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cep/dsl.hpp"
#include "cep/run.hpp"

#include "kafka/kafka_processes.hpp"
#include "testing/status_matchers.hpp"

namespace {

namespace fs = std::filesystem;
using ::cep::kafka_testing::KafkaProcessTest;
using ::cep::kafka_testing::kEvents;
using ::cep::kafka_testing::Lines;
using ::cep::kafka_testing::MessageValue;
using ::cep::kafka_testing::Sorted;
using ::cep::kafka_testing::WithoutSeqs;
using ::cep::testing::StatusIs;
using ::testing::ElementsAre;

class RunKafkaTest : public KafkaProcessTest {
 protected:
  void SetUp() override {
    KafkaProcessTest::SetUp();
    absl::StatusOr<cep::PatternFile> file = cep::LoadPatternFile(
        (fs::path(CEP_SOURCE_DIR) / "patterns" / "card_testing.cep").string());
    ASSERT_TRUE(file.ok()) << file.status();
    file_.emplace(*std::move(file));
    options_.match_ids = true;
  }

  std::optional<cep::PatternFile> file_;
  cep::RunOptions options_;
};

// The matches of the topic's events, to a topic, are those of the file; the
// report callback hears of the assignment.
TEST_F(RunKafkaTest, RunPatternKafkaFindsTheMatchesOfTheFile) {
  ASSERT_NO_FATAL_FAILURE(MakeSpacedEvents());
  ASSERT_NO_FATAL_FAILURE(StartHost("matches"));
  std::ifstream events(dir_ / "events.jsonl", std::ios::binary);
  std::ostringstream from_file;
  cep::RunOutputs file_outputs{.matches = &from_file};
  ASSERT_TRUE(cep::RunPatternFile(*file_, events, "events.jsonl", options_,
                                  file_outputs)
                  .ok());
  const std::vector<std::string> expected = Sorted(Lines(from_file.str()));
  ASSERT_EQ(expected.size(), 35u);

  cep::KafkaRunOptions kafka;
  kafka.input = Topic("auths");
  kafka.group = "api";
  kafka.output = Topic("matches");
  kafka.stop_at_end = true;
  std::vector<std::string> reported;
  kafka.report = [&reported](std::string_view line) {
    reported.emplace_back(line);
  };
  std::ostringstream not_used;
  cep::RunOutputs outputs{.matches = &not_used};
  absl::StatusOr<cep::RunStats> stats =
      cep::RunPatternKafka(*file_, kafka, options_, outputs);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->events, static_cast<uint64_t>(kEvents));
  EXPECT_EQ(stats->matches, expected.size());
  EXPECT_THAT(reported, ElementsAre("kafka: group 'api' assigned partitions "
                                    "0,1,2,3,4,5,6,7 of 'auths'"));
  EXPECT_EQ(not_used.str(), "");
  std::vector<std::string> values;
  for (const std::string& line : Messages("dump", "matches")) {
    values.push_back(MessageValue(line));
  }
  // Seqs and ids are Kafka's (partition and offset), not the file's.
  EXPECT_EQ(WithoutSeqs(values), WithoutSeqs(expected));
}

// Errors before anything connects, and Run() without an input topic (a
// KafkaRun that only writes: its output is the topic's stream).
TEST_F(RunKafkaTest, OpenAndRunErrors) {
  cep::KafkaRunOptions no_group;
  no_group.input = "kafka://127.0.0.1:1/auths";
  EXPECT_THAT(cep::KafkaRun::Open(*file_, no_group, options_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "--input kafka:// needs --group G"));
  cep::KafkaRunOptions bad_url;
  bad_url.input = "kafka://h/t";
  bad_url.group = "g";
  EXPECT_THAT(cep::KafkaRun::Open(*file_, bad_url, options_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "'kafka://h/t': broker 'h' is not HOST:PORT"));

  ASSERT_NO_FATAL_FAILURE(MakeSpacedEvents());
  ASSERT_NO_FATAL_FAILURE(StartHost("matches"));
  cep::KafkaRunOptions output_only;
  output_only.output = Topic("matches");
  absl::StatusOr<std::unique_ptr<cep::KafkaRun>> run =
      cep::KafkaRun::Open(*file_, output_only, options_);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_FALSE((*run)->has_input());
  EXPECT_EQ((*run)->input_name(), "");
  EXPECT_NE((*run)->output(), nullptr);
  cep::RunOutputs outputs;
  EXPECT_THAT((*run)->Run(outputs),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "no Kafka input to run over"));
}

}  // namespace
