// MetricsServer: the live metrics of a run (`cep run --metrics-port N`,
// RunOptions::metrics_port) served as Prometheus text exposition (format
// 0.0.4) at GET /metrics over HTTP (Boost.Beast).
// Internal to src/run/: not installed, not under include/.
//
// The run thread publishes a MetricsSnapshot now and then (Publish(), a
// copy under a mutex); one background thread accepts connections one at a
// time, answers each request from the last snapshot and closes the
// connection. Other paths get 404, other methods 405. Stop() (or the
// destructor) ends the thread: no scrape can hold the run at its end for
// more than the socket timeout (2 s).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"

#include "cep/histogram.hpp"

namespace cep::run {

// Upper bounds of the detection-latency histogram buckets, in nanoseconds
// and as their `le` label (seconds); +Inf comes after them.
struct LatencyBound {
  uint64_t nanos;
  const char* le;
};
inline constexpr LatencyBound kLatencyBounds[] = {
    {1000, "0.000001"}, {10000, "0.00001"},  {100000, "0.0001"},
    {1000000, "0.001"}, {10000000, "0.01"},  {100000000, "0.1"},
    {1000000000, "1"},  {10000000000, "10"},
};
inline constexpr size_t kLatencyBoundCount =
    sizeof(kLatencyBounds) / sizeof(kLatencyBounds[0]);

// Detection latency in the exposition's terms: cumulative counts at each
// kLatencyBounds bound, the sum in seconds, the count.
struct LatencyBuckets {
  uint64_t at_or_below[kLatencyBoundCount] = {};
  double sum_seconds = 0;
  uint64_t count = 0;

  static LatencyBuckets Of(const LatencyHistogram& histogram);
};

// What the run publishes.
struct MetricsSnapshot {
  struct Pattern {
    std::string name;
    // Detection latency of its matches; its count is the pattern's matches.
    LatencyBuckets latency;
    // From the evaluators (with several workers, read at a barrier).
    uint64_t events = 0;
    uint64_t timeouts = 0;
    uint64_t evicted_partial_matches = 0;
    uint64_t keys = 0;
    uint64_t partial_matches = 0;  // held now (Runtime::partial_matches)
    // Late events the pattern would have taken.
    uint64_t late_events = 0;
  };
  std::vector<Pattern> patterns;
  uint64_t input_events = 0;  // decoded events, late ones included
  uint64_t late_events = 0;
  uint64_t input_offset_bytes = 0;
  double watermark_lag_seconds = 0;
  // Durable state only.
  bool has_checkpoints = false;
  uint64_t checkpoints = 0;
  double checkpoint_duration_seconds = 0;  // the last one
  // SteadyClockNanos() when the last checkpoint was written (0: none yet);
  // the age is measured at the scrape.
  int64_t checkpoint_at_ns = 0;
  // RocksDB's block cache: reads served from it and reads that missed it.
  uint64_t block_cache_hits = 0;
  uint64_t block_cache_misses = 0;
  // --watch only: new pattern versions swapped in, and refused.
  bool has_reloads = false;
  uint64_t reloads = 0;
  uint64_t rejected_reloads = 0;
};

// The text exposition of `snapshot`; `now_ns` (SteadyClockNanos) gives the
// checkpoint age. Pattern names are escaped as label values.
std::string FormatMetrics(const MetricsSnapshot& snapshot, int64_t now_ns);

class MetricsServer {
 public:
  // Listens on `address`:`port` (0: a free port) and starts serving.
  // Errors: kInvalidArgument "--metrics-address: 'X' is not an IP address";
  // kUnavailable "--metrics-port N: address already in use" (or the
  // system's reason).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(
      const std::string& address, int port);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // The port listened on (the one chosen for port 0).
  int port() const { return port_; }
  // "http://ADDRESS:PORT/metrics".
  std::string url() const;

  // Replaces what scrapes see.
  void Publish(const MetricsSnapshot& snapshot);

  // Stops serving; waits for the thread. Idempotent.
  void Stop();

  struct Impl;

 private:
  explicit MetricsServer(std::unique_ptr<Impl> impl);
  void Serve();

  std::unique_ptr<Impl> impl_;
  int port_ = 0;
  std::mutex mu_;
  MetricsSnapshot snapshot_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace cep::run
