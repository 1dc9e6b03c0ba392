// RunPatternFile: the event-time run of a pattern file over JSON lines. See
// cep/run.hpp for the semantics.

#include "cep/run.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <istream>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include <sys/stat.h>
#include <unistd.h>

#include "cep/codec.hpp"
#include "cep/compiler.hpp"
#include "cep/dsl.hpp"
#include "cep/event.hpp"
#include "cep/internal/status_macros.hpp"
#include "cep/match.hpp"
#include "cep/matcher.hpp"
#include "cep/nfa.hpp"
#include "cep/operator.hpp"
#include "cep/record_csv.hpp"
#include "cep/record_json.hpp"
#include "cep/rocksdb_state.hpp"
#include "cep/runtime.hpp"
#include "cep/state.hpp"
#include "cep/time.hpp"

#include "../io/line_reader.hpp"

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

// 64-bit FNV-1a, stable across builds and platforms.
constexpr uint64_t kFnvOffset = 14695981039346656037ull;
uint64_t Fnv1a(uint64_t hash, std::string_view bytes) {
  for (const char c : bytes) {
    hash ^= static_cast<uint8_t>(c);
    hash *= 1099511628211ull;
  }
  return hash;
}

// One pattern of the file, compiled. Not movable: the runtime points at the
// NFA.
struct CompiledPattern {
  const FilePattern* file_pattern;
  Nfa<Record> nfa;
  bool with_types;  // events carry "type" in the output
};

// Writes outputs as JSON lines, directly or, to sort them, at the end. The
// runtime calls it one call at a time (runtime.hpp), but with parallelism > 1
// from the workers while the reading thread writes dead letters and flushes:
// then every call holds mu_, since all of them share line_, sorted_ and
// possibly the streams.
class OutputSink final : public RuntimeSink<Record, Value> {
 public:
  OutputSink(const PatternFile& file,
             const std::vector<std::unique_ptr<CompiledPattern>>& patterns,
             RunOutputs& outputs, const RunOptions& options)
      : file_(file),
        patterns_(patterns),
        outputs_(outputs),
        sort_(options.sort_output),
        match_ids_(options.match_ids),
        match_latency_(options.match_latency),
        threaded_(options.parallelism > 1) {}

  void OnMatch(size_t pattern, const Value& key, Match<Record> match,
               int64_t latency_ns) override {
    ++matches_;
    std::unique_lock<std::mutex> lock = Lock();
    WriteMatch(outputs_.matches, pattern, key, match, MatchKind::kMatch,
               latency_ns);
  }
  void OnTimeout(size_t pattern, const Value& key, Match<Record> partial,
                 Timestamp timeout_at, int64_t latency_ns) override {
    (void)timeout_at;
    std::unique_lock<std::mutex> lock = Lock();
    WriteMatch(outputs_.timeouts, pattern, key, partial, MatchKind::kTimeout,
               latency_ns);
  }
  void OnLate(const Record& record, Timestamp ts, uint64_t seq) override {
    (void)ts;
    if (outputs_.late == nullptr) return;
    std::unique_lock<std::mutex> lock = Lock();
    line_.clear();
    AppendEventJson(line_, record, seq, file_.schemas().size() > 1);
    Write(outputs_.late);
  }

  // Input lines skipped under OnError::kSkip, verbatim.
  void DeadLetter(std::string_view raw) {
    if (outputs_.dead_letter == nullptr) return;
    std::unique_lock<std::mutex> lock = Lock();
    line_.assign(raw);
    Write(outputs_.dead_letter);
  }

  // Matches so far; read by the reading thread for progress, so atomic.
  uint64_t matches() const { return matches_.load(std::memory_order_relaxed); }

  // Flushes every stream (a checkpoint; not with sort_output).
  absl::Status Flush() {
    std::unique_lock<std::mutex> lock = Lock();
    for (std::ostream* out : {outputs_.matches, outputs_.timeouts,
                              outputs_.late, outputs_.dead_letter}) {
      if (out != nullptr && !out->flush()) {
        return absl::UnavailableError("cannot write the output");
      }
    }
    return absl::OkStatus();
  }

  // Writes the sorted outputs (sort_output) and flushes every stream.
  absl::Status Close() {
    std::unique_lock<std::mutex> lock = Lock();
    for (auto& [stream, lines] : sorted_) {
      std::sort(lines.begin(), lines.end());
      for (const std::string& line : lines) {
        stream->write(line.data(), static_cast<std::streamsize>(line.size()));
      }
    }
    sorted_.clear();
    for (std::ostream* out : {outputs_.matches, outputs_.timeouts,
                              outputs_.late, outputs_.dead_letter}) {
      if (out != nullptr && !out->flush()) {
        return absl::UnavailableError("cannot write the output");
      }
    }
    return absl::OkStatus();
  }

 private:
  std::unique_lock<std::mutex> Lock() {
    return threaded_ ? std::unique_lock<std::mutex>(mu_)
                     : std::unique_lock<std::mutex>();
  }

  void WriteMatch(std::ostream* out, size_t pattern, const Value& key,
                  const Match<Record>& match, MatchKind kind,
                  int64_t latency_ns) {
    if (out == nullptr) return;
    const CompiledPattern& compiled = *patterns_[pattern];
    line_.clear();
    AppendMatchJson(line_, compiled.file_pattern->name, key, match, kind,
                    compiled.with_types);
    if (line_.empty() || line_.back() != '}') return Write(out);
    line_.pop_back();
    if (match_ids_) {
      absl::StrAppendFormat(&line_, ",\"id\":\"%016x\"",
                            MatchId(compiled.file_pattern->name, key, match));
    }
    if (match_latency_) {
      absl::StrAppendFormat(&line_, ",\"latency_us\":%d",
                            (latency_ns + 500) / 1000);
    }
    line_ += '}';
    Write(out);
  }

  // Writes line_ plus a newline, or keeps it for sorting.
  void Write(std::ostream* out) {
    line_ += '\n';
    if (sort_) {
      sorted_[out].push_back(line_);
      return;
    }
    out->write(line_.data(), static_cast<std::streamsize>(line_.size()));
  }

  // FNV-1a of the pattern name, the key (ValueCodec) and the events' seqs.
  uint64_t MatchId(std::string_view pattern, const Value& key,
                   const Match<Record>& match) {
    id_bytes_.assign(pattern);
    id_bytes_ += '\0';
    ValueCodec().Encode(key, id_bytes_);
    for (const StageMatch<Record>& stage : match.stages) {
      for (const MatchedEvent<Record>& event : stage.events) {
        internal::PutFixed64(id_bytes_, event.seq);
      }
    }
    return Fnv1a(kFnvOffset, id_bytes_);
  }

  const PatternFile& file_;
  const std::vector<std::unique_ptr<CompiledPattern>>& patterns_;
  RunOutputs& outputs_;
  bool sort_;
  bool match_ids_;
  bool match_latency_;
  bool threaded_;  // parallelism > 1: every call holds mu_
  std::mutex mu_;
  std::string id_bytes_;
  std::atomic<uint64_t> matches_{0};
  std::string line_;  // output line being built
  std::map<std::ostream*, std::vector<std::string>> sorted_;
};

class Runner {
 public:
  using Backend = RocksDbStateBackend<Record, Value>;

  Runner(const PatternFile& file, std::string_view input_name,
         const RunOptions& options, RunOutputs& outputs)
      : file_(file),
        input_name_(input_name),
        options_(options),
        decoder_(file),
        csv_(file),
        outputs_(outputs),
        sink_(file, patterns_, outputs, options) {}

  absl::Status Start() {
    if (options_.time == TimeMode::kEvent) {
      for (const auto& schema : file_.schemas()) {
        if (!schema->time_field().has_value()) {
          return absl::InvalidArgumentError(
              Cat(file_.filename(), ": error: event type '", schema->name(),
                  "' has no time field; a run orders events by event time "
                  "(mark a timestamp field with 'time', or run with --time "
                  "processing)"));
        }
      }
    }
    if (file_.patterns().empty()) {
      return absl::InvalidArgumentError(
          Cat(file_.filename(), ": error: the file declares no pattern"));
    }
    std::vector<RuntimePattern<Record, Value>> runtime_patterns;
    for (const FilePattern& pattern : file_.patterns()) {
      absl::StatusOr<Nfa<Record>> nfa = CompilePattern(pattern.pattern);
      if (!nfa.ok()) {
        return absl::Status(
            nfa.status().code(),
            Cat(pattern.filename,
                pattern.line > 0 ? Cat(":", pattern.line) : std::string(),
                ": error: pattern '", pattern.name,
                "': ", std::string(nfa.status().message())));
      }
      patterns_.push_back(std::make_unique<CompiledPattern>(CompiledPattern{
          &pattern, *std::move(nfa), pattern.types.size() > 1}));
      runtime_patterns
          .emplace_back(
              &patterns_.back()->nfa,
              [&pattern](const Record& r) { return pattern.KeyOf(r); },
              [&pattern](const Record& r) { return pattern.Accepts(r); })
          .evaluator = EvaluatorFor(pattern);
    }
    BackendFactory<Record, Value> factory;
    if (!options_.state_dir.empty()) {
      CEP_RETURN_IF_ERROR(OpenState(runtime_patterns, factory));
    }
    RuntimeOptions runtime_options;
    runtime_options.external_commits = !options_.state_dir.empty();
    runtime_options.loop = options_.loop;
    runtime_options.max_out_of_orderness = options_.max_out_of_orderness;
    runtime_options.evaluator = options_.evaluator;
    runtime_options.evaluator.report_timeouts = outputs_.timeouts != nullptr;
    runtime_options.trigger_interval = options_.trigger_interval;
    runtime_options.trigger_events = options_.trigger_events;
    runtime_options.commit_interval = options_.commit_interval;
    runtime_options.parallelism = options_.parallelism;
    absl::StatusOr<std::unique_ptr<Runtime<Record, Value>>> runtime =
        Runtime<Record, Value>::Create(std::move(runtime_patterns),
                                       runtime_options, sink_, factory);
    if (!runtime.ok()) return runtime.status();
    runtime_ = *std::move(runtime);
    if (durable()) {
      for (size_t pattern = 0; pattern < patterns_.size(); ++pattern) {
        runtime_->op().matcher(pattern).TrackScheduleChanges(true);
      }
    }
    next_progress_ = SteadyClockNanos() + Nanos(options_.progress_interval);
    return absl::OkStatus();
  }

  // One line of input, without its newline; `line_no` counts from 1.
  absl::Status Line(std::string_view raw, size_t line_no) {
    std::string_view line = raw;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find('\0') != std::string_view::npos) {
      if (Skipping()) return Skip(raw);
      return absl::InvalidArgumentError(Cat(
          input_name_, ":", line_no,
          ": error: the input is not text (it contains a NUL byte); "
          "expected ",
          options_.format == InputFormat::kCsv ? "CSV with a header row"
                                               : "one JSON object per line"));
    }
    if (IsBlankLine(line)) return absl::OkStatus();
    if (options_.format == InputFormat::kCsv && !csv_.has_header()) {
      if (absl::Status status = csv_.ReadHeader(line); !status.ok()) {
        return absl::InvalidArgumentError(
            Cat(input_name_, ":", line_no,
                ": error: header: ", std::string(status.message())));
      }
      return absl::OkStatus();
    }
    const int64_t arrival = Arrival();
    const int64_t started = options_.rate > 0 ? SteadyClockNanos() : arrival;
    absl::StatusOr<Record> record = options_.format == InputFormat::kCsv
                                        ? csv_.Decode(line)
                                        : decoder_.Decode(line);
    if (!record.ok()) {
      if (options_.on_error == OnError::kStop) {
        return absl::InvalidArgumentError(
            Cat(input_name_, ":", line_no,
                ": error: ", std::string(record.status().message())));
      }
      return Skip(raw);
    }
    const Timestamp ts = TimeOf(*record);
    if (ts > max_ts_) max_ts_ = ts;
    absl::Status status = runtime_->Push(*std::move(record), ts, arrival);
    if (!status.ok()) {
      return absl::Status(status.code(),
                          Cat(input_name_, ":", line_no,
                              ": error: ", std::string(status.message())));
    }
    event_time_.Record(SteadyClockNanos() - started);
    if (options_.progress && (line_no & 1023) == 0) ReportProgress();
    ++events_since_checkpoint_;
    return absl::OkStatus();
  }

  // What LineReader::Next gave for line `line_no`: the line, or the first
  // max_line_bytes of one too long (an error, or under OnError::kSkip a
  // dead letter cut to that length).
  absl::Status Read(io::LineRead read, std::string_view line, size_t line_no) {
    if (read == io::LineRead::kLine) return Line(line, line_no);
    if (Skipping()) return Skip(line);
    return absl::InvalidArgumentError(
        Cat(input_name_, ":", line_no, ": error: the line is longer than ",
            options_.max_line_bytes, " bytes (--max-line-bytes)"));
  }

  // Whether a line that is not text goes to the dead letters: under
  // OnError::kSkip, unless it is the CSV header, which the run cannot do
  // without.
  bool Skipping() const {
    return options_.on_error == OnError::kSkip &&
           !(options_.format == InputFormat::kCsv && !csv_.has_header());
  }

  // A line skipped under OnError::kSkip.
  absl::Status Skip(std::string_view raw) {
    ++errors_;
    sink_.DeadLetter(raw);
    return absl::OkStatus();
  }

  bool durable() const { return !options_.state_dir.empty(); }

  // Durable state: after the line that ends at `offset` (line `line_no`),
  // checkpoints when --checkpoint-every says so.
  absl::Status MaybeCheckpoint(uint64_t offset, size_t line_no) {
    if (!durable()) return absl::OkStatus();
    bool due = options_.checkpoint_events > 0 &&
               events_since_checkpoint_ >= options_.checkpoint_events;
    if (options_.checkpoint_with_loop) {
      due = runtime_->commit_points() != commit_points_at_checkpoint_;
    }
    if (!due && options_.checkpoint_interval > Duration(0) &&
        (line_no & 255) == 0) {
      due = SteadyClockNanos() - last_checkpoint_ns_ >=
            Nanos(options_.checkpoint_interval);
    }
    if (!due) return absl::OkStatus();
    return Checkpoint(offset, line_no);
  }

  // Flushes the outputs, then stages the run's position and the timers as
  // meta and commits them with the state, atomically per database.
  absl::Status Checkpoint(uint64_t offset, size_t line_no) {
    events_since_checkpoint_ = 0;
    commit_points_at_checkpoint_ = runtime_->commit_points();
    last_checkpoint_ns_ = SteadyClockNanos();
    CEP_RETURN_IF_ERROR(sink_.Flush());
    ++checkpoint_;
    std::string run;
    internal::PutVarint(run, kRunMetaVersion);
    internal::PutVarint(run, checkpoint_);
    internal::PutVarint(run, offset);
    internal::PutVarint(run, line_no);
    internal::PutVarint(run, errors_);
    internal::PutSignedVarint(run, ToMillis(max_ts_));
    for (const std::string* path :
         {&outputs_.matches_path, &outputs_.timeouts_path, &outputs_.late_path,
          &outputs_.dead_letter_path}) {
      uint64_t length = 0;
      if (!path->empty()) {
        struct stat st;
        if (::stat(path->c_str(), &st) != 0) {
          return absl::UnavailableError(
              Cat("cannot stat ", *path, ": ", std::strerror(errno)));
        }
        length = static_cast<uint64_t>(st.st_size) + 1;
      }
      internal::PutVarint(run, length);  // 0: no file
    }
    RuntimeSnapshot<Record> snapshot = runtime_->Export();
    internal::PutVarint(run, snapshot.next_seq);
    internal::PutSignedVarint(run, ToMillis(snapshot.max_ts));
    internal::PutSignedVarint(run, ToMillis(snapshot.source_watermark));
    internal::PutSignedVarint(run, ToMillis(snapshot.operator_watermark));
    internal::PutVarint(run, snapshot.pending.size());
    std::string bytes;
    for (const HeldEvent<Record>& held : snapshot.pending) {
      internal::PutSignedVarint(run, ToMillis(held.ts));
      internal::PutVarint(run, held.seq);
      bytes.clear();
      record_codec_->Encode(held.event, bytes);
      internal::PutLengthPrefixed(run, bytes);
    }
    for (size_t pattern = 0; pattern < backends_.size(); ++pattern) {
      RocksDbStateBackend<Record, Value>& backend = *backends_[pattern];
      CEP_RETURN_IF_ERROR(StageTimers(pattern, backend));
      if (pattern == 0) backend.store().PutSharedMeta(kMetaRun, run);
      backend.Stage();
    }
    // The patterns share one database and one batch: one atomic write.
    CEP_RETURN_IF_ERROR(backends_[0]->store().Commit());
    return KeepSnapshot();
  }

  // Stages the timers of `pattern` that changed since the last checkpoint,
  // one meta entry "timer/<key>" each (its time and order), and "timers":
  // the next timer order and the sensitive keys. Costs what changed, not
  // the number of keys with timers.
  absl::Status StageTimers(size_t pattern,
                           RocksDbStateBackend<Record, Value>& backend) {
    auto& matcher = runtime_->op().matcher(pattern);
    std::string timers;
    internal::PutVarint(timers, matcher.next_timer_order());
    const std::vector<Value> sensitive = matcher.SensitiveKeys();
    internal::PutVarint(timers, sensitive.size());
    for (const Value& key : sensitive) value_codec_.Encode(key, timers);
    CEP_RETURN_IF_ERROR(backend.SetMeta(kMetaTimers, timers));
    std::string name;
    std::string slot;
    for (const auto& [key, timer] : matcher.TakeScheduleChanges()) {
      name.assign(kMetaTimerPrefix);
      value_codec_.Encode(key, name);
      if (!timer) {
        CEP_RETURN_IF_ERROR(backend.DeleteMeta(name));
        continue;
      }
      slot.clear();
      internal::PutSignedVarint(slot, timer->at);
      internal::PutVarint(slot, timer->order);
      CEP_RETURN_IF_ERROR(backend.SetMeta(name, slot));
    }
    return absl::OkStatus();
  }

  // With RunOptions::keep_checkpoints: a copy of the database just
  // committed in DIR/checkpoints/NNNNNNNNNN (the checkpoint number), and
  // the oldest removed beyond the newest keep_checkpoints.
  absl::Status KeepSnapshot() {
    if (options_.keep_checkpoints == 0) return absl::OkStatus();
    const std::filesystem::path dir =
        std::filesystem::path(options_.state_dir) / "checkpoints";
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    const std::string name = absl::StrFormat("%010d", checkpoint_);
    std::filesystem::remove_all(dir / name, ec);  // left by a crash
    CEP_RETURN_IF_ERROR(
        backends_[0]->store().Checkpoint((dir / name).string()));
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    for (size_t idx = 0; idx + options_.keep_checkpoints < names.size();
         ++idx) {
      std::filesystem::remove_all(dir / names[idx], ec);
      if (ec) {
        return absl::UnavailableError(Cat(
            "cannot remove ", (dir / names[idx]).string(), ": ", ec.message()));
      }
    }
    return absl::OkStatus();
  }

  // Durable state: resumes from the last checkpoint in the state directory,
  // if any: truncates the output files, seeks `input`, restores the runtime
  // and the timers. Sets `offset` and `line_no` to the position.
  absl::Status Resume(std::istream& input, uint64_t& offset, size_t& line_no) {
    if (!durable()) return absl::OkStatus();
    CEP_ASSIGN_OR_RETURN(std::optional<std::string> run,
                         backends_[0]->store().GetSharedMeta(kMetaRun));
    if (!run.has_value()) {
      // A new run: the output files start empty.
      return TruncateOutputs({0, 0, 0, 0});
    }
    auto corrupt = [&](std::string_view what) {
      return absl::DataLossError(Cat(backends_[0]->store().path(),
                                     ": error: checkpoint meta '", kMetaRun,
                                     "' does not decode (", what, ")"));
    };
    std::string_view in = *run;
    uint64_t version = 0, checkpoint = 0, errors = 0, line = 0;
    int64_t max_ts = 0;
    if (!internal::GetVarint(in, version) || version != kRunMetaVersion) {
      return corrupt("version");
    }
    if (!internal::GetVarint(in, checkpoint) ||
        !internal::GetVarint(in, offset) || !internal::GetVarint(in, line) ||
        !internal::GetVarint(in, errors) ||
        !internal::GetSignedVarint(in, max_ts)) {
      return corrupt("position");
    }
    std::vector<uint64_t> lengths(4);
    for (uint64_t& length : lengths) {
      if (!internal::GetVarint(in, length)) return corrupt("outputs");
    }
    RuntimeSnapshot<Record> snapshot;
    int64_t ms[3];
    uint64_t pending = 0;
    if (!internal::GetVarint(in, snapshot.next_seq) ||
        !internal::GetSignedVarint(in, ms[0]) ||
        !internal::GetSignedVarint(in, ms[1]) ||
        !internal::GetSignedVarint(in, ms[2]) ||
        !internal::GetVarint(in, pending)) {
      return corrupt("runtime");
    }
    snapshot.max_ts = FromMillis(ms[0]);
    snapshot.source_watermark = FromMillis(ms[1]);
    snapshot.operator_watermark = FromMillis(ms[2]);
    for (uint64_t held_idx = 0; held_idx < pending; ++held_idx) {
      HeldEvent<Record> held;
      int64_t ts = 0;
      std::string_view bytes;
      if (!internal::GetSignedVarint(in, ts) ||
          !internal::GetVarint(in, held.seq) ||
          !internal::GetLengthPrefixed(in, bytes) ||
          !record_codec_->Decode(bytes, held.event).ok()) {
        return corrupt("pending events");
      }
      held.ts = FromMillis(ts);
      snapshot.pending.push_back(std::move(held));
    }
    for (size_t pattern = 0; pattern < backends_.size(); ++pattern) {
      RocksDbStateBackend<Record, Value>& backend = *backends_[pattern];
      CEP_ASSIGN_OR_RETURN(std::optional<std::string> timers,
                           backend.GetMeta(kMetaTimers));
      if (!timers.has_value()) continue;  // a pattern new in this run
      KeyedMatcher<Record, Value>::TimerSchedule schedule;
      std::string_view t = *timers;
      uint64_t count = 0;
      if (!internal::GetVarint(t, schedule.next_order) ||
          !internal::GetVarint(t, count)) {
        return corrupt("timers");
      }
      for (uint64_t idx = 0; idx < count; ++idx) {
        Value key;
        if (!value_codec_.Decode(t, key).ok()) return corrupt("sensitive keys");
        schedule.sensitive_keys.push_back(std::move(key));
      }
      absl::Status scanned = backend.ForEachMeta(
          kMetaTimerPrefix,
          [&](std::string_view name, std::string_view value) -> absl::Status {
            Value key;
            KeyedMatcher<Record, Value>::TimerSlot slot;
            if (!value_codec_.Decode(name, key).ok() || !name.empty() ||
                !internal::GetSignedVarint(value, slot.at) ||
                !internal::GetVarint(value, slot.order)) {
              return corrupt("a timer");
            }
            schedule.timers.emplace_back(std::move(key), slot);
            return absl::OkStatus();
          });
      CEP_RETURN_IF_ERROR(scanned);
      runtime_->op().matcher(pattern).ImportSchedule(std::move(schedule));
    }
    CEP_RETURN_IF_ERROR(TruncateOutputs(lengths));
    // The input goes on where the checkpoint left it.
    uint64_t consumed = 0;  // bytes read from the input so far
    if (options_.format == InputFormat::kCsv) {
      // The header row first.
      std::string header;
      size_t header_line = 0;
      io::LineReader reader(options_.max_line_bytes,
                            options_.on_error == OnError::kSkip, options_.stop);
      uint64_t header_bytes = 0;
      io::LineRead read;
      while (!csv_.has_header() &&
             (read = reader.Next(input, header, header_bytes)) !=
                 io::LineRead::kEnd) {
        consumed += header_bytes;
        CEP_RETURN_IF_ERROR(Read(read, header, ++header_line));
      }
    }
    CEP_RETURN_IF_ERROR(SkipInput(input, consumed, offset));
    line_no = static_cast<size_t>(line);
    errors_ = errors;
    max_ts_ = FromMillis(max_ts);
    checkpoint_ = checkpoint;
    return runtime_->Import(std::move(snapshot));
  }

  // Moves `input`, of which `consumed` bytes have been read, to byte
  // `offset`: a seek, or for a pipe reading and dropping the bytes between.
  absl::Status SkipInput(std::istream& input, uint64_t consumed,
                         uint64_t offset) {
    input.clear();
    input.seekg(0, std::ios::end);
    const std::streamoff size = input.tellg();
    uint64_t available = static_cast<uint64_t>(size);
    if (input && size >= 0 && available >= offset) {
      input.seekg(static_cast<std::streamoff>(offset));
      return absl::OkStatus();
    }
    if (!input || size < 0) {  // cannot seek: read up to `offset`
      input.clear();
      const uint64_t to_skip = offset > consumed ? offset - consumed : 0;
      input.ignore(static_cast<std::streamsize>(to_skip));
      available = consumed + static_cast<uint64_t>(input.gcount());
      if (available >= offset) return absl::OkStatus();
    }
    return absl::FailedPreconditionError(
        Cat(input_name_, ": error: cannot resume from ", options_.state_dir,
            ": the input has ", available, " bytes, the checkpoint is at byte ",
            offset));
  }

  // A clean stop after the line that ends at `offset` (line `line_no`): the
  // outputs flushed and, with durable state, a checkpoint there; no waiting
  // event is released and no window closes.
  absl::StatusOr<RunStats> Stop(uint64_t offset, size_t line_no) {
    if (absl::Status closed = sink_.Close(); !closed.ok()) return closed;
    if (durable()) CEP_RETURN_IF_ERROR(Checkpoint(offset, line_no));
    RunStats stats = Stats();
    stats.stopped = true;
    return stats;
  }

  // End of input (at byte `end_offset`, after line `end_line`): every
  // waiting event, then every window closes.
  absl::StatusOr<RunStats> Finish(uint64_t end_offset, size_t end_line) {
    absl::Status status = runtime_->Finish();
    if (!status.ok()) {
      return absl::Status(
          status.code(),
          Cat(input_name_, ": error: ", std::string(status.message())));
    }
    if (absl::Status closed = sink_.Close(); !closed.ok()) return closed;
    if (durable()) CEP_RETURN_IF_ERROR(Checkpoint(end_offset, end_line));
    return Stats();
  }

 private:
  RunStats Stats() const {
    RuntimeStats runtime_stats = runtime_->stats();
    RunStats stats;
    stats.events = runtime_stats.events;
    stats.matches = runtime_stats.matches;
    stats.timeouts = runtime_stats.timeouts;
    stats.late = runtime_stats.late;
    stats.errors = errors_;
    stats.latency = runtime_stats.latency;
    for (const auto& pattern : patterns_) {
      stats.pattern_names.push_back(pattern->file_pattern->name);
    }
    stats.pattern_latency = std::move(runtime_stats.pattern_latency);
    // Timeouts nobody takes are only counted, by the evaluators.
    const bool timeouts_counted_only = outputs_.timeouts == nullptr;
    if (timeouts_counted_only) stats.timeouts = 0;
    for (size_t pattern = 0; pattern < patterns_.size(); ++pattern) {
      const EvaluatorMetrics metrics = runtime_->metrics(pattern);
      stats.expired_keys += metrics.expired_keys;
      stats.evicted_partial_matches += metrics.evicted_partial_matches;
      stats.pattern_evicted.push_back(metrics.evicted_partial_matches);
      stats.reclaimed_nodes += metrics.reclaimed_nodes;
      stats.pattern_shared.push_back(
          runtime_->op().matcher(pattern).shares_partial_matches());
      if (timeouts_counted_only) stats.timeouts += metrics.timeouts;
    }
    stats.event_time = event_time_;
    stats.migrations = migrations_;
    return stats;
  }

  Timestamp TimeOf(const Record& record) {
    if (options_.time == TimeMode::kEvent) {
      return FromMillis(record.GetInt(*record.schema().time_field()));
    }
    // Processing time never goes back, so no event is late.
    const Timestamp now = std::chrono::time_point_cast<Duration>(
        std::chrono::system_clock::now());
    return std::max(now, max_ts_);
  }

  // Meta names in the state databases (see Checkpoint()).
  static constexpr uint64_t kRunMetaVersion = 2;
  static constexpr std::string_view kMetaRun = "run";
  static constexpr std::string_view kMetaTimers = "timers";
  static constexpr std::string_view kMetaTimerPrefix = "timer/";
  static constexpr std::string_view kMetaSource = "source";
  // Set on an old version once a --migrate run drains it: only then may a
  // run without --migrate drop it when it holds nothing.
  static constexpr std::string_view kMetaDraining = "draining";

  // Opens one RocksDB state per pattern under state_dir; `factory` hands
  // them to the runtime.
  // The structure hash of a compiled pattern over the file's event types:
  // 16 hex digits.
  std::string Hash(const CompiledPattern& pattern) const {
    const uint64_t hash = Fnv1a(
        Fnv1a(kFnvOffset, schema_text_),
        Cat("pattern ", pattern.file_pattern->name, " key ",
            pattern.file_pattern->key_field, "\n", pattern.nfa.ToString()));
    return absl::StrFormat("%016x", hash);
  }

  absl::StatusOr<std::unique_ptr<RocksDbStateBackend<Record, Value>>>
  OpenBackend(std::unique_ptr<RocksDbStore> store, const std::string& hash) {
    RocksDbStateOptions state_options;
    state_options.cache_capacity = options_.state_cache_keys;
    state_options.pattern_hash = hash;
    return RocksDbStateBackend<Record, Value>::Open(
        std::move(store), state_options, value_codec_, *record_codec_);
  }

  void AddBackend(std::unique_ptr<RocksDbStateBackend<Record, Value>> backend) {
    owned_backends_.push_back(std::move(backend));
    backends_.push_back(owned_backends_.back().get());
  }

  // The state of a version of a pattern that the files no longer declare
  // (namespace NAME@HASH): with --migrate dropped when it holds no key, else
  // drained (its old definition, kept in the state, runs on without
  // starting new partial matches); without it an error, unless it holds
  // nothing and an earlier --migrate run drained it, or no checkpoint ever
  // ran in it. (A finished run holds no key either, but its state belongs
  // to another pattern all the same.)
  absl::Status DrainOrDrop(
      const std::string& space, std::unique_ptr<RocksDbStore> store,
      std::vector<RuntimePattern<Record, Value>>& runtime) {
    const size_t at = space.rfind('@');
    const std::string name = space.substr(0, at);
    const std::string hash =
        at == std::string::npos ? std::string() : space.substr(at + 1);
    const std::string where = store->path();
    CEP_ASSIGN_OR_RETURN(std::unique_ptr<Backend> backend,
                         OpenBackend(std::move(store), hash));
    CEP_ASSIGN_OR_RETURN(std::optional<std::string> source,
                         backend->GetMeta(kMetaSource));
    if (backend->key_count() == 0) {
      CEP_ASSIGN_OR_RETURN(std::optional<std::string> draining,
                           backend->GetMeta(kMetaDraining));
      // Without a source no checkpoint ran (a run refused at the start).
      if (options_.migrate || draining.has_value() || !source.has_value()) {
        return backend->store().Drop();
      }
    }
    if (!options_.migrate) {
      if (file_.FindPattern(name) == nullptr) {
        return absl::FailedPreconditionError(
            Cat(where, ": error: holds the state of pattern '",
                internal::Printable(name),
                "', which the pattern files do not declare; run with "
                "--migrate to let it drain, or with another --state "
                "directory"));
      }
      return absl::FailedPreconditionError(
          Cat(where, ": error: holds the state of pattern '", name,
              "' with hash ", internal::Printable(hash),
              "; the pattern now has hash ", Hash(*FindCompiled(name)),
              "; run with --migrate to start it fresh while the old version "
              "drains, or with another --state directory"));
    }
    auto cannot = [&](std::string_view why) {
      return absl::FailedPreconditionError(
          Cat(where, ": error: cannot drain the old version of pattern '",
              internal::Printable(name), "': ", why));
    };
    if (!source.has_value() || source->empty()) {
      return cannot("its definition is not in the state (written in C++?)");
    }
    absl::StatusOr<PatternFile> old = ParsePatternFile(*source, where);
    // Text from the database: escaped, in case it is corrupted.
    if (!old.ok()) {
      return cannot(internal::Printable(std::string(old.status().message())));
    }
    if (absl::Status same = CheckSameEventTypes(file_, *old); !same.ok()) {
      return cannot(
          Cat("its event types differ: ", std::string(same.message())));
    }
    old_files_.push_back(std::make_unique<PatternFile>(*std::move(old)));
    const FilePattern* pattern = old_files_.back()->FindPattern(name);
    if (pattern == nullptr) return cannot("its definition is not in the state");
    absl::StatusOr<Nfa<Record>> nfa = CompilePattern(pattern->pattern);
    if (!nfa.ok()) return cannot(std::string(nfa.status().message()));
    patterns_.push_back(std::make_unique<CompiledPattern>(
        CompiledPattern{pattern, *std::move(nfa), pattern->types.size() > 1}));
    if (Hash(*patterns_.back()) != hash) {
      return cannot("its definition does not give its hash");
    }
    RuntimePattern<Record, Value>& drained = runtime.emplace_back(
        &patterns_.back()->nfa,
        [pattern](const Record& r) { return pattern->KeyOf(r); },
        [pattern](const Record& r) { return pattern->Accepts(r); });
    drained.evaluator = EvaluatorFor(*pattern);
    drained.evaluator->start_new_matches = false;
    migrations_.push_back(Cat("pattern '", name, "': the version with hash ",
                              hash, " drains the partial matches of ",
                              backend->key_count(), " keys"));
    CEP_RETURN_IF_ERROR(backend->SetMeta(kMetaDraining, "1"));
    AddBackend(std::move(backend));
    return absl::OkStatus();
  }

  // The evaluator options of `pattern`: the run's, with its header's
  // `max partial matches` clause winning (and keeping it per run: only
  // runs of their own can be capped); timed-out partial matches are built
  // only when some output takes them.
  EvaluatorOptions EvaluatorFor(const FilePattern& pattern) const {
    EvaluatorOptions evaluator = options_.evaluator;
    if (pattern.max_partial_matches) {
      // A cap asked for by the pattern applies to runs of their own.
      evaluator.max_partial_matches = *pattern.max_partial_matches;
      evaluator.strategy = EvaluationStrategy::kPerRun;
    }
    if (pattern.overflow_policy) {
      evaluator.overflow_policy = *pattern.overflow_policy;
    }
    evaluator.report_timeouts = outputs_.timeouts != nullptr;
    return evaluator;
  }

  // The compiled current version of the file's pattern `name`.
  // REQUIRES: file_.FindPattern(name) != nullptr.
  const CompiledPattern* FindCompiled(const std::string& name) const {
    for (const auto& pattern : patterns_) {
      if (pattern->file_pattern->name == name) return pattern.get();
    }
    return nullptr;
  }

  absl::Status OpenState(std::vector<RuntimePattern<Record, Value>>& runtime,
                         BackendFactory<Record, Value>& factory) {
    if (options_.parallelism != 1) {
      return absl::InvalidArgumentError(
          "--state rocksdb: needs --parallelism 1 in this version");
    }
    if (options_.sort_output) {
      return absl::InvalidArgumentError(
          "--state rocksdb: cannot be combined with --sort-output");
    }
    std::error_code ec;
    std::filesystem::create_directories(options_.state_dir, ec);
    if (ec) {
      return absl::UnavailableError(
          Cat("cannot create ", options_.state_dir, ": ", ec.message()));
    }
    std::vector<const Schema*> schemas;
    std::string schema_text;
    for (const auto& schema : file_.schemas()) {
      schemas.push_back(schema.get());
      schema_text += Cat("event ", schema->name(), "\n");
      for (const FieldDef& field : schema->fields()) {
        schema_text +=
            Cat("  ", field.name, " ", static_cast<int>(field.type), "\n");
      }
      schema_text += Cat("  key ", schema->key_field().value_or(999), " time ",
                         schema->time_field().value_or(999), "\n");
    }
    record_codec_ = std::make_unique<RecordCodec>(std::move(schemas));
    schema_text_ = std::move(schema_text);
    // One database for every pattern, a namespace NAME@HASH each.
    RocksDbStoreOptions store_options;
    store_options.path =
        (std::filesystem::path(options_.state_dir) / "db").string();
    std::vector<std::string> names;
    for (const auto& pattern : patterns_) {
      names.push_back(Cat(pattern->file_pattern->name, "@", Hash(*pattern)));
    }
    CEP_ASSIGN_OR_RETURN(RocksDbStore::Shared shared,
                         RocksDbStore::OpenShared(store_options, names));
    const std::vector<std::string> others = shared.other_namespaces;
    if (!others.empty()) {
      // Open again with the namespaces of old versions, to drain or drop
      // them.
      shared.stores.clear();
      std::vector<std::string> all = names;
      all.insert(all.end(), others.begin(), others.end());
      CEP_ASSIGN_OR_RETURN(shared,
                           RocksDbStore::OpenShared(store_options, all));
    }
    const size_t current = patterns_.size();
    for (size_t idx = 0; idx < current; ++idx) {
      const CompiledPattern& pattern = *patterns_[idx];
      CEP_ASSIGN_OR_RETURN(
          std::unique_ptr<Backend> backend,
          OpenBackend(std::move(shared.stores[idx]), Hash(pattern)));
      CEP_ASSIGN_OR_RETURN(std::optional<std::string> source,
                           backend->GetMeta(kMetaSource));
      if (!source.has_value()) {
        CEP_RETURN_IF_ERROR(
            backend->SetMeta(kMetaSource, pattern.file_pattern->source));
      }
      AddBackend(std::move(backend));
    }
    for (size_t idx = 0; idx < others.size(); ++idx) {
      CEP_RETURN_IF_ERROR(DrainOrDrop(
          others[idx], std::move(shared.stores[current + idx]), runtime));
    }
    factory = [this](size_t worker, size_t pattern)
        -> absl::StatusOr<std::unique_ptr<StateBackend<Record, Value>>> {
      (void)worker;
      if (pattern >= owned_backends_.size() || !owned_backends_[pattern]) {
        return absl::InternalError("state backend taken twice");
      }
      return std::unique_ptr<StateBackend<Record, Value>>(
          std::move(owned_backends_[pattern]));
    };
    return absl::OkStatus();
  }

  // Truncates the output files to `lengths` (matches, timeouts, late, dead
  // letter; 0: no file recorded, else length + 1).
  absl::Status TruncateOutputs(const std::vector<uint64_t>& lengths) {
    const std::string* paths[] = {&outputs_.matches_path,
                                  &outputs_.timeouts_path, &outputs_.late_path,
                                  &outputs_.dead_letter_path};
    for (size_t idx = 0; idx < 4; ++idx) {
      const std::string& path = *paths[idx];
      if (path.empty()) continue;
      const uint64_t length = lengths[idx] == 0 ? 0 : lengths[idx] - 1;
      if (::truncate(path.c_str(), static_cast<off_t>(length)) != 0) {
        return absl::UnavailableError(
            Cat("cannot truncate ", path, ": ", std::strerror(errno)));
      }
    }
    return absl::OkStatus();
  }

  void ReportProgress() {
    const int64_t now = SteadyClockNanos();
    if (now < next_progress_) return;
    next_progress_ = now + Nanos(options_.progress_interval);
    RunProgress progress;
    progress.events = runtime_->stats().events;
    progress.matches = sink_.matches();
    const Timestamp watermark = runtime_->watermark();
    progress.watermark_lag =
        watermark > kMinWatermark ? max_ts_ - watermark : Duration(0);
    options_.progress(progress);
  }

  // The arrival time of the next event: now, or with RunOptions::rate the
  // time it is due, after waiting for it when early.
  int64_t Arrival() {
    if (options_.rate <= 0) return SteadyClockNanos();
    if (paced_ == 0) pace_start_ns_ = SteadyClockNanos();
    const int64_t due =
        pace_start_ns_ + static_cast<int64_t>(static_cast<double>(paced_++) *
                                              1e9 / options_.rate);
    if (SteadyClockNanos() < due) {
      std::this_thread::sleep_until(
          std::chrono::steady_clock::time_point(std::chrono::nanoseconds(due)));
    }
    return due;
  }

  static int64_t Nanos(Duration d) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  }

  const PatternFile& file_;
  std::string_view input_name_;
  const RunOptions& options_;
  RecordDecoder decoder_;
  RecordCsvDecoder csv_;
  std::vector<std::unique_ptr<CompiledPattern>> patterns_;
  RunOutputs& outputs_;
  OutputSink sink_;
  // Durable state: codecs, the backends (owned by the runtime once it
  // starts), checkpoint bookkeeping.
  ValueCodec value_codec_;
  std::unique_ptr<RecordCodec> record_codec_;
  std::vector<std::unique_ptr<RocksDbStateBackend<Record, Value>>>
      owned_backends_;
  std::vector<RocksDbStateBackend<Record, Value>*> backends_;
  std::string schema_text_;  // the event types, for pattern hashes
  // --migrate: the old versions' files, and what is drained.
  std::vector<std::unique_ptr<PatternFile>> old_files_;
  std::vector<std::string> migrations_;
  uint64_t checkpoint_ = 0;
  uint64_t events_since_checkpoint_ = 0;
  uint64_t commit_points_at_checkpoint_ = 0;  // checkpoint_with_loop
  int64_t last_checkpoint_ns_ = SteadyClockNanos();
  std::unique_ptr<Runtime<Record, Value>> runtime_;
  Timestamp max_ts_ = kMinWatermark;
  uint64_t errors_ = 0;
  int64_t next_progress_ = 0;
  LatencyHistogram event_time_;  // RunStats::event_time
  // Pacing (RunOptions::rate): events paced so far, and when the first was.
  uint64_t paced_ = 0;
  int64_t pace_start_ns_ = 0;
};

}  // namespace

absl::StatusOr<RunStats> RunPatternFile(const PatternFile& file,
                                        std::istream& input,
                                        std::string_view input_name,
                                        const RunOptions& options,
                                        RunOutputs& outputs) {
  Runner runner(file, input_name, options, outputs);
  if (absl::Status status = runner.Start(); !status.ok()) return status;
  if (outputs.open != nullptr) {
    if (absl::Status status = outputs.open(); !status.ok()) return status;
  }
  uint64_t offset = 0;  // of the next unread line
  size_t line_no = 0;
  if (absl::Status status = runner.Resume(input, offset, line_no);
      !status.ok()) {
    return status;
  }
  auto stop_requested = [&options] {
    return options.stop != nullptr &&
           options.stop->load(std::memory_order_relaxed);
  };
  std::string line;
  io::LineReader reader(options.max_line_bytes,
                        options.on_error == OnError::kSkip, options.stop);
  uint64_t consumed = 0;
  io::LineRead read;
  while (!stop_requested() &&
         (read = reader.Next(input, line, consumed)) != io::LineRead::kEnd) {
    // A read cut short by the stop leaves a partial last line: it is read
    // again, whole, by the run that resumes.
    if (input.eof() && stop_requested()) break;
    ++line_no;
    offset += consumed;
    if (absl::Status status = runner.Read(read, line, line_no); !status.ok()) {
      return status;
    }
    if (options.stop_after_lines > 0 && line_no >= options.stop_after_lines) {
      return absl::AbortedError(
          Cat(input_name, ": stopped after line ", line_no));
    }
    if (absl::Status status = runner.MaybeCheckpoint(offset, line_no);
        !status.ok()) {
      return status;
    }
  }
  // Reading may also end because a signal interrupted it.
  if (stop_requested()) return runner.Stop(offset, line_no);
  if (input.bad()) {
    return absl::UnavailableError(
        Cat(input_name, ": error: cannot read the input"));
  }
  return runner.Finish(offset, line_no);
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

namespace {

// The longest duration a flag takes: 106751 days, so that it fits in
// nanoseconds (int64) and event time plus or minus it cannot overflow.
constexpr Duration kMaxFlagDuration = std::chrono::hours(24 * 106751);

// Sets `interval` or `events` (the other one becomes 0) from a flag value
// such as 10000events or a positive duration.
absl::Status ParseIntervalOrEvents(std::string_view flag,
                                   std::string_view value,
                                   std::string_view interval_examples,
                                   Duration& interval, size_t& events) {
  constexpr std::string_view kEvents = "events";
  if (value.size() > kEvents.size() &&
      value.substr(value.size() - kEvents.size()) == kEvents) {
    const std::string_view count =
        value.substr(0, value.size() - kEvents.size());
    size_t parsed = 0;
    auto [end, ec] =
        std::from_chars(count.data(), count.data() + count.size(), parsed);
    if (ec != std::errc() || end != count.data() + count.size() ||
        parsed == 0) {
      return absl::InvalidArgumentError(
          Cat("--", flag, ": '", value,
              "' is not a count of events such as 10000events"));
    }
    events = parsed;
    interval = Duration(0);
    return absl::OkStatus();
  }
  absl::StatusOr<Duration> duration = ParseDuration(value);
  if (!duration.ok() || *duration <= Duration(0)) {
    return absl::InvalidArgumentError(
        Cat("--", flag, ": '", value, "' is neither an interval (",
            interval_examples, ") nor a count of events (10000events)"));
  }
  if (*duration > kMaxFlagDuration) {
    return absl::InvalidArgumentError(
        Cat("--", flag, ": '", value, "' is too long (at most 106751d)"));
  }
  interval = *duration;
  events = 0;
  return absl::OkStatus();
}

// Flag values shared by several options. `flag` is the name without
// dashes; errors name it and the value.

absl::Status ParseSwitch(std::string_view flag, std::string_view value,
                         bool& out) {
  if (value != "true" && value != "false") {
    return absl::InvalidArgumentError(
        Cat("--", flag, ": '", value, "' is not true or false"));
  }
  out = value == "true";
  return absl::OkStatus();
}

absl::Status ParseDurationFlag(std::string_view flag, std::string_view value,
                               Duration& out) {
  absl::StatusOr<Duration> duration = ParseDuration(value);
  if (!duration.ok()) {
    return absl::InvalidArgumentError(
        Cat("--", flag, ": ", std::string(duration.status().message())));
  }
  if (*duration > kMaxFlagDuration) {
    return absl::InvalidArgumentError(
        Cat("--", flag, ": '", value, "' is too long (at most 106751d)"));
  }
  out = *duration;
  return absl::OkStatus();
}

constexpr size_t kUnbounded = std::numeric_limits<size_t>::max();

// An integer from `min` to `max` (kUnbounded: no upper limit).
absl::Status ParseCount(std::string_view flag, std::string_view value,
                        size_t min, size_t max, size_t& out) {
  size_t parsed = 0;
  auto [end, ec] =
      std::from_chars(value.data(), value.data() + value.size(), parsed);
  if (ec != std::errc() || end != value.data() + value.size() || parsed < min ||
      parsed > max) {
    return absl::InvalidArgumentError(
        max == kUnbounded ? Cat("--", flag, ": '", value, "' is not a number, ",
                                min, " or more")
                          : Cat("--", flag, ": '", value,
                                "' is not a number from ", min, " to ", max));
  }
  out = parsed;
  return absl::OkStatus();
}

}  // namespace

absl::Status SetRunOption(std::string_view name, std::string_view value,
                          RunOptions& options) {
  if (name == "max-out-of-orderness") {
    return ParseDurationFlag(name, value, options.max_out_of_orderness);
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
  if (name == "format") {
    if (value == "jsonl") {
      options.format = InputFormat::kJsonl;
    } else if (value == "csv") {
      options.format = InputFormat::kCsv;
    } else {
      return absl::InvalidArgumentError(
          Cat("--format: '", value, "' is not jsonl or csv"));
    }
    return absl::OkStatus();
  }
  if (name == "time") {
    if (value == "event") {
      options.time = TimeMode::kEvent;
    } else if (value == "processing") {
      options.time = TimeMode::kProcessing;
    } else {
      return absl::InvalidArgumentError(
          Cat("--time: '", value, "' is not event or processing"));
    }
    return absl::OkStatus();
  }
  if (name == "sort-output")
    return ParseSwitch(name, value, options.sort_output);
  if (name == "loop") {
    absl::StatusOr<Loop> loop = ParseLoop(value);
    if (!loop.ok()) {
      return absl::InvalidArgumentError(
          Cat("--loop: ", std::string(loop.status().message())));
    }
    options.loop = *loop;
    return absl::OkStatus();
  }
  if (name == "trigger") {
    return ParseIntervalOrEvents("trigger", value, "100ms, 1s",
                                 options.trigger_interval,
                                 options.trigger_events);
  }
  if (name == "state-cache") {
    return ParseCount(name, value, 1, kUnbounded, options.state_cache_keys);
  }
  if (name == "migrate") return ParseSwitch(name, value, options.migrate);
  if (name == "state-ttl") {
    return ParseDurationFlag(name, value, options.evaluator.state_ttl);
  }
  if (name == "max-partial-matches") {
    return ParseCount(name, value, 0, kUnbounded,
                      options.evaluator.max_partial_matches);
  }
  if (name == "evaluation") {
    if (value == "auto") {
      options.evaluator.strategy = EvaluationStrategy::kAuto;
    } else if (value == "per-run") {
      options.evaluator.strategy = EvaluationStrategy::kPerRun;
    } else {
      return absl::InvalidArgumentError(
          Cat("--evaluation: '", value, "' is not auto or per-run"));
    }
    return absl::OkStatus();
  }
  if (name == "overflow") {
    if (value == "drop-oldest") {
      options.evaluator.overflow_policy = OverflowPolicy::kDropOldest;
    } else if (value == "refuse-new") {
      options.evaluator.overflow_policy = OverflowPolicy::kRejectNewStarts;
    } else {
      return absl::InvalidArgumentError(
          Cat("--overflow: '", value, "' is not drop-oldest or refuse-new"));
    }
    return absl::OkStatus();
  }
  if (name == "commit-interval") {
    return ParseDurationFlag(name, value, options.commit_interval);
  }
  if (name == "state") {
    constexpr std::string_view kRocksDb = "rocksdb:";
    if (value == "memory") {
      options.state_dir.clear();
    } else if (value.substr(0, kRocksDb.size()) == kRocksDb &&
               value.size() > kRocksDb.size()) {
      options.state_dir = std::string(value.substr(kRocksDb.size()));
    } else {
      return absl::InvalidArgumentError(
          Cat("--state: '", value, "' is not memory or rocksdb:DIR"));
    }
    return absl::OkStatus();
  }
  if (name == "checkpoint-every") {
    options.checkpoint_with_loop = value == "loop";
    if (options.checkpoint_with_loop) {
      options.checkpoint_events = 0;
      options.checkpoint_interval = Duration(0);
      return absl::OkStatus();
    }
    return ParseIntervalOrEvents("checkpoint-every", value, "5s",
                                 options.checkpoint_interval,
                                 options.checkpoint_events);
  }
  if (name == "match-ids") return ParseSwitch(name, value, options.match_ids);
  if (name == "keep-checkpoints") {
    return ParseCount(name, value, 0, 1000, options.keep_checkpoints);
  }
  if (name == "latency") return ParseSwitch(name, value, options.match_latency);
  if (name == "rate") {
    double rate = 0;
    auto [end, ec] =
        std::from_chars(value.data(), value.data() + value.size(), rate);
    if (ec != std::errc() || end != value.data() + value.size() ||
        !(rate > 0 && rate <= 1e9)) {
      return absl::InvalidArgumentError(
          Cat("--rate: '", value,
              "' is not a number of events per second (above 0, at most "
              "1e9)"));
    }
    options.rate = rate;
    return absl::OkStatus();
  }
  if (name == "parallelism") {
    return ParseCount(name, value, 1, 256, options.parallelism);
  }
  if (name == "max-line-bytes") {
    return ParseCount(name, value, 1, kMaxLineBytesLimit,
                      options.max_line_bytes);
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
    } else if (name == "sort-output" || name == "match-ids" ||
               name == "latency" || name == "migrate") {
      value = "true";  // a switch
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
