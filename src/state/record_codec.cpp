// The codecs of pattern files' keys (Value) and events (Record).
#include <cassert>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

#include "cep/codec.hpp"
#include "cep/event.hpp"
#include "cep/key_state_codec.hpp"

namespace cep {
namespace {

enum ValueTag : uint8_t {
  kNullTag = 0,
  kIntTag = 1,
  kDoubleTag = 2,
  kBoolTag = 3,
  kStringTag = 4,
};

absl::Status GetBool(std::string_view& in, bool& value) {
  if (in.empty()) return absl::DataLossError("truncated bool");
  const auto byte = static_cast<uint8_t>(in.front());
  if (byte > 1) {
    return absl::DataLossError(
        absl::StrCat("a bool must be 0 or 1, not ", byte));
  }
  in.remove_prefix(1);
  value = byte == 1;
  return absl::OkStatus();
}

// Reads a value of `type` (written by RecordCodec::Encode) into `value`.
absl::Status GetTypedValue(std::string_view& in, FieldType type, Value& value) {
  switch (type) {
    case FieldType::kInt:
    case FieldType::kTimestamp: {
      int64_t number = 0;
      if (!internal::GetSignedVarint(in, number)) {
        return absl::DataLossError("truncated or corrupt integer");
      }
      value = number;
      return absl::OkStatus();
    }
    case FieldType::kDouble: {
      double number = 0;
      if (!internal::GetDouble(in, number)) {
        return absl::DataLossError("truncated double");
      }
      value = number;
      return absl::OkStatus();
    }
    case FieldType::kBool: {
      bool flag = false;
      if (absl::Status status = GetBool(in, flag); !status.ok()) return status;
      value = flag;
      return absl::OkStatus();
    }
    case FieldType::kString: {
      std::string_view bytes;
      if (!internal::GetLengthPrefixed(in, bytes)) {
        return absl::DataLossError("truncated or corrupt string");
      }
      value = std::string(bytes);
      return absl::OkStatus();
    }
  }
  return absl::DataLossError("unknown field type");
}

}  // namespace

void ValueCodec::Encode(const Value& value, std::string& out) const {
  if (const auto* number = std::get_if<int64_t>(&value)) {
    out.push_back(static_cast<char>(kIntTag));
    internal::PutSignedVarint(out, *number);
  } else if (const auto* real = std::get_if<double>(&value)) {
    out.push_back(static_cast<char>(kDoubleTag));
    internal::PutDouble(out, *real);
  } else if (const auto* flag = std::get_if<bool>(&value)) {
    out.push_back(static_cast<char>(kBoolTag));
    out.push_back(*flag ? 1 : 0);
  } else if (const auto* text = std::get_if<std::string>(&value)) {
    out.push_back(static_cast<char>(kStringTag));
    internal::PutLengthPrefixed(out, *text);
  } else {
    out.push_back(static_cast<char>(kNullTag));
  }
}

absl::Status ValueCodec::Decode(std::string_view& in, Value& value) const {
  if (in.empty()) return absl::DataLossError("value: truncated before its tag");
  const auto tag = static_cast<uint8_t>(in.front());
  in.remove_prefix(1);
  absl::Status status;
  switch (tag) {
    case kNullTag:
      value = std::monostate{};
      return absl::OkStatus();
    case kIntTag:
      status = GetTypedValue(in, FieldType::kInt, value);
      break;
    case kDoubleTag:
      status = GetTypedValue(in, FieldType::kDouble, value);
      break;
    case kBoolTag:
      status = GetTypedValue(in, FieldType::kBool, value);
      break;
    case kStringTag:
      status = GetTypedValue(in, FieldType::kString, value);
      break;
    default:
      return absl::DataLossError(
          absl::StrCat("value: unknown tag ", tag, " (0 to 4 are known)"));
  }
  if (!status.ok()) {
    return absl::DataLossError(absl::StrCat("value: ", status.message()));
  }
  return absl::OkStatus();
}

void RecordCodec::Encode(const Record& value, std::string& out) const {
  const Schema* schema = value.schema_ptr();
  if (schema == nullptr) {
    internal::PutVarint(out, 0);
    return;
  }
  internal::PutVarint(out, uint64_t{schema->id()} + 1);
  const auto& fields = schema->fields();
  // A Record holds one value per field (REQUIRES of its constructor).
  assert(value.size() == fields.size());
  for (size_t field_idx = 0; field_idx < fields.size(); ++field_idx) {
    static const Value kMissing;
    const Value& v = field_idx < value.size() ? value[field_idx] : kMissing;
    switch (fields[field_idx].type) {
      case FieldType::kInt:
      case FieldType::kTimestamp: {
        const auto* number = std::get_if<int64_t>(&v);
        assert(number != nullptr);  // the Record broke its REQUIRES
        internal::PutSignedVarint(out, number != nullptr ? *number : 0);
        break;
      }
      case FieldType::kDouble: {
        const auto* real = std::get_if<double>(&v);
        assert(real != nullptr);  // the Record broke its REQUIRES
        internal::PutDouble(out, real != nullptr ? *real : 0.0);
        break;
      }
      case FieldType::kBool: {
        const auto* flag = std::get_if<bool>(&v);
        assert(flag != nullptr);  // the Record broke its REQUIRES
        out.push_back(flag != nullptr && *flag ? 1 : 0);
        break;
      }
      case FieldType::kString: {
        const auto* text = std::get_if<std::string>(&v);
        assert(text != nullptr);  // the Record broke its REQUIRES
        internal::PutLengthPrefixed(
            out, text != nullptr ? std::string_view(*text) : "");
        break;
      }
    }
  }
}

absl::Status RecordCodec::Decode(std::string_view& in, Record& value) const {
  uint64_t id_plus_one = 0;
  if (!internal::GetVarint(in, id_plus_one)) {
    return absl::DataLossError("record: truncated or corrupt schema id");
  }
  if (id_plus_one == 0) {
    value = Record();
    return absl::OkStatus();
  }
  const uint64_t id = id_plus_one - 1;
  if (id >= schemas_by_id_.size() || schemas_by_id_[id] == nullptr) {
    return absl::DataLossError(
        absl::StrCat("record: schema id ", id, " is unknown (",
                     schemas_by_id_.size(), " schemas are known)"));
  }
  const Schema* schema = schemas_by_id_[id];
  const auto& fields = schema->fields();
  std::vector<Value> values(fields.size());
  for (size_t field_idx = 0; field_idx < fields.size(); ++field_idx) {
    if (absl::Status status =
            GetTypedValue(in, fields[field_idx].type, values[field_idx]);
        !status.ok()) {
      return absl::DataLossError(
          absl::StrCat("record of type '", schema->name(), "': field '",
                       fields[field_idx].name, "' (",
                       std::string(FieldTypeName(fields[field_idx].type)),
                       "): ", status.message()));
    }
  }
  value = Record(schema, std::move(values));
  return absl::OkStatus();
}

// The instantiation everyone uses (see key_state_codec.hpp).
template void EncodeKeyState<Record>(const KeyState<Record>&,
                                     const Codec<Record>&, std::string&);
template absl::Status DecodeKeyState<Record>(std::string_view,
                                             const Codec<Record>&,
                                             KeyState<Record>&);

}  // namespace cep
