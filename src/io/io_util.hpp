// Helpers shared by the input decoders (record_json.cpp, record_csv.cpp):
// message building, the timestamp range and parsing, and the wording of the
// value errors both decoders give. Internal: not installed, not under
// include/. The functions are defined in record_json.cpp.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"

#include "cep/event.hpp"
#include "cep/record_json.hpp"

namespace cep::io {

// Years 0000 to 9999, the range RFC 3339 can write: keeps every timestamp
// far from int64 overflow in window arithmetic (run.cpp relies on it).
// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z.
inline constexpr int64_t kMinMillis = -62167219200000;
inline constexpr int64_t kMaxMillis = 253402300799999;

// absl::StrCat takes absl::string_view, which in Debian's abseil is not
// std::string_view; this takes both, and integers.
inline void AppendPart(std::string& out, std::string_view part) { out += part; }
template <std::integral T>
void AppendPart(std::string& out, T part) {
  out += std::to_string(part);
}
template <typename... Parts>
std::string Cat(const Parts&... parts) {
  std::string out;
  (AppendPart(out, parts), ...);
  return out;
}

inline absl::Status Invalid(std::string message) {
  return absl::InvalidArgumentError(std::move(message));
}

// `text` in single quotes for a message, control characters escaped as in
// JSON, so a message stays on one line.
inline std::string Quoted(std::string_view text) {
  std::string escaped;
  AppendJsonString(escaped, text);
  return Cat("'", std::string_view(escaped).substr(1, escaped.size() - 2), "'");
}

// What ParseTimestampText found.
enum class TimestampProblem {
  kNone,
  kFormat,  // not the shape of RFC 3339
  kDate,    // the right shape, but no such date or time (2023-02-30, 25:00)
  kRange,   // a valid date whose offset moves it outside kMinMillis..kMaxMillis
};

struct ParsedTimestamp {
  int64_t millis = 0;
  TimestampProblem problem = TimestampProblem::kNone;
};

// The offset of the first byte of `text` that is not valid UTF-8 (RFC 3629:
// no overlong forms, surrogates or code points beyond U+10FFFF), if any.
std::optional<size_t> FirstInvalidUtf8(std::string_view text);

// The 1-based column of byte `offset` of `line`, counting characters: UTF-8
// continuation bytes do not start a column.
size_t ColumnOf(std::string_view line, size_t offset);

// Parses an RFC 3339 date-time (see ParseRfc3339 in cep/record_json.hpp)
// to epoch milliseconds.
ParsedTimestamp ParseTimestampText(std::string_view text);

// The error for a timestamp string that ParseTimestampText rejected:
// "field 'ts': '2023-02-30T10:00:00Z' is not a valid date".
std::string TimestampTextError(std::string_view field, std::string_view text,
                               TimestampProblem problem);

// The error for epoch milliseconds outside kMinMillis..kMaxMillis but
// within 64 bits; `number` as written.
std::string TimestampRangeError(std::string_view field,
                                std::string_view number);

// The error for an integer that does not fit in 64 bits (`number` as
// written, a leading '-' for negative ones) read for a field of `type`
// (kInt or kTimestamp).
std::string IntegerOverflowError(std::string_view field, FieldType type,
                                 std::string_view number);

}  // namespace cep::io
