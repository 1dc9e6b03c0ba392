// JSON lines in (RecordDecoder: the flat scanner of flat_json.hpp for the
// lines it takes, simdjson's validating DOM parser for every other line and
// every error) and out (FormatMatch, FormatLate). See cep/record_json.hpp.

#include "cep/record_json.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_join.h"

#include "cep/dsl.hpp"
#include "cep/event.hpp"
#include "cep/match.hpp"
#include "cep/time.hpp"

#include "flat_json.hpp"
#include "io_util.hpp"
#include "simdjson.h"

namespace cep {
namespace io {
namespace {

// Parses exactly `width` digits at `pos`; advances `pos`.
std::optional<int> Digits(std::string_view text, size_t& pos, size_t width) {
  if (pos + width > text.size()) return std::nullopt;
  int value = 0;
  for (size_t digit_idx = 0; digit_idx < width; ++digit_idx) {
    const char c = text[pos + digit_idx];
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  pos += width;
  return value;
}

bool Expect(std::string_view text, size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

}  // namespace

ParsedTimestamp ParseTimestampText(std::string_view text) {
  ParsedTimestamp result;
  result.problem = TimestampProblem::kFormat;
  size_t pos = 0;
  auto year = Digits(text, pos, 4);
  if (!year || !Expect(text, pos, '-')) return result;
  auto month = Digits(text, pos, 2);
  if (!month || !Expect(text, pos, '-')) return result;
  auto day = Digits(text, pos, 2);
  if (!day || pos >= text.size()) return result;
  if (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ') return result;
  ++pos;
  auto hour = Digits(text, pos, 2);
  if (!hour || !Expect(text, pos, ':')) return result;
  auto minute = Digits(text, pos, 2);
  if (!minute || !Expect(text, pos, ':')) return result;
  auto second = Digits(text, pos, 2);
  if (!second) return result;
  int64_t millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t fraction_digits = 0;
    int64_t scale = 100;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      millis += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
      ++fraction_digits;
    }
    if (fraction_digits == 0) return result;
  }
  if (pos >= text.size()) return result;
  int offset_minutes = 0;
  bool offset_ok = true;
  if (text[pos] == 'Z' || text[pos] == 'z') {
    ++pos;
  } else if (text[pos] == '+' || text[pos] == '-') {
    const int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    auto offset_hour = Digits(text, pos, 2);
    if (!offset_hour || !Expect(text, pos, ':')) return result;
    auto offset_minute = Digits(text, pos, 2);
    if (!offset_minute) return result;
    offset_ok = *offset_hour <= 23 && *offset_minute <= 59;
    offset_minutes = sign * (*offset_hour * 60 + *offset_minute);
  } else {
    return result;
  }
  if (pos != text.size()) return result;
  // From here on the text has the shape of RFC 3339; what is wrong is the
  // date or the time it names.
  result.problem = TimestampProblem::kDate;
  // Second 60 is a leap second (RFC 3339 allows it); it reads as :59.999 so
  // that it stays within its minute.
  if (*hour > 23 || *minute > 59 || *second > 60 || !offset_ok) return result;
  if (*second == 60) {
    *second = 59;
    millis = 999;
  }
  const std::chrono::year_month_day date{
      std::chrono::year(*year),
      std::chrono::month(static_cast<unsigned>(*month)),
      std::chrono::day(static_cast<unsigned>(*day))};
  if (!date.ok()) return result;
  const int64_t days = std::chrono::sys_days(date).time_since_epoch().count();
  const int64_t seconds = days * 86400 + *hour * 3600 + *minute * 60 + *second -
                          int64_t{offset_minutes} * 60;
  result.millis = seconds * 1000 + millis;
  // 9999-12-31T23:59:59-01:00 is in year 10000 in UTC: it could not be
  // written back as epoch milliseconds that read again.
  result.problem = result.millis < kMinMillis || result.millis > kMaxMillis
                       ? TimestampProblem::kRange
                       : TimestampProblem::kNone;
  return result;
}

std::string TimestampTextError(std::string_view field, std::string_view text,
                               TimestampProblem problem) {
  if (problem == TimestampProblem::kDate) {
    return Cat("field '", field, "': ", Quoted(text), " is not a valid date");
  }
  if (problem == TimestampProblem::kRange) {
    return Cat("field '", field, "': ", Quoted(text),
               " is outside years 0000 to 9999 in UTC");
  }
  return Cat("field '", field, "': timestamp ", Quoted(text),
             " is not RFC 3339 or epoch milliseconds");
}

std::string TimestampRangeError(std::string_view field,
                                std::string_view number) {
  return Cat("field '", field, "': timestamp ", number,
             " is outside years 0000 to 9999 (epoch milliseconds)");
}

std::string IntegerOverflowError(std::string_view field, FieldType type,
                                 std::string_view number) {
  if (type == FieldType::kTimestamp) {
    return Cat("field '", field, "': ", number,
               " is out of range for a timestamp (64-bit epoch milliseconds)");
  }
  return Cat("field '", field, "': ", number, " is too ",
             number.starts_with('-') ? "small" : "large", " for an int");
}

}  // namespace io

namespace {

using io::Cat;
using io::Invalid;

// The user's words for a JSON value's type.
std::string_view JsonTypeName(const simdjson::dom::element& element) {
  using simdjson::dom::element_type;
  switch (element.type()) {
    case element_type::ARRAY:
      return "an array";
    case element_type::OBJECT:
      return "an object";
    case element_type::INT64:
    case element_type::UINT64:
      return "an integer";
    case element_type::DOUBLE:
      return "a number with a fraction or exponent";
    case element_type::STRING:
      return "a string";
    case element_type::BOOL:
      return "a boolean";
    case element_type::NULL_VALUE:
      return "null";
  }
  return "an unknown value";
}

// simdjson's error as a short lowercase phrase: the message when the scan
// below cannot place the problem.
std::string JsonErrorText(simdjson::error_code error) {
  switch (error) {
    case simdjson::EMPTY:
      return "no JSON value";
    case simdjson::TAPE_ERROR:
      return "bad structure (a missing or extra comma, colon, brace or "
             "bracket)";
    case simdjson::DEPTH_ERROR:
      return "nested too deeply";
    case simdjson::STRING_ERROR:
      return "bad string";
    case simdjson::UNCLOSED_STRING:
      return "unclosed string";
    case simdjson::UNESCAPED_CHARS:
      return "a control character inside a string";
    case simdjson::NUMBER_ERROR:
      return "bad number";
    case simdjson::NUMBER_OUT_OF_RANGE:
      return "number out of range";
    case simdjson::T_ATOM_ERROR:
    case simdjson::F_ATOM_ERROR:
    case simdjson::N_ATOM_ERROR:
      return "bad literal (expected true, false or null)";
    case simdjson::UTF8_ERROR:
      return "invalid UTF-8";
    default:
      break;
  }
  std::string text = simdjson::error_message(error);
  if (!text.empty() && text.back() == '.') text.pop_back();
  if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z') text[0] += 'a' - 'A';
  return text;
}

}  // namespace

// ---- UTF-8 and columns ------------------------------------------------------

namespace io {

size_t ColumnOf(std::string_view line, size_t offset) {
  size_t column = 1;
  for (size_t pos = 0; pos < offset && pos < line.size(); ++pos) {
    if ((static_cast<unsigned char>(line[pos]) & 0xC0) != 0x80) ++column;
  }
  return column;
}

std::optional<size_t> FirstInvalidUtf8(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    // ASCII, eight bytes at a time.
    uint64_t word = 0;
    if (pos + sizeof(word) <= text.size()) {
      std::memcpy(&word, text.data() + pos, sizeof(word));
      if ((word & 0x8080808080808080ull) == 0) {
        pos += sizeof(word);
        continue;
      }
    }
    const auto lead = static_cast<unsigned char>(text[pos]);
    size_t length = 0;
    unsigned char min2 = 0x80;  // bounds of the second byte
    unsigned char max2 = 0xBF;
    if (lead < 0x80) {
      length = 1;
    } else if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      if (lead == 0xE0) min2 = 0xA0;  // overlong
      if (lead == 0xED) max2 = 0x9F;  // surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      if (lead == 0xF0) min2 = 0x90;  // overlong
      if (lead == 0xF4) max2 = 0x8F;  // beyond U+10FFFF
    } else {
      return pos;
    }
    if (pos + length > text.size()) return pos;
    for (size_t byte_idx = 1; byte_idx < length; ++byte_idx) {
      const auto byte = static_cast<unsigned char>(text[pos + byte_idx]);
      const unsigned char min = byte_idx == 1 ? min2 : 0x80;
      const unsigned char max = byte_idx == 1 ? max2 : 0xBF;
      if (byte < min || byte > max) return pos;
    }
    pos += length;
  }
  return std::nullopt;
}

}  // namespace io

namespace {

using io::ColumnOf;
using io::FirstInvalidUtf8;

// ---- locating malformed JSON ----------------------------------------------
// simdjson's DOM parser says what kind of problem a line has but not where.
// When it fails, JsonScanner walks the line once more, by the JSON grammar
// (RFC 8259), and stops at the first problem. It also lists the numbers
// simdjson cannot hold (integers beyond 64 bits, doubles beyond the double
// range): those lines are valid JSON, so the decoder blanks the numbers out,
// parses again and reports them against the fields they belong to.

bool IsWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '+' || c == '-';
}

// The run of word characters (letters, digits, _ . + -) at `pos`.
std::string_view WordAt(std::string_view line, size_t pos) {
  size_t end = pos;
  while (end < line.size() && IsWordChar(line[end])) ++end;
  return line.substr(pos, end - pos);
}

// What the line holds at `pos`, for "found ...".
std::string FoundAt(std::string_view line, size_t pos) {
  if (pos >= line.size()) return "the end of the line";
  if (line[pos] == '"') return "a string";
  constexpr size_t kMaxShown = 24;
  std::string_view shown = WordAt(line, pos);
  if (shown.empty()) {
    // One character, with its UTF-8 continuation bytes.
    size_t end = pos + 1;
    while (end < line.size() &&
           (static_cast<unsigned char>(line[end]) & 0xC0) == 0x80) {
      ++end;
    }
    shown = line.substr(pos, end - pos);
  }
  if (shown.size() > kMaxShown) {
    return Cat(io::Quoted(shown.substr(0, kMaxShown)), "...");
  }
  return io::Quoted(shown);
}

class JsonScanner {
 public:
  // A number simdjson cannot hold: line[begin, end).
  struct BigNumber {
    size_t begin = 0;
    size_t end = 0;
    bool integer = false;
    // Its index among the top-level object's members when it is one's whole
    // value; kNoMember otherwise.
    size_t member = kNoMember;
  };
  static constexpr size_t kNoMember = static_cast<size_t>(-1);

  explicit JsonScanner(std::string_view line) : line_(line) {}

  // Scans the line. Returns false and sets problem_offset()/problem() at
  // the first problem; true when the grammar holds (big_numbers() may still
  // be non-empty).
  bool Scan();

  size_t problem_offset() const { return problem_offset_; }
  const std::string& problem() const { return problem_; }
  const std::vector<BigNumber>& big_numbers() const { return big_numbers_; }

 private:
  bool Fail(size_t offset, std::string message) {
    problem_offset_ = offset;
    problem_ = std::move(message);
    return false;
  }
  bool FailExpected(std::string_view what) {
    return Fail(pos_, Cat("expected ", what, ", found ", FoundAt(line_, pos_)));
  }
  void SkipBlanks() {
    while (pos_ < line_.size() &&
           (line_[pos_] == ' ' || line_[pos_] == '\t' || line_[pos_] == '\n' ||
            line_[pos_] == '\r')) {
      ++pos_;
    }
  }
  // A value at pos_; `what` names it for the message ("a value after ':'").
  bool Value(std::string_view what);
  bool String();
  // A member name: a string, counted when it is the top-level object's.
  bool MemberName() {
    if (open_.size() == 1) ++top_members_;
    return String();
  }
  bool Number();

  std::string_view line_;
  size_t pos_ = 0;
  // The open arrays and objects, innermost last: '[' or '{'.
  std::vector<char> open_;
  // Whether the innermost one was opened by the last value read.
  bool just_opened_ = false;
  // Members of the top-level object read so far.
  size_t top_members_ = 0;
  size_t problem_offset_ = 0;
  std::string problem_;
  std::vector<BigNumber> big_numbers_;
};

bool JsonScanner::Scan() {
  SkipBlanks();
  if (!Value("a value")) return false;
  while (!open_.empty()) {
    SkipBlanks();
    const bool in_object = open_.back() == '{';
    const char close = in_object ? '}' : ']';
    if (pos_ < line_.size() && line_[pos_] == close) {
      ++pos_;
      open_.pop_back();
      just_opened_ = false;
      continue;
    }
    if (just_opened_) {
      just_opened_ = false;
      if (!in_object) {
        if (!Value("a value or ']' after '['")) return false;
        continue;
      }
      if (pos_ >= line_.size() || line_[pos_] != '"') {
        return FailExpected("a member name or '}' after '{'");
      }
      if (!MemberName()) return false;
      SkipBlanks();
      if (pos_ >= line_.size() || line_[pos_] != ':') {
        return FailExpected("':' after the member name");
      }
      ++pos_;
      SkipBlanks();
      if (!Value("a value after ':'")) return false;
      continue;
    }
    if (pos_ >= line_.size() || line_[pos_] != ',') {
      return FailExpected(in_object ? "',' or '}' after a member"
                                    : "',' or ']' after an array element");
    }
    ++pos_;
    SkipBlanks();
    if (in_object) {
      if (pos_ >= line_.size() || line_[pos_] != '"') {
        return FailExpected("a member name after ','");
      }
      if (!MemberName()) return false;
      SkipBlanks();
      if (pos_ >= line_.size() || line_[pos_] != ':') {
        return FailExpected("':' after the member name");
      }
      ++pos_;
      SkipBlanks();
      if (!Value("a value after ':'")) return false;
    } else if (!Value("a value after ','")) {
      return false;
    }
  }
  SkipBlanks();
  if (pos_ < line_.size()) {
    return FailExpected("the end of the line after the JSON value");
  }
  return true;
}

// Reads one value at pos_. An array or object is only opened here (pushed
// on open_); Scan() reads what is in it, without recursion, so deep nesting
// cannot exhaust the stack.
bool JsonScanner::Value(std::string_view what) {
  if (pos_ >= line_.size()) return FailExpected(what);
  const char c = line_[pos_];
  if (c == '"') return String();
  if (c == '-' || (c >= '0' && c <= '9')) return Number();
  if (c == '[' || c == '{') {
    ++pos_;
    open_.push_back(c);
    just_opened_ = true;
    return true;
  }
  const std::string_view word = WordAt(line_, pos_);
  if (word == "true" || word == "false" || word == "null") {
    pos_ += word.size();
    return true;
  }
  return FailExpected(what);
}

bool JsonScanner::String() {
  const size_t open = pos_++;
  auto hex4 = [&](size_t at) -> std::optional<unsigned> {
    if (at + 4 > line_.size()) return std::nullopt;
    unsigned value = 0;
    for (size_t digit_idx = 0; digit_idx < 4; ++digit_idx) {
      const char c = line_[at + digit_idx];
      value <<= 4;
      if (c >= '0' && c <= '9') {
        value |= static_cast<unsigned>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        value |= static_cast<unsigned>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        value |= static_cast<unsigned>(c - 'A' + 10);
      } else {
        return std::nullopt;
      }
    }
    return value;
  };
  while (true) {
    if (pos_ >= line_.size()) {
      return Fail(open, "unclosed string (no '\"' ends it)");
    }
    const auto c = static_cast<unsigned char>(line_[pos_]);
    if (c == '"') {
      ++pos_;
      return true;
    }
    if (c < 0x20) {
      static constexpr char kHex[] = "0123456789ABCDEF";
      return Fail(pos_,
                  Cat("a control character (U+00", std::string(1, kHex[c >> 4]),
                      std::string(1, kHex[c & 0xF]),
                      ") inside a string; write it as an escape"));
    }
    if (c != '\\') {
      ++pos_;
      continue;
    }
    const size_t backslash = pos_++;
    if (pos_ >= line_.size()) {
      return Fail(open, "unclosed string (no '\"' ends it)");
    }
    const char escape = line_[pos_];
    if (escape != 'u') {
      if (std::string_view("\"\\/bfnrt").find(escape) ==
          std::string_view::npos) {
        const auto byte = static_cast<unsigned char>(escape);
        return Fail(
            backslash,
            byte > 0x20 && byte < 0x7F
                ? Cat("bad escape '\\", std::string(1, escape), "' in a string")
                : Cat("bad escape in a string: '\\' before ",
                      FoundAt(line_, pos_)));
      }
      ++pos_;
      continue;
    }
    const std::optional<unsigned> unit = hex4(pos_ + 1);
    if (!unit) {
      size_t shown = 2;
      while (
          shown < 6 && backslash + shown < line_.size() &&
          std::isxdigit(static_cast<unsigned char>(line_[backslash + shown]))) {
        ++shown;
      }
      return Fail(backslash,
                  Cat("bad escape '", line_.substr(backslash, shown), "'",
                      " in a string (\\u takes four hex digits)"));
    }
    pos_ += 5;
    if (*unit >= 0xDC00 && *unit <= 0xDFFF) {
      return Fail(backslash, Cat("bad escape '", line_.substr(backslash, 6),
                                 "' in a string (a lone low surrogate)"));
    }
    if (*unit >= 0xD800 && *unit <= 0xDBFF) {
      const std::optional<unsigned> low = pos_ + 1 < line_.size() &&
                                                  line_[pos_] == '\\' &&
                                                  line_[pos_ + 1] == 'u'
                                              ? hex4(pos_ + 2)
                                              : std::nullopt;
      if (!low || *low < 0xDC00 || *low > 0xDFFF) {
        return Fail(backslash,
                    Cat("bad escape '", line_.substr(backslash, 6),
                        "' in a string (a high surrogate without its low "
                        "surrogate)"));
      }
      pos_ += 6;
    }
  }
}

bool JsonScanner::Number() {
  const size_t begin = pos_;
  const std::string_view word = WordAt(line_, pos_);
  // -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
  size_t at = 0;
  auto digits = [&] {
    const size_t from = at;
    while (at < word.size() && word[at] >= '0' && word[at] <= '9') ++at;
    return at - from;
  };
  bool ok = true;
  bool integer = true;
  if (at < word.size() && word[at] == '-') ++at;
  if (at < word.size() && word[at] == '0') {
    ++at;
  } else {
    ok = digits() > 0;
  }
  if (ok && at < word.size() && word[at] == '.') {
    ++at;
    integer = false;
    ok = digits() > 0;
  }
  if (ok && at < word.size() && (word[at] == 'e' || word[at] == 'E')) {
    ++at;
    integer = false;
    if (at < word.size() && (word[at] == '+' || word[at] == '-')) ++at;
    ok = digits() > 0;
  }
  if (!ok || at != word.size()) {
    return Fail(begin, Cat("bad number ", FoundAt(line_, begin)));
  }
  pos_ += word.size();
  bool fits = true;
  if (integer) {
    const char* const first = word.data();
    const char* const last = word.data() + word.size();
    if (word.front() == '-') {
      int64_t value = 0;
      fits = std::from_chars(first, last, value).ec == std::errc();
    } else {
      uint64_t value = 0;
      fits = std::from_chars(first, last, value).ec == std::errc();
    }
  } else {
    const std::string text(word);
    fits = std::isfinite(std::strtod(text.c_str(), nullptr));
  }
  if (!fits) {
    BigNumber big;
    big.begin = begin;
    big.end = pos_;
    big.integer = integer;
    if (open_.size() == 1 && open_.back() == '{') big.member = top_members_ - 1;
    big_numbers_.push_back(big);
  }
  return true;
}

}  // namespace

absl::StatusOr<Timestamp> ParseRfc3339(std::string_view text) {
  const io::ParsedTimestamp parsed = io::ParseTimestampText(text);
  if (parsed.problem == io::TimestampProblem::kDate) {
    return Invalid(Cat(io::Quoted(text), " is not a valid date"));
  }
  if (parsed.problem == io::TimestampProblem::kRange) {
    return Invalid(
        Cat(io::Quoted(text), " is outside years 0000 to 9999 in UTC"));
  }
  if (parsed.problem != io::TimestampProblem::kNone) {
    return Invalid(Cat(io::Quoted(text), " is not an RFC 3339 date-time"));
  }
  return FromMillis(parsed.millis);
}

bool IsBlankLine(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

// ---- decoding ---------------------------------------------------------------

struct RecordDecoder::Impl {
  // A top-level member whose number simdjson could not hold: its name (a
  // view into the parser's strings) and the number as written.
  struct BigMember {
    std::string_view name;
    std::string number;
    bool integer = false;
  };

  std::vector<const Schema*> schemas;
  JsonParsing parsing = JsonParsing::kFast;
  simdjson::dom::parser parser;
  // The line, followed by the padding simdjson reads past the end.
  std::string buffer;
  // Filled by Recover() for the line being decoded.
  std::vector<BigMember> big_members;
  // The member names of the line being decoded (CheckMemberNames).
  std::vector<std::string_view> member_names;

  absl::StatusOr<Record> Decode(std::string_view line);
  // After simdjson rejected `line` with `error`: the message with a column
  // when the line is malformed, or, when it only has numbers simdjson cannot
  // hold, the line parsed again with them blanked out, into `document`.
  absl::Status Recover(std::string_view line, simdjson::error_code error,
                       simdjson::dom::element& document);
  absl::StatusOr<const Schema*> SchemaOf(simdjson::dom::object object) const;
  // kInvalidArgument "duplicate member 'NAME'" when `object` has a member
  // name twice (JSON leaves the meaning open; simdjson would read the first).
  absl::Status CheckMemberNames(simdjson::dom::object object);
  static absl::Status DecodeField(const FieldDef& field,
                                  simdjson::dom::element element, Value& value);
  static absl::Status DecodeBigField(const FieldDef& field,
                                     simdjson::dom::element element,
                                     const BigMember& big, Value& value);
};

absl::Status RecordDecoder::Impl::Recover(std::string_view line,
                                          simdjson::error_code error,
                                          simdjson::dom::element& document) {
  if (error == simdjson::UTF8_ERROR) {
    if (std::optional<size_t> offset = FirstInvalidUtf8(line)) {
      return Invalid(Cat("malformed JSON at column ", ColumnOf(line, *offset),
                         ": invalid UTF-8"));
    }
    return Invalid(Cat("malformed JSON: ", JsonErrorText(error)));
  }
  JsonScanner scanner(line);
  if (!scanner.Scan()) {
    return Invalid(Cat("malformed JSON at column ",
                       ColumnOf(line, scanner.problem_offset()), ": ",
                       scanner.problem()));
  }
  if (scanner.big_numbers().empty()) {
    // The scan found nothing simdjson objects to (nesting depth, say).
    return Invalid(Cat("malformed JSON: ", JsonErrorText(error)));
  }
  // Blank each big number out to "0" (an integer) or "0.0" (not one): both
  // are no longer than any number beyond 64 bits or the double range, and
  // keep the JSON type the number has.
  for (const JsonScanner::BigNumber& big : scanner.big_numbers()) {
    const std::string_view zero = big.integer ? "0" : "0.0";
    std::fill(buffer.begin() + static_cast<std::ptrdiff_t>(big.begin),
              buffer.begin() + static_cast<std::ptrdiff_t>(big.end), ' ');
    buffer.replace(big.begin, zero.size(), zero);
  }
  if (simdjson::error_code again =
          parser.parse(buffer.data(), line.size(), false).get(document);
      again != simdjson::SUCCESS) {
    return Invalid(Cat("malformed JSON: ", JsonErrorText(error)));
  }
  simdjson::dom::object object;
  if (document.get_object().get(object) != simdjson::SUCCESS) {
    return absl::OkStatus();  // Decode() reports what the line holds
  }
  // A name that occurs twice is an error (CheckMemberNames, after this).
  size_t member_idx = 0;
  for (const simdjson::dom::key_value_pair member : object) {
    for (const JsonScanner::BigNumber& big : scanner.big_numbers()) {
      if (big.member == member_idx) {
        big_members.push_back(
            {member.key,
             std::string(line.substr(big.begin, big.end - big.begin)),
             big.integer});
      }
    }
    ++member_idx;
  }
  return absl::OkStatus();
}

absl::StatusOr<Record> RecordDecoder::Impl::Decode(std::string_view line) {
  if (parsing == JsonParsing::kFast && schemas.size() == 1) {
    std::vector<Value> values;
    if (io::DecodeFlatJson(line, *schemas.front(), values)) {
      return Record(schemas.front(), std::move(values));
    }
  }
  buffer.assign(line);
  buffer.append(simdjson::SIMDJSON_PADDING, '\0');
  big_members.clear();
  simdjson::dom::element document;
  if (simdjson::error_code error =
          parser.parse(buffer.data(), line.size(), false).get(document);
      error != simdjson::SUCCESS) {
    if (absl::Status status = Recover(line, error, document); !status.ok()) {
      return status;
    }
  }
  simdjson::dom::object object;
  if (document.get_object().get(object) != simdjson::SUCCESS) {
    return Invalid(Cat("expected a JSON object, not ", JsonTypeName(document)));
  }
  if (absl::Status status = CheckMemberNames(object); !status.ok()) {
    return status;
  }
  const Schema* schema = nullptr;
  if (auto found = SchemaOf(object); found.ok()) {
    schema = *found;
  } else {
    return found.status();
  }
  std::vector<Value> values(schema->fields().size());
  for (size_t field_idx = 0; field_idx < values.size(); ++field_idx) {
    const FieldDef& field = schema->fields()[field_idx];
    simdjson::dom::element element;
    if (object.at_key(field.name).get(element) != simdjson::SUCCESS) {
      return Invalid(Cat("missing field '", field.name, "'"));
    }
    const BigMember* big = nullptr;
    for (const BigMember& member : big_members) {
      if (member.name == field.name) big = &member;
    }
    if (absl::Status status =
            big != nullptr
                ? DecodeBigField(field, element, *big, values[field_idx])
                : DecodeField(field, element, values[field_idx]);
        !status.ok()) {
      return status;
    }
  }
  return Record(schema, std::move(values));
}

absl::Status RecordDecoder::Impl::CheckMemberNames(
    simdjson::dom::object object) {
  member_names.clear();
  for (const simdjson::dom::key_value_pair member : object) {
    member_names.push_back(member.key);
  }
  // Events have a few members: comparing each pair is cheapest. Sorting
  // keeps a line with very many members from taking quadratic time.
  constexpr size_t kPairwiseUpTo = 16;
  if (member_names.size() <= kPairwiseUpTo) {
    for (size_t idx = 1; idx < member_names.size(); ++idx) {
      for (size_t earlier = 0; earlier < idx; ++earlier) {
        if (member_names[earlier] == member_names[idx]) {
          return Invalid(
              Cat("duplicate member ", io::Quoted(member_names[idx])));
        }
      }
    }
    return absl::OkStatus();
  }
  std::sort(member_names.begin(), member_names.end());
  const auto twice =
      std::adjacent_find(member_names.begin(), member_names.end());
  if (twice != member_names.end()) {
    return Invalid(Cat("duplicate member ", io::Quoted(*twice)));
  }
  return absl::OkStatus();
}

absl::StatusOr<const Schema*> RecordDecoder::Impl::SchemaOf(
    simdjson::dom::object object) const {
  if (schemas.size() == 1) return schemas.front();
  simdjson::dom::element element;
  if (object.at_key("type").get(element) != simdjson::SUCCESS) {
    std::vector<std::string> names;
    for (const Schema* schema : schemas) names.push_back(schema->name());
    return Invalid(
        Cat("missing member 'type' (one of ", absl::StrJoin(names, ", "), ")"));
  }
  std::string_view type;
  if (element.get_string().get(type) != simdjson::SUCCESS) {
    return Invalid(
        Cat("member 'type' must be a string, not ", JsonTypeName(element)));
  }
  for (const Schema* schema : schemas) {
    if (schema->name() == type) return schema;
  }
  return Invalid(Cat("unknown event type ", io::Quoted(type)));
}

absl::Status RecordDecoder::Impl::DecodeBigField(const FieldDef& field,
                                                 simdjson::dom::element element,
                                                 const BigMember& big,
                                                 Value& value) {
  switch (field.type) {
    case FieldType::kInt:
    case FieldType::kTimestamp:
      if (big.integer) {
        return Invalid(
            io::IntegerOverflowError(field.name, field.type, big.number));
      }
      break;
    case FieldType::kDouble:
      // Integers beyond 64 bits are fine as doubles; only numbers beyond
      // the double range are not.
      if (const double number = std::strtod(big.number.c_str(), nullptr);
          std::isfinite(number)) {
        value = number;
        return absl::OkStatus();
      }
      return Invalid(Cat("field '", field.name, "': ", big.number,
                         " is out of range for a double"));
    case FieldType::kString:
    case FieldType::kBool:
      break;
  }
  // The blanked-out number has the JSON type of the real one, so the usual
  // wrong-type messages hold.
  return DecodeField(field, element, value);
}

absl::Status RecordDecoder::Impl::DecodeField(const FieldDef& field,
                                              simdjson::dom::element element,
                                              Value& value) {
  using simdjson::dom::element_type;
  const element_type type = element.type();
  auto wrong_type = [&](std::string_view expected) {
    return Invalid(Cat("field '", field.name, "' must be ", expected, ", not ",
                       JsonTypeName(element)));
  };
  switch (field.type) {
    case FieldType::kInt:
      if (type == element_type::INT64) {
        value = element.get_int64().value_unsafe();
        return absl::OkStatus();
      }
      if (type == element_type::UINT64) {
        return Invalid(io::IntegerOverflowError(
            field.name, field.type,
            std::to_string(element.get_uint64().value_unsafe())));
      }
      return wrong_type("an integer");
    case FieldType::kDouble:
      if (type == element_type::DOUBLE) {
        value = element.get_double().value_unsafe();
      } else if (type == element_type::INT64) {
        value = static_cast<double>(element.get_int64().value_unsafe());
      } else if (type == element_type::UINT64) {
        value = static_cast<double>(element.get_uint64().value_unsafe());
      } else {
        return wrong_type("a number");
      }
      return absl::OkStatus();
    case FieldType::kString:
      if (type != element_type::STRING) return wrong_type("a string");
      value = std::string(element.get_string().value_unsafe());
      return absl::OkStatus();
    case FieldType::kBool:
      if (type != element_type::BOOL) return wrong_type("a boolean");
      value = element.get_bool().value_unsafe();
      return absl::OkStatus();
    case FieldType::kTimestamp: {
      if (type == element_type::INT64 || type == element_type::UINT64) {
        const bool in_range =
            type == element_type::INT64 &&
            element.get_int64().value_unsafe() >= io::kMinMillis &&
            element.get_int64().value_unsafe() <= io::kMaxMillis;
        if (!in_range) {
          return Invalid(io::TimestampRangeError(
              field.name,
              type == element_type::INT64
                  ? std::to_string(element.get_int64().value_unsafe())
                  : std::to_string(element.get_uint64().value_unsafe())));
        }
        value = element.get_int64().value_unsafe();
        return absl::OkStatus();
      }
      if (type == element_type::STRING) {
        const std::string_view text = element.get_string().value_unsafe();
        const io::ParsedTimestamp parsed = io::ParseTimestampText(text);
        if (parsed.problem != io::TimestampProblem::kNone) {
          return Invalid(
              io::TimestampTextError(field.name, text, parsed.problem));
        }
        value = parsed.millis;
        return absl::OkStatus();
      }
      return wrong_type(
          "a timestamp (epoch milliseconds as an integer, or an RFC 3339 "
          "string)");
    }
  }
  return absl::InternalError("unknown field type");
}

RecordDecoder::RecordDecoder(const PatternFile& file, JsonParsing parsing)
    : impl_(std::make_unique<Impl>()) {
  impl_->parsing = parsing;
  for (const auto& schema : file.schemas()) {
    impl_->schemas.push_back(schema.get());
  }
}

RecordDecoder::RecordDecoder(std::vector<const Schema*> schemas,
                             JsonParsing parsing)
    : impl_(std::make_unique<Impl>()) {
  impl_->parsing = parsing;
  impl_->schemas = std::move(schemas);
}

RecordDecoder::~RecordDecoder() = default;
RecordDecoder::RecordDecoder(RecordDecoder&&) noexcept = default;
RecordDecoder& RecordDecoder::operator=(RecordDecoder&&) noexcept = default;

absl::StatusOr<Record> RecordDecoder::Decode(std::string_view line) {
  if (impl_->schemas.empty()) {
    return absl::FailedPreconditionError("the pattern file declares no events");
  }
  return impl_->Decode(line);
}

// ---- encoding ---------------------------------------------------------------

void AppendJsonString(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          const auto byte = static_cast<unsigned char>(c);
          out += "\\u00";
          out += kHex[byte >> 4];
          out += kHex[byte & 0xf];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void AppendValueJson(std::string& out, const Value& value) {
  char buf[32];
  if (std::holds_alternative<std::monostate>(value)) {
    out += "null";
  } else if (const int64_t* i = std::get_if<int64_t>(&value)) {
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), *i);
    out.append(buf, end);
  } else if (const double* d = std::get_if<double>(&value)) {
    if (!std::isfinite(*d)) {
      out += "null";
      return;
    }
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), *d);
    std::string_view text(buf, static_cast<size_t>(end - buf));
    out += text;
    if (text.find_first_of(".en") == std::string_view::npos) out += ".0";
  } else if (const bool* b = std::get_if<bool>(&value)) {
    out += *b ? "true" : "false";
  } else {
    AppendJsonString(out, std::get<std::string>(value));
  }
}

void AppendEventJson(std::string& out, const Record& record, uint64_t seq,
                     bool with_type) {
  char buf[24];
  out += "{\"seq\":";
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), seq);
  out.append(buf, end);
  const Schema& schema = record.schema();
  if (with_type) {
    out += ",\"type\":";
    AppendJsonString(out, schema.name());
  }
  for (size_t field_idx = 0; field_idx < record.size(); ++field_idx) {
    out += ',';
    AppendJsonString(out, schema.fields()[field_idx].name);
    out += ':';
    AppendValueJson(out, record[field_idx]);
  }
  out += '}';
}

void AppendMatchJson(std::string& out, std::string_view pattern,
                     const Value& key, const Match<Record>& match,
                     MatchKind kind, bool with_types) {
  out += "{\"pattern\":";
  AppendJsonString(out, pattern);
  out += ",\"key\":";
  AppendValueJson(out, key);
  out += ",\"events\":{";
  for (size_t stage_idx = 0; stage_idx < match.stages.size(); ++stage_idx) {
    const StageMatch<Record>& stage = match.stages[stage_idx];
    if (stage_idx > 0) out += ',';
    AppendJsonString(out, stage.stage);
    out += ":[";
    for (size_t event_idx = 0; event_idx < stage.events.size(); ++event_idx) {
      if (event_idx > 0) out += ',';
      const MatchedEvent<Record>& event = stage.events[event_idx];
      AppendEventJson(out, event.event, event.seq, with_types);
    }
    out += ']';
  }
  out += '}';
  if (kind == MatchKind::kTimeout) out += ",\"timeout\":true";
  out += '}';
}

std::string FormatMatch(const FilePattern& pattern, const Value& key,
                        const Match<Record>& match, MatchKind kind) {
  std::string out;
  AppendMatchJson(out, pattern.name, key, match, kind,
                  pattern.types.size() > 1);
  return out;
}

std::string FormatLate(const PatternFile& file, const Record& record,
                       uint64_t seq) {
  std::string out;
  AppendEventJson(out, record, seq, file.schemas().size() > 1);
  return out;
}

}  // namespace cep
