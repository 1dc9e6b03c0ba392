// cep/histogram.hpp — a log-linear latency histogram (HdrHistogram's layout)
// for detection latency and per-event cost: constant-time Record(), fixed
// memory, percentiles within 1% of the exact value.
//
// Values are non-negative integers (Cepheus records nanoseconds). Below
// 2 * kSubBuckets they are counted exactly; above, each power-of-two range
// is split into kSubBuckets linear buckets, so a reported percentile is the
// upper end of its bucket: at most 1/kSubBuckets (0.8%) above the true value.
// The same histogram serves the CLI's summary, the benchmark harness and the
// examples, so their numbers are comparable.
//
// Example:
//   cep::LatencyHistogram latency;
//   latency.Record(std::chrono::nanoseconds(1500));
//   std::cout << latency.Percentile(99.0) << "\n";      // ~1500
//   std::cout << latency.Summary() << "\n";  // p50=1.50us p99=... max=...
#pragma once

#include <array>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/str_format.h"

namespace cep {

class LatencyHistogram {
 public:
  // Linear buckets per power of two; a power of two.
  static constexpr int kSubBucketBits = 7;
  static constexpr uint64_t kSubBuckets = uint64_t{1} << kSubBucketBits;

  // Counts one value; negative values count as 0. O(1), no allocation.
  void Record(int64_t value) {
    const uint64_t v = value < 0 ? 0 : static_cast<uint64_t>(value);
    ++counts_[BucketOf(v)];
    ++count_;
    sum_ += static_cast<double>(v);
    if (v > max_) max_ = v;
    if (v < min_) min_ = v;
  }
  void Record(std::chrono::nanoseconds value) { Record(value.count()); }

  // Adds every value counted by `other`.
  void Merge(const LatencyHistogram& other) {
    for (size_t bucket = 0; bucket < kBuckets; ++bucket) {
      counts_[bucket] += other.counts_[bucket];
    }
    count_ += other.count_;
    sum_ += other.sum_;
    if (other.max_ > max_) max_ = other.max_;
    if (other.min_ < min_) min_ = other.min_;
  }

  uint64_t count() const { return count_; }
  // 0 when empty.
  uint64_t max() const { return max_; }
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  double mean() const {
    return count_ == 0 ? 0 : sum_ / static_cast<double>(count_);
  }

  // The smallest bucket bound that at least `percent`% of the values are
  // at or below (100 gives max()); 0 when empty. `percent` in [0, 100].
  uint64_t Percentile(double percent) const {
    if (count_ == 0) return 0;
    if (percent >= 100) return max_;
    uint64_t rank = static_cast<uint64_t>(
        percent / 100.0 * static_cast<double>(count_) + 0.5);
    if (rank == 0) rank = 1;
    uint64_t seen = 0;
    for (size_t bucket = 0; bucket < kBuckets; ++bucket) {
      seen += counts_[bucket];
      if (seen >= rank) {
        const uint64_t upper = UpperBoundOf(bucket);
        return upper < max_ ? upper : max_;
      }
    }
    return max_;
  }

  // Values counted in buckets whose every value is at or below `value`
  // (cumulative, for Prometheus `le` buckets): exact up to 2 * kSubBuckets,
  // above that a value in the bucket that holds `value` is left out unless
  // the bucket ends at `value`, so it may undercount by one bucket (< 1%).
  uint64_t CountAtOrBelow(uint64_t value) const {
    uint64_t count = 0;
    for (size_t bucket = 0; bucket < kBuckets; ++bucket) {
      if (UpperBoundOf(bucket) > value) break;
      count += counts_[bucket];
    }
    return count;
  }
  // Sum of the values counted.
  double sum() const { return sum_; }

  // "p50=1.20us p99=3.40us p99.9=8.00us max=12.1us" (values as nanoseconds
  // formatted with a unit), or "no samples".
  std::string Summary() const {
    if (count_ == 0) return "no samples";
    return absl::StrFormat("p50=%s p99=%s p99.9=%s max=%s",
                           FormatNanos(Percentile(50)),
                           FormatNanos(Percentile(99)),
                           FormatNanos(Percentile(99.9)), FormatNanos(max_));
  }

  // 950ns, 1.50us, 12.3ms, 2.00s: three significant digits.
  static std::string FormatNanos(uint64_t nanos) {
    const double v = static_cast<double>(nanos);
    if (nanos < 1000) return absl::StrFormat("%dns", nanos);
    if (nanos < 1000000) return Significant(v / 1e3, "us");
    if (nanos < 1000000000) return Significant(v / 1e6, "ms");
    return Significant(v / 1e9, "s");
  }

 private:
  // Buckets [0, 2*kSubBuckets) are exact; then kSubBuckets per power of two
  // up to 2^64.
  static constexpr size_t kBuckets =
      2 * kSubBuckets + (64 - kSubBucketBits - 1) * kSubBuckets;

  static size_t BucketOf(uint64_t v) {
    if (v < 2 * kSubBuckets) return static_cast<size_t>(v);
    const int exponent = 63 - std::countl_zero(v);  // >= kSubBucketBits + 1
    const int shift = exponent - kSubBucketBits;
    const uint64_t sub = (v >> shift) - kSubBuckets;  // [0, kSubBuckets)
    return static_cast<size_t>(
        2 * kSubBuckets +
        static_cast<uint64_t>(exponent - kSubBucketBits - 1) * kSubBuckets +
        sub);
  }

  // The largest value that falls in `bucket`.
  static uint64_t UpperBoundOf(size_t bucket) {
    if (bucket < 2 * kSubBuckets) return bucket;
    const uint64_t above = bucket - 2 * kSubBuckets;
    const int shift = static_cast<int>(above / kSubBuckets) + 1;
    const uint64_t sub = above % kSubBuckets + kSubBuckets;
    return ((sub + 1) << shift) - 1;
  }

  static std::string Significant(double v, const char* unit) {
    if (v < 10) return absl::StrFormat("%.2f%s", v, unit);
    if (v < 100) return absl::StrFormat("%.1f%s", v, unit);
    return absl::StrFormat("%.0f%s", v, unit);
  }

  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  double sum_ = 0;
  uint64_t max_ = 0;
  uint64_t min_ = UINT64_MAX;
};

}  // namespace cep
