// DecodeFlatJson: see flat_json.hpp. Every check that fails returns false:
// the DOM path then decides what the line holds.

#include "flat_json.hpp"

#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "cep/event.hpp"

#include "io_util.hpp"

namespace cep::io {
namespace {

// Integers of up to 18 digits fit in int64_t whatever the digits.
constexpr size_t kMaxIntegerDigits = 18;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The eight-bytes-at-a-time paths read the first byte as the lowest; on
// other machines the byte-by-byte paths do all the work.
constexpr bool kWordPaths = std::endian::native == std::endian::little;

constexpr uint64_t kOnes = 0x0101010101010101ull;
constexpr uint64_t kHighs = 0x8080808080808080ull;

// The bytes of `word` that end a plain run of string content: a quote, a
// backslash, a control character or a byte of a multi-byte UTF-8
// character, each marked by its high bit. Bytes after the first such byte
// may be marked wrongly (a borrow of the subtraction); the first is exact.
uint64_t RunStops(uint64_t word) {
  auto zero_bytes = [](uint64_t v) { return (v - kOnes) & ~v & kHighs; };
  const uint64_t controls = (word - 0x20 * kOnes) & ~word & kHighs;
  return zero_bytes(word ^ ('"' * kOnes)) | zero_bytes(word ^ ('\\' * kOnes)) |
         controls | (word & kHighs);
}

// Whether the eight bytes of `word` are all ASCII digits.
bool EightDigits(uint64_t word) {
  return (word & 0xF0F0F0F0F0F0F0F0ull) == 0x3030303030303030ull &&
         ((word + 0x0606060606060606ull) & 0xF0F0F0F0F0F0F0F0ull) ==
             0x3030303030303030ull;
}

// The number eight ASCII digits write, the first byte (lowest in memory)
// the most significant. REQUIRES: EightDigits(word).
uint64_t EightDigitsValue(uint64_t word) {
  word -= 0x3030303030303030ull;
  word = (word * 10 + (word >> 8)) & 0x00FF00FF00FF00FFull;
  word = (word * 100 + (word >> 16)) & 0x0000FFFF0000FFFFull;
  return (word * 10000 + (word >> 32)) & 0xFFFFFFFFull;
}

// 10^0 .. 10^22: the powers of ten a double holds exactly.
constexpr double kExactPowers[] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

// A number token as Scanner::Number reads it.
struct NumberToken {
  std::string_view text;
  bool negative = false;
  bool integer = true;  // neither fraction nor exponent
  bool exponent = false;
  // Every digit of the integer and fraction parts, as one integer, when
  // there are at most 19 of them (`digits` counts them all).
  uint64_t mantissa = 0;
  size_t digits = 0;
  size_t fraction_digits = 0;
};

// A one-pass reader over the line; `pos` moves forward only.
class Scanner {
 public:
  explicit Scanner(std::string_view line) : line_(line) {}

  bool AtEnd() const { return pos_ == line_.size(); }
  // The next character, or NUL at the end.
  char Peek() const { return pos_ < line_.size() ? line_[pos_] : '\0'; }

  // JSON whitespace (RFC 8259): space, tab, line feed, carriage return.
  void SkipBlanks() {
    while (pos_ < line_.size()) {
      const char c = line_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
      ++pos_;
    }
  }

  bool Take(char c) {
    if (pos_ >= line_.size() || line_[pos_] != c) return false;
    ++pos_;
    return true;
  }

  // A string without escapes or control characters, valid UTF-8: its
  // content (without the quotes).
  bool String(std::string_view& content) {
    if (!Take('"')) return false;
    const size_t begin = pos_;
    // Eight bytes at a time up to the first that ends a plain run, then
    // byte by byte.
    uint64_t word = 0;
    while (kWordPaths && pos_ + sizeof(word) <= line_.size()) {
      std::memcpy(&word, line_.data() + pos_, sizeof(word));
      if (const uint64_t stops = RunStops(word); stops != 0) {
        pos_ += static_cast<size_t>(__builtin_ctzll(stops)) / 8;
        break;
      }
      pos_ += sizeof(word);
    }
    bool ascii = true;
    for (; pos_ < line_.size(); ++pos_) {
      const auto c = static_cast<unsigned char>(line_[pos_]);
      if (c == '"') break;
      if (c == '\\' || c < 0x20) return false;
      if (c >= 0x80) ascii = false;
    }
    if (pos_ == line_.size()) return false;  // unclosed
    content = line_.substr(begin, pos_ - begin);
    ++pos_;
    return ascii || !FirstInvalidUtf8(content).has_value();
  }

  // The string `name` (of plain ASCII: no quote, backslash, control or
  // multi-byte character), as String() would read it, without scanning
  // for its end; false, moving nothing, when the next string is another.
  bool Name(std::string_view name) {
    const size_t size = name.size();
    if (pos_ + size + 2 > line_.size() || line_[pos_] != '"' ||
        line_[pos_ + 1 + size] != '"') {
      return false;
    }
    for (size_t idx = 0; idx < size; ++idx) {
      const auto c = static_cast<unsigned char>(name[idx]);
      if (line_[pos_ + 1 + idx] != name[idx] || c < 0x20 || c == '"' ||
          c == '\\' || c >= 0x80) {
        return false;
      }
    }
    pos_ += size + 2;
    return true;
  }

  // A number by RFC 8259's grammar.
  bool Number(NumberToken& number) {
    const size_t begin = pos_;
    number.negative = Take('-');
    if (Take('0')) {
      number.digits = 1;  // no more integer digits after a leading zero
    } else if (!Digits(number)) {
      return false;
    }
    if (Take('.')) {
      number.integer = false;
      const size_t before = number.digits;
      if (!Digits(number)) return false;
      number.fraction_digits = number.digits - before;
    }
    if (Take('e') || Take('E')) {
      number.integer = false;
      number.exponent = true;
      if (!Take('+')) Take('-');
      NumberToken exponent;
      if (!Digits(exponent)) return false;
    }
    number.text = line_.substr(begin, pos_ - begin);
    return true;
  }

  // The literal `word` (true, false).
  bool Word(std::string_view word) {
    if (line_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

 private:
  // One or more digits, added to `number`'s mantissa.
  bool Digits(NumberToken& number) {
    const size_t begin = pos_;
    uint64_t mantissa = number.mantissa;
    // Eight digits at a time (epoch milliseconds have 13), then one by one.
    uint64_t word = 0;
    while (kWordPaths && pos_ + sizeof(word) <= line_.size()) {
      std::memcpy(&word, line_.data() + pos_, sizeof(word));
      if (!EightDigits(word)) break;
      mantissa = mantissa * 100000000 + EightDigitsValue(word);
      pos_ += sizeof(word);
    }
    while (pos_ < line_.size() && IsDigit(line_[pos_])) {
      mantissa = mantissa * 10 + static_cast<uint64_t>(line_[pos_] - '0');
      ++pos_;
    }
    number.digits += pos_ - begin;
    number.mantissa = mantissa;  // meaningful while digits <= 19
    return pos_ > begin;
  }

  std::string_view line_;
  size_t pos_ = 0;
};

// An integer token of at most kMaxIntegerDigits digits, not "-0" (the DOM
// parser may read that as the double -0.0).
bool SmallInteger(const NumberToken& number, int64_t& value) {
  if (!number.integer || number.digits > kMaxIntegerDigits) return false;
  if (number.negative && number.mantissa == 0) return false;
  const auto magnitude = static_cast<int64_t>(number.mantissa);
  value = number.negative ? -magnitude : magnitude;
  return true;
}

// A number with a fraction or an exponent, as the nearest double; false
// when it is out of the double range.
bool Real(const NumberToken& number, double& value) {
  // Up to 15 digits and 22 fraction digits, both the digits as an integer
  // and the power of ten are exact doubles, so one division rounds
  // correctly (Clinger's fast path), as the DOM parser and from_chars do.
  if (!number.exponent && number.digits <= 15 && number.fraction_digits <= 22) {
    const double magnitude = static_cast<double>(number.mantissa) /
                             kExactPowers[number.fraction_digits];
    value = number.negative ? -magnitude : magnitude;
    return true;
  }
  const std::string_view text = number.text;
  const auto [end, error] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size() &&
         std::isfinite(value);
}

// The value of one field, of its declared type, into `field`'s member for
// that type.
bool ScanField(Scanner& scanner, FieldType type, FlatField& field) {
  switch (type) {
    case FieldType::kString: {
      std::string_view content;
      if (!scanner.String(content)) return false;
      field.text_data = content.data();
      field.text_size = content.size();
      return true;
    }
    case FieldType::kBool:
      if (scanner.Word("true")) {
        field.flag = true;
        return true;
      }
      if (scanner.Word("false")) {
        field.flag = false;
        return true;
      }
      return false;
    case FieldType::kInt:
    case FieldType::kTimestamp:
    case FieldType::kDouble:
      break;
  }
  if (type == FieldType::kTimestamp && scanner.Peek() == '"') {
    // An RFC 3339 string.
    std::string_view content;
    if (!scanner.String(content)) return false;
    const ParsedTimestamp parsed = ParseTimestampText(content);
    if (parsed.problem != TimestampProblem::kNone) return false;
    field.integer = parsed.millis;
    return true;
  }
  NumberToken token;
  if (!scanner.Number(token)) return false;
  int64_t number = 0;
  if (type == FieldType::kDouble) {
    if (token.integer) {
      // As the DOM path: an integer read as int64_t, then converted.
      if (!SmallInteger(token, number)) return false;
      field.real = static_cast<double>(number);
      return true;
    }
    return Real(token, field.real);
  }
  if (!SmallInteger(token, number)) return false;
  if (type == FieldType::kTimestamp &&
      (number < kMinMillis || number > kMaxMillis)) {
    return false;
  }
  field.integer = number;
  return true;
}

// The Value of a scanned field of type `type`.
void SetValue(FieldType type, const FlatField& field, Value& value) {
  switch (type) {
    case FieldType::kString:
      value.emplace<std::string>(field.text());
      return;
    case FieldType::kBool:
      value = field.flag;
      return;
    case FieldType::kDouble:
      value = field.real;
      return;
    case FieldType::kInt:
    case FieldType::kTimestamp:
      value = field.integer;
      return;
  }
}

// Whether `a` and `b` hold the same bytes: inline, for the short names of
// fields (a call to memcmp costs more than the comparison).
bool SameName(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t idx = 0; idx < a.size(); ++idx) {
    if (a[idx] != b[idx]) return false;
  }
  return true;
}

// The index of the field called `name`, or -1.
int FieldNamed(const std::vector<FieldDef>& fields, std::string_view name) {
  for (size_t field_idx = 0; field_idx < fields.size(); ++field_idx) {
    if (SameName(fields[field_idx].name, name)) {
      return static_cast<int>(field_idx);
    }
  }
  return -1;
}

}  // namespace

bool ScanFlatJson(std::string_view line, const Schema& schema,
                  std::span<FlatField> out) {
  const std::vector<FieldDef>& fields = schema.fields();
  if (fields.empty() || fields.size() > 64 || out.size() < fields.size()) {
    return false;
  }
  const uint64_t all =
      fields.size() == 64 ? ~uint64_t{0} : (uint64_t{1} << fields.size()) - 1;
  uint64_t seen = 0;
  Scanner scanner(line);
  scanner.SkipBlanks();
  if (!scanner.Take('{')) return false;
  for (size_t member_idx = 0;; ++member_idx) {
    scanner.SkipBlanks();
    // Lines usually list the fields in declaration order.
    int field_idx = static_cast<int>(member_idx);
    if (member_idx >= fields.size() || !scanner.Name(fields[member_idx].name)) {
      std::string_view name;
      if (!scanner.String(name)) return false;
      field_idx = FieldNamed(fields, name);
      if (field_idx < 0) return false;
    }
    const uint64_t bit = uint64_t{1} << field_idx;
    if ((seen & bit) != 0) return false;
    seen |= bit;
    scanner.SkipBlanks();
    if (!scanner.Take(':')) return false;
    scanner.SkipBlanks();
    const auto index = static_cast<size_t>(field_idx);
    if (!ScanField(scanner, fields[index].type, out[index])) return false;
    scanner.SkipBlanks();
    if (scanner.Take('}')) break;
    if (!scanner.Take(',')) return false;
  }
  scanner.SkipBlanks();
  return scanner.AtEnd() && seen == all;
}

void FlatFieldsToValues(const Schema& schema, std::span<const FlatField> in,
                        std::vector<Value>& values) {
  const std::vector<FieldDef>& fields = schema.fields();
  values.resize(fields.size());
  for (size_t idx = 0; idx < fields.size(); ++idx) {
    SetValue(fields[idx].type, in[idx], values[idx]);
  }
}

bool DecodeFlatJson(std::string_view line, const Schema& schema,
                    std::vector<Value>& values) {
  // Not initialized: ScanFlatJson sets what it returns true for.
  std::array<FlatField, 64> scanned;
  if (!ScanFlatJson(line, schema, scanned)) return false;
  FlatFieldsToValues(schema, scanned, values);
  return true;
}

void PackFlatFields(const Schema& schema, std::span<const FlatField> in,
                    std::string& out) {
  const std::vector<FieldDef>& fields = schema.fields();
  size_t size = 0;
  for (size_t idx = 0; idx < fields.size(); ++idx) {
    switch (fields[idx].type) {
      case FieldType::kString:
        size += sizeof(uint32_t) + in[idx].text_size;
        break;
      case FieldType::kBool:
        size += 1;
        break;
      case FieldType::kDouble:
      case FieldType::kInt:
      case FieldType::kTimestamp:
        size += sizeof(int64_t);
        break;
    }
  }
  // One resize, then plain copies.
  size_t pos = out.size();
  out.resize(pos + size);
  char* to = out.data();
  auto put = [&to, &pos](const void* from, size_t bytes) {
    std::memcpy(to + pos, from, bytes);
    pos += bytes;
  };
  for (size_t idx = 0; idx < fields.size(); ++idx) {
    const FlatField& field = in[idx];
    switch (fields[idx].type) {
      case FieldType::kString: {
        const auto length = static_cast<uint32_t>(field.text_size);
        put(&length, sizeof(length));
        put(field.text_data, field.text_size);
        break;
      }
      case FieldType::kBool: {
        const char flag = field.flag ? 1 : 0;
        put(&flag, 1);
        break;
      }
      case FieldType::kDouble:
        put(&field.real, sizeof(field.real));
        break;
      case FieldType::kInt:
      case FieldType::kTimestamp:
        put(&field.integer, sizeof(field.integer));
        break;
    }
  }
}

bool UnpackFlatFields(std::string_view packed, const Schema& schema,
                      std::vector<Value>& values) {
  const std::vector<FieldDef>& fields = schema.fields();
  values.resize(fields.size());
  size_t pos = 0;
  // Copies the next `size` bytes to `to`; false when fewer are left.
  auto take = [&](void* to, size_t size) {
    if (packed.size() - pos < size) return false;
    std::memcpy(to, packed.data() + pos, size);
    pos += size;
    return true;
  };
  for (size_t idx = 0; idx < fields.size(); ++idx) {
    Value& value = values[idx];
    switch (fields[idx].type) {
      case FieldType::kString: {
        uint32_t size = 0;
        if (!take(&size, sizeof(size)) || packed.size() - pos < size) {
          return false;
        }
        value.emplace<std::string>(packed.substr(pos, size));
        pos += size;
        break;
      }
      case FieldType::kBool: {
        char flag = 0;
        if (!take(&flag, 1)) return false;
        value = flag != 0;
        break;
      }
      case FieldType::kDouble: {
        double real = 0;
        if (!take(&real, sizeof(real))) return false;
        value = real;
        break;
      }
      case FieldType::kInt:
      case FieldType::kTimestamp: {
        int64_t integer = 0;
        if (!take(&integer, sizeof(integer))) return false;
        value = integer;
        break;
      }
    }
  }
  return pos == packed.size();
}

}  // namespace cep::io
