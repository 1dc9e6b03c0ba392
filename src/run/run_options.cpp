// The options of a run as flags: SetRunOption, ParseRunOptions and
// ParseDuration (see cep/run.hpp).

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include <arpa/inet.h>
#include <netinet/in.h>

#include "cep/internal/status_macros.hpp"
#include "cep/run.hpp"

#include "../io/io_util.hpp"

namespace cep {

using io::Cat;

absl::StatusOr<Duration> ParseDuration(std::string_view text) {
  auto invalid = [&] {
    return absl::InvalidArgumentError(
        Cat("'", text,
            "' is not a duration (an integer and a unit: 250ms, 10s, 5m, "
            "2h, 1d)"));
  };
  int64_t count = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  auto [unit, ec] = std::from_chars(begin, end, count);
  if (ec != std::errc() || unit == begin || count < 0) return invalid();
  const std::string_view suffix(unit, static_cast<size_t>(end - unit));
  int64_t scale = 0;
  if (suffix == "ms") {
    scale = 1;
  } else if (suffix == "s") {
    scale = 1000;
  } else if (suffix == "m") {
    scale = 60 * 1000;
  } else if (suffix == "h") {
    scale = 3600 * 1000;
  } else if (suffix == "d") {
    scale = 24 * 3600 * 1000;
  } else if (suffix.empty() && count == 0) {
    scale = 1;
  } else {
    return invalid();
  }
  int64_t millis = 0;
  if (__builtin_mul_overflow(count, scale, &millis)) return invalid();
  return Duration(millis);
}

namespace {

// The longest duration a flag takes: 106751 days, so that it fits in
// nanoseconds (int64) and event time plus or minus it cannot overflow.
constexpr Duration kMaxFlagDuration = std::chrono::hours(24 * 106751);

// Sets `interval` or `events` (the other one becomes 0) from a flag value
// such as 10000events or a positive duration.
absl::Status ParseIntervalOrEvents(std::string_view flag,
                                   std::string_view value,
                                   std::string_view interval_examples,
                                   Duration& interval, size_t& events) {
  constexpr std::string_view kEvents = "events";
  if (value.size() > kEvents.size() &&
      value.substr(value.size() - kEvents.size()) == kEvents) {
    const std::string_view count =
        value.substr(0, value.size() - kEvents.size());
    size_t parsed = 0;
    auto [end, ec] =
        std::from_chars(count.data(), count.data() + count.size(), parsed);
    if (ec != std::errc() || end != count.data() + count.size() ||
        parsed == 0) {
      return absl::InvalidArgumentError(
          Cat("--", flag, ": '", value,
              "' is not a count of events such as 10000events"));
    }
    events = parsed;
    interval = Duration(0);
    return absl::OkStatus();
  }
  absl::StatusOr<Duration> duration = ParseDuration(value);
  if (!duration.ok() || *duration <= Duration(0)) {
    return absl::InvalidArgumentError(
        Cat("--", flag, ": '", value, "' is neither an interval (",
            interval_examples, ") nor a count of events (10000events)"));
  }
  if (*duration > kMaxFlagDuration) {
    return absl::InvalidArgumentError(
        Cat("--", flag, ": '", value, "' is too long (at most 106751d)"));
  }
  interval = *duration;
  events = 0;
  return absl::OkStatus();
}

// Flag values shared by several options. `flag` is the name without
// dashes; errors name it and the value.

absl::Status ParseSwitch(std::string_view flag, std::string_view value,
                         bool& out) {
  if (value != "true" && value != "false") {
    return absl::InvalidArgumentError(
        Cat("--", flag, ": '", value, "' is not true or false"));
  }
  out = value == "true";
  return absl::OkStatus();
}

absl::Status ParseDurationFlag(std::string_view flag, std::string_view value,
                               Duration& out) {
  absl::StatusOr<Duration> duration = ParseDuration(value);
  if (!duration.ok()) {
    return absl::InvalidArgumentError(
        Cat("--", flag, ": ", std::string(duration.status().message())));
  }
  if (*duration > kMaxFlagDuration) {
    return absl::InvalidArgumentError(
        Cat("--", flag, ": '", value, "' is too long (at most 106751d)"));
  }
  out = *duration;
  return absl::OkStatus();
}

constexpr size_t kUnbounded = std::numeric_limits<size_t>::max();

// An integer from `min` to `max` (kUnbounded: no upper limit).
absl::Status ParseCount(std::string_view flag, std::string_view value,
                        size_t min, size_t max, size_t& out) {
  size_t parsed = 0;
  auto [end, ec] =
      std::from_chars(value.data(), value.data() + value.size(), parsed);
  if (ec != std::errc() || end != value.data() + value.size() || parsed < min ||
      parsed > max) {
    return absl::InvalidArgumentError(
        max == kUnbounded ? Cat("--", flag, ": '", value, "' is not a number, ",
                                min, " or more")
                          : Cat("--", flag, ": '", value,
                                "' is not a number from ", min, " to ", max));
  }
  out = parsed;
  return absl::OkStatus();
}

}  // namespace

absl::Status SetRunOption(std::string_view name, std::string_view value,
                          RunOptions& options) {
  if (name == "max-out-of-orderness") {
    return ParseDurationFlag(name, value, options.max_out_of_orderness);
  }
  if (name == "on-error") {
    if (value == "stop") {
      options.on_error = OnError::kStop;
    } else if (value == "skip") {
      options.on_error = OnError::kSkip;
    } else {
      return absl::InvalidArgumentError(
          Cat("--on-error: '", value, "' is not stop or skip"));
    }
    return absl::OkStatus();
  }
  if (name == "format") {
    if (value == "jsonl") {
      options.format = InputFormat::kJsonl;
    } else if (value == "csv") {
      options.format = InputFormat::kCsv;
    } else {
      return absl::InvalidArgumentError(
          Cat("--format: '", value, "' is not jsonl or csv"));
    }
    return absl::OkStatus();
  }
  if (name == "time") {
    if (value == "event") {
      options.time = TimeMode::kEvent;
    } else if (value == "processing") {
      options.time = TimeMode::kProcessing;
    } else {
      return absl::InvalidArgumentError(
          Cat("--time: '", value, "' is not event or processing"));
    }
    return absl::OkStatus();
  }
  if (name == "sort-output")
    return ParseSwitch(name, value, options.sort_output);
  if (name == "loop") {
    absl::StatusOr<Loop> loop = ParseLoop(value);
    if (!loop.ok()) {
      return absl::InvalidArgumentError(
          Cat("--loop: ", std::string(loop.status().message())));
    }
    options.loop = *loop;
    return absl::OkStatus();
  }
  if (name == "trigger") {
    return ParseIntervalOrEvents("trigger", value, "100ms, 1s",
                                 options.trigger_interval,
                                 options.trigger_events);
  }
  if (name == "state-cache") {
    return ParseCount(name, value, 1, kUnbounded, options.state_cache_keys);
  }
  if (name == "migrate") return ParseSwitch(name, value, options.migrate);
  if (name == "state-ttl") {
    return ParseDurationFlag(name, value, options.evaluator.state_ttl);
  }
  if (name == "max-partial-matches") {
    return ParseCount(name, value, 0, kUnbounded,
                      options.evaluator.max_partial_matches);
  }
  if (name == "evaluation") {
    if (value == "auto") {
      options.evaluator.strategy = EvaluationStrategy::kAuto;
    } else if (value == "per-run") {
      options.evaluator.strategy = EvaluationStrategy::kPerRun;
    } else if (value == "shared") {
      options.evaluator.strategy = EvaluationStrategy::kShared;
    } else {
      return absl::InvalidArgumentError(
          Cat("--evaluation: '", value, "' is not auto, shared or per-run"));
    }
    return absl::OkStatus();
  }
  if (name == "overflow") {
    if (value == "drop-oldest") {
      options.evaluator.overflow_policy = OverflowPolicy::kDropOldest;
    } else if (value == "refuse-new") {
      options.evaluator.overflow_policy = OverflowPolicy::kRejectNewStarts;
    } else {
      return absl::InvalidArgumentError(
          Cat("--overflow: '", value, "' is not drop-oldest or refuse-new"));
    }
    return absl::OkStatus();
  }
  if (name == "commit-interval") {
    return ParseDurationFlag(name, value, options.commit_interval);
  }
  if (name == "watch-interval") {
    CEP_RETURN_IF_ERROR(ParseDurationFlag(name, value, options.watch_interval));
    if (options.watch_interval <= Duration(0)) {
      return absl::InvalidArgumentError(
          Cat("--watch-interval: '", value, "' is not a positive duration"));
    }
    return absl::OkStatus();
  }
  if (name == "state") {
    constexpr std::string_view kRocksDb = "rocksdb:";
    if (value == "memory") {
      options.state_dir.clear();
    } else if (value.substr(0, kRocksDb.size()) == kRocksDb &&
               value.size() > kRocksDb.size()) {
      options.state_dir = std::string(value.substr(kRocksDb.size()));
    } else {
      return absl::InvalidArgumentError(
          Cat("--state: '", value, "' is not memory or rocksdb:DIR"));
    }
    return absl::OkStatus();
  }
  if (name == "checkpoint-every") {
    options.checkpoint_with_loop = value == "loop";
    if (options.checkpoint_with_loop) {
      options.checkpoint_events = 0;
      options.checkpoint_interval = Duration(0);
      return absl::OkStatus();
    }
    return ParseIntervalOrEvents("checkpoint-every", value, "5s",
                                 options.checkpoint_interval,
                                 options.checkpoint_events);
  }
  if (name == "match-ids") return ParseSwitch(name, value, options.match_ids);
  if (name == "keep-checkpoints") {
    return ParseCount(name, value, 0, 1000, options.keep_checkpoints);
  }
  if (name == "latency") return ParseSwitch(name, value, options.match_latency);
  if (name == "rate") {
    double rate = 0;
    auto [end, ec] =
        std::from_chars(value.data(), value.data() + value.size(), rate);
    if (ec != std::errc() || end != value.data() + value.size() ||
        !(rate > 0 && rate <= 1e9)) {
      return absl::InvalidArgumentError(
          Cat("--rate: '", value,
              "' is not a number of events per second (above 0, at most "
              "1e9)"));
    }
    options.rate = rate;
    return absl::OkStatus();
  }
  if (name == "metrics-port") {
    size_t port = 0;
    if (absl::Status status = ParseCount(name, value, 0, 65535, port);
        !status.ok()) {
      return status;
    }
    options.metrics_port = static_cast<int>(port);
    return absl::OkStatus();
  }
  if (name == "metrics-address") {
    const std::string address(value);
    in6_addr parsed;
    if (inet_pton(AF_INET, address.c_str(), &parsed) != 1 &&
        inet_pton(AF_INET6, address.c_str(), &parsed) != 1) {
      return absl::InvalidArgumentError(
          Cat("--metrics-address: '", value, "' is not an IP address"));
    }
    options.metrics_address = address;
    return absl::OkStatus();
  }
  if (name == "parallelism") {
    return ParseCount(name, value, 1, 256, options.parallelism);
  }
  if (name == "max-line-bytes") {
    return ParseCount(name, value, 1, kMaxLineBytesLimit,
                      options.max_line_bytes);
  }
  return absl::InvalidArgumentError(Cat("unknown option '--", name, "'"));
}

absl::Status ParseRunOptions(const std::vector<std::string>& args,
                             RunOptions& options) {
  for (size_t arg_idx = 0; arg_idx < args.size(); ++arg_idx) {
    std::string_view arg = args[arg_idx];
    if (arg.substr(0, 2) != "--") {
      return absl::InvalidArgumentError(
          Cat("expected an option (--name VALUE), not '", arg, "'"));
    }
    std::string_view name = arg.substr(2);
    std::string_view value;
    if (const size_t eq = name.find('='); eq != std::string_view::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else if (name == "sort-output" || name == "match-ids" ||
               name == "latency" || name == "migrate") {
      value = "true";  // a switch
    } else if (arg_idx + 1 < args.size()) {
      value = args[++arg_idx];
    } else {
      return absl::InvalidArgumentError(
          Cat("option '--", name, "' needs a value"));
    }
    if (absl::Status status = SetRunOption(name, value, options);
        !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

}  // namespace cep
