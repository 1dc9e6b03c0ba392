// PatternWatcher: the pattern files of a run, watched for changes
// (`cep run --watch`, RunOptions::watch_files). The reading thread polls
// it every RunOptions::watch_interval, also while the input is idle: each
// file's size, times and inode are looked at (stat), and a file whose stat
// changed, or was written so recently that a change in the same clock tick
// would not show (git's "racy" case), is read again and its content hashed
// (FNV-1a). When some content differs from the running version, every file
// is parsed and merged (MergePatternFiles) and the result checked
// (CheckReload: same event types, every pattern compiles); one that does not
// check is reported once — "FILE:LINE:COL: error: ...; keeping the running
// version" — and ignored until the files change again. One that checks is
// handed to the run, which swaps it in and calls Accept().
// Internal to src/run/: not installed, not under include/.
//
// Example (the run's reading thread):
//   PatternWatcher watcher({"fraud.cep"}, std::chrono::seconds(1),
//                          [&](const PatternFile& f) {
//                            return CheckReload(running, f);
//                          });
//   if (watcher.Due(SteadyClockNanos())) {
//     std::vector<std::string> messages;
//     if (std::optional<WatchedReload> reload =
//             watcher.Poll(SteadyClockNanos(), messages)) {
//       ... swap reload->file in ...
//       watcher.Accept();
//     }
//   }
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"

#include "cep/dsl.hpp"
#include "cep/time.hpp"

namespace cep::run {

// A new version of the watched files that checks.
struct WatchedReload {
  std::unique_ptr<PatternFile> file;  // the files merged, in their order
  std::vector<std::string> changed;   // the paths whose content changed
};

// What a new version must pass, besides parsing and merging, to replace
// `running` (whose Records the run decodes): the same event types
// (CheckSameEventTypes; changing them needs a restart), at least one
// pattern, every pattern compiles. Errors: kInvalidArgument with the text
// to print ("B.cep: error: ...", "FILE:LINE: error: pattern 'p': ...").
[[nodiscard]] absl::Status CheckReload(const PatternFile& running,
                                       const PatternFile& candidate);

class PatternWatcher {
 public:
  using Check = std::function<absl::Status(const PatternFile&)>;

  // Watches `paths` (as given on the command line; they name the files in
  // messages) every `interval`; their contents now are the running
  // version. `check` decides whether a new version may replace it.
  PatternWatcher(std::vector<std::string> paths, Duration interval,
                 Check check);

  // Whether a poll is due at `now_ns` (SteadyClockNanos), and when.
  bool Due(int64_t now_ns) const { return now_ns >= next_poll_ns_; }
  int64_t next_poll_ns() const { return next_poll_ns_; }

  // Looks at the files; the next poll is due an interval from `now_ns`.
  // A new version that checks comes back (then call Accept() once it runs,
  // or leave it: the next poll offers it again only when the files change
  // again); one that does not adds its error lines, without "cep: ", to
  // `messages` and gives nullopt, as do files that did not change.
  std::optional<WatchedReload> Poll(int64_t now_ns,
                                    std::vector<std::string>& messages);

  // The version Poll() returned last now runs.
  void Accept();

  // New versions refused since the start.
  uint64_t rejected() const { return rejected_; }

 private:
  // What was last seen of one file.
  struct Seen {
    bool stat_ok = false;
    uint64_t device = 0, inode = 0, size = 0;
    int64_t mtime_ns = 0, ctime_ns = 0;
    bool racy = true;  // read again even when the stat is the same
    std::optional<std::string> text;  // nullopt: could not be read
    std::string read_error;
    uint64_t hash = 0;  // of text, or of read_error
  };

  // Stats `path`; reads it again when needed. True when its content (or
  // its read error) differs from `seen`'s before.
  bool Look(const std::string& path, Seen& seen);

  std::vector<std::string> paths_;
  Duration interval_;
  Check check_;
  int64_t next_poll_ns_ = 0;
  std::vector<Seen> seen_;
  std::vector<uint64_t> running_;  // content hashes of the running version
  std::vector<uint64_t> offered_;  // of the version Poll() returned last
  uint64_t rejected_ = 0;
};

}  // namespace cep::run
