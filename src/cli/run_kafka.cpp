// The Kafka flags of `cep run`: see run_kafka.hpp.

#include "run_kafka.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

#include "cep/internal/status_macros.hpp"
#include "cep/run.hpp"

namespace cep::cli {
namespace {

absl::StatusOr<std::chrono::milliseconds> Millis(const Invocation& args,
                                                 std::string_view flag,
                                                 bool zero_allowed) {
  const std::optional<std::string> text = args.Get(flag);
  absl::StatusOr<Duration> duration = ParseDuration(*text);
  if (!duration.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", std::string(flag), ": ",
                     std::string(duration.status().message())));
  }
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(*duration);
  if (!zero_allowed && ms.count() <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", std::string(flag), ": '", *text, "' is not a positive duration"));
  }
  return ms;
}

absl::StatusOr<std::optional<run::KafkaUrl>> UrlOf(const Invocation& args,
                                                   std::string_view flag) {
  const std::optional<std::string> text = args.Get(flag);
  if (!text.has_value() || !run::IsKafkaUrl(*text)) return std::nullopt;
  absl::StatusOr<run::KafkaUrl> url = run::ParseKafkaUrl(*text);
  if (!url.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", std::string(flag), ": ", std::string(url.status().message())));
  }
  return *std::move(url);
}

}  // namespace

absl::Status ParseKafkaFlags(const Invocation& args, KafkaFlags& flags) {
  CEP_ASSIGN_OR_RETURN(flags.input, UrlOf(args, "input"));
  CEP_ASSIGN_OR_RETURN(flags.output, UrlOf(args, "output"));
  for (const char* flag : {"timeouts", "late", "dead-letter"}) {
    const std::optional<std::string> text = args.Get(flag);
    if (text.has_value() && run::IsKafkaUrl(*text)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", flag, ": only --output can be kafka:// yet"));
    }
  }
  if (!flags.input.has_value()) {
    for (const char* flag : {"group", "idle-timeout", "kafka-stop-at-end",
                             "kafka-csv-header", "kafka-changelog"}) {
      if (args.Has(flag)) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", flag, " needs --input kafka://HOST:PORT/TOPIC"));
      }
    }
  } else if (!args.Has("group")) {
    return absl::InvalidArgumentError("--input kafka:// needs --group G");
  }
  if (!flags.input.has_value() && !flags.output.has_value()) {
    for (const char* flag : {"kafka-config", "kafka-timeout"}) {
      if (args.Has(flag)) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", flag, " needs a kafka:// --input or --output"));
      }
    }
  }
  flags.group = args.Get("group").value_or("");
  flags.csv_header = args.Get("kafka-csv-header").value_or("");
  const bool csv = args.Get("format").value_or("jsonl") == "csv";
  if (flags.input.has_value() && csv && flags.csv_header.empty()) {
    return absl::InvalidArgumentError(
        "--input kafka:// with --format csv needs --kafka-csv-header (the "
        "messages are rows without a header)");
  }
  if (!csv && args.Has("kafka-csv-header")) {
    return absl::InvalidArgumentError("--kafka-csv-header needs --format csv");
  }
  if (const std::optional<std::string> config = args.Get("kafka-config")) {
    size_t start = 0;
    while (start <= config->size()) {
      size_t end = config->find('\n', start);
      if (end == std::string::npos) end = config->size();
      const std::string pair = config->substr(start, end - start);
      start = end + 1;
      const size_t eq = pair.find('=');
      if (eq == std::string::npos || eq == 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("--kafka-config: '", pair, "' is not key=value"));
      }
      flags.config.emplace_back(pair.substr(0, eq), pair.substr(eq + 1));
    }
  }
  if (args.Has("idle-timeout")) {
    CEP_ASSIGN_OR_RETURN(flags.idle_timeout,
                         Millis(args, "idle-timeout", /*zero_allowed=*/true));
  }
  CEP_ASSIGN_OR_RETURN(flags.timeout,
                       Millis(args, "kafka-timeout", /*zero_allowed=*/false));
  flags.stop_at_end = args.Has("kafka-stop-at-end");
  flags.changelog = args.Has("kafka-changelog");
  if (flags.changelog && !args.Has("state")) {
    return absl::InvalidArgumentError(
        "--kafka-changelog needs --state rocksdb:DIR");
  }
  if (flags.changelog && (args.Has("watch") || args.Has("migrate"))) {
    return absl::InvalidArgumentError(
        "--kafka-changelog cannot be used with --watch or --migrate");
  }
  if (flags.changelog && args.Get("parallelism").value_or("1") != "1") {
    return absl::InvalidArgumentError(
        "--kafka-changelog needs --parallelism 1");
  }
  return absl::OkStatus();
}

absl::Status OpenKafka(const KafkaFlags& flags, const PatternFile& file,
                       const RunOptions& options, std::ostream& warnings,
                       KafkaRun& kafka) {
  if (flags.input.has_value()) {
    run::KafkaSourceOptions source;
    source.url = *flags.input;
    source.group = flags.group;
    source.csv_header = flags.csv_header;
    source.config = flags.config;
    source.idle_timeout = flags.idle_timeout;
    source.stop_at_end = flags.stop_at_end;
    source.timeout = flags.timeout;
    source.changelog = flags.changelog;
    source.run = &options;
    source.warnings = &warnings;
    CEP_ASSIGN_OR_RETURN(kafka.source,
                         run::KafkaSource::Open(file, std::move(source)));
  }
  if (flags.output.has_value()) {
    run::KafkaOutputOptions output;
    output.url = *flags.output;
    output.config = flags.config;
    output.timeout = flags.timeout;
    CEP_ASSIGN_OR_RETURN(kafka.output,
                         run::KafkaOutput::Open(std::move(output)));
  }
  return absl::OkStatus();
}

std::vector<FlagSpec> KafkaFlagSpecs() {
  return {
      {.name = "group",
       .value_name = "G",
       .help = "with --input kafka://: the consumer group; processes of one "
               "group share the topic's partitions"},
      {.name = "kafka-config",
       .value_name = "KEY=VALUE",
       .help = "a librdkafka property for the Kafka input and output (may "
               "be repeated); enable.auto.commit cannot be set",
       .repeatable = true},
      {.name = "idle-timeout",
       .value_name = "DURATION",
       .default_value = "0",
       .help = "with --input kafka://: a partition without messages for "
               "this long stops holding back the watermark (0: never)"},
      {.name = "kafka-csv-header",
       .value_name = "LINE",
       .help = "with --input kafka:// and --format csv: the header row of "
               "the messages, which are rows without one"},
      {.name = "kafka-changelog",
       .help = "with --input kafka:// and --state: the state follows its "
               "partitions to other processes of the group through the "
               "compacted topic G-changelog (which must exist, with the "
               "input's partition count); needs --parallelism 1"},
      {.name = "kafka-stop-at-end",
       .help = "with --input kafka://: end the run (as at the end of a file) "
               "once every assigned partition reached the end it had when "
               "assigned"},
      {.name = "kafka-timeout",
       .value_name = "DURATION",
       .default_value = "30s",
       .help = "how long Kafka brokers may take to answer (metadata, "
               "partition assignment, acknowledgements) before the run "
               "fails"},
  };
}

}  // namespace cep::cli
