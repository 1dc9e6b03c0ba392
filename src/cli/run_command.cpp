// `cep run FILE [--input FILE|-] [--output FILE|-] ...`: runs the patterns of
// a pattern file over JSON lines (RunPatternFile, cep/run.hpp) and prints a
// summary on stderr.

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include <unistd.h>

#include "cep/dsl.hpp"
#include "cep/histogram.hpp"
#include "cep/run.hpp"

#include "args.hpp"
#include "commands.hpp"

namespace cep::cli {
namespace {

// The flags that set RunOptions; their values go through SetRunOption, the
// same path the data-driven tests take.
constexpr const char* kRunOptionFlags[] = {
    "format",          "time",        "max-out-of-orderness",
    "on-error",        "loop",        "trigger",
    "commit-interval", "parallelism", "state",
    "checkpoint-every"};

// Output files by path, so that two flags naming one file share a stream.
class OutputFiles {
 public:
  // `append`: open files for appending (durable state: the run truncates
  // them itself).
  OutputFiles(std::ostream& stdout_stream, bool append)
      : stdout_(stdout_stream), append_(append) {}

  // The stream for `path` ("-" is stdout), or nullptr after printing the
  // reason to `err`.
  std::ostream* Open(const std::string& path, std::ostream& err) {
    if (path == "-") return &stdout_;
    auto it = files_.find(path);
    if (it != files_.end()) return it->second.get();
    auto file = std::make_unique<std::ofstream>(
        path, append_ ? std::ios::binary | std::ios::app : std::ios::binary);
    if (!file->is_open()) {
      err << "cep: error: cannot write " << Quote(path) << ": "
          << std::strerror(errno) << "\n";
      return nullptr;
    }
    return files_.emplace(path, std::move(file)).first->second.get();
  }

 private:
  std::ostream& stdout_;
  bool append_;
  std::map<std::string, std::unique_ptr<std::ofstream>> files_;
};

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
  const bool durable = !options.state_dir.empty();
  if (durable && options.parallelism != 1) {
    return UsageError(context.program, context.err,
                      "--state rocksdb: needs --parallelism 1 in this version");
  }
  if (durable && options.sort_output) {
    return UsageError(context.program, context.err,
                      "--state rocksdb: cannot be combined with --sort-output");
  }
  const bool progress = context.args.Has("progress") ||
                        (&context.err == &std::cerr && isatty(STDERR_FILENO));
  if (progress) {
    options.progress = [&err = context.err](const RunProgress& p) {
      err << "\r" << ProgressLine(p) << std::flush;
    };
  }
  const std::string& path = context.args.positionals.front();
  std::optional<PatternFile> file = LoadOrReport(path, context.err);
  if (!file) return kExitFailure;

  const std::string input_path = context.args.Get("input").value_or("-");
  std::ifstream input_file;
  std::istream* input = &std::cin;
  std::string input_name = "<stdin>";
  if (input_path != "-") {
    input_file.open(input_path, std::ios::binary);
    if (!input_file.is_open()) {
      context.err << "cep: error: cannot read " << Quote(input_path) << ": "
                  << std::strerror(errno) << "\n";
      return kExitFailure;
    }
    input = &input_file;
    input_name = input_path;
  }

  OutputFiles files(context.out, durable);
  RunOutputs outputs;
  struct Target {
    const char* flag;
    std::ostream** stream;
    std::string* path;
  };
  for (const Target target :
       {Target{"output", &outputs.matches, &outputs.matches_path},
        Target{"timeouts", &outputs.timeouts, &outputs.timeouts_path},
        Target{"late", &outputs.late, &outputs.late_path},
        Target{"dead-letter", &outputs.dead_letter,
               &outputs.dead_letter_path}}) {
    std::optional<std::string> out_path = context.args.Get(target.flag);
    if (!out_path && std::string_view(target.flag) == "output") {
      out_path = "-";
    }
    if (out_path) {
      *target.stream = files.Open(*out_path, context.err);
      if (*target.stream == nullptr) return kExitFailure;
      if (durable && *out_path != "-") *target.path = *out_path;
    }
  }

  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<RunStats> stats =
      RunPatternFile(*file, *input, input_name, options, outputs);
  const std::chrono::duration<double> elapsed =
      std::chrono::steady_clock::now() - start;
  if (progress) context.err << "\r\033[K";
  if (!stats.ok()) {
    context.out.flush();
    context.err << stats.status().message() << "\n";
    return kExitFailure;
  }
  context.out.flush();
  context.err << Summary(*stats, elapsed.count());
  return kExitOk;
}

}  // namespace

CommandSpec RunCommand() {
  return CommandSpec{
      .name = "run",
      .summary = "Run the patterns of a file over events (JSON lines or CSV)",
      .positionals = {{.name = "FILE", .help = "a pattern file (.cep)"}},
      .flags =
          {
              {.name = "input",
               .short_name = 'i',
               .value_name = "FILE",
               .default_value = "-",
               .help = "events: JSON lines, or CSV with --format csv; - is "
                       "stdin"},
              {.name = "output",
               .short_name = 'o',
               .value_name = "FILE",
               .default_value = "-",
               .help = "matches, one JSON object per line; - is stdout"},
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
               .help = "worker threads; keys are hashed to workers"},
              {.name = "state",
               .value_name = "memory|rocksdb:DIR",
               .default_value = "memory",
               .help = "where keyed state lives; rocksdb:DIR checkpoints to "
                       "DIR and resumes from it after a crash (parallelism "
                       "1; output files given with --output, --timeouts, "
                       "--late come out exactly once, stdout may repeat "
                       "lines after a crash; resuming needs --input FILE)"},
              {.name = "checkpoint-every",
               .value_name = "Nevents|DURATION",
               .default_value = "10000events",
               .help = "with --state rocksdb:DIR: checkpoint after this many "
                       "events or this much time (5s)"},
              {.name = "match-ids",
               .help = "end each match and timeout with \"id\", a stable "
                       "hash of pattern, key and event seqs"},
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
}

}  // namespace cep::cli
