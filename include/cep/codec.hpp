// cep/codec.hpp — turning events and keys into bytes and back.
//
// A Codec<T> appends a value to a string and reads one back from the front of
// a string_view, consuming what it read. A serializing StateBackend
// (state.hpp) uses one for its keys and one for its events; EncodeKeyState
// (key_state_codec.hpp) uses the event codec for the events a key's shared
// buffer holds. Decoding never trusts its input: truncated or corrupt bytes
// give kDataLoss, never a crash, and no length read from the input makes it
// allocate more than the input could hold.
//
// Provided: TrivialCodec<T> (the bytes of a trivially copyable T),
// StringCodec, ValueCodec (keys of pattern files) and RecordCodec (events of
// pattern files). The encodings are little-endian and compact: integers are
// varints (signed ones zigzag-coded), doubles their 8 IEEE bytes.
//
// Example:
//   std::vector<const cep::Schema*> schemas;  // schemas[i]->id() == i
//   for (const auto& s : file.schemas()) schemas.push_back(s.get());
//   cep::RecordCodec records(std::move(schemas));
//   std::string bytes;
//   records.Encode(record, bytes);
//   std::string_view in = bytes;
//   cep::Record back;
//   CEP_RETURN_IF_ERROR(records.Decode(in, back));  // `in` is now empty
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

#include "cep/event.hpp"
#include "cep/internal/dewey_number.hpp"

namespace cep {

template <typename T>
class Codec {
 public:
  virtual ~Codec() = default;
  // Appends the encoding of `value` to `out`.
  virtual void Encode(const T& value, std::string& out) const = 0;
  // Reads one value from the front of `in` into `value` and removes what it
  // read from `in`. kDataLoss when `in` is truncated or corrupt; then `in`
  // and `value` are unspecified (but valid).
  [[nodiscard]] virtual absl::Status Decode(std::string_view& in,
                                            T& value) const = 0;
};

namespace internal {

// Appends `value` as a base-128 varint: 7 bits a byte, low bits first, the
// high bit set on every byte but the last (1 to 10 bytes).
inline void PutVarint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

// Reads a varint from the front of `in`. False when `in` ends inside it or
// it does not fit 64 bits; `in` is then unspecified.
inline bool GetVarint(std::string_view& in, uint64_t& value) {
  value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in.empty()) return false;
    const auto byte = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    if (shift == 63 && byte > 1) return false;
    value |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

// As GetVarint, but false also when the value does not fit 32 bits.
inline bool GetVarint32(std::string_view& in, uint32_t& value) {
  uint64_t wide = 0;
  if (!GetVarint(in, wide) || wide > UINT32_MAX) return false;
  value = static_cast<uint32_t>(wide);
  return true;
}

// Zigzag coding maps signed to unsigned so that small magnitudes stay small:
// 0, -1, 1, -2, ... become 0, 1, 2, 3, ...
inline uint64_t ZigZag(int64_t value) {
  return (static_cast<uint64_t>(value) << 1) ^
         static_cast<uint64_t>(value >> 63);
}
inline int64_t UnZigZag(uint64_t value) {
  return static_cast<int64_t>((value >> 1) ^ (~(value & 1) + 1));
}

inline void PutSignedVarint(std::string& out, int64_t value) {
  PutVarint(out, ZigZag(value));
}
inline bool GetSignedVarint(std::string_view& in, int64_t& value) {
  uint64_t raw = 0;
  if (!GetVarint(in, raw)) return false;
  value = UnZigZag(raw);
  return true;
}

// 8 bytes, little-endian.
inline void PutFixed64(std::string& out, uint64_t value) {
  for (int byte = 0; byte < 8; ++byte) {
    out.push_back(static_cast<char>(value >> (8 * byte)));
  }
}
inline bool GetFixed64(std::string_view& in, uint64_t& value) {
  if (in.size() < 8) return false;
  value = 0;
  for (int byte = 0; byte < 8; ++byte) {
    value |= static_cast<uint64_t>(static_cast<uint8_t>(in[byte]))
             << (8 * byte);
  }
  in.remove_prefix(8);
  return true;
}

// A double as its IEEE bits (NaN payloads and -0.0 survive).
inline void PutDouble(std::string& out, double value) {
  PutFixed64(out, std::bit_cast<uint64_t>(value));
}
inline bool GetDouble(std::string_view& in, double& value) {
  uint64_t bits = 0;
  if (!GetFixed64(in, bits)) return false;
  value = std::bit_cast<double>(bits);
  return true;
}

// A varint length, then the bytes.
inline void PutLengthPrefixed(std::string& out, std::string_view bytes) {
  PutVarint(out, bytes.size());
  out.append(bytes);
}
// Reads a length-prefixed string as a view into `in`. False when the length
// is larger than what is left.
inline bool GetLengthPrefixed(std::string_view& in, std::string_view& bytes) {
  uint64_t length = 0;
  if (!GetVarint(in, length) || length > in.size()) return false;
  bytes = in.substr(0, static_cast<size_t>(length));
  in.remove_prefix(static_cast<size_t>(length));
  return true;
}

// A Dewey number (version of a partial match): its length, then its digits,
// all varints. GetDeweyNumber rejects an empty one (the engine never makes
// one, and it would break DeweyNumber::Increase).
inline void PutDeweyNumber(std::string& out, const DeweyNumber& version) {
  PutVarint(out, version.length());
  for (size_t i = 0; i < version.length(); ++i) {
    PutVarint(out, version.digit(i));
  }
}
inline bool GetDeweyNumber(std::string_view& in, DeweyNumber& version) {
  uint32_t length = 0;
  if (!GetVarint32(in, length) || length == 0) return false;
  uint32_t digit = 0;
  if (!GetVarint32(in, digit)) return false;
  version = DeweyNumber(digit);
  for (uint32_t i = 1; i < length; ++i) {
    if (!GetVarint32(in, digit)) return false;
    version.Append(digit);
  }
  return true;
}

}  // namespace internal

// The object representation of a trivially copyable T, sizeof(T) bytes.
// NOTE: the bytes are the host's (endianness, padding); use it within one
// build, not as an exchange format. Decode checks only the length, except for
// bool (0 or 1): T must be valid for every bit pattern otherwise (integers,
// doubles, structs of them; not enums with a fixed set of values).
template <typename T>
class TrivialCodec final : public Codec<T> {
  static_assert(std::is_trivially_copyable_v<T>,
                "TrivialCodec copies bytes: T must be trivially copyable");

 public:
  void Encode(const T& value, std::string& out) const override {
    char bytes[sizeof(T)];
    std::memcpy(bytes, &value, sizeof(T));
    out.append(bytes, sizeof(T));
  }
  [[nodiscard]] absl::Status Decode(std::string_view& in,
                                    T& value) const override {
    if (in.size() < sizeof(T)) {
      return absl::DataLossError(absl::StrCat(
          "truncated: a value of ", sizeof(T), " bytes, ", in.size(), " left"));
    }
    if constexpr (std::is_same_v<T, bool>) {
      const auto byte = static_cast<uint8_t>(in.front());
      if (byte > 1) {
        return absl::DataLossError(
            absl::StrCat("a bool must be 0 or 1, not ", byte));
      }
      value = byte == 1;
    } else {
      std::memcpy(&value, in.data(), sizeof(T));
    }
    in.remove_prefix(sizeof(T));
    return absl::OkStatus();
  }
};

// A varint length, then the bytes.
class StringCodec final : public Codec<std::string> {
 public:
  void Encode(const std::string& value, std::string& out) const override {
    internal::PutLengthPrefixed(out, value);
  }
  [[nodiscard]] absl::Status Decode(std::string_view& in,
                                    std::string& value) const override {
    std::string_view bytes;
    if (!internal::GetLengthPrefixed(in, bytes)) {
      return absl::DataLossError("truncated or corrupt string");
    }
    value.assign(bytes);
    return absl::OkStatus();
  }
};

// A Value (the key of a pattern file's events): a tag byte (0 null, 1 int,
// 2 double, 3 bool, 4 string), then an int as a zigzag varint, a double as
// 8 bytes, a bool as one byte (0 or 1), a string length-prefixed.
class ValueCodec final : public Codec<Value> {
 public:
  void Encode(const Value& value, std::string& out) const override;
  [[nodiscard]] absl::Status Decode(std::string_view& in,
                                    Value& value) const override;
};

// A Record of a pattern file: its schema id plus one, as a varint (0 for a
// Record built without a schema, which has no values), then each field's
// value by the field's declared type, without tags: kInt and kTimestamp a
// zigzag varint, kDouble 8 bytes, kBool one byte (0 or 1), kString
// length-prefixed.
class RecordCodec final : public Codec<Record> {
 public:
  // `schemas_by_id[id]` is the schema with that id (Schema::id()); decoded
  // records point at these schemas, which must outlive them. Null entries
  // are allowed (ids that no record may carry).
  explicit RecordCodec(std::vector<const Schema*> schemas_by_id)
      : schemas_by_id_(std::move(schemas_by_id)) {}

  // REQUIRES: each value holds its field's alternative (as Record does);
  // a value that does not is written as 0 / false / "" (asserted in debug
  // builds).
  void Encode(const Record& value, std::string& out) const override;
  // kDataLoss naming the problem: a schema id without a schema, truncated
  // input, a bool byte other than 0 or 1.
  [[nodiscard]] absl::Status Decode(std::string_view& in,
                                    Record& value) const override;

 private:
  std::vector<const Schema*> schemas_by_id_;
};

}  // namespace cep
