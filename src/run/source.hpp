// Source: where a run's events come from, as frames (framing.hpp) with a
// position a checkpoint can record and a resumed run can go back to.
// Internal to src/run/: not installed, not under include/.
//
// A source has one or more partitions, each an ordered sequence of frames
// with its own position (a byte offset for a file); the run reads them
// through Next() in one order, the one seq numbers follow. A file or stdin
// has one partition. A message-queue source (Kafka, kafka_source.hpp) has
// several, each message a frame and its offset the position; a checkpoint
// then records one position per partition (Positions()).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "framing.hpp"

namespace cep::run {

// Where a partition is: the position after the last frame taken, and the
// number of frames (lines) taken.
struct SourcePosition {
  uint64_t offset = 0;
  uint64_t line_no = 0;
};

// One partition's position, for a source with several (Kafka: the
// partition number and the offset of the next message to read).
struct PartitionPosition {
  uint32_t partition = 0;
  SourcePosition position;
};

class PartitionLog;  // partition_log.hpp

// Told when partitions of a source change hands (Kafka's consumer group
// moves them between processes): called from inside Source::Next(), on the
// run's thread, between two frames the run took whole.
class PartitionListener {
 public:
  virtual ~PartitionListener() = default;
  // `partitions` are about to be taken away; Positions() still has them.
  [[nodiscard]] virtual absl::Status Revoking(
      const std::vector<uint32_t>& partitions) = 0;
  // `partitions` were assigned and are not read yet; Positions() does not
  // have them. Returns where each starts (nullopt: where the source would
  // start it, from the group's committed offset or its first).
  [[nodiscard]] virtual absl::StatusOr<
      std::vector<std::optional<SourcePosition>>>
  Assigned(const std::vector<uint32_t>& partitions) = 0;
};

class Source {
 public:
  virtual ~Source() = default;

  // Names the input in errors ("events.jsonl").
  virtual std::string_view name() const = 0;
  virtual size_t partitions() const = 0;
  // The next frame, valid until the next call; false when there is none:
  // the end of the input, a stop request, or a read error (see Status()).
  virtual bool Next(Frame& frame) = 0;
  // Whether the next Next() can answer without waiting for input (a live
  // stream that has nothing more yet: false). May answer false when
  // unsure; a run then hands on what it read before reading on.
  virtual bool Ready() const = 0;
  // Waits up to `timeout` for Ready(), or for the end of the input (which
  // Next() also answers at once); true when one came. A run that has
  // something to do while its input is idle (`cep run --watch` polls the
  // pattern files) waits here instead of in Next().
  // The default answers true at once (a source whose Ready() only knows
  // what Next() already fetched, Kafka's, must be read to see more): the
  // run then reads it as before.
  virtual bool WaitReady(std::chrono::nanoseconds timeout) {
    (void)timeout;
    return true;
  }
  // After Next() returned false: kUnavailable when reading failed.
  [[nodiscard]] virtual absl::Status Status() const = 0;
  // The position of `partition` after the frames taken so far.
  virtual SourcePosition Position(size_t partition) const = 0;
  // Resume: moves `partition` to `position` (recorded by a checkpoint) with
  // the frames taken so far (a CSV header) counted in. Errors:
  // kFailedPrecondition when the input is shorter than the position;
  // kCancelled when a stop request came first.
  [[nodiscard]] virtual absl::Status Seek(size_t partition,
                                          SourcePosition position) = 0;

  // Sources with several partitions (Kafka), which a checkpoint records
  // all at once; a source with one partition keeps these defaults.
  //
  // The position of every partition the source reads now: what a
  // checkpoint records. Empty: the source has one partition (Position(0)).
  virtual std::vector<PartitionPosition> Positions() const { return {}; }
  // The seq of the event in `frame` when it identifies the event whichever
  // process reads it (Kafka: its partition and offset, KafkaSeq), so that
  // match ids are the same in every process of a consumer group; nullopt:
  // the run numbers events in the order it reads them.
  virtual std::optional<uint64_t> SeqOf(const Frame& frame) const {
    (void)frame;
    return std::nullopt;
  }
  // Where the state of each partition is logged so that it can follow its
  // partition to another process (Kafka: the changelog topic); nullptr:
  // none.
  virtual PartitionLog* partition_log() { return nullptr; }
  // Tells `listener` (nullptr: nobody) when partitions change hands.
  virtual void SetPartitionListener(PartitionListener* listener) {
    (void)listener;
  }
  // Resume: the positions a checkpoint recorded with Positions().
  [[nodiscard]] virtual absl::Status SeekPartitions(
      const std::vector<PartitionPosition>& positions) {
    (void)positions;
    return absl::OkStatus();
  }
  // A checkpoint that recorded `positions` is durable (Kafka commits the
  // offsets to the consumer group). Errors: the source's own.
  [[nodiscard]] virtual absl::Status Committed(
      const std::vector<PartitionPosition>& positions) {
    (void)positions;
    return absl::OkStatus();
  }
};

// An std::istream (a file, stdin, a pipe) framed into lines: one partition
// whose position is a byte offset.
class StreamSource final : public Source {
 public:
  // `input` must outlive the source. `resume_dir` names the state directory
  // in a failed Seek()'s error.
  StreamSource(std::istream& input, std::string_view name,
               size_t max_line_bytes, bool drop_rest,
               const std::atomic<bool>* stop, std::string resume_dir)
      : input_(input),
        name_(name),
        framer_(max_line_bytes, drop_rest, stop),
        stop_(stop),
        resume_dir_(std::move(resume_dir)) {}

  std::string_view name() const override { return name_; }
  size_t partitions() const override { return 1; }
  bool Next(Frame& frame) override { return framer_.Next(input_, frame); }
  // Bytes buffered in the stream (std::streambuf::in_avail(), which an
  // InputFile answers for its file or pipe), or for std::cin, input
  // waiting on descriptor 0.
  bool Ready() const override;
  // An InputFile waits with poll() on its pipe (a regular file never
  // waits), std::cin on descriptor 0; a string or file stream never
  // waits; another stream's buffer is asked (in_avail()) every 5 ms, -1
  // meaning its end.
  bool WaitReady(std::chrono::nanoseconds timeout) override;
  absl::Status Status() const override;
  SourcePosition Position(size_t partition) const override {
    (void)partition;
    return {framer_.offset(), framer_.line_no()};
  }
  // A seek, or for an input that cannot seek (a pipe) reading and dropping
  // the bytes up to the position. kCancelled when a stop request ended the
  // reading before the position.
  absl::Status Seek(size_t partition, SourcePosition position) override;

 private:
  std::istream& input_;
  std::string_view name_;
  LineFramer framer_;
  const std::atomic<bool>* stop_;
  std::string resume_dir_;
};

}  // namespace cep::run
