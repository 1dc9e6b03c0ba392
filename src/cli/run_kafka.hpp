// src/cli/run_kafka.hpp — the Kafka flags of `cep run`: --input
// kafka://HOST:PORT[,HOST:PORT]/TOPIC with --group, --kafka-config,
// --idle-timeout, --kafka-stop-at-end and --kafka-timeout, and --output
// kafka://HOST:PORT/TOPIC. See src/run/kafka_source.hpp and kafka_sink.hpp.
//
// Example (in RunRun):
//   KafkaFlags flags;
//   if (absl::Status s = ParseKafkaFlags(args, flags); !s.ok()) -> exit 2
//   KafkaRun kafka;
//   if (absl::Status s = OpenKafka(flags, file, options, err, kafka); ...)
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"

#include "cep/dsl.hpp"
#include "cep/run.hpp"

#include "../run/kafka_sink.hpp"
#include "../run/kafka_source.hpp"
#include "../run/kafka_url.hpp"
#include "args.hpp"

namespace cep::cli {

// The Kafka flags, checked.
struct KafkaFlags {
  std::optional<run::KafkaUrl> input;   // --input kafka://...
  std::optional<run::KafkaUrl> output;  // --output kafka://...
  std::string group;
  std::string csv_header;  // --kafka-csv-header
  std::vector<std::pair<std::string, std::string>> config;
  std::chrono::milliseconds idle_timeout{0};
  bool stop_at_end = false;
  std::chrono::milliseconds timeout{30000};
  bool changelog = false;  // --kafka-changelog
};

// Reads the flags. Errors (command-line use, exit 2): kInvalidArgument
// "--input: 'URL': REASON" (kafka_url.hpp), "--input kafka:// needs --group
// G", "--kafka-config: 'TEXT' is not key=value", "--kafka-config needs a
// kafka:// --input or --output" (and --kafka-timeout), "--idle-timeout: ..."
// and
// "--kafka-timeout: ..." (durations; a zero timeout), "--group,
// --idle-timeout and --kafka-stop-at-end need --input kafka://...",
// "--timeouts, --late and --dead-letter cannot be kafka:// yet",
// "--kafka-changelog needs --state rocksdb:DIR", "--kafka-changelog
// cannot be used with --watch or --migrate" and "--kafka-changelog needs
// --parallelism 1".
[[nodiscard]] absl::Status ParseKafkaFlags(const Invocation& args,
                                           KafkaFlags& flags);

// The open Kafka input and output of a run.
struct KafkaRun {
  std::unique_ptr<run::KafkaSource> source;
  std::unique_ptr<run::KafkaOutput> output;
};

// Connects what the flags name. Errors (exit 1): those of
// KafkaSource::Open and KafkaOutput::Open.
[[nodiscard]] absl::Status OpenKafka(const KafkaFlags& flags,
                                     const PatternFile& file,
                                     const RunOptions& options,
                                     std::ostream& warnings, KafkaRun& kafka);

// The flag table entries, for RunCommand().
std::vector<FlagSpec> KafkaFlagSpecs();

}  // namespace cep::cli
