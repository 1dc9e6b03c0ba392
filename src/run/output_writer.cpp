// OutputWriter: see output_writer.hpp.

#include "output_writer.hpp"

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"

#include "cep/codec.hpp"
#include "cep/internal/status_macros.hpp"

namespace cep::run {

OutputWriter::OutputWriter(
    const PatternFile& file,
    const std::vector<std::unique_ptr<CompiledPattern>>& patterns,
    const RunOutputs& outputs, const RunOptions& options)
    : file_(file),
      patterns_(patterns),
      sort_(options.sort_output),
      match_ids_(options.match_ids),
      match_latency_(options.match_latency),
      threaded_(options.parallelism > 1) {
  Open(outputs);
}

void OutputWriter::Open(const RunOutputs& outputs) {
  const std::array<std::ostream*, kOutputCount> streams = {
      outputs.matches, outputs.timeouts, outputs.late, outputs.dead_letter};
  paths_ = {outputs.matches_path, outputs.timeouts_path, outputs.late_path,
            outputs.dead_letter_path};
  owned_.clear();
  for (size_t idx = 0; idx < kOutputCount; ++idx) {
    sinks_[idx] = nullptr;
    if (streams[idx] == nullptr) continue;
    for (const auto& sink : owned_) {
      if (sink->stream() == streams[idx]) sinks_[idx] = sink.get();
    }
    if (sinks_[idx] == nullptr) {
      owned_.push_back(
          std::make_unique<Sink>(streams[idx], paths_[idx], sort_));
      sinks_[idx] = owned_.back().get();
    }
  }
}

void OutputWriter::OnMatch(size_t pattern, const Value& key,
                           Match<Record> match, int64_t latency_ns) {
  ++matches_;
  std::unique_lock<std::mutex> lock = Lock();
  WriteMatch(Output::kMatches, pattern, key, match, MatchKind::kMatch,
             latency_ns);
}

void OutputWriter::OnTimeout(size_t pattern, const Value& key,
                             Match<Record> partial, Timestamp timeout_at,
                             int64_t latency_ns) {
  (void)timeout_at;
  std::unique_lock<std::mutex> lock = Lock();
  WriteMatch(Output::kTimeouts, pattern, key, partial, MatchKind::kTimeout,
             latency_ns);
}

void OutputWriter::OnLate(const Record& record, Timestamp ts, uint64_t seq) {
  (void)ts;
  CountLate(record);
  Sink* out = sink(Output::kLate);
  if (out == nullptr) return;
  std::unique_lock<std::mutex> lock = Lock();
  line_.clear();
  AppendEventJson(line_, record, seq, file_.schemas().size() > 1);
  Write(out);
}

// Each pattern (by name: a draining old version shares its pattern's) that
// would have taken `record`.
void OutputWriter::CountLate(const Record& record) {
  const std::string* last = nullptr;
  for (const auto& pattern : patterns_) {
    const FilePattern& file_pattern = *pattern->file_pattern;
    if (last != nullptr && *last == file_pattern.name) continue;
    if (!file_pattern.Accepts(record)) continue;
    ++late_by_pattern_[file_pattern.name];
    last = &file_pattern.name;
  }
}

uint64_t OutputWriter::late(const std::string& pattern) const {
  const auto it = late_by_pattern_.find(pattern);
  return it == late_by_pattern_.end() ? 0 : it->second;
}

void OutputWriter::DeadLetter(std::string_view raw) {
  Sink* out = sink(Output::kDeadLetter);
  if (out == nullptr) return;
  std::unique_lock<std::mutex> lock = Lock();
  line_.assign(raw);
  Write(out);
}

absl::Status OutputWriter::Flush() {
  std::unique_lock<std::mutex> lock = Lock();
  for (const auto& sink : owned_) CEP_RETURN_IF_ERROR(sink->Flush());
  return absl::OkStatus();
}

absl::Status OutputWriter::Close() {
  std::unique_lock<std::mutex> lock = Lock();
  for (const auto& sink : owned_) CEP_RETURN_IF_ERROR(sink->Close());
  return absl::OkStatus();
}

absl::StatusOr<std::array<uint64_t, kOutputCount>> OutputWriter::Lengths()
    const {
  std::array<uint64_t, kOutputCount> lengths{};
  for (size_t idx = 0; idx < kOutputCount; ++idx) {
    CEP_ASSIGN_OR_RETURN(lengths[idx], RecordedLength(paths_[idx]));
  }
  return lengths;
}

absl::Status OutputWriter::Truncate(
    const std::array<uint64_t, kOutputCount>& lengths) const {
  for (size_t idx = 0; idx < kOutputCount; ++idx) {
    CEP_RETURN_IF_ERROR(TruncateTo(paths_[idx], lengths[idx]));
  }
  return absl::OkStatus();
}

void OutputWriter::WriteMatch(Output output, size_t pattern, const Value& key,
                              const Match<Record>& match, MatchKind kind,
                              int64_t latency_ns) {
  Sink* out = sink(output);
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

void OutputWriter::Write(Sink* sink) {
  line_ += '\n';
  sink->Write(line_);
}

// FNV-1a of the pattern name, the key (ValueCodec) and the events' seqs.
uint64_t OutputWriter::MatchId(std::string_view pattern, const Value& key,
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

}  // namespace cep::run
