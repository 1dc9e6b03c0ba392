// MetricsServer: Prometheus text exposition of a run's metrics over HTTP
// (Boost.Beast, synchronous, one background thread). See metrics_server.hpp.

#include "metrics_server.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include <sys/socket.h>
#include <sys/time.h>

#include "cep/runtime.hpp"

namespace cep::run {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

// How long a connection may take to send its request or take the response.
constexpr int kSocketTimeoutSeconds = 2;
// The longest request header read.
constexpr size_t kMaxRequestBytes = 16 * 1024;

std::string Number(double value) { return absl::StrFormat("%.9g", value); }

// A label value: backslash, double quote and newline escaped.
std::string LabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void Header(std::string& out, const char* name, const char* type,
            const char* help) {
  absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ",
                  type, "\n");
}

}  // namespace

LatencyBuckets LatencyBuckets::Of(const LatencyHistogram& histogram) {
  LatencyBuckets buckets;
  for (size_t bound = 0; bound < kLatencyBoundCount; ++bound) {
    buckets.at_or_below[bound] =
        histogram.CountAtOrBelow(kLatencyBounds[bound].nanos);
  }
  buckets.sum_seconds = histogram.sum() / 1e9;
  buckets.count = histogram.count();
  return buckets;
}

std::string FormatMetrics(const MetricsSnapshot& snapshot, int64_t now_ns) {
  std::string out;
  Header(out, "cep_input_events_total", "counter",
         "Events decoded from the input, late ones included.");
  absl::StrAppend(&out, "cep_input_events_total ", snapshot.input_events, "\n");
  Header(out, "cep_late_events_total", "counter",
         "Events at or behind the watermark, sent to the late output.");
  absl::StrAppend(&out, "cep_late_events_total ", snapshot.late_events, "\n");
  Header(out, "cep_input_offset_bytes", "gauge",
         "Bytes of the input read and taken so far.");
  absl::StrAppend(&out, "cep_input_offset_bytes ", snapshot.input_offset_bytes,
                  "\n");
  Header(out, "cep_watermark_lag_seconds", "gauge",
         "Largest event time read minus the watermark.");
  absl::StrAppend(&out, "cep_watermark_lag_seconds ",
                  Number(snapshot.watermark_lag_seconds), "\n");

  // Per pattern: one family at a time, a line per pattern.
  struct Counter {
    const char* name;
    const char* type;
    const char* help;
    uint64_t MetricsSnapshot::Pattern::*field;
  };
  const Counter counters[] = {
      {"cep_events_total", "counter", "Events the pattern took.",
       &MetricsSnapshot::Pattern::events},
      {"cep_timeouts_total", "counter",
       "Partial matches of the pattern whose window closed.",
       &MetricsSnapshot::Pattern::timeouts},
      {"cep_partial_matches_evicted_total", "counter",
       "Partial matches dropped by the cap (--max-partial-matches).",
       &MetricsSnapshot::Pattern::evicted_partial_matches},
      {"cep_keys", "gauge", "Keys holding state of the pattern.",
       &MetricsSnapshot::Pattern::keys},
      {"cep_partial_matches", "gauge",
       "Partial matches the pattern's keys hold (shared form: runs past "
       "their window count until reclaimed).",
       &MetricsSnapshot::Pattern::partial_matches},
      {"cep_pattern_late_events_total", "counter",
       "Late events (at or behind the watermark when read) the pattern would "
       "have taken.",
       &MetricsSnapshot::Pattern::late_events},
  };
  std::vector<std::string> labels;
  for (const MetricsSnapshot::Pattern& pattern : snapshot.patterns) {
    labels.push_back(
        absl::StrCat("pattern=\"", LabelValue(pattern.name), "\""));
  }
  if (!snapshot.patterns.empty()) {
    Header(out, "cep_matches_total", "counter", "Matches of the pattern.");
    for (size_t p = 0; p < snapshot.patterns.size(); ++p) {
      absl::StrAppend(&out, "cep_matches_total{", labels[p], "} ",
                      snapshot.patterns[p].latency.count, "\n");
    }
  }
  if (!snapshot.patterns.empty()) {
    for (const Counter& counter : counters) {
      Header(out, counter.name, counter.type, counter.help);
      for (size_t p = 0; p < snapshot.patterns.size(); ++p) {
        absl::StrAppend(&out, counter.name, "{", labels[p], "} ",
                        snapshot.patterns[p].*counter.field, "\n");
      }
    }
  }
  if (!snapshot.patterns.empty()) {
    Header(out, "cep_detection_latency_seconds", "histogram",
           "From reading the event that completed a match to its output.");
    for (size_t p = 0; p < snapshot.patterns.size(); ++p) {
      const LatencyBuckets& latency = snapshot.patterns[p].latency;
      for (size_t bound = 0; bound < kLatencyBoundCount; ++bound) {
        absl::StrAppend(&out, "cep_detection_latency_seconds_bucket{",
                        labels[p], ",le=\"", kLatencyBounds[bound].le, "\"} ",
                        latency.at_or_below[bound], "\n");
      }
      absl::StrAppend(&out, "cep_detection_latency_seconds_bucket{", labels[p],
                      ",le=\"+Inf\"} ", latency.count, "\n");
      absl::StrAppend(&out, "cep_detection_latency_seconds_sum{", labels[p],
                      "} ", Number(latency.sum_seconds), "\n");
      absl::StrAppend(&out, "cep_detection_latency_seconds_count{", labels[p],
                      "} ", latency.count, "\n");
    }
  }

  if (snapshot.has_checkpoints) {
    Header(out, "cep_checkpoints_total", "counter",
           "Checkpoints written by this run.");
    absl::StrAppend(&out, "cep_checkpoints_total ", snapshot.checkpoints, "\n");
    if (snapshot.checkpoint_at_ns != 0) {
      Header(out, "cep_checkpoint_duration_seconds", "gauge",
             "How long the last checkpoint took.");
      absl::StrAppend(&out, "cep_checkpoint_duration_seconds ",
                      Number(snapshot.checkpoint_duration_seconds), "\n");
      Header(out, "cep_checkpoint_age_seconds", "gauge",
             "Time since the last checkpoint was written.");
      const int64_t age_ns = now_ns - snapshot.checkpoint_at_ns;
      absl::StrAppend(
          &out, "cep_checkpoint_age_seconds ",
          Number(static_cast<double>(age_ns < 0 ? 0 : age_ns) / 1e9), "\n");
    }
    const uint64_t hits = snapshot.block_cache_hits;
    const uint64_t reads = hits + snapshot.block_cache_misses;
    Header(out, "cep_rocksdb_block_cache_hits_total", "counter",
           "State reads served by RocksDB's block cache.");
    absl::StrAppend(&out, "cep_rocksdb_block_cache_hits_total ", hits, "\n");
    Header(out, "cep_rocksdb_block_cache_misses_total", "counter",
           "State reads that missed RocksDB's block cache.");
    absl::StrAppend(&out, "cep_rocksdb_block_cache_misses_total ",
                    snapshot.block_cache_misses, "\n");
    Header(out, "cep_rocksdb_block_cache_hit_ratio", "gauge",
           "Block-cache hits over block-cache reads since the start (0 "
           "before any).");
    absl::StrAppend(&out, "cep_rocksdb_block_cache_hit_ratio ",
                    Number(reads == 0 ? 0.0
                                      : static_cast<double>(hits) /
                                            static_cast<double>(reads)),
                    "\n");
  }
  if (snapshot.has_reloads) {
    Header(out, "cep_pattern_reloads_total", "counter",
           "New versions of the pattern files swapped in (--watch).");
    absl::StrAppend(&out, "cep_pattern_reloads_total ", snapshot.reloads, "\n");
    Header(out, "cep_pattern_reloads_rejected_total", "counter",
           "New versions of the pattern files refused: they did not check.");
    absl::StrAppend(&out, "cep_pattern_reloads_rejected_total ",
                    snapshot.rejected_reloads, "\n");
  }
  return out;
}

struct MetricsServer::Impl {
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::string address;
  std::atomic<bool> stopping{false};
};

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    const std::string& address, int port) {
  auto impl = std::make_unique<Impl>();
  boost::system::error_code ec;
  const asio::ip::address ip = asio::ip::make_address(address, ec);
  if (ec) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--metrics-address: '", address, "' is not an IP address"));
  }
  auto failed = [port](const boost::system::error_code& error) {
    return absl::UnavailableError(absl::StrCat(
        "--metrics-port ", port, ": ",
        error == asio::error::address_in_use ? "address already in use"
                                             : error.message()));
  };
  const tcp::endpoint endpoint(ip, static_cast<unsigned short>(port));
  if (impl->acceptor.open(endpoint.protocol(), ec); ec) return failed(ec);
  if (impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
      ec) {
    return failed(ec);
  }
  if (impl->acceptor.bind(endpoint, ec); ec) return failed(ec);
  if (impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
      ec) {
    return failed(ec);
  }
  impl->address =
      ip.is_v6() ? absl::StrCat("[", ip.to_string(), "]") : ip.to_string();
  std::unique_ptr<MetricsServer> server(new MetricsServer(std::move(impl)));
  server->port_ = server->impl_->acceptor.local_endpoint().port();
  server->thread_ = std::thread([s = server.get()] { s->Serve(); });
  return server;
}

MetricsServer::MetricsServer(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}

MetricsServer::~MetricsServer() { Stop(); }

std::string MetricsServer::url() const {
  return absl::StrCat("http://", impl_->address, ":", port_, "/metrics");
}

void MetricsServer::Publish(const MetricsSnapshot& snapshot) {
  std::lock_guard<std::mutex> lock(mu_);
  snapshot_ = snapshot;
}

void MetricsServer::Stop() {
  if (!thread_.joinable()) return;
  impl_->stopping.store(true);
  // Wakes the thread's blocking accept() (Linux: shutdown of a listening
  // socket makes accept fail with EINVAL).
  ::shutdown(impl_->acceptor.native_handle(), SHUT_RDWR);
  thread_.join();
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
}

void MetricsServer::Serve() {
  while (!impl_->stopping.load()) {
    tcp::socket socket(impl_->io);
    boost::system::error_code ec;
    impl_->acceptor.accept(socket, ec);
    if (impl_->stopping.load()) break;
    if (ec) {
      if (ec == asio::error::invalid_argument ||
          ec == asio::error::bad_descriptor) {
        break;
      }
      continue;
    }
    // A client that sends nothing cannot hold the thread (nor the end of
    // the run) for long: the socket I/O is plain recv()/send() with the
    // socket's timeouts (Asio's synchronous reads would poll without one),
    // Beast parses and serializes.
    const int fd = socket.native_handle();
    const timeval timeout{kSocketTimeoutSeconds, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    http::request_parser<http::empty_body> parser;
    parser.eager(true);
    std::string received;
    char chunk[1024];
    while (!parser.is_header_done() && received.size() < kMaxRequestBytes) {
      const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
      if (n <= 0) break;
      received.append(chunk, static_cast<size_t>(n));
      size_t used = 0;
      ec.clear();
      while (!parser.is_header_done() && used < received.size()) {
        const size_t put = parser.put(
            asio::buffer(received.data() + used, received.size() - used), ec);
        if (ec == http::error::need_more) {
          ec.clear();
          break;
        }
        if (ec) break;
        used += put;
      }
      if (ec) break;
      received.erase(0, used);
    }
    if (ec || !parser.is_header_done()) continue;
    const http::request<http::empty_body>& request = parser.get();
    http::response<http::string_body> response;
    response.version(request.version());
    response.keep_alive(false);
    response.set(http::field::server, "cepheus");
    const std::string_view target(request.target().data(),
                                  request.target().size());
    const std::string_view path = target.substr(0, target.find('?'));
    if (path != "/metrics") {
      response.result(http::status::not_found);
      response.set(http::field::content_type, "text/plain; charset=utf-8");
      response.body() = "not found; the metrics are at /metrics\n";
    } else if (request.method() != http::verb::get &&
               request.method() != http::verb::head) {
      response.result(http::status::method_not_allowed);
      response.set(http::field::allow, "GET, HEAD");
      response.set(http::field::content_type, "text/plain; charset=utf-8");
      response.body() = "method not allowed\n";
    } else {
      MetricsSnapshot snapshot;
      {
        std::lock_guard<std::mutex> lock(mu_);
        snapshot = snapshot_;
      }
      response.result(http::status::ok);
      response.set(http::field::content_type,
                   "text/plain; version=0.0.4; charset=utf-8");
      response.body() = FormatMetrics(snapshot, SteadyClockNanos());
    }
    response.prepare_payload();
    std::ostringstream serialized;
    if (request.method() == http::verb::head) {
      serialized << response.base();
    } else {
      serialized << response;
    }
    const std::string bytes = serialized.str();
    for (size_t sent = 0; sent < bytes.size();) {
      const ssize_t n =
          ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    }
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
  }
}

}  // namespace cep::run
