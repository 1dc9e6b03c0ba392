// `cep run FILE [--input FILE|-] [--output FILE|-] ...`: runs the patterns of
// a pattern file over JSON lines (RunPatternFile, cep/run.hpp) and prints a
// summary on stderr.

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

#include "cep/dsl.hpp"
#include "cep/run.hpp"

#include "args.hpp"
#include "commands.hpp"

namespace cep::cli {
namespace {

// The flags that set RunOptions; their values go through SetRunOption, the
// same path the data-driven tests take.
constexpr const char* kRunOptionFlags[] = {"max-out-of-orderness", "on-error"};

// Output files by path, so that two flags naming one file share a stream.
class OutputFiles {
 public:
  explicit OutputFiles(std::ostream& stdout_stream) : stdout_(stdout_stream) {}

  // The stream for `path` ("-" is stdout), or nullptr after printing the
  // reason to `err`.
  std::ostream* Open(const std::string& path, std::ostream& err) {
    if (path == "-") return &stdout_;
    auto it = files_.find(path);
    if (it != files_.end()) return it->second.get();
    auto file = std::make_unique<std::ofstream>(path, std::ios::binary);
    if (!file->is_open()) {
      err << "cep: error: cannot write " << Quote(path) << ": "
          << std::strerror(errno) << "\n";
      return nullptr;
    }
    return files_.emplace(path, std::move(file)).first->second.get();
  }

 private:
  std::ostream& stdout_;
  std::map<std::string, std::unique_ptr<std::ofstream>> files_;
};

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

  OutputFiles files(context.out);
  RunOutputs outputs;
  struct Target {
    const char* flag;
    std::ostream** stream;
  };
  for (const Target target :
       {Target{"output", &outputs.matches},
        Target{"timeouts", &outputs.timeouts}, Target{"late", &outputs.late},
        Target{"dead-letter", &outputs.dead_letter}}) {
    if (std::optional<std::string> out_path = context.args.Get(target.flag)) {
      *target.stream = files.Open(*out_path, context.err);
      if (*target.stream == nullptr) return kExitFailure;
    }
  }

  absl::StatusOr<RunStats> stats =
      RunPatternFile(*file, *input, input_name, options, outputs);
  if (!stats.ok()) {
    context.out.flush();
    context.err << stats.status().message() << "\n";
    return kExitFailure;
  }
  context.out.flush();
  context.err << "cep: " << stats->events << " events, " << stats->matches
              << " matches, " << stats->timeouts << " timeouts, " << stats->late
              << " late, " << stats->errors << " errors\n";
  return kExitOk;
}

}  // namespace

CommandSpec RunCommand() {
  return CommandSpec{
      .name = "run",
      .summary = "Run the patterns of a file over JSON-lines events",
      .positionals = {{.name = "FILE", .help = "a pattern file (.cep)"}},
      .flags =
          {
              {.name = "input",
               .short_name = 'i',
               .value_name = "FILE",
               .default_value = "-",
               .help = "events, one JSON object per line; - is stdin"},
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
              {.name = "dead-letter",
               .value_name = "FILE",
               .help = "lines skipped by --on-error skip (default: counted "
                       "only)"},
          },
      .run = RunRun,
  };
}

}  // namespace cep::cli
