// testing/case_executor.hpp — runs one data-driven case the way `cep run`
// does: ParsePatternFile (with the file name "pattern.cep", so error texts
// are stable), options through ParseRunOptions (the CLI's SetRunOption),
// then RunPatternFile over events.jsonl.
#pragma once

#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

#include "cep/dsl.hpp"
#include "cep/run.hpp"

#include "testing/case_loader.hpp"

namespace cep::testing {

// What a case produced, by the expected file it is compared with. An error
// (parse or run) is its text plus a newline; outputs written before a run
// error are kept.
using CaseOutputs = std::map<std::string_view, std::string>;

// `extra_options` (command-line words) apply after the case's own.
inline CaseOutputs ExecuteCase(
    const Case& c, const std::vector<std::string>& extra_options = {}) {
  CaseOutputs outputs;
  for (std::string_view file : kExpectedFiles) outputs[file];
  absl::StatusOr<PatternFile> file =
      ParsePatternFile(c.pattern_text, kPatternFile);
  if (!file.ok()) {
    outputs[kExpectedError] = std::string(file.status().message()) + "\n";
    return outputs;
  }
  RunOptions options;
  std::vector<std::string> words = c.options;
  words.insert(words.end(), extra_options.begin(), extra_options.end());
  if (absl::Status status = ParseRunOptions(words, options); !status.ok()) {
    outputs[kExpectedError] = "bad '// options:' line in pattern.cep: " +
                              std::string(status.message()) + "\n";
    return outputs;
  }
  std::istringstream events(c.events);
  std::ostringstream matches, timeouts, late, dead_letter;
  RunOutputs run_outputs{.matches = &matches,
                         .timeouts = &timeouts,
                         .late = &late,
                         .dead_letter = &dead_letter};
  absl::StatusOr<RunStats> stats = RunPatternFile(
      *file, events, std::string(kEventsFile), options, run_outputs);
  if (!stats.ok()) {
    outputs[kExpectedError] = std::string(stats.status().message()) + "\n";
  }
  outputs[kExpectedMatches] = matches.str();
  outputs[kExpectedTimeouts] = timeouts.str();
  outputs[kExpectedLate] = late.str();
  outputs[kExpectedDeadLetter] = dead_letter.str();
  return outputs;
}

}  // namespace cep::testing
