// src/cli/commands.hpp — the pattern-file commands of `cep`: check, explain
// and run. Each returns its table entry (args.hpp); main.cpp lists them.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>

#include "cep/dsl.hpp"
#include "cep/time.hpp"

#include "args.hpp"

namespace cep::cli {

CommandSpec CheckCommand();
CommandSpec ExplainCommand();
CommandSpec RunCommand();

// Loads the pattern file at `path`. On failure prints the error to `err` —
// the parser's three-line FILE:LINE:COL text as it is, or one line
// "cep: error: cannot read 'x': REASON" — and returns nullopt.
std::optional<PatternFile> LoadOrReport(const std::string& path,
                                        std::ostream& err);

// A duration as the pattern language writes it, in the largest unit that
// divides it: 30m, 90s, 250ms, 1d.
std::string FormatDuration(Duration duration);

// The summary line and one line per stage that `cep check` prints for
// `pattern` (see check.cpp), each ending in a newline.
std::string DescribePattern(const FilePattern& pattern);

}  // namespace cep::cli
