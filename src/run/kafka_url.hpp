// KafkaUrl: the kafka://HOST:PORT[,HOST:PORT...]/TOPIC form `cep run` takes
// for --input and --output, parsed and checked before anything connects.
// Internal to src/run/: not installed, not under include/.
//
// Example:
//   CEP_ASSIGN_OR_RETURN(run::KafkaUrl url,
//                        run::ParseKafkaUrl("kafka://127.0.0.1:9092/auths"));
//   // url.bootstrap_servers == "127.0.0.1:9092", url.topic == "auths"
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

struct rd_kafka_s;
struct rd_kafka_conf_s;

namespace cep::run {

inline constexpr std::string_view kKafkaScheme = "kafka://";

struct KafkaUrl {
  // HOST:PORT each, in the order given.
  std::vector<std::string> brokers;
  // The brokers joined by commas: librdkafka's bootstrap.servers.
  std::string bootstrap_servers;
  // 1 to 249 of [A-Za-z0-9._-], as Kafka allows.
  std::string topic;
};

// Whether `text` is meant as a Kafka URL (starts with kafka://).
bool IsKafkaUrl(std::string_view text);

// Parses `text`. Errors: kInvalidArgument "'TEXT': REASON", REASON one of
//   "not a kafka:// URL"
//   "no topic (kafka://HOST:PORT[,HOST:PORT]/TOPIC)"
//   "no broker before the topic (kafka://HOST:PORT[,HOST:PORT]/TOPIC)"
//   "broker 'B' is not HOST:PORT"
//   "broker 'B' has no port from 1 to 65535"
//   "topic 'T' may hold only letters, digits, '.', '_' and '-'"
//   "topic 'T...' is longer than 249 characters"
[[nodiscard]] absl::StatusOr<KafkaUrl> ParseKafkaUrl(std::string_view text);

// Helpers of the Kafka source and sink (kafka_source.hpp, kafka_sink.hpp).

// "kafka://BROKERS/TOPIC", for messages.
std::string KafkaName(const KafkaUrl& url);

// "30s" for whole seconds, else "250ms".
std::string FormatTimeout(std::chrono::milliseconds timeout);

// Drops librdkafka's own log lines (connection refused, retries), which
// would break the one-line error contract of `cep`; the run's errors say
// what matters. Not installed when `config` sets "debug".
void QuietKafkaLog(rd_kafka_conf_s* conf);

// The number of partitions of url.topic, asked of the brokers `client`
// knows. Errors: kUnavailable "kafka://...: error: no broker answered within
// 30s (--kafka-timeout)"; kNotFound "kafka://...: error: no topic 'T'".
[[nodiscard]] absl::StatusOr<size_t> TopicPartitionCount(
    rd_kafka_s* client, const KafkaUrl& url, std::chrono::milliseconds timeout);

}  // namespace cep::run
