// cep/record_csv.hpp — events in as CSV (RFC 4180), the tabular sibling of
// the JSON lines RecordDecoder reads (record_json.hpp).
//
// RecordCsvDecoder turns the rows of a CSV input into Records of one of a
// PatternFile's event types. The first line is the header; ReadHeader() takes
// it, Decode() each data row after it. Rules:
//   - fields are separated by commas; a field may be enclosed in double
//     quotes, and then may hold commas, and "" stands for one quote; a
//     quoted field must run from the separator to the separator (nothing
//     before the opening quote or after the closing one), and an unquoted
//     field holds no quote; spaces are part of a field;
//   - one row per line: a line break inside quotes is not supported; a CR
//     before the line's end (CRLF files) is dropped; blank lines are not rows
//     (the caller skips them, IsBlankLine in record_json.hpp);
//   - the header names the columns; names are unique (empty names excepted:
//     unnamed columns are ignored), columns that are not declared fields are
//     ignored, and a UTF-8 byte order mark before it is dropped;
//   - with one event type every declared field must be a column; with
//     several, a "type" column names each row's type, and that type's fields
//     must all be columns (checked per row, so a file may hold columns for
//     some of the types only);
//   - every row has as many fields as the header;
//   - a row is valid UTF-8 ("column 2: invalid UTF-8" names the first field
//     that is not), as JSON lines are;
//   - values: int a decimal integer within int64 ("-42"), double what
//     std::from_chars reads in general format, finite ("1.5", "2e3"), string
//     the text as is (quotes removed), bool true or false, timestamp an
//     integer (epoch milliseconds) or an RFC 3339 date-time
//     ("2026-01-01T10:00:00Z", "2026-01-01T10:00:00.250+01:00"); an empty
//     unquoted field is a missing value, which only a string field accepts
//     (as ""); an empty quoted field ("") is an empty value.
// Errors are kInvalidArgument whose message is the reason only ("missing
// value for field 'card'"); the caller adds "FILE:LINE: error: ".
//
// Example:
//   cep::RecordCsvDecoder decoder(file);
//   CEP_RETURN_IF_ERROR(decoder.ReadHeader(first_line));
//   while (std::getline(in, line)) {
//     if (cep::IsBlankLine(line)) continue;
//     absl::StatusOr<cep::Record> record = decoder.Decode(line);
//     if (!record.ok()) Report(name, line_no, record.status().message());
//   }
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "cep/dsl.hpp"
#include "cep/event.hpp"

namespace cep {

// Decodes CSV rows into Records of a fixed set of schemas. Keeps its split
// buffers between calls, so steady-state decoding allocates only the
// Record's values. Not thread-safe; one per thread.
class RecordCsvDecoder {
 public:
  // Decodes into the schemas of `file`, which must outlive the decoder.
  explicit RecordCsvDecoder(const PatternFile& file);
  // Decodes into `schemas` (ids 0..n-1, as in a PatternFile), which must
  // outlive the decoder. REQUIRES: schemas non-empty (else every call fails
  // with kFailedPrecondition).
  explicit RecordCsvDecoder(std::vector<const Schema*> schemas);
  ~RecordCsvDecoder();
  RecordCsvDecoder(RecordCsvDecoder&&) noexcept;
  RecordCsvDecoder& operator=(RecordCsvDecoder&&) noexcept;

  // Takes `line` (no newline) as the header row, replacing any earlier one.
  // Errors: kInvalidArgument for an empty header, a duplicate column name,
  // a missing field column (one event type) or a missing "type" column
  // (several), or a malformed line; the decoder then has no header.
  // kFailedPrecondition when there are no schemas.
  [[nodiscard]] absl::Status ReadHeader(std::string_view line);

  // Whether a header has been read successfully.
  bool has_header() const;

  // The Record that the data row `line` (no newline) holds.
  // Errors: kInvalidArgument naming the reason (see the banner);
  // kFailedPrecondition before a successful ReadHeader().
  [[nodiscard]] absl::StatusOr<Record> Decode(std::string_view line);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cep
