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
#include <string>

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

// A duration as the pattern language writes it, in the largest unit that
// divides it: 30m, 90s, 250ms, 1d, 0ms.
inline std::string FormatDuration(Duration duration) {
  struct Unit {
    int64_t millis;
    const char* name;
  };
  const int64_t millis = duration.count();
  for (const Unit unit : {Unit{86400000, "d"}, Unit{3600000, "h"},
                          Unit{60000, "m"}, Unit{1000, "s"}}) {
    if (millis != 0 && millis % unit.millis == 0) {
      return std::to_string(millis / unit.millis) + unit.name;
    }
  }
  return std::to_string(millis) + "ms";
}

}  // namespace cep
