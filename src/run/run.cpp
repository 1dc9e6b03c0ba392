// RunPatternFile: the event-time run of a pattern file over JSON lines or
// CSV rows. See cep/run.hpp for the semantics. The parts, each in its own
// file: the Source of the frames (source.hpp, framing.hpp), their decoding
// (decoding.hpp), the outputs (output_writer.hpp, sink.hpp) and the durable
// state (checkpoint.hpp); the Runner here ties them to a Runtime.

#include "cep/run.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <istream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "cep/compiler.hpp"
#include "cep/dsl.hpp"
#include "cep/event.hpp"
#include "cep/internal/status_macros.hpp"
#include "cep/runtime.hpp"
#include "cep/state.hpp"
#include "cep/time.hpp"

#include "../io/flat_json.hpp"
#include "../io/io_util.hpp"
#include "checkpoint.hpp"
#include "compiled_pattern.hpp"
#include "decode_pool.hpp"
#include "decoding.hpp"
#include "line_blocks.hpp"
#include "metrics_server.hpp"
#include "output_writer.hpp"
#include "partition_state.hpp"
#include "pattern_watcher.hpp"
#include "reload_plan.hpp"
#include "run_source.hpp"
#include "source.hpp"

namespace cep {
namespace {

// Adds the per-pattern counts of `from` to `into`, by name (into the first
// of `into`'s patterns of that name; a name it lacks is appended).
void AddPatternStats(RunStats& into, const RunStats& from) {
  for (size_t idx = 0; idx < from.pattern_names.size(); ++idx) {
    const auto at =
        std::find(into.pattern_names.begin(), into.pattern_names.end(),
                  from.pattern_names[idx]);
    if (at == into.pattern_names.end()) {
      into.pattern_names.push_back(from.pattern_names[idx]);
      into.pattern_latency.push_back(from.pattern_latency[idx]);
      into.pattern_evicted.push_back(from.pattern_evicted[idx]);
      into.pattern_shared.push_back(from.pattern_shared[idx]);
      continue;
    }
    const size_t to = static_cast<size_t>(at - into.pattern_names.begin());
    into.pattern_latency[to].Merge(from.pattern_latency[idx]);
    into.pattern_evicted[to] += from.pattern_evicted[idx];
  }
}

// As AddPatternStats, with the run's counts.
void AddRunStats(RunStats& into, const RunStats& from) {
  into.events += from.events;
  into.matches += from.matches;
  into.timeouts += from.timeouts;
  into.late += from.late;
  into.expired_keys += from.expired_keys;
  into.evicted_partial_matches += from.evicted_partial_matches;
  into.reclaimed_nodes += from.reclaimed_nodes;
  into.latency.Merge(from.latency);
  AddPatternStats(into, from);
}

using io::Cat;
using run::CompiledPattern;
using run::Decoded;
using run::Frame;

// Frames per batch a DecodePool decodes.
constexpr size_t kDecodeBatchFrames = 1024;

// Runner::Arrival() reads the clock once per this many events while the
// input has more at once.
constexpr uint64_t kArrivalEvery = 16;

// RunStats::event_time times one event in this many.
constexpr uint64_t kTimedEventEvery = 64;

// RunOptions::metrics_port: a metrics snapshot at most this often (clock
// time), besides when the input has nothing more yet.
constexpr int64_t kMetricsIntervalNs = 100'000'000;

int64_t Nanos(Duration d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

// What RuntimePattern::key_hash (KeyHashOf, with kKeyGroup KeyGroupHashOf)
// gives for the event of scanned `fields` of `schema` (nullopt: `pattern`
// does not take it).
std::optional<uint64_t> ScannedRouteHash(const FilePattern& pattern,
                                         const Schema& schema,
                                         std::span<const io::FlatField> fields,
                                         run::KeyRouting routing) {
  if (!pattern.accepts[schema.id()]) return std::nullopt;
  const int index = pattern.key_index[schema.id()];
  if (index < 0) return run::RouteHashOfKey(routing, Value());
  const io::FlatField& field = fields[static_cast<size_t>(index)];
  switch (schema.fields()[static_cast<size_t>(index)].type) {
    case FieldType::kString:
      return run::RouteHashOfStringKey(routing, field.text());
    case FieldType::kDouble:
      return run::RouteHashOfKey(routing, Value(field.real));
    case FieldType::kBool:
      return run::RouteHashOfKey(routing, Value(field.flag));
    case FieldType::kInt:
    case FieldType::kTimestamp:
      break;
  }
  return run::RouteHashOfKey(routing, Value(field.integer));
}

// Lanes (RunLanes): the lanes of `lanes` that own a key of the event of
// scanned `fields`, a bit per lane (LineBlocks::Owners). It reads only the
// file, which no lane writes: the scanning lane calls it.
// Lanes route by key group with durable state (`routing`), as workers do.
uint64_t LaneOwners(const PatternFile& file, size_t lanes,
                    run::KeyRouting routing,
                    std::span<const io::FlatField> fields) {
  const Schema& schema = *file.schemas().front();
  uint64_t owners = 0;
  for (const FilePattern& pattern : file.patterns()) {
    const std::optional<uint64_t> hash =
        ScannedRouteHash(pattern, schema, fields, routing);
    if (!hash.has_value()) continue;
    owners |= uint64_t{1} << Runtime<Record, Value>::WorkerOfHash(*hash, lanes);
  }
  return owners;
}

class Runner final : public run::PartitionListener {
 public:
  // `lane` of `lanes` (RunLanes): the lanes after the first write through
  // `first_lane`'s outputs.
  Runner(const PatternFile& file, std::string_view input_name,
         const RunOptions& options, RunOutputs& outputs,
         Runner* first_lane = nullptr, size_t lane = 0, size_t lanes = 1)
      : file_(&file),
        input_name_(input_name),
        options_(options),
        outputs_(outputs),
        decoder_(file, options.format),
        first_lane_(first_lane),
        lane_(lane),
        lanes_(lanes) {
    if (first_lane == nullptr) {
      own_writer_.emplace(file, patterns_, outputs, options);
      writer_ = &*own_writer_;
    } else {
      writer_ = first_lane->writer_;
    }
    checkpointer_.emplace(file, options, patterns_,
                          outputs.timeouts != nullptr);
  }
  ~Runner() override {
    if (source_ != nullptr) source_->SetPartitionListener(nullptr);
  }

  absl::Status Start() {
    if (options_.time == TimeMode::kEvent) {
      for (const auto& schema : file_->schemas()) {
        if (!schema->time_field().has_value()) {
          return absl::InvalidArgumentError(
              Cat(file_->filename(), ": error: event type '", schema->name(),
                  "' has no time field; a run orders events by event time "
                  "(mark a timestamp field with 'time', or run with --time "
                  "processing)"));
        }
      }
    }
    if (file_->patterns().empty()) {
      return absl::InvalidArgumentError(
          Cat(file_->filename(), ": error: the file declares no pattern"));
    }
    CEP_ASSIGN_OR_RETURN(patterns_, Compile(*file_));
    CEP_RETURN_IF_ERROR(CreateRuntime(nullptr, 0, {}));
    initial_migrations_ = checkpointer_->migrations();
    next_progress_ = SteadyClockNanos() + Nanos(options_.progress_interval);
    if (!options_.watch_files.empty()) {
      watcher_.emplace(options_.watch_files, options_.watch_interval,
                       [this](const PatternFile& candidate) {
                         return run::CheckReload(*file_, candidate);
                       });
    }
    return absl::OkStatus();
  }

  // The patterns of `file`, compiled. Errors: CompilePattern's, as
  // "FILE:LINE: error: pattern 'p': ...".
  static absl::StatusOr<std::vector<std::unique_ptr<CompiledPattern>>> Compile(
      const PatternFile& file) {
    std::vector<std::unique_ptr<CompiledPattern>> compiled;
    for (const FilePattern& pattern : file.patterns()) {
      absl::StatusOr<Nfa<Record>> nfa = CompilePattern(pattern.pattern);
      if (!nfa.ok()) {
        return absl::Status(
            nfa.status().code(),
            Cat(pattern.filename,
                pattern.line > 0 ? Cat(":", pattern.line) : std::string(),
                ": error: pattern '", pattern.name,
                "': ", std::string(nfa.status().message())));
      }
      compiled.push_back(std::make_unique<CompiledPattern>(CompiledPattern{
          &pattern, *std::move(nfa), pattern.types.size() > 1}));
    }
    return compiled;
  }

  // What the runtime runs for patterns_[idx]: a current version, or (from
  // current_count_ on) an old one that drains.
  RuntimePattern<Record, Value> RuntimePatternOf(size_t idx) const {
    const CompiledPattern& compiled = *patterns_[idx];
    const FilePattern& pattern = *compiled.file_pattern;
    RuntimePattern<Record, Value> out(
        &compiled.nfa, [&pattern](const Record& r) { return pattern.KeyOf(r); },
        [&pattern](const Record& r) { return pattern.Accepts(r); });
    out.key_hash = run::KeyHashOf(pattern);
    if (lanes_ > 1 && patterns_.size() > 1) {
      // A lane takes an event for the patterns whose key it owns only.
      out.accepts = [&pattern, hash = LaneHashOf(pattern), lane = lane_,
                     lanes = lanes_](const Record& r) {
        return pattern.Accepts(r) &&
               Runtime<Record, Value>::WorkerOfHash(hash(r), lanes) == lane;
      };
    }
    out.evaluator = run::EvaluatorFor(pattern, options_.evaluator,
                                      outputs_.timeouts != nullptr);
    if (idx >= current_count_) out.evaluator->start_new_matches = false;
    return out;
  }

  // Creates runtime_ over patterns_ (current versions, then old ones that
  // drain): with durable state the checkpointer opens the state (adding
  // the old versions it holds) and hands the backends; else `factory`
  // (nullptr: fresh in-memory backends). Events from seq `swap_seq` on
  // start no partial match of an old version, and events before it none of
  // a current version that starts fresh (`fresh`, per current version;
  // empty: none): a swap's waiting events belong to the versions that ran
  // when they were read. With durable state the checkpoint and the state's
  // namespaces say both.
  absl::Status CreateRuntime(BackendFactory<Record, Value> factory,
                             uint64_t swap_seq, std::vector<bool> fresh) {
    current_count_ = file_->patterns().size();
    std::vector<RuntimePattern<Record, Value>> runtime_patterns;
    for (size_t idx = 0; idx < patterns_.size(); ++idx) {
      runtime_patterns.push_back(RuntimePatternOf(idx));
    }
    if (durable() && first_lane_ != nullptr) {
      // A lane after the first: the first lane opened the state.
      run::Checkpointer& opened = *first_lane_->checkpointer_;
      factory = [&opened, lane = lane_](size_t, size_t pattern) {
        return opened.TakeBackend(lane, pattern);
      };
      CEP_ASSIGN_OR_RETURN(swap_seq, opened.NextSeq());
      fresh = opened.fresh();
    } else if (durable()) {
      CEP_RETURN_IF_ERROR(checkpointer_->Open(runtime_patterns, factory));
      CEP_ASSIGN_OR_RETURN(swap_seq, checkpointer_->NextSeq());
      fresh = checkpointer_->fresh();
    }
    for (size_t idx = 0; idx < runtime_patterns.size(); ++idx) {
      EvaluatorOptions& evaluator = *runtime_patterns[idx].evaluator;
      if (idx >= current_count_) {
        evaluator.start_new_matches = true;
        evaluator.start_matches_before_seq = swap_seq;
      } else if (idx < fresh.size() && fresh[idx]) {
        evaluator.start_matches_from_seq = swap_seq;
      }
    }
    RuntimeOptions runtime_options;
    runtime_options.external_commits = durable();
    runtime_options.loop = options_.loop;
    runtime_options.max_out_of_orderness = options_.max_out_of_orderness;
    runtime_options.evaluator = options_.evaluator;
    runtime_options.evaluator.report_timeouts = outputs_.timeouts != nullptr;
    runtime_options.trigger_interval = options_.trigger_interval;
    runtime_options.trigger_events = options_.trigger_events;
    if (lanes_ > 1 && durable() && options_.checkpoint_with_loop) {
      // Lanes checkpoint a trigger's worth apart (LaneCheckpoints), where
      // every lane ends its batch (LaneCommitPoint()): the batches end
      // there, together, and no checkpoint holds one.
      runtime_options.trigger_interval = Duration(0);
      runtime_options.trigger_events = 0;
    }
    runtime_options.commit_interval = options_.commit_interval;
    runtime_options.parallelism = lanes_ > 1 ? 1 : options_.parallelism;
    // Arrival() stamps each event when it is taken (not with --rate: then
    // it is the time the event was due; nor a DecodePool's batch: then it
    // is when the batch was read).
    runtime_options.arrival_is_recent =
        options_.rate <= 0 &&
        (options_.parallelism == 1 || DefersDecoding() || lanes_ > 1);
    Materializer<Record> materialize;
    if (DefersDecoding()) {
      const Schema* schema = file_->schemas().front().get();
      materialize =
          [schema](std::string_view packed) -> absl::StatusOr<Record> {
        std::vector<Value> values;
        if (!io::UnpackFlatFields(packed, *schema, values)) {
          return absl::InternalError(
              "a scanned event's packed fields do not unpack");
        }
        return Record(schema, std::move(values));
      };
    }
    absl::StatusOr<std::unique_ptr<Runtime<Record, Value>>> runtime =
        Runtime<Record, Value>::Create(std::move(runtime_patterns),
                                       runtime_options, *writer_, factory,
                                       std::move(materialize));
    if (!runtime.ok()) return runtime.status();
    runtime_ = *std::move(runtime);
    // Lanes: the first lane's checkpointer attaches every lane's runtime
    // (ResumeLanes()).
    if (durable() && lanes_ == 1) checkpointer_->Attach(*runtime_);
    return absl::OkStatus();
  }

  // RunOptions::metrics_port: starts the metrics server. Errors: as
  // MetricsServer::Start.
  absl::Status StartMetrics() {
    if (!options_.metrics_port.has_value()) return absl::OkStatus();
    CEP_ASSIGN_OR_RETURN(metrics_,
                         run::MetricsServer::Start(options_.metrics_address,
                                                   *options_.metrics_port));
    PublishMetrics(0, /*force=*/true);
    if (options_.metrics_listening) options_.metrics_listening(metrics_->url());
    return absl::OkStatus();
  }

  bool metrics_on() const { return metrics_ != nullptr; }

  // With a metrics server: publishes a snapshot when one is due (every
  // kMetricsIntervalNs) or `force`d; `offset`: of the input taken so far.
  void PublishMetrics(uint64_t offset, bool force) {
    if (metrics_ == nullptr) return;
    const int64_t now = SteadyClockNanos();
    if (!force && now < next_metrics_ns_) return;
    next_metrics_ns_ = now + kMetricsIntervalNs;
    // With several workers their counters are theirs until they wait at a
    // barrier (a failed worker's error surfaces at the next Push()).
    absl::Status ignored = runtime_->AtBarrier([&] {
      metrics_->Publish(MetricsSnapshotAt(offset));
      return absl::OkStatus();
    });
    (void)ignored;
  }

  // The input has nothing more yet: the next event's arrival is read from
  // the clock.
  void InputWaits() { arrivals_left_ = 0; }

  // The outputs are open (RunOutputs::open set their streams).
  void OutputsOpened() { writer_->Open(outputs_); }

  // With parallelism > 1, JSON lines of one event type: the reading thread
  // scans each line (io::ScanFlatJson: checked, its time and key read),
  // routes it, and the worker that owns its key builds the Record from the
  // packed fields (PushDeferred); a line the scanner declines is decoded
  // here, as with one worker, so errors and dead letters do not change.
  bool DefersDecoding() const {
    return lanes_ == 1 && options_.parallelism > 1 &&
           options_.format == InputFormat::kJsonl &&
           file_->schemas().size() == 1;
  }

  // One frame of input, decoded (or with DefersDecoding(), scanned) here.
  absl::Status Take(const Frame& frame) {
    if (frame.too_long) return TakeDecoded(frame, Decoded::kNothing, record_);
    if (DefersDecoding()) {
      const Schema& schema = *file_->schemas().front();
      if (io::ScanFlatJson(frame.text, schema, scanned_)) {
        return TakeScanned(frame, schema);
      }
    }
    const Decoded decoded = decoder_.Decode(frame.text, record_, error_);
    return TakeDecoded(frame, decoded, record_);
  }

  // One frame of input that a DecodePool decoded: `entry` says what it
  // holds; its record is moved out.
  absl::Status TakeDecoded(const Frame& frame, run::FrameBatch::Entry& entry,
                           int64_t arrival_ns) {
    if (entry.decoded == Decoded::kBad || entry.decoded == Decoded::kFatal) {
      error_.swap(entry.error);
    }
    return TakeDecoded(frame, entry.decoded, entry.record, arrival_ns);
  }

  // The decoder that frames of the reading thread go through (the CSV
  // header).
  const run::LineDecoder& decoder() const { return decoder_; }

  // Whether the reading thread must decode the next frame itself: the CSV
  // header is still to come.
  bool awaiting_header() const { return decoder_.awaiting_header(); }

  bool durable() const { return !options_.state_dir.empty(); }

  // The input has nothing more yet (after `frame`): the runtime hands what
  // it holds to the workers and lets clock-driven steps happen.
  absl::Status Poll(const Frame& frame) {
    absl::Status status = runtime_->Poll();
    if (status.ok()) return status;
    return absl::Status(status.code(),
                        Cat(input_name_, ":", frame.line_no,
                            ": error: ", std::string(status.message())));
  }

  // --watch: whether the pattern files are watched.
  bool watching() const { return watcher_.has_value(); }

  // --watch: how long reading may wait for input before the pattern files
  // are due a look; at most 100 ms, so that a stop is seen.
  std::chrono::nanoseconds UntilPoll() const {
    const int64_t left = watcher_->next_poll_ns() - SteadyClockNanos();
    return std::chrono::nanoseconds(std::clamp<int64_t>(left, 0, 100'000'000));
  }

  // --watch: when a look is due, looks at the pattern files, and swaps a
  // new version that checks in at `position` (after the input taken so
  // far). Errors: the swap's (then the run cannot go on): the runtime's,
  // the state's.
  absl::Status MaybeReload(run::SourcePosition position) {
    if (!watcher_) return absl::OkStatus();
    const int64_t now = SteadyClockNanos();
    if (!watcher_->Due(now)) return absl::OkStatus();
    std::vector<std::string> messages;
    std::optional<run::WatchedReload> reload = watcher_->Poll(now, messages);
    Report(messages);
    if (!reload.has_value()) return absl::OkStatus();
    CEP_RETURN_IF_ERROR(Swap(*std::move(reload), position));
    watcher_->Accept();
    ++reloads_;
    return absl::OkStatus();
  }

  // Durable state: after `frame`, checkpoints when --checkpoint-every says
  // so.
  absl::Status MaybeCheckpoint(const Frame& frame) {
    if (!durable() || !checkpointer_->Due(frame.line_no)) {
      return absl::OkStatus();
    }
    return Checkpoint({frame.end_offset, frame.line_no});
  }

  // Durable state: resumes from the last checkpoint in the state directory,
  // if any: truncates the output files, moves `source` to its position,
  // restores the runtime and the timers.
  absl::Status Resume(run::Source& source) {
    source_ = &source;
    if (!durable()) return absl::OkStatus();
    if (source.partition_log() != nullptr && options_.parallelism <= 1) {
      partition_states_.emplace(*source.partition_log(), *file_);
      source.SetPartitionListener(this);
    }
    CEP_ASSIGN_OR_RETURN(std::optional<run::RunMeta> meta,
                         checkpointer_->Load());
    if (!meta.has_value()) {
      // A new run: the output files start empty.
      return writer_->Truncate({0, 0, 0, 0});
    }
    CEP_RETURN_IF_ERROR(writer_->Truncate(meta->lengths));
    // The input goes on where the checkpoint left it; a CSV header first.
    Frame frame;
    while (decoder_.awaiting_header() && source.Next(frame)) {
      CEP_RETURN_IF_ERROR(Take(frame));
    }
    // The keys and partial matches restored show before the input is read
    // up to the checkpoint (a pipe sent again from its start).
    CEP_RETURN_IF_ERROR(runtime_->Import(std::move(meta->snapshot)));
    PublishMetrics(meta->position.offset, /*force=*/true);
    CEP_RETURN_IF_ERROR(SeekSource(source, *meta));
    errors_ = meta->errors;
    max_ts_ = meta->max_ts;
    return absl::OkStatus();
  }

  // A clean stop at `position`: the outputs flushed and, with durable
  // state, a checkpoint there; no waiting event is released and no window
  // closes.
  absl::StatusOr<RunStats> Stop(run::SourcePosition position,
                                std::vector<uint64_t> decoded_per_thread) {
    // Workers finish what they were handed before the outputs close and
    // their counters are read.
    if (absl::Status status = runtime_->Stop(); !status.ok()) {
      return absl::Status(
          status.code(),
          Cat(input_name_, ": error: ", std::string(status.message())));
    }
    if (absl::Status closed = writer_->Close(); !closed.ok()) return closed;
    if (durable()) CEP_RETURN_IF_ERROR(Checkpoint(position));
    RunStats stats = Stats();
    stats.stopped = true;
    stats.decoded_per_thread = DecodedPerThread(std::move(decoded_per_thread));
    return stats;
  }

  // End of input (at `position`): every waiting event, then every window
  // closes.
  absl::StatusOr<RunStats> Finish(run::SourcePosition position,
                                  std::vector<uint64_t> decoded_per_thread) {
    absl::Status status = runtime_->Finish();
    if (!status.ok()) {
      return absl::Status(
          status.code(),
          Cat(input_name_, ": error: ", std::string(status.message())));
    }
    if (absl::Status closed = writer_->Close(); !closed.ok()) return closed;
    if (durable()) CEP_RETURN_IF_ERROR(Checkpoint(position));
    PublishMetrics(position.offset, /*force=*/true);
    RunStats stats = Stats();
    stats.decoded_per_thread = DecodedPerThread(std::move(decoded_per_thread));
    return stats;
  }

  // ---- lanes (RunLanes) ---------------------------------------------------

  // Walks every line of `block`: the events of this lane's keys (and, in
  // the first lane, the late ones) to its runtime, the others observed.
  absl::Status WalkBlock(const run::LineBlock& block) {
    Frame frame;
    for (size_t idx = 0; idx < block.lines.size(); ++idx) {
      frame = block.FrameOf(idx);
      const run::BlockLine& line = block.lines[idx];
      CEP_RETURN_IF_ERROR(
          line.scanned ? TakeScannedLane(frame, line, block.FieldsOf(idx))
                       : Take(frame));
      if (options_.stop_after_lines > 0 &&
          frame.line_no >= options_.stop_after_lines) {
        return absl::AbortedError(
            Cat(input_name_, ": stopped after line ", frame.line_no));
      }
    }
    if (block.input_waits && !block.lines.empty()) {
      InputWaits();
      CEP_RETURN_IF_ERROR(Poll(frame));
    }
    return absl::OkStatus();
  }

  // The end of this lane's input: every window closes (Finish), or with
  // `stopped` nothing more is released (Stop).
  absl::Status EndLane(bool stopped) {
    absl::Status status = stopped ? runtime_->Stop() : runtime_->Finish();
    if (status.ok()) return status;
    return absl::Status(
        status.code(),
        Cat(input_name_, ": error: ", std::string(status.message())));
  }

  // The first lane, once every lane ended: the outputs closed.
  absl::Status CloseOutputs() { return writer_->Close(); }

  // Durable state, the first lane, before any lane walks: attaches every
  // lane's runtime to the checkpointer and resumes from the last
  // checkpoint, if any, as Resume() does: each lane gets the waiting events
  // of its keys.
  absl::Status ResumeLanes(run::Source& source,
                           const std::vector<std::unique_ptr<Runner>>& lanes) {
    std::vector<Runtime<Record, Value>*> runtimes;
    for (const auto& lane : lanes) runtimes.push_back(lane->runtime_.get());
    checkpointer_->AttachLanes(std::move(runtimes));
    CEP_ASSIGN_OR_RETURN(std::optional<run::RunMeta> meta,
                         checkpointer_->Load());
    if (!meta.has_value()) return writer_->Truncate({0, 0, 0, 0});
    CEP_RETURN_IF_ERROR(writer_->Truncate(meta->lengths));
    for (const auto& lane : lanes) {
      CEP_RETURN_IF_ERROR(lane->ImportLane(meta->snapshot, meta->max_ts));
    }
    errors_ = meta->errors;
    return SeekSource(source, *meta);
  }

  // Lanes: before this lane waits for a checkpoint after `block`, a commit
  // point (Runtime::CommitPoint()): the open batch processed, or the
  // operator caught up with the watermark, as a worker's is at a barrier.
  absl::Status LaneCommitPoint(const run::LineBlock& block) {
    absl::Status status = runtime_->CommitPoint();
    if (status.ok()) return status;
    return absl::Status(status.code(),
                        Cat(input_name_, ":", block.lines.back().line_no,
                            ": error: ", std::string(status.message())));
  }

  // Durable state, the first lane: a checkpoint at `position` while every
  // lane waits (or after they ended).
  absl::Status CheckpointLanes(run::SourcePosition position) {
    const int64_t started = SteadyClockNanos();
    CEP_ASSIGN_OR_RETURN(run::RunMeta meta, FlushedMeta(position));
    CEP_RETURN_IF_ERROR(checkpointer_->Write(std::move(meta)));
    Checkpointed(started);
    return absl::OkStatus();
  }

  // What this lane counted: every lane sees every event, so the events,
  // late events and dead letters are the first lane's alone.
  RunStats LaneStats() const {
    RunStats stats = Stats();
    if (lane_ > 0) {
      stats.events = 0;
      stats.late = 0;
      stats.errors = 0;
      stats.event_time = LatencyHistogram();
    }
    stats.decoded_per_thread = {lane_built_};
    return stats;
  }

 private:
  // Lanes: whether this lane pushes an event of time `ts` whose keys it
  // owns (`owned`) or not: a late one goes to the first lane (which writes
  // it to the late output), an event on time to the lane that owns a key
  // of it; every other lane observes it (Runtime::Observe).
  bool TakesHere(Timestamp ts, bool owned) const {
    if (ts <= runtime_->watermark()) return lane_ == 0;
    return owned;
  }

  // Lanes: the hash a lane owns keys by, as workers route: by key group
  // with durable state.
  std::function<uint64_t(const Record&)> LaneHashOf(
      const FilePattern& pattern) const {
    return durable() ? run::KeyGroupHashOf(pattern) : run::KeyHashOf(pattern);
  }

  // Lanes: the checkpoint's `snapshot` without the waiting events of other
  // lanes' keys; `max_ts`: the largest time read.
  absl::Status ImportLane(RuntimeSnapshot<Record> snapshot, Timestamp max_ts) {
    std::erase_if(snapshot.pending, [this](const HeldEvent<Record>& held) {
      return !OwnsRecord(held.event);
    });
    max_ts_ = max_ts;
    return runtime_->Import(std::move(snapshot));
  }

  // Lanes: whether this lane owns the key of `record` for a pattern that
  // takes it.
  bool OwnsRecord(const Record& record) const {
    for (size_t idx = 0; idx < current_count_; ++idx) {
      const FilePattern& pattern = *patterns_[idx]->file_pattern;
      if (!pattern.Accepts(record)) continue;
      const uint64_t hash = LaneHashOf(pattern)(record);
      if (Runtime<Record, Value>::WorkerOfHash(hash, lanes_) == lane_) {
        return true;
      }
    }
    return false;
  }

  // Lanes: a line LineBlocks scanned into `fields`; built into a Record
  // only when this lane takes it.
  absl::Status TakeScannedLane(const Frame& frame, const run::BlockLine& line,
                               std::span<const io::FlatField> fields) {
    const Schema& schema = *file_->schemas().front();
    const bool owned = ((line.owners >> lane_) & 1) != 0;
    return PushEvent(
        frame, 0, [&] { return FromMillis(line.millis); },
        [&](Timestamp ts, int64_t arrival, std::optional<uint64_t>) {
          if (!TakesHere(ts, owned)) return runtime_->Observe(ts, arrival);
          std::vector<Value> values;
          io::FlatFieldsToValues(schema, fields, values);
          ++lane_built_;
          return runtime_->Push(Record(&schema, std::move(values)), ts,
                                arrival);
        });
  }

 private:
  // What `frame` held, decoded: `decoded` (kNothing for a line too long),
  // `record` for an event (moved out), error_ for kBad and kFatal.
  // `arrival_ns`: when it was read; 0: now.
  absl::Status TakeDecoded(const Frame& frame, Decoded decoded, Record& record,
                           int64_t arrival_ns = 0) {
    if (frame.too_long) {
      if (Skipping()) return Skip(frame.text);
      return absl::InvalidArgumentError(Cat(
          input_name_, ":", frame.line_no, ": error: the line is longer than ",
          options_.max_line_bytes, " bytes (--max-line-bytes)"));
    }
    if (decoded == Decoded::kNothing) return absl::OkStatus();
    if (decoded != Decoded::kEvent) {
      if (decoded == Decoded::kBad && options_.on_error == OnError::kSkip) {
        return Skip(frame.text);
      }
      return absl::InvalidArgumentError(
          Cat(input_name_, ":", frame.line_no, ": error: ", error_));
    }
    return PushEvent(
        frame, arrival_ns, [&] { return TimeOf(record); },
        [&](Timestamp ts, int64_t arrival, std::optional<uint64_t> seq) {
          if (lanes_ > 1 && !TakesHere(ts, OwnsRecord(record))) {
            return runtime_->Observe(ts, arrival);
          }
          lane_built_ += lanes_ > 1 ? 1 : 0;
          return seq.has_value()
                     ? runtime_->PushWithSeq(std::move(record), ts, arrival,
                                             *seq)
                     : runtime_->Push(std::move(record), ts, arrival);
        });
  }

  // A line io::ScanFlatJson took into scanned_ (DefersDecoding()): its
  // packed fields go to the runtime, routed by the hashes of its keys.
  absl::Status TakeScanned(const Frame& frame, const Schema& schema) {
    packed_.clear();
    io::PackFlatFields(schema, scanned_, packed_);
    key_hashes_.resize(patterns_.size());
    for (size_t idx = 0; idx < patterns_.size(); ++idx) {
      key_hashes_[idx] =
          ScannedRouteHash(*patterns_[idx]->file_pattern, schema, scanned_);
    }
    return PushEvent(
        frame, 0,
        [&] {
          if (options_.time != TimeMode::kEvent) return ProcessingTime();
          return FromMillis(scanned_[*schema.time_field()].integer);
        },
        [&](Timestamp ts, int64_t arrival, std::optional<uint64_t> seq) {
          return runtime_->PushDeferred(packed_, ts, arrival, key_hashes_, seq);
        });
  }

  // ScannedRouteHash() as this run routes: by key group with durable state
  // and several workers.
  std::optional<uint64_t> ScannedRouteHash(
      const FilePattern& pattern, const Schema& schema,
      std::span<const io::FlatField> fields) const {
    return cep::ScannedRouteHash(pattern, schema, fields,
                                 durable() && options_.parallelism > 1
                                     ? run::KeyRouting::kKeyGroup
                                     : run::KeyRouting::kHash);
  }

  // An event of `frame` to the runtime: `time_of()` gives its time,
  // `push(ts, arrival, seq)` pushes it (`seq`: the source's, if any).
  // `arrival_ns`: when it was read; 0: now.
  template <typename TimeOfFn, typename PushFn>
  absl::Status PushEvent(const Frame& frame, int64_t arrival_ns,
                         TimeOfFn time_of, PushFn push) {
    const int64_t arrival = arrival_ns != 0 ? arrival_ns : Arrival();
    // RunStats::event_time from every kTimedEventEvery-th event (the first
    // included): a clock read costs about 5% of an event.
    const bool timed = events_taken_++ % kTimedEventEvery == 0;
    int64_t started = arrival;
    if (timed && (options_.rate > 0 || arrival_ns != 0 || !arrival_fresh_)) {
      started = SteadyClockNanos();
    }
    const Timestamp ts = time_of();
    if (ts > max_ts_) max_ts_ = ts;
    // The source's seq of the frame (Kafka: partition and offset), if any.
    const std::optional<uint64_t> seq =
        source_ != nullptr ? source_->SeqOf(frame) : std::nullopt;
    absl::Status status = push(ts, arrival, seq);
    if (!status.ok()) {
      return absl::Status(status.code(),
                          Cat(input_name_, ":", frame.line_no,
                              ": error: ", std::string(status.message())));
    }
    if (timed) event_time_.Record(SteadyClockNanos() - started);
    if (options_.progress && lane_ == 0 && (frame.line_no & 1023) == 0) {
      ReportProgress();
    }
    checkpointer_->CountEvent();
    return absl::OkStatus();
  }

  // RunStats::decoded_per_thread: the lines a DecodePool's threads decoded
  // (`pooled`), or with DefersDecoding() the events each worker built.
  // REQUIRES: after runtime_->Stop() or Finish().
  std::vector<uint64_t> DecodedPerThread(std::vector<uint64_t> pooled) {
    if (!pooled.empty() || !DefersDecoding()) return pooled;
    std::vector<uint64_t> built = carried_materialized_;
    built.resize(runtime_->workers(), 0);
    for (size_t w = 0; w < runtime_->workers(); ++w) {
      built[w] += runtime_->materialized(w);
    }
    return built;
  }

  // Whether a line that is not text goes to the dead letters: under
  // OnError::kSkip, unless it is the CSV header, which the run cannot do
  // without.
  bool Skipping() const {
    return options_.on_error == OnError::kSkip && !decoder_.awaiting_header();
  }

  // A line skipped under OnError::kSkip.
  absl::Status Skip(std::string_view raw) {
    ++errors_;
    if (lane_ == 0) writer_->DeadLetter(raw);
    return absl::OkStatus();
  }

  // Resume: moves `source` to the checkpoint's position: the one of a file,
  // or (a source with several partitions: Kafka) those of its partitions.
  static absl::Status SeekSource(run::Source& source,
                                 const run::RunMeta& meta) {
    if (!meta.partitions.empty()) return source.SeekPartitions(meta.partitions);
    return source.Seek(0, meta.position);
  }

  // Flushes the outputs, then writes a checkpoint at `position` — with
  // several workers at an aligned barrier, so that the outputs, the input
  // position and every worker's state are of the same point of the input;
  // then the source learns that the positions it gave are durable.
  absl::Status Checkpoint(run::SourcePosition position) {
    const int64_t started = SteadyClockNanos();
    std::vector<run::PartitionPosition> partitions;
    CEP_RETURN_IF_ERROR(runtime_->AtBarrier([&]() -> absl::Status {
      CEP_ASSIGN_OR_RETURN(run::RunMeta meta, FlushedMeta(position));
      if (source_ != nullptr) meta.partitions = source_->Positions();
      partitions = meta.partitions;
      CEP_RETURN_IF_ERROR(checkpointer_->Write(std::move(meta)));
      if (!partition_states_) return absl::OkStatus();
      return partition_states_->Write(partitions, NamedBackends(),
                                      runtime_->Export());
    }));
    if (source_ != nullptr) CEP_RETURN_IF_ERROR(source_->Committed(partitions));
    Checkpointed(started);
    return absl::OkStatus();
  }

  // The outputs flushed, and the meta of a checkpoint at `position` but
  // for the source's partitions.
  absl::StatusOr<run::RunMeta> FlushedMeta(run::SourcePosition position) {
    CEP_RETURN_IF_ERROR(writer_->Flush());
    run::RunMeta meta;
    meta.position = position;
    meta.errors = errors_;
    meta.max_ts = max_ts_;
    CEP_ASSIGN_OR_RETURN(meta.lengths, writer_->Lengths());
    return meta;
  }

  // A checkpoint that started at `started_ns` was written.
  void Checkpointed(int64_t started_ns) {
    checkpoint_at_ns_ = SteadyClockNanos();
    checkpoint_ns_ = checkpoint_at_ns_ - started_ns;
    ++checkpoints_;
  }

  // PartitionListener (--kafka-changelog): the state follows the
  // partitions (partition_state.hpp).
  absl::Status Revoking(const std::vector<uint32_t>& partitions) override {
    std::vector<uint32_t> keep;
    for (const run::PartitionPosition& position : source_->Positions()) {
      if (std::find(partitions.begin(), partitions.end(), position.partition) ==
          partitions.end()) {
        keep.push_back(position.partition);
      }
    }
    return Rehome(keep, {});
  }
  absl::StatusOr<std::vector<std::optional<run::SourcePosition>>> Assigned(
      const std::vector<uint32_t>& partitions) override {
    std::vector<uint32_t> keep;
    for (const run::PartitionPosition& position : source_->Positions()) {
      keep.push_back(position.partition);
    }
    std::vector<run::RestoredPartition> restored;
    std::vector<std::optional<run::SourcePosition>> starts;
    for (const uint32_t partition : partitions) {
      CEP_ASSIGN_OR_RETURN(restored.emplace_back(),
                           partition_states_->Read(partition));
      starts.push_back(restored.back().position);
    }
    CEP_RETURN_IF_ERROR(Rehome(keep, std::move(restored)));
    return starts;
  }

  // Checkpoints, then starts the runtime again over the state of the
  // partitions `keep` (the rest dropped) and that of `restored`.
  absl::Status Rehome(const std::vector<uint32_t>& keep,
                      std::vector<run::RestoredPartition> restored) {
    CEP_RETURN_IF_ERROR(Checkpoint(source_->Position(0)));
    CEP_RETURN_IF_ERROR(runtime_->Stop());
    AddRunStats(carried_, RuntimeRunStats());
    for (size_t p = 0; p < patterns_.size(); ++p) {
      AddMetrics(carried_evaluator_[patterns_[p]->file_pattern->name],
                 runtime_->metrics(p));
    }
    runtime_.reset();
    checkpointer_.reset();
    patterns_.resize(current_count_);  // Open() adds the old versions again
    checkpointer_.emplace(*file_, options_, patterns_,
                          outputs_.timeouts != nullptr);
    CEP_RETURN_IF_ERROR(CreateRuntime(nullptr, 0, {}));
    CEP_ASSIGN_OR_RETURN(std::optional<run::RunMeta> meta,
                         checkpointer_->Load());
    RuntimeSnapshot<Record> snapshot;
    if (meta.has_value()) snapshot = std::move(meta->snapshot);
    CEP_RETURN_IF_ERROR(partition_states_->Apply(keep, std::move(restored),
                                                 NamedBackends(), snapshot));
    // Timers and the partial-match count of the keys there are now.
    for (size_t p = 0; p < patterns_.size(); ++p) {
      auto& matcher = runtime_->op().matcher(p);
      CEP_RETURN_IF_ERROR(matcher.RestoreTimers());
      CEP_ASSIGN_OR_RETURN(const uint64_t partial_matches,
                           matcher.CountPartialMatches());
      matcher.set_partial_matches(partial_matches);
    }
    return runtime_->Import(std::move(snapshot));
  }

  // The current patterns' backends, by name (parallelism 1).
  std::vector<run::NamedBackend> NamedBackends() {
    std::vector<run::NamedBackend> backends;
    for (size_t p = 0; p < current_count_; ++p) {
      backends.push_back(
          {patterns_[p]->file_pattern->name, &checkpointer_->backend(p)});
    }
    return backends;
  }

  void Report(const std::vector<std::string>& lines) const {
    if (!options_.watch_report) return;
    for (const std::string& line : lines) options_.watch_report(line);
  }

  // Keys of patterns_[pattern] holding a partial match: with durable state
  // the runtime's count (idle states are deleted there), in memory those
  // of `backends` ([worker][pattern]) that are not idle.
  size_t LiveKeys(
      size_t pattern,
      std::vector<std::vector<std::unique_ptr<StateBackend<Record, Value>>>>&
          backends) const {
    if (durable()) return runtime_->key_count(pattern);
    size_t live = 0;
    for (auto& worker : backends) {
      absl::Status counted = worker[pattern]->ForEach(
          [&live](const Value&, KeyState<Record>& state) {
            if (!state.IsIdle()) ++live;
            return absl::OkStatus();
          });
      (void)counted;  // in memory: never fails
    }
    return live;
  }

  // --watch: swaps `reload` in at `position`, without stopping the run
  // (see RunOptions::watch_files): every worker at the same point of the
  // input (with durable state a checkpoint there), then the runtime stops
  // and a new one starts over the new versions, the old versions that
  // drain, and the state (in memory: the backends handed over, with their
  // timers; durable: reopened from the checkpoint, the old versions found
  // by namespace), with the events waiting for the watermark.
  absl::Status Swap(run::WatchedReload reload, run::SourcePosition position) {
    if (durable()) {
      CEP_RETURN_IF_ERROR(Checkpoint(position));
    } else {
      CEP_RETURN_IF_ERROR(runtime_->AtBarrier([] { return absl::OkStatus(); }));
    }
    CEP_RETURN_IF_ERROR(runtime_->Stop());
    RuntimeSnapshot<Record> snapshot = runtime_->Export();
    AddRunStats(carried_, RuntimeRunStats());
    carried_materialized_ = DecodedPerThread({});
    for (size_t p = 0; p < patterns_.size(); ++p) {
      AddMetrics(carried_evaluator_[patterns_[p]->file_pattern->name],
                 runtime_->metrics(p));
    }
    using Schedule = KeyedMatcher<Record, Value>::TimerSchedule;
    std::vector<std::vector<Schedule>> schedules(runtime_->workers());
    // [worker][pattern]: KeyedMatcher::partial_matches, with the backends.
    std::vector<std::vector<uint64_t>> partial_matches(runtime_->workers());
    std::vector<std::vector<std::unique_ptr<StateBackend<Record, Value>>>>
        backends;
    if (!durable()) {
      for (size_t w = 0; w < runtime_->workers(); ++w) {
        for (size_t p = 0; p < patterns_.size(); ++p) {
          auto& matcher = runtime_->op(w).matcher(p);
          schedules[w].push_back(matcher.ExportSchedule());
          partial_matches[w].push_back(matcher.partial_matches());
        }
      }
      backends = runtime_->TakeBackends();
    }
    std::vector<run::HeldVersion> held;
    for (size_t p = 0; p < patterns_.size(); ++p) {
      const FilePattern& pattern = *patterns_[p]->file_pattern;
      held.push_back({pattern.name, run::StructureText(*patterns_[p]),
                      pattern.filename, p < current_count_,
                      LiveKeys(p, backends)});
    }
    CEP_ASSIGN_OR_RETURN(std::vector<std::unique_ptr<CompiledPattern>> next,
                         Compile(*reload.file));
    std::vector<std::string> structures;
    for (const auto& compiled : next) {
      structures.push_back(run::StructureText(*compiled));
    }
    const run::ReloadPlan plan =
        run::PlanReload(held, structures, *reload.file, reload.changed,
                        !snapshot.pending.empty());
    runtime_.reset();
    reloaded_files_.push_back(std::move(reload.file));
    file_ = reloaded_files_.back().get();
    if (durable()) {
      // Reopened over the new files: the state of the checkpoint just
      // written, the old versions draining (or dropped) by namespace.
      checkpointer_.reset();
      patterns_ = std::move(next);
      checkpointer_.emplace(*file_, options_, patterns_,
                            outputs_.timeouts != nullptr);
      CEP_RETURN_IF_ERROR(CreateRuntime(nullptr, 0, {}));
      CEP_ASSIGN_OR_RETURN(std::optional<run::RunMeta> meta,
                           checkpointer_->Load());
      if (!meta.has_value() || meta->position.offset != position.offset) {
        return absl::InternalError(Cat(options_.state_dir,
                                       ": error: the checkpoint of the reload "
                                       "is not in the state"));
      }
    } else {
      std::vector<std::optional<size_t>> from = plan.takes_over;
      std::vector<bool> fresh;
      for (const std::optional<size_t>& held_idx : from) {
        fresh.push_back(!held_idx.has_value());
      }
      for (const size_t h : plan.drains) {
        next.push_back(std::move(patterns_[h]));
        from.push_back(h);
      }
      std::vector<std::unique_ptr<CompiledPattern>> old = std::move(patterns_);
      patterns_ = std::move(next);
      CEP_RETURN_IF_ERROR(CreateRuntime(
          [&](size_t worker, size_t pattern)
              -> absl::StatusOr<std::unique_ptr<StateBackend<Record, Value>>> {
            if (from[pattern].has_value()) {
              return std::move(backends[worker][*from[pattern]]);
            }
            return std::make_unique<InMemoryStateBackend<Record, Value>>();
          },
          snapshot.next_seq, std::move(fresh)));
      for (size_t w = 0; w < runtime_->workers(); ++w) {
        for (size_t p = 0; p < patterns_.size(); ++p) {
          if (!from[p].has_value()) continue;
          auto& matcher = runtime_->op(w).matcher(p);
          matcher.ImportSchedule(std::move(schedules[w][*from[p]]));
          matcher.set_partial_matches(partial_matches[w][*from[p]]);
        }
      }
    }
    CEP_RETURN_IF_ERROR(runtime_->Import(std::move(snapshot)));
    Report(plan.messages);
    return absl::OkStatus();
  }

  // What the metrics server shows now, the evaluators' counters and keys
  // included. REQUIRES: inside Runtime::AtBarrier() (parallelism > 1). Old
  // versions being drained (--migrate) are left out: they share their pattern's
  // name.
  run::MetricsSnapshot MetricsSnapshotAt(uint64_t offset) const {
    const RuntimeStats runtime_stats = runtime_->stats();
    run::MetricsSnapshot snapshot;
    snapshot.input_events = runtime_stats.events + carried_.events;
    snapshot.late_events = runtime_stats.late + carried_.late;
    snapshot.input_offset_bytes = offset;
    const Timestamp watermark = runtime_->watermark();
    if (watermark > kMinWatermark && max_ts_ > watermark) {
      snapshot.watermark_lag_seconds =
          static_cast<double>(Nanos(max_ts_ - watermark)) / 1e9;
    }
    const size_t current = current_count_;
    for (size_t p = 0; p < current && p < patterns_.size(); ++p) {
      run::MetricsSnapshot::Pattern& pattern = snapshot.patterns.emplace_back();
      pattern.name = patterns_[p]->file_pattern->name;
      LatencyHistogram latency = runtime_stats.pattern_latency[p];
      for (size_t c = 0; c < carried_.pattern_names.size(); ++c) {
        if (carried_.pattern_names[c] == pattern.name) {
          latency.Merge(carried_.pattern_latency[c]);
        }
      }
      pattern.latency = run::LatencyBuckets::Of(latency);
      EvaluatorMetrics metrics = runtime_->metrics(p);
      if (auto it = carried_evaluator_.find(pattern.name);
          it != carried_evaluator_.end()) {
        AddMetrics(metrics, it->second);
      }
      pattern.events = metrics.events;
      pattern.timeouts = metrics.timeouts;
      pattern.evicted_partial_matches = metrics.evicted_partial_matches;
      pattern.keys = runtime_->key_count(p);
      pattern.partial_matches = runtime_->partial_matches(p);
      pattern.late_events = writer_->late(pattern.name);
    }
    snapshot.has_checkpoints = durable();
    snapshot.checkpoints = checkpoints_;
    snapshot.checkpoint_duration_seconds =
        static_cast<double>(checkpoint_ns_) / 1e9;
    snapshot.checkpoint_at_ns = checkpoint_at_ns_;
    if (durable()) {
      const RocksDbStore::BlockCacheStats cache =
          checkpointer_->block_cache_stats();
      snapshot.block_cache_hits = cache.hits;
      snapshot.block_cache_misses = cache.misses;
    }
    snapshot.has_reloads = watcher_.has_value();
    snapshot.reloads = reloads_;
    snapshot.rejected_reloads = watcher_ ? watcher_->rejected() : 0;
    return snapshot;
  }

  // The counts of the whole run: the runtime's, and those of the runtimes
  // --watch replaced.
  RunStats Stats() const {
    RunStats stats = RuntimeRunStats();
    // An old version that drains counts with its pattern.
    RunStats versions;
    std::swap(versions.pattern_names, stats.pattern_names);
    std::swap(versions.pattern_latency, stats.pattern_latency);
    std::swap(versions.pattern_evicted, stats.pattern_evicted);
    std::swap(versions.pattern_shared, stats.pattern_shared);
    AddPatternStats(stats, versions);
    AddRunStats(stats, carried_);
    stats.migrations = initial_migrations_;
    stats.reloads = reloads_;
    stats.rejected_reloads = watcher_ ? watcher_->rejected() : 0;
    return stats;
  }

  // The counts of runtime_ alone.
  RunStats RuntimeRunStats() const {
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
    return stats;
  }

  Timestamp TimeOf(const Record& record) {
    if (options_.time == TimeMode::kEvent) {
      return FromMillis(record.GetInt(*record.schema().time_field()));
    }
    return ProcessingTime();
  }

  // Processing time never goes back, so no event is late.
  Timestamp ProcessingTime() const {
    const Timestamp now = std::chrono::time_point_cast<Duration>(
        std::chrono::system_clock::now());
    return std::max(now, max_ts_);
  }

  void ReportProgress() {
    const int64_t now = SteadyClockNanos();
    if (now < next_progress_) return;
    next_progress_ = now + Nanos(options_.progress_interval);
    RunProgress progress;
    progress.events = runtime_->stats().events + carried_.events;
    progress.matches = writer_->matches();
    const Timestamp watermark = runtime_->watermark();
    progress.watermark_lag =
        watermark > kMinWatermark ? max_ts_ - watermark : Duration(0);
    options_.progress(progress);
  }

  // The arrival time of the next event: with RunOptions::rate the time it
  // is due, after waiting for it when early; else now, read from the clock
  // once per kArrivalEvery events while the input has more at once (the
  // time the first of them was taken: a clock read costs about 5% of an
  // event), and for the first event after the input waited (InputWaits()).
  // arrival_fresh_ says whether this one was read now.
  int64_t Arrival() {
    if (options_.rate <= 0) {
      arrival_fresh_ = arrivals_left_ == 0;
      if (arrival_fresh_) {
        last_arrival_ns_ = SteadyClockNanos();
        arrivals_left_ = kArrivalEvery;
      }
      --arrivals_left_;
      return last_arrival_ns_;
    }
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

  // The patterns running: the run's file, or the last version --watch
  // swapped in (reloaded_files_ keeps every version: old ones may drain).
  const PatternFile* file_;
  std::vector<std::unique_ptr<PatternFile>> reloaded_files_;
  std::string_view input_name_;
  const RunOptions& options_;
  RunOutputs& outputs_;
  // Current versions ([0, current_count_)), then old ones that drain.
  std::vector<std::unique_ptr<CompiledPattern>> patterns_;
  size_t current_count_ = 0;
  run::LineDecoder decoder_;
  // Lanes (RunLanes): the first lane (nullptr: this one, or no lanes),
  // this runner's lane and their number (1: no lanes).
  Runner* first_lane_;
  size_t lane_;
  size_t lanes_;
  uint64_t lane_built_ = 0;  // events this lane built and pushed
  // The outputs: this runner's own, or (a lane after the first) the first
  // lane's.
  std::optional<run::OutputWriter> own_writer_;
  run::OutputWriter* writer_ = nullptr;
  // Always there (it counts events); opened with durable state; made anew
  // when --watch swaps in new files.
  std::optional<run::Checkpointer> checkpointer_;
  std::vector<std::string> initial_migrations_;  // RunStats::migrations
  std::unique_ptr<Runtime<Record, Value>> runtime_;
  run::Source* source_ = nullptr;  // set by Resume()
  // --kafka-changelog: the state kept per input partition.
  std::optional<run::PartitionStates> partition_states_;
  Record record_;  // the event being decoded
  // DefersDecoding(): the line being scanned, its packed fields and the
  // route hashes of its keys, per pattern.
  std::array<io::FlatField, 64> scanned_;
  std::string packed_;
  std::vector<std::optional<uint64_t>> key_hashes_;
  std::string error_;  // why a line did not decode
  Timestamp max_ts_ = kMinWatermark;
  uint64_t errors_ = 0;
  int64_t next_progress_ = 0;
  LatencyHistogram event_time_;  // RunStats::event_time
  uint64_t events_taken_ = 0;
  // Arrival(): the last clock reading, the events that may still take it,
  // and whether the last arrival was read then.
  int64_t last_arrival_ns_ = 0;
  uint64_t arrivals_left_ = 0;
  bool arrival_fresh_ = true;
  // Pacing (RunOptions::rate): events paced so far, and when the first was.
  uint64_t paced_ = 0;
  int64_t pace_start_ns_ = 0;
  // Checkpoints this run wrote, how long the last took, when it ended.
  uint64_t checkpoints_ = 0;
  int64_t checkpoint_ns_ = 0;
  int64_t checkpoint_at_ns_ = 0;
  // --watch: the files, the reloads so far, and the counts of the runtimes
  // replaced (RunStats; the evaluators' counters by pattern name).
  std::optional<run::PatternWatcher> watcher_;
  uint64_t reloads_ = 0;
  RunStats carried_;
  std::vector<uint64_t> carried_materialized_;  // DecodedPerThread()
  std::map<std::string, EvaluatorMetrics> carried_evaluator_;
  // RunOptions::metrics_port: the server and when the next snapshot is due.
  std::unique_ptr<run::MetricsServer> metrics_;
  int64_t next_metrics_ns_ = 0;
};

// Whether a run goes in lanes (RunLanes): several workers, JSON lines of
// one event type read from a stream, by event time, and nothing that needs
// one thread to see every event first (pattern files watched, pacing, a
// metrics server) or old versions of patterns (--migrate).
bool UsesLanes(const PatternFile& file, const run::Source& source,
               const RunOptions& options) {
  return options.parallelism > 1 &&
         options.parallelism <= run::LineBlocks::kMaxLanes &&
         options.format == InputFormat::kJsonl && file.schemas().size() == 1 &&
         options.time == TimeMode::kEvent && !options.migrate &&
         options.watch_files.empty() && options.rate <= 0 &&
         !options.metrics_port.has_value() &&
         dynamic_cast<const run::StreamSource*>(&source) != nullptr;
}

// Lanes with durable state: where they wait for each other to checkpoint.
// The last to arrive runs the checkpoint while the others wait; Abort()
// (a lane failed) frees them all.
class LaneBarrier {
 public:
  explicit LaneBarrier(size_t lanes) : lanes_(lanes) {}

  // Waits for every lane; the last runs `fn`. Returns fn's result, or
  // kAborted after Abort().
  absl::Status ArriveAndWait(absl::FunctionRef<absl::Status()> fn) {
    std::unique_lock<std::mutex> lock(mu_);
    if (aborted_) return Aborted();
    if (++arrived_ == lanes_) {
      result_ = fn();
      arrived_ = 0;
      ++generation_;
      cv_.notify_all();
      return result_;
    }
    const uint64_t generation = generation_;
    cv_.wait(lock, [&] { return aborted_ || generation_ != generation; });
    return generation_ != generation ? result_ : Aborted();
  }

  void Abort() {
    std::lock_guard<std::mutex> lock(mu_);
    aborted_ = true;
    cv_.notify_all();
  }

 private:
  static absl::Status Aborted() {
    return absl::AbortedError("another lane failed");
  }

  const size_t lanes_;
  std::mutex mu_;
  std::condition_variable cv_;
  size_t arrived_ = 0;       // guarded by mu_
  uint64_t generation_ = 0;  // guarded by mu_
  absl::Status result_;      // guarded by mu_
  bool aborted_ = false;     // guarded by mu_
};

// Lanes with durable state: whether to checkpoint after a block
// (LineBlocks::CheckpointDue), as --checkpoint-every says: after so many
// events (lines), or so much clock time; `loop`: at the loop's commit
// points, which for lanes are block ends: every block in the event loop,
// a trigger's worth (interval or events) in the microbatch loop, a
// commit interval in the real-time loop.
run::LineBlocks::CheckpointDue LaneCheckpoints(const RunOptions& options) {
  struct Since {
    uint64_t lines = 0;
    int64_t start_ns = SteadyClockNanos();
  };
  return [&options, since = Since()](const run::LineBlock& block) mutable {
    since.lines += block.lines.size();
    const int64_t elapsed = SteadyClockNanos() - since.start_ns;
    bool due = false;
    if (options.checkpoint_with_loop) {
      switch (options.loop) {
        case Loop::kEvent:
          due = true;
          break;
        case Loop::kMicrobatch:
          due = elapsed >= Nanos(options.trigger_interval) ||
                (options.trigger_events > 0 &&
                 since.lines >= options.trigger_events);
          break;
        case Loop::kRealtime:
          due = elapsed >= Nanos(options.commit_interval);
          break;
      }
    } else {
      due = (options.checkpoint_events > 0 &&
             since.lines >= options.checkpoint_events) ||
            (options.checkpoint_interval > Duration(0) &&
             elapsed >= Nanos(options.checkpoint_interval));
    }
    if (due) since = Since();
    return due;
  };
}

// A run in lanes: one thread per worker, each with a runtime of its own
// over every line of the input (line_blocks.hpp), taking the events of its
// keys and observing the others, so that seq numbers, lateness and each
// key's outputs are those of one worker, and no event is handed from one
// thread to another. The first lane reports what concerns the input as a
// whole: dead letters, late events, progress.
absl::StatusOr<RunStats> RunLanes(const PatternFile& file, run::Source& source,
                                  std::string_view input_name,
                                  const RunOptions& options,
                                  RunOutputs& outputs) {
  const size_t lanes = options.parallelism;
  RunOptions quiet = options;  // the lanes after the first
  quiet.progress = nullptr;
  const bool durable = !options.state_dir.empty();
  const run::KeyRouting routing =
      durable ? run::KeyRouting::kKeyGroup : run::KeyRouting::kHash;
  run::LineBlocks blocks(
      source, *file.schemas().front(), lanes,
      [&file, lanes, routing](std::span<const io::FlatField> fields) {
        return LaneOwners(file, lanes, routing, fields);
      },
      options.stop, durable ? LaneCheckpoints(options) : nullptr);
  LaneBarrier barrier(lanes);
  std::vector<std::unique_ptr<Runner>> runners(lanes);
  // The first lane's checkpointer holds the state the others' runtimes
  // write into: they go first.
  struct LastLaneFirst {
    std::vector<std::unique_ptr<Runner>>& runners;
    ~LastLaneFirst() {
      while (!runners.empty()) runners.pop_back();
    }
  } destroy_in_order{runners};
  std::vector<absl::Status> statuses(lanes);
  std::vector<uint8_t> stopped(lanes, 0);
  // Each lane builds its runner on its own thread, so that what its
  // runtime writes for every event lies in that thread's memory, not on a
  // cache line next to another lane's; one after the other (the lanes
  // after the first write through its outputs). They walk once every lane
  // is built and the outputs are open.
  std::mutex mu;
  std::condition_variable cv;
  size_t built = 0;     // guarded by mu
  bool go = false;      // guarded by mu
  bool walk_ok = true;  // guarded by mu
  // A checkpoint after a block: every lane caught up and waiting.
  auto checkpoint = [&](Runner& runner, const run::LineBlock& block) {
    CEP_RETURN_IF_ERROR(runner.LaneCommitPoint(block));
    const run::SourcePosition position = block.EndPosition();
    return barrier.ArriveAndWait(
        [&] { return runners.front()->CheckpointLanes(position); });
  };
  auto walk = [&](size_t lane) -> absl::Status {
    Runner& runner = *runners[lane];
    for (uint64_t number = 0;; ++number) {
      const run::LineBlock* block = blocks.Acquire(number);
      if (block == nullptr) return absl::AbortedError("another lane failed");
      absl::Status status = runner.WalkBlock(*block);
      if (status.ok() && block->checkpoint) status = checkpoint(runner, *block);
      const bool last = block->last;
      stopped[lane] = block->stopped ? 1 : 0;
      blocks.Release(number);
      CEP_RETURN_IF_ERROR(status);
      if (last) return runner.EndLane(stopped[lane] != 0);
    }
  };
  auto lane_thread = [&](size_t lane) {
    runners[lane] = std::make_unique<Runner>(
        file, input_name, lane == 0 ? options : quiet, outputs,
        lane == 0 ? nullptr : runners.front().get(), lane, lanes);
    statuses[lane] = runners[lane]->Start();
    std::unique_lock<std::mutex> lock(mu);
    ++built;
    cv.notify_all();
    cv.wait(lock, [&] { return go; });
    if (!walk_ok) return;
    lock.unlock();
    statuses[lane] = walk(lane);
    if (!statuses[lane].ok()) {
      blocks.Abort();
      barrier.Abort();
    }
  };
  std::vector<std::thread> threads;
  for (size_t lane = 0; lane < lanes; ++lane) {
    threads.emplace_back(lane_thread, lane);
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return built == lane + 1; });
  }
  absl::Status opened;
  for (const absl::Status& status : statuses) {
    if (opened.ok()) opened = status;
  }
  if (opened.ok() && outputs.open != nullptr) opened = outputs.open();
  if (opened.ok()) runners.front()->OutputsOpened();
  if (opened.ok() && durable) {
    opened = runners.front()->ResumeLanes(source, runners);
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    go = true;
    walk_ok = opened.ok();
  }
  cv.notify_all();
  for (std::thread& thread : threads) thread.join();
  CEP_RETURN_IF_ERROR(opened);
  // The first lane's error, or the first lane's that stopped the others.
  for (const absl::Status& status : statuses) {
    if (!status.ok() && status.message() != "another lane failed") {
      return status;
    }
  }
  CEP_RETURN_IF_ERROR(runners.front()->CloseOutputs());
  if (stopped.front() == 0) CEP_RETURN_IF_ERROR(blocks.status());
  if (durable) {
    CEP_RETURN_IF_ERROR(runners.front()->CheckpointLanes(blocks.position()));
  }
  RunStats stats = runners.front()->LaneStats();
  for (size_t lane = 1; lane < lanes; ++lane) {
    const RunStats lane_stats = runners[lane]->LaneStats();
    AddRunStats(stats, lane_stats);
    stats.decoded_per_thread.push_back(lane_stats.decoded_per_thread.front());
  }
  stats.stopped = stopped.front() != 0;
  return stats;
}

}  // namespace

absl::StatusOr<RunStats> RunPatternFile(const PatternFile& file,
                                        std::istream& input,
                                        std::string_view input_name,
                                        const RunOptions& options,
                                        RunOutputs& outputs) {
  run::StreamSource source(input, input_name, options.max_line_bytes,
                           options.on_error == OnError::kSkip, options.stop,
                           options.state_dir);
  return run::RunSource(file, source, input_name, options, outputs);
}

absl::StatusOr<RunStats> run::RunSource(const PatternFile& file,
                                        run::Source& source,
                                        std::string_view input_name,
                                        const RunOptions& options,
                                        RunOutputs& outputs) {
  // --watch swaps new versions in as --migrate starts a run over another
  // version's state, and a run restarted after a crash must start over the
  // state of the version that ran with the files then on disk.
  RunOptions effective = options;
  if (!options.watch_files.empty()) effective.migrate = true;
  if (UsesLanes(file, source, options)) {
    return RunLanes(file, source, input_name, options, outputs);
  }
  Runner runner(file, input_name, effective, outputs);
  if (absl::Status status = runner.Start(); !status.ok()) return status;
  if (absl::Status status = runner.StartMetrics(); !status.ok()) {
    return status;
  }
  if (outputs.open != nullptr) {
    if (absl::Status status = outputs.open(); !status.ok()) return status;
  }
  runner.OutputsOpened();
  if (absl::Status status = runner.Resume(source); !status.ok()) {
    return status;
  }
  auto stop_requested = [&options] {
    return options.stop != nullptr &&
           options.stop->load(std::memory_order_relaxed);
  };
  // One frame, then what follows it: kept, or the run's error.
  auto after = [&](const Frame& frame) -> absl::Status {
    if (options.stop_after_lines > 0 &&
        frame.line_no >= options.stop_after_lines) {
      return absl::AbortedError(
          Cat(input_name, ": stopped after line ", frame.line_no));
    }
    CEP_RETURN_IF_ERROR(runner.MaybeCheckpoint(frame));
    if (runner.watching() && (frame.line_no & 63) == 0) {
      CEP_RETURN_IF_ERROR(
          runner.MaybeReload({frame.end_offset, frame.line_no}));
    }
    // Before reading waits for more input: what was read reaches the
    // workers, and live metrics are published.
    const bool waits = !source.Ready();
    if (waits) {
      runner.InputWaits();
      CEP_RETURN_IF_ERROR(runner.Poll(frame));
    }
    if (runner.metrics_on()) {
      runner.PublishMetrics(frame.end_offset, /*force=*/waits);
    }
    return absl::OkStatus();
  };
  // --watch: until the input has more, or ends, looks at the pattern files
  // when due (`position`: after what the runtime was handed).
  auto idle = [&](run::SourcePosition position) -> absl::Status {
    if (!runner.watching()) return absl::OkStatus();
    while (!stop_requested() && !source.Ready()) {
      if (source.WaitReady(runner.UntilPoll())) break;
      CEP_RETURN_IF_ERROR(runner.MaybeReload(position));
    }
    return absl::OkStatus();
  };
  // With parallelism > 1 (and no pacing), threads decode while this one
  // frames; until the CSV header is read, this one decodes.
  // JSON lines of one event type go to the workers undecoded instead
  // (Runner::DefersDecoding()).
  const bool pooled =
      options.parallelism > 1 && options.rate <= 0 && !runner.DefersDecoding();
  Frame frame;
  while (!stop_requested() && (!pooled || runner.awaiting_header())) {
    CEP_RETURN_IF_ERROR(idle(source.Position(0)));
    if (stop_requested() || !source.Next(frame)) break;
    if (absl::Status status = runner.Take(frame); !status.ok()) {
      return status;
    }
    CEP_RETURN_IF_ERROR(after(frame));
  }
  run::SourcePosition position = source.Position(0);
  std::vector<uint64_t> decoded_per_thread;
  if (pooled && !stop_requested() && !runner.awaiting_header()) {
    run::DecodePool pool(runner.decoder(), options.parallelism,
                         kDecodeBatchFrames);
    // Hands the oldest batch to the runner, frame by frame in input order,
    // once decoded: waiting for it, or (`wait` false) only when it is.
    // False when there is none to hand, or the run stopped in it.
    bool stopped = false;
    auto take = [&](bool wait) -> absl::StatusOr<bool> {
      run::FrameBatch* batch = wait ? pool.Take() : pool.TryTake();
      if (batch == nullptr) return false;
      for (size_t idx = 0; idx < batch->count; ++idx) {
        if (stop_requested()) {
          stopped = true;
          return false;
        }
        const Frame taken = batch->FrameOf(idx);
        CEP_RETURN_IF_ERROR(
            runner.TakeDecoded(taken, batch->entries[idx], batch->arrival_ns));
        position = {taken.end_offset, taken.line_no};
        CEP_RETURN_IF_ERROR(after(taken));
      }
      pool.Release();
      return true;
    };
    bool more = true;
    while (more && !stopped) {
      run::FrameBatch* batch = pool.Free();
      if (batch == nullptr) {  // every batch in flight
        CEP_RETURN_IF_ERROR(take(/*wait=*/true).status());
        continue;
      }
      // A batch ends when full, or when the next line is not there yet:
      // what was read must not wait for more input (a live stream).
      bool ready = true;
      while (!stop_requested() && (more = source.Next(frame))) {
        pool.Add(*batch, frame);
        if (batch->count == kDecodeBatchFrames) break;
        if (!(ready = source.Ready())) break;
      }
      if (stop_requested()) more = false;
      if (batch->count > 0) {
        batch->arrival_ns = SteadyClockNanos();
        pool.Submit(batch);
      }
      if (!ready) {
        // Everything read reaches the runtime before reading waits.
        for (bool taken = true; taken && !stopped;) {
          CEP_ASSIGN_OR_RETURN(taken, take(/*wait=*/true));
        }
        if (!stopped) CEP_RETURN_IF_ERROR(idle(position));
        continue;
      }
      for (bool taken = true; taken && !stopped;) {
        CEP_ASSIGN_OR_RETURN(taken, take(/*wait=*/false));
      }
    }
    for (bool taken = true; taken && !stopped;) {
      CEP_ASSIGN_OR_RETURN(taken, take(/*wait=*/true));
    }
    decoded_per_thread = pool.decoded_per_thread();
  }
  // Reading may also end because a signal interrupted it.
  if (stop_requested()) return runner.Stop(position, decoded_per_thread);
  if (absl::Status status = source.Status(); !status.ok()) return status;
  return runner.Finish(position, decoded_per_thread);
}

}  // namespace cep
