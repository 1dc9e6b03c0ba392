// RunPatternFile: the event-time run of a pattern file over JSON lines. See
// cep/run.hpp for the semantics.

#include "cep/run.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <istream>
#include <limits>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "cep/compiler.hpp"
#include "cep/dsl.hpp"
#include "cep/event.hpp"
#include "cep/match.hpp"
#include "cep/matcher.hpp"
#include "cep/nfa.hpp"
#include "cep/operator.hpp"
#include "cep/record_csv.hpp"
#include "cep/record_json.hpp"
#include "cep/runtime.hpp"
#include "cep/state.hpp"
#include "cep/time.hpp"

namespace cep {
namespace {

// absl::StrCat takes absl::string_view, which in Debian's abseil is not
// std::string_view; this takes both, and integers.
void AppendPart(std::string& out, std::string_view part) { out += part; }
template <std::integral T>
void AppendPart(std::string& out, T part) {
  out += std::to_string(part);
}
template <typename... Parts>
std::string Cat(const Parts&... parts) {
  std::string out;
  (AppendPart(out, parts), ...);
  return out;
}

// One pattern of the file, compiled. Not movable: the runtime points at the
// NFA.
struct CompiledPattern {
  const FilePattern* file_pattern;
  Nfa<Record> nfa;
  bool with_types;  // events carry "type" in the output
};

// Writes outputs as JSON lines, directly or, to sort them, at the end. The
// runtime calls it one call at a time (runtime.hpp).
class OutputSink final : public RuntimeSink<Record, Value> {
 public:
  OutputSink(const PatternFile& file,
             const std::vector<std::unique_ptr<CompiledPattern>>& patterns,
             RunOutputs& outputs, bool sort)
      : file_(file), patterns_(patterns), outputs_(outputs), sort_(sort) {}

  void OnMatch(size_t pattern, const Value& key, Match<Record> match,
               int64_t latency_ns) override {
    (void)latency_ns;
    ++matches_;
    WriteMatch(outputs_.matches, pattern, key, match, MatchKind::kMatch);
  }
  void OnTimeout(size_t pattern, const Value& key, Match<Record> partial,
                 Timestamp timeout_at, int64_t latency_ns) override {
    (void)timeout_at;
    (void)latency_ns;
    WriteMatch(outputs_.timeouts, pattern, key, partial, MatchKind::kTimeout);
  }
  void OnLate(const Record& record, Timestamp ts, uint64_t seq) override {
    (void)ts;
    if (outputs_.late == nullptr) return;
    line_.clear();
    AppendEventJson(line_, record, seq, file_.schemas().size() > 1);
    Write(outputs_.late);
  }

  // Input lines skipped under OnError::kSkip, verbatim.
  void DeadLetter(std::string_view raw) {
    if (outputs_.dead_letter == nullptr) return;
    line_.assign(raw);
    Write(outputs_.dead_letter);
  }

  // Matches so far; read by the reading thread for progress, so atomic.
  uint64_t matches() const { return matches_.load(std::memory_order_relaxed); }

  // Writes the sorted outputs (sort_output) and flushes every stream.
  absl::Status Close() {
    for (auto& [stream, lines] : sorted_) {
      std::sort(lines.begin(), lines.end());
      for (const std::string& line : lines) {
        stream->write(line.data(), static_cast<std::streamsize>(line.size()));
      }
    }
    sorted_.clear();
    for (std::ostream* out : {outputs_.matches, outputs_.timeouts,
                              outputs_.late, outputs_.dead_letter}) {
      if (out != nullptr && !out->flush()) {
        return absl::UnavailableError("cannot write the output");
      }
    }
    return absl::OkStatus();
  }

 private:
  void WriteMatch(std::ostream* out, size_t pattern, const Value& key,
                  const Match<Record>& match, MatchKind kind) {
    if (out == nullptr) return;
    const CompiledPattern& compiled = *patterns_[pattern];
    line_.clear();
    AppendMatchJson(line_, compiled.file_pattern->name, key, match, kind,
                    compiled.with_types);
    Write(out);
  }

  // Writes line_ plus a newline, or keeps it for sorting.
  void Write(std::ostream* out) {
    line_ += '\n';
    if (sort_) {
      sorted_[out].push_back(line_);
      return;
    }
    out->write(line_.data(), static_cast<std::streamsize>(line_.size()));
  }

  const PatternFile& file_;
  const std::vector<std::unique_ptr<CompiledPattern>>& patterns_;
  RunOutputs& outputs_;
  bool sort_;
  std::atomic<uint64_t> matches_{0};
  std::string line_;  // output line being built
  std::map<std::ostream*, std::vector<std::string>> sorted_;
};

class Runner {
 public:
  Runner(const PatternFile& file, std::string_view input_name,
         const RunOptions& options, RunOutputs& outputs)
      : file_(file),
        input_name_(input_name),
        options_(options),
        decoder_(file),
        csv_(file),
        sink_(file, patterns_, outputs, options.sort_output) {}

  absl::Status Start() {
    if (options_.time == TimeMode::kEvent) {
      for (const auto& schema : file_.schemas()) {
        if (!schema->time_field().has_value()) {
          return absl::InvalidArgumentError(
              Cat(file_.filename(), ": error: event type '", schema->name(),
                  "' has no time field; a run orders events by event time "
                  "(mark a timestamp field with 'time', or run with --time "
                  "processing)"));
        }
      }
    }
    if (file_.patterns().empty()) {
      return absl::InvalidArgumentError(
          Cat(file_.filename(), ": error: the file declares no pattern"));
    }
    std::vector<RuntimePattern<Record, Value>> runtime_patterns;
    for (const FilePattern& pattern : file_.patterns()) {
      absl::StatusOr<Nfa<Record>> nfa = CompilePattern(pattern.pattern);
      if (!nfa.ok()) {
        return absl::Status(
            nfa.status().code(),
            Cat(file_.filename(), ":", pattern.line, ": error: pattern '",
                pattern.name, "': ", std::string(nfa.status().message())));
      }
      patterns_.push_back(std::make_unique<CompiledPattern>(CompiledPattern{
          &pattern, *std::move(nfa), pattern.types.size() > 1}));
      runtime_patterns.emplace_back(
          &patterns_.back()->nfa,
          [&pattern](const Record& r) { return pattern.KeyOf(r); },
          [&pattern](const Record& r) { return pattern.Accepts(r); });
    }
    RuntimeOptions runtime_options;
    runtime_options.loop = options_.loop;
    runtime_options.max_out_of_orderness = options_.max_out_of_orderness;
    runtime_options.evaluator = options_.evaluator;
    runtime_options.trigger_interval = options_.trigger_interval;
    runtime_options.trigger_events = options_.trigger_events;
    runtime_options.commit_interval = options_.commit_interval;
    runtime_options.parallelism = options_.parallelism;
    absl::StatusOr<std::unique_ptr<Runtime<Record, Value>>> runtime =
        Runtime<Record, Value>::Create(std::move(runtime_patterns),
                                       runtime_options, sink_);
    if (!runtime.ok()) return runtime.status();
    runtime_ = *std::move(runtime);
    next_progress_ = SteadyClockNanos() + Nanos(options_.progress_interval);
    return absl::OkStatus();
  }

  // One line of input, without its newline; `line_no` counts from 1.
  absl::Status Line(std::string_view raw, size_t line_no) {
    const int64_t arrival = SteadyClockNanos();
    std::string_view line = raw;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find('\0') != std::string_view::npos) {
      return absl::InvalidArgumentError(Cat(
          input_name_, ":", line_no,
          ": error: the input is not text (it contains a NUL byte); "
          "expected ",
          options_.format == InputFormat::kCsv ? "CSV with a header row"
                                               : "one JSON object per line"));
    }
    if (IsBlankLine(line)) return absl::OkStatus();
    if (options_.format == InputFormat::kCsv && !csv_.has_header()) {
      if (absl::Status status = csv_.ReadHeader(line); !status.ok()) {
        return absl::InvalidArgumentError(
            Cat(input_name_, ":", line_no,
                ": error: header: ", std::string(status.message())));
      }
      return absl::OkStatus();
    }
    absl::StatusOr<Record> record = options_.format == InputFormat::kCsv
                                        ? csv_.Decode(line)
                                        : decoder_.Decode(line);
    if (!record.ok()) {
      if (options_.on_error == OnError::kStop) {
        return absl::InvalidArgumentError(
            Cat(input_name_, ":", line_no,
                ": error: ", std::string(record.status().message())));
      }
      ++errors_;
      sink_.DeadLetter(raw);
      return absl::OkStatus();
    }
    const Timestamp ts = TimeOf(*record);
    if (ts > max_ts_) max_ts_ = ts;
    absl::Status status = runtime_->Push(*std::move(record), ts, arrival);
    if (!status.ok()) {
      return absl::Status(status.code(),
                          Cat(input_name_, ":", line_no,
                              ": error: ", std::string(status.message())));
    }
    if (options_.progress && (line_no & 1023) == 0) ReportProgress();
    return absl::OkStatus();
  }

  // End of input: every waiting event, then every window closes.
  absl::StatusOr<RunStats> Finish() {
    absl::Status status = runtime_->Finish();
    if (!status.ok()) {
      return absl::Status(
          status.code(),
          Cat(input_name_, ": error: ", std::string(status.message())));
    }
    if (absl::Status closed = sink_.Close(); !closed.ok()) return closed;
    RuntimeStats runtime_stats = runtime_->stats();
    RunStats stats;
    stats.events = runtime_stats.events;
    stats.matches = runtime_stats.matches;
    stats.timeouts = runtime_stats.timeouts;
    stats.late = runtime_stats.late;
    stats.errors = errors_;
    stats.latency = runtime_stats.latency;
    for (const auto& pattern : patterns_) {
      stats.pattern_names.push_back(pattern->file_pattern->name);
    }
    stats.pattern_latency = std::move(runtime_stats.pattern_latency);
    return stats;
  }

 private:
  Timestamp TimeOf(const Record& record) {
    if (options_.time == TimeMode::kEvent) {
      return FromMillis(record.GetInt(*record.schema().time_field()));
    }
    // Processing time never goes back, so no event is late.
    const Timestamp now = std::chrono::time_point_cast<Duration>(
        std::chrono::system_clock::now());
    return std::max(now, max_ts_);
  }

  void ReportProgress() {
    const int64_t now = SteadyClockNanos();
    if (now < next_progress_) return;
    next_progress_ = now + Nanos(options_.progress_interval);
    RunProgress progress;
    progress.events = runtime_->stats().events;
    progress.matches = sink_.matches();
    const Timestamp watermark = runtime_->watermark();
    progress.watermark_lag =
        watermark > kMinWatermark ? max_ts_ - watermark : Duration(0);
    options_.progress(progress);
  }

  static int64_t Nanos(Duration d) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  }

  const PatternFile& file_;
  std::string_view input_name_;
  const RunOptions& options_;
  RecordDecoder decoder_;
  RecordCsvDecoder csv_;
  std::vector<std::unique_ptr<CompiledPattern>> patterns_;
  OutputSink sink_;
  std::unique_ptr<Runtime<Record, Value>> runtime_;
  Timestamp max_ts_ = kMinWatermark;
  uint64_t errors_ = 0;
  int64_t next_progress_ = 0;
};

}  // namespace

absl::StatusOr<RunStats> RunPatternFile(const PatternFile& file,
                                        std::istream& input,
                                        std::string_view input_name,
                                        const RunOptions& options,
                                        RunOutputs& outputs) {
  Runner runner(file, input_name, options, outputs);
  if (absl::Status status = runner.Start(); !status.ok()) return status;
  std::string line;
  size_t line_no = 0;
  while (std::getline(input, line)) {
    ++line_no;
    if (absl::Status status = runner.Line(line, line_no); !status.ok()) {
      return status;
    }
  }
  if (input.bad()) {
    return absl::UnavailableError(
        Cat(input_name, ": error: cannot read the input"));
  }
  return runner.Finish();
}

// ---- options as flags -------------------------------------------------------

absl::StatusOr<Duration> ParseDuration(std::string_view text) {
  auto invalid = [&] {
    return absl::InvalidArgumentError(
        Cat("'", text,
            "' is not a duration (an integer and a unit: 250ms, 10s, 5m, "
            "2h, 1d)"));
  };
  int64_t count = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  auto [unit, ec] = std::from_chars(begin, end, count);
  if (ec != std::errc() || unit == begin || count < 0) return invalid();
  const std::string_view suffix(unit, static_cast<size_t>(end - unit));
  int64_t scale = 0;
  if (suffix == "ms") {
    scale = 1;
  } else if (suffix == "s") {
    scale = 1000;
  } else if (suffix == "m") {
    scale = 60 * 1000;
  } else if (suffix == "h") {
    scale = 3600 * 1000;
  } else if (suffix == "d") {
    scale = 24 * 3600 * 1000;
  } else if (suffix.empty() && count == 0) {
    scale = 1;
  } else {
    return invalid();
  }
  int64_t millis = 0;
  if (__builtin_mul_overflow(count, scale, &millis)) return invalid();
  return Duration(millis);
}

absl::Status SetRunOption(std::string_view name, std::string_view value,
                          RunOptions& options) {
  if (name == "max-out-of-orderness") {
    absl::StatusOr<Duration> duration = ParseDuration(value);
    if (!duration.ok()) {
      return absl::InvalidArgumentError(
          Cat("--max-out-of-orderness: ",
              std::string(duration.status().message())));
    }
    options.max_out_of_orderness = *duration;
    return absl::OkStatus();
  }
  if (name == "on-error") {
    if (value == "stop") {
      options.on_error = OnError::kStop;
    } else if (value == "skip") {
      options.on_error = OnError::kSkip;
    } else {
      return absl::InvalidArgumentError(
          Cat("--on-error: '", value, "' is not stop or skip"));
    }
    return absl::OkStatus();
  }
  if (name == "format") {
    if (value == "jsonl") {
      options.format = InputFormat::kJsonl;
    } else if (value == "csv") {
      options.format = InputFormat::kCsv;
    } else {
      return absl::InvalidArgumentError(
          Cat("--format: '", value, "' is not jsonl or csv"));
    }
    return absl::OkStatus();
  }
  if (name == "time") {
    if (value == "event") {
      options.time = TimeMode::kEvent;
    } else if (value == "processing") {
      options.time = TimeMode::kProcessing;
    } else {
      return absl::InvalidArgumentError(
          Cat("--time: '", value, "' is not event or processing"));
    }
    return absl::OkStatus();
  }
  if (name == "sort-output") {
    if (value != "true" && value != "false") {
      return absl::InvalidArgumentError(
          Cat("--sort-output: '", value, "' is not true or false"));
    }
    options.sort_output = value == "true";
    return absl::OkStatus();
  }
  if (name == "loop") {
    absl::StatusOr<Loop> loop = ParseLoop(value);
    if (!loop.ok()) {
      return absl::InvalidArgumentError(
          Cat("--loop: ", std::string(loop.status().message())));
    }
    options.loop = *loop;
    return absl::OkStatus();
  }
  if (name == "trigger") {
    constexpr std::string_view kEvents = "events";
    if (value.size() > kEvents.size() &&
        value.substr(value.size() - kEvents.size()) == kEvents) {
      const std::string_view count =
          value.substr(0, value.size() - kEvents.size());
      size_t events = 0;
      auto [end, ec] =
          std::from_chars(count.data(), count.data() + count.size(), events);
      if (ec != std::errc() || end != count.data() + count.size() ||
          events == 0) {
        return absl::InvalidArgumentError(
            Cat("--trigger: '", value,
                "' is not a count of events such as 10000events"));
      }
      options.trigger_events = events;
      options.trigger_interval = Duration(0);
      return absl::OkStatus();
    }
    absl::StatusOr<Duration> duration = ParseDuration(value);
    if (!duration.ok() || *duration <= Duration(0)) {
      return absl::InvalidArgumentError(
          Cat("--trigger: '", value,
              "' is neither an interval (100ms, 1s) nor a count of events "
              "(10000events)"));
    }
    options.trigger_interval = *duration;
    options.trigger_events = 0;
    return absl::OkStatus();
  }
  if (name == "commit-interval") {
    absl::StatusOr<Duration> duration = ParseDuration(value);
    if (!duration.ok()) {
      return absl::InvalidArgumentError(
          Cat("--commit-interval: ", std::string(duration.status().message())));
    }
    options.commit_interval = *duration;
    return absl::OkStatus();
  }
  if (name == "parallelism") {
    size_t workers = 0;
    auto [end, ec] =
        std::from_chars(value.data(), value.data() + value.size(), workers);
    if (ec != std::errc() || end != value.data() + value.size() ||
        workers < 1 || workers > 256) {
      return absl::InvalidArgumentError(
          Cat("--parallelism: '", value, "' is not a number from 1 to 256"));
    }
    options.parallelism = workers;
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(Cat("unknown option '--", name, "'"));
}

absl::Status ParseRunOptions(const std::vector<std::string>& args,
                             RunOptions& options) {
  for (size_t arg_idx = 0; arg_idx < args.size(); ++arg_idx) {
    std::string_view arg = args[arg_idx];
    if (arg.substr(0, 2) != "--") {
      return absl::InvalidArgumentError(
          Cat("expected an option (--name VALUE), not '", arg, "'"));
    }
    std::string_view name = arg.substr(2);
    std::string_view value;
    if (const size_t eq = name.find('='); eq != std::string_view::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else if (name == "sort-output") {
      value = "true";  // a switch
    } else if (arg_idx + 1 < args.size()) {
      value = args[++arg_idx];
    } else {
      return absl::InvalidArgumentError(
          Cat("option '--", name, "' needs a value"));
    }
    if (absl::Status status = SetRunOption(name, value, options);
        !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

}  // namespace cep
