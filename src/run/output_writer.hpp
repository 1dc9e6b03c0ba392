// OutputWriter: the RuntimeSink of a run. Formats matches, timeouts, late
// events and dead letters as JSON lines (record_json.hpp) and writes each to
// the Sink (sink.hpp) of its output stream.
// Internal to src/run/: not installed, not under include/.
//
// The runtime calls it one call at a time (runtime.hpp), but with
// parallelism > 1 from the workers while the reading thread writes dead
// letters and flushes: then every call holds one lock, since all of them
// share the line being built and possibly the streams.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "cep/dsl.hpp"
#include "cep/event.hpp"
#include "cep/match.hpp"
#include "cep/record_json.hpp"
#include "cep/run.hpp"
#include "cep/runtime.hpp"

#include "compiled_pattern.hpp"
#include "sink.hpp"

namespace cep::run {

// The output streams of a run, in the order checkpoints record them.
enum class Output : uint8_t { kMatches, kTimeouts, kLate, kDeadLetter };
inline constexpr size_t kOutputCount = 4;

class OutputWriter final : public RuntimeSink<Record, Value> {
 public:
  // `patterns` is read when outputs come (the run may append to it before
  // the runtime starts).
  OutputWriter(const PatternFile& file,
               const std::vector<std::unique_ptr<CompiledPattern>>& patterns,
               const RunOutputs& outputs, const RunOptions& options);

  // Binds the streams of `outputs` (after RunOutputs::open set them): one
  // Sink per distinct stream.
  void Open(const RunOutputs& outputs);

  void OnMatch(size_t pattern, const Value& key, Match<Record> match,
               int64_t latency_ns) override;
  void OnTimeout(size_t pattern, const Value& key, Match<Record> partial,
                 Timestamp timeout_at, int64_t latency_ns) override;
  void OnLate(const Record& record, Timestamp ts, uint64_t seq) override;

  // An input line skipped under OnError::kSkip, verbatim.
  void DeadLetter(std::string_view raw);

  // Late events so far that pattern `pattern` (a name) would have taken.
  // The reading thread only (late events are decided there).
  uint64_t late(const std::string& pattern) const;

  // Matches so far; read by the reading thread for progress, so atomic.
  uint64_t matches() const { return matches_.load(std::memory_order_relaxed); }

  // Flushes every stream (a checkpoint; not with sort_output).
  // Errors: kUnavailable.
  [[nodiscard]] absl::Status Flush();
  // Writes the sorted outputs (sort_output) and flushes every stream.
  // Errors: kUnavailable.
  [[nodiscard]] absl::Status Close();

  // For a checkpoint: each output's RecordedLength (sink.hpp), in Output
  // order. Errors: kUnavailable.
  [[nodiscard]] absl::StatusOr<std::array<uint64_t, kOutputCount>> Lengths()
      const;
  // On resume: truncates each output file to its recorded length.
  // Errors: kUnavailable.
  [[nodiscard]] absl::Status Truncate(
      const std::array<uint64_t, kOutputCount>& lengths) const;

 private:
  std::unique_lock<std::mutex> Lock() {
    return threaded_ ? std::unique_lock<std::mutex>(mu_)
                     : std::unique_lock<std::mutex>();
  }
  Sink* sink(Output output) const {
    return sinks_[static_cast<size_t>(output)];
  }
  void CountLate(const Record& record);
  void WriteMatch(Output output, size_t pattern, const Value& key,
                  const Match<Record>& match, MatchKind kind,
                  int64_t latency_ns);
  // Writes line_ plus a newline to `sink`.
  void Write(Sink* sink);
  uint64_t MatchId(std::string_view pattern, const Value& key,
                   const Match<Record>& match);

  const PatternFile& file_;
  const std::vector<std::unique_ptr<CompiledPattern>>& patterns_;
  absl::flat_hash_map<std::string, uint64_t> late_by_pattern_;
  bool sort_;
  bool match_ids_;
  bool match_latency_;
  bool threaded_;  // parallelism > 1: every call holds mu_
  std::mutex mu_;
  // Per Output: its sink (nullptr: discarded) and its file's path.
  std::array<Sink*, kOutputCount> sinks_{};
  std::array<std::string, kOutputCount> paths_;
  std::vector<std::unique_ptr<Sink>> owned_;  // one per distinct stream
  std::string id_bytes_;
  std::atomic<uint64_t> matches_{0};
  std::string line_;  // output line being built
};

}  // namespace cep::run
