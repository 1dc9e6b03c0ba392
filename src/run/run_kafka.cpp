// KafkaRun, RunPatternKafka and ParseKafkaFlags: see cep/run_kafka.hpp. The
// input is a KafkaSource (kafka_source.hpp) run by RunSource
// (run_source.hpp), the output a KafkaOutput (kafka_sink.hpp).

#include "cep/run_kafka.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <streambuf>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "cep/dsl.hpp"
#include "cep/internal/status_macros.hpp"
#include "cep/run.hpp"

#include "../io/io_util.hpp"
#include "kafka_sink.hpp"
#include "kafka_source.hpp"
#include "kafka_url.hpp"
#include "run_source.hpp"

namespace cep {
namespace {

using io::Cat;

// The stream buffer behind the Kafka source's warnings: hands each complete
// line to KafkaRunOptions::report, without the "cep: " the source begins its
// lines with.
class ReportBuffer final : public std::streambuf {
 public:
  explicit ReportBuffer(std::function<void(std::string_view)> report)
      : report_(std::move(report)) {}

 private:
  int_type overflow(int_type c) override {
    if (traits_type::eq_int_type(c, traits_type::eof())) return 0;
    if (traits_type::to_char_type(c) != '\n') {
      line_ += traits_type::to_char_type(c);
      return c;
    }
    constexpr std::string_view kPrefix = "cep: ";
    std::string_view line = line_;
    if (line.substr(0, kPrefix.size()) == kPrefix) {
      line.remove_prefix(kPrefix.size());
    }
    report_(line);
    line_.clear();
    return c;
  }

  std::function<void(std::string_view)> report_;
  std::string line_;
};

absl::StatusOr<std::chrono::milliseconds> Millis(const GivenFlags& given,
                                                 std::string_view flag,
                                                 bool zero_allowed) {
  const std::string& text = given.find(flag)->second;
  absl::StatusOr<Duration> duration = ParseDuration(text);
  if (!duration.ok()) {
    return absl::InvalidArgumentError(
        Cat("--", flag, ": ", std::string(duration.status().message())));
  }
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(*duration);
  if (!zero_allowed && ms.count() <= 0) {
    return absl::InvalidArgumentError(
        Cat("--", flag, ": '", text, "' is not a positive duration"));
  }
  return ms;
}

// The value of `flag` when it is a kafka:// URL that parses, "" when it is
// not given or not a kafka:// URL.
absl::StatusOr<std::string> UrlOf(const GivenFlags& given,
                                  std::string_view flag) {
  const auto it = given.find(flag);
  if (it == given.end() || !run::IsKafkaUrl(it->second)) return "";
  if (absl::StatusOr<run::KafkaUrl> url = run::ParseKafkaUrl(it->second);
      !url.ok()) {
    return absl::InvalidArgumentError(
        Cat("--", flag, ": ", std::string(url.status().message())));
  }
  return it->second;
}

// --kafka-config's values, one KEY=VALUE a line.
absl::Status ParseConfigPairs(const std::string& lines,
                              KafkaRunOptions& kafka) {
  size_t start = 0;
  while (start <= lines.size()) {
    size_t end = lines.find('\n', start);
    if (end == std::string::npos) end = lines.size();
    const std::string pair = lines.substr(start, end - start);
    start = end + 1;
    const size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      return absl::InvalidArgumentError(
          Cat("--kafka-config: '", pair, "' is not key=value"));
    }
    kafka.config.emplace_back(pair.substr(0, eq), pair.substr(eq + 1));
  }
  return absl::OkStatus();
}

}  // namespace

struct KafkaRun::Impl {
  const PatternFile* file = nullptr;
  const RunOptions* options = nullptr;
  std::unique_ptr<ReportBuffer> report_buffer;
  std::unique_ptr<std::ostream> report;
  std::unique_ptr<run::KafkaSource> source;
  std::unique_ptr<run::KafkaOutput> output;
};

KafkaRun::KafkaRun(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KafkaRun::~KafkaRun() = default;

absl::StatusOr<std::unique_ptr<KafkaRun>> KafkaRun::Open(
    const PatternFile& file, KafkaRunOptions kafka, const RunOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->file = &file;
  impl->options = &options;
  if (kafka.report) {
    impl->report_buffer =
        std::make_unique<ReportBuffer>(std::move(kafka.report));
    impl->report = std::make_unique<std::ostream>(impl->report_buffer.get());
  }
  if (!kafka.input.empty()) {
    if (kafka.group.empty()) {
      return absl::InvalidArgumentError("--input kafka:// needs --group G");
    }
    run::KafkaSourceOptions source;
    CEP_ASSIGN_OR_RETURN(source.url, run::ParseKafkaUrl(kafka.input));
    source.group = kafka.group;
    source.csv_header = kafka.csv_header;
    source.config = kafka.config;
    source.idle_timeout = kafka.idle_timeout;
    source.stop_at_end = kafka.stop_at_end;
    source.timeout = kafka.timeout;
    source.changelog = kafka.changelog;
    source.run = &options;
    source.warnings = impl->report.get();
    CEP_ASSIGN_OR_RETURN(impl->source,
                         run::KafkaSource::Open(file, std::move(source)));
  }
  if (!kafka.output.empty()) {
    run::KafkaOutputOptions output;
    CEP_ASSIGN_OR_RETURN(output.url, run::ParseKafkaUrl(kafka.output));
    output.config = std::move(kafka.config);
    output.timeout = kafka.timeout;
    CEP_ASSIGN_OR_RETURN(impl->output,
                         run::KafkaOutput::Open(std::move(output)));
  }
  return std::unique_ptr<KafkaRun>(new KafkaRun(std::move(impl)));
}

bool KafkaRun::has_input() const { return impl_->source != nullptr; }

std::string_view KafkaRun::input_name() const {
  return impl_->source != nullptr ? impl_->source->name() : "";
}

std::ostream* KafkaRun::output() {
  return impl_->output != nullptr ? &impl_->output->stream() : nullptr;
}

absl::StatusOr<RunStats> KafkaRun::Run(RunOutputs& outputs) {
  if (impl_->source == nullptr) {
    return absl::FailedPreconditionError("no Kafka input to run over");
  }
  return run::RunSource(*impl_->file, *impl_->source, impl_->source->name(),
                        *impl_->options, outputs);
}

uint64_t KafkaRun::split_keys() const {
  return impl_->source != nullptr ? impl_->source->split_keys() : 0;
}

absl::StatusOr<RunStats> RunPatternKafka(const PatternFile& file,
                                         KafkaRunOptions kafka,
                                         const RunOptions& options,
                                         RunOutputs& outputs) {
  CEP_ASSIGN_OR_RETURN(std::unique_ptr<KafkaRun> run,
                       KafkaRun::Open(file, std::move(kafka), options));
  if (run->output() != nullptr) outputs.matches = run->output();
  return run->Run(outputs);
}

absl::Status ParseKafkaFlags(const GivenFlags& given,
                             std::string_view output_flag,
                             const RunOptions& options,
                             KafkaRunOptions& kafka) {
  const auto has = [&given](std::string_view flag) {
    return given.find(flag) != given.end();
  };
  CEP_ASSIGN_OR_RETURN(kafka.input, UrlOf(given, "input"));
  CEP_ASSIGN_OR_RETURN(kafka.output, UrlOf(given, output_flag));
  for (const char* flag : {"timeouts", "late", "dead-letter"}) {
    if (const auto it = given.find(flag);
        it != given.end() && run::IsKafkaUrl(it->second)) {
      return absl::InvalidArgumentError(
          Cat("--", flag, ": only --", output_flag, " can be kafka:// yet"));
    }
  }
  if (kafka.input.empty()) {
    for (const char* flag : {"group", "idle-timeout", "kafka-stop-at-end",
                             "kafka-csv-header", "kafka-changelog"}) {
      if (has(flag)) {
        return absl::InvalidArgumentError(
            Cat("--", flag, " needs --input kafka://HOST:PORT/TOPIC"));
      }
    }
  } else if (!has("group")) {
    return absl::InvalidArgumentError("--input kafka:// needs --group G");
  }
  if (kafka.input.empty() && kafka.output.empty()) {
    for (const char* flag : {"kafka-config", "kafka-timeout"}) {
      if (has(flag)) {
        return absl::InvalidArgumentError(
            Cat("--", flag, " needs a kafka:// --input or --", output_flag));
      }
    }
  }
  if (has("group")) kafka.group = given.find("group")->second;
  if (has("kafka-csv-header")) {
    kafka.csv_header = given.find("kafka-csv-header")->second;
  }
  const bool csv = options.format == InputFormat::kCsv;
  if (!kafka.input.empty() && csv && kafka.csv_header.empty()) {
    return absl::InvalidArgumentError(
        "--input kafka:// with --format csv needs --kafka-csv-header (the "
        "messages are rows without a header)");
  }
  if (!csv && has("kafka-csv-header")) {
    return absl::InvalidArgumentError("--kafka-csv-header needs --format csv");
  }
  if (has("kafka-config")) {
    CEP_RETURN_IF_ERROR(
        ParseConfigPairs(given.find("kafka-config")->second, kafka));
  }
  if (has("idle-timeout")) {
    CEP_ASSIGN_OR_RETURN(kafka.idle_timeout,
                         Millis(given, "idle-timeout", /*zero_allowed=*/true));
  }
  if (has("kafka-timeout")) {
    CEP_ASSIGN_OR_RETURN(kafka.timeout, Millis(given, "kafka-timeout",
                                               /*zero_allowed=*/false));
  }
  kafka.stop_at_end = has("kafka-stop-at-end");
  kafka.changelog = has("kafka-changelog");
  if (kafka.changelog && options.state_dir.empty()) {
    return absl::InvalidArgumentError(
        "--kafka-changelog needs --state rocksdb:DIR");
  }
  if (kafka.changelog && (options.migrate || !options.watch_files.empty())) {
    return absl::InvalidArgumentError(
        "--kafka-changelog cannot be used with --watch or --migrate");
  }
  if (kafka.changelog && options.parallelism > 1) {
    return absl::InvalidArgumentError(
        "--kafka-changelog needs --parallelism 1");
  }
  return absl::OkStatus();
}

}  // namespace cep
