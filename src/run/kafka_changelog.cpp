// KafkaChangelog: see kafka_changelog.hpp.

#include "kafka_changelog.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include <librdkafka/rdkafka.h>

#include "cep/internal/status_macros.hpp"
#include "cep/runtime.hpp"
#include "cep/time.hpp"

#include "../io/io_util.hpp"
#include "kafka_config.hpp"

namespace cep::run {
namespace {

using io::Cat;

// How long one wait for a message of the changelog lasts.
constexpr int kReadPollMs = 100;

extern "C" void ChangelogDeliveryCallback(rd_kafka_t* rk,
                                          const rd_kafka_message_t* message,
                                          void* opaque) {
  (void)rk;
  static_cast<KafkaChangelog*>(opaque)->OnDelivery(message->err ==
                                                   RD_KAFKA_RESP_ERR_NO_ERROR);
}

}  // namespace

absl::StatusOr<std::unique_ptr<KafkaChangelog>> KafkaChangelog::Open(
    KafkaChangelogOptions options) {
  std::unique_ptr<KafkaChangelog> changelog(
      new KafkaChangelog(std::move(options)));
  CEP_RETURN_IF_ERROR(changelog->Connect());
  return changelog;
}

KafkaChangelog::KafkaChangelog(KafkaChangelogOptions options)
    : options_(std::move(options)) {
  url_ = options_.input;
  url_.topic = Cat(options_.group, "-changelog");
  name_ = KafkaName(url_);
}

KafkaChangelog::~KafkaChangelog() {
  if (producer_ != nullptr) {
    rd_kafka_flush(producer_, static_cast<int>(options_.timeout.count()));
    rd_kafka_destroy(producer_);
  }
  if (reader_ != nullptr) {
    rd_kafka_consumer_close(reader_);
    rd_kafka_destroy(reader_);
  }
}

absl::Status KafkaChangelog::Connect() {
  char error[512];
  // The producer: idempotent, so that a retried record is written once.
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  absl::Status status = [&]() -> absl::Status {
    CEP_RETURN_IF_ERROR(SetKafkaConfig(conf, "bootstrap.servers",
                                       options_.input.bootstrap_servers));
    CEP_RETURN_IF_ERROR(SetKafkaConfig(conf, "client.id", "cep-changelog"));
    CEP_RETURN_IF_ERROR(SetKafkaConfig(conf, "enable.idempotence", "true"));
    CEP_RETURN_IF_ERROR(SetKafkaConfig(
        conf, "message.timeout.ms", std::to_string(options_.timeout.count())));
    return SetUserKafkaConfig(conf, options_.config);
  }();
  if (!status.ok()) {
    rd_kafka_conf_destroy(conf);
    return status;
  }
  rd_kafka_conf_set_opaque(conf, this);
  rd_kafka_conf_set_dr_msg_cb(conf, ChangelogDeliveryCallback);
  producer_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
  if (producer_ == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InvalidArgumentError(Cat(name_, ": error: ", error));
  }
  // The reader: partitions assigned one at a time, never a group member.
  conf = rd_kafka_conf_new();
  status = [&]() -> absl::Status {
    CEP_RETURN_IF_ERROR(SetKafkaConfig(conf, "bootstrap.servers",
                                       options_.input.bootstrap_servers));
    CEP_RETURN_IF_ERROR(SetKafkaConfig(conf, "client.id", "cep-changelog"));
    CEP_RETURN_IF_ERROR(
        SetKafkaConfig(conf, "group.id", Cat(options_.group, "-changelog")));
    CEP_RETURN_IF_ERROR(SetUserKafkaConfig(conf, options_.config));
    CEP_RETURN_IF_ERROR(SetKafkaConfig(conf, "enable.auto.commit", "false"));
    return SetKafkaConfig(conf, "enable.partition.eof", "true");
  }();
  if (!status.ok()) {
    rd_kafka_conf_destroy(conf);
    return status;
  }
  reader_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof(error));
  if (reader_ == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InvalidArgumentError(Cat(name_, ": error: ", error));
  }
  absl::StatusOr<size_t> partitions =
      TopicPartitionCount(producer_, url_, options_.timeout);
  if (absl::IsNotFound(partitions.status())) {
    return absl::NotFoundError(Cat(name_, ": error: no topic '", url_.topic,
                                   "' (create it with ", options_.partitions,
                                   " partitions and cleanup.policy=compact)"));
  }
  CEP_RETURN_IF_ERROR(partitions.status());
  if (*partitions != options_.partitions) {
    return absl::FailedPreconditionError(
        Cat(name_, ": error: the changelog topic has ", *partitions,
            " partitions; it needs ", options_.partitions, " (those of '",
            options_.input.topic, "')"));
  }
  return absl::OkStatus();
}

absl::Status KafkaChangelog::Put(int32_t partition, std::string_view key,
                                 std::optional<std::string_view> value) {
  while (true) {
    const rd_kafka_resp_err_t err = rd_kafka_producev(
        producer_, RD_KAFKA_V_TOPIC(url_.topic.c_str()),
        RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
        RD_KAFKA_V_VALUE(
            value.has_value() ? const_cast<char*>(value->data()) : nullptr,
            value.has_value() ? value->size() : 0),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      return absl::UnavailableError(
          Cat(name_, ": error: cannot write partition ", partition, ": ",
              rd_kafka_err2str(err)));
    }
    // librdkafka's queue is full: deliveries make room.
    rd_kafka_poll(producer_, kReadPollMs);
  }
  rd_kafka_poll(producer_, 0);
  return absl::OkStatus();
}

absl::Status KafkaChangelog::Flush() {
  const rd_kafka_resp_err_t err =
      rd_kafka_flush(producer_, static_cast<int>(options_.timeout.count()));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR || failed_ > 0) {
    failed_ = 0;
    return absl::UnavailableError(
        Cat(name_, ": error: the checkpoint's state could not be written (",
            err != RD_KAFKA_RESP_ERR_NO_ERROR ? rd_kafka_err2str(err)
                                              : "a record was not delivered",
            ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ChangelogContents> KafkaChangelog::Read(int32_t partition) {
  const int timeout_ms = static_cast<int>(options_.timeout.count());
  int64_t low = 0;
  int64_t high = 0;
  const rd_kafka_resp_err_t queried = rd_kafka_query_watermark_offsets(
      reader_, url_.topic.c_str(), partition, &low, &high, timeout_ms);
  if (queried != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(Cat(name_, ": error: cannot read partition ",
                                      partition, ": ",
                                      rd_kafka_err2str(queried)));
  }
  ChangelogReader reader;
  if (high <= low) return std::move(reader).Finish();
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, url_.topic.c_str(), partition)
      ->offset = low;
  rd_kafka_assign(reader_, list);
  rd_kafka_topic_partition_list_destroy(list);
  const int64_t deadline = SteadyClockNanos() + timeout_ms * 1'000'000LL;
  int64_t next = low;
  absl::Status status;
  while (next < high) {
    if (SteadyClockNanos() > deadline) {
      status = absl::UnavailableError(Cat(
          name_, ": error: partition ", partition, " not read to offset ", high,
          " within ", FormatTimeout(options_.timeout), " (--kafka-timeout)"));
      break;
    }
    rd_kafka_message_t* message = rd_kafka_consumer_poll(reader_, kReadPollMs);
    if (message == nullptr) continue;
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      next = std::max(next, message->offset);
    } else if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR &&
               message->partition == partition) {
      next = message->offset + 1;
    }
    // Every record of ours has a key; others are not ours to apply.
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR &&
        message->partition == partition && message->key != nullptr) {
      std::optional<std::string> value;
      if (message->payload != nullptr) {
        value.emplace(static_cast<const char*>(message->payload), message->len);
      }
      reader.Add(
          std::string(static_cast<const char*>(message->key), message->key_len),
          std::move(value));
    }
    rd_kafka_message_destroy(message);
  }
  rd_kafka_assign(reader_, nullptr);
  CEP_RETURN_IF_ERROR(status);
  return std::move(reader).Finish();
}

}  // namespace cep::run
