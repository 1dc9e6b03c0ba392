// cep/record_json.hpp — events in and matches out as JSON lines (DESIGN.md,
// "Files and outputs").
//
// RecordDecoder turns one line of a JSONL input into a Record of one of a
// PatternFile's event types. Rules:
//   - one JSON object per line; blank lines are not events (IsBlankLine);
//   - when the file declares several event types, the "type" member names
//     one of them; with one type it is optional and not looked at;
//   - every declared field is required, with a matching JSON type: int an
//     integer, double any number, string a string, bool true/false,
//     timestamp an integer (epoch milliseconds) or an RFC 3339 string
//     ("2026-01-01T10:00:00Z", "2026-01-01T10:00:00.250+01:00");
//   - members that are not declared fields are ignored;
//   - a member name may occur once ("duplicate member 'amount'" otherwise:
//     JSON leaves the meaning of a repeated name open).
// Errors are kInvalidArgument whose message is the reason only ("missing
// field 'card'"); the caller adds "FILE:LINE: error: ".
//
// FormatMatch / FormatLate write the output lines:
//   {"pattern":"NAME","key":KEY,"events":{"STAGE":[{"seq":N,...}],...}}
//   {"seq":N,...fields}
// without spaces, fields in declaration order, timestamps as integer
// milliseconds, doubles in the shortest form that reads back exactly (with
// ".0" when it would read as an integer; NaN and infinities as null).
// Events carry "type":"T" right after "seq" when their pattern (or, for late
// events, the file) has several event types. Timed-out partial matches add
// ,"timeout":true at the end.
//
// Example:
//   cep::RecordDecoder decoder(file);
//   absl::StatusOr<cep::Record> record = decoder.Decode(line);
//   if (!record.ok()) Report(name, line_no, record.status().message());
//   ...
//   out << cep::FormatMatch(file.patterns()[0], key, match) << '\n';
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

#include "cep/dsl.hpp"
#include "cep/event.hpp"
#include "cep/match.hpp"
#include "cep/time.hpp"

namespace cep {

// How RecordDecoder reads a line. Both give the same Records and the same
// errors; kFast is faster on the lines it takes.
enum class JsonParsing : uint8_t {
  // With one event type, a line that is one object holding exactly its
  // declared fields, each once, with plain values (no escapes in strings)
  // is read in one pass by a strict scanner of its own; every other line
  // (and with several event types, every line) goes through kDom.
  kFast,
  // Every line through simdjson's validating DOM parser: the reference
  // kFast is tested against.
  kDom,
};

// Decodes JSON lines into Records of a fixed set of schemas. Keeps parser
// buffers between calls, so steady-state decoding allocates only the
// Record's values. Not thread-safe; one per thread.
class RecordDecoder {
 public:
  // Decodes into the schemas of `file`, which must outlive the decoder.
  explicit RecordDecoder(const PatternFile& file,
                         JsonParsing parsing = JsonParsing::kFast);
  // Decodes into `schemas` (ids 0..n-1, as in a PatternFile), which must
  // outlive the decoder. REQUIRES: schemas non-empty.
  explicit RecordDecoder(std::vector<const Schema*> schemas,
                         JsonParsing parsing = JsonParsing::kFast);
  ~RecordDecoder();
  RecordDecoder(RecordDecoder&&) noexcept;
  RecordDecoder& operator=(RecordDecoder&&) noexcept;

  // The Record that `line` (one JSON object, no newline) holds.
  // Errors: kInvalidArgument naming the reason (see the banner).
  [[nodiscard]] absl::StatusOr<Record> Decode(std::string_view line);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Whether `line` holds only blanks (space, tab, CR): such lines are skipped.
bool IsBlankLine(std::string_view line);

// Parses an RFC 3339 date-time ("2026-01-01T10:00:00Z", fraction and offset
// optional parts: "2026-01-01T10:00:00.5-05:00"; 'T' may be 't' or a space,
// 'Z' may be 'z'). Fractions beyond milliseconds are truncated. Years 0000
// to 9999. Errors: kInvalidArgument.
[[nodiscard]] absl::StatusOr<Timestamp> ParseRfc3339(std::string_view text);

// Whether timed-out partial matches are written as such.
enum class MatchKind : uint8_t { kMatch, kTimeout };

// Appends one match line (no newline) to `out`. `with_types` adds "type"
// to every event. Fields follow each event's schema.
void AppendMatchJson(std::string& out, std::string_view pattern,
                     const Value& key, const Match<Record>& match,
                     MatchKind kind, bool with_types);

// The match line of `pattern` (with "type" when it runs on several types).
std::string FormatMatch(const FilePattern& pattern, const Value& key,
                        const Match<Record>& match,
                        MatchKind kind = MatchKind::kMatch);

// Appends {"seq":N,...fields} (with "type" when `with_type`) to `out`.
void AppendEventJson(std::string& out, const Record& record, uint64_t seq,
                     bool with_type);

// The late-event line of `record`: {"seq":N,...fields}, with "type" when
// `file` declares several event types.
std::string FormatLate(const PatternFile& file, const Record& record,
                       uint64_t seq);

// Appends `value` as JSON: null, an integer, a number (see the banner),
// true/false or an escaped string.
void AppendValueJson(std::string& out, const Value& value);

// Appends `text` as a JSON string with quotes; `"`, `\` and control
// characters escaped.
void AppendJsonString(std::string& out, std::string_view text);

}  // namespace cep
