// cep/runtime.hpp — the three loops that drive an Operator (operator.hpp)
// over a stream: event-at-a-time, microbatch, and real-time (continuous).
//
// All three produce the same matches, timeouts and late events on the same
// input; they differ in when the watermark advances and when state is
// committed (DESIGN.md, "Data flow"):
//   - kEvent: each event goes through as it arrives; the watermark advances
//     after every event and state is committed after every event (Flink).
//   - kMicrobatch: events collect until a trigger (an interval since the
//     batch's first event, or N events); then the batch is processed with one
//     watermark advance and state is committed once (Spark Structured
//     Streaming's micro-batch model).
//   - kRealtime: events go through as they arrive, as in kEvent, but state is
//     committed only every commit_interval (Spark 4.1's Real-Time Mode:
//     long-running batches, records pipelined through them).
// NOTE: a microbatch is "grouped by key" across workers (each worker gets
// its keys' events of the batch, in hand-offs of up to 1024 while the batch
// fills, and holds them until the batch boundary follows them); within a
// worker the batch is processed in event-time order, not key by key, since
// that order is what makes every loop's output the same. With parallelism 1
// events go into the Operator on Push() (it holds them until the watermark
// passes them) and the batch boundary is the one watermark advance and
// commit.
//
// One source thread calls Push() for every event, Poll() when it has nothing
// to push, and Finish() at the end of the input. Lateness is decided once, by
// the source, against one bounded-out-of-orderness watermark: a late event
// goes to RuntimeSink::OnLate and never to a pattern.
//
// Parallelism: with parallelism N > 1 (any loop), N worker threads each own
// an Operator with every pattern and their own state backends; pattern p's
// events go to the worker hash(key_p(event)) picks, so each key's state lives
// in one worker. The source sends each event only to the workers that need
// it, through one bounded queue per worker (a full queue blocks Push():
// backpressure) in hand-offs of up to 1024 items or one watermark_interval,
// and watermark advances, commit points and barriers (AtBarrier: aligned
// checkpoints) travel in-band, in the same queues, so a worker never sees a
// watermark before the events it covers. Output per (pattern, key) comes in the
// same order for every loop and every N; outputs of different keys may
// interleave differently when N > 1 (sort them, or use parallelism 1, for
// byte-identical output). With parallelism 1 everything runs on the caller's
// thread, and the order of all outputs is that of one Operator advanced after
// every event.
//
// Lanes: N runtimes of parallelism 1 on N threads over the same stream,
// each pushing the events of the keys it owns and passing the others to
// Observe() (a seq, the watermark), give each key the outputs one runtime
// would, with no event handed between threads (`cep run --parallelism N`
// over JSON lines in memory does this).
//
// Events a worker builds: a source that must decode its events (`cep run`
// over JSON lines) can push them undecoded with PushDeferred(): it passes
// the bytes, the time and the hash of each pattern's key, and the worker the
// keys route to builds the event with the Materializer given to Create(),
// so that decoding and the event's allocations happen (and end) on the
// worker, not on the source thread. Everything else (seq, lateness,
// watermarks, outputs) is as for Push().
//
// Detection latency: Push() takes the event's arrival time (arrival_ns, a
// reading of RuntimeOptions::clock); a match's latency is the clock when it
// is handed to the sink minus the arrival time of the event that completed it
// (for matches released by a watermark — trailing NotFollowedBy — and for
// timeouts: of the event whose watermark advance released it, or the time of
// Finish()). Latencies go to LatencyHistograms in RuntimeStats, overall and
// per pattern, and to the sink with each output.
//
// Example:
//   cep::RuntimeOptions options;
//   options.loop = cep::Loop::kMicrobatch;
//   options.parallelism = 4;
//   options.max_out_of_orderness = std::chrono::seconds(5);
//   std::vector<cep::RuntimePattern<Txn, std::string>> patterns = {
//       {&nfa, [](const Txn& t) { return t.card; }}};
//   CEP_ASSIGN_OR_RETURN(auto runtime,
//                        (cep::Runtime<Txn, std::string>::Create(
//                            patterns, options, sink)));
//   while (std::optional<Txn> t = source.Next()) {
//     CEP_RETURN_IF_ERROR(runtime->Push(*t, cep::FromMillis(t->ts)));
//   }
//   CEP_RETURN_IF_ERROR(runtime->Finish());
//   std::cout << runtime->stats().latency.Summary() << "\n";
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

#include "cep/evaluator.hpp"
#include "cep/histogram.hpp"
#include "cep/internal/bounded_queue.hpp"
#include "cep/internal/status_macros.hpp"
#include "cep/match.hpp"
#include "cep/nfa.hpp"
#include "cep/operator.hpp"
#include "cep/state.hpp"
#include "cep/time.hpp"

namespace cep {

enum class Loop : uint8_t {
  kEvent,       // per event: advance, commit (Flink)
  kMicrobatch,  // per trigger: one advance, one commit (Spark micro-batch)
  kRealtime,    // per event: advance; commit every commit_interval (Spark RTM)
};

// "event", "microbatch", "realtime".
inline std::string_view LoopName(Loop loop) {
  switch (loop) {
    case Loop::kEvent:
      return "event";
    case Loop::kMicrobatch:
      return "microbatch";
    case Loop::kRealtime:
      return "realtime";
  }
  return "unknown";
}

// The Loop named by LoopName(). Errors: kInvalidArgument naming `name`.
[[nodiscard]] inline absl::StatusOr<Loop> ParseLoop(std::string_view name) {
  for (Loop loop : {Loop::kEvent, Loop::kMicrobatch, Loop::kRealtime}) {
    if (name == LoopName(loop)) return loop;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown loop '", absl::string_view(name.data(), name.size()),
      "' (expected event, microbatch or realtime)"));
}

// Nanoseconds of std::chrono::steady_clock: the default RuntimeOptions::clock
// and what a source stamps arrival times with.
inline int64_t SteadyClockNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct RuntimeOptions {
  // Behaviour.

  // Which loop drives the operator. Default: kEvent.
  Loop loop = Loop::kEvent;
  // How far behind the largest timestamp pushed so far an event may be and
  // still be on time (FlinkCEP's bounded out-of-orderness; the watermark is
  // largest - bound - 1 ms). Default: 0.
  Duration max_out_of_orderness{0};
  // Passed to every pattern's evaluator.
  EvaluatorOptions evaluator;

  // Loops.

  // kMicrobatch: a batch ends once this much clock time has passed since its
  // first event, noticed by the next Push() or Poll(); 0 turns the interval
  // trigger off. Default: 100 ms.
  Duration trigger_interval = std::chrono::milliseconds(100);
  // kMicrobatch: a batch ends when it holds this many (on-time) events; 0
  // turns the count trigger off. With both triggers off there is one batch,
  // at Finish(). Default: 0.
  size_t trigger_events = 0;
  // kRealtime: state is committed when this much clock time has passed since
  // the last commit, noticed by the next Push() or Poll(); 0 commits at every
  // Push(). Default: 5 s.
  Duration commit_interval = std::chrono::seconds(5);

  // Performance.

  // Worker threads. 1 runs everything on the caller's thread; N > 1 runs N
  // workers, each owning the state of the keys that hash to it, fed by the
  // caller's thread. Default: 1.
  size_t parallelism = 1;
  // Parallelism > 1: queued items (events and control messages) per worker
  // before Push() blocks (a hand-off is never split, so a queue may hold up
  // to this plus one hand-off). Default: 4096.
  size_t queue_capacity = 4096;
  // Parallelism > 1, kEvent and kRealtime: events and watermark advances
  // reach a worker in hand-offs of up to 1024 items, or within this much
  // clock time (noticed by Push() or Poll(), so a source calls Poll() when
  // it has nothing to push); 0 hands each event over at once and tells every
  // worker of every advance (lowest latency, one wake-up of a worker per
  // event). Default: 1 ms.
  std::chrono::microseconds watermark_interval{1000};

  // Time.

  // Processing-time clock in nanoseconds (any epoch; only differences count):
  // measures latency and drives the interval triggers. Called from the
  // source thread and, with parallelism > 1, from worker threads (one at a
  // time while outputs are emitted), so it must be thread-safe. Tests inject
  // a fake one. nullptr: SteadyClockNanos. Default: SteadyClockNanos.
  std::function<int64_t()> clock = SteadyClockNanos;
  // The arrival_ns a source passes to Push() and PushDeferred() is a recent
  // reading of `clock` (it stamps events as it reads them), so the runtime
  // takes it as the time of the call instead of reading the clock again:
  // the interval trigger, the real-time commit and the hand-offs to workers
  // then happen up to the stamp's age late. Default: false.
  bool arrival_is_recent = false;

  // Durability.

  // The runtime never commits the backends itself; the caller commits at
  // points of its choosing (after saving what goes with the state, as
  // `cep run --state rocksdb:DIR` does): with parallelism 1 between two
  // Push() calls (Runtime::Commit()), with more inside AtBarrier(), where
  // every worker waits at the same place of the stream. Default: false.
  bool external_commits = false;
};

// What a Runtime holds besides its backends and timers: see
// Runtime::Export().
template <typename Event>
struct RuntimeSnapshot {
  uint64_t next_seq = 0;
  Timestamp max_ts = kMinWatermark;            // largest timestamp pushed
  Timestamp source_watermark = kMinWatermark;  // lateness
  Timestamp operator_watermark = kMinWatermark;
  // In processing order; with several workers, every worker's (each event
  // once).
  std::vector<HeldEvent<Event>> pending;
};

// Waiting events gathered from several workers (or runtimes in lanes):
// into processing order (time, then seq), an event several held kept once.
template <typename Event>
void MergeHeldEvents(std::vector<HeldEvent<Event>>& pending) {
  auto order = [](const HeldEvent<Event>& a, const HeldEvent<Event>& b) {
    return a.ts != b.ts ? a.ts < b.ts : a.seq < b.seq;
  };
  std::sort(pending.begin(), pending.end(), order);
  pending.erase(
      std::unique(pending.begin(), pending.end(),
                  [](const HeldEvent<Event>& a, const HeldEvent<Event>& b) {
                    return a.seq == b.seq;
                  }),
      pending.end());
}

// One pattern run by a Runtime. The runtime calls `key_selector` and
// `accepts` from the source thread (to route events) and from worker threads,
// and the NFA's conditions from worker threads, concurrently when
// parallelism > 1: they must not modify shared state, and must not throw
// (a condition may: that becomes a kUnknown Status).
template <typename Event, typename Key>
struct RuntimePattern {
  RuntimePattern() = default;
  RuntimePattern(const Nfa<Event>* nfa_in,
                 std::function<Key(const Event&)> key_selector_in,
                 std::function<bool(const Event&)> accepts_in = nullptr)
      : nfa(nfa_in),
        key_selector(std::move(key_selector_in)),
        accepts(std::move(accepts_in)) {}

  // The compiled pattern; must outlive the Runtime.
  const Nfa<Event>* nfa = nullptr;
  // The key the pattern's partial matches are kept per.
  std::function<Key(const Event&)> key_selector;
  // Which events the pattern sees; nullptr: all.
  std::function<bool(const Event&)> accepts;
  // Parallelism > 1: a hash of the key `key_selector` gives (equal keys,
  // equal hashes), computed without building the key (a Record's key field
  // hashed in place), to route events to workers (WorkerOfHash: its high
  // bits). nullptr: absl::Hash<Key> of the key built.
  std::function<uint64_t(const Event&)> key_hash;
  // This pattern's evaluator options; nullopt: RuntimeOptions::evaluator.
  std::optional<EvaluatorOptions> evaluator;
};

// Makes the state backend of `pattern` (its index) in worker `worker`
// (0 with parallelism 1). The default makes an InMemoryStateBackend.
template <typename Event, typename Key>
using BackendFactory =
    std::function<absl::StatusOr<std::unique_ptr<StateBackend<Event, Key>>>(
        size_t worker, size_t pattern)>;

// Builds an event from the bytes a source gave Runtime::PushDeferred(). With
// parallelism > 1 it runs on the worker that takes the event (on several,
// concurrently, when the event goes to several workers), so it must be
// thread-safe. An error stops the runtime as a condition's does.
template <typename Event>
using Materializer = std::function<absl::StatusOr<Event>(std::string_view)>;

// Receives a Runtime's output. The runtime calls it one call at a time,
// never concurrently, but with parallelism > 1 from several threads (the
// workers for matches and timeouts, the source thread for late events), so a
// sink needs no lock of its own yet must not assume a thread. `pattern` is
// the index in the Runtime's pattern list. Calls must not throw, and must
// not call back into the Runtime.
template <typename Event, typename Key>
class RuntimeSink {
 public:
  virtual ~RuntimeSink() = default;
  // A complete match; `latency_ns` as in the header comment.
  virtual void OnMatch(size_t pattern, const Key& key, Match<Event> match,
                       int64_t latency_ns) = 0;
  // A partial match whose window closed at `timeout_at`.
  virtual void OnTimeout(size_t pattern, const Key& key, Match<Event> partial,
                         Timestamp timeout_at, int64_t latency_ns) {
    (void)pattern;
    (void)key;
    (void)partial;
    (void)timeout_at;
    (void)latency_ns;
  }
  // An event at or behind the watermark when pushed; `seq` is its position
  // in the input (Push() order). Called from the source thread, inside Push().
  virtual void OnLate(const Event& event, Timestamp ts, uint64_t seq) {
    (void)event;
    (void)ts;
    (void)seq;
  }
};

// What a Runtime did; see Runtime::stats().
struct RuntimeStats {
  uint64_t events = 0;    // pushed, late ones included
  uint64_t late = 0;      // sent to OnLate
  uint64_t matches = 0;   // sent to OnMatch
  uint64_t timeouts = 0;  // sent to OnTimeout
  // kMicrobatch: batches processed, the last one by Finish(); otherwise 0.
  uint64_t batches = 0;
  // Commit points: states of every backend made durable (every worker's, in
  // the same place of the stream). kEvent: one per on-time event;
  // kMicrobatch: one per batch; kRealtime: one per commit_interval; and, for
  // kEvent and kRealtime, one at Finish().
  uint64_t commits = 0;
  // Detection latency of matches in nanoseconds, overall and per pattern.
  LatencyHistogram latency;
  std::vector<LatencyHistogram> pattern_latency;
  // Latency of timeouts (from the arrival of the event whose watermark
  // advance closed the window, or from Finish()).
  LatencyHistogram timeout_latency;
};

template <typename Event, typename Key>
class Runtime {
 public:
  using Pattern = RuntimePattern<Event, Key>;
  using Sink = RuntimeSink<Event, Key>;
  using Factory = BackendFactory<Event, Key>;

  // Builds the runtime and, with parallelism > 1, starts its workers.
  // `sink` must outlive the runtime; a null `factory` makes in-memory
  // backends; `materialize` builds the events of PushDeferred() (nullptr:
  // the runtime takes only Push()). Errors: kInvalidArgument for no
  // patterns, a pattern without an NFA or key selector, parallelism 0, or a
  // factory returning null; the factory's own errors.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Runtime>> Create(
      std::vector<Pattern> patterns, RuntimeOptions options, Sink& sink,
      Factory factory = nullptr, Materializer<Event> materialize = nullptr) {
    if (patterns.empty()) {
      return absl::InvalidArgumentError("runtime needs at least one pattern");
    }
    for (size_t pattern = 0; pattern < patterns.size(); ++pattern) {
      if (patterns[pattern].nfa == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("runtime pattern ", pattern, " has no nfa"));
      }
      if (!patterns[pattern].key_selector) {
        return absl::InvalidArgumentError(
            absl::StrCat("runtime pattern ", pattern, " has no key selector"));
      }
    }
    if (options.parallelism == 0) {
      return absl::InvalidArgumentError("runtime parallelism must be >= 1");
    }
    if (!options.clock) options.clock = SteadyClockNanos;
    if (!factory) {
      factory = [](size_t, size_t)
          -> absl::StatusOr<std::unique_ptr<StateBackend<Event, Key>>> {
        return std::make_unique<InMemoryStateBackend<Event, Key>>();
      };
    }
    std::unique_ptr<Runtime> runtime(
        new Runtime(std::move(patterns), std::move(options), sink));
    runtime->materialize_ = std::move(materialize);
    absl::Status status = runtime->Start(factory);
    if (!status.ok()) return status;
    return runtime;
  }

  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Without Finish(): stops the workers, dropping what they have not
  // processed.
  ~Runtime() { Shutdown(/*abort=*/true); }

  // Takes the next event of the input; `arrival_ns` is when it entered the
  // process, by RuntimeOptions::clock. Its seq is the number of events pushed
  // before it. A late event (ts at or behind the watermark) goes to OnLate at
  // once. Outputs may reach the sink during the call (parallelism 1) or at
  // any time (workers). Blocks while a worker's queue is full.
  // Errors: kFailedPrecondition after Finish(); the first error of a
  // condition (kUnknown), a backend, or an internal check (kInternal), on the
  // call that found it — with parallelism > 1 a later call than the event's —
  // and on every call after it: the runtime is then stopped.
  // REQUIRES: one thread calls Push, Poll and Finish (not checked).
  [[nodiscard]] absl::Status Push(Event event, Timestamp ts,
                                  int64_t arrival_ns) {
    return PushWithSeq(std::move(event), ts, arrival_ns, next_seq_);
  }

  // As above with the event's seq given by the caller: a number that
  // identifies the event in the input whichever process reads it (`cep run`
  // over Kafka: its partition and offset), so that matches (their events'
  // seqs) are the same in every process. Seqs need not follow Push() order;
  // they order events of equal timestamps, so the events of one key must get
  // increasing ones, and they must be unique. Later Push() calls without a
  // seq number on from the largest seq given, plus one.
  [[nodiscard]] absl::Status PushWithSeq(Event event, Timestamp ts,
                                         int64_t arrival_ns, uint64_t seq) {
    if (absl::Status status = CheckUsable(); !status.ok()) return status;
    const int64_t now = clock_on_push_ ? options_.clock() : arrival_ns;
    // A boundary the clock passed before this event arrived comes first.
    if (absl::Status status = OnClock(now); !status.ok()) return Fail(status);
    next_seq_ = std::max(next_seq_, seq + 1);
    ++stats_.events;
    if (ts <= watermarks_.watermark()) {
      ++stats_.late;
      EmitLate(event, ts, seq);
      return absl::OkStatus();
    }
    const Timestamp before = watermarks_.watermark();
    if (watermarks_.Observe(ts) > before) watermark_tag_ = arrival_ns;
    absl::Status status = Deliver(std::move(event), ts, seq, arrival_ns, now);
    if (!status.ok()) return Fail(status);
    return absl::OkStatus();
  }

  // As above, arriving now (by RuntimeOptions::clock).
  [[nodiscard]] absl::Status Push(Event event, Timestamp ts) {
    return Push(std::move(event), ts, options_.clock());
  }

  // As Push(materialize(bytes), ts, arrival_ns), with the event built where
  // it is processed: with parallelism > 1 on the worker(s) its keys route
  // it to, so that the source thread only routes it (a `cep run` worker
  // decodes its own lines). `key_hashes` has one entry per pattern: nullopt
  // where the pattern does not accept the event, else the hash of its key
  // that the pattern's key_hash (nullptr: absl::Hash<Key>) would give for
  // the built event (REQUIRES: the same, or its key's state goes astray).
  // `bytes` are copied (into a buffer per worker, reused, handed over with
  // the batch). A late event, and every event with parallelism 1, is built
  // here. Outputs, seqs, lateness and counters are those of Push().
  // `seq`: as PushWithSeq()'s (nullopt: as Push()'s).
  // Errors: as Push(); kFailedPrecondition without a Materializer
  // (Create()), kInvalidArgument when `key_hashes` does not have one entry
  // per pattern; materialize's errors, on this call or (parallelism > 1) a
  // later one, stop the runtime.
  [[nodiscard]] absl::Status PushDeferred(
      std::string_view bytes, Timestamp ts, int64_t arrival_ns,
      std::span<const std::optional<uint64_t>> key_hashes,
      std::optional<uint64_t> seq = std::nullopt) {
    if (!materialize_) {
      return absl::FailedPreconditionError(
          "runtime push of deferred events needs a materializer");
    }
    if (key_hashes.size() != patterns_.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "runtime push of a deferred event with ", key_hashes.size(),
          " key hashes for ", patterns_.size(), " patterns"));
    }
    if (!threaded_ || ts <= watermarks_.watermark()) {
      if (absl::Status status = CheckUsable(); !status.ok()) return status;
      absl::StatusOr<Event> event = materialize_(bytes);
      if (!event.ok()) return Fail(event.status());
      return PushWithSeq(*std::move(event), ts, arrival_ns,
                         seq.value_or(next_seq_));
    }
    if (absl::Status status = CheckUsable(); !status.ok()) return status;
    const int64_t now = clock_on_push_ ? options_.clock() : arrival_ns;
    if (absl::Status status = OnClock(now); !status.ok()) return Fail(status);
    const uint64_t event_seq = seq.value_or(next_seq_);
    next_seq_ = std::max(next_seq_, event_seq + 1);
    ++stats_.events;
    const Timestamp before = watermarks_.watermark();
    if (watermarks_.Observe(ts) > before) watermark_tag_ = arrival_ns;
    const bool batch = options_.loop == Loop::kMicrobatch;
    if (batch && batch_events_++ == 0) batch_start_ns_ = now;
    RouteDeferred(bytes, key_hashes, ts, event_seq, arrival_ns);
    absl::Status status = AfterRouted(now);
    if (!status.ok()) return Fail(status);
    return absl::OkStatus();
  }

  // An event of the input that another runtime takes (`cep run
  // --parallelism N` runs N runtimes of parallelism 1 over the same input,
  // each taking the events of the keys it owns): it takes a seq and moves
  // the watermark as a pushed event would, and counts in stats().events
  // (not in late), but goes to no pattern and no sink; so runtimes that
  // see every event, each pushing its own and observing the others, number
  // events and decide lateness alike. The operator catches up with the
  // watermark at the next Push(), every 64 observations and at Poll(), so
  // that windows of this runtime's keys close while the other keys' events
  // stream. REQUIRES: parallelism 1. Errors: as Push().
  [[nodiscard]] absl::Status Observe(Timestamp ts, int64_t arrival_ns) {
    if (absl::Status status = CheckUsable(); !status.ok()) return status;
    if (threaded_) {
      return Fail(
          absl::FailedPreconditionError("runtime observe needs parallelism 1"));
    }
    const int64_t now = clock_on_push_ ? options_.clock() : arrival_ns;
    if (absl::Status status = OnClock(now); !status.ok()) return Fail(status);
    ++next_seq_;
    ++stats_.events;
    const Timestamp before = watermarks_.watermark();
    if (ts <= before) return absl::OkStatus();
    if (watermarks_.Observe(ts) > before) watermark_tag_ = arrival_ns;
    if (options_.loop == Loop::kMicrobatch) {
      if (batch_events_++ == 0) batch_start_ns_ = now;
      return MaybeEndBatchOnCount();
    }
    if (++observed_ % kObservedAdvanceEvery != 0) return absl::OkStatus();
    return CatchUp();
  }

  // Events worker `worker` built from PushDeferred()'s bytes (parallelism
  // > 1). REQUIRES: inside AtBarrier(), or after Finish() or Stop().
  uint64_t materialized(size_t worker) const {
    return workers_[worker]->materialized;
  }

  // For a source with nothing to push: lets the clock-driven steps happen
  // (the microbatch interval trigger, the real-time commit, telling workers
  // of the watermark) without an event. Call it every few milliseconds while
  // idle. Errors: as Push().
  [[nodiscard]] absl::Status Poll() {
    if (absl::Status status = CheckUsable(); !status.ok()) return status;
    const int64_t now = options_.clock();
    if (absl::Status status = OnClock(now); !status.ok()) return Fail(status);
    if (threaded_ && options_.loop != Loop::kMicrobatch) {
      BroadcastWatermark(0);
      last_broadcast_ns_ = now;
    }
    if (!threaded_) return CatchUp();
    return absl::OkStatus();
  }

  // A commit point now, at the caller's choice rather than the loop's
  // trigger: kMicrobatch processes the open batch (one watermark advance,
  // one commit), the other loops catch the operator up with the watermark.
  // Runtimes in lanes end their batches at the same point of the input this
  // way (`cep run --checkpoint-every loop` with the triggers off), so that
  // a checkpoint there holds no batch. REQUIRES: parallelism 1. Errors: as
  // Push().
  [[nodiscard]] absl::Status CommitPoint() {
    if (absl::Status status = CheckUsable(); !status.ok()) return status;
    if (threaded_) {
      return Fail(absl::FailedPreconditionError(
          "runtime commit point needs parallelism 1"));
    }
    if (options_.loop != Loop::kMicrobatch) return CatchUp();
    if (batch_events_ == 0) return absl::OkStatus();
    if (absl::Status status = EndBatch(); !status.ok()) return Fail(status);
    return absl::OkStatus();
  }

  // End of input: processes what is left (the open batch), advances the
  // watermark past every window (timeouts, trailing NotFollowedBy matches),
  // commits, and stops the workers; every output has reached the sink when it
  // returns. Errors: kFailedPrecondition when called twice; otherwise the
  // first error of the run (as Push()).
  [[nodiscard]] absl::Status Finish() {
    if (finished_) {
      return absl::FailedPreconditionError("runtime already finished");
    }
    absl::Status usable = CheckUsable();
    finished_ = true;
    if (!usable.ok()) {
      Shutdown(/*abort=*/true);
      return usable;
    }
    const int64_t tag = options_.clock();
    if (options_.loop == Loop::kMicrobatch) ++stats_.batches;
    batch_events_ = 0;
    ++stats_.commits;
    absl::Status status;
    if (!threaded_) {
      Worker& worker = *workers_[0];
      status = worker.op.AdvanceWatermark(kEndOfTime, worker, tag);
      Keep(status, CommitBackends(worker));
    } else {
      for (size_t index = 0; index < workers_.size(); ++index) {
        outbox_[index].push_back(
            Control(kEndOfTime, tag, kAdvance | kCommit | kFinish));
        HandOffTo(index);
      }
      Shutdown(/*abort=*/false);
      Keep(status, WorkerError());
    }
    if (!status.ok()) error_ = status;
    return status;
  }

  // A stop before the end of input (a signal): with parallelism > 1 every
  // worker processes what was handed to it, commits, and stops; nothing is
  // released that Push() had not released (no watermark moves, no window
  // closes), and every output has reached the sink when it returns, so the
  // counters (stats(), metrics()) can be read. With parallelism 1 there is
  // nothing to wait for and the runtime stays usable (Export()). Errors: the
  // first error of the run (as Push()).
  [[nodiscard]] absl::Status Stop() {
    if (!threaded_ || finished_) return CheckUsable();
    finished_ = true;
    const int64_t tag = options_.clock();
    for (size_t index = 0; index < workers_.size(); ++index) {
      outbox_[index].push_back(
          Control(watermarks_.watermark(), tag, kCommit | kFinish));
      HandOffTo(index);
    }
    Shutdown(/*abort=*/false);
    absl::Status status = WorkerError();
    if (!status.ok()) error_ = status;
    return status;
  }

  // The loop's commit points so far (RuntimeStats::commits, without the
  // copy stats() makes): each event in kEvent, each batch in kMicrobatch,
  // each commit_interval in kRealtime. Source thread only.
  uint64_t commit_points() const { return stats_.commits; }

  // Counters and latency histograms so far. Call it from the source thread
  // or after Finish().
  RuntimeStats stats() const {
    std::lock_guard<std::mutex> lock(sink_mu_);
    return stats_;
  }

  // Evaluator counters of `pattern`, summed over the workers. REQUIRES:
  // parallelism 1, inside AtBarrier(), or after Finish() or Stop().
  EvaluatorMetrics metrics(size_t pattern) const {
    EvaluatorMetrics sum;
    for (const auto& worker : workers_) {
      AddMetrics(sum, worker->op.metrics(pattern));
    }
    return sum;
  }

  // Keys holding state of `pattern` (StateBackend::key_count), summed over
  // the workers. REQUIRES: parallelism 1, inside AtBarrier(), or after
  // Finish() or Stop().
  size_t key_count(size_t pattern) const {
    size_t sum = 0;
    for (const auto& worker : workers_) {
      sum += worker->backends[pattern]->key_count();
    }
    return sum;
  }

  // Partial matches the keys of `pattern` hold
  // (KeyedMatcher::partial_matches), summed over the workers. REQUIRES: as
  // key_count().
  uint64_t partial_matches(size_t pattern) const {
    uint64_t sum = 0;
    for (const auto& worker : workers_) {
      sum += worker->op.matcher(pattern).partial_matches();
    }
    return sum;
  }

  // ---- durability ---------------------------------------------------------

  // Commits every backend now (with RuntimeOptions::external_commits, the
  // only commits). Errors: kFailedPrecondition with parallelism > 1 (commit
  // inside AtBarrier()); the backends' errors.
  [[nodiscard]] absl::Status Commit() {
    if (threaded_) {
      return absl::FailedPreconditionError(
          "runtime commit needs parallelism 1");
    }
    absl::Status first;
    for (auto& backend : workers_[0]->backends) Keep(first, backend->Commit());
    return first;
  }

  // An aligned barrier: with parallelism > 1, a marker goes through every
  // worker's queue after the events pushed so far (kEvent and kRealtime:
  // with the watermark advanced to the source's, as each event's would be;
  // kMicrobatch: the open batch's events go along, held until the batch
  // ends); once every worker reached it, `fn` runs on the calling thread
  // while they wait, so it may read and change any worker's operator and
  // backends (Export(), the matchers' timers, the backends' batches); then
  // they go on. With parallelism 1, or once the workers stopped (Finish(),
  // Stop()), `fn` runs at once. Returns fn's result. Errors: as Push() (a
  // worker failed before the barrier, say), and then `fn` does not run.
  // REQUIRES: the source thread.
  [[nodiscard]] absl::Status AtBarrier(absl::FunctionRef<absl::Status()> fn) {
    if (!threaded_ || finished_) return fn();
    if (absl::Status status = CheckUsable(); !status.ok()) return status;
    const bool batch = options_.loop == Loop::kMicrobatch;
    const Timestamp watermark = watermarks_.watermark();
    for (size_t index = 0; index < workers_.size(); ++index) {
      Item barrier = Control(watermark, watermark_tag_,
                             batch ? kBarrier : kAdvance | kBarrier);
      outbox_[index].push_back(std::move(barrier));
      HandOffTo(index);
      if (!batch) last_sent_watermark_[index] = watermark;
    }
    std::unique_lock<std::mutex> lock(barrier_mu_);
    barrier_cv_.wait(lock, [&] { return barrier_arrived_ == workers_.size(); });
    // A worker that failed before the barrier leaves its state part-way:
    // nothing of it may be saved (the last checkpoint stays the valid one).
    absl::Status status = worker_failed_.load(std::memory_order_acquire)
                              ? Fail(WorkerError())
                              : fn();
    barrier_arrived_ = 0;
    ++barrier_generation_;
    lock.unlock();
    barrier_cv_.notify_all();
    return status;
  }

  // Where the stream is, between two Push() calls: everything a restarted
  // runtime needs besides the backends and the matchers' timers
  // (op(worker).matcher(p).ExportSchedule()). REQUIRES: parallelism 1, or
  // inside AtBarrier(), or after Finish() or Stop().
  RuntimeSnapshot<Event> Export() const {
    RuntimeSnapshot<Event> snapshot;
    snapshot.next_seq = next_seq_;
    snapshot.max_ts = watermarks_.max();
    snapshot.source_watermark = watermarks_.watermark();
    snapshot.operator_watermark = workers_[0]->op.watermark();
    snapshot.pending = workers_[0]->op.ExportPending();
    if (workers_.size() > 1) {
      // An event several workers hold (its keys for different patterns
      // belong to them) is kept once.
      for (size_t index = 1; index < workers_.size(); ++index) {
        for (HeldEvent<Event>& held : workers_[index]->op.ExportPending()) {
          snapshot.pending.push_back(std::move(held));
        }
      }
      MergeHeldEvents(snapshot.pending);
    }
    return snapshot;
  }

  // Puts a snapshot back into a runtime nothing was pushed to. With
  // parallelism > 1 (any number, not only the one that exported it) every
  // worker gets the waiting events of its keys (those Route() would send
  // it). Errors: kFailedPrecondition after a Push().
  [[nodiscard]] absl::Status Import(RuntimeSnapshot<Event> snapshot) {
    if (next_seq_ != 0) {
      return absl::FailedPreconditionError(
          "runtime import needs a fresh runtime");
    }
    next_seq_ = snapshot.next_seq;
    watermarks_.Restore(snapshot.max_ts, snapshot.source_watermark);
    // Workers touch their operator only after taking an item from their
    // queue, which happens after this (the queue's lock orders it).
    if (!threaded_) {
      return workers_[0]->op.Restore(snapshot.operator_watermark,
                                     std::move(snapshot.pending));
    }
    for (size_t index = 0; index < workers_.size(); ++index) {
      std::vector<HeldEvent<Event>> owned;
      for (const HeldEvent<Event>& held : snapshot.pending) {
        if (Owns(index, held.event)) owned.push_back(held);
      }
      CEP_RETURN_IF_ERROR(workers_[index]->op.Restore(
          snapshot.operator_watermark, std::move(owned)));
    }
    return absl::OkStatus();
  }

  // Hands over the state backends, [worker][pattern], so that a new
  // runtime (say, over a new version of the patterns: `cep run --watch`)
  // can be built over them by its BackendFactory; with the matchers'
  // timers (op(worker).matcher(p).ExportSchedule()) and Export(), the
  // new runtime goes on where this one stopped. Afterwards this runtime
  // only awaits its destruction: its matchers point at backends it no
  // longer owns. REQUIRES: after Stop() or Finish() (with parallelism 1,
  // Stop() or no further call).
  std::vector<std::vector<std::unique_ptr<StateBackend<Event, Key>>>>
  TakeBackends() {
    finished_ = true;
    error_ = absl::FailedPreconditionError("runtime's backends were taken");
    std::vector<std::vector<std::unique_ptr<StateBackend<Event, Key>>>> out;
    for (auto& worker : workers_) out.push_back(std::move(worker->backends));
    return out;
  }

  // The operator of worker `worker` (recovery: its matchers' timers).
  // With parallelism > 1: before the first Push(), inside AtBarrier(), or
  // after Finish() or Stop().
  Operator<Event, Key>& op(size_t worker = 0) { return workers_[worker]->op; }
  // Worker threads (RuntimeOptions::parallelism).
  size_t workers() const { return workers_.size(); }

  // The source's watermark: events at or behind it are late.
  Timestamp watermark() const { return watermarks_.watermark(); }
  const RuntimeOptions& options() const { return options_; }
  size_t pattern_count() const { return patterns_.size(); }

  // The worker that owns `key` when there are `workers` of them: the same
  // function the runtime routes with. Stable within a process only (it uses
  // absl::Hash); it takes the hash's high bits, so the keys of one worker
  // still spread over its hash tables, which use the low ones.
  static size_t WorkerOf(const Key& key, size_t workers) {
    return WorkerOfHash(absl::Hash<Key>{}(key), workers);
  }

  // The worker of a key whose RuntimePattern::key_hash is `hash`: the hash's
  // high 32 bits scaled to [0, workers).
  static size_t WorkerOfHash(uint64_t hash, size_t workers) {
    return static_cast<size_t>(((hash >> 32) * workers) >> 32);
  }

 private:
  // What a worker's queue carries: an event, a control message (watermark
  // advance, commit, end), or an event with a control message after it.
  static constexpr uint8_t kAdvance = 1;  // advance to `watermark`
  static constexpr uint8_t kCommit = 2;   // commit every backend
  static constexpr uint8_t kFinish = 4;   // the last item: exit
  static constexpr uint8_t kBarrier = 8;  // wait at AtBarrier()
  // What keeps fields that different threads write apart.
  static constexpr size_t kCacheLineBytes = 64;
  // Items a worker gets at most per hand-off (see Queued()).
  static constexpr size_t kHandOffItems = 1024;
  // Observe(): the operator catches up with the watermark once per this
  // many observed events.
  static constexpr uint64_t kObservedAdvanceEvery = 64;
  // Bytes of PushDeferred() events for one worker: filled by the source
  // thread until handed over with the items that point into it, then read
  // by the worker and given back (Worker::free_chunks) for reuse.
  struct RawChunk {
    std::string bytes;
  };
  struct Item {
    std::optional<Event> event;
    // A deferred event instead: `raw_size` bytes at `raw_begin` of `chunk`.
    RawChunk* chunk = nullptr;
    uint32_t raw_begin = 0;
    uint32_t raw_size = 0;
    Timestamp ts{};
    uint64_t seq = 0;
    int64_t tag = 0;  // arrival_ns of the event
    Timestamp watermark{};
    int64_t watermark_tag = 0;  // current_tag() while the advance fires timers
    uint8_t flags = 0;
  };

  // Whether worker `index` owns the key of `event` for a pattern that
  // accepts it (Route() would send it there).
  bool Owns(size_t index, const Event& event) const {
    for (const Pattern& pattern : patterns_) {
      if (pattern.accepts && !pattern.accepts(event)) continue;
      if (RouteOf(pattern, event, workers_.size()) == index) return true;
    }
    return false;
  }

  // The worker that owns the key of `event` for `pattern`.
  static size_t RouteOf(const Pattern& pattern, const Event& event,
                        size_t workers) {
    if (pattern.key_hash) return WorkerOfHash(pattern.key_hash(event), workers);
    return WorkerOf(pattern.key_selector(event), workers);
  }

  // One Operator with every pattern and its backends; the OperatorSink that
  // forwards its outputs, with latency, to the runtime's sink.
  struct Worker final : OperatorSink<Event, Key> {
    Worker(Runtime& runtime_in, size_t index_in)
        : runtime(runtime_in), index(index_in) {}
    void OnMatch(size_t pattern, const Key& key, Match<Event> match) override {
      runtime.EmitMatch(pattern, key, std::move(match), op.current_tag());
    }
    void OnTimeout(size_t pattern, const Key& key, Match<Event> partial,
                   Timestamp at) override {
      runtime.EmitTimeout(pattern, key, std::move(partial), at,
                          op.current_tag());
    }

    Runtime& runtime;
    size_t index;
    std::vector<std::unique_ptr<StateBackend<Event, Key>>> backends;
    Operator<Event, Key> op;
    // Parallelism > 1 only.
    std::unique_ptr<internal::BoundedQueue<Item>> queue;
    // Deferred events built (worker thread), and the chunk they are read
    // from.
    uint64_t materialized = 0;
    RawChunk* reading = nullptr;
    // Every chunk of this worker, and those free for the source to fill.
    std::mutex chunk_mu;
    std::vector<std::unique_ptr<RawChunk>> chunks;  // guarded by chunk_mu
    std::vector<RawChunk*> free_chunks;             // guarded by chunk_mu
    std::vector<Item> inbox;
  };

  Runtime(std::vector<Pattern> patterns, RuntimeOptions options, Sink& sink)
      : patterns_(std::move(patterns)),
        options_(std::move(options)),
        sink_(sink),
        threaded_(options_.parallelism > 1),
        watermarks_(options_.max_out_of_orderness) {
    clock_on_push_ = (options_.loop == Loop::kMicrobatch &&
                      options_.trigger_interval > Duration::zero()) ||
                     options_.loop == Loop::kRealtime ||
                     (threaded_ && options_.loop == Loop::kEvent &&
                      options_.watermark_interval.count() > 0);
    if (options_.arrival_is_recent) clock_on_push_ = false;
    stats_.pattern_latency.resize(patterns_.size());
  }

  absl::Status Start(const Factory& factory) {
    const size_t workers = options_.parallelism;
    const int64_t now = options_.clock();
    last_commit_ns_ = now;
    last_broadcast_ns_ = now;
    if (!threaded_) {
      absl::StatusOr<std::unique_ptr<Worker>> worker = MakeWorker(0, factory);
      if (!worker.ok()) return worker.status();
      workers_.push_back(*std::move(worker));
      return absl::OkStatus();
    }
    outbox_.resize(workers);
    filling_.assign(workers, nullptr);
    last_sent_watermark_.assign(workers, kMinWatermark);
    targets_.assign(workers, 0);
    workers_.resize(workers);
    // Each worker's operator and backends are made on its own thread, one
    // worker after the other (the factory is called from one thread at a
    // time): what a worker writes for every event then lies in its
    // thread's memory (the allocator's arena of that thread), not on a
    // cache line next to another worker's, which would make both slower.
    for (size_t index = 0; index < workers; ++index) {
      std::promise<absl::Status> made;
      std::future<absl::Status> ready = made.get_future();
      worker_threads_.emplace_back(
          [this, index, &factory, made = std::move(made)]() mutable {
            absl::StatusOr<std::unique_ptr<Worker>> worker =
                MakeWorker(index, factory);
            if (!worker.ok()) {
              made.set_value(worker.status());
              return;
            }
            Worker& w = **worker;
            workers_[index] = *std::move(worker);
            made.set_value(absl::OkStatus());
            RunWorker(w);
          });
      if (absl::Status status = ready.get(); !status.ok()) {
        workers_.resize(index);  // those made; their threads stop on abort
        return status;
      }
    }
    return absl::OkStatus();
  }

  // Worker `index` with its backends (from `factory`) and an operator over
  // every pattern.
  absl::StatusOr<std::unique_ptr<Worker>> MakeWorker(size_t index,
                                                     const Factory& factory) {
    const size_t workers = options_.parallelism;
    auto worker = std::make_unique<Worker>(*this, index);
    for (size_t pattern = 0; pattern < patterns_.size(); ++pattern) {
      absl::StatusOr<std::unique_ptr<StateBackend<Event, Key>>> backend =
          factory(index, pattern);
      if (!backend.ok()) return backend.status();
      if (*backend == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("backend factory returned null for worker ", index,
                         ", pattern ", pattern));
      }
      worker->backends.push_back(*std::move(backend));
      const Pattern& p = patterns_[pattern];
      typename Operator<Event, Key>::Filter filter = p.accepts;
      // The worker sees the pattern's events whose key it owns. With one
      // pattern, Route() and Import() hand it no others, so the key is
      // not hashed again.
      if (threaded_ && patterns_.size() > 1) {
        filter = [&p, index, workers](const Event& event) {
          if (p.accepts && !p.accepts(event)) return false;
          return RouteOf(p, event, workers) == index;
        };
      }
      worker->op.AddPattern(*p.nfa, p.key_selector, *worker->backends.back(),
                            std::move(filter),
                            p.evaluator.value_or(options_.evaluator));
    }
    if (threaded_) {
      worker->queue = std::make_unique<internal::BoundedQueue<Item>>(
          options_.queue_capacity);
    }
    return worker;
  }

  // ---- source side ------------------------------------------------------

  absl::Status CheckUsable() {
    if (!error_.ok()) return error_;
    if (threaded_ && worker_failed_.load(std::memory_order_acquire)) {
      error_ = WorkerError();
      return error_;
    }
    if (finished_) {
      return absl::FailedPreconditionError("push after Finish()");
    }
    return absl::OkStatus();
  }

  absl::Status Fail(absl::Status status) {
    if (error_.ok()) error_ = std::move(status);
    return error_;
  }

  // The clock-driven boundaries due at `now`.
  absl::Status OnClock(int64_t now) {
    if (options_.loop == Loop::kMicrobatch) {
      const int64_t interval = Nanos(options_.trigger_interval);
      if (batch_events_ > 0 && interval > 0 &&
          now - batch_start_ns_ >= interval) {
        return EndBatch();
      }
    } else if (options_.loop == Loop::kRealtime) {
      if (now - last_commit_ns_ >= Nanos(options_.commit_interval)) {
        last_commit_ns_ = now;
        ++stats_.commits;
        if (!threaded_) return CommitBackends(*workers_[0]);
        BroadcastWatermark(kCommit);
        last_broadcast_ns_ = now;
      }
    }
    return absl::OkStatus();
  }

  // Hands an on-time event to the operator(s) for the loop.
  absl::Status Deliver(Event event, Timestamp ts, uint64_t seq,
                       int64_t arrival_ns, int64_t now) {
    const bool batch = options_.loop == Loop::kMicrobatch;
    if (batch && batch_events_++ == 0) batch_start_ns_ = now;
    if (!threaded_) {
      Worker& worker = *workers_[0];
      if (!worker.op.Add(std::move(event), ts, seq, arrival_ns)) {
        return absl::InternalError(
            absl::StrCat("event with seq ", seq,
                         " behind the operator's "
                         "watermark though on time for the source"));
      }
      if (batch) return MaybeEndBatchOnCount();
      absl::Status status = worker.op.AdvanceWatermark(watermarks_.watermark(),
                                                       worker, watermark_tag_);
      if (options_.loop == Loop::kEvent) {
        ++stats_.commits;
        Keep(status, CommitBackends(worker));
      }
      return status;
    }
    Route(std::move(event), ts, seq, arrival_ns);
    return AfterRouted(now);
  }

  // Parallelism > 1, after an on-time event was routed at `now`: the batch
  // count trigger, or the commit point and the watermark broadcast.
  absl::Status AfterRouted(int64_t now) {
    if (options_.loop == Loop::kMicrobatch) return MaybeEndBatchOnCount();
    if (options_.loop == Loop::kEvent) ++stats_.commits;
    const int64_t interval = Nanos(options_.watermark_interval);
    if (interval == 0 || now - last_broadcast_ns_ >= interval) {
      BroadcastWatermark(0);
      last_broadcast_ns_ = now;
    }
    return absl::OkStatus();
  }

  // Parallelism > 1: sends the event to every worker that owns its key for
  // some pattern accepting it — with the watermark after it (kEvent,
  // kRealtime), or into the worker's batch (kMicrobatch).
  void Route(Event event, Timestamp ts, uint64_t seq, int64_t arrival_ns) {
    std::fill(targets_.begin(), targets_.end(), 0);
    size_t last = targets_.size();
    for (const Pattern& pattern : patterns_) {
      if (pattern.accepts && !pattern.accepts(event)) continue;
      const size_t worker = RouteOf(pattern, event, workers_.size());
      targets_[worker] = 1;
      if (last == targets_.size() || worker > last) last = worker;
    }
    if (last == targets_.size()) return;  // no pattern wants it
    for (size_t index = 0; index <= last; ++index) {
      if (targets_[index] == 0) continue;
      Item& item = NewItem(index, ts, seq, arrival_ns);
      if (index == last) {
        item.event.emplace(std::move(event));
      } else {
        item.event.emplace(event);
      }
      Queued(index);
    }
  }

  // As Route(), for PushDeferred(): the bytes go to each worker's chunk.
  void RouteDeferred(std::string_view bytes,
                     std::span<const std::optional<uint64_t>> key_hashes,
                     Timestamp ts, uint64_t seq, int64_t arrival_ns) {
    std::fill(targets_.begin(), targets_.end(), 0);
    for (const std::optional<uint64_t>& hash : key_hashes) {
      if (hash.has_value()) targets_[WorkerOfHash(*hash, workers_.size())] = 1;
    }
    for (size_t index = 0; index < targets_.size(); ++index) {
      if (targets_[index] == 0) continue;
      RawChunk& chunk = FillingChunk(index);
      Item& item = NewItem(index, ts, seq, arrival_ns);
      item.chunk = &chunk;
      item.raw_begin = static_cast<uint32_t>(chunk.bytes.size());
      item.raw_size = static_cast<uint32_t>(bytes.size());
      chunk.bytes.append(bytes);
      Queued(index);
    }
  }

  // A new item for an event at the end of worker `index`'s outbox (built
  // in place; the caller sets the event, then calls Queued()): with the
  // watermark after it (kEvent, kRealtime), or in the worker's batch
  // (kMicrobatch).
  Item& NewItem(size_t index, Timestamp ts, uint64_t seq, int64_t arrival_ns) {
    Item& item = outbox_[index].emplace_back();
    item.ts = ts;
    item.seq = seq;
    item.tag = arrival_ns;
    if (options_.loop != Loop::kMicrobatch) {
      const Timestamp watermark = watermarks_.watermark();
      item.watermark = watermark;
      item.watermark_tag = watermark_tag_;
      item.flags = kAdvance;
      last_sent_watermark_[index] = watermark;
    }
    return item;
  }

  // After NewItem(index)'s item is set: items are handed over in batches
  // (kHandOffItems, or kEvent and kRealtime at the next watermark
  // broadcast: every watermark_interval, at Poll(); at a barrier, at a
  // microbatch's end, at the end), so that a worker is woken once per
  // batch rather than once per event. A microbatch's events wait in the
  // worker's operator for the boundary that follows them.
  void Queued(size_t index) {
    if (outbox_[index].size() >= kHandOffItems) HandOffTo(index);
  }

  // The chunk that deferred events for worker `index` go into until the
  // next hand-off: a free one of the worker's, or a new one.
  RawChunk& FillingChunk(size_t index) {
    RawChunk*& filling = filling_[index];
    if (filling != nullptr) return *filling;
    Worker& worker = *workers_[index];
    std::lock_guard<std::mutex> lock(worker.chunk_mu);
    if (worker.free_chunks.empty()) {
      worker.chunks.push_back(std::make_unique<RawChunk>());
      filling = worker.chunks.back().get();
    } else {
      filling = worker.free_chunks.back();
      worker.free_chunks.pop_back();
    }
    filling->bytes.clear();
    return *filling;
  }

  // Hands worker `index` what its outbox holds; the chunk its deferred
  // events point into goes along (the next ones go into another).
  void HandOffTo(size_t index) {
    workers_[index]->queue->PushAll(outbox_[index]);
    filling_[index] = nullptr;
  }

  // Hands every worker what NewItem() queued for it.
  void HandOff() {
    for (size_t index = 0; index < workers_.size(); ++index) {
      HandOffTo(index);
    }
  }

  // Parallelism > 1: tells every worker that has not heard of the current
  // watermark (every worker, when `flags` asks for more) of it.
  void BroadcastWatermark(uint8_t flags) {
    const Timestamp watermark = watermarks_.watermark();
    for (size_t index = 0; index < workers_.size(); ++index) {
      if (flags == 0 && last_sent_watermark_[index] >= watermark) continue;
      outbox_[index].push_back(
          Control(watermark, watermark_tag_, kAdvance | flags));
      last_sent_watermark_[index] = watermark;
    }
    HandOff();
  }

  // Parallelism 1, kEvent and kRealtime: advances the operator to the
  // source's watermark where Observe() left it behind.
  absl::Status CatchUp() {
    if (options_.loop == Loop::kMicrobatch) return absl::OkStatus();
    Worker& worker = *workers_[0];
    if (worker.op.watermark() >= watermarks_.watermark()) {
      return absl::OkStatus();
    }
    absl::Status status = worker.op.AdvanceWatermark(watermarks_.watermark(),
                                                     worker, watermark_tag_);
    if (!status.ok()) return Fail(status);
    return absl::OkStatus();
  }

  absl::Status MaybeEndBatchOnCount() {
    if (options_.trigger_events > 0 &&
        batch_events_ >= options_.trigger_events) {
      return EndBatch();
    }
    return absl::OkStatus();
  }

  // kMicrobatch: processes the open batch: one watermark advance, one commit.
  absl::Status EndBatch() {
    batch_events_ = 0;
    ++stats_.batches;
    ++stats_.commits;
    const Timestamp watermark = watermarks_.watermark();
    if (!threaded_) {
      Worker& worker = *workers_[0];
      absl::Status status =
          worker.op.AdvanceWatermark(watermark, worker, watermark_tag_);
      Keep(status, CommitBackends(worker));
      return status;
    }
    // One message per worker: its events of the batch, then the boundary.
    for (size_t index = 0; index < workers_.size(); ++index) {
      outbox_[index].push_back(
          Control(watermark, watermark_tag_, kAdvance | kCommit));
      HandOffTo(index);
      last_sent_watermark_[index] = watermark;
    }
    return absl::OkStatus();
  }

  static Item Control(Timestamp watermark, int64_t tag, uint8_t flags) {
    Item item;
    item.watermark = watermark;
    item.watermark_tag = tag;
    item.flags = flags;
    return item;
  }

  // Stops the worker threads: after the items queued (`abort` false: a
  // kFinish item must be queued) or at once.
  void Shutdown(bool abort) {
    if (abort) aborted_.store(true, std::memory_order_relaxed);
    for (auto& worker : workers_) {
      if (worker->queue != nullptr && abort) worker->queue->Close();
    }
    for (std::thread& thread : worker_threads_) {
      if (thread.joinable()) thread.join();
    }
  }

  // ---- worker side ------------------------------------------------------

  void RunWorker(Worker& worker) {
    std::vector<Item>& inbox = worker.inbox;
    while (worker.queue->PopAll(inbox)) {
      bool finish = false;
      for (Item& item : inbox) {
        if (aborted_.load(std::memory_order_relaxed)) break;
        absl::Status status = Apply(worker, item);
        if (!status.ok()) RecordWorkerError(std::move(status));
        // After the error of the barrier's own advance is recorded.
        if ((item.flags & kBarrier) != 0) WaitAtBarrier();
        if ((item.flags & kFinish) != 0) finish = true;
      }
      inbox.clear();
      // Every item pointing into the chunk came in this hand-off.
      ReleaseChunk(worker);
      if (finish || aborted_.load(std::memory_order_relaxed)) return;
    }
  }

  absl::Status Apply(Worker& worker, Item& item) {
    if (item.chunk != nullptr) {
      if (item.chunk != worker.reading) {
        ReleaseChunk(worker);
        worker.reading = item.chunk;
      }
      absl::StatusOr<Event> event = materialize_(std::string_view(
          item.chunk->bytes.data() + item.raw_begin, item.raw_size));
      if (!event.ok()) return event.status();
      ++worker.materialized;
      item.event.emplace(*std::move(event));
    }
    absl::Status status;
    if (item.event.has_value() &&
        !worker.op.Add(std::move(*item.event), item.ts, item.seq, item.tag)) {
      status = absl::InternalError(absl::StrCat("event with seq ", item.seq,
                                                " behind worker ", worker.index,
                                                "'s watermark though on time"));
    }
    if ((item.flags & kAdvance) != 0) {
      Keep(status, worker.op.AdvanceWatermark(item.watermark, worker,
                                              item.watermark_tag));
    }
    if (options_.loop == Loop::kEvent || (item.flags & kCommit) != 0) {
      Keep(status, CommitBackends(worker));
    }
    return status;
  }

  // Gives the chunk worker `worker` read deferred events from back for
  // reuse.
  void ReleaseChunk(Worker& worker) {
    if (worker.reading == nullptr) return;
    std::lock_guard<std::mutex> lock(worker.chunk_mu);
    worker.free_chunks.push_back(worker.reading);
    worker.reading = nullptr;
  }

  // A worker at the barrier: counts itself in and waits until AtBarrier()'s
  // function ran.
  void WaitAtBarrier() {
    std::unique_lock<std::mutex> lock(barrier_mu_);
    const uint64_t generation = barrier_generation_;
    if (++barrier_arrived_ == workers_.size()) barrier_cv_.notify_all();
    barrier_cv_.wait(lock, [&] { return barrier_generation_ != generation; });
  }

  void RecordWorkerError(absl::Status status) {
    std::lock_guard<std::mutex> lock(error_mu_);
    if (worker_error_.ok()) worker_error_ = std::move(status);
    worker_failed_.store(true, std::memory_order_release);
  }

  absl::Status WorkerError() {
    std::lock_guard<std::mutex> lock(error_mu_);
    return worker_error_;
  }

  // ---- both sides -------------------------------------------------------

  absl::Status CommitBackends(Worker& worker) {
    if (options_.external_commits) return absl::OkStatus();
    absl::Status first;
    for (auto& backend : worker.backends) Keep(first, backend->Commit());
    return first;
  }

  // Keeps the first error.
  static void Keep(absl::Status& first, absl::Status status) {
    if (first.ok() && !status.ok()) first = std::move(status);
  }

  static int64_t Nanos(std::chrono::nanoseconds duration) {
    return duration.count();
  }

  // The sink is called one call at a time: under sink_mu_ when workers run.
  std::unique_lock<std::mutex> LockSink() {
    return threaded_ ? std::unique_lock<std::mutex>(sink_mu_)
                     : std::unique_lock<std::mutex>();
  }

  void EmitMatch(size_t pattern, const Key& key, Match<Event> match,
                 int64_t tag) {
    std::unique_lock<std::mutex> lock = LockSink();
    const int64_t latency = options_.clock() - tag;
    ++stats_.matches;
    stats_.latency.Record(latency);
    stats_.pattern_latency[pattern].Record(latency);
    sink_.OnMatch(pattern, key, std::move(match), latency);
  }

  void EmitTimeout(size_t pattern, const Key& key, Match<Event> partial,
                   Timestamp at, int64_t tag) {
    std::unique_lock<std::mutex> lock = LockSink();
    const int64_t latency = options_.clock() - tag;
    ++stats_.timeouts;
    stats_.timeout_latency.Record(latency);
    sink_.OnTimeout(pattern, key, std::move(partial), at, latency);
  }

  void EmitLate(const Event& event, Timestamp ts, uint64_t seq) {
    std::unique_lock<std::mutex> lock = LockSink();
    sink_.OnLate(event, ts, seq);
  }

  const std::vector<Pattern> patterns_;
  const RuntimeOptions options_;
  Sink& sink_;
  const bool threaded_;
  bool clock_on_push_ = false;
  Materializer<Event> materialize_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> worker_threads_;  // parallelism > 1: one each

  // Source thread only, on cache lines of their own: the workers read the
  // fields above (options_, materialize_) for every item, and the source
  // writes these for every event.
  alignas(kCacheLineBytes) BoundedOutOfOrderness watermarks_;
  int64_t watermark_tag_ = 0;  // arrival_ns of the event that last raised it
  uint64_t next_seq_ = 0;
  uint64_t observed_ = 0;  // Observe() calls that moved the watermark
  size_t batch_events_ = 0;
  int64_t batch_start_ns_ = 0;
  int64_t last_commit_ns_ = 0;
  int64_t last_broadcast_ns_ = 0;
  bool finished_ = false;
  absl::Status error_;
  // Parallelism > 1, per worker: the open batch; the last watermark sent;
  // whether the event being routed goes there.
  std::vector<std::vector<Item>> outbox_;
  // Parallelism > 1, per worker: the chunk deferred events go into (none
  // yet: nullptr).
  std::vector<RawChunk*> filling_;
  std::vector<Timestamp> last_sent_watermark_;
  std::vector<uint8_t> targets_;

  // Workers.
  alignas(kCacheLineBytes) std::atomic<bool> aborted_{false};
  std::atomic<bool> worker_failed_{false};
  std::mutex error_mu_;
  absl::Status worker_error_;  // guarded by error_mu_
  // AtBarrier(): workers waiting, and the barriers passed.
  std::mutex barrier_mu_;
  std::condition_variable barrier_cv_;
  size_t barrier_arrived_ = 0;       // guarded by barrier_mu_
  uint64_t barrier_generation_ = 0;  // guarded by barrier_mu_

  // Outputs: stats_.matches, timeouts and the histograms are guarded by
  // sink_mu_ when workers run; the other counters belong to the source.
  mutable std::mutex sink_mu_;
  RuntimeStats stats_;
};

}  // namespace cep
