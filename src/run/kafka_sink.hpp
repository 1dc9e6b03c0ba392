// KafkaOutput: an output stream of `cep run` that writes each line to a
// Kafka topic as one message (`--output kafka://HOST:PORT/TOPIC`): the match
// JSON line as the value (without its newline), the match's "key" as the
// message key, so that a key's matches stay in one partition and in order.
// Internal to src/run/: not installed, not under include/.
//
// The producer is idempotent (enable.idempotence=true: a retry after a lost
// acknowledgement does not write the message twice). flush() on the stream
// waits until every message written so far is acknowledged, and fails the
// stream (badbit: the run's "cannot write the output") when one could not
// be delivered or the wait passed the timeout; the run flushes its outputs
// before every checkpoint and at the end, so a checkpoint never records a
// position beyond matches that are not in the topic.
//
// Guarantee: at least once. A run that crashes after writing matches and
// before its next checkpoint writes them again when it resumes; with
// --match-ids each line carries an "id" that is the same both times, so a
// consumer that drops ids it has seen gets each match exactly once. Without
// transactions (librdkafka 2.0.2's mock cluster has none to test against)
// the repeats cannot be fenced in the topic itself.
//
// Example:
//   CEP_ASSIGN_OR_RETURN(std::unique_ptr<run::KafkaOutput> out,
//                        run::KafkaOutput::Open(options));
//   outputs.matches = &out->stream();
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <ostream>
#include <streambuf>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

#include "kafka_url.hpp"

struct rd_kafka_s;

namespace cep::run {

struct KafkaOutputOptions {
  KafkaUrl url;
  // librdkafka properties (--kafka-config key=value), after ours.
  std::vector<std::pair<std::string, std::string>> config;
  // How long the brokers may take: to answer at the start, and to
  // acknowledge what a flush waits for (--kafka-timeout). Default: 30 s.
  std::chrono::milliseconds timeout{30000};
};

// The raw JSON text of the "key" member of a match line
// ({"pattern":"NAME","key":KEY,...}): a string's characters between its
// quotes (escapes kept as written), a number's digits; empty for null or
// when the line has another shape.
std::string_view MatchKeyOf(std::string_view line);

class KafkaOutput final : private std::streambuf {
 public:
  // Connects and checks that the topic exists.
  // Errors: kInvalidArgument for a bad --kafka-config; kUnavailable
  // "kafka://...: error: no broker answered within Ns (--kafka-timeout)";
  // kNotFound "kafka://...: error: no topic 'T'".
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<KafkaOutput>> Open(
      KafkaOutputOptions options);
  ~KafkaOutput() override;
  KafkaOutput(const KafkaOutput&) = delete;
  KafkaOutput& operator=(const KafkaOutput&) = delete;

  std::ostream& stream() { return stream_; }
  // Messages acknowledged by the brokers, and those that failed.
  uint64_t delivered() const { return delivered_; }
  uint64_t failed() const { return failed_; }

  // The delivery report of one message (librdkafka's callback).
  void OnDelivery(bool ok);

 private:
  explicit KafkaOutput(KafkaOutputOptions options);
  absl::Status Connect();
  // std::streambuf: lines are collected in line_ and produced at '\n'.
  int_type overflow(int_type c) override;
  std::streamsize xsputn(const char* data, std::streamsize size) override;
  int sync() override;
  void Produce();

  KafkaOutputOptions options_;
  std::string name_;
  rd_kafka_s* producer_ = nullptr;
  std::ostream stream_;
  std::string line_;
  bool failed_produce_ = false;
  uint64_t delivered_ = 0;
  uint64_t failed_ = 0;
};

}  // namespace cep::run
