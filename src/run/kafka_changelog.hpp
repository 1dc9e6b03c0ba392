// KafkaChangelog: the changelog topic of a run over Kafka (`cep run --input
// kafka://... --group G --state rocksdb:DIR`): where each checkpoint writes
// the key states of every partition it reads, so that a process that takes
// a partition over restores its state from there (as Kafka Streams does).
// This class is the topic's I/O only (records as bytes); what they hold is
// partition_state.hpp's. Internal to src/run/: not installed.
//
// The topic: "<group>-changelog", as many partitions as the input topic;
// input partition P's records go to its partition P. A record is a state
// record (key "k" + pattern name + '\0' + the state key's ValueCodec bytes,
// value the encoded KeyState, no value: a tombstone) or partition P's
// marker (key "m", value: where the input partition's state stands, see
// partition_state.hpp). The records of one checkpoint come before its
// marker; a reader applies only records followed by a marker, so a
// checkpoint that a process died in the middle of writing is ignored. The
// producer is idempotent: a retried record is written once.
//
// Example:
//   CEP_ASSIGN_OR_RETURN(auto changelog, KafkaChangelog::Open(options));
//   CEP_RETURN_IF_ERROR(changelog->Put(3, key, value));
//   CEP_RETURN_IF_ERROR(changelog->Put(3, kChangelogMarkerKey, marker));
//   CEP_RETURN_IF_ERROR(changelog->Flush());
//   CEP_ASSIGN_OR_RETURN(ChangelogContents contents, changelog->Read(3));
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "kafka_url.hpp"
#include "partition_log.hpp"

struct rd_kafka_s;

namespace cep::run {

struct KafkaChangelogOptions {
  // The input's brokers; the changelog topic is named after `group`.
  KafkaUrl input;
  std::string group;
  // The input topic's partition count: the changelog's must be the same.
  size_t partitions = 0;
  // The user's --kafka-config, set after ours.
  std::vector<std::pair<std::string, std::string>> config;
  // How long the brokers may take to answer (metadata, a flush, a read).
  std::chrono::milliseconds timeout{30000};
};

class KafkaChangelog final : public PartitionLog {
 public:
  // Connects a producer and a reader, and checks that the topic exists with
  // options.partitions partitions. Errors: kFailedPrecondition
  // "kafka://.../G-changelog: error: the changelog topic has N partitions;
  // it needs M (those of 'T')", kNotFound "...: error: no topic
  // 'G-changelog' (create it with M partitions and cleanup.policy=compact)",
  // kUnavailable when no broker answers within the timeout.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<KafkaChangelog>> Open(
      KafkaChangelogOptions options);
  ~KafkaChangelog();
  KafkaChangelog(const KafkaChangelog&) = delete;
  KafkaChangelog& operator=(const KafkaChangelog&) = delete;

  const std::string& topic() const { return url_.topic; }
  std::string_view name() const override { return name_; }

  // Queues a record for `partition`; `value` nullopt: a tombstone.
  absl::Status Put(int32_t partition, std::string_view key,
                   std::optional<std::string_view> value) override;
  // Waits until every queued record is written. Errors: kUnavailable when
  // one could not be written within the timeout.
  absl::Status Flush() override;
  // Reads `partition` from its start to its end (as of now).
  // Errors: kUnavailable when the brokers do not answer within the timeout.
  absl::StatusOr<ChangelogContents> Read(int32_t partition) override;

  // librdkafka's delivery report, through the producer's opaque.
  void OnDelivery(bool ok) { failed_ += ok ? 0 : 1; }

 private:
  explicit KafkaChangelog(KafkaChangelogOptions options);
  absl::Status Connect();

  KafkaChangelogOptions options_;
  KafkaUrl url_;  // the changelog topic's
  std::string name_;
  rd_kafka_s* producer_ = nullptr;
  rd_kafka_s* reader_ = nullptr;
  uint64_t failed_ = 0;
};

}  // namespace cep::run
