// fraud_service — a card-fraud detection service: reads authorisations
// (JSON lines, from a file, stdin or a Kafka topic), runs the pattern files
// of patterns/ plus one pattern written in C++, and appends alerts to a file
// (or writes them to a Kafka topic). State lives in RocksDB with
// checkpoints, so after SIGINT/SIGTERM, a crash or kill -9 the next run with
// the same --state goes on without repeating or losing an alert (to a topic:
// without losing one; repeats carry the same id).
//
//   fraud_service --generate 50000 --cards 1000     # synthetic traffic
//   fraud_service --input auths.jsonl --alerts alerts.jsonl --state st
//   fraud_service --input kafka://b1:9092/auths --group fraud
//       --alerts kafka://b1:9092/alerts --state st   # one of N instances
//
// `fraud_service --help` says more; e2e_test.sh stops, kills and restarts
// it, tests/kafka/kafka_fraud_test.cpp runs it against a mock Kafka cluster.
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <new>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"

#include "cep/dsl.hpp"
#include "cep/pattern.hpp"
#include "cep/run.hpp"
#include "cep/run_files.hpp"
#include "cep/run_kafka.hpp"
#include "cep/workload.hpp"

namespace {

constexpr const char* kDefaultPatterns[] = {"card_testing.cep",
                                            "card_cashout.cep", "velocity.cep",
                                            "declines_then_charge.cep"};

constexpr const char* kUsage = R"(Usage: fraud_service [FLAGS] [PATTERN_FILE...]

Runs card-fraud patterns over authorisations (JSON lines: card, amount,
merchant, result, ts) and appends one alert per line to the alerts file, or
writes one message per alert to a Kafka topic: {"pattern", "key" (the
card), "events" (the evidence per stage), "id" (a stable hash),
"latency_us"}. PATTERN_FILEs (default: card_testing,
card_cashout, velocity, declines_then_charge.cep in %s/patterns) must
declare the same `event Auth`, keyed by card, with amount (double) and
result (string). The service adds amount_spike: three approved
authorisations in a row on a card, then an approved charge of at least 250
and over 20 times their average, within an hour.

Flags:
  --input FILE            transactions as JSON lines; - is stdin (default: -);
                          kafka://HOST:PORT[,HOST:PORT]/TOPIC reads a topic,
                          one transaction per message, partitioned by card
                          (needs --group)
  --generate N            instead, generate N card-testing transactions
                          (cep gen card-testing; held in memory, ~110 B each;
                          at most 10000000)
  --seed S                seed of --generate (default: 1)
  --cards K               cards of --generate (default: 10000)
  --alerts FILE           where alerts are appended (default:
                          fraud-alerts.jsonl); kafka://HOST:PORT/TOPIC writes
                          one message per alert, keyed by the card
  --state DIR             RocksDB state and checkpoints (default: fraud-state)
  --checkpoint-every X    10000events or a duration like 5s (default: 10000events)
  --parallelism N         worker threads, each owning a range of the cards'
                          key groups in the state; a restart may use another
                          N (default: 1)
  --max-out-of-orderness D  how late a transaction may arrive (default: 0)
  --rate N                pace reading at N transactions per second; latency
                          counts from when each was due (default: unpaced)
  --max-partial-matches N partial matches a card may hold in one pattern,
                          0 for no limit (default: 10000); a pattern file's
                          `max partial matches` clause wins
  --overflow P            past that: drop-oldest or refuse-new (default:
                          drop-oldest); evictions are in the summary
  --metrics-port N        serve live metrics (Prometheus text) at
                          http://127.0.0.1:N/metrics; 0 picks a free port
  --metrics-address IP    where --metrics-port listens (default: 127.0.0.1)
  -h, --help              this text

Kafka, as `cep run` takes it (README.md: "On Kafka: N instances"):
  --group G               with --input kafka://: the consumer group; the
                          instances of one group share the topic's partitions
  --kafka-config KEY=VALUE  a librdkafka property for the input and the
                          alerts topic (repeatable): security.protocol,
                          sasl.*, session.timeout.ms, ...; enable.auto.commit
                          cannot be set
  --idle-timeout D        with --input kafka://: a partition without messages
                          for D stops holding back event time (default: 0,
                          never)
  --kafka-stop-at-end     with --input kafka://: end, as at the end of a file,
                          once every assigned partition reached the end it had
                          when assigned (default: run until SIGINT/SIGTERM)
  --kafka-timeout D       how long the brokers may take to answer at the start
                          and to acknowledge alerts (default: 30s)

SIGINT or SIGTERM stops the service after a final checkpoint (exit status 0).
A run over a --state DIR with a checkpoint resumes from it: it truncates the
alerts file to the checkpoint (so each alert is there exactly once) and reads
on from the recorded input position (stdin: it skips that many bytes, so send
the stream again from its start; Kafka: each partition from the offset the
checkpoint recorded, which it also committed to the group). Alerts written
to a topic after the last checkpoint are written again, with the same ids:
at least once, exactly once after dropping repeated ids. Use the same input
and patterns, and a new DIR for a new input. The summary on stderr counts
this run only. Exit status 1 on a runtime error, 2 on a bad flag.
)";

// Set by SIGINT and SIGTERM; RunPatternFile checks it after every line.
std::atomic<bool> g_stop{false};

extern "C" void RequestStop(int) { g_stop.store(true); }

// Errors are one line on stderr; exit status 2 for a bad command line.
int UsageError(const std::string& message) {
  std::cerr << "fraud_service: error: " << message << " (see --help)\n";
  return 2;
}
int Fail(const std::string& message) {
  std::cerr << "fraud_service: error: " << message << "\n";
  return 1;
}

// amount_spike: on one card, three approved authorisations in a row, then
// at once an approved charge of at least 250 and over twenty times their
// average, within an hour: a stolen card's first large purchase against the
// owner's small everyday spending (or against card-testing probes). A fixed
// three keeps partial matches few; with "two or more" (TimesOrMore) one
// would start at every authorisation and grow for an hour, at far higher
// cost. The pattern language could say this with avg(); it is in C++ to
// show an iterative condition (Context::EventsFor) beside the files.
absl::Status AddAmountSpike(cep::PatternFile& file) {
  const cep::Schema* auth = file.FindSchema("Auth");
  if (auth == nullptr) {
    return absl::InvalidArgumentError("the pattern files declare no Auth");
  }
  const auto amount = auth->FieldIndex("amount");
  const auto result = auth->FieldIndex("result");
  if (!amount || !result || !auth->key_field() ||
      auth->fields()[*amount].type != cep::FieldType::kDouble ||
      auth->fields()[*result].type != cep::FieldType::kString) {
    return absl::InvalidArgumentError(
        "event Auth needs a key field (the card), amount (double) and "
        "result (string)");
  }
  auto approved = [result = *result](const cep::Record& r) {
    return r.GetString(result) == "approved";
  };
  auto spike = [amount = *amount](const cep::Record& r,
                                  const cep::Context<cep::Record>& ctx) {
    const auto history = ctx.EventsFor("history");
    if (history.empty()) return false;
    double sum = 0;
    for (const cep::Record* e : history) sum += e->GetDouble(amount);
    const double charge = r.GetDouble(amount);
    return charge >= 250 &&
           charge > 20 * sum / static_cast<double>(history.size());
  };
  auto pattern = cep::Pattern<cep::Record>::Begin(
                     "history", cep::AfterMatchSkip::SkipPastLastEvent())
                     .Where(approved)
                     .Times(3)
                     .Consecutive()
                     .Next("spike")
                     .Where(approved)
                     .Where(spike)
                     .Within(std::chrono::hours(1));
  return file.AddPattern("amount_spike", std::move(pattern), {"Auth"},
                         auth->fields()[*auth->key_field()].name);
}

// One line: this run's counts (a resumed run counts from where it resumed),
// detection latency, and how the run ended.
std::string Summary(const cep::RunStats& stats, const std::string& state) {
  std::string per_pattern;
  for (size_t idx = 0; idx < stats.pattern_names.size(); ++idx) {
    absl::StrAppendFormat(&per_pattern, "%s%s %d", idx == 0 ? "" : ", ",
                          stats.pattern_names[idx],
                          stats.pattern_latency[idx].count());
    // Partial matches the cap dropped (--max-partial-matches).
    if (idx < stats.pattern_evicted.size() && stats.pattern_evicted[idx] > 0) {
      absl::StrAppendFormat(&per_pattern, " (%d partial matches evicted)",
                            stats.pattern_evicted[idx]);
    }
  }
  return absl::StrFormat(
      "fraud_service: %d events, %d alerts (%s), %d late, latency %s; %s\n",
      stats.events, stats.matches, per_pattern, stats.late,
      stats.latency.Summary(),
      stats.stopped ? "stopped by a signal, the next run with --state " +
                          state + " resumes here"
                    : "end of input");
}

// The flags main() takes (see kUsage).
bool IsFlag(const std::string& name) {
  for (const char* flag :
       {"input", "generate", "seed", "cards", "alerts", "state",
        "checkpoint-every", "parallelism", "max-out-of-orderness", "rate",
        "max-partial-matches", "overflow", "metrics-port", "metrics-address",
        "group", "kafka-config", "idle-timeout", "kafka-stop-at-end",
        "kafka-timeout"}) {
    if (name == flag) return true;
  }
  return false;
}

// The flags that take no value.
bool IsSwitch(const std::string& name) { return name == "kafka-stop-at-end"; }

// --generate holds its transactions in memory (~110 B each): 1.1 GB at most.
constexpr uint64_t kMaxGenerate = 10'000'000;

}  // namespace

int main(int argc, char** argv) {
  std::string input_path = "-", alerts_path = "fraud-alerts.jsonl";
  uint64_t generate = 0, seed = 1, cards = 0;
  // The flags given (a repeated --kafka-config: its values joined by '\n'),
  // for cep::ParseKafkaFlags and warnings.
  cep::GivenFlags given;
  std::vector<std::string> pattern_paths;
  cep::RunOptions options;
  options.state_dir = "fraud-state";
  options.match_ids = true;
  options.match_latency = true;

  for (int arg_idx = 1; arg_idx < argc; ++arg_idx) {
    std::string arg = argv[arg_idx];
    if (arg == "-h" || arg == "--help") {
      std::cout << absl::StrFormat(kUsage, CEP_SOURCE_DIR);
      return 0;
    }
    if (arg[0] != '-') {
      pattern_paths.push_back(arg);
      continue;
    }
    if (arg.rfind("--", 0) != 0)
      return UsageError("unknown flag '" + arg + "'");
    std::string name = arg.substr(2), value;
    const size_t eq = name.find('=');
    if (!IsFlag(name.substr(0, eq))) {
      return UsageError("unknown flag '--" + name.substr(0, eq) + "'");
    }
    if (IsSwitch(name.substr(0, eq))) {
      if (eq != std::string::npos) {
        return UsageError("--" + name.substr(0, eq) + " takes no value");
      }
    } else if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    } else if (arg_idx + 1 < argc) {
      value = argv[++arg_idx];
    } else {
      return UsageError("--" + name + " needs a value");
    }
    if (name == "input") {
      input_path = value;
    } else if (name == "alerts") {
      alerts_path = value;
    } else if (name == "state") {
      options.state_dir = value;
    } else if (name == "generate" || name == "seed" || name == "cards") {
      const bool is_seed = name == "seed";
      uint64_t& target = is_seed ? seed : (name == "cards" ? cards : generate);
      if (!absl::SimpleAtoi(value, &target) || (target == 0 && !is_seed)) {
        return UsageError("--" + name + ": '" + value + "' is not " +
                          (is_seed ? "an integer" : "a positive integer"));
      }
      if (name == "generate" && target > kMaxGenerate) {
        return UsageError(absl::StrFormat(
            "--generate: %d is more than %d (generated transactions are held "
            "in memory; for more, pipe `cep gen card-testing` into --input -)",
            target, kMaxGenerate));
      }
    } else if (name == "checkpoint-every" || name == "rate" ||
               name == "parallelism" || name == "max-out-of-orderness" ||
               name == "max-partial-matches" || name == "overflow" ||
               name == "metrics-port" || name == "metrics-address") {
      if (absl::Status s = cep::SetRunOption(name, value, options); !s.ok()) {
        return UsageError(std::string(s.message()));
      }
    }
    const auto [at, added] = given.emplace(name, value);
    if (!added && name == "kafka-config") {
      at->second += "\n" + value;
    } else if (!added) {
      at->second = value;
    }
  }
  cep::KafkaRunOptions kafka;
  if (absl::Status s = cep::ParseKafkaFlags(given, "alerts", options, kafka);
      !s.ok()) {
    return UsageError(std::string(s.message()));
  }
  if (generate > 0 && input_path != "-") {
    return UsageError("--generate and --input exclude each other");
  }
  if (options.state_dir.empty() || alerts_path.empty() || alerts_path == "-") {
    return UsageError("--state and --alerts need a directory and a file");
  }
  if (pattern_paths.empty()) {
    for (const char* name : kDefaultPatterns) {
      pattern_paths.push_back(std::string(CEP_SOURCE_DIR) + "/patterns/" +
                              name);
    }
  }
  // The alerts file is truncated to the checkpoint: it must not be an input.
  // (Kafka topics are no files.)
  std::vector<cep::RunPath> inputs;
  if (kafka.input.empty()) inputs.push_back({"--input", input_path});
  for (const std::string& path : pattern_paths) {
    inputs.push_back({"pattern file", path});
  }
  std::vector<cep::RunPath> outputs_to_check;
  if (kafka.output.empty())
    outputs_to_check.push_back({"--alerts", alerts_path});
  if (absl::Status s = cep::CheckOutputPaths(inputs, outputs_to_check);
      !s.ok()) {
    return UsageError(std::string(s.message()));
  }
  for (const char* flag : {"seed", "cards"}) {
    if (generate == 0 && given.contains(flag)) {
      std::cerr << "fraud_service: warning: --" << flag
                << " has no effect without --generate\n";
    }
  }

  // The analysts' files as one, plus the service's own pattern.
  std::vector<cep::PatternFile> files;
  for (const std::string& path : pattern_paths) {
    absl::StatusOr<cep::PatternFile> file = cep::LoadPatternFile(path);
    if (!file.ok()) {  // parse errors begin with FILE:LINE:COL: error:
      const std::string message(file.status().message());
      if (message.rfind("cannot read ", 0) == 0) return Fail(message);
      return (std::cerr << message << "\n", 1);
    }
    files.push_back(*std::move(file));
  }
  absl::StatusOr<cep::PatternFile> merged =
      cep::MergePatternFiles(std::move(files));
  if (!merged.ok()) return (std::cerr << merged.status().message() << "\n", 1);
  if (absl::Status s = AddAmountSpike(*merged); !s.ok()) {
    return Fail(std::string(s.message()));
  }

  // The input must be seekable to resume without reading it again: a file,
  // or generated into memory (the same seed gives the same bytes).
  // Without SA_RESTART, so that a blocked read from a pipe returns.
  struct sigaction action = {};
  action.sa_handler = RequestStop;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  options.stop = &g_stop;

  // Kafka: connected before anything else is opened, so that an unreachable
  // broker or a missing topic fails the run first.
  std::unique_ptr<cep::KafkaRun> kafka_run;
  if (!kafka.input.empty() || !kafka.output.empty()) {
    kafka.report = [](std::string_view line) {
      std::cerr << "fraud_service: " << line << std::endl;
    };
    absl::StatusOr<std::unique_ptr<cep::KafkaRun>> opened =
        cep::KafkaRun::Open(*merged, std::move(kafka), options);
    if (!opened.ok()) {
      const std::string message(opened.status().message());
      // Errors about a --kafka-config property name the flag.
      if (message.rfind("--", 0) == 0) return Fail(message);
      return (std::cerr << message << "\n", 1);
    }
    kafka_run = *std::move(opened);
  }
  const bool kafka_input = kafka_run && kafka_run->has_input();
  std::ostream* kafka_alerts = kafka_run ? kafka_run->output() : nullptr;

  std::unique_ptr<cep::InputFile> input_file;
  std::stringstream generated;
  std::istream* input = &std::cin;
  std::string input_name = "<stdin>";
  if (generate > 0) {
    auto gen = cep::MakeWorkload(
        "card-testing", {.events = generate, .keys = cards, .seed = seed});
    if (!gen.ok()) {
      return UsageError("--generate: " + std::string(gen.status().message()));
    }
    try {
      std::string text;
      while ((*gen)->AppendLine(text)) {
      }
      generated = std::stringstream(std::move(text));
    } catch (const std::bad_alloc&) {
      return Fail(absl::StrFormat(
          "--generate %d: out of memory holding the transactions (about %d "
          "MB); generate fewer, or pipe `cep gen card-testing` into --input -",
          generate, generate * 110 / 1000000));
    }
    input = &generated;
    input_name = "<generated>";
  } else if (input_path != "-" && !kafka_input) {
    absl::StatusOr<std::unique_ptr<cep::InputFile>> opened =
        cep::InputFile::Open(input_path, &g_stop);
    if (absl::IsCancelled(opened.status())) return 0;  // stopped
    if (!opened.ok()) return Fail(std::string(opened.status().message()));
    input_file = *std::move(opened);
    input = input_file.get();
    input_name = input_path;
  }
  // Appending: RunPatternFile truncates the file to its checkpoint's length.
  // Opened once the state directory is locked, so that a refused run
  // creates no file.
  // To a topic: at least once (KafkaRun::output).
  std::ofstream alerts;
  cep::RunOutputs outputs{.matches = &alerts, .matches_path = alerts_path};
  if (kafka_alerts != nullptr) {
    outputs = cep::RunOutputs{.matches = kafka_alerts};
  }
  outputs.open = [&]() -> absl::Status {
    if (kafka_alerts != nullptr) return absl::OkStatus();
    alerts.open(alerts_path, std::ios::binary | std::ios::app);
    if (!alerts.is_open()) {
      return absl::UnavailableError("fraud_service: error: cannot write '" +
                                    alerts_path + "': " + std::strerror(errno));
    }
    return absl::OkStatus();
  };

  options.metrics_listening = [](const std::string& url) {
    std::cerr << "fraud_service: metrics on " << url << std::endl;
  };
  absl::StatusOr<cep::RunStats> stats =
      kafka_input
          ? kafka_run->Run(outputs)
          : cep::RunPatternFile(*merged, *input, input_name, options, outputs);
  if (absl::IsCancelled(stats.status()) && g_stop.load()) {
    // Stopped while a pipe was read up to the checkpoint: nothing taken.
    std::cerr << "fraud_service: stopped by a signal: "
              << stats.status().message() << "\n";
    return 0;
  }
  if (!stats.ok()) {
    const std::string message(stats.status().message());
    // The metrics server's errors name the flag.
    if (message.rfind("--metrics-", 0) == 0) return Fail(message);
    return (std::cerr << message << "\n", 1);
  }
  std::cerr << Summary(*stats, options.state_dir);
  return 0;
}
