// cep/run_kafka.hpp — runs the patterns of a pattern file over a Kafka
// topic, and writes their matches to one: what `cep run --input kafka://...
// --group G --output kafka://...` does, for a program that embeds Cepheus
// (examples/fraud_service takes the same flags through ParseKafkaFlags).
//
// The input: the partitions of one topic that the consumer group assigns to
// this process, each message value one event (a JSON line, or a CSV row),
// merged by event time across partitions; offsets are never committed
// automatically: with RunOptions::state_dir every checkpoint records them
// with the state and then commits them to the group. The output: one message
// per match, keyed by the match's key, from an idempotent producer; at least
// once (exactly once after dropping repeated ids, RunOptions::match_ids).
// README.md, "Kafka", says what is guaranteed in full.
//
// Example:
//   cep::KafkaRunOptions kafka;
//   kafka.input = "kafka://broker1:9092,broker2:9092/auths";
//   kafka.group = "fraud";
//   kafka.output = "kafka://broker1:9092/alerts";
//   kafka.config = {{"security.protocol", "SASL_SSL"}};
//   cep::RunOptions options;
//   options.state_dir = "fraud-state";
//   options.match_ids = true;
//   options.stop = &g_stop;  // set by SIGTERM: a final checkpoint, then out
//   cep::RunOutputs outputs;  // matches: the output topic
//   CEP_ASSIGN_OR_RETURN(cep::RunStats stats,
//                        cep::RunPatternKafka(file, kafka, options, outputs));
//
// A program that reads a file but writes to a topic (or wants the
// connection errors before it opens anything else) uses KafkaRun directly:
//   CEP_ASSIGN_OR_RETURN(std::unique_ptr<cep::KafkaRun> run,
//                        cep::KafkaRun::Open(file, kafka, options));
//   outputs.matches = run->output();
//   ... run->has_input() ? run->Run(outputs)
//                        : cep::RunPatternFile(file, in, name, options, ...)
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "cep/dsl.hpp"
#include "cep/run.hpp"

namespace cep {

struct KafkaRunOptions {
  // The topic to read: "kafka://HOST:PORT[,HOST:PORT]/TOPIC" (flag --input).
  // Empty: no Kafka input (KafkaRun::Run() cannot be used).
  std::string input;
  // The consumer group (flag --group; librdkafka's group.id): processes of
  // one group share the topic's partitions. Required with `input`.
  std::string group;
  // The topic matches go to: "kafka://HOST:PORT[,HOST:PORT]/TOPIC" (flag
  // --output). Empty: none.
  std::string output;
  // librdkafka properties for the input and the output, in order, set after
  // ours (flag --kafka-config KEY=VALUE): bootstrap and security settings,
  // session.timeout.ms, ... enable.auto.commit is refused.
  std::vector<std::pair<std::string, std::string>> config;
  // A partition without a message for this long (clock time) stops holding
  // the others back in event time (flag --idle-timeout). 0: never.
  std::chrono::milliseconds idle_timeout{0};
  // End the run, as at the end of a file, once every assigned partition
  // reached the end it had when assigned (flag --kafka-stop-at-end).
  // Default: run until RunOptions::stop.
  bool stop_at_end = false;
  // How long the brokers may take to answer at the start (metadata, the
  // first assignment) and to acknowledge matches at a flush (flag
  // --kafka-timeout). Default: 30 s.
  std::chrono::milliseconds timeout{30000};
  // Each partition's state is logged to the compacted topic "<group>-
  // changelog" (which must exist, with the input topic's partition count) at
  // every checkpoint, so that it follows its partition to another process of
  // the group (flag --kafka-changelog). Needs RunOptions::state_dir and
  // parallelism 1; not with migrate or watch_files. Default: off.
  bool changelog = false;
  // With RunOptions::format kCsv: the header row of the messages, which are
  // rows without one (flag --kafka-csv-header).
  std::string csv_header;
  // Called with each line about the group and the partitions, without a
  // program prefix: "kafka: group 'fraud' assigned partitions 0,1,2,3 of
  // 'auths'", "warning: kafka: key ... came on partitions 2 and 5 ...".
  // nullptr: nothing is said.
  std::function<void(std::string_view line)> report;
};

// A connected Kafka input and output of a run.
class KafkaRun {
 public:
  // Connects to what `kafka` names: joins the group over the input topic
  // and checks the topic (kafka.input), and opens the producer and checks
  // the output topic (kafka.output). `file` and `options` must outlive the
  // KafkaRun; Run() uses `options` as they are when it is called.
  // Errors: kInvalidArgument "'URL': REASON" for a URL that does not parse
  // (ParseKafkaFlags names the flag), "--input kafka:// needs --group G",
  // for a property librdkafka refuses ("--kafka-config KEY=VALUE: WHY") or
  // enable.auto.commit, and about the CSV header; kUnavailable
  // "kafka://...: error: no broker answered within 30s (--kafka-timeout)";
  // kNotFound "kafka://...: error: no topic 'T'".
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<KafkaRun>> Open(
      const PatternFile& file, KafkaRunOptions kafka,
      const RunOptions& options);
  ~KafkaRun();
  KafkaRun(const KafkaRun&) = delete;
  KafkaRun& operator=(const KafkaRun&) = delete;

  // Whether Run() has a topic to read (KafkaRunOptions::input).
  bool has_input() const;
  // "kafka://BROKERS/TOPIC" of the input, for messages; empty without one.
  std::string_view input_name() const;
  // The output topic as a stream: each line written becomes one message
  // (the match line its value, the match's "key" its key), and a flush
  // waits until every message is acknowledged (the run flushes before each
  // checkpoint). nullptr without KafkaRunOptions::output.
  std::ostream* output();

  // As RunPatternFile (run.hpp) over the input topic's assigned
  // partitions. With RunOptions::state_dir a checkpoint records every
  // assigned partition's offset with the state and then commits the offsets
  // to the group; a run over a state directory resumes from its offsets.
  // Errors: those of RunPatternFile; a message that does not decode (with
  // OnError::kStop) "kafka topic 'T' partition P offset O: error: REASON";
  // kFailedPrecondition "no Kafka input to run over" without one.
  [[nodiscard]] absl::StatusOr<RunStats> Run(RunOutputs& outputs);

  // Keys (per pattern) that came on two partitions so far: the producer did
  // not partition by the patterns' key.
  uint64_t split_keys() const;

 private:
  struct Impl;
  explicit KafkaRun(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// KafkaRun::Open, then Run() with the matches going to the output topic
// when kafka.output names one (else to outputs.matches). Errors: those of
// both.
[[nodiscard]] absl::StatusOr<RunStats> RunPatternKafka(
    const PatternFile& file, KafkaRunOptions kafka, const RunOptions& options,
    RunOutputs& outputs);

// ---- options as flags (shared by `cep run` and examples/fraud_service) ----

// The flags given on a command line, without dashes, each with its value
// (a switch's value is ignored; a repeated flag's values joined by '\n').
using GivenFlags = std::map<std::string, std::string, std::less<>>;

// Sets `kafka` from the Kafka flags among `given`, as `cep run` takes them:
//   input kafka://HOST:PORT[,HOST:PORT]/TOPIC   (another value: not Kafka)
//   OUTPUT kafka://HOST:PORT[,HOST:PORT]/TOPIC  `output_flag` names it:
//                                               "output" for `cep run`
//   group G                  required with a kafka:// input
//   kafka-config KEY=VALUE   repeatable
//   idle-timeout DURATION    0 or more
//   kafka-stop-at-end        a switch
//   kafka-timeout DURATION   more than 0 (default 30s)
//   kafka-csv-header LINE    with options.format kCsv, required then
//   kafka-changelog          a switch
// Other flags are ignored, except that timeouts, late and dead-letter may
// not be kafka:// URLs. Errors: kInvalidArgument, one line naming the flag:
//   "--input: 'URL': REASON" (the URL's error)
//   "--input kafka:// needs --group G"
//   "--group needs --input kafka://HOST:PORT/TOPIC" (also --idle-timeout,
//     --kafka-stop-at-end, --kafka-csv-header and --kafka-changelog)
//   "--kafka-config needs a kafka:// --input or --output" (also
//     --kafka-timeout; OUTPUT's name)
//   "--kafka-config: 'TEXT' is not key=value"
//   "--kafka-timeout: '0' is not a positive duration", "--idle-timeout:
//     REASON" (the duration's error)
//   "--input kafka:// with --format csv needs --kafka-csv-header (the
//     messages are rows without a header)", "--kafka-csv-header needs
//     --format csv"
//   "--late: only --output can be kafka:// yet" (also --timeouts and
//     --dead-letter; OUTPUT's name)
//   "--kafka-changelog needs --state rocksdb:DIR", "--kafka-changelog
//     cannot be used with --watch or --migrate", "--kafka-changelog needs
//     --parallelism 1"
[[nodiscard]] absl::Status ParseKafkaFlags(const GivenFlags& given,
                                           std::string_view output_flag,
                                           const RunOptions& options,
                                           KafkaRunOptions& kafka);

}  // namespace cep
