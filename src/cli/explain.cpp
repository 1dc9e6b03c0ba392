// `cep explain FILE [--pattern NAME] [--format text|dot]`: the compiled NFA
// of each pattern, as text (Nfa::ToString) or as a Graphviz digraph
// (Nfa::ToDot).

#include <iostream>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

#include "cep/compiler.hpp"
#include "cep/dsl.hpp"
#include "cep/nfa.hpp"

#include "args.hpp"
#include "commands.hpp"

namespace cep::cli {
namespace {

int RunExplain(const CommandContext& context) {
  const std::string format = context.args.Get("format").value_or("text");
  if (format != "text" && format != "dot") {
    return UsageError(context.program, context.err,
                      "--format must be text or dot, not " + Quote(format));
  }
  const std::string& path = context.args.positionals.front();
  std::optional<PatternFile> file = LoadOrReport(path, context.err);
  if (!file) return kExitFailure;
  const std::optional<std::string> only = context.args.Get("pattern");
  if (only && file->FindPattern(*only) == nullptr) {
    return UsageError(context.program, context.err,
                      "no pattern " + Quote(*only) + " in " + Quote(path));
  }
  bool first = true;
  for (const FilePattern& pattern : file->patterns()) {
    if (only && pattern.name != *only) continue;
    absl::StatusOr<Nfa<Record>> nfa = CompilePattern(pattern.pattern);
    if (!nfa.ok()) {
      context.err << path << ":" << pattern.line << ": error: pattern '"
                  << pattern.name << "': " << nfa.status().message() << "\n";
      return kExitFailure;
    }
    if (format == "dot") {
      context.out << nfa->ToDot(pattern.name);
      continue;
    }
    if (!first) context.out << "\n";
    first = false;
    context.out << "pattern " << pattern.name << "\n" << nfa->ToString();
  }
  return kExitOk;
}

}  // namespace

CommandSpec ExplainCommand() {
  return CommandSpec{
      .name = "explain",
      .summary = "Print the compiled automaton (NFA) of each pattern",
      .positionals = {{.name = "FILE", .help = "a pattern file (.cep)"}},
      .flags =
          {
              {.name = "pattern",
               .value_name = "NAME",
               .help = "only the pattern called NAME"},
              {.name = "format",
               .value_name = "text|dot",
               .default_value = "text",
               .help = "text: states and transitions; dot: one Graphviz "
                       "digraph per pattern"},
          },
      .run = RunExplain,
  };
}

}  // namespace cep::cli
