// DecodeFlatJson: see flat_json.hpp. Every check that fails returns false:
// the DOM path then decides what the line holds.

#include "flat_json.hpp"

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
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

constexpr uint64_t kOnes = 0x0101010101010101ull;
constexpr uint64_t kHighs = 0x8080808080808080ull;

// Whether one of the eight bytes of `word` may end a plain string run: a
// quote, a backslash, a control character or a byte of a multi-byte UTF-8
// character. May say yes for bytes after such a byte (the borrow of the
// subtraction), never no for one.
bool MayStopRun(uint64_t word) {
  auto has_zero = [](uint64_t v) { return (v - kOnes) & ~v & kHighs; };
  const uint64_t controls = (word - 0x20 * kOnes) & ~word & kHighs;
  return (has_zero(word ^ ('"' * kOnes)) | has_zero(word ^ ('\\' * kOnes)) |
          controls | (word & kHighs)) != 0;
}

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
    // Eight plain ASCII bytes at a time, then byte by byte.
    uint64_t word = 0;
    while (pos_ + sizeof(word) <= line_.size()) {
      std::memcpy(&word, line_.data() + pos_, sizeof(word));
      if (MayStopRun(word)) break;
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

  // A number by RFC 8259's grammar: its text, and whether it has neither
  // fraction nor exponent.
  bool Number(std::string_view& text, bool& integer) {
    const size_t begin = pos_;
    Take('-');
    if (Take('0')) {
      // no more integer digits after a leading zero
    } else if (pos_ < line_.size() && line_[pos_] >= '1' &&
               line_[pos_] <= '9') {
      SkipDigits();
    } else {
      return false;
    }
    integer = true;
    if (Take('.')) {
      integer = false;
      if (!SkipDigits()) return false;
    }
    if (Take('e') || Take('E')) {
      integer = false;
      if (!Take('+')) Take('-');
      if (!SkipDigits()) return false;
    }
    text = line_.substr(begin, pos_ - begin);
    return true;
  }

  // The literal `word` (true, false).
  bool Word(std::string_view word) {
    if (line_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

 private:
  // One or more digits.
  bool SkipDigits() {
    const size_t begin = pos_;
    while (pos_ < line_.size() && IsDigit(line_[pos_])) ++pos_;
    return pos_ > begin;
  }

  std::string_view line_;
  size_t pos_ = 0;
};

// An integer token (from Scanner::Number) of at most kMaxIntegerDigits
// digits, not "-0" (the DOM parser may read that as the double -0.0).
bool SmallInteger(std::string_view text, int64_t& value) {
  const bool negative = text.front() == '-';
  const std::string_view digits = negative ? text.substr(1) : text;
  if (digits.size() > kMaxIntegerDigits) return false;
  if (negative && digits == "0") return false;
  int64_t magnitude = 0;
  for (const char c : digits) magnitude = magnitude * 10 + (c - '0');
  value = negative ? -magnitude : magnitude;
  return true;
}

// The value of one field, of its declared type.
bool FieldValue(Scanner& scanner, FieldType type, Value& value) {
  switch (type) {
    case FieldType::kString: {
      std::string_view content;
      if (!scanner.String(content)) return false;
      value.emplace<std::string>(content);
      return true;
    }
    case FieldType::kBool:
      if (scanner.Word("true")) {
        value = true;
        return true;
      }
      if (scanner.Word("false")) {
        value = false;
        return true;
      }
      return false;
    case FieldType::kInt:
    case FieldType::kTimestamp:
    case FieldType::kDouble:
      break;
  }
  std::string_view text;
  bool integer = false;
  if (type == FieldType::kTimestamp && scanner.Peek() == '"') {
    // An RFC 3339 string.
    std::string_view content;
    if (!scanner.String(content)) return false;
    const ParsedTimestamp parsed = ParseTimestampText(content);
    if (parsed.problem != TimestampProblem::kNone) return false;
    value = parsed.millis;
    return true;
  }
  if (!scanner.Number(text, integer)) return false;
  int64_t number = 0;
  if (type == FieldType::kDouble) {
    if (integer) {
      // As the DOM path: an integer read as int64_t, then converted.
      if (!SmallInteger(text, number)) return false;
      value = static_cast<double>(number);
      return true;
    }
    double real = 0;
    const auto [end, error] =
        std::from_chars(text.data(), text.data() + text.size(), real);
    if (error != std::errc() || end != text.data() + text.size() ||
        !std::isfinite(real)) {
      return false;
    }
    value = real;
    return true;
  }
  if (!integer || !SmallInteger(text, number)) return false;
  if (type == FieldType::kTimestamp &&
      (number < kMinMillis || number > kMaxMillis)) {
    return false;
  }
  value = number;
  return true;
}

// The index of the field called `name`, trying `guess` (the member's
// position: lines usually list the fields in declaration order) first.
int FieldNamed(const std::vector<FieldDef>& fields, std::string_view name,
               size_t guess) {
  if (guess < fields.size() && fields[guess].name == name) {
    return static_cast<int>(guess);
  }
  for (size_t field_idx = 0; field_idx < fields.size(); ++field_idx) {
    if (fields[field_idx].name == name) return static_cast<int>(field_idx);
  }
  return -1;
}

}  // namespace

bool DecodeFlatJson(std::string_view line, const Schema& schema,
                    std::vector<Value>& values) {
  const std::vector<FieldDef>& fields = schema.fields();
  if (fields.empty() || fields.size() > 64) return false;
  values.resize(fields.size());
  const uint64_t all =
      fields.size() == 64 ? ~uint64_t{0} : (uint64_t{1} << fields.size()) - 1;
  uint64_t seen = 0;
  Scanner scanner(line);
  scanner.SkipBlanks();
  if (!scanner.Take('{')) return false;
  for (size_t member_idx = 0;; ++member_idx) {
    scanner.SkipBlanks();
    std::string_view name;
    if (!scanner.String(name)) return false;
    const int field_idx = FieldNamed(fields, name, member_idx);
    if (field_idx < 0) return false;
    const uint64_t bit = uint64_t{1} << field_idx;
    if ((seen & bit) != 0) return false;
    seen |= bit;
    scanner.SkipBlanks();
    if (!scanner.Take(':')) return false;
    scanner.SkipBlanks();
    const auto index = static_cast<size_t>(field_idx);
    if (!FieldValue(scanner, fields[index].type, values[index])) return false;
    scanner.SkipBlanks();
    if (scanner.Take('}')) break;
    if (!scanner.Take(',')) return false;
  }
  scanner.SkipBlanks();
  return scanner.AtEnd() && seen == all;
}

}  // namespace cep::io
