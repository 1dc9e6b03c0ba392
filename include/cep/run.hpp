// cep/run.hpp — runs the patterns of a pattern file over a stream of
// JSON lines: what `cep run` does, and what the data-driven tests
// (tests/cases/) call.
//
// RunPatternFile decodes each line (record_json.hpp) — on the calling
// thread, or with parallelism N > 1 on N decoding threads while the calling
// thread reads on — then, on the calling thread and in input order, decides
// lateness and feeds the patterns through a Runtime (runtime.hpp) in the loop
// and parallelism the options ask for; matches, timed-out partial matches
// and late events come out as JSON lines. Semantics, as FlinkCEP's
// CepOperator with Flink's BoundedOutOfOrdernessWatermarks:
//   - seq of an event is its 0-based position among the decoded events;
//   - event time: watermark = (largest timestamp seen) -
//     max_out_of_orderness - 1ms; an event at or before the watermark is
//     late: it goes to the late output (and RunStats::late), never to the
//     patterns; processing time: an event's time is the clock when it is
//     read, so nothing is late;
//   - other events wait until the watermark passes them and go to every
//     pattern that accepts their type in (timestamp, seq) order; windows
//     close in the same time order (operator.hpp);
//   - at the end of the input every waiting event is released and every
//     window closes, so timeouts and trailing `not followed by` matches come
//     out.
// Output order with parallelism 1, in every loop: by time, each event's
// outputs with the patterns in file order. With parallelism > 1 outputs of
// different keys may interleave differently; RunOptions::sort_output sorts
// each output, so that any loop and parallelism give the same bytes.
//
// Example:
//   cep::RunOptions options;
//   CEP_RETURN_IF_ERROR(cep::SetRunOption("loop", "microbatch", options));
//   cep::RunOutputs outputs{.matches = &std::cout};
//   CEP_ASSIGN_OR_RETURN(cep::RunStats stats,
//                        cep::RunPatternFile(file, input, "events.jsonl",
//                                            options, outputs));
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "cep/dsl.hpp"
#include "cep/evaluator.hpp"
#include "cep/histogram.hpp"
#include "cep/runtime.hpp"
#include "cep/time.hpp"

namespace cep {

// What to do with an input line that does not decode.
enum class OnError : uint8_t {
  kStop,  // the run fails with the line's error
  kSkip,  // the line goes to the dead-letter output; the run goes on
};

// Which clock gives events their time.
enum class TimeMode : uint8_t {
  kEvent,       // the event's time field
  kProcessing,  // the clock when the line is read
};

// Input encoding.
enum class InputFormat : uint8_t {
  kJsonl,  // one JSON object per line
  kCsv,    // a header row, then one event per row
};

// How the run is going, for a progress display.
struct RunProgress {
  uint64_t events = 0;
  uint64_t matches = 0;
  // Largest event timestamp read minus the watermark: how far the output
  // trails the input in event time.
  Duration watermark_lag{0};
};

// The largest RunOptions::max_line_bytes: 1 GiB.
inline constexpr size_t kMaxLineBytesLimit = size_t{1} << 30;

struct RunOptions {
  // Behaviour.

  // Input encoding (flag --format jsonl|csv). Default: kJsonl.
  InputFormat format = InputFormat::kJsonl;
  // Flag --time event|processing. Default: kEvent.
  TimeMode time = TimeMode::kEvent;
  // How far behind the largest timestamp seen an event may arrive and still
  // be in time (flag --max-out-of-orderness). Default: 0 (events with equal
  // timestamps may come in any order; earlier ones are late).
  Duration max_out_of_orderness{0};
  // Flag --on-error stop|skip. Default: kStop.
  OnError on_error = OnError::kStop;
  // The longest input line, in bytes without its newline (flag
  // --max-line-bytes, 1 to kMaxLineBytesLimit). A longer line is an error
  // "INPUT:LINE: error: the line is longer than N bytes (--max-line-bytes)",
  // or under OnError::kSkip a dead letter cut to its first max_line_bytes
  // bytes; either way the run holds at most this much of it in memory.
  // Default: 16 MiB.
  size_t max_line_bytes = size_t{16} << 20;
  // Sort each output's lines (flag --sort-output): identical bytes for every
  // loop and parallelism. Outputs are then written at the end. Default: off.
  bool sort_output = false;
  // Passed to every pattern's evaluator; evaluator.state_ttl is flag
  // --state-ttl, evaluator.max_partial_matches flag --max-partial-matches
  // (partial matches per key and pattern; 0: no limit; default 10000,
  // kDefaultMaxPartialMatches) and evaluator.overflow_policy flag --overflow
  // drop-oldest|refuse-new (default drop-oldest). A pattern's header clause
  // `max partial matches N [drop oldest|refuse new]` wins over both for that
  // pattern. evaluator.report_timeouts is set by the run: timed-out partial
  // matches are built only when RunOutputs::timeouts takes them.
  EvaluatorOptions evaluator;

  // Loops (runtime.hpp).

  // Flag --loop event|microbatch|realtime. Default: kEvent.
  Loop loop = Loop::kEvent;
  // Microbatch trigger (flag --trigger 100ms or --trigger 10000events): an
  // interval, or a number of events. Default: 100 ms.
  Duration trigger_interval = std::chrono::milliseconds(100);
  size_t trigger_events = 0;
  // Realtime: state commits every this much time (flag --commit-interval).
  // Default: 5 s.
  Duration commit_interval = std::chrono::seconds(5);
  // Worker threads (flag --parallelism). Default: 1.
  size_t parallelism = 1;

  // Durable state.

  // Flag --state memory|rocksdb:DIR: with a directory, the keyed state of
  // every pattern lives in one RocksDB database DIR/db (a column family per
  // pattern and version, with the pattern's text), and the run checkpoints: at
  // each checkpoint the outputs are flushed, then the input position, next seq,
  // watermark, the events waiting for the watermark, the timers and the byte
  // length of each output file are committed with the state of every pattern in
  // one atomic write. A run over a DIR that holds a checkpoint resumes from it:
  // output files (RunOutputs paths) are truncated to their recorded length
  // and the input is read on from the recorded position, so the outputs end
  // up byte for byte those of a run without the crash. An input that cannot
  // seek (a pipe) is read and its first bytes, up to the recorded position,
  // skipped: the producer must send the stream again from its start.
  // Outputs without a path (stdout) may repeat what was written after the
  // last checkpoint. With parallelism > 1 each worker owns a range of the
  // key groups (the keys route there), checkpoints are taken at an aligned
  // point (a barrier through the workers' queues; with lanes, the end of a
  // block of lines every lane stops at), and every worker's state commits
  // in the same atomic write; outputs of different keys interleave as the
  // workers ran, so a resumed run gives the same lines, each once, in an
  // order that may differ between keys. A run may resume with another
  // parallelism: the key groups are divided again.
  // Empty: memory. Default: empty.
  std::string state_dir;
  // Flag --checkpoint-every 10000events|5s|loop: a checkpoint after this
  // many input events, or once this much clock time has passed (noticed at
  // the next line), or (loop) at each of the loop's commit points: after
  // every event in the event loop, every batch in the microbatch loop, every
  // commit_interval in the realtime loop; and one at the end of the input.
  // Workers in lanes (parallelism > 1 over JSON lines of one event type)
  // checkpoint at the end of a block of lines (up to 1,024): the first
  // after so many events or so much time, or (loop) every block in the
  // event loop, after a trigger's worth (interval or events) in the
  // microbatch loop, after a commit_interval in the realtime loop.
  // Default: 10000 events.
  size_t checkpoint_events = 10000;
  Duration checkpoint_interval{0};
  bool checkpoint_with_loop = false;
  // Flag --migrate: when DIR holds the state of another version of a
  // pattern (its structure hash differs) or of a pattern the files no longer
  // declare, the current version starts fresh while the old one drains:
  // its definition, kept in the state, runs on over the new events without
  // starting new partial matches (the events the checkpoint held waiting for
  // the watermark, read before, still start the old version's and not the
  // new one's), its matches and timeouts come out under
  // the pattern's name, and once it holds no partial match its state is
  // dropped (at the next run). Keep the flag until then. Without it such
  // state is an error. Old versions need the same event types.
  // Default: off.
  bool migrate = false;
  // Flag --keep-checkpoints K: after each checkpoint, a copy of the database
  // (rocksdb::Checkpoint: hard links, cheap) goes to
  // DIR/checkpoints/NNNNNNNNNN, the checkpoint's number, and only the newest
  // K are kept. To go back to one, replace DIR/db with it (with the output
  // files as they were, or longer) and run again. 0: none. Default: 0.
  size_t keep_checkpoints = 0;
  // Flag --state-cache N: decoded key states each pattern keeps in memory in
  // front of RocksDB (LRU; RocksDbStateOptions::cache_capacity).
  // Default: 10000.
  size_t state_cache_keys = 10000;
  // Flag --match-ids: each match and timeout object ends with
  // "id":"<16 hex digits>", a stable FNV-1a hash of the pattern name, the key
  // and the seqs of its events (deduplication downstream). Default: off.
  bool match_ids = false;
  // Flag --latency: each match and timeout object ends with
  // "latency_us":N, its detection latency in microseconds (see
  // RunStats::latency). The output then differs from run to run.
  // Default: off.
  bool match_latency = false;
  // Tests: stop after this many input lines as a crash would (no end of
  // input, no checkpoint); RunPatternFile returns kAborted. 0: never.
  size_t stop_after_lines = 0;
  // A clean stop (a service's SIGINT/SIGTERM handler sets it): checked after
  // every line, and when reading the input fails or ends while it is set.
  // Once set, the run reads nothing more and does not end the input (no
  // waiting event is released, no window closes, a last line the stop cut
  // short is left for the next run): with state_dir it takes a final
  // checkpoint, so that the next run resumes exactly there; the outputs are
  // flushed and RunStats::stopped is true. nullptr: never.
  const std::atomic<bool>* stop = nullptr;

  // Open-loop pacing (flag --rate N): event i is due at start + i / rate
  // seconds; the run waits for it when ahead and never when behind, and a
  // match's latency counts from when its event was due, not when it was
  // read, so time spent queued behind a slow consumer is included (no
  // coordinated omission). 0: read as fast as possible, latency from
  // reading. Default: 0.
  double rate = 0;

  // Live metrics.

  // Flag --metrics-port N (0 to 65535; 0: a free port): while the run goes
  // on, GET http://ADDRESS:N/metrics answers Prometheus text exposition
  // (format 0.0.4) of its counters: per pattern events, matches, timeouts,
  // evicted partial matches, keys held and a detection-latency histogram;
  // per run events read, late events, input offset, watermark lag and, with
  // state_dir, checkpoints (count, last duration, age). The run publishes
  // them about every 100 ms of clock time and whenever the input has
  // nothing more yet. With parallelism > 1 the per-pattern counters other
  // than matches are left out (the workers own them), and matches the
  // workers find once the input is idle show at the next snapshot (the
  // next event's). The server listens before any input is read; a port in
  // use fails the run with kUnavailable "--metrics-port N: address already
  // in use". nullopt: no server, nothing measured. Default: nullopt.
  std::optional<int> metrics_port;
  // Flag --metrics-address IP: where the server listens.
  // Default: 127.0.0.1.
  std::string metrics_address = "127.0.0.1";
  // Called with the server's URL ("http://127.0.0.1:PORT/metrics") once it
  // listens (`cep run` prints it). nullptr: nothing.
  std::function<void(const std::string& url)> metrics_listening;

  // Live pattern updates.

  // Flag --watch (`cep run` sets the pattern files given): the files to
  // watch, in the order they were merged into the run's PatternFile
  // (MergePatternFiles). Every watch_interval of clock time, also while
  // the input is idle (the reading thread waits for input at most that
  // long; a kafka:// input is looked at between messages only), the
  // reading thread looks at them (stat, then a content hash of
  // those that changed); when their content changed it parses, merges and
  // checks them (same event types — changing them needs a restart —, at
  // least one pattern, every pattern compiles). A new version that does not
  // check is reported through watch_report — "FILE:LINE:COL: error: ...;
  // keeping the running version" — and ignored: the run goes on, and it
  // is looked at again once the files change again. One that checks is
  // swapped in between two input events, without stopping the run:
  //   - a pattern whose structure (name, key field, compiled automaton)
  //     did not change keeps its state and timers untouched, and its
  //     outputs are those of a run without the reload;
  //   - a changed pattern's old version drains, as with `migrate`: it runs
  //     on without starting partial matches, its matches and timeouts come
  //     out under the pattern's name, and the new version starts fresh;
  //     a removed pattern drains the same way; an added one starts fresh;
  //     a version that holds no partial match is dropped at once, unless
  //     events read before the swap still wait for the watermark (they may
  //     start its partial matches); an old version that finishes draining
  //     later is dropped at the next reload, or with state_dir at the next
  //     run;
  //   - each event starts partial matches of the versions that ran when it
  //     was read: events read before the swap that still wait for the
  //     watermark (with max_out_of_orderness 0, those at the largest
  //     timestamp read) may start partial matches of the old versions, not
  //     of the new ones; events read after it only of the new ones
  //     (EvaluatorOptions::start_matches_before_seq, _from_seq). Every
  //     version takes them into the partial matches it holds.
  // With state_dir the swap is part of a checkpoint: the run checkpoints at
  // the current input position, then reopens the state over the new files
  // with `migrate` semantics and goes on from that checkpoint; a crash
  // after it recovers to that checkpoint, and the restarted run, over the
  // files then on disk, drains the old versions the same way. So `--watch`
  // implies `--migrate` with state_dir. Write a new version elsewhere and
  // rename it over the old one: a half-written file is reported as an
  // error (and then reloaded once whole). Empty: no watching.
  // Default: empty.
  std::vector<std::string> watch_files;
  // Flag --watch-interval: how often the files are looked at (clock time;
  // more than 0). Default: 1 s.
  Duration watch_interval = std::chrono::seconds(1);
  // Called on the reading thread with each line about a reload, without a
  // "cep: " prefix: "reloaded p.cep: pattern 'p' changed (old version
  // drains 3 keys), pattern 'q' added, pattern 'r' removed (drains 0
  // keys)", "reloaded p.cep: no pattern changed", or a refused version's
  // error (which may span lines: the source line and a caret). nullptr:
  // nothing is said.
  std::function<void(const std::string& line)> watch_report;

  // Progress.

  // Called on the reading thread about every progress_interval of clock
  // time while the run goes on; nullptr: never. Default: nullptr.
  std::function<void(const RunProgress&)> progress;
  Duration progress_interval = std::chrono::seconds(1);
};

// Where the outputs go, one JSON object per line; nullptr discards (the
// counts in RunStats still include them). Streams may be shared; with
// parallelism > 1 they are written from several threads, one at a time.
struct RunOutputs {
  std::ostream* matches = nullptr;
  std::ostream* timeouts = nullptr;
  std::ostream* late = nullptr;
  // Input lines that failed to decode under OnError::kSkip, verbatim (a line
  // over RunOptions::max_line_bytes cut to that length).
  std::ostream* dead_letter = nullptr;
  // With RunOptions::state_dir: the files behind the streams (opened for
  // appending: a resumed run truncates them to the length of its checkpoint,
  // a new one to 0); empty when a stream is not a file (stdout).
  std::string matches_path = "";
  std::string timeouts_path = "";
  std::string late_path = "";
  std::string dead_letter_path = "";
  // Called once, after the patterns compiled and the state directory opened
  // (and locked), before anything is written or truncated: a caller that
  // creates its output files here leaves none behind when the run is
  // refused. It may set the streams and paths above; an error ends the run
  // with it. nullptr: nothing to do.
  std::function<absl::Status()> open = nullptr;
};

struct RunStats {
  uint64_t events = 0;  // decoded events, late ones included
  uint64_t matches = 0;
  uint64_t timeouts = 0;
  uint64_t late = 0;
  uint64_t errors = 0;  // lines skipped under OnError::kSkip
  // RunOptions::stop ended the run before the end of the input.
  bool stopped = false;
  // --migrate: one line per old version being drained.
  std::vector<std::string> migrations;
  // RunOptions::watch_files: new versions swapped in, and refused (they did
  // not check).
  uint64_t reloads = 0;
  uint64_t rejected_reloads = 0;
  // Keys whose state --state-ttl removed, over every pattern (at the end of
  // the input, when event time ends, every key still holding partial
  // matches expires too).
  uint64_t expired_keys = 0;
  // Partial matches dropped by the cap (EvaluatorOptions::
  // max_partial_matches), over every pattern and, in pattern_names' order,
  // per pattern.
  uint64_t evicted_partial_matches = 0;
  std::vector<uint64_t> pattern_evicted;
  // Nodes of shared partial matches reclaimed once no live partial match
  // used them (their window passed), over every pattern.
  uint64_t reclaimed_nodes = 0;
  // Per pattern, in pattern_names' order: whether new keys got shared
  // partial matches (EvaluatorOptions::strategy).
  std::vector<bool> pattern_shared;
  // Detection latency of matches in nanoseconds: from reading the line of
  // the event that completed a match to handing the match to the output.
  LatencyHistogram latency;
  // Time to take one input event in nanoseconds: decoding it and the
  // processing its arrival sets off (with parallelism 1 all of it: the
  // events and windows the watermark releases, a microbatch when it
  // triggers, the checkpoint's commit is not included; with more, the
  // hand-off to the workers, without the decoding, which the decoding
  // threads or the workers do). Sampled: every 64th event is timed, the
  // first included (a clock read costs about 5% of an event).
  LatencyHistogram event_time;
  // Parallelism > 1, JSON lines of one event type in memory (lanes): the
  // events each lane built and took (its keys' events, and in the first
  // lane the late ones). With RocksDB state: the events each worker built
  // from the lines the reading thread scanned and routed to it (a line the
  // scanner leaves to the full decoder, and a late event, is decoded on the
  // reading thread and not counted). CSV, or JSON of several
  // event types: the input lines each decoding thread decoded (threads
  // decode batches of lines while the reading thread reads on; the reading
  // thread then hands the events to the runtime in input order; empty with
  // RunOptions::rate). Empty with parallelism 1 (the reading thread
  // decodes).
  std::vector<uint64_t> decoded_per_thread;
  // Detection latency per pattern, in file order, with the patterns' names.
  std::vector<std::string> pattern_names;
  std::vector<LatencyHistogram> pattern_latency;
};

// Runs every pattern of `file` over the JSON lines of `input`; the counts
// come back, the lines go to `outputs`. `input_name` names the input in
// errors ("events.jsonl:7: error: missing field 'card'").
// Errors:
//   kInvalidArgument "INPUT:LINE: error: REASON" for a line that does not
//     decode or is longer than max_line_bytes, or that is not text (a NUL
//     byte), with OnError::kStop (with kSkip these go to the dead letters),
//     and "FILE: error: event type 'T' has no time field" before reading
//     anything;
//   the status of CompilePattern ("FILE:LINE: error: pattern 'p': ...");
//   kUnknown "INPUT:LINE: error: ..." when a condition threw;
//   kUnavailable when the input cannot be read or an output written;
//   the error of RunOutputs::open;
//   with state_dir: kInvalidArgument for sort_output;
//   kFailedPrecondition naming the database and both hashes when DIR/NAME
//   holds the state of another pattern, or when the input to resume is
//   shorter than the recorded position; kCancelled when RunOptions::stop
//   was set while an input that cannot seek (a pipe) was read up to that
//   position (nothing was taken, the state is unchanged); the state
//   backend's errors (kUnavailable, kDataLoss).
[[nodiscard]] absl::StatusOr<RunStats> RunPatternFile(
    const PatternFile& file, std::istream& input, std::string_view input_name,
    const RunOptions& options, RunOutputs& outputs);

// ---- options as flags (shared by `cep run` and tests/cases) ---------------

// Sets the option of flag `name` (without dashes) from `value`:
//   format jsonl|csv
//   time event|processing
//   max-out-of-orderness DURATION   a duration: 0, 250ms, 10s, 5m, 2h, 1d;
//                                    every duration flag at most 106751d
//   on-error stop|skip
//   max-line-bytes N                 1 to 1073741824
//   sort-output true|false           (a switch on the command line)
//   loop event|microbatch|realtime
//   trigger DURATION|Nevents         100ms, 1s, 10000events
//   commit-interval DURATION
//   parallelism N                    1 to 256
//   state memory|rocksdb:DIR
//   checkpoint-every DURATION|Nevents|loop
//   keep-checkpoints K               0 to 1000
//   state-ttl DURATION               0: never
//   max-partial-matches N            per key and pattern; 0: no limit
//   overflow drop-oldest|refuse-new
//   state-cache N                    keys, 1 or more
//   migrate true|false               (a switch on the command line)
//   match-ids true|false             (a switch on the command line)
//   latency true|false               (a switch on the command line)
//   rate N                           events per second, > 0
//   metrics-port N                   0 to 65535 (0: a free port)
//   metrics-address IP               127.0.0.1, ::1, 0.0.0.0
//   watch-interval DURATION          more than 0
// Errors: kInvalidArgument naming the flag and the bad value, or the
// unknown flag.
[[nodiscard]] absl::Status SetRunOption(std::string_view name,
                                        std::string_view value,
                                        RunOptions& options);

// Applies flags given as command-line words, `--name VALUE` or
// `--name=VALUE` (`--sort-output` alone), with SetRunOption.
// Errors: kInvalidArgument.
[[nodiscard]] absl::Status ParseRunOptions(const std::vector<std::string>& args,
                                           RunOptions& options);

// A duration as the pattern language writes it: an integer directly
// followed by ms, s, m, h or d; "0" alone is zero. Errors: kInvalidArgument.
[[nodiscard]] absl::StatusOr<Duration> ParseDuration(std::string_view text);

}  // namespace cep
