// `cep explain FILE [--pattern NAME] [--format text|dot]`: the compiled NFA
// of each pattern, as text (Nfa::ToString) or as a Graphviz digraph
// (Nfa::ToDot). The text says first which evaluation strategy the pattern
// can get: shared runs (SharedRunsEvaluator) or per run, and why.

#include <cstdint>
#include <iostream>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

#include "cep/compiler.hpp"
#include "cep/dsl.hpp"
#include "cep/nfa.hpp"
#include "cep/shared_runs_evaluator.hpp"

#include "args.hpp"
#include "commands.hpp"

namespace cep::cli {
namespace {

// True when the condition tree at `index` uses the user condition `user`.
bool UsesCondition(const Nfa<Record>& nfa, ConditionIndex index,
                   uint32_t user) {
  const ConditionNode& node = nfa.conditions()[index];
  switch (node.op) {
    case ConditionNode::Op::kTrue:
      return false;
    case ConditionNode::Op::kUser:
      return node.a == static_cast<int32_t>(user);
    case ConditionNode::Op::kNot:
      return UsesCondition(nfa, node.a, user);
    case ConditionNode::Op::kAnd:
    case ConditionNode::Op::kOr:
      return UsesCondition(nfa, node.a, user) ||
             UsesCondition(nfa, node.b, user);
  }
  return false;
}

// Why `nfa` keeps the per-run evaluator, in the pattern language's words;
// `reason` is CheckSharedRuns' message, said as is when not recognised.
std::string PerRunReason(const Nfa<Record>& nfa, std::string reason) {
  const auto& users = nfa.user_conditions();
  for (uint32_t user = 0; user < users.size(); ++user) {
    if (users[user]->simple) continue;
    std::string stage;
    for (const NfaState& state : nfa.states()) {
      if (state.stage == kNoStage) continue;
      for (const Transition& t : state.transitions) {
        if (t.action == Action::kTake &&
            UsesCondition(nfa, t.condition, user) && stage.empty()) {
          stage = nfa.stage_names()[state.stage];
        }
      }
    }
    const std::string where = stage.empty()
                                  ? "a condition"
                                  : "the condition of stage '" + stage + "'";
    return where + " is iterative: '" + users[user]->description +
           "' looks at events the partial match took, so partial matches "
           "cannot be shared";
  }
  if (nfa.aggregates().empty() &&
      nfa.skip().kind() != AfterMatchSkip::Kind::kNoSkip) {
    if (nfa.skip().kind() == AfterMatchSkip::Kind::kSkipPastLastEvent) {
      return "the pattern has 'after match skip past last event': its "
             "partial matches are shared with --evaluation shared";
    }
    return "the pattern has 'after match " + SkipWords(nfa.skip()) +
           "': partial matches are shared only under 'after match no skip' "
           "and 'after match skip past last event'";
  }
  for (const NfaState& state : nfa.states()) {
    if (nfa.aggregates().empty() && state.window > Duration::zero() &&
        state.stage != kNoStage) {
      return "stage '" + nfa.stage_names()[state.stage] + "' has 'within " +
             FormatDuration(state.window) +
             "' from the previous event: partial matches waiting in one state "
             "would expire at different times";
    }
  }
  return reason;
}

// "strategy: shared runs (...)" or "strategy: per run, because REASON":
// what `cep run` gives the pattern by default (--evaluation auto).
std::string StrategyLine(const FilePattern& pattern, const Nfa<Record>& nfa) {
  if (pattern.max_partial_matches) {
    return "strategy: per run, because the pattern sets 'max partial "
           "matches': only partial matches kept as runs of their own can be "
           "capped";
  }
  const absl::Status shared = ChooseSharedRuns(nfa, EvaluatorOptions());
  if (shared.ok()) {
    return "strategy: shared runs (one set of partial matches per automaton "
           "state)";
  }
  return "strategy: per run, because " +
         PerRunReason(nfa, std::string(shared.message()));
}

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
    context.out << "pattern " << pattern.name << "\n"
                << StrategyLine(pattern, *nfa) << "\n"
                << nfa->ToString();
  }
  return kExitOk;
}

}  // namespace

std::string StrategyDescription(const FilePattern& pattern,
                                const Nfa<Record>& nfa) {
  return StrategyLine(pattern, nfa);
}

CommandSpec ExplainCommand() {
  return CommandSpec{
      .name = "explain",
      .summary =
          "Print the compiled automaton (NFA) of each pattern and the "
          "evaluation strategy it can get",
      .positionals = {{.name = "FILE", .help = "a pattern file (.cep)"}},
      .flags =
          {
              {.name = "pattern",
               .value_name = "NAME",
               .help = "only the pattern called NAME"},
              {.name = "format",
               .value_name = "text|dot",
               .default_value = "text",
               .help = "text: the strategy, states and transitions; dot: one "
                       "Graphviz digraph per pattern"},
          },
      .run = RunExplain,
  };
}

}  // namespace cep::cli
