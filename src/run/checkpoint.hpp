// Checkpointer: the durable state of a run (--state rocksdb:DIR). Opens one
// RocksDB database for every pattern (a namespace NAME@HASH each, old
// versions drained or dropped under --migrate), decides when a checkpoint is
// due, writes the run's meta (input position, output lengths, the events
// waiting for the watermark, the timers) with the patterns' state in one
// atomic write, and reads it back to resume.
// Internal to src/run/: not installed, not under include/.
//
// The meta ("run", version 3; version 2 still loads) is written once, with the
// first pattern's state; the timers ("timers", "timer/<key>") per pattern, from
// the matchers of every worker. With several workers each owns a range of key
// groups (KeyGroupWorker; the runtime routes keys there) and its backends write
// into a batch of their own (RocksDbStore::Fork); a checkpoint is taken at an
// aligned barrier (Runtime::AtBarrier), where the caller flushes the outputs,
// and every worker's batch commits with the meta in one atomic write. A run may
// resume with another number of workers: the key groups are divided again, the
// timers go to the workers owning their keys. Lanes (run.cpp, RunLanes) are
// workers too: each lane's runtime is one (AttachLanes), and a checkpoint is
// written while every lane waits at the end of the same block of lines.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "cep/codec.hpp"
#include "cep/dsl.hpp"
#include "cep/event.hpp"
#include "cep/matcher.hpp"
#include "cep/rocksdb_state.hpp"
#include "cep/run.hpp"
#include "cep/runtime.hpp"
#include "cep/time.hpp"

#include "compiled_pattern.hpp"
#include "output_writer.hpp"
#include "source.hpp"

namespace cep::run {

// What a checkpoint records besides the state of the patterns.
struct RunMeta {
  uint64_t checkpoint = 0;  // its number, from 1
  SourcePosition position;  // of the input (one partition)
  uint64_t errors = 0;      // lines skipped so far
  Timestamp max_ts = kMinWatermark;
  std::array<uint64_t, kOutputCount> lengths{};  // RecordedLength per output
  RuntimeSnapshot<Record> snapshot;
  // A source with several partitions (Kafka): the position of each, in the
  // same atomic write (meta version 3; empty in a version 2 meta).
  std::vector<PartitionPosition> partitions;
};

class Checkpointer {
 public:
  // `patterns` (the current versions, compiled) gets the old versions
  // Open() drains appended. All must outlive the checkpointer.
  Checkpointer(const PatternFile& file, const RunOptions& options,
               std::vector<std::unique_ptr<CompiledPattern>>& patterns,
               bool report_timeouts);

  // Opens the state under RunOptions::state_dir: `runtime` gets the old
  // versions to drain, `factory` hands the backends to the runtime, and
  // with RunOptions::parallelism > 1 the patterns route by key group
  // (KeyGroupHashOf). Errors: kInvalidArgument for sort_output;
  // kFailedPrecondition for state of another pattern version (without
  // --migrate) or one that cannot drain; the store's errors.
  [[nodiscard]] absl::Status Open(
      std::vector<RuntimePattern<Record, Value>>& runtime,
      BackendFactory<Record, Value>& factory);

  // The runtime the backends went to (tracks its timers' changes).
  void Attach(Runtime<Record, Value>& runtime);
  // Lanes (run.cpp, RunLanes): the runtimes (parallelism 1 each) the
  // backends went to, lane by lane: worker i is lane i. Opened with
  // RunOptions::parallelism the number of lanes, the checkpointer writes
  // and loads their state as that of one runtime's workers (the meta's
  // waiting events are every lane's, each once). The lanes after the first
  // take their backends with TakeBackend(lane, pattern).
  void AttachLanes(std::vector<Runtime<Record, Value>*> runtimes);
  // After Open(): the backend of `pattern` for worker `worker`, once.
  // Errors: kInternal when taken before.
  [[nodiscard]] absl::StatusOr<std::unique_ptr<StateBackend<Record, Value>>>
  TakeBackend(size_t worker, size_t pattern);

  // The last checkpoint's meta, its timers imported into the runtime's
  // matchers; nullopt when the directory holds none.
  // Errors: kDataLoss when the meta does not decode; the store's errors.
  [[nodiscard]] absl::StatusOr<std::optional<RunMeta>> Load();

  // One more input event since the last checkpoint.
  void CountEvent() { ++events_since_; }
  // Whether --checkpoint-every asks for a checkpoint after line `line_no`.
  bool Due(uint64_t line_no) const;

  // Writes a checkpoint: `meta` (its checkpoint number and snapshot are set
  // here) and every pattern's state, in one atomic write; then, with
  // --keep-checkpoints, a copy of the database.
  // REQUIRES: the outputs are flushed and their lengths in `meta`; with
  // several workers, inside Runtime::AtBarrier() (or after they stopped);
  // with lanes, while every lane waits (or after they ended).
  [[nodiscard]] absl::Status Write(RunMeta meta);

  // After Open(): the seq of the next input event at the last checkpoint
  // (0: none), read from its meta without the runtime (a live reload, and
  // a run resumed over old versions, give it to the versions' evaluators:
  // EvaluatorOptions::start_matches_before_seq, _from_seq).
  // Errors: kDataLoss; the store's errors.
  [[nodiscard]] absl::StatusOr<uint64_t> NextSeq() const;
  // After Open(), per current version: whether its namespace is new (no
  // state of it was ever checkpointed).
  const std::vector<bool>& fresh() const { return fresh_; }
  // The database's block cache reads so far (counted when the run serves
  // metrics).
  RocksDbStore::BlockCacheStats block_cache_stats() const {
    return backends_.empty() ? RocksDbStore::BlockCacheStats()
                             : backends_[0]->store().block_cache_stats();
  }

  // After Open(), with one worker: the backend of `pattern` (its index in
  // the patterns).
  StateBackend<Record, Value>& backend(size_t pattern) {
    return *backends_[pattern];
  }

  uint64_t checkpoint() const { return checkpoint_; }
  void set_checkpoint(uint64_t checkpoint) { checkpoint_ = checkpoint; }
  const std::vector<std::string>& migrations() const { return migrations_; }

 private:
  using Backend = RocksDbStateBackend<Record, Value>;
  using TimerSlot = KeyedMatcher<Record, Value>::TimerSlot;

  struct SeqAndWaiting {
    uint64_t next_seq = 0;
    uint64_t waiting = 0;
  };
  static absl::StatusOr<SeqAndWaiting> PeekMeta(RocksDbStore& store);
  // The workers of the runtimes attached, numbered runtime after runtime,
  // and the matcher of `pattern` in worker `worker`.
  size_t Workers() const;
  KeyedMatcher<Record, Value>& MatcherOf(size_t worker, size_t pattern);
  // Summed over the runtimes.
  uint64_t PartialMatches(size_t pattern) const;
  // The runtimes' Export(), merged (lanes).
  RuntimeSnapshot<Record> Snapshot() const;
  std::string Hash(const CompiledPattern& pattern) const;
  absl::StatusOr<std::unique_ptr<Backend>> OpenBackend(
      std::unique_ptr<RocksDbStore> store, const std::string& hash);
  void AddBackend(std::unique_ptr<Backend> backend, std::string hash);
  // Parallelism > 1: each worker's backends over a fork of the stores.
  absl::Status OpenWorkerBackends();
  absl::Status DrainOrDrop(const std::string& space,
                           std::unique_ptr<RocksDbStore> store,
                           std::vector<RuntimePattern<Record, Value>>& runtime);
  const CompiledPattern* FindCompiled(const std::string& name) const;
  // Stages the state of `pattern` and the timers that changed since the
  // last checkpoint.
  absl::Status StagePattern(size_t pattern);
  absl::Status StageTimers(size_t pattern, Backend& backend);
  absl::Status LoadPartialMatches(
      size_t pattern, Backend& backend,
      absl::FunctionRef<absl::Status(std::string_view)> corrupt);
  absl::Status KeepSnapshot();

  const PatternFile& file_;
  const RunOptions& options_;
  std::vector<std::unique_ptr<CompiledPattern>>& patterns_;
  bool report_timeouts_;
  // Attach(): one runtime; AttachLanes(): one per lane.
  std::vector<Runtime<Record, Value>*> runtimes_;
  ValueCodec value_codec_;
  std::unique_ptr<RecordCodec> record_codec_;
  // The backends over the stores the database was opened with, one per
  // pattern (current versions, then old ones draining): they carry the
  // meta, and with one worker they are its backends.
  std::vector<std::unique_ptr<Backend>> owned_backends_;
  std::vector<Backend*> backends_;
  std::vector<std::string> hashes_;  // of backends_' patterns
  std::vector<bool> fresh_;          // fresh()
  // Open(): the last checkpoint held events waiting for the watermark.
  bool checkpoint_waiting_ = false;
  // [worker][pattern]: the backends the runtime runs with (owned by it
  // once it starts; with one worker, backends_).
  std::vector<std::vector<std::unique_ptr<Backend>>> owned_worker_backends_;
  std::vector<std::vector<Backend*>> worker_backends_;
  std::string schema_text_;  // the event types, for pattern hashes
  // --migrate: the old versions' files, and what is drained.
  std::vector<std::unique_ptr<PatternFile>> old_files_;
  std::vector<std::string> migrations_;
  uint64_t checkpoint_ = 0;
  uint64_t events_since_ = 0;
  uint64_t commit_points_at_checkpoint_ = 0;  // checkpoint_with_loop
  int64_t last_checkpoint_ns_ = SteadyClockNanos();
};

}  // namespace cep::run
