// cep/run.hpp — runs the patterns of a pattern file over a JSONL stream:
// what `cep run` does, and what the data-driven tests (tests/cases/) call.
//
// RunPatternFile decodes each line (record_json.hpp), orders events by event
// time with a bounded-out-of-orderness watermark, feeds them to one
// KeyedMatcher per pattern (keyed by FilePattern::KeyOf, in-memory state)
// and writes matches, timed-out partial matches and late events as JSON
// lines. Semantics, as FlinkCEP's CepOperator with Flink's
// BoundedOutOfOrdernessWatermarks:
//   - seq of an event is its 0-based position among the decoded events;
//   - watermark = (largest timestamp seen) - max_out_of_orderness - 1ms;
//   - an event whose timestamp is <= the watermark is late: it goes to the
//     late output (and RunStats::late), never to the patterns;
//   - other events wait until the watermark passes them, then go to every
//     pattern that accepts their type, in (timestamp, seq) order; after each
//     watermark advance, patterns with windows advance time to it;
//   - at the end of the input every waiting event is released and time
//     advances past every window, so timeouts and trailing `not followed by`
//     matches come out.
// Output order: for each released event, the patterns in file order; then
// what advancing time releases, patterns in file order.
//
// Example:
//   cep::RunOptions options;
//   CEP_RETURN_IF_ERROR(cep::SetRunOption("max-out-of-orderness", "5s",
//                                         options));
//   cep::RunOutputs outputs{.matches = &std::cout};
//   CEP_ASSIGN_OR_RETURN(cep::RunStats stats,
//                        cep::RunPatternFile(file, input, "events.jsonl",
//                                            options, outputs));
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "cep/dsl.hpp"
#include "cep/evaluator.hpp"
#include "cep/time.hpp"

namespace cep {

// What to do with an input line that does not decode.
enum class OnError : uint8_t {
  kStop,  // the run fails with the line's error
  kSkip,  // the line goes to the dead-letter output; the run goes on
};

struct RunOptions {
  // How far behind the largest timestamp seen an event may arrive and still
  // be in time (flag --max-out-of-orderness). Default: 0 (events with equal
  // timestamps may come in any order; earlier ones are late).
  Duration max_out_of_orderness{0};
  // Flag --on-error stop|skip. Default: kStop.
  OnError on_error = OnError::kStop;
  // Passed to every pattern's evaluator.
  EvaluatorOptions evaluator;
};

// Where the outputs go, one JSON object per line; nullptr discards (the
// counts in RunStats still include them). Streams may be shared.
struct RunOutputs {
  std::ostream* matches = nullptr;
  std::ostream* timeouts = nullptr;
  std::ostream* late = nullptr;
  // Input lines that failed to decode under OnError::kSkip, verbatim.
  std::ostream* dead_letter = nullptr;
};

struct RunStats {
  uint64_t events = 0;  // decoded events, late ones included
  uint64_t matches = 0;
  uint64_t timeouts = 0;
  uint64_t late = 0;
  uint64_t errors = 0;  // lines skipped under OnError::kSkip
};

// Runs every pattern of `file` over the JSON lines of `input`; the counts
// come back, the lines go to `outputs`. `input_name` names the input in
// errors ("events.jsonl:7: error: missing field 'card'").
// Errors:
//   kInvalidArgument "INPUT:LINE: error: REASON" for a line that does not
//     decode (with OnError::kStop) or an input that is not text (NUL bytes:
//     always), and "FILE: error: event type 'T' has no time field" before
//     reading anything;
//   the status of CompilePattern ("FILE:LINE: error: pattern 'p': ...");
//   kUnknown "INPUT:LINE: error: ..." when a condition threw;
//   kUnavailable when the input cannot be read or an output written.
[[nodiscard]] absl::StatusOr<RunStats> RunPatternFile(
    const PatternFile& file, std::istream& input, std::string_view input_name,
    const RunOptions& options, RunOutputs& outputs);

// ---- options as flags (shared by `cep run` and tests/cases) ---------------

// Sets the option of flag `name` (without dashes) from `value`:
//   max-out-of-orderness DURATION   a duration: 0, 250ms, 10s, 5m, 2h, 1d
//   on-error stop|skip
// Errors: kInvalidArgument naming the flag and the bad value, or the
// unknown flag.
[[nodiscard]] absl::Status SetRunOption(std::string_view name,
                                        std::string_view value,
                                        RunOptions& options);

// Applies flags given as command-line words, `--name VALUE` or
// `--name=VALUE`, with SetRunOption. Errors: kInvalidArgument.
[[nodiscard]] absl::Status ParseRunOptions(const std::vector<std::string>& args,
                                           RunOptions& options);

// A duration as the pattern language writes it: an integer directly
// followed by ms, s, m, h or d; "0" alone is zero. Errors: kInvalidArgument.
[[nodiscard]] absl::StatusOr<Duration> ParseDuration(std::string_view text);

}  // namespace cep
