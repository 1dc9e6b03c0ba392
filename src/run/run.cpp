// RunPatternFile: the event-time run of a pattern file over JSON lines. See
// cep/run.hpp for the semantics.

#include "cep/run.hpp"

#include <algorithm>
#include <charconv>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <istream>
#include <limits>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "cep/compiler.hpp"
#include "cep/dsl.hpp"
#include "cep/event.hpp"
#include "cep/match.hpp"
#include "cep/matcher.hpp"
#include "cep/nfa.hpp"
#include "cep/record_json.hpp"
#include "cep/state.hpp"
#include "cep/time.hpp"

namespace cep {
namespace {

// absl::StrCat takes absl::string_view, which in Debian's abseil is not
// std::string_view; this takes both, and integers.
void AppendPart(std::string& out, std::string_view part) { out += part; }
template <std::integral T>
void AppendPart(std::string& out, T part) {
  out += std::to_string(part);
}
template <typename... Parts>
std::string Cat(const Parts&... parts) {
  std::string out;
  (AppendPart(out, parts), ...);
  return out;
}

// Time at the end of the input: past every window. Decoded timestamps lie in
// years 0000..9999 (|ts| < 2^48, record_json.cpp), so the evaluator's
// `end - start_ts` and `previous_ts + window` cannot overflow int64 with
// this value and any window below 2^61 ms.
constexpr int64_t kEndOfTime = std::numeric_limits<int64_t>::max() / 4;

// Before the first event: nothing is late.
constexpr int64_t kNoWatermark = std::numeric_limits<int64_t>::min();

// One pattern of the file, running. Not movable: the matcher points at the
// NFA and the backend.
struct PatternRun {
  PatternRun(const FilePattern& pattern, Nfa<Record> compiled,
             const EvaluatorOptions& options)
      : file_pattern(pattern),
        nfa(std::move(compiled)),
        matcher(
            nfa,
            [this](const Record& record) { return file_pattern.KeyOf(record); },
            backend, options),
        with_types(pattern.types.size() > 1) {
    has_windows = nfa.window() > Duration::zero();
    for (const NfaState& state : nfa.states()) {
      has_windows = has_windows || state.window > Duration::zero();
    }
  }
  PatternRun(const PatternRun&) = delete;
  PatternRun& operator=(const PatternRun&) = delete;

  const FilePattern& file_pattern;
  Nfa<Record> nfa;
  InMemoryStateBackend<Record, Value> backend;
  KeyedMatcher<Record, Value> matcher;
  bool with_types;
  bool has_windows = false;
};

// An event waiting for the watermark.
struct Pending {
  int64_t ts;
  uint64_t seq;
  size_t line;  // for errors
  Record record;
};

// Min-heap order on (ts, seq).
struct Later {
  bool operator()(const Pending& a, const Pending& b) const {
    return a.ts != b.ts ? a.ts > b.ts : a.seq > b.seq;
  }
};

class Runner final : public KeyedMatchSink<Record, Value> {
 public:
  Runner(const PatternFile& file, std::string_view input_name,
         const RunOptions& options, RunOutputs& outputs)
      : file_(file),
        input_name_(input_name),
        options_(options),
        outputs_(outputs),
        decoder_(file) {}

  absl::Status Start() {
    for (const auto& schema : file_.schemas()) {
      if (!schema->time_field().has_value()) {
        return absl::InvalidArgumentError(
            Cat(file_.filename(), ": error: event type '", schema->name(),
                "' has no time field; a run orders events by event time "
                "(mark a timestamp field with 'time')"));
      }
    }
    for (const FilePattern& pattern : file_.patterns()) {
      absl::StatusOr<Nfa<Record>> nfa = CompilePattern(pattern.pattern);
      if (!nfa.ok()) {
        return absl::Status(
            nfa.status().code(),
            Cat(file_.filename(), ":", pattern.line, ": error: pattern '",
                pattern.name, "': ", std::string(nfa.status().message())));
      }
      runs_.push_back(std::make_unique<PatternRun>(pattern, *std::move(nfa),
                                                   options_.evaluator));
      any_windows_ = any_windows_ || runs_.back()->has_windows;
    }
    return absl::OkStatus();
  }

  // One line of input, without its newline; `line_no` counts from 1.
  absl::Status Line(std::string_view raw, size_t line_no) {
    std::string_view line = raw;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find('\0') != std::string_view::npos) {
      return absl::InvalidArgumentError(
          Cat(input_name_, ":", line_no,
              ": error: the input is not text (it contains a NUL byte); "
              "expected one JSON object per line"));
    }
    if (IsBlankLine(line)) return absl::OkStatus();
    absl::StatusOr<Record> record = decoder_.Decode(line);
    if (!record.ok()) {
      if (options_.on_error == OnError::kStop) {
        return absl::InvalidArgumentError(
            Cat(input_name_, ":", line_no,
                ": error: ", std::string(record.status().message())));
      }
      ++stats_.errors;
      if (outputs_.dead_letter != nullptr) {
        outputs_.dead_letter->write(raw.data(),
                                    static_cast<std::streamsize>(raw.size()));
        outputs_.dead_letter->put('\n');
      }
      return absl::OkStatus();
    }
    const uint64_t seq = stats_.events++;
    const int64_t ts = record->GetInt(*record->schema().time_field());
    if (ts <= watermark_) {
      ++stats_.late;
      if (outputs_.late != nullptr) {
        line_.clear();
        AppendEventJson(line_, *record, seq, file_.schemas().size() > 1);
        line_ += '\n';
        outputs_.late->write(line_.data(),
                             static_cast<std::streamsize>(line_.size()));
      }
      return absl::OkStatus();
    }
    pending_.push_back(Pending{ts, seq, line_no, *std::move(record)});
    std::push_heap(pending_.begin(), pending_.end(), Later());
    max_ts_ = std::max(max_ts_, ts);
    const int64_t bound = options_.max_out_of_orderness.count();
    int64_t watermark;
    if (__builtin_sub_overflow(max_ts_, bound, &watermark) ||
        __builtin_sub_overflow(watermark, 1, &watermark)) {
      return absl::OkStatus();  // the bound reaches before all time
    }
    if (watermark <= watermark_) return absl::OkStatus();
    watermark_ = watermark;
    return AdvanceTo(watermark_);
  }

  // End of input: every waiting event, then time past every window.
  absl::Status Finish() { return AdvanceTo(kEndOfTime); }

  const RunStats& stats() const { return stats_; }

 private:
  // Releases the waiting events with timestamp <= `time` in (ts, seq) order,
  // then advances the patterns with windows to `time`.
  absl::Status AdvanceTo(int64_t time) {
    while (!pending_.empty() && pending_.front().ts <= time) {
      std::pop_heap(pending_.begin(), pending_.end(), Later());
      Pending event = std::move(pending_.back());
      pending_.pop_back();
      for (const auto& run : runs_) {
        if (!run->file_pattern.Accepts(event.record)) continue;
        current_ = run.get();
        absl::Status status = run->matcher.Process(
            event.record, FromMillis(event.ts), event.seq, *this);
        if (!status.ok()) {
          return absl::Status(status.code(),
                              Cat(input_name_, ":", event.line,
                                  ": error: ", std::string(status.message())));
        }
      }
    }
    if (!any_windows_) return absl::OkStatus();
    for (const auto& run : runs_) {
      if (!run->has_windows) continue;
      current_ = run.get();
      absl::Status status = run->matcher.AdvanceTime(FromMillis(time), *this);
      if (!status.ok()) {
        return absl::Status(
            status.code(),
            Cat(input_name_, ": error: ", std::string(status.message())));
      }
    }
    return absl::OkStatus();
  }

  void OnMatch(const Value& key, Match<Record> match) override {
    ++stats_.matches;
    Write(outputs_.matches, key, match, MatchKind::kMatch);
  }

  void OnTimeout(const Value& key, Match<Record> partial,
                 Timestamp timeout_at) override {
    (void)timeout_at;
    ++stats_.timeouts;
    Write(outputs_.timeouts, key, partial, MatchKind::kTimeout);
  }

  void Write(std::ostream* out, const Value& key, const Match<Record>& match,
             MatchKind kind) {
    if (out == nullptr) return;
    line_.clear();
    AppendMatchJson(line_, current_->file_pattern.name, key, match, kind,
                    current_->with_types);
    line_ += '\n';
    out->write(line_.data(), static_cast<std::streamsize>(line_.size()));
  }

  const PatternFile& file_;
  std::string_view input_name_;
  const RunOptions& options_;
  RunOutputs& outputs_;
  RecordDecoder decoder_;
  std::vector<std::unique_ptr<PatternRun>> runs_;
  bool any_windows_ = false;
  PatternRun* current_ = nullptr;  // whose output the sink receives
  std::vector<Pending> pending_;   // a heap on Later
  int64_t max_ts_ = std::numeric_limits<int64_t>::min();
  int64_t watermark_ = kNoWatermark;
  RunStats stats_;
  std::string line_;  // output line being built
};

}  // namespace

absl::StatusOr<RunStats> RunPatternFile(const PatternFile& file,
                                        std::istream& input,
                                        std::string_view input_name,
                                        const RunOptions& options,
                                        RunOutputs& outputs) {
  Runner runner(file, input_name, options, outputs);
  if (absl::Status status = runner.Start(); !status.ok()) return status;
  std::string line;
  size_t line_no = 0;
  while (std::getline(input, line)) {
    ++line_no;
    if (absl::Status status = runner.Line(line, line_no); !status.ok()) {
      return status;
    }
  }
  if (input.bad()) {
    return absl::UnavailableError(
        Cat(input_name, ": error: cannot read the input"));
  }
  if (absl::Status status = runner.Finish(); !status.ok()) return status;
  for (std::ostream* out :
       {outputs.matches, outputs.timeouts, outputs.late, outputs.dead_letter}) {
    if (out != nullptr && !out->flush()) {
      return absl::UnavailableError("cannot write the output");
    }
  }
  return runner.stats();
}

// ---- options as flags -------------------------------------------------------

absl::StatusOr<Duration> ParseDuration(std::string_view text) {
  auto invalid = [&] {
    return absl::InvalidArgumentError(
        Cat("'", text,
            "' is not a duration (an integer and a unit: 250ms, 10s, 5m, "
            "2h, 1d)"));
  };
  int64_t count = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  auto [unit, ec] = std::from_chars(begin, end, count);
  if (ec != std::errc() || unit == begin || count < 0) return invalid();
  const std::string_view suffix(unit, static_cast<size_t>(end - unit));
  int64_t scale = 0;
  if (suffix == "ms") {
    scale = 1;
  } else if (suffix == "s") {
    scale = 1000;
  } else if (suffix == "m") {
    scale = 60 * 1000;
  } else if (suffix == "h") {
    scale = 3600 * 1000;
  } else if (suffix == "d") {
    scale = 24 * 3600 * 1000;
  } else if (suffix.empty() && count == 0) {
    scale = 1;
  } else {
    return invalid();
  }
  int64_t millis = 0;
  if (__builtin_mul_overflow(count, scale, &millis)) return invalid();
  return Duration(millis);
}

absl::Status SetRunOption(std::string_view name, std::string_view value,
                          RunOptions& options) {
  if (name == "max-out-of-orderness") {
    absl::StatusOr<Duration> duration = ParseDuration(value);
    if (!duration.ok()) {
      return absl::InvalidArgumentError(
          Cat("--max-out-of-orderness: ",
              std::string(duration.status().message())));
    }
    options.max_out_of_orderness = *duration;
    return absl::OkStatus();
  }
  if (name == "on-error") {
    if (value == "stop") {
      options.on_error = OnError::kStop;
    } else if (value == "skip") {
      options.on_error = OnError::kSkip;
    } else {
      return absl::InvalidArgumentError(
          Cat("--on-error: '", value, "' is not stop or skip"));
    }
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(Cat("unknown option '--", name, "'"));
}

absl::Status ParseRunOptions(const std::vector<std::string>& args,
                             RunOptions& options) {
  for (size_t arg_idx = 0; arg_idx < args.size(); ++arg_idx) {
    std::string_view arg = args[arg_idx];
    if (arg.substr(0, 2) != "--") {
      return absl::InvalidArgumentError(
          Cat("expected an option (--name VALUE), not '", arg, "'"));
    }
    std::string_view name = arg.substr(2);
    std::string_view value;
    if (const size_t eq = name.find('='); eq != std::string_view::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else if (arg_idx + 1 < args.size()) {
      value = args[++arg_idx];
    } else {
      return absl::InvalidArgumentError(
          Cat("option '--", name, "' needs a value"));
    }
    if (absl::Status status = SetRunOption(name, value, options);
        !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

}  // namespace cep
