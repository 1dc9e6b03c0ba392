// KafkaSource: a Source (source.hpp) over the partitions of one Kafka topic
// that this process's consumer group assigns to it (`cep run --input
// kafka://HOST:PORT/TOPIC --group G`). Each message value is one frame (a
// JSON line, or a CSV row after the header given as an option, as in a
// file). Internal to src/run/: not installed, not under
// include/.
//
// Offsets: enable.auto.commit is off and cannot be turned on. Where a
// partition starts: the offset a checkpoint recorded (SeekPartitions), else
// the group's committed offset, else the partition's first offset. After a
// checkpoint is durable, Committed() commits the checkpoint's offsets to the
// group, synchronously.
//
// Event time, per partition (as Flink's Kafka source): the Runtime keeps
// one watermark, the largest timestamp pushed minus the out-of-orderness.
// So that it never runs ahead of a partition that is behind, Next() merges
// the assigned partitions by event time: it decodes each message for its
// timestamp (the run decodes it again; TODO(#16): hand the record over) and
// hands out the message with the smallest (timestamp, partition) among the
// heads of the partitions, only once every assigned partition that is not
// idle has a message waiting. The largest timestamp handed out is then at
// most the smallest of the partitions' largest timestamps (plus the
// out-of-orderness within a partition): the watermark of each partition,
// minimum over partitions, as Flink computes it. A partition is idle after
// KafkaSourceOptions::idle_timeout without a message (clock time), once it
// has been read up to the end it had when assigned (before that it is slow,
// not idle), and counts again once a message comes; a partition at its end
// (stop_at_end) does not hold the others back. Time-ordered partitions
// therefore give the order a file sorted by time gives, and no event is late
// that a file run would not find late.
//
// Keys: the producer is expected to partition by the pattern's key; a key
// seen on two partitions is counted (split_keys()) and the first few are
// reported on the warning stream.
//
// Rebalancing: a revoked partition's queued messages are dropped. Without a
// changelog its new owner reads them from the committed offset, and the
// partial matches of its keys stay here. With one (`--kafka-changelog`,
// KafkaSourceOptions::changelog) the state follows the partition: the
// run's PartitionListener checkpoints before a partition goes (its state
// reaches the changelog topic, kafka_changelog.hpp) and drops its state,
// and restores a partition's state from the changelog when it comes,
// saying where to resume it (partition_state.hpp).
//
// Seqs: an event's seq is KafkaSeq(partition, offset) (SeqOf()), so the
// ids of matches (--match-ids) are the same whichever process finds them.
//
// Example:
//   CEP_ASSIGN_OR_RETURN(std::unique_ptr<run::KafkaSource> source,
//                        run::KafkaSource::Open(file, options));
//   Frame frame;
//   while (source->Next(frame)) { ... }
//   CEP_RETURN_IF_ERROR(source->Status());
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "cep/dsl.hpp"
#include "cep/event.hpp"
#include "cep/run.hpp"

#include "decoding.hpp"
#include "kafka_changelog.hpp"
#include "kafka_url.hpp"
#include "partition_log.hpp"
#include "source.hpp"

struct rd_kafka_s;
struct rd_kafka_topic_partition_list_s;

namespace cep::run {

struct KafkaSourceOptions {
  // Behaviour.

  // The brokers and the topic (--input kafka://...).
  KafkaUrl url;
  // The consumer group (--group G, librdkafka's group.id). Required.
  std::string group;
  // librdkafka properties, in order (--kafka-config key=value); they win
  // over ours, except enable.auto.commit, which is refused.
  std::vector<std::pair<std::string, std::string>> config;
  // A partition without a message for this long (clock time), read up to
  // the end it had when assigned, no longer holds the others back
  // (--idle-timeout). 0: never idle. Default: 0.
  std::chrono::milliseconds idle_timeout{0};
  // Stop once every assigned partition reached the offset that was its end
  // when it was assigned (--kafka-stop-at-end). Default: off (run until
  // stopped).
  bool stop_at_end = false;
  // How long the brokers may take to answer before the run fails
  // (--kafka-timeout): the topic's metadata at the start and the first
  // partition assignment. Brokers that go down later are retried without a
  // bound (librdkafka's reconnects), with a warning. Default: 30 s.
  std::chrono::milliseconds timeout{30000};
  // --format csv: the header row of the messages, which are rows without
  // one (--kafka-csv-header); Next() hands it out first, as a file's first
  // line. Empty for JSON lines.
  std::string csv_header;
  // The run's: format, time mode, on_error, max_line_bytes, stop.
  const RunOptions* run = nullptr;
  // --kafka-changelog: each partition's state is logged to the topic
  // "<group>-changelog" (partition_log()), so that it follows its partition
  // to another process of the group. Default: off.
  bool changelog = false;
  // Warnings (assignments, keys on two partitions). nullptr: none.
  std::ostream* warnings = nullptr;
};

class KafkaSource final : public Source {
 public:
  // Connects, checks that the topic exists (its partition count) and
  // subscribes. `file` must outlive the source. Errors: kInvalidArgument for
  // a bad --kafka-config or enable.auto.commit, --format csv without a
  // header or a header that does not decode ("--kafka-csv-header: ...");
  // kUnavailable "kafka://...: error: no broker answered within Ns
  // (--kafka-timeout)"; kNotFound "kafka://...: error: no topic 'T'".
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<KafkaSource>> Open(
      const PatternFile& file, KafkaSourceOptions options);
  ~KafkaSource() override;
  KafkaSource(const KafkaSource&) = delete;
  KafkaSource& operator=(const KafkaSource&) = delete;

  std::string_view name() const override { return name_; }
  // The topic's partitions (not only the assigned ones).
  size_t partitions() const override { return partition_count_; }
  bool Next(Frame& frame) override;
  bool Ready() const override;
  absl::Status Status() const override { return status_; }
  SourcePosition Position(size_t partition) const override;
  // Kafka is read through SeekPartitions(); a file checkpoint's single
  // position does not apply: kFailedPrecondition.
  absl::Status Seek(size_t partition, SourcePosition position) override;
  std::vector<PartitionPosition> Positions() const override;
  absl::Status SeekPartitions(
      const std::vector<PartitionPosition>& positions) override;
  absl::Status Committed(
      const std::vector<PartitionPosition>& positions) override;
  // KafkaSeq(partition, offset) of the frame's message. Not with --watch
  // or --migrate, which tell the events read before a swap from those after
  // by seq: the run then numbers events as it reads them.
  std::optional<uint64_t> SeqOf(const Frame& frame) const override {
    if (frame.end_offset == 0) return std::nullopt;  // the CSV header
    if (options_.run->migrate || !options_.run->watch_files.empty()) {
      return std::nullopt;
    }
    return KafkaSeq(frame.partition, frame.end_offset - 1);
  }

  PartitionLog* partition_log() override { return changelog_.get(); }
  void SetPartitionListener(PartitionListener* listener) override {
    listener_ = listener;
  }

  // Keys (per pattern) seen on more than one partition so far.
  uint64_t split_keys() const { return split_keys_; }

  // librdkafka's rebalance callback, through the consumer's opaque.
  void OnRebalance(int err, rd_kafka_topic_partition_list_s* partitions);

 private:
  struct Message {
    int64_t ts_ms = 0;
    int64_t offset = 0;
    std::string text;
    bool too_long = false;
    // Did not decode: the reason (stop: the run's error).
    std::string error;
  };
  struct Partition {
    bool assigned = false;
    // next_offset is this process's (handed out, or from a checkpoint).
    bool known = false;
    // Offset of the next message to hand out (after the last one handed
    // out), and messages handed out.
    int64_t next_offset = 0;
    uint64_t taken = 0;
    // Offset after the last message polled (queued).
    int64_t fetched_offset = 0;
    // The partition's end when assigned (stop_at_end).
    int64_t end_offset = 0;
    std::deque<Message> queue;
    bool paused = false;
    int64_t last_message_ns = 0;
    int64_t last_ts_ms = INT64_MIN;
  };

  KafkaSource(const PatternFile& file, KafkaSourceOptions options);
  absl::Status Connect();
  static std::vector<uint32_t> Unsigned(const std::vector<int32_t>& numbers);
  // Waits up to `timeout_ms` for a message and queues it.
  void Poll(int timeout_ms);
  void Queue(int32_t partition, int64_t offset, std::string_view value);
  void NoteKeys(int32_t partition, const Record& record);
  // Hands out the next message in event-time order, when one may go.
  bool Release(Frame& frame);
  // The partition whose head goes next, or -1 when none may go yet.
  int32_t NextPartition() const;
  bool AtEnd() const;
  bool Idle(const Partition& partition, int64_t now_ns) const;
  // stop_at_end: every message up to its end offset has been polled.
  bool Ended(const Partition& partition) const;
  void PauseOrResume(int32_t partition);
  void Warn(std::string_view line) const;
  std::string Where(int32_t partition, int64_t offset) const;

  const PatternFile& file_;
  KafkaSourceOptions options_;
  std::string name_;  // kafka://BROKERS/TOPIC
  rd_kafka_s* consumer_ = nullptr;
  std::unique_ptr<KafkaChangelog> changelog_;  // --kafka-changelog
  PartitionListener* listener_ = nullptr;
  size_t partition_count_ = 0;
  std::vector<Partition> partitions_;
  bool assigned_once_ = false;
  // Revoked (eager), or left without partitions, and not assigned again.
  bool rebalancing_ = false;
  bool closing_ = false;         // the destructor leaves the group
  bool header_pending_ = false;  // the CSV header is still to hand out
  int64_t started_ns_ = 0;
  int64_t last_poll_ns_ = 0;
  int64_t brokers_down_since_ns_ = 0;
  absl::Status status_;
  LineDecoder decoder_;
  Record record_;
  std::string error_;
  // The frame handed out last (its text).
  std::string current_;
  uint64_t released_ = 0;
  // Per pattern: the partition each key came on (its JSON text); -1 once
  // reported.
  std::vector<absl::flat_hash_map<std::string, int32_t>> key_partitions_;
  uint64_t split_keys_ = 0;
  std::string key_text_;
};

}  // namespace cep::run
