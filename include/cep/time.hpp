// cep/time.hpp — the time types every part of Cepheus uses.
// Event time and processing time are milliseconds since the Unix epoch;
// windows and gaps are std::chrono::milliseconds, so units live in types.
//
// Example:
//   cep::Timestamp ts = cep::FromMillis(1700000000000);
//   cep::Duration window = std::chrono::minutes(10);
//   bool expired = ts - start >= window;
#pragma once

#include <chrono>
#include <cstdint>

namespace cep {

// A span of time: windows (`Within`), out-of-orderness bounds, gaps.
using Duration = std::chrono::milliseconds;

// A point in event or processing time, in milliseconds since the epoch.
using Timestamp = std::chrono::sys_time<std::chrono::milliseconds>;

// Converts milliseconds since the epoch to a Timestamp.
constexpr Timestamp FromMillis(int64_t millis) {
  return Timestamp(Duration(millis));
}

// Converts a Timestamp to milliseconds since the epoch.
constexpr int64_t ToMillis(Timestamp ts) {
  return ts.time_since_epoch().count();
}

}  // namespace cep
