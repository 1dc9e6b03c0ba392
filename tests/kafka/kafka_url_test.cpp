// kafka:// URLs of `cep run` (run/kafka_url.hpp) with their exact errors,
// and the key a match line is written to Kafka under (run/kafka_sink.hpp).

#include "run/kafka_url.hpp"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "run/kafka_sink.hpp"
#include "testing/status_matchers.hpp"

namespace cep::run {
namespace {

using ::cep::testing::IsOk;
using ::cep::testing::StatusIs;
using ::testing::ElementsAre;

TEST(KafkaUrlTest, ParsesOneBroker) {
  absl::StatusOr<KafkaUrl> url = ParseKafkaUrl("kafka://127.0.0.1:9092/auths");
  ASSERT_THAT(url.status(), IsOk());
  EXPECT_THAT(url->brokers, ElementsAre("127.0.0.1:9092"));
  EXPECT_EQ(url->bootstrap_servers, "127.0.0.1:9092");
  EXPECT_EQ(url->topic, "auths");
}

TEST(KafkaUrlTest, ParsesSeveralBrokers) {
  absl::StatusOr<KafkaUrl> url =
      ParseKafkaUrl("kafka://a.example:9092,b.example:19092/card.auths_v-2");
  ASSERT_THAT(url.status(), IsOk());
  EXPECT_THAT(url->brokers, ElementsAre("a.example:9092", "b.example:19092"));
  EXPECT_EQ(url->bootstrap_servers, "a.example:9092,b.example:19092");
  EXPECT_EQ(url->topic, "card.auths_v-2");
}

TEST(KafkaUrlTest, IsKafkaUrlLooksAtTheScheme) {
  EXPECT_TRUE(IsKafkaUrl("kafka://x"));
  EXPECT_FALSE(IsKafkaUrl("events.jsonl"));
  EXPECT_FALSE(IsKafkaUrl("kafka:/x"));
}

TEST(KafkaUrlTest, RefusesAnotherScheme) {
  EXPECT_THAT(ParseKafkaUrl("http://h:1/t").status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "'http://h:1/t': not a kafka:// URL"));
}

TEST(KafkaUrlTest, RefusesAMissingTopic) {
  const std::string expected =
      ": no topic (kafka://HOST:PORT[,HOST:PORT]/TOPIC)";
  EXPECT_THAT(
      ParseKafkaUrl("kafka://h:1").status(),
      StatusIs(absl::StatusCode::kInvalidArgument, "'kafka://h:1'" + expected));
  EXPECT_THAT(ParseKafkaUrl("kafka://h:1/").status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "'kafka://h:1/'" + expected));
}

TEST(KafkaUrlTest, RefusesMissingBrokers) {
  EXPECT_THAT(ParseKafkaUrl("kafka:///t").status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "'kafka:///t': no broker before the topic "
                       "(kafka://HOST:PORT[,HOST:PORT]/TOPIC)"));
}

TEST(KafkaUrlTest, RefusesABrokerWithoutPort) {
  EXPECT_THAT(ParseKafkaUrl("kafka://h/t").status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "'kafka://h/t': broker 'h' is not HOST:PORT"));
  EXPECT_THAT(ParseKafkaUrl("kafka://h:1,/t").status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "'kafka://h:1,/t': broker '' is not HOST:PORT"));
}

TEST(KafkaUrlTest, RefusesBadPorts) {
  EXPECT_THAT(ParseKafkaUrl("kafka://h:x/t").status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "'kafka://h:x/t': broker 'h:x' has no port from 1 to "
                       "65535"));
  EXPECT_THAT(ParseKafkaUrl("kafka://h:65536/t").status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "'kafka://h:65536/t': broker 'h:65536' has no port "
                       "from 1 to 65535"));
  EXPECT_THAT(ParseKafkaUrl("kafka://h:0/t").status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "'kafka://h:0/t': broker 'h:0' has no port from 1 to "
                       "65535"));
}

TEST(KafkaUrlTest, RefusesBadTopics) {
  EXPECT_THAT(ParseKafkaUrl("kafka://h:1/a b").status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "'kafka://h:1/a b': topic 'a b' may hold only letters, "
                       "digits, '.', '_' and '-'"));
  EXPECT_THAT(ParseKafkaUrl("kafka://h:1/a/b").status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "'kafka://h:1/a/b': topic 'a/b' may hold only letters, "
                       "digits, '.', '_' and '-'"));
  const std::string url = "kafka://h:1/" + std::string(250, 't');
  EXPECT_THAT(ParseKafkaUrl(url).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "'" + url + "': topic '" + std::string(20, 't') +
                           "...' is longer than 249 characters"));
  EXPECT_THAT(ParseKafkaUrl("kafka://h:1/" + std::string(249, 't')).status(),
              IsOk());
}

TEST(MatchKeyOfTest, StringKeyWithoutQuotes) {
  EXPECT_EQ(MatchKeyOf(R"({"pattern":"p","key":"c1","events":{}})"), "c1");
}

TEST(MatchKeyOfTest, EscapesStayAsWritten) {
  EXPECT_EQ(MatchKeyOf(R"({"pattern":"a\"b","key":"c\"1","events":{}})"),
            R"(c\"1)");
}

TEST(MatchKeyOfTest, NumberKey) {
  EXPECT_EQ(MatchKeyOf(R"({"pattern":"p","key":42,"events":{}})"), "42");
}

TEST(MatchKeyOfTest, NullAndOtherShapesHaveNoKey) {
  EXPECT_EQ(MatchKeyOf(R"({"pattern":"p","key":null,"events":{}})"), "");
  EXPECT_EQ(MatchKeyOf(R"({"key":"c1"})"), "");
  EXPECT_EQ(MatchKeyOf(R"({"pattern":"p","events":{}})"), "");
}

}  // namespace
}  // namespace cep::run
