// `cep gen WORKLOAD --events N [--keys K] [--seed S] [--fraud-rate R]
// [--output FILE|-] [--format jsonl|csv]`: writes a seeded synthetic event
// stream (cep/workload.hpp) and ends with one line on stderr:
//
//   cep gen: 1000000 events, 97 planted frauds
//
// Nothing else is printed, so a benchmark can check its match count against
// the planted frauds. Lines are formatted into one buffer and written in
// large chunks.

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

int RunGen(const CommandContext& context) {
  const Invocation& args = context.args;
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
  std::ostream* out = &context.out;
  if (path != "-") {
    file.open(path, std::ios::binary | std::ios::trunc);
    if (!file.is_open()) {
      context.err << "cep: error: cannot write " << Quote(path) << ": "
                  << std::strerror(errno) << "\n";
      return kExitFailure;
    }
    out = &file;
  }

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
               .help = "number of events to write (required)"},
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
               .help = "card-testing: chance per event of planting a fraud"},
              {.name = "output",
               .short_name = 'o',
               .value_name = "FILE",
               .default_value = "-",
               .help = "where the events go; - is stdout"},
              {.name = "format",
               .value_name = "jsonl|csv",
               .default_value = "jsonl",
               .help = "JSON lines, or CSV with a header row"},
          },
      .run = RunGen,
  };
}

}  // namespace cep::cli
