#include "cep/histogram.hpp"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>

#include "gtest/gtest.h"

namespace cep {
namespace {

TEST(LatencyHistogramTest, EmptyHistogramReportsZeros) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.Percentile(50), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.mean(), 0);
  EXPECT_EQ(h.Summary(), "no samples");
}

TEST(LatencyHistogramTest, SmallValuesAreExact) {
  auto h = std::make_unique<LatencyHistogram>();
  for (int64_t v = 1; v <= 100; ++v) h->Record(v);
  EXPECT_EQ(h->count(), 100u);
  EXPECT_EQ(h->Percentile(50), 50u);
  EXPECT_EQ(h->Percentile(99), 99u);
  EXPECT_EQ(h->Percentile(100), 100u);
  EXPECT_EQ(h->min(), 1u);
  EXPECT_EQ(h->max(), 100u);
  EXPECT_DOUBLE_EQ(h->mean(), 50.5);
}

TEST(LatencyHistogramTest, LargeValuesWithinOnePercentAbove) {
  auto h = std::make_unique<LatencyHistogram>();
  // 1000 values spread from 1us to 1s, log-uniformly.
  for (int i = 0; i < 1000; ++i) {
    h->Record(static_cast<int64_t>(1000.0 * std::pow(1e6, i / 999.0)));
  }
  for (double p : {10.0, 50.0, 90.0, 99.0, 99.9}) {
    const auto rank = static_cast<int>(p / 100.0 * 1000 + 0.5) - 1;
    const double exact = 1000.0 * std::pow(1e6, rank / 999.0);
    const double reported = static_cast<double>(h->Percentile(p));
    EXPECT_GE(reported, exact * 0.999) << p;
    EXPECT_LE(reported, exact * 1.0079) << p;
  }
  EXPECT_EQ(h->Percentile(100), h->max());
}

TEST(LatencyHistogramTest, PercentileNeverExceedsMax) {
  auto h = std::make_unique<LatencyHistogram>();
  h->Record(1000001);
  EXPECT_EQ(h->Percentile(50), 1000001u);
}

TEST(LatencyHistogramTest, NegativeValuesCountAsZero) {
  auto h = std::make_unique<LatencyHistogram>();
  h->Record(-5);
  EXPECT_EQ(h->count(), 1u);
  EXPECT_EQ(h->max(), 0u);
}

TEST(LatencyHistogramTest, HugeValuesDoNotOverflow) {
  auto h = std::make_unique<LatencyHistogram>();
  h->Record(INT64_MAX);
  EXPECT_EQ(h->Percentile(50), static_cast<uint64_t>(INT64_MAX));
}

TEST(LatencyHistogramTest, MergeAddsCounts) {
  auto a = std::make_unique<LatencyHistogram>();
  auto b = std::make_unique<LatencyHistogram>();
  a->Record(std::chrono::nanoseconds(10));
  b->Record(std::chrono::nanoseconds(30));
  b->Record(std::chrono::nanoseconds(20));
  a->Merge(*b);
  EXPECT_EQ(a->count(), 3u);
  EXPECT_EQ(a->min(), 10u);
  EXPECT_EQ(a->max(), 30u);
  EXPECT_EQ(a->Percentile(50), 20u);
}

TEST(LatencyHistogramTest, SummaryUsesUnits) {
  auto h = std::make_unique<LatencyHistogram>();
  h->Record(1500);
  EXPECT_EQ(h->Summary(), "p50=1.50us p99=1.50us p99.9=1.50us max=1.50us");
  EXPECT_EQ(LatencyHistogram::FormatNanos(950), "950ns");
  EXPECT_EQ(LatencyHistogram::FormatNanos(12345678), "12.3ms");
  EXPECT_EQ(LatencyHistogram::FormatNanos(2000000000), "2.00s");
  EXPECT_EQ(LatencyHistogram::FormatNanos(123456), "123us");
}

}  // namespace
}  // namespace cep
