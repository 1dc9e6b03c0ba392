// `cep gen WORKLOAD --events N [--keys K] [--seed S] [--fraud-rate R]
// [--output FILE|-] [--format jsonl|csv]`: writes a seeded synthetic event
// stream (cep/workload.hpp) and ends with one line on stderr:
//
//   cep gen: 1000000 events, 97 planted frauds
//
// Nothing else is printed, so a benchmark can check its match count against
// the planted frauds. Lines are formatted into one buffer and written in
// large chunks.
//
// Instead of events, `cep gen WORKLOAD --describe` writes the workload's
// plain-words description (DescribeWorkload), and `cep gen stock-ticks
// --query STEPS[,never] --window W` the .cep file of a CORE stock query
// (CoreStockQueryText); both to --output, nothing on stderr.

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

#include "cep/workload.hpp"

#include "args.hpp"
#include "commands.hpp"

namespace cep::cli {
namespace {

// Written when the buffer grows past this; a line is far shorter.
constexpr size_t kChunkBytes = size_t{1} << 20;

// "one of: card-testing (...), stock-ticks (...)" for --help.
const std::string& WorkloadHelp() {
  static const std::string* const help = [] {
    auto* text = new std::string("one of:");
    bool first = true;
    for (const WorkloadInfo& info : Workloads()) {
      text->append(first ? " " : "; ");
      text->append(info.name).append(" (").append(info.description).append(")");
      first = false;
    }
    return text;
  }();
  return *help;
}

// Parses the value of flag `name` as an unsigned integer into `out`, or
// returns the usage-error text.
std::optional<std::string> ParseCount(const Invocation& args,
                                      std::string_view name, uint64_t& out) {
  std::optional<std::string> value = args.Get(name);
  if (!value) return std::nullopt;
  if (!absl::SimpleAtoi(*value, &out) || value->empty() || (*value)[0] == '+') {
    return "--" + std::string(name) + ": " + Quote(*value) +
           " is not a non-negative integer";
  }
  return std::nullopt;
}

// Opens --output (default stdout) into `file` and returns the stream to
// write, or nullptr after reporting the error on context.err.
std::ostream* OpenOutput(const CommandContext& context, const std::string& path,
                         std::ofstream& file) {
  if (path == "-") return &context.out;
  file.open(path, std::ios::binary | std::ios::trunc);
  if (!file.is_open()) {
    context.err << "cep: error: cannot write " << Quote(path) << ": "
                << std::strerror(errno) << "\n";
    return nullptr;
  }
  return &file;
}

// Writes `text` to --output; returns the exit status.
int WriteText(const CommandContext& context, std::string_view text) {
  const std::string path = context.args.Get("output").value_or("-");
  std::ofstream file;
  std::ostream* out = OpenOutput(context, path, file);
  if (out == nullptr) return kExitFailure;
  out->write(text.data(), static_cast<std::streamsize>(text.size()));
  out->flush();
  if (!*out) {
    context.err << "cep: error: cannot write " << Quote(path) << ": "
                << std::strerror(errno) << "\n";
    return kExitFailure;
  }
  return kExitOk;
}

// `--query STEPS[,never] --window W`: the .cep text of a CORE stock query.
int RunQuery(const CommandContext& context) {
  const Invocation& args = context.args;
  const std::string& name = args.positionals.front();
  if (name != "stock-ticks") {
    return UsageError(
        context.program, context.err,
        "--query: only stock-ticks has CORE queries, not " + Quote(name));
  }
  std::string steps_text = *args.Get("query");
  bool never = false;
  if (steps_text.ends_with(",never")) {
    never = true;
    steps_text.resize(steps_text.size() - std::string_view(",never").size());
  }
  int steps = 0;
  if (!absl::SimpleAtoi(steps_text, &steps) || steps_text.empty() ||
      steps_text[0] == '+' || steps < 1 || steps > 20) {
    return UsageError(context.program, context.err,
                      "--query: " + Quote(*args.Get("query")) +
                          " is not STEPS (1 to 20) or STEPS,never");
  }
  if (!args.Has("window")) {
    return UsageError(context.program, context.err,
                      "missing flag --window (with --query)");
  }
  const std::string window_text = *args.Get("window");
  int64_t window = 0;
  if (!absl::SimpleAtoi(window_text, &window) || window_text.empty() ||
      window_text[0] == '+' || window < 1) {
    return UsageError(
        context.program, context.err,
        "--window: " + Quote(window_text) + " is not a positive integer");
  }
  absl::StatusOr<std::string> text = CoreStockQueryText(steps, never, window);
  if (!text.ok()) {
    return UsageError(context.program, context.err,
                      "--" + std::string(text.status().message()));
  }
  return WriteText(context, *text);
}

int RunGen(const CommandContext& context) {
  const Invocation& args = context.args;
  if (args.Has("describe") && args.Has("query")) {
    return UsageError(context.program, context.err,
                      "--describe and --query cannot be combined");
  }
  if (args.Has("window") && !args.Has("query")) {
    return UsageError(context.program, context.err,
                      "--window: only with --query");
  }
  if (args.Has("describe")) {
    absl::StatusOr<std::string> text =
        DescribeWorkload(args.positionals.front());
    if (!text.ok()) {
      return UsageError(context.program, context.err,
                        std::string(text.status().message()));
    }
    return WriteText(context, *text);
  }
  if (args.Has("query")) return RunQuery(context);
  if (!args.Has("events")) {
    return UsageError(context.program, context.err, "missing flag --events");
  }
  WorkloadOptions options;
  for (const auto& [name, field] :
       {std::pair<std::string_view, uint64_t*>{"events", &options.events},
        {"keys", &options.keys},
        {"seed", &options.seed}}) {
    if (std::optional<std::string> error = ParseCount(args, name, *field)) {
      return UsageError(context.program, context.err, *error);
    }
  }
  if (args.Has("keys") && options.keys == 0) {
    return UsageError(context.program, context.err,
                      "--keys: must be at least 1");
  }
  if (std::optional<std::string> rate = args.Get("fraud-rate")) {
    if (!absl::SimpleAtod(*rate, &options.fraud_rate) ||
        !(options.fraud_rate >= 0 && options.fraud_rate <= 1)) {
      return UsageError(context.program, context.err,
                        absl::StrCat("--fraud-rate: ", Quote(*rate),
                                     " is not a number from 0 to 1"));
    }
  }
  const std::string format = args.Get("format").value_or("jsonl");
  if (format == "csv") {
    options.format = WorkloadFormat::kCsv;
  } else if (format != "jsonl") {
    return UsageError(
        context.program, context.err,
        absl::StrCat("--format: ", Quote(format), " is not jsonl or csv"));
  }

  const std::string& name = args.positionals.front();
  absl::StatusOr<std::unique_ptr<WorkloadGenerator>> generator =
      MakeWorkload(name, options);
  if (!generator.ok()) {
    // MakeWorkload names the workload ("unknown workload 'x'") or the
    // option ("keys: ..."), which is a flag here.
    const std::string message(generator.status().message());
    return UsageError(
        context.program, context.err,
        message.starts_with("unknown workload") ? message : "--" + message);
  }

  const std::string path = args.Get("output").value_or("-");
  std::ofstream file;
  std::ostream* out = OpenOutput(context, path, file);
  if (out == nullptr) return kExitFailure;

  std::string buffer;
  buffer.reserve(kChunkBytes + 4096);
  (*generator)->AppendHeader(buffer);
  while ((*generator)->AppendLine(buffer)) {
    if (buffer.size() >= kChunkBytes) {
      out->write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      buffer.clear();
    }
  }
  out->write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
  out->flush();
  if (!*out) {
    context.err << "cep: error: cannot write " << Quote(path) << ": "
                << std::strerror(errno) << "\n";
    return kExitFailure;
  }
  context.err << "cep gen: " << (*generator)->generated() << " events, "
              << (*generator)->planted_frauds() << " planted frauds\n";
  return kExitOk;
}

}  // namespace

CommandSpec GenCommand() {
  return CommandSpec{
      .name = "gen",
      .summary = "Write a seeded synthetic event stream (for benchmarks)",
      .positionals = {{.name = "WORKLOAD", .help = WorkloadHelp()}},
      .flags =
          {
              {.name = "events",
               .short_name = 'n',
               .value_name = "N",
               .help = "number of events to write (required unless "
                       "--describe or --query)"},
              {.name = "keys",
               .short_name = 'k',
               .value_name = "K",
               .help = "number of keys: cards (default 10000) or tickers "
                       "(default 20)"},
              {.name = "seed",
               .short_name = 's',
               .value_name = "S",
               .default_value = "1",
               .help = "seed; the same seed writes the same bytes"},
              {.name = "fraud-rate",
               .value_name = "R",
               .default_value = "0.0001",
               .help = "chance per event of planting a fraud (the fraud "
                       "workloads; not stock-ticks or skewed)"},
              {.name = "output",
               .short_name = 'o',
               .value_name = "FILE",
               .default_value = "-",
               .help = "where the events go; - is stdout"},
              {.name = "format",
               .value_name = "jsonl|csv",
               .default_value = "jsonl",
               .help = "JSON lines, or CSV with a header row"},
              {.name = "describe",
               .help = "instead of events, write the fields, layout and "
                       "intended patterns in plain words"},
              {.name = "query",
               .value_name = "STEPS[,never]",
               .help = "stock-ticks: instead of events, write the .cep file "
                       "of CORE's STEPS-step query (3, 6, 9; ',never' adds a "
                       "step no event matches)"},
              {.name = "window",
               .value_name = "W",
               .help = "with --query: the query's window in stock_time "
                       "units (required)"},
          },
      .run = RunGen,
  };
}

}  // namespace cep::cli
