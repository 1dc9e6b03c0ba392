// `cep run FILE... [--input FILE|-] [--output FILE|-] ...`: runs the patterns
// of pattern files over JSON lines or CSV (RunPatternFile, cep/run.hpp) and
// prints a summary on stderr. SIGINT and SIGTERM stop it cleanly.

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include <sys/resource.h>
#include <unistd.h>

#include "cep/dsl.hpp"
#include "cep/histogram.hpp"
#include "cep/record_json.hpp"
#include "cep/run.hpp"
#include "cep/run_files.hpp"
#include "cep/run_kafka.hpp"

#include "args.hpp"
#include "commands.hpp"
#include "run_kafka.hpp"

namespace cep::cli {
namespace {

// The flags that set RunOptions; their values go through SetRunOption, the
// same path the data-driven tests take.
constexpr const char* kRunOptionFlags[] = {"format",
                                           "time",
                                           "max-out-of-orderness",
                                           "on-error",
                                           "max-line-bytes",
                                           "loop",
                                           "trigger",
                                           "commit-interval",
                                           "parallelism",
                                           "state",
                                           "checkpoint-every",
                                           "keep-checkpoints",
                                           "rate",
                                           "state-ttl",
                                           "state-cache",
                                           "max-partial-matches",
                                           "overflow",
                                           "evaluation",
                                           "metrics-port",
                                           "metrics-address",
                                           "watch-interval"};

// Set by SIGINT and SIGTERM: the run stops cleanly (RunOptions::stop).
std::atomic<bool> g_stop{false};

extern "C" void RequestStop(int) { g_stop.store(true); }

// Routes SIGINT and SIGTERM to g_stop for the life of the object. Without
// SA_RESTART, so that a read from a pipe returns when a signal comes.
class StopOnSignals {
 public:
  StopOnSignals() {
    struct sigaction action = {};
    action.sa_handler = RequestStop;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &old_int_);
    sigaction(SIGTERM, &action, &old_term_);
  }
  ~StopOnSignals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  StopOnSignals(const StopOnSignals&) = delete;
  StopOnSignals& operator=(const StopOnSignals&) = delete;

 private:
  struct sigaction old_int_ = {};
  struct sigaction old_term_ = {};
};

// The pattern files named on the command line, as one (MergePatternFiles),
// or nullopt after printing why.
std::optional<PatternFile> LoadAll(const std::vector<std::string>& paths,
                                   std::ostream& err) {
  std::vector<PatternFile> files;
  for (const std::string& path : paths) {
    std::optional<PatternFile> file = LoadOrReport(path, err);
    if (!file) return std::nullopt;
    files.push_back(*std::move(file));
  }
  absl::StatusOr<PatternFile> merged = MergePatternFiles(std::move(files));
  if (!merged.ok()) {
    err << merged.status().message() << "\n";
    return std::nullopt;
  }
  return *std::move(merged);
}

// --stats-json: the run's numbers as one JSON object, for the benchmark
// harness: counts, wall and CPU time, peak memory, detection latency.
std::string StatsJson(const RunStats& stats, double seconds) {
  struct rusage usage = {};
  getrusage(RUSAGE_SELF, &usage);
  auto to_seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  const double cpu = to_seconds(usage.ru_utime) + to_seconds(usage.ru_stime);
  const double events = static_cast<double>(stats.events);
  std::string out = absl::StrFormat(
      "{\"events\":%d,\"matches\":%d,\"timeouts\":%d,\"late\":%d,"
      "\"errors\":%d,\"expired_keys\":%d,\"evicted_partial_matches\":%d,"
      "\"stopped\":%s,\"wall_s\":%.6f,\"events_per_s\":%.1f,"
      "\"cpu_s\":%.6f,\"cpu_ns_per_event\":%.1f,\"max_rss_kb\":%d",
      stats.events, stats.matches, stats.timeouts, stats.late, stats.errors,
      stats.expired_keys, stats.evicted_partial_matches,
      stats.stopped ? "true" : "false", seconds,
      seconds > 0 ? events / seconds : 0, cpu,
      events > 0 ? cpu * 1e9 / events : 0, usage.ru_maxrss);
  const LatencyHistogram& latency = stats.latency;
  absl::StrAppendFormat(&out, ",\"latency_count\":%d", latency.count());
  for (const auto& [name, percent] :
       {std::pair{"p50", 50.0}, std::pair{"p90", 90.0}, std::pair{"p99", 99.0},
        std::pair{"p999", 99.9}}) {
    absl::StrAppendFormat(&out, ",\"latency_%s_ns\":%d", name,
                          latency.Percentile(percent));
  }
  absl::StrAppendFormat(&out, ",\"latency_max_ns\":%d", latency.max());
  absl::StrAppendFormat(&out,
                        ",\"event_time_p50_ns\":%d,\"event_time_p99_ns\":%d,"
                        "\"event_time_max_ns\":%d",
                        stats.event_time.Percentile(50),
                        stats.event_time.Percentile(99),
                        stats.event_time.max());
  // The CDF: the latency at each of these percentiles.
  out += ",\"latency_cdf\":[";
  bool first = true;
  for (double percent :
       {1.0, 5.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 95.0,
        98.0, 99.0, 99.5, 99.9, 99.99, 100.0}) {
    absl::StrAppendFormat(&out, "%s[%g,%d]", first ? "" : ",", percent,
                          latency.Percentile(percent));
    first = false;
  }
  out += "]";
  // Partial matches the cap dropped, per pattern.
  out += ",\"evicted_by_pattern\":{";
  for (size_t idx = 0;
       idx < stats.pattern_evicted.size() && idx < stats.pattern_names.size();
       ++idx) {
    if (idx > 0) out += ",";
    AppendJsonString(out, stats.pattern_names[idx]);
    absl::StrAppend(&out, ":", stats.pattern_evicted[idx]);
  }
  // How each pattern's partial matches were kept.
  out += "},\"strategy_by_pattern\":{";
  for (size_t idx = 0;
       idx < stats.pattern_shared.size() && idx < stats.pattern_names.size();
       ++idx) {
    if (idx > 0) out += ",";
    AppendJsonString(out, stats.pattern_names[idx]);
    out += stats.pattern_shared[idx] ? ":\"shared\"" : ":\"per-run\"";
  }
  absl::StrAppend(&out, "},\"reclaimed_nodes\":", stats.reclaimed_nodes,
                  ",\"reloads\":", stats.reloads,
                  ",\"rejected_reloads\":", stats.rejected_reloads, "}\n");
  return out;
}

// Output files by path, so that two flags naming one file (/dev/null)
// share a stream. Streams come out unopened; OpenAll() creates the files,
// once the run has started (RunOutputs::open), so that a run refused before
// (a locked state directory, a bad pattern) creates none.
class OutputFiles {
 public:
  // `append`: open files for appending (durable state: the run truncates
  // them itself).
  OutputFiles(std::ostream& stdout_stream, bool append)
      : stdout_(stdout_stream), append_(append) {}

  // The stream for `path` ("-" is stdout), to be opened by OpenAll().
  std::ostream* Add(const std::string& path) {
    if (path == "-") return &stdout_;
    auto it = files_.find(path);
    if (it != files_.end()) return it->second.get();
    return files_.emplace(path, std::make_unique<std::ofstream>())
        .first->second.get();
  }

  absl::Status OpenAll() {
    for (auto& [path, file] : files_) {
      file->open(path,
                 append_ ? std::ios::binary | std::ios::app : std::ios::binary);
      if (!file->is_open()) {
        return absl::UnavailableError(absl::StrCat("cep: error: cannot write ",
                                                   Quote(path), ": ",
                                                   std::strerror(errno)));
      }
    }
    return absl::OkStatus();
  }

 private:
  std::ostream& stdout_;
  bool append_;
  std::map<std::string, std::unique_ptr<std::ofstream>> files_;
};

// The output flags of `cep run`.
constexpr const char* kOutputFlags[] = {"output", "timeouts", "late",
                                        "dead-letter", "stats-json"};

// Warnings, one line each, for flags given that do nothing with the others.
std::string IneffectiveFlags(const Invocation& args,
                             const RunOptions& options) {
  struct Rule {
    const char* flag;
    bool effective;
    const char* needs;
  };
  const bool durable = !options.state_dir.empty();
  const Rule rules[] = {
      {"trigger", options.loop == Loop::kMicrobatch, "--loop microbatch"},
      {"commit-interval", options.loop == Loop::kRealtime, "--loop realtime"},
      {"checkpoint-every", durable, "--state rocksdb:DIR"},
      {"keep-checkpoints", durable, "--state rocksdb:DIR"},
      {"state-cache", durable, "--state rocksdb:DIR"},
      {"migrate", durable, "--state rocksdb:DIR"},
      {"watch-interval", args.Has("watch"), "--watch"},
      {"dead-letter", options.on_error == OnError::kSkip, "--on-error skip"},
  };
  std::string out;
  for (const Rule& rule : rules) {
    if (!rule.effective && args.Has(rule.flag)) {
      absl::StrAppend(&out, "cep: warning: --", rule.flag,
                      " has no effect without ", rule.needs, "\n");
    }
  }
  return out;
}

std::string ProgressLine(const RunProgress& p) {
  return absl::StrFormat("cep: %d events, %d matches, watermark lag %s",
                         p.events, p.matches, FormatDuration(p.watermark_lag));
}

// The last lines on stderr: counts, throughput, detection latency overall
// and, with several patterns, per pattern.
std::string Summary(const RunStats& stats, double seconds) {
  std::string out = absl::StrFormat(
      "cep: %d events, %d matches, %d timeouts, %d late, %d errors in %.2fs "
      "(%.0f events/s)\n",
      stats.events, stats.matches, stats.timeouts, stats.late, stats.errors,
      seconds, seconds > 0 ? static_cast<double>(stats.events) / seconds : 0);
  for (const std::string& migration : stats.migrations) {
    absl::StrAppend(&out, "cep: --migrate: ", migration, "\n");
  }
  if (stats.reloads > 0 || stats.rejected_reloads > 0) {
    absl::StrAppend(&out, "cep: --watch: ", stats.reloads, " reloaded, ",
                    stats.rejected_reloads, " refused\n");
  }
  if (stats.event_time.count() > 0) {
    absl::StrAppend(&out, "cep: time per event ", stats.event_time.Summary(),
                    "\n");
  }
  if (stats.expired_keys > 0) {
    absl::StrAppend(&out, "cep: ", stats.expired_keys,
                    " keys expired by --state-ttl\n");
  }
  if (stats.evicted_partial_matches > 0) {
    absl::StrAppend(&out, "cep: ", stats.evicted_partial_matches,
                    " partial matches evicted by the partial-match cap:");
    for (size_t idx = 0;
         idx < stats.pattern_evicted.size() && idx < stats.pattern_names.size();
         ++idx) {
      if (stats.pattern_evicted[idx] == 0) continue;
      absl::StrAppend(&out, " ", stats.pattern_names[idx], " ",
                      stats.pattern_evicted[idx]);
    }
    out += "\n";
  }
  if (stats.matches == 0) return out;
  absl::StrAppend(&out, "cep: detection latency ", stats.latency.Summary(),
                  "\n");
  if (stats.pattern_names.size() > 1) {
    for (size_t idx = 0; idx < stats.pattern_names.size(); ++idx) {
      const LatencyHistogram& latency = stats.pattern_latency[idx];
      if (latency.count() == 0) continue;
      absl::StrAppend(&out, "cep:   ", stats.pattern_names[idx], ": ",
                      latency.count(), " matches, ", latency.Summary(), "\n");
    }
  }
  return out;
}

int RunRun(const CommandContext& context) {
  RunOptions options;
  for (const char* flag : kRunOptionFlags) {
    if (std::optional<std::string> value = context.args.Get(flag)) {
      if (absl::Status status = SetRunOption(flag, *value, options);
          !status.ok()) {
        return UsageError(context.program, context.err,
                          std::string(status.message()));
      }
    }
  }
  if (context.args.Has("sort-output")) options.sort_output = true;
  if (context.args.Has("match-ids")) options.match_ids = true;
  if (context.args.Has("latency")) options.match_latency = true;
  if (context.args.Has("migrate")) options.migrate = true;
  if (context.args.Has("watch")) {
    options.watch_files = context.args.positionals;
    options.watch_report = [&err = context.err](const std::string& line) {
      err << "cep: " << line << "\n";
      err.flush();
    };
  }
  const bool durable = !options.state_dir.empty();
  if (durable && options.sort_output) {
    return UsageError(context.program, context.err,
                      "--state rocksdb: cannot be combined with --sort-output");
  }
  KafkaRunOptions kafka_options;
  if (absl::Status status =
          ParseKafkaFlags(context.args.flags, "output", options, kafka_options);
      !status.ok()) {
    return UsageError(context.program, context.err,
                      std::string(status.message()));
  }
  // Before anything is opened: no output may overwrite an input or another
  // output (Kafka topics are no files).
  {
    std::vector<RunPath> inputs;
    if (std::optional<std::string> input = context.args.Get("input");
        input && kafka_options.input.empty()) {
      inputs.push_back({"--input", *input});
    }
    for (const std::string& path : context.args.positionals) {
      inputs.push_back({"pattern file", path});
    }
    std::vector<RunPath> outputs;
    for (const char* flag : kOutputFlags) {
      if (std::optional<std::string> path = context.args.Get(flag);
          path && !(!kafka_options.output.empty() &&
                    std::string_view(flag) == "output")) {
        outputs.push_back({absl::StrCat("--", flag), *path});
      }
    }
    if (absl::Status status = CheckOutputPaths(inputs, outputs); !status.ok()) {
      return UsageError(context.program, context.err,
                        std::string(status.message()));
    }
  }
  context.err << IneffectiveFlags(context.args, options);
  const bool progress = context.args.Has("progress") ||
                        (&context.err == &std::cerr && isatty(STDERR_FILENO));
  if (progress) {
    options.progress = [&err = context.err](const RunProgress& p) {
      err << "\r" << ProgressLine(p) << std::flush;
    };
  }
  std::optional<PatternFile> file =
      LoadAll(context.args.positionals, context.err);
  if (!file) return kExitFailure;

  // From here SIGINT and SIGTERM stop the run cleanly, also while opening or
  // reading an idle named pipe.
  g_stop.store(false);
  options.stop = &g_stop;
  StopOnSignals stop_on_signals;
  const std::string input_path = context.args.Get("input").value_or("-");
  std::unique_ptr<InputFile> input_file;
  std::istream* input = &std::cin;
  std::string input_name = "<stdin>";
  std::unique_ptr<KafkaRun> kafka;
  if (!kafka_options.input.empty() || !kafka_options.output.empty()) {
    kafka_options.report = [&err = context.err](std::string_view line) {
      err << "cep: " << line << "\n";
      err.flush();
    };
    absl::StatusOr<std::unique_ptr<KafkaRun>> opened =
        KafkaRun::Open(*file, std::move(kafka_options), options);
    if (!opened.ok()) {
      context.err << opened.status().message() << "\n";
      return kExitFailure;
    }
    kafka = *std::move(opened);
  }
  const bool kafka_input = kafka && kafka->has_input();
  std::ostream* kafka_output = kafka ? kafka->output() : nullptr;
  if (input_path != "-" && !kafka_input) {
    absl::StatusOr<std::unique_ptr<InputFile>> opened =
        InputFile::Open(input_path, &g_stop);
    if (absl::IsCancelled(opened.status())) {
      context.err << "cep: stopped by a signal before the input opened\n";
      return kExitOk;
    }
    if (!opened.ok()) {
      context.err << "cep: error: " << opened.status().message() << "\n";
      return kExitFailure;
    }
    input_file = *std::move(opened);
    input = input_file.get();
    input_name = input_path;
  } else if (!kafka_input && context.args.Has("watch")) {
    // --watch asks whether input is waiting before each read: an InputFile
    // over stdin answers from its buffer, std::cin with a poll() per line.
    absl::StatusOr<std::unique_ptr<InputFile>> opened =
        InputFile::Open("/dev/stdin", &g_stop);
    if (opened.ok()) {
      input_file = *std::move(opened);
      input = input_file.get();
    }
  }

  OutputFiles files(context.out, durable);
  std::optional<std::ofstream> stats_json;
  std::optional<std::string> stats_json_path = context.args.Get("stats-json");
  RunOutputs outputs;
  struct Target {
    const char* flag;
    std::ostream** stream;
    std::string* path;
  };
  const Target targets[] = {
      Target{"output", &outputs.matches, &outputs.matches_path},
      Target{"timeouts", &outputs.timeouts, &outputs.timeouts_path},
      Target{"late", &outputs.late, &outputs.late_path},
      Target{"dead-letter", &outputs.dead_letter, &outputs.dead_letter_path}};
  for (const Target target : targets) {
    std::optional<std::string> out_path = context.args.Get(target.flag);
    if (!out_path && std::string_view(target.flag) == "output") {
      out_path = "-";
    }
    if (std::string_view(target.flag) == "output" && kafka_output) {
      *target.stream = kafka_output;
    } else if (out_path) {
      *target.stream = files.Add(*out_path);
    }
  }
  // Once the run has started (its state directory locked).
  outputs.open = [&]() -> absl::Status {
    if (absl::Status status = files.OpenAll(); !status.ok()) return status;
    for (const Target target : targets) {
      std::optional<std::string> out_path = context.args.Get(target.flag);
      // Exactly-once needs a file to truncate; /dev/null and pipes are not.
      std::error_code ec;
      if (durable && out_path && *out_path != "-" &&
          !(std::string_view(target.flag) == "output" && kafka_output) &&
          std::filesystem::is_regular_file(*out_path, ec)) {
        *target.path = *out_path;
      }
    }
    if (stats_json_path) {
      stats_json.emplace(*stats_json_path, std::ios::binary);
      if (!stats_json->is_open()) {
        return absl::UnavailableError(absl::StrCat("cep: error: cannot write ",
                                                   Quote(*stats_json_path),
                                                   ": ", std::strerror(errno)));
      }
    }
    return absl::OkStatus();
  };

  options.metrics_listening = [&err = context.err](const std::string& url) {
    err << "cep: metrics on " << url << "\n";
    err.flush();
  };
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<RunStats> stats =
      kafka_input ? kafka->Run(outputs)
                  : RunPatternFile(*file, *input, input_name, options, outputs);
  const std::chrono::duration<double> elapsed =
      std::chrono::steady_clock::now() - start;
  if (progress) context.err << "\r\033[K";
  if (absl::IsCancelled(stats.status()) && g_stop.load()) {
    // Stopped while a pipe was read up to the checkpoint: nothing was taken.
    context.err << "cep: stopped by a signal: " << stats.status().message()
                << "\n";
    return kExitOk;
  }
  if (!stats.ok()) {
    context.out.flush();
    // The metrics server's errors name the flag, not a file.
    const bool flag_error =
        absl::StartsWith(stats.status().message(), "--metrics-");
    context.err << (flag_error ? "cep: error: " : "")
                << stats.status().message() << "\n";
    return kExitFailure;
  }
  context.out.flush();
  if (stats->stopped) {
    context.err << "cep: stopped by a signal"
                << (durable ? "; the next run with this --state resumes here"
                            : "")
                << "\n";
  }
  context.err << Summary(*stats, elapsed.count());
  if (stats_json) {
    std::string json = StatsJson(*stats, elapsed.count());
    if (kafka_input) {
      // Keys the producer sent to two partitions (KafkaRun::split_keys).
      json.insert(json.size() - 2,
                  absl::StrCat(",\"kafka_split_keys\":", kafka->split_keys()));
    }
    *stats_json << json;
    if (!stats_json->flush()) {
      context.err << "cep: error: cannot write the --stats-json file\n";
      return kExitFailure;
    }
  }
  return kExitOk;
}

}  // namespace

CommandSpec RunCommand() {
  CommandSpec spec{
      .name = "run",
      .summary = "Run the patterns of a file over events (JSON lines or CSV)",
      .positionals = {{.name = "FILE",
                       .help = "pattern files (.cep), one or more; they must "
                               "declare the same event types",
                       .repeated = true}},
      .flags =
          {
              {.name = "input",
               .short_name = 'i',
               .value_name = "FILE",
               .default_value = "-",
               .help = "events: JSON lines, or CSV with --format csv; - is "
                       "stdin; kafka://HOST:PORT[,HOST:PORT]/TOPIC reads a "
                       "topic (JSON lines, one per message) with --group "
                       "(see the README's Kafka section)"},
              {.name = "output",
               .short_name = 'o',
               .value_name = "FILE",
               .default_value = "-",
               .help = "matches, one JSON object per line; - is stdout; "
                       "kafka://HOST:PORT/TOPIC writes one message per match "
                       "(key: the match's key; at least once)"},
              {.name = "timeouts",
               .value_name = "FILE",
               .help = "timed-out partial matches (default: counted only)"},
              {.name = "late",
               .value_name = "FILE",
               .help = "events behind the watermark (default: counted only)"},
              {.name = "max-out-of-orderness",
               .value_name = "DURATION",
               .default_value = "0",
               .help = "how late an event may arrive and still be in time "
                       "(250ms, 10s, 5m, 2h, 1d)"},
              {.name = "on-error",
               .value_name = "stop|skip",
               .default_value = "stop",
               .help = "on an input line that does not decode: stop, or "
                       "skip it and go on"},
              {.name = "max-line-bytes",
               .value_name = "N",
               .default_value = "16777216",
               .help = "the longest input line in bytes; a longer one is an "
                       "error (or skipped, with --on-error skip)"},
              {.name = "format",
               .value_name = "jsonl|csv",
               .default_value = "jsonl",
               .help = "input encoding: JSON lines, or CSV with a header row"},
              {.name = "time",
               .value_name = "event|processing",
               .default_value = "event",
               .help = "event time from each event's time field, or the "
                       "clock when it is read"},
              {.name = "loop",
               .value_name = "event|microbatch|realtime",
               .default_value = "event",
               .help = "per event; per trigger with one commit per batch; or "
                       "per event with commits every --commit-interval"},
              {.name = "trigger",
               .value_name = "DURATION|Nevents",
               .default_value = "100ms",
               .help = "microbatch trigger: an interval or a number of "
                       "events (10000events)"},
              {.name = "commit-interval",
               .value_name = "DURATION",
               .default_value = "5s",
               .help = "realtime loop: time between state commits"},
              {.name = "parallelism",
               .short_name = 'p',
               .value_name = "N",
               .default_value = "1",
               .help = "worker threads; keys are hashed to workers (JSON "
                       "lines of one event type: each worker reads every "
                       "line and takes its keys' events)"},
              {.name = "state",
               .value_name = "memory|rocksdb:DIR",
               .default_value = "memory",
               .help = "where keyed state lives; rocksdb:DIR checkpoints to "
                       "DIR and resumes from it after a crash or a stop by "
                       "SIGINT/SIGTERM, with any --parallelism (each worker "
                       "owns a range of key groups; a run may resume with "
                       "another N); output files given with --output, "
                       "--timeouts, --late come out exactly once, stdout "
                       "may repeat lines after a crash; a resumed run from "
                       "stdin skips what was read"},
              {.name = "checkpoint-every",
               .value_name = "Nevents|DURATION|loop",
               .default_value = "10000events",
               .help = "with --state rocksdb:DIR: checkpoint after this many "
                       "events, this much time (5s), or at the loop's commit "
                       "points (loop: every event, batch or commit interval)"},
              {.name = "state-ttl",
               .value_name = "DURATION",
               .default_value = "0",
               .help = "drop the partial matches of a key that took no "
                       "event for this long in event time (0: never)"},
              {.name = "state-cache",
               .value_name = "N",
               .default_value = "10000",
               .help = "with --state rocksdb:DIR: key states each pattern "
                       "keeps decoded in memory (LRU)"},
              {.name = "evaluation",
               .value_name = "auto|shared|per-run",
               .default_value = "auto",
               .help = "auto: patterns that allow it and have 'after match "
                       "no skip' share their partial matches (cost per "
                       "event and memory independent of their number; `cep "
                       "explain` says which patterns); shared: also those "
                       "with 'after match skip past last event'; per-run: "
                       "every partial match is a run of its own"},
              {.name = "max-partial-matches",
               .value_name = "N",
               .default_value = "10000",
               .help = "partial matches a key may hold in one pattern "
                       "evaluated per run (0: no limit; shared partial "
                       "matches are bounded by the window instead); a "
                       "pattern's 'max partial matches' clause wins and "
                       "keeps the pattern per run"},
              {.name = "overflow",
               .value_name = "drop-oldest|refuse-new",
               .default_value = "drop-oldest",
               .help = "past --max-partial-matches: drop the partial "
                       "matches that started first, or the newest"},
              {.name = "migrate",
               .help = "with --state rocksdb:DIR holding another version of "
                       "a pattern: start the new one fresh while the old one "
                       "drains (no new partial matches)"},
              {.name = "watch",
               .help = "reload the pattern files when they change on disk, "
                       "looked at every --watch-interval (also while the "
                       "input is idle): a version that does not check is "
                       "reported on stderr and the running one kept; one "
                       "that checks is swapped in without stopping: "
                       "unchanged patterns keep their state, a changed "
                       "pattern's old version drains while the new one "
                       "starts fresh, added patterns start, removed ones "
                       "drain; with --state rocksdb:DIR the swap is a "
                       "checkpoint, and --watch implies --migrate"},
              {.name = "watch-interval",
               .value_name = "DURATION",
               .default_value = "1s",
               .help = "with --watch: how often the pattern files are "
                       "looked at"},
              {.name = "keep-checkpoints",
               .value_name = "K",
               .default_value = "0",
               .help = "with --state rocksdb:DIR: keep a copy of the state "
                       "at each of the newest K checkpoints in "
                       "DIR/checkpoints/ (replace DIR/db with one to go "
                       "back to it)"},
              {.name = "match-ids",
               .help = "end each match and timeout with \"id\", a stable "
                       "hash of pattern, key and event seqs"},
              {.name = "latency",
               .help = "end each match and timeout with \"latency_us\", its "
                       "detection latency"},
              {.name = "rate",
               .value_name = "N",
               .help = "open-loop pacing: event i is due i/N seconds after "
                       "the first and latency counts from then (default: as "
                       "fast as possible)"},
              {.name = "metrics-port",
               .value_name = "N",
               .help = "serve live metrics as Prometheus text at "
                       "http://ADDRESS:N/metrics while the run goes on (0: a "
                       "free port, printed on stderr); a port in use is an "
                       "error (exit 1) before any input is read"},
              {.name = "metrics-address",
               .value_name = "IP",
               .default_value = "127.0.0.1",
               .help = "with --metrics-port: the address to listen on"},
              {.name = "stats-json",
               .value_name = "FILE",
               .help = "write counts, throughput, CPU time, peak memory and "
                       "latency percentiles as JSON at the end"},
              {.name = "sort-output",
               .help = "sort each output's lines, so any loop and "
                       "parallelism write the same bytes"},
              {.name = "progress",
               .help = "print progress on stderr every second (on by "
                       "default when stderr is a terminal)"},
              {.name = "dead-letter",
               .value_name = "FILE",
               .help = "lines skipped by --on-error skip (default: counted "
                       "only)"},
          },
      .run = RunRun,
  };
  for (FlagSpec& flag : KafkaFlagSpecs()) spec.flags.push_back(flag);
  return spec;
}

}  // namespace cep::cli
