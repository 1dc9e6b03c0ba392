// PartitionLog: where a run whose input has partitions that change hands
// (Kafka's consumer groups) logs each partition's state at every
// checkpoint, and reads it back when it takes a partition over
// (partition_state.hpp says what the records hold; kafka_changelog.hpp is
// the Kafka topic). Also the seqs of such an input's events (KafkaSeq).
// Internal to src/run/: not installed, not under include/.
//
// Example:
//   CEP_RETURN_IF_ERROR(log.Put(3, key, value));
//   CEP_RETURN_IF_ERROR(log.Put(3, kChangelogMarkerKey, marker));
//   CEP_RETURN_IF_ERROR(log.Flush());
//   CEP_ASSIGN_OR_RETURN(ChangelogContents contents, log.Read(3));
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cep::run {

inline constexpr int kKafkaSeqOffsetBits = 40;

// The seq of the message at `offset` of `partition`: partition * 2^40 +
// offset, the same in every process that reads it. Events of one partition
// get increasing seqs; at equal timestamps, events of lower partitions go
// first.
inline uint64_t KafkaSeq(size_t partition, uint64_t offset) {
  return (static_cast<uint64_t>(partition) << kKafkaSeqOffsetBits) | offset;
}
// The partition of a seq KafkaSeq made.
inline uint32_t KafkaSeqPartition(uint64_t seq) {
  return static_cast<uint32_t>(seq >> kKafkaSeqOffsetBits);
}

// The key of a partition's marker record.
inline constexpr std::string_view kChangelogMarkerKey = "m";

// What a log partition holds, as of its last marker.
struct ChangelogContents {
  // The last marker's value; nullopt: the partition has none.
  std::optional<std::string> marker;
  // Every key's last value written before the last marker (tombstoned keys
  // left out).
  absl::flat_hash_map<std::string, std::string> values;
  // Keys written after the last marker (a checkpoint not finished): their
  // values there are ignored, and the next checkpoint must write them again.
  std::vector<std::string> unfinished;
};

// Reads a log partition's records in order into ChangelogContents: a
// record is applied once a marker follows it.
class ChangelogReader {
 public:
  // The next record; `value` nullopt: a tombstone.
  void Add(std::string key, std::optional<std::string> value) {
    if (key != kChangelogMarkerKey) {
      staged_[std::move(key)] = std::move(value);
      return;
    }
    for (auto& [staged_key, staged_value] : staged_) {
      if (staged_value.has_value()) {
        contents_.values[staged_key] = std::move(*staged_value);
      } else {
        contents_.values.erase(staged_key);
      }
    }
    staged_.clear();
    contents_.marker = std::move(value);
  }
  // What the records gave, those after the last marker as unfinished.
  ChangelogContents Finish() && {
    for (auto& [key, value] : staged_) contents_.unfinished.push_back(key);
    return std::move(contents_);
  }

 private:
  ChangelogContents contents_;
  absl::flat_hash_map<std::string, std::optional<std::string>> staged_;
};

class PartitionLog {
 public:
  virtual ~PartitionLog() = default;
  // Names the log in errors ("kafka://HOST:PORT/G-changelog").
  virtual std::string_view name() const = 0;
  // Queues a record of `partition`; `value` nullopt: a tombstone.
  [[nodiscard]] virtual absl::Status Put(
      int32_t partition, std::string_view key,
      std::optional<std::string_view> value) = 0;
  // Waits until every queued record is durable.
  [[nodiscard]] virtual absl::Status Flush() = 0;
  // `partition` from its start to its end, records applied up to its last
  // marker.
  [[nodiscard]] virtual absl::StatusOr<ChangelogContents> Read(
      int32_t partition) = 0;
};

}  // namespace cep::run
