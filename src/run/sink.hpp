// Sink: one output stream of a run (matches, timeouts, late events, dead
// letters), written directly or, with --sort-output, kept and written
// sorted at the end; and, when the stream is a file, its length for a
// checkpoint and its truncation to that length on resume.
// Internal to src/run/: not installed, not under include/.
//
// Outputs that share a stream (RunOutputs lets them) share one Sink, so
// sorting orders all of the stream's lines together. A Sink is not
// thread-safe: its writer (RunSink, output_writer.hpp) serializes calls.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cep::run {

class Sink {
 public:
  // Writes to `out` (not null), a file at `path` when not empty; `sort`:
  // keeps the lines until Close().
  Sink(std::ostream* out, std::string path, bool sort)
      : out_(out), path_(std::move(path)), sort_(sort) {}

  // Writes one line, which ends with its newline.
  void Write(std::string_view line) {
    if (sort_) {
      sorted_.emplace_back(line);
      return;
    }
    out_->write(line.data(), static_cast<std::streamsize>(line.size()));
  }

  // Errors: kUnavailable "cannot write the output".
  [[nodiscard]] absl::Status Flush();
  // Writes the kept lines, sorted, and flushes. Errors: as Flush().
  [[nodiscard]] absl::Status Close();

  const std::string& path() const { return path_; }
  std::ostream* stream() const { return out_; }

 private:
  std::ostream* out_;
  std::string path_;
  bool sort_;
  std::vector<std::string> sorted_;
};

// A checkpoint's record of an output file's length: 0 when the output is no
// file, else its length + 1.
// Errors: kUnavailable "cannot stat PATH: REASON".
[[nodiscard]] absl::StatusOr<uint64_t> RecordedLength(const std::string& path);

// Truncates the file at `path` (none when empty) to what RecordedLength
// gave (0: empty). Errors: kUnavailable "cannot truncate PATH: REASON".
[[nodiscard]] absl::Status TruncateTo(const std::string& path,
                                      uint64_t recorded);

}  // namespace cep::run
