// DecodeFlatJson: the fast path of RecordDecoder (record_json.hpp) for the
// lines almost every input consists of: one JSON object whose members are
// exactly the declared fields of one event type, each once, with plain
// values. It reads such a line in one pass, without simdjson's padded copy,
// tape or member table, and without the duplicate-name scan.
// Internal: not installed, not under include/.
//
// It accepts a subset of what the DOM path accepts and, on it, yields the
// same values. It declines (returns false, and the caller decodes the line
// with simdjson's DOM parser, which accepts it or says why not) every line
// outside that subset:
//   - anything that is not valid JSON, or not an object;
//   - a member that is not a declared field (the DOM path ignores those,
//     whatever their value), a missing or repeated field;
//   - a member name or a string value with an escape ('\') or a control
//     character; a string that is not valid UTF-8;
//   - a value of the wrong JSON type for its field, a timestamp out of range
//     or not RFC 3339, an integer of more than 18 digits, "-0" as an
//     integer, a double that does not read back finite.
// So error messages and dead letters come from the DOM path alone and do not
// change; tests/flat_json_test.cpp compares the two paths line by line.
//
// Example:
//   std::vector<Value> values;
//   if (io::DecodeFlatJson(line, schema, values)) {
//     return Record(&schema, std::move(values));
//   }
//   ...  // the DOM path
//
// The same in two steps, on two threads (`cep run --parallelism N`: the
// reading thread scans, checks and routes, the worker builds the Record):
//   std::array<io::FlatField, 64> fields;
//   if (io::ScanFlatJson(line, schema, fields)) {
//     io::PackFlatFields(schema, fields, packed);   // reading thread
//     ...
//     io::UnpackFlatFields(packed, schema, values);  // worker
//   }
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "cep/event.hpp"

namespace cep::io {

// Decodes `line` into `values` (resized to the schema's fields) when it is
// in the subset above; false otherwise (`values` then holds anything).
// REQUIRES: `schema` has at most 64 fields (more: always false).
bool DecodeFlatJson(std::string_view line, const Schema& schema,
                    std::vector<Value>& values);

// One field of a line as ScanFlatJson read it, without a heap allocation:
// the member of its declared type is set (a timestamp as epoch
// milliseconds), the others are left as they were. Trivial, so that an
// array of 64 costs nothing to declare.
struct FlatField {
  // kString: the content, a view into the line.
  std::string_view text() const { return {text_data, text_size}; }
  const char* text_data;
  size_t text_size;
  int64_t integer;  // kInt, kTimestamp
  double real;      // kDouble
  bool flag;        // kBool
};
static_assert(std::is_trivially_default_constructible_v<FlatField>);

// DecodeFlatJson's first half: true, with `fields[i]` the value of the
// schema's field i, exactly when DecodeFlatJson takes `line` (which then
// yields the values FlatFieldsToValues makes of `fields`). Strings are views
// into `line`. REQUIRES: fields.size() >= the schema's fields.
bool ScanFlatJson(std::string_view line, const Schema& schema,
                  std::span<FlatField> fields);

// DecodeFlatJson's second half: the Values of fields ScanFlatJson set.
void FlatFieldsToValues(const Schema& schema, std::span<const FlatField> fields,
                        std::vector<Value>& values);

// Appends fields ScanFlatJson set to `out`, packed (each by its declared
// type: a string as a 4-byte length and its bytes, an integer, timestamp or
// double in 8 bytes, a bool in one; native byte order: for this process
// only), for UnpackFlatFields to make the Values of elsewhere.
void PackFlatFields(const Schema& schema, std::span<const FlatField> fields,
                    std::string& out);

// The Values of what PackFlatFields packed for `schema` (those
// FlatFieldsToValues makes); false when `packed` is not exactly that.
bool UnpackFlatFields(std::string_view packed, const Schema& schema,
                      std::vector<Value>& values);

}  // namespace cep::io
