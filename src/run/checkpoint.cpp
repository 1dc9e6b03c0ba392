// Checkpointer: see checkpoint.hpp.

#include "checkpoint.hpp"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"

#include "cep/compiler.hpp"
#include "cep/internal/status_macros.hpp"
#include "cep/matcher.hpp"

#include "../io/io_util.hpp"

namespace cep::run {
namespace {

using io::Cat;

// Meta names in the state databases (see Checkpointer::Write()).
// Version 3 appends the positions of a source's partitions (Kafka);
// version 2 metas (without them) still load.
constexpr uint64_t kRunMetaVersion = 3;
constexpr uint64_t kRunMetaVersionWithoutPartitions = 2;
constexpr std::string_view kMetaRun = "run";
constexpr std::string_view kMetaTimers = "timers";
constexpr std::string_view kMetaTimerPrefix = "timer/";
// The partial matches the pattern's keys hold (KeyedMatcher::
// partial_matches, summed over the workers), for the metrics.
constexpr std::string_view kMetaPartialMatches = "partial_matches";
constexpr std::string_view kMetaSource = "source";
// Set on an old version once a --migrate run drains it: only then may a
// run without --migrate drop it when it holds nothing.
constexpr std::string_view kMetaDraining = "draining";

int64_t Nanos(Duration d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

// Version 3 of the run meta: the positions of a source's partitions.
template <typename Corrupt>
absl::Status LoadPartitions(std::string_view& in,
                            std::vector<PartitionPosition>& partitions,
                            const Corrupt& corrupt) {
  uint64_t count = 0;
  if (!internal::GetVarint(in, count)) return corrupt("partitions");
  for (uint64_t idx = 0; idx < count; ++idx) {
    PartitionPosition& partition = partitions.emplace_back();
    uint64_t number = 0;
    if (!internal::GetVarint(in, number) || number > UINT32_MAX ||
        !internal::GetVarint(in, partition.position.offset) ||
        !internal::GetVarint(in, partition.position.line_no)) {
      return corrupt("partitions");
    }
    partition.partition = static_cast<uint32_t>(number);
  }
  return absl::OkStatus();
}

}  // namespace

Checkpointer::Checkpointer(
    const PatternFile& file, const RunOptions& options,
    std::vector<std::unique_ptr<CompiledPattern>>& patterns,
    bool report_timeouts)
    : file_(file),
      options_(options),
      patterns_(patterns),
      report_timeouts_(report_timeouts) {}

void Checkpointer::Attach(Runtime<Record, Value>& runtime) {
  AttachLanes({&runtime});
}

void Checkpointer::AttachLanes(std::vector<Runtime<Record, Value>*> runtimes) {
  runtimes_ = std::move(runtimes);
  for (size_t worker = 0; worker < Workers(); ++worker) {
    for (size_t pattern = 0; pattern < patterns_.size(); ++pattern) {
      MatcherOf(worker, pattern).TrackScheduleChanges(true);
    }
  }
}

absl::StatusOr<std::unique_ptr<StateBackend<Record, Value>>>
Checkpointer::TakeBackend(size_t worker, size_t pattern) {
  if (worker >= owned_worker_backends_.size() ||
      pattern >= owned_worker_backends_[worker].size() ||
      !owned_worker_backends_[worker][pattern]) {
    return absl::InternalError("state backend taken twice");
  }
  return std::unique_ptr<StateBackend<Record, Value>>(
      std::move(owned_worker_backends_[worker][pattern]));
}

size_t Checkpointer::Workers() const {
  size_t workers = 0;
  for (const Runtime<Record, Value>* runtime : runtimes_) {
    workers += runtime->workers();
  }
  return workers;
}

KeyedMatcher<Record, Value>& Checkpointer::MatcherOf(size_t worker,
                                                     size_t pattern) {
  for (Runtime<Record, Value>* runtime : runtimes_) {
    if (worker < runtime->workers())
      return runtime->op(worker).matcher(pattern);
    worker -= runtime->workers();
  }
  return runtimes_.back()->op(0).matcher(pattern);  // not reached
}

uint64_t Checkpointer::PartialMatches(size_t pattern) const {
  uint64_t held = 0;
  for (const Runtime<Record, Value>* runtime : runtimes_) {
    held += runtime->partial_matches(pattern);
  }
  return held;
}

// Lanes: each runtime holds the waiting events of its keys, and an event
// whose keys two lanes own (patterns keyed on different fields) waits in
// both: kept once, in the order Runtime::Export() gives. The lanes see
// every event, so their seqs and source watermarks agree; their operators
// may lag (microbatch), and the earliest is kept (a timer already fired
// is not in the state).
RuntimeSnapshot<Record> Checkpointer::Snapshot() const {
  RuntimeSnapshot<Record> snapshot = runtimes_.front()->Export();
  if (runtimes_.size() == 1) return snapshot;
  for (size_t lane = 1; lane < runtimes_.size(); ++lane) {
    RuntimeSnapshot<Record> more = runtimes_[lane]->Export();
    snapshot.operator_watermark =
        std::min(snapshot.operator_watermark, more.operator_watermark);
    for (HeldEvent<Record>& held : more.pending) {
      snapshot.pending.push_back(std::move(held));
    }
  }
  MergeHeldEvents(snapshot.pending);
  return snapshot;
}

bool Checkpointer::Due(uint64_t line_no) const {
  bool due = options_.checkpoint_events > 0 &&
             events_since_ >= options_.checkpoint_events;
  if (options_.checkpoint_with_loop) {
    due = runtimes_.front()->commit_points() != commit_points_at_checkpoint_;
  }
  if (!due && options_.checkpoint_interval > Duration(0) &&
      (line_no & 255) == 0) {
    due = SteadyClockNanos() - last_checkpoint_ns_ >=
          Nanos(options_.checkpoint_interval);
  }
  return due;
}

absl::Status Checkpointer::Write(RunMeta meta) {
  events_since_ = 0;
  commit_points_at_checkpoint_ = runtimes_.front()->commit_points();
  last_checkpoint_ns_ = SteadyClockNanos();
  meta.checkpoint = ++checkpoint_;
  meta.snapshot = Snapshot();
  std::string run;
  internal::PutVarint(run, kRunMetaVersion);
  internal::PutVarint(run, meta.checkpoint);
  internal::PutVarint(run, meta.position.offset);
  internal::PutVarint(run, meta.position.line_no);
  internal::PutVarint(run, meta.errors);
  internal::PutSignedVarint(run, ToMillis(meta.max_ts));
  for (const uint64_t length : meta.lengths) {
    internal::PutVarint(run, length);  // 0: no file
  }
  const RuntimeSnapshot<Record>& snapshot = meta.snapshot;
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
  internal::PutVarint(run, meta.partitions.size());
  for (const PartitionPosition& partition : meta.partitions) {
    internal::PutVarint(run, partition.partition);
    internal::PutVarint(run, partition.position.offset);
    internal::PutVarint(run, partition.position.line_no);
  }
  backends_[0]->store().PutSharedMeta(kMetaRun, run);
  for (size_t pattern = 0; pattern < backends_.size(); ++pattern) {
    CEP_RETURN_IF_ERROR(StagePattern(pattern));
  }
  // The patterns share one database; the batches of the workers and of
  // the meta go in one atomic write.
  std::vector<RocksDbStore*> stores;
  for (Backend* backend : backends_) stores.push_back(&backend->store());
  if (worker_backends_.size() > 1) {
    for (const std::vector<Backend*>& backends : worker_backends_) {
      for (Backend* backend : backends) stores.push_back(&backend->store());
    }
  }
  CEP_RETURN_IF_ERROR(RocksDbStore::CommitTogether(stores));
  return KeepSnapshot();
}

absl::Status Checkpointer::StagePattern(size_t pattern) {
  Backend& backend = *backends_[pattern];
  CEP_RETURN_IF_ERROR(StageTimers(pattern, backend));
  std::string held;
  internal::PutVarint(held, PartialMatches(pattern));
  CEP_RETURN_IF_ERROR(backend.SetMeta(kMetaPartialMatches, held));
  if (worker_backends_.size() == 1) {
    backend.Stage();
    return absl::OkStatus();
  }
  // Each worker's states into its batch; the namespace's key count is the
  // sum over the workers' key groups.
  size_t keys = 0;
  for (const std::vector<Backend*>& backends : worker_backends_) {
    backends[pattern]->Stage();
    keys += backends[pattern]->key_count();
  }
  backend.store().PutMeta(internal::kMetaKeyCount, Cat(keys));
  return absl::OkStatus();
}

// Stages the timers of `pattern` that changed since the last checkpoint,
// one meta entry "timer/<key>" each (its time and order), and "timers":
// the next timer order and the sensitive keys. Costs what changed, not
// the number of keys with timers.
absl::Status Checkpointer::StageTimers(size_t pattern, Backend& backend) {
  // The workers' keys are apart; their timer orders only matter within
  // one, so the largest next order serves them all.
  uint64_t next_order = 0;
  std::vector<Value> sensitive;
  std::vector<std::pair<Value, std::optional<TimerSlot>>> changes;
  for (size_t worker = 0; worker < Workers(); ++worker) {
    auto& matcher = MatcherOf(worker, pattern);
    next_order = std::max(next_order, matcher.next_timer_order());
    for (Value& key : matcher.SensitiveKeys()) {
      sensitive.push_back(std::move(key));
    }
    for (auto& change : matcher.TakeScheduleChanges()) {
      changes.push_back(std::move(change));
    }
  }
  std::string timers;
  internal::PutVarint(timers, next_order);
  internal::PutVarint(timers, sensitive.size());
  for (const Value& key : sensitive) value_codec_.Encode(key, timers);
  CEP_RETURN_IF_ERROR(backend.SetMeta(kMetaTimers, timers));
  std::string name;
  std::string slot;
  for (const auto& [key, timer] : changes) {
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
absl::Status Checkpointer::KeepSnapshot() {
  if (options_.keep_checkpoints == 0) return absl::OkStatus();
  const std::filesystem::path dir =
      std::filesystem::path(options_.state_dir) / "checkpoints";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::string name = absl::StrFormat("%010d", checkpoint_);
  std::filesystem::remove_all(dir / name, ec);  // left by a crash
  CEP_RETURN_IF_ERROR(backends_[0]->store().Checkpoint((dir / name).string()));
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  for (size_t idx = 0; idx + options_.keep_checkpoints < names.size(); ++idx) {
    std::filesystem::remove_all(dir / names[idx], ec);
    if (ec) {
      return absl::UnavailableError(Cat(
          "cannot remove ", (dir / names[idx]).string(), ": ", ec.message()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<RunMeta>> Checkpointer::Load() {
  CEP_ASSIGN_OR_RETURN(std::optional<std::string> run,
                       backends_[0]->store().GetSharedMeta(kMetaRun));
  if (!run.has_value()) return std::nullopt;
  auto corrupt = [&](std::string_view what) {
    return absl::DataLossError(Cat(backends_[0]->store().path(),
                                   ": error: checkpoint meta '", kMetaRun,
                                   "' does not decode (", what, ")"));
  };
  RunMeta meta;
  std::string_view in = *run;
  uint64_t version = 0;
  int64_t max_ts = 0;
  if (!internal::GetVarint(in, version) ||
      (version != kRunMetaVersion &&
       version != kRunMetaVersionWithoutPartitions)) {
    return corrupt("version");
  }
  if (!internal::GetVarint(in, meta.checkpoint) ||
      !internal::GetVarint(in, meta.position.offset) ||
      !internal::GetVarint(in, meta.position.line_no) ||
      !internal::GetVarint(in, meta.errors) ||
      !internal::GetSignedVarint(in, max_ts)) {
    return corrupt("position");
  }
  meta.max_ts = FromMillis(max_ts);
  for (uint64_t& length : meta.lengths) {
    if (!internal::GetVarint(in, length)) return corrupt("outputs");
  }
  RuntimeSnapshot<Record>& snapshot = meta.snapshot;
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
  if (version != kRunMetaVersionWithoutPartitions) {
    CEP_RETURN_IF_ERROR(LoadPartitions(in, meta.partitions, corrupt));
  }
  // Each key's timer goes to the worker that owns its key group now.
  const size_t workers = Workers();
  std::string encoded;
  auto owner = [&](const Value& key) {
    if (workers == 1) return size_t{0};
    encoded.clear();
    value_codec_.Encode(key, encoded);
    return KeyGroupWorker(RocksDbStore::KeyGroup(encoded), workers);
  };
  for (size_t pattern = 0; pattern < backends_.size(); ++pattern) {
    Backend& backend = *backends_[pattern];
    CEP_RETURN_IF_ERROR(LoadPartialMatches(pattern, backend, corrupt));
    CEP_ASSIGN_OR_RETURN(std::optional<std::string> timers,
                         backend.GetMeta(kMetaTimers));
    if (!timers.has_value()) continue;  // a pattern new in this run
    std::vector<KeyedMatcher<Record, Value>::TimerSchedule> schedules(workers);
    std::string_view t = *timers;
    uint64_t next_order = 0;
    uint64_t count = 0;
    if (!internal::GetVarint(t, next_order) || !internal::GetVarint(t, count)) {
      return corrupt("timers");
    }
    for (auto& schedule : schedules) schedule.next_order = next_order;
    for (uint64_t idx = 0; idx < count; ++idx) {
      Value key;
      if (!value_codec_.Decode(t, key).ok()) return corrupt("sensitive keys");
      schedules[owner(key)].sensitive_keys.push_back(std::move(key));
    }
    absl::Status scanned = backend.ForEachMeta(
        kMetaTimerPrefix,
        [&](std::string_view name, std::string_view value) -> absl::Status {
          Value key;
          TimerSlot slot;
          if (!value_codec_.Decode(name, key).ok() || !name.empty() ||
              !internal::GetSignedVarint(value, slot.at) ||
              !internal::GetVarint(value, slot.order)) {
            return corrupt("a timer");
          }
          schedules[owner(key)].timers.emplace_back(std::move(key), slot);
          return absl::OkStatus();
        });
    CEP_RETURN_IF_ERROR(scanned);
    for (size_t worker = 0; worker < workers; ++worker) {
      MatcherOf(worker, pattern).ImportSchedule(std::move(schedules[worker]));
    }
  }
  checkpoint_ = meta.checkpoint;
  return meta;
}

// Worker 0's matcher of `pattern` gets the partial matches the checkpoint
// held, the others none (the runtime sums them). A checkpoint written
// before they were saved: each worker counts its keys' (one walk).
absl::Status Checkpointer::LoadPartialMatches(
    size_t pattern, Backend& backend,
    absl::FunctionRef<absl::Status(std::string_view)> corrupt) {
  CEP_ASSIGN_OR_RETURN(std::optional<std::string> saved,
                       backend.GetMeta(kMetaPartialMatches));
  for (size_t worker = 0; worker < Workers(); ++worker) {
    auto& matcher = MatcherOf(worker, pattern);
    uint64_t count = 0;
    if (!saved.has_value()) {
      CEP_ASSIGN_OR_RETURN(count, matcher.CountPartialMatches());
    } else if (worker == 0) {
      std::string_view in = *saved;
      if (!internal::GetVarint(in, count) || !in.empty()) {
        return corrupt("partial matches");
      }
    }
    matcher.set_partial_matches(count);
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> Checkpointer::NextSeq() const {
  CEP_ASSIGN_OR_RETURN(const SeqAndWaiting peeked,
                       PeekMeta(backends_[0]->store()));
  return peeked.next_seq;
}

// The next seq and the count of waiting events of the store's last
// checkpoint ({0, 0}: none), read as Load() reads them.
absl::StatusOr<Checkpointer::SeqAndWaiting> Checkpointer::PeekMeta(
    RocksDbStore& store) {
  CEP_ASSIGN_OR_RETURN(std::optional<std::string> run,
                       store.GetSharedMeta(kMetaRun));
  if (!run.has_value()) return SeqAndWaiting{};
  std::string_view in = *run;
  uint64_t skip = 0;
  int64_t ms = 0;
  bool ok =
      internal::GetVarint(in, skip) &&
      (skip == kRunMetaVersion || skip == kRunMetaVersionWithoutPartitions);
  for (int field = 0; ok && field < 4; ++field) {
    ok = internal::GetVarint(in, skip);
  }
  ok = ok && internal::GetSignedVarint(in, ms);
  for (size_t output = 0; ok && output < kOutputCount; ++output) {
    ok = internal::GetVarint(in, skip);
  }
  SeqAndWaiting out;
  ok = ok && internal::GetVarint(in, out.next_seq);
  for (int field = 0; ok && field < 3; ++field) {
    ok = internal::GetSignedVarint(in, ms);
  }
  if (!ok || !internal::GetVarint(in, out.waiting)) {
    return absl::DataLossError(Cat(store.path(), ": error: checkpoint meta '",
                                   kMetaRun, "' does not decode (next seq)"));
  }
  return out;
}

// The structure hash of a compiled pattern over the file's event types:
// 16 hex digits.
std::string Checkpointer::Hash(const CompiledPattern& pattern) const {
  const uint64_t hash =
      Fnv1a(Fnv1a(kFnvOffset, schema_text_),
            Cat("pattern ", pattern.file_pattern->name, " key ",
                pattern.file_pattern->key_field, "\n", pattern.nfa.ToString()));
  return absl::StrFormat("%016x", hash);
}

absl::StatusOr<std::unique_ptr<RocksDbStateBackend<Record, Value>>>
Checkpointer::OpenBackend(std::unique_ptr<RocksDbStore> store,
                          const std::string& hash) {
  RocksDbStateOptions state_options;
  state_options.cache_capacity = options_.state_cache_keys;
  state_options.pattern_hash = hash;
  return Backend::Open(std::move(store), state_options, value_codec_,
                       *record_codec_);
}

void Checkpointer::AddBackend(std::unique_ptr<Backend> backend,
                              std::string hash) {
  hashes_.push_back(std::move(hash));
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
absl::Status Checkpointer::DrainOrDrop(
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
    // Without a source no checkpoint ran (a run refused at the start). With
    // --migrate, events the checkpoint held waiting may still start partial
    // matches of the old version (they were read while it ran): it drains
    // them first.
    if ((options_.migrate && !checkpoint_waiting_) ||
        (!options_.migrate && draining.has_value()) || !source.has_value()) {
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
    return cannot(Cat("its event types differ: ", std::string(same.message())));
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
  drained.evaluator =
      EvaluatorFor(*pattern, options_.evaluator, report_timeouts_);
  drained.evaluator->start_new_matches = false;
  migrations_.push_back(Cat("pattern '", name, "': the version with hash ",
                            hash, " drains the partial matches of ",
                            backend->key_count(), " keys"));
  CEP_RETURN_IF_ERROR(backend->SetMeta(kMetaDraining, "1"));
  AddBackend(std::move(backend), hash);
  return absl::OkStatus();
}

// The compiled current version of the file's pattern `name`.
// REQUIRES: file_.FindPattern(name) != nullptr.
const CompiledPattern* Checkpointer::FindCompiled(
    const std::string& name) const {
  for (const auto& pattern : patterns_) {
    if (pattern->file_pattern->name == name) return pattern.get();
  }
  return nullptr;
}

absl::Status Checkpointer::Open(
    std::vector<RuntimePattern<Record, Value>>& runtime,
    BackendFactory<Record, Value>& factory) {
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
  store_options.statistics = options_.metrics_port.has_value();
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
    CEP_ASSIGN_OR_RETURN(shared, RocksDbStore::OpenShared(store_options, all));
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
    fresh_.push_back(!source.has_value());
    AddBackend(std::move(backend), Hash(pattern));
  }
  if (!others.empty()) {
    CEP_ASSIGN_OR_RETURN(const SeqAndWaiting peeked,
                         PeekMeta(backends_[0]->store()));
    checkpoint_waiting_ = peeked.waiting > 0;
  }
  for (size_t idx = 0; idx < others.size(); ++idx) {
    CEP_RETURN_IF_ERROR(DrainOrDrop(
        others[idx], std::move(shared.stores[current + idx]), runtime));
  }
  if (options_.parallelism > 1) {
    CEP_RETURN_IF_ERROR(OpenWorkerBackends());
    for (size_t pattern = 0; pattern < runtime.size(); ++pattern) {
      const FilePattern& file_pattern = *patterns_[pattern]->file_pattern;
      runtime[pattern].key_hash = KeyGroupHashOf(file_pattern);
    }
  } else {
    owned_worker_backends_.push_back(std::move(owned_backends_));
    worker_backends_.push_back(backends_);
  }
  factory = [this](size_t worker, size_t pattern) {
    return TakeBackend(worker, pattern);
  };
  return absl::OkStatus();
}

absl::Status Checkpointer::OpenWorkerBackends() {
  std::vector<RocksDbStore*> stores;
  for (Backend* backend : backends_) stores.push_back(&backend->store());
  const size_t workers = options_.parallelism;
  owned_worker_backends_.resize(workers);
  worker_backends_.resize(workers);
  for (size_t worker = 0; worker < workers; ++worker) {
    std::vector<std::unique_ptr<RocksDbStore>> forks =
        RocksDbStore::Fork(stores);
    for (size_t pattern = 0; pattern < forks.size(); ++pattern) {
      RocksDbStateOptions state_options;
      state_options.cache_capacity =
          std::max<size_t>(1, options_.state_cache_keys / workers);
      state_options.pattern_hash = hashes_[pattern];
      state_options.first_key_group = KeyGroupStart(worker, workers);
      state_options.end_key_group = KeyGroupStart(worker + 1, workers);
      CEP_ASSIGN_OR_RETURN(
          std::unique_ptr<Backend> backend,
          Backend::Open(std::move(forks[pattern]), state_options, value_codec_,
                        *record_codec_));
      worker_backends_[worker].push_back(backend.get());
      owned_worker_backends_[worker].push_back(std::move(backend));
    }
  }
  return absl::OkStatus();
}

}  // namespace cep::run
