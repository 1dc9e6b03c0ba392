// KafkaSource: see kafka_source.hpp.

#include "kafka_source.hpp"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include <librdkafka/rdkafka.h>

#include "cep/internal/status_macros.hpp"
#include "cep/record_json.hpp"
#include "cep/runtime.hpp"
#include "cep/time.hpp"

#include "../io/io_util.hpp"
#include "kafka_config.hpp"

namespace cep::run {
namespace {

using io::Cat;

// A partition with this many messages waiting (held back by a slower
// partition) is paused until it is down to kResumeBelow.
constexpr size_t kPauseAbove = 10000;
constexpr size_t kResumeBelow = 1000;
// Keys on two partitions reported one by one; the rest are counted.
constexpr uint64_t kSplitKeysReported = 10;
// How long one wait for a message lasts before the stop flag and the
// timeouts are checked again.
constexpr int kPollMs = 50;

int64_t Millis(std::chrono::milliseconds d) { return d.count(); }

extern "C" void RebalanceCallback(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                  rd_kafka_topic_partition_list_t* partitions,
                                  void* opaque) {
  (void)rk;
  static_cast<KafkaSource*>(opaque)->OnRebalance(static_cast<int>(err),
                                                 partitions);
}

std::string Join(const std::vector<int32_t>& numbers) {
  std::string out;
  for (int32_t number : numbers) {
    if (!out.empty()) out += ',';
    out += std::to_string(number);
  }
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<KafkaSource>> KafkaSource::Open(
    const PatternFile& file, KafkaSourceOptions options) {
  if (options.run == nullptr) {
    return absl::InternalError("KafkaSource::Open: no RunOptions");
  }
  const bool csv = options.run->format == InputFormat::kCsv;
  if (csv != !options.csv_header.empty()) {
    return absl::InvalidArgumentError(
        csv ? "--input kafka:// with --format csv needs --kafka-csv-header "
              "(the messages are rows without a header)"
            : "--kafka-csv-header needs --format csv");
  }
  if (options.group.empty()) {
    return absl::InvalidArgumentError("--input kafka:// needs --group G");
  }
  std::unique_ptr<KafkaSource> source(
      new KafkaSource(file, std::move(options)));
  if (csv) {
    // The header goes through this source's decoder now, and to the run's
    // as the first frame.
    const Decoded decoded = source->decoder_.Decode(
        source->options_.csv_header, source->record_, source->error_);
    if (decoded == Decoded::kFatal || decoded == Decoded::kBad) {
      return absl::InvalidArgumentError(
          Cat("--kafka-csv-header: ", source->error_));
    }
    source->header_pending_ = true;
  }
  CEP_RETURN_IF_ERROR(source->Connect());
  return source;
}

KafkaSource::KafkaSource(const PatternFile& file, KafkaSourceOptions options)
    : file_(file),
      options_(std::move(options)),
      name_(KafkaName(options_.url)),
      decoder_(file, options_.run->format),
      key_partitions_(file.patterns().size()) {}

KafkaSource::~KafkaSource() {
  if (consumer_ == nullptr) return;
  // Leaves the group at once (its partitions go to the others) without
  // committing anything: offsets are committed after checkpoints only.
  closing_ = true;
  rd_kafka_consumer_close(consumer_);
  rd_kafka_destroy(consumer_);
}

absl::Status KafkaSource::Connect() {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  auto set = [conf](const std::string& key, const std::string& value) {
    return SetKafkaConfig(conf, key, value);
  };
  absl::Status status = [&]() -> absl::Status {
    CEP_RETURN_IF_ERROR(
        set("bootstrap.servers", options_.url.bootstrap_servers));
    CEP_RETURN_IF_ERROR(set("group.id", options_.group));
    CEP_RETURN_IF_ERROR(set("client.id", "cep"));
    CEP_RETURN_IF_ERROR(set("auto.offset.reset", "earliest"));
    CEP_RETURN_IF_ERROR(set("enable.auto.offset.store", "false"));
    CEP_RETURN_IF_ERROR(
        set("socket.connection.setup.timeout.ms",
            std::to_string(std::max<int64_t>(1000, Millis(options_.timeout)))));
    for (const auto& [key, value] : options_.config) {
      if (key == "enable.auto.commit") {
        return absl::InvalidArgumentError(
            "--kafka-config enable.auto.commit: cannot be set: offsets are "
            "committed after each checkpoint (--state rocksdb:DIR)");
      }
    }
    CEP_RETURN_IF_ERROR(SetUserKafkaConfig(conf, options_.config));
    return set("enable.auto.commit", "false");
  }();
  if (!status.ok()) {
    rd_kafka_conf_destroy(conf);
    return status;
  }
  rd_kafka_conf_set_opaque(conf, this);
  rd_kafka_conf_set_rebalance_cb(conf, RebalanceCallback);
  consumer_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof(error));
  if (consumer_ == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InvalidArgumentError(Cat(name_, ": error: ", error));
  }
  rd_kafka_poll_set_consumer(consumer_);

  // The topic's metadata: whether a broker answers, and the partitions.
  CEP_ASSIGN_OR_RETURN(
      partition_count_,
      TopicPartitionCount(consumer_, options_.url, options_.timeout));
  partitions_.resize(partition_count_);

  rd_kafka_topic_partition_list_t* subscription =
      rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(subscription, options_.url.topic.c_str(),
                                    RD_KAFKA_PARTITION_UA);
  const rd_kafka_resp_err_t subscribed =
      rd_kafka_subscribe(consumer_, subscription);
  rd_kafka_topic_partition_list_destroy(subscription);
  if (subscribed != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(Cat(
        name_, ": error: cannot subscribe: ", rd_kafka_err2str(subscribed)));
  }
  started_ns_ = SteadyClockNanos();
  if (options_.changelog) {
    KafkaChangelogOptions changelog;
    changelog.input = options_.url;
    changelog.group = options_.group;
    changelog.partitions = partition_count_;
    changelog.config = options_.config;
    changelog.timeout = options_.timeout;
    CEP_ASSIGN_OR_RETURN(changelog_,
                         KafkaChangelog::Open(std::move(changelog)));
  }
  return absl::OkStatus();
}

std::vector<uint32_t> KafkaSource::Unsigned(
    const std::vector<int32_t>& numbers) {
  return std::vector<uint32_t>(numbers.begin(), numbers.end());
}

void KafkaSource::OnRebalance(int err,
                              rd_kafka_topic_partition_list_t* partitions) {
  std::vector<int32_t> numbers;
  for (int idx = 0; idx < partitions->cnt; ++idx) {
    numbers.push_back(partitions->elems[idx].partition);
  }
  std::sort(numbers.begin(), numbers.end());
  // partition.assignment.strategy=cooperative-sticky moves only the
  // partitions that change hands, through the incremental calls.
  const bool cooperative =
      std::string_view(rd_kafka_rebalance_protocol(consumer_)) == "COOPERATIVE";
  if (err != RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    // The state of the partitions reaches the changelog, then goes.
    const bool handed_over =
        listener_ != nullptr && !closing_ && status_.ok() && !numbers.empty();
    if (handed_over) status_ = listener_->Revoking(Unsigned(numbers));
    if (cooperative) {
      rd_kafka_error_destroy(
          rd_kafka_incremental_unassign(consumer_, partitions));
    } else {
      rd_kafka_assign(consumer_, nullptr);
    }
    // Messages queued and not handed out are dropped: the partition's next
    // owner reads them from its committed offset.
    for (int32_t number : numbers) {
      Partition& partition = partitions_[static_cast<size_t>(number)];
      partition.assigned = false;
      partition.queue.clear();
      partition.paused = false;
      // Its state left with it: where it starts, if it comes back, is the
      // changelog's to say.
      if (listener_ != nullptr) partition.known = false;
    }
    // An assignment follows (eager), or may (cooperative, when the
    // partitions were lost: the member was fenced and joins again).
    rebalancing_ = !cooperative ||
                   std::none_of(partitions_.begin(), partitions_.end(),
                                [](const Partition& p) { return p.assigned; });
    if (closing_ || numbers.empty()) return;
    if (listener_ != nullptr) {
      Warn(Cat("cep: kafka: partitions ", Join(numbers), " of '",
               options_.url.topic, "' revoked; their state is in '",
               changelog_->topic(), "'"));
      return;
    }
    Warn(Cat("cep: warning: kafka: partitions ", Join(numbers), " of '",
             options_.url.topic,
             "' revoked; the partial matches of their keys stay in this "
             "process (--kafka-changelog moves them with their partitions)"));
    return;
  }
  const int timeout_ms = static_cast<int>(Millis(options_.timeout));
  // Where each partition starts: after what this process handed out of it
  // already (its events are in this process's state), or the checkpoint's
  // offset (SeekPartitions), else the group's committed one, else its
  // first.
  rd_kafka_committed(consumer_, partitions, timeout_ms);
  // With a changelog: where the state restored from it stands.
  std::vector<std::optional<SourcePosition>> restored(numbers.size());
  if (listener_ != nullptr && status_.ok() && !numbers.empty()) {
    absl::StatusOr<std::vector<std::optional<SourcePosition>>> assigned =
        listener_->Assigned(Unsigned(numbers));
    if (assigned.ok()) {
      restored = *std::move(assigned);
    } else {
      status_ = assigned.status();
    }
  }
  const int64_t now = SteadyClockNanos();
  for (int idx = 0; idx < partitions->cnt; ++idx) {
    rd_kafka_topic_partition_t& element = partitions->elems[idx];
    int64_t low = 0;
    int64_t high = 0;
    rd_kafka_query_watermark_offsets(consumer_, options_.url.topic.c_str(),
                                     element.partition, &low, &high,
                                     timeout_ms);
    Partition& partition = partitions_[static_cast<size_t>(element.partition)];
    int64_t start = element.offset >= 0 ? element.offset : low;
    // With a changelog its marker says where the state stands (below);
    // without one, where this process's state stands.
    if (partition.known && listener_ == nullptr) start = partition.next_offset;
    uint64_t taken = partition.taken;
    const size_t at = static_cast<size_t>(
        std::lower_bound(numbers.begin(), numbers.end(), element.partition) -
        numbers.begin());
    if (at < restored.size() && restored[at].has_value()) {
      start = static_cast<int64_t>(restored[at]->offset);
      taken = restored[at]->line_no;
    }
    element.offset = start;
    partition = Partition();
    partition.assigned = true;
    partition.known = true;
    partition.taken = taken;
    partition.next_offset = start;
    partition.fetched_offset = start;
    partition.end_offset = high;
    partition.last_message_ns = now;
  }
  if (cooperative) {
    rd_kafka_error_destroy(rd_kafka_incremental_assign(consumer_, partitions));
  } else {
    rd_kafka_assign(consumer_, partitions);
  }
  // A partition paused before it was revoked stays paused in librdkafka.
  rd_kafka_resume_partitions(consumer_, partitions);
  assigned_once_ = true;
  rebalancing_ = false;
  Warn(Cat("cep: kafka: group '", options_.group, "' assigned partitions ",
           numbers.empty() ? std::string("(none)") : Join(numbers), " of '",
           options_.url.topic, "'"));
}

bool KafkaSource::Next(Frame& frame) {
  if (header_pending_) {
    // The CSV header, before any message: frame 0 of no partition's.
    header_pending_ = false;
    current_ = options_.csv_header;
    frame.text = current_;
    frame.too_long = false;
    frame.partition = 0;
    frame.line_no = 0;
    frame.end_offset = 0;
    return true;
  }
  while (true) {
    if (options_.run->stop != nullptr && options_.run->stop->load()) {
      return false;
    }
    if (!status_.ok()) return false;
    // While messages are queued, the consumer is still polled now and then:
    // that is where librdkafka calls back for rebalances.
    if (SteadyClockNanos() - last_poll_ns_ > kPollMs * 1'000'000LL) {
      Poll(0);
      if (!status_.ok()) return false;
    }
    if (Release(frame)) return true;
    if (!status_.ok() || AtEnd()) return false;
    if (!assigned_once_ && SteadyClockNanos() - started_ns_ >
                               Millis(options_.timeout) * 1'000'000) {
      status_ = absl::UnavailableError(Cat(
          name_, ": error: no partition assigned to group '", options_.group,
          "' within ", FormatTimeout(options_.timeout), " (--kafka-timeout)"));
      return false;
    }
    Poll(kPollMs);
  }
}

void KafkaSource::Poll(int timeout_ms) {
  last_poll_ns_ = SteadyClockNanos();
  rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer_, timeout_ms);
  if (message == nullptr) return;
  const rd_kafka_resp_err_t err = message->err;
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    Queue(message->partition, message->offset,
          std::string_view(static_cast<const char*>(message->payload),
                           message->len));
  } else if (err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
    char reason[512];
    if (rd_kafka_fatal_error(consumer_, reason, sizeof(reason)) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      status_ = absl::UnavailableError(Cat(name_, ": error: ", reason));
    } else if (err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
               err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
      status_ = absl::NotFoundError(
          Cat(name_, ": error: no topic '", options_.url.topic, "'"));
    } else if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
      // librdkafka reconnects by itself, without a bound.
      Warn(Cat("cep: warning: kafka: ", name_,
               ": no broker can be reached; retrying"));
    }
  }
  rd_kafka_message_destroy(message);
}

void KafkaSource::Queue(int32_t number, int64_t offset,
                        std::string_view value) {
  if (number < 0 || static_cast<size_t>(number) >= partitions_.size()) return;
  Partition& partition = partitions_[static_cast<size_t>(number)];
  if (!partition.assigned || offset < partition.fetched_offset) return;
  // Past the end it had when assigned: read by a later run.
  if (options_.stop_at_end && offset >= partition.end_offset) return;
  partition.fetched_offset = offset + 1;
  partition.last_message_ns = SteadyClockNanos();
  Message& message = partition.queue.emplace_back();
  message.offset = offset;
  message.ts_ms = partition.last_ts_ms;
  const size_t limit = options_.run->max_line_bytes;
  if (value.size() > limit) {
    message.text.assign(value.substr(0, limit));
    message.too_long = true;
    message.error =
        Cat("the message is longer than ", limit, " bytes (--max-line-bytes)");
  } else {
    message.text.assign(value);
    const Decoded decoded = decoder_.Decode(value, record_, error_);
    if (decoded == Decoded::kEvent) {
      message.ts_ms = options_.run->time == TimeMode::kEvent
                          ? record_.GetInt(*record_.schema().time_field())
                          : ToMillis(std::chrono::time_point_cast<Duration>(
                                std::chrono::system_clock::now()));
      NoteKeys(number, record_);
    } else if (decoded != Decoded::kNothing) {
      message.error = error_;
    }
  }
  partition.last_ts_ms = std::max(partition.last_ts_ms, message.ts_ms);
  PauseOrResume(number);
}

void KafkaSource::NoteKeys(int32_t partition, const Record& record) {
  const std::vector<FilePattern>& patterns = file_.patterns();
  for (size_t idx = 0; idx < patterns.size(); ++idx) {
    const FilePattern& pattern = patterns[idx];
    if (pattern.key_field.empty() || !pattern.Accepts(record)) continue;
    key_text_.clear();
    AppendValueJson(key_text_, pattern.KeyOf(record));
    auto [it, inserted] =
        key_partitions_[idx].try_emplace(key_text_, partition);
    if (inserted || it->second == partition || it->second < 0) continue;
    ++split_keys_;
    if (split_keys_ <= kSplitKeysReported) {
      Warn(Cat("cep: warning: kafka: key ", key_text_, " of pattern '",
               pattern.name, "' came on partitions ", it->second, " and ",
               partition, " of '", options_.url.topic,
               "'; the producer must partition by the key (counted in "
               "--stats-json as kafka_split_keys)"));
    }
    it->second = -1;
  }
}

// A partition with messages known to be waiting in the broker (behind the
// end it had when assigned) is slow to fetch, not idle: idle, it would let
// the others' later events through, and its own would come late (the first
// fetches after an assignment can take longer than a short idle timeout on
// a loaded machine).
bool KafkaSource::Idle(const Partition& partition, int64_t now_ns) const {
  return options_.idle_timeout.count() > 0 &&
         partition.fetched_offset >= partition.end_offset &&
         now_ns - partition.last_message_ns >=
             Millis(options_.idle_timeout) * 1'000'000;
}

bool KafkaSource::Ended(const Partition& partition) const {
  return options_.stop_at_end &&
         partition.fetched_offset >= partition.end_offset;
}

int32_t KafkaSource::NextPartition() const {
  const bool by_time = options_.run->time == TimeMode::kEvent;
  const int64_t now = SteadyClockNanos();
  int32_t best = -1;
  for (size_t idx = 0; idx < partitions_.size(); ++idx) {
    const Partition& partition = partitions_[idx];
    if (!partition.assigned) continue;
    if (partition.queue.empty()) {
      // An empty partition holds the others back until it is idle or at
      // its end: its next message may be older than theirs.
      if (by_time && !Ended(partition) && !Idle(partition, now)) return -1;
      continue;
    }
    if (best < 0 ||
        partition.queue.front().ts_ms <
            partitions_[static_cast<size_t>(best)].queue.front().ts_ms) {
      best = static_cast<int32_t>(idx);
    }
  }
  return best;
}

bool KafkaSource::Release(Frame& frame) {
  const int32_t number = NextPartition();
  if (number < 0) return false;
  Partition& partition = partitions_[static_cast<size_t>(number)];
  Message& message = partition.queue.front();
  if (!message.error.empty() && (options_.run->on_error == OnError::kStop)) {
    status_ = absl::InvalidArgumentError(
        Cat(Where(number, message.offset), ": error: ", message.error));
    return false;
  }
  current_.swap(message.text);
  frame.text = current_;
  frame.too_long = message.too_long;
  frame.partition = static_cast<size_t>(number);
  frame.line_no = ++released_;
  frame.end_offset = static_cast<uint64_t>(message.offset + 1);
  partition.next_offset = message.offset + 1;
  ++partition.taken;
  partition.queue.pop_front();
  PauseOrResume(number);
  return true;
}

bool KafkaSource::Ready() const { return NextPartition() >= 0; }

bool KafkaSource::AtEnd() const {
  // Between a revoke and the next assignment (eager rebalancing) the
  // process has no partition, and is not done.
  if (!options_.stop_at_end || !assigned_once_ || rebalancing_) return false;
  for (const Partition& partition : partitions_) {
    if (partition.assigned && (!partition.queue.empty() || !Ended(partition))) {
      return false;
    }
  }
  return true;
}

void KafkaSource::PauseOrResume(int32_t number) {
  Partition& partition = partitions_[static_cast<size_t>(number)];
  const bool pause = partition.queue.size() > kPauseAbove || Ended(partition);
  const bool resume =
      partition.queue.size() < kResumeBelow && !Ended(partition);
  if (pause == partition.paused || (!pause && !resume)) return;
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, options_.url.topic.c_str(), number);
  if (pause) {
    rd_kafka_pause_partitions(consumer_, list);
  } else {
    rd_kafka_resume_partitions(consumer_, list);
  }
  rd_kafka_topic_partition_list_destroy(list);
  partition.paused = pause;
}

SourcePosition KafkaSource::Position(size_t number) const {
  if (number >= partitions_.size()) return {};
  const Partition& partition = partitions_[number];
  return {static_cast<uint64_t>(partition.next_offset), partition.taken};
}

absl::Status KafkaSource::Seek(size_t partition, SourcePosition position) {
  (void)partition;
  (void)position;
  return absl::FailedPreconditionError(
      Cat(name_,
          ": error: the checkpoint is of a file input, not of "
          "Kafka offsets; use another --state directory"));
}

std::vector<PartitionPosition> KafkaSource::Positions() const {
  std::vector<PartitionPosition> positions;
  for (size_t idx = 0; idx < partitions_.size(); ++idx) {
    if (!partitions_[idx].assigned) continue;
    positions.push_back({static_cast<uint32_t>(idx), Position(idx)});
  }
  return positions;
}

absl::Status KafkaSource::SeekPartitions(
    const std::vector<PartitionPosition>& positions) {
  for (const PartitionPosition& position : positions) {
    if (position.partition >= partitions_.size()) {
      return absl::FailedPreconditionError(
          Cat(name_, ": error: the checkpoint has partition ",
              position.partition, " but the topic has ", partitions_.size()));
    }
    Partition& partition = partitions_[position.partition];
    partition.known = true;
    partition.next_offset = static_cast<int64_t>(position.position.offset);
    partition.taken = position.position.line_no;
  }
  return absl::OkStatus();
}

absl::Status KafkaSource::Committed(
    const std::vector<PartitionPosition>& positions) {
  if (positions.empty()) return absl::OkStatus();
  rd_kafka_topic_partition_list_t* list =
      rd_kafka_topic_partition_list_new(static_cast<int>(positions.size()));
  for (const PartitionPosition& position : positions) {
    rd_kafka_topic_partition_list_add(list, options_.url.topic.c_str(),
                                      static_cast<int32_t>(position.partition))
        ->offset = static_cast<int64_t>(position.position.offset);
  }
  const rd_kafka_resp_err_t err = rd_kafka_commit(consumer_, list, 0);
  rd_kafka_topic_partition_list_destroy(list);
  // The checkpoint holds the offsets and wins on resume: a commit that
  // fails (a rebalance in between) only makes another process that takes
  // the partition start earlier.
  // With a changelog the partitions' markers say where they resume: a
  // commit refused because the group is rebalancing changes nothing.
  const bool rebalancing = err == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS ||
                           err == RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION;
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR &&
      err != RD_KAFKA_RESP_ERR__NO_OFFSET &&
      !(changelog_ != nullptr && rebalancing)) {
    Warn(Cat("cep: warning: kafka: committing offsets of '", options_.url.topic,
             "' failed: ", rd_kafka_err2str(err)));
  }
  return absl::OkStatus();
}

void KafkaSource::Warn(std::string_view line) const {
  if (options_.warnings == nullptr) return;
  *options_.warnings << line << "\n";
  options_.warnings->flush();
}

std::string KafkaSource::Where(int32_t partition, int64_t offset) const {
  return Cat("kafka topic '", options_.url.topic, "' partition ", partition,
             " offset ", offset);
}

}  // namespace cep::run
