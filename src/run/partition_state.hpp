// PartitionStates: the state of a run over an input whose partitions change
// hands (Kafka, kafka_source.hpp), kept per input partition so that it can
// follow its partition to another process. Every key's state belongs to the
// partition its events came from (their seqs are KafkaSeqs; the producer
// partitions by the pattern key), and so does every event waiting for the
// watermark.
// Internal to src/run/: not installed, not under include/.
//
// At each checkpoint Write() logs to a PartitionLog (the changelog topic,
// kafka_changelog.hpp), per partition read: the key states that changed
// since the last checkpoint (key "k" + pattern name + '\0' + the key's
// ValueCodec bytes, value EncodeKeyState's bytes; a tombstone for a key
// whose state went away), then the partition's marker (key "m"), saying
// where its state stands:
//   varint format version (1), varint input offset to resume from, varint
//   messages taken, zigzag max_ts, source watermark and operator watermark
//   (ms; the runtime's at the checkpoint), varint count of the partition's
//   waiting events, each: zigzag ts (ms), varint seq, length-prefixed
//   RecordCodec bytes.
// Read() gives back a partition's state as of its last marker; Apply()
// drops from a runtime's state (its backends and snapshot) the partitions a
// process no longer reads and puts in those it restored: their keys, their
// waiting events, and watermarks no later than theirs (so that none of
// their events is late).
//
// Example:
//   PartitionStates states(log, file);
//   CEP_RETURN_IF_ERROR(states.Write(positions, backends, snapshot));
//   CEP_ASSIGN_OR_RETURN(RestoredPartition restored, states.Read(3));
//   CEP_RETURN_IF_ERROR(states.Apply(keep, {restored}, backends, snapshot));
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "cep/codec.hpp"
#include "cep/dsl.hpp"
#include "cep/event.hpp"
#include "cep/key_state.hpp"
#include "cep/runtime.hpp"
#include "cep/state.hpp"
#include "cep/time.hpp"

#include "partition_log.hpp"
#include "source.hpp"

namespace cep::run {

// One pattern's state: its name and its backend.
struct NamedBackend {
  std::string name;
  StateBackend<Record, Value>* backend = nullptr;
};

// A partition's state as the log holds it at its last marker.
struct RestoredPartition {
  uint32_t partition = 0;
  // Where the input partition resumes; nullopt: the log has no marker (no
  // state: the partition starts where the group's offset says).
  std::optional<SourcePosition> position;
  Timestamp max_ts = kMinWatermark;
  Timestamp source_watermark = kMinWatermark;
  Timestamp operator_watermark = kMinWatermark;
  std::vector<HeldEvent<Record>> pending;
  // Record key ("k" + pattern + '\0' + key) -> encoded KeyState.
  absl::flat_hash_map<std::string, std::string> keys;
  std::vector<std::string> unfinished;  // ChangelogContents::unfinished
};

// The partition a key's state belongs to: that of the seq of any of its
// events (per run: a branch's first event, a held match's; shared: any
// event); nullopt for a state without one (idle).
std::optional<uint32_t> PartitionOfState(const KeyState<Record>& state);

class PartitionStates {
 public:
  // `log` and `file` must outlive this.
  PartitionStates(PartitionLog& log, const PatternFile& file);

  // Logs the state of the partitions `positions` names (those read now):
  // the key states of `backends` that changed since the last Write (or the
  // Read) of their partition, tombstones for those gone, then each
  // partition's marker (its position, the watermarks and its events waiting
  // in `snapshot`); then flushes. Errors: the log's; the backends'.
  [[nodiscard]] absl::Status Write(
      const std::vector<PartitionPosition>& positions,
      const std::vector<NamedBackend>& backends,
      const RuntimeSnapshot<Record>& snapshot);

  // `partition`'s state from the log. Errors: the log's; kDataLoss
  // "LOG: error: partition P: the marker does not decode".
  [[nodiscard]] absl::StatusOr<RestoredPartition> Read(uint32_t partition);

  // Keeps in `backends` and `snapshot` only the keys and waiting events of
  // partitions in `keep`, then adds those of `restored` (their keys go to
  // the backend of their pattern's name; a pattern the file no longer has
  // is dropped) and moves the snapshot's watermarks back to the earliest
  // restored ones. Partitions neither kept nor restored are forgotten (a
  // later Write does not log them). Errors: kDataLoss for a key or state
  // that does not decode; the backends'.
  [[nodiscard]] absl::Status Apply(const std::vector<uint32_t>& keep,
                                   std::vector<RestoredPartition> restored,
                                   const std::vector<NamedBackend>& backends,
                                   RuntimeSnapshot<Record>& snapshot);

 private:
  std::string RecordKey(const std::string& pattern, const Value& key);

  PartitionLog& log_;
  RecordCodec record_codec_;
  ValueCodec value_codec_;
  // Per partition logged: the hash of each record key's value as last
  // written (0: must be written again).
  absl::flat_hash_map<uint32_t, absl::flat_hash_map<std::string, uint64_t>>
      written_;
  std::string bytes_;
};

}  // namespace cep::run
