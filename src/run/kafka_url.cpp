// ParseKafkaUrl: see kafka_url.hpp.

#include "kafka_url.hpp"

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include <librdkafka/rdkafka.h>

#include "../io/io_util.hpp"

namespace cep::run {
namespace {

using io::Cat;

constexpr std::string_view kForm = "(kafka://HOST:PORT[,HOST:PORT]/TOPIC)";
constexpr size_t kMaxTopicLength = 249;

absl::Status Bad(std::string_view text, std::string_view reason) {
  return absl::InvalidArgumentError(Cat("'", text, "': ", reason));
}

bool IsTopicChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

// A port: decimal digits only, 1 to 65535.
bool IsPort(std::string_view port) {
  if (port.empty() || port.size() > 5) return false;
  int value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  return value >= 1 && value <= 65535;
}

}  // namespace

bool IsKafkaUrl(std::string_view text) {
  return text.substr(0, kKafkaScheme.size()) == kKafkaScheme;
}

absl::StatusOr<KafkaUrl> ParseKafkaUrl(std::string_view text) {
  if (!IsKafkaUrl(text)) return Bad(text, "not a kafka:// URL");
  const std::string_view rest = text.substr(kKafkaScheme.size());
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash + 1 == rest.size()) {
    return Bad(text, Cat("no topic ", kForm));
  }
  const std::string_view brokers = rest.substr(0, slash);
  const std::string_view topic = rest.substr(slash + 1);
  if (brokers.empty())
    return Bad(text, Cat("no broker before the topic ", kForm));
  KafkaUrl url;
  size_t start = 0;
  while (start <= brokers.size()) {
    size_t comma = brokers.find(',', start);
    if (comma == std::string_view::npos) comma = brokers.size();
    const std::string_view broker = brokers.substr(start, comma - start);
    const size_t colon = broker.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
      return Bad(text, Cat("broker '", broker, "' is not HOST:PORT"));
    }
    if (!IsPort(broker.substr(colon + 1))) {
      return Bad(text,
                 Cat("broker '", broker, "' has no port from 1 to 65535"));
    }
    url.brokers.emplace_back(broker);
    start = comma + 1;
  }
  if (topic.size() > kMaxTopicLength) {
    return Bad(text, Cat("topic '", topic.substr(0, 20),
                         "...' is longer than 249 characters"));
  }
  for (char c : topic) {
    if (!IsTopicChar(c)) {
      return Bad(text,
                 Cat("topic '", topic,
                     "' may hold only letters, digits, '.', '_' and '-'"));
    }
  }
  for (const std::string& broker : url.brokers) {
    if (!url.bootstrap_servers.empty()) url.bootstrap_servers += ',';
    url.bootstrap_servers += broker;
  }
  url.topic = std::string(topic);
  return url;
}

namespace {

extern "C" void DropLog(const rd_kafka_t* rk, int level, const char* facility,
                        const char* message) {
  (void)rk;
  (void)level;
  (void)facility;
  (void)message;
}

}  // namespace

std::string KafkaName(const KafkaUrl& url) {
  return Cat(kKafkaScheme, url.bootstrap_servers, "/", url.topic);
}

std::string FormatTimeout(std::chrono::milliseconds timeout) {
  if (timeout.count() % 1000 == 0) return Cat(timeout.count() / 1000, "s");
  return Cat(timeout.count(), "ms");
}

void QuietKafkaLog(rd_kafka_conf_s* conf) {
  rd_kafka_conf_set_log_cb(conf, DropLog);
}

absl::StatusOr<size_t> TopicPartitionCount(rd_kafka_s* client,
                                           const KafkaUrl& url,
                                           std::chrono::milliseconds timeout) {
  rd_kafka_topic_t* topic =
      rd_kafka_topic_new(client, url.topic.c_str(), nullptr);
  const rd_kafka_metadata_t* metadata = nullptr;
  const rd_kafka_resp_err_t err = rd_kafka_metadata(
      client, 0, topic, &metadata, static_cast<int>(timeout.count()));
  rd_kafka_topic_destroy(topic);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(
        Cat(KafkaName(url), ": error: no broker answered within ",
            FormatTimeout(timeout), " (--kafka-timeout)"));
  }
  rd_kafka_resp_err_t topic_err = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
  size_t count = 0;
  if (metadata->topic_cnt == 1) {
    topic_err = metadata->topics[0].err;
    count = static_cast<size_t>(metadata->topics[0].partition_cnt);
  }
  rd_kafka_metadata_destroy(metadata);
  if (topic_err != RD_KAFKA_RESP_ERR_NO_ERROR || count == 0) {
    return absl::NotFoundError(
        Cat(KafkaName(url), ": error: no topic '", url.topic, "'"));
  }
  return count;
}

}  // namespace cep::run
