// cep/event.hpp — Record, Schema and Value: the dynamic event that patterns
// written in .cep files (dsl.hpp) run on.
//
// A Schema is one `event` declaration of a pattern file: a type name and
// typed fields, one of which may be the key and one the event time. A Record
// is one event of that type: its schema and one Value per field, in
// declaration order. Compiled conditions read fields by index, never by name.
//
// Example:
//   cep::Schema auth("Auth", {{"card", cep::FieldType::kString},
//                             {"amount", cep::FieldType::kDouble},
//                             {"ts", cep::FieldType::kTimestamp}},
//                    /*key_field=*/0, /*time_field=*/2);
//   cep::Record r(&auth, {cep::Value(std::string("c1")), cep::Value(1.5),
//                         cep::Value(int64_t{1700000000000})});
//   double amount = r.GetDouble(1);
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace cep {

// The type of a declared field. Timestamps are milliseconds since the epoch.
enum class FieldType : uint8_t { kInt, kDouble, kString, kBool, kTimestamp };

// The word a pattern file uses for `type`: "int", "double", "string",
// "bool", "timestamp".
constexpr std::string_view FieldTypeName(FieldType type) {
  switch (type) {
    case FieldType::kInt:
      return "int";
    case FieldType::kDouble:
      return "double";
    case FieldType::kString:
      return "string";
    case FieldType::kBool:
      return "bool";
    case FieldType::kTimestamp:
      return "timestamp";
  }
  return "?";
}

// One field value. std::monostate is null (a key of a pattern without a key
// field); kInt and kTimestamp fields hold int64_t, kDouble double, kBool
// bool, kString std::string. Hashable with absl::Hash, so it can be a key.
using Value = std::variant<std::monostate, int64_t, double, bool, std::string>;

struct FieldDef {
  std::string name;
  FieldType type = FieldType::kInt;
};

// An event type: its name, its fields, which field is the key and which the
// event time. Immutable once built; Records point at it, so it must outlive
// them (PatternFile in dsl.hpp owns the schemas of a file).
class Schema {
 public:
  // `key_field` and `time_field` index `fields`; `id` numbers the schema
  // among the schemas of one file (0, 1, ...), so compiled conditions can
  // keep per-type tables indexed by it.
  Schema(std::string name, std::vector<FieldDef> fields,
         std::optional<size_t> key_field = std::nullopt,
         std::optional<size_t> time_field = std::nullopt, uint32_t id = 0)
      : name_(std::move(name)),
        fields_(std::move(fields)),
        key_field_(key_field),
        time_field_(time_field),
        id_(id) {}

  const std::string& name() const { return name_; }
  const std::vector<FieldDef>& fields() const { return fields_; }
  std::optional<size_t> key_field() const { return key_field_; }
  std::optional<size_t> time_field() const { return time_field_; }
  uint32_t id() const { return id_; }

  // Index of the field called `name`, or nullopt. O(number of fields): for
  // set-up, not for per-event code.
  std::optional<size_t> FieldIndex(std::string_view name) const {
    for (size_t field_idx = 0; field_idx < fields_.size(); ++field_idx) {
      if (fields_[field_idx].name == name) return field_idx;
    }
    return std::nullopt;
  }

 private:
  std::string name_;
  std::vector<FieldDef> fields_;
  std::optional<size_t> key_field_;
  std::optional<size_t> time_field_;
  uint32_t id_;
};

// One event: a schema and one value per field, in the schema's order.
class Record {
 public:
  Record() = default;
  // REQUIRES: values.size() == schema->fields().size(), each value holding
  // the alternative of its field's type (unchecked: decoders guarantee it).
  Record(const Schema* schema, std::vector<Value> values)
      : schema_(schema), values_(std::move(values)) {}

  // REQUIRES: the record was built with a schema.
  const Schema& schema() const { return *schema_; }
  const Schema* schema_ptr() const { return schema_; }
  size_t size() const { return values_.size(); }
  const Value& operator[](size_t field_idx) const { return values_[field_idx]; }
  const std::vector<Value>& values() const { return values_; }

  // Typed reads for compiled conditions. REQUIRES: the field holds that
  // alternative (kInt and kTimestamp fields: GetInt).
  int64_t GetInt(size_t field_idx) const {
    return *std::get_if<int64_t>(&values_[field_idx]);
  }
  double GetDouble(size_t field_idx) const {
    return *std::get_if<double>(&values_[field_idx]);
  }
  bool GetBool(size_t field_idx) const {
    return *std::get_if<bool>(&values_[field_idx]);
  }
  std::string_view GetString(size_t field_idx) const {
    return *std::get_if<std::string>(&values_[field_idx]);
  }

  // Equal schemas (same object) and equal values.
  friend bool operator==(const Record& a, const Record& b) {
    return a.schema_ == b.schema_ && a.values_ == b.values_;
  }

 private:
  const Schema* schema_ = nullptr;
  std::vector<Value> values_;
};

}  // namespace cep
