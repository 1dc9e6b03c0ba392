// cep/run_files.hpp — the files of a run, before RunPatternFile (run.hpp)
// sees them as streams: a check that no output would overwrite an input or
// another output, and an input file whose blocking reads give up when the
// run is asked to stop (a named pipe nobody writes to).
//
// `cep run` and examples/fraud_service use both:
//   CEP_RETURN_IF_ERROR(cep::CheckOutputPaths(
//       {{"--input", "events.jsonl"}, {"pattern file", "p.cep"}},
//       {{"--output", "matches.jsonl"}, {"--timeouts", "t.jsonl"}}));
//   CEP_ASSIGN_OR_RETURN(std::unique_ptr<cep::InputFile> input,
//                        cep::InputFile::Open("events.jsonl", &stop));
//   ... RunPatternFile(file, *input, "events.jsonl", options, outputs)
#pragma once

#include <atomic>
#include <chrono>
#include <istream>
#include <memory>
#include <streambuf>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cep {

// A file a run reads or writes, and what names it in errors: a flag
// ("--output") or a role ("pattern file").
struct RunPath {
  std::string what;
  std::string path;
};

// Refuses `outputs` that are the same file as one of `inputs` or as another
// output: an output is truncated when the run starts, so the run would
// destroy what it reads, or two outputs would overwrite each other. Existing
// files are compared by device and inode (so `./x`, symlinks and hard links
// are seen through), paths of files that do not exist yet by their
// canonical form (symlinked directories and dangling symlinks resolved).
// "-" (stdin, stdout) and existing files that are not regular files
// (/dev/null, pipes, terminals) are never refused: nothing truncates them.
// Errors: kInvalidArgument naming both:
//   "--output './in.jsonl' is the same file as --input 'in.jsonl'".
[[nodiscard]] absl::Status CheckOutputPaths(
    const std::vector<RunPath>& inputs, const std::vector<RunPath>& outputs);

// An input file as a seekable std::istream (a regular file can be
// positioned, as a resumed run needs; a pipe cannot). Unlike std::ifstream,
// waiting for input gives up once `*stop` is set, so a SIGINT/SIGTERM
// handler that sets the flag (RunOptions::stop) ends a run waiting on an
// idle named pipe within about 100 ms: the stream then ends (eof), as stdin
// does. A named pipe is waited for with poll(), so a signal that comes just
// before the wait is not missed. A read error sets badbit.
class InputFile final : public std::istream {
 public:
  // Opens `path` for reading; a named pipe opens at once, with or without
  // a writer (reading waits for one; a writer that closes ends the input).
  // Errors: kUnavailable "cannot read 'PATH': REASON"; kCancelled when a
  // blocking open (a device) was interrupted with `*stop` set. `stop` may
  // be nullptr (never).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<InputFile>> Open(
      const std::string& path, const std::atomic<bool>* stop);

  // Waits up to `timeout` until a read can answer without waiting (input,
  // the end of the input, an error): at once for a regular file, else
  // poll() on the pipe; true when it can. A signal cuts the wait short
  // (false).
  bool WaitReadable(std::chrono::nanoseconds timeout);

  ~InputFile() override;
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

 private:
  class Buffer;
  explicit InputFile(std::unique_ptr<Buffer> buffer);
  std::unique_ptr<Buffer> buffer_;
};

}  // namespace cep
