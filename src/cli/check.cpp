// `cep check FILE...`: validates pattern files and describes each pattern in
// the language's words:
//
//   patterns/card_testing.cep: 1 event type, 1 pattern
//     pattern card_testing on Auth, key card, within 30m, after match skip past
//     last event
//       begin probe {3,} consecutive greedy
//       not followed by refund
//       followed by cashout

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "cep/dsl.hpp"
#include "cep/pattern.hpp"
#include "cep/time.hpp"

#include "args.hpp"
#include "commands.hpp"

namespace cep::cli {
namespace {

std::string ContiguityWords(Contiguity contiguity, bool first) {
  if (first) return "begin";
  switch (contiguity) {
    case Contiguity::kStrict:
      return "next";
    case Contiguity::kRelaxed:
      return "followed by";
    case Contiguity::kNonDeterministicRelaxed:
      return "followed by any";
    case Contiguity::kNotNext:
      return "not next";
    case Contiguity::kNotFollowedBy:
      return "not followed by";
  }
  return "?";
}

// " {3,} consecutive greedy", " *", " {2,3}?", "" for a single event.
std::string QuantifierWords(const Quantifier& q) {
  std::string out;
  const std::string from = std::to_string(q.from);
  switch (q.kind) {
    case Quantifier::Kind::kSingle:
      out = q.optional ? " ?" : "";
      break;
    case Quantifier::Kind::kTimes:
      out = q.from == q.to ? " {" + from + "}"
                           : " {" + from + "," + std::to_string(q.to) + "}";
      if (q.optional) out += "?";
      break;
    case Quantifier::Kind::kLooping:
      if (q.from == 1) {
        out = q.optional ? " *" : " +";
      } else {
        out = " {" + from + ",}";
        if (q.optional) out += "?";
      }
      break;
  }
  if (q.inner == Contiguity::kStrict) out += " consecutive";
  if (q.inner == Contiguity::kNonDeterministicRelaxed) {
    out += " any combination";
  }
  if (q.greedy) out += " greedy";
  return out;
}

void DescribeStages(const std::vector<Stage<Record>>& stages,
                    const std::string& indent, std::string& out) {
  for (size_t stage_idx = 0; stage_idx < stages.size(); ++stage_idx) {
    const Stage<Record>& stage = stages[stage_idx];
    out += indent + ContiguityWords(stage.contiguity, stage_idx == 0) + " ";
    out += stage.is_group() ? std::string("(...)") : stage.name;
    out += QuantifierWords(stage.quantifier);
    if (stage.within_previous) {
      out += " within " + FormatDuration(*stage.within_previous);
    }
    out += "\n";
    if (stage.is_group()) DescribeStages(stage.group, indent + "  ", out);
  }
}

// The smallest first-to-last window of any stage (groups included).
std::optional<Duration> Window(const std::vector<Stage<Record>>& stages) {
  std::optional<Duration> window;
  for (const Stage<Record>& stage : stages) {
    std::optional<Duration> inner = stage.within;
    if (stage.is_group()) {
      if (std::optional<Duration> g = Window(stage.group)) {
        inner = inner ? std::min(*inner, *g) : *g;
      }
    }
    if (inner) window = window ? std::min(*window, *inner) : *inner;
  }
  return window;
}

std::string Plural(size_t count, const std::string& word) {
  return std::to_string(count) + " " + word + (count == 1 ? "" : "s");
}

int RunCheck(const CommandContext& context) {
  int status = kExitOk;
  for (const std::string& path : context.args.positionals) {
    std::optional<PatternFile> file = LoadOrReport(path, context.err);
    if (!file) {
      status = kExitFailure;
      continue;
    }
    context.out << path << ": " << Plural(file->schemas().size(), "event type")
                << ", " << Plural(file->patterns().size(), "pattern") << "\n";
    for (const FilePattern& pattern : file->patterns()) {
      context.out << DescribePattern(pattern);
    }
  }
  return status;
}

}  // namespace

std::string SkipWords(const AfterMatchSkip& skip) {
  switch (skip.kind()) {
    case AfterMatchSkip::Kind::kNoSkip:
      return "no skip";
    case AfterMatchSkip::Kind::kSkipToNext:
      return "skip to next";
    case AfterMatchSkip::Kind::kSkipPastLastEvent:
      return "skip past last event";
    case AfterMatchSkip::Kind::kSkipToFirst:
      return "skip to first " + skip.stage();
    case AfterMatchSkip::Kind::kSkipToLast:
      return "skip to last " + skip.stage();
  }
  return "?";
}

std::string DescribePattern(const FilePattern& pattern) {
  std::string out = "  pattern " + pattern.name + " on ";
  for (size_t type_idx = 0; type_idx < pattern.types.size(); ++type_idx) {
    if (type_idx > 0) out += ", ";
    out += pattern.types[type_idx]->name();
  }
  out += pattern.key_field.empty() ? ", no key" : ", key " + pattern.key_field;
  if (std::optional<Duration> window = Window(pattern.pattern.stages())) {
    out += ", within " + FormatDuration(*window);
  }
  out += ", after match " + SkipWords(pattern.pattern.skip());
  if (pattern.max_partial_matches) {
    out +=
        ", max partial matches " + std::to_string(*pattern.max_partial_matches);
  }
  if (pattern.overflow_policy) {
    out += *pattern.overflow_policy == OverflowPolicy::kDropOldest
               ? " drop oldest"
               : " refuse new";
  }
  out += "\n";
  DescribeStages(pattern.pattern.stages(), "    ", out);
  return out;
}

std::optional<PatternFile> LoadOrReport(const std::string& path,
                                        std::ostream& err) {
  absl::StatusOr<PatternFile> file = LoadPatternFile(path);
  if (file.ok()) return *std::move(file);
  const std::string message(file.status().message());
  // The parser's text starts with the file name and ends without a newline;
  // a file that cannot be read is one line, said by cep.
  if (message.rfind("cannot read ", 0) == 0) {
    err << "cep: error: " << message << "\n";
  } else {
    err << message << "\n";
  }
  return std::nullopt;
}

CommandSpec CheckCommand() {
  return CommandSpec{
      .name = "check",
      .summary = "Check pattern files and describe their patterns",
      .positionals = {{.name = "FILE",
                       .help = "pattern files (.cep), one or more",
                       .repeated = true}},
      .run = RunCheck,
  };
}

}  // namespace cep::cli
