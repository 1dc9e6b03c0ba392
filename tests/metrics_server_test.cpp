// The live metrics of `cep run --metrics-port` (src/run/metrics_server.hpp):
// the exposition text of a snapshot, checked line for line and against the
// format; and the server in this process: GET /metrics, 404 elsewhere, a
// port in use.

#include "run/metrics_server.hpp"

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cep/histogram.hpp"

#include "testing/prometheus_text.hpp"

namespace cep::run {
namespace {

using ::cep::testing::CheckExposition;
using ::cep::testing::HttpBody;
using ::cep::testing::HttpGet;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

// Two patterns (one name to escape), checkpoints: every family.
MetricsSnapshot Sample() {
  LatencyHistogram latency;
  latency.Record(500);            // 0.5 us
  latency.Record(20'000);         // 20 us
  latency.Record(2'000'000'000);  // 2 s
  MetricsSnapshot snapshot;
  snapshot.input_events = 1000;
  snapshot.late_events = 3;
  snapshot.input_offset_bytes = 123456;
  snapshot.watermark_lag_seconds = 1.5;
  MetricsSnapshot::Pattern& first = snapshot.patterns.emplace_back();
  first.name = "card_testing";
  first.latency = LatencyBuckets::Of(latency);
  first.events = 997;
  first.timeouts = 4;
  first.evicted_partial_matches = 5;
  first.keys = 42;
  first.partial_matches = 57;
  first.late_events = 2;
  MetricsSnapshot::Pattern& second = snapshot.patterns.emplace_back();
  second.name = "say \"hi\"\\";
  second.events = 997;
  snapshot.has_checkpoints = true;
  snapshot.checkpoints = 7;
  snapshot.checkpoint_duration_seconds = 0.25;
  snapshot.checkpoint_at_ns = 1'000'000'000;
  snapshot.block_cache_hits = 30;
  snapshot.block_cache_misses = 10;
  return snapshot;
}

TEST(MetricsTextTest, ExactText) {
  EXPECT_EQ(
      FormatMetrics(Sample(), 3'500'000'000),
      R"(# HELP cep_input_events_total Events decoded from the input, late ones included.
# TYPE cep_input_events_total counter
cep_input_events_total 1000
# HELP cep_late_events_total Events at or behind the watermark, sent to the late output.
# TYPE cep_late_events_total counter
cep_late_events_total 3
# HELP cep_input_offset_bytes Bytes of the input read and taken so far.
# TYPE cep_input_offset_bytes gauge
cep_input_offset_bytes 123456
# HELP cep_watermark_lag_seconds Largest event time read minus the watermark.
# TYPE cep_watermark_lag_seconds gauge
cep_watermark_lag_seconds 1.5
# HELP cep_matches_total Matches of the pattern.
# TYPE cep_matches_total counter
cep_matches_total{pattern="card_testing"} 3
cep_matches_total{pattern="say \"hi\"\\"} 0
# HELP cep_events_total Events the pattern took.
# TYPE cep_events_total counter
cep_events_total{pattern="card_testing"} 997
cep_events_total{pattern="say \"hi\"\\"} 997
# HELP cep_timeouts_total Partial matches of the pattern whose window closed.
# TYPE cep_timeouts_total counter
cep_timeouts_total{pattern="card_testing"} 4
cep_timeouts_total{pattern="say \"hi\"\\"} 0
# HELP cep_partial_matches_evicted_total Partial matches dropped by the cap (--max-partial-matches).
# TYPE cep_partial_matches_evicted_total counter
cep_partial_matches_evicted_total{pattern="card_testing"} 5
cep_partial_matches_evicted_total{pattern="say \"hi\"\\"} 0
# HELP cep_keys Keys holding state of the pattern.
# TYPE cep_keys gauge
cep_keys{pattern="card_testing"} 42
cep_keys{pattern="say \"hi\"\\"} 0
# HELP cep_partial_matches Partial matches the pattern's keys hold (shared form: runs past their window count until reclaimed).
# TYPE cep_partial_matches gauge
cep_partial_matches{pattern="card_testing"} 57
cep_partial_matches{pattern="say \"hi\"\\"} 0
# HELP cep_pattern_late_events_total Late events (at or behind the watermark when read) the pattern would have taken.
# TYPE cep_pattern_late_events_total counter
cep_pattern_late_events_total{pattern="card_testing"} 2
cep_pattern_late_events_total{pattern="say \"hi\"\\"} 0
# HELP cep_detection_latency_seconds From reading the event that completed a match to its output.
# TYPE cep_detection_latency_seconds histogram
cep_detection_latency_seconds_bucket{pattern="card_testing",le="0.000001"} 1
cep_detection_latency_seconds_bucket{pattern="card_testing",le="0.00001"} 1
cep_detection_latency_seconds_bucket{pattern="card_testing",le="0.0001"} 2
cep_detection_latency_seconds_bucket{pattern="card_testing",le="0.001"} 2
cep_detection_latency_seconds_bucket{pattern="card_testing",le="0.01"} 2
cep_detection_latency_seconds_bucket{pattern="card_testing",le="0.1"} 2
cep_detection_latency_seconds_bucket{pattern="card_testing",le="1"} 2
cep_detection_latency_seconds_bucket{pattern="card_testing",le="10"} 3
cep_detection_latency_seconds_bucket{pattern="card_testing",le="+Inf"} 3
cep_detection_latency_seconds_sum{pattern="card_testing"} 2.0000205
cep_detection_latency_seconds_count{pattern="card_testing"} 3
cep_detection_latency_seconds_bucket{pattern="say \"hi\"\\",le="0.000001"} 0
cep_detection_latency_seconds_bucket{pattern="say \"hi\"\\",le="0.00001"} 0
cep_detection_latency_seconds_bucket{pattern="say \"hi\"\\",le="0.0001"} 0
cep_detection_latency_seconds_bucket{pattern="say \"hi\"\\",le="0.001"} 0
cep_detection_latency_seconds_bucket{pattern="say \"hi\"\\",le="0.01"} 0
cep_detection_latency_seconds_bucket{pattern="say \"hi\"\\",le="0.1"} 0
cep_detection_latency_seconds_bucket{pattern="say \"hi\"\\",le="1"} 0
cep_detection_latency_seconds_bucket{pattern="say \"hi\"\\",le="10"} 0
cep_detection_latency_seconds_bucket{pattern="say \"hi\"\\",le="+Inf"} 0
cep_detection_latency_seconds_sum{pattern="say \"hi\"\\"} 0
cep_detection_latency_seconds_count{pattern="say \"hi\"\\"} 0
# HELP cep_checkpoints_total Checkpoints written by this run.
# TYPE cep_checkpoints_total counter
cep_checkpoints_total 7
# HELP cep_checkpoint_duration_seconds How long the last checkpoint took.
# TYPE cep_checkpoint_duration_seconds gauge
cep_checkpoint_duration_seconds 0.25
# HELP cep_checkpoint_age_seconds Time since the last checkpoint was written.
# TYPE cep_checkpoint_age_seconds gauge
cep_checkpoint_age_seconds 2.5
# HELP cep_rocksdb_block_cache_hits_total State reads served by RocksDB's block cache.
# TYPE cep_rocksdb_block_cache_hits_total counter
cep_rocksdb_block_cache_hits_total 30
# HELP cep_rocksdb_block_cache_misses_total State reads that missed RocksDB's block cache.
# TYPE cep_rocksdb_block_cache_misses_total counter
cep_rocksdb_block_cache_misses_total 10
# HELP cep_rocksdb_block_cache_hit_ratio Block-cache hits over block-cache reads since the start (0 before any).
# TYPE cep_rocksdb_block_cache_hit_ratio gauge
cep_rocksdb_block_cache_hit_ratio 0.75
)");
}

TEST(MetricsTextTest, SampleIsValidExposition) {
  EXPECT_THAT(CheckExposition(FormatMetrics(Sample(), 3'500'000'000)),
              IsEmpty());
}

// Memory state: no checkpoint families; an empty snapshot (before the
// patterns compile) is still valid.
TEST(MetricsTextTest, OptionalFamiliesLeftOut) {
  MetricsSnapshot snapshot = Sample();
  snapshot.has_checkpoints = false;
  const std::string text = FormatMetrics(snapshot, 0);
  EXPECT_THAT(text, HasSubstr("cep_matches_total{pattern=\"card_testing\"} 3"));
  EXPECT_THAT(text, HasSubstr("cep_keys{pattern=\"card_testing\"}"));
  for (const char* left_out : {"cep_checkpoint", "cep_rocksdb"}) {
    EXPECT_THAT(text, ::testing::Not(HasSubstr(left_out))) << left_out;
  }
  EXPECT_THAT(CheckExposition(text), IsEmpty());
  EXPECT_THAT(CheckExposition(FormatMetrics(MetricsSnapshot(), 0)), IsEmpty());
}

// Durable state before the first checkpoint: a count of 0, no duration or
// age yet.
TEST(MetricsTextTest, NoCheckpointYet) {
  MetricsSnapshot snapshot;
  snapshot.has_checkpoints = true;
  const std::string text = FormatMetrics(snapshot, 5);
  EXPECT_THAT(text, HasSubstr("\ncep_checkpoints_total 0\n"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("cep_checkpoint_age_seconds")));
}

// --watch: the reloads, swapped in and refused.
TEST(MetricsTextTest, Reloads) {
  MetricsSnapshot snapshot;
  EXPECT_THAT(FormatMetrics(snapshot, 0),
              ::testing::Not(HasSubstr("cep_pattern_reloads")));
  snapshot.has_reloads = true;
  snapshot.reloads = 2;
  snapshot.rejected_reloads = 1;
  const std::string text = FormatMetrics(snapshot, 0);
  EXPECT_THAT(text, HasSubstr("\ncep_pattern_reloads_total 2\n"));
  EXPECT_THAT(text, HasSubstr("\ncep_pattern_reloads_rejected_total 1\n"));
  EXPECT_THAT(CheckExposition(text), IsEmpty());
}

// The checker itself rejects what is not the format.
TEST(MetricsTextTest, CheckerRejectsBadText) {
  EXPECT_THAT(CheckExposition("x 1"),
              ElementsAre("the text does not end with a newline",
                          "line 1: no TYPE before x"));
  EXPECT_THAT(CheckExposition("# TYPE x counter\nx{a=\"b} 1\n"),
              ElementsAre("line 2: not a sample: x{a=\"b} 1"));
  EXPECT_THAT(CheckExposition("# TYPE x summaryish\n"),
              ElementsAre("line 1: # TYPE x summaryish"));
  EXPECT_THAT(CheckExposition("# TYPE h histogram\nh_bucket{le=\"1\"} 2\n"
                              "h_bucket{le=\"2\"} 1\nh_bucket{le=\"+Inf\"} 3\n"
                              "h_count 4\n"),
              ElementsAre("line 3: buckets do not rise: h_bucket{le=\"2\"} 1",
                          "h{}: le=\"+Inf\" is not _count"));
}

TEST(MetricsServerTest, ServesTheLastSnapshotAnd404Elsewhere) {
  absl::StatusOr<std::unique_ptr<MetricsServer>> server =
      MetricsServer::Start("127.0.0.1", 0);
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  ASSERT_GT(port, 0);
  EXPECT_EQ((*server)->url(),
            "http://127.0.0.1:" + std::to_string(port) + "/metrics");
  // Before any Publish(): the empty snapshot.
  EXPECT_EQ(HttpBody(HttpGet(port, "/metrics")),
            FormatMetrics(MetricsSnapshot(), 0));
  (*server)->Publish(Sample());
  const std::string response = HttpGet(port, "/metrics");
  EXPECT_THAT(response, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(response, HasSubstr("Content-Type: text/plain; version=0.0.4; "
                                  "charset=utf-8\r\n"));
  const std::string body = HttpBody(response);
  EXPECT_THAT(body, HasSubstr("\ncep_input_events_total 1000\n"));
  EXPECT_THAT(CheckExposition(body), IsEmpty());
  // A query string is ignored.
  EXPECT_THAT(HttpGet(port, "/metrics?x=1"), StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(HttpGet(port, "/"), StartsWith("HTTP/1.1 404 Not Found\r\n"));
  EXPECT_THAT(HttpGet(port, "/metricsx"),
              StartsWith("HTTP/1.1 404 Not Found\r\n"));
  (*server)->Stop();
  (*server)->Stop();                         // idempotent
  EXPECT_EQ(HttpGet(port, "/metrics"), "");  // no longer listening
}

// A connection that never sends a request does not keep Stop() waiting
// beyond the socket timeout, nor other scrapes after it.
TEST(MetricsServerTest, SilentClientDoesNotBlockForever) {
  absl::StatusOr<std::unique_ptr<MetricsServer>> server =
      MetricsServer::Start("127.0.0.1", 0);
  ASSERT_TRUE(server.ok()) << server.status();
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>((*server)->port()));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&address),
                      sizeof(address)),
            0);
  EXPECT_THAT(HttpGet((*server)->port(), "/metrics"),
              StartsWith("HTTP/1.1 200 OK\r\n"));
  // Stop() while the thread waits on a connection that sends nothing
  // (a second one): it returns after the socket timeout.
  const int second = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(::connect(second, reinterpret_cast<const sockaddr*>(&address),
                      sizeof(address)),
            0);
  server->reset();  // joins the thread
  ::close(second);
  ::close(fd);
}

TEST(MetricsServerTest, PortInUse) {
  absl::StatusOr<std::unique_ptr<MetricsServer>> first =
      MetricsServer::Start("127.0.0.1", 0);
  ASSERT_TRUE(first.ok()) << first.status();
  const int port = (*first)->port();
  absl::StatusOr<std::unique_ptr<MetricsServer>> second =
      MetricsServer::Start("127.0.0.1", port);
  EXPECT_EQ(second.status(),
            absl::UnavailableError("--metrics-port " + std::to_string(port) +
                                   ": address already in use"));
}

TEST(MetricsServerTest, BadAddress) {
  EXPECT_EQ(MetricsServer::Start("localhost", 0).status(),
            absl::InvalidArgumentError(
                "--metrics-address: 'localhost' is not an IP address"));
}

}  // namespace
}  // namespace cep::run
