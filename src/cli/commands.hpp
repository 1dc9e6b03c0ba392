// src/cli/commands.hpp — the pattern-file commands of `cep`: check, explain
// and run. Each returns its table entry (args.hpp); main.cpp lists them.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>

#include "cep/dsl.hpp"
#include "cep/nfa.hpp"
#include "cep/time.hpp"

#include "args.hpp"

namespace cep::cli {

CommandSpec CheckCommand();
CommandSpec ExplainCommand();
CommandSpec RunCommand();
// `cep gen`: seeded synthetic events (gen_command.cpp, cep/workload.hpp).
CommandSpec GenCommand();
// `cep import-sql`: a SQL MATCH_RECOGNIZE query as a .cep file
// (import_sql.cpp, src/sql/).
CommandSpec ImportSqlCommand();
// `cep trace`: one key's events through each pattern (trace_command.cpp).
CommandSpec TraceCommand();

// Loads the pattern file at `path`. On failure prints the error to `err` —
// the parser's three-line FILE:LINE:COL text as it is, or one line
// "cep: error: cannot read 'x': REASON" — and returns nullopt.
std::optional<PatternFile> LoadOrReport(const std::string& path,
                                        std::ostream& err);

// The summary line and one line per stage that `cep check` prints for
// `pattern` (see check.cpp), each ending in a newline.
std::string DescribePattern(const FilePattern& pattern);
// "no skip", "skip to first NAME", ...: a skip strategy in the language.
std::string SkipWords(const AfterMatchSkip& skip);
// The strategy line of `cep explain` (explain.cpp): "strategy: shared runs
// (...)" or "strategy: per run, because REASON": what `cep run` gives the
// pattern by default.
std::string StrategyDescription(const FilePattern& pattern,
                                const Nfa<Record>& nfa);

}  // namespace cep::cli
