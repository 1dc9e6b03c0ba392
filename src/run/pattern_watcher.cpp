// PatternWatcher: see pattern_watcher.hpp.

#include "pattern_watcher.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include <sys/stat.h>

#include "cep/compiler.hpp"
#include "cep/dsl.hpp"
#include "cep/runtime.hpp"

#include "../dsl/source.hpp"
#include "../io/io_util.hpp"
#include "compiled_pattern.hpp"

namespace cep::run {
namespace {

using io::Cat;

// A file written within this long of when it was read may change again
// without its stat showing it (timestamps move in clock ticks): it is read
// again at the next poll.
constexpr int64_t kRacyNs = 2'000'000'000;

int64_t WallClockNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// `error`'s text with "; keeping the running version" after its first line
// (a parse error's source line and caret follow it).
std::string Kept(const absl::Status& error) {
  const std::string text(error.message());
  const std::string_view view = text;
  const size_t eol = view.find('\n');
  if (eol == std::string_view::npos) {
    return Cat(view, "; keeping the running version");
  }
  return Cat(view.substr(0, eol), "; keeping the running version",
             view.substr(eol));
}

}  // namespace

absl::Status CheckReload(const PatternFile& running,
                         const PatternFile& candidate) {
  if (absl::Status same = CheckSameEventTypes(running, candidate); !same.ok()) {
    std::string text(same.message());
    const std::string first = Cat(" (first file: ", running.filename(), ")");
    if (text.size() >= first.size() &&
        text.compare(text.size() - first.size(), first.size(), first) == 0) {
      text.resize(text.size() - first.size());
    }
    return absl::InvalidArgumentError(
        Cat(text,
            " as in the running version (changing the event types needs a "
            "restart)"));
  }
  if (candidate.patterns().empty()) {
    return absl::InvalidArgumentError(
        Cat(candidate.filename(), ": error: the files declare no pattern"));
  }
  for (const FilePattern& pattern : candidate.patterns()) {
    absl::StatusOr<Nfa<Record>> nfa = CompilePattern(pattern.pattern);
    if (!nfa.ok()) {
      return absl::InvalidArgumentError(
          Cat(pattern.filename,
              pattern.line > 0 ? Cat(":", pattern.line) : std::string(),
              ": error: pattern '", pattern.name,
              "': ", std::string(nfa.status().message())));
    }
  }
  return absl::OkStatus();
}

PatternWatcher::PatternWatcher(std::vector<std::string> paths,
                               Duration interval, Check check)
    : paths_(std::move(paths)),
      interval_(interval),
      check_(std::move(check)),
      seen_(paths_.size()) {
  for (size_t idx = 0; idx < paths_.size(); ++idx) {
    Look(paths_[idx], seen_[idx]);
    running_.push_back(seen_[idx].hash);
  }
  offered_ = running_;
  next_poll_ns_ =
      SteadyClockNanos() +
      std::chrono::duration_cast<std::chrono::nanoseconds>(interval_).count();
}

bool PatternWatcher::Look(const std::string& path, Seen& seen) {
  struct stat info {};
  const bool stat_ok = ::stat(path.c_str(), &info) == 0;
  const int64_t mtime_ns =
      stat_ok
          ? int64_t{info.st_mtim.tv_sec} * 1'000'000'000 + info.st_mtim.tv_nsec
          : 0;
  const int64_t ctime_ns =
      stat_ok
          ? int64_t{info.st_ctim.tv_sec} * 1'000'000'000 + info.st_ctim.tv_nsec
          : 0;
  if (stat_ok && seen.stat_ok && !seen.racy &&
      seen.device == static_cast<uint64_t>(info.st_dev) &&
      seen.inode == static_cast<uint64_t>(info.st_ino) &&
      seen.size == static_cast<uint64_t>(info.st_size) &&
      seen.mtime_ns == mtime_ns && seen.ctime_ns == ctime_ns) {
    return false;
  }
  const uint64_t before = seen.hash;
  const bool had = seen.text.has_value() || !seen.read_error.empty();
  seen.stat_ok = stat_ok;
  seen.device = stat_ok ? static_cast<uint64_t>(info.st_dev) : 0;
  seen.inode = stat_ok ? static_cast<uint64_t>(info.st_ino) : 0;
  seen.size = stat_ok ? static_cast<uint64_t>(info.st_size) : 0;
  seen.mtime_ns = mtime_ns;
  seen.ctime_ns = ctime_ns;
  seen.racy =
      !stat_ok || std::max(mtime_ns, ctime_ns) + kRacyNs > WallClockNanos();
  absl::StatusOr<std::string> text = dsl::ReadPatternText(path);
  if (text.ok()) {
    seen.hash = Fnv1a(Fnv1a(kFnvOffset, "text\n"), *text);
    seen.text = *std::move(text);
    seen.read_error.clear();
  } else {
    seen.read_error = std::string(text.status().message());
    seen.hash = Fnv1a(Fnv1a(kFnvOffset, "error\n"), seen.read_error);
    seen.text.reset();
  }
  return !had || seen.hash != before;
}

std::optional<WatchedReload> PatternWatcher::Poll(
    int64_t now_ns, std::vector<std::string>& messages) {
  next_poll_ns_ =
      now_ns +
      std::chrono::duration_cast<std::chrono::nanoseconds>(interval_).count();
  bool changed = false;
  for (size_t idx = 0; idx < paths_.size(); ++idx) {
    changed |= Look(paths_[idx], seen_[idx]);
  }
  if (!changed) return std::nullopt;
  bool same_as_running = true;
  for (size_t idx = 0; idx < paths_.size(); ++idx) {
    same_as_running &= seen_[idx].hash == running_[idx];
  }
  // Back to the running version (a bad edit undone): nothing to do.
  if (same_as_running) {
    offered_ = running_;
    return std::nullopt;
  }
  auto refuse = [&](const absl::Status& error) -> std::optional<WatchedReload> {
    messages.push_back(Kept(error));
    ++rejected_;
    return std::nullopt;
  };
  std::vector<PatternFile> files;
  for (size_t idx = 0; idx < paths_.size(); ++idx) {
    const Seen& seen = seen_[idx];
    if (!seen.text.has_value()) {
      return refuse(absl::InvalidArgumentError(seen.read_error));
    }
    absl::StatusOr<PatternFile> file =
        ParsePatternFile(*seen.text, paths_[idx]);
    if (!file.ok()) return refuse(file.status());
    files.push_back(*std::move(file));
  }
  absl::StatusOr<PatternFile> merged = MergePatternFiles(std::move(files));
  if (!merged.ok()) return refuse(merged.status());
  if (absl::Status checked = check_(*merged); !checked.ok()) {
    return refuse(checked);
  }
  WatchedReload reload;
  reload.file = std::make_unique<PatternFile>(*std::move(merged));
  for (size_t idx = 0; idx < paths_.size(); ++idx) {
    offered_[idx] = seen_[idx].hash;
    if (seen_[idx].hash != running_[idx]) reload.changed.push_back(paths_[idx]);
  }
  return reload;
}

void PatternWatcher::Accept() { running_ = offered_; }

}  // namespace cep::run
