// JSON lines in (RecordDecoder, over simdjson's validating DOM parser) and
// out (FormatMatch, FormatLate). See cep/record_json.hpp.

#include "cep/record_json.hpp"

#include <charconv>
#include <chrono>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
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

#include "simdjson.h"

namespace cep {
namespace {

// Years 0000 to 9999, the range RFC 3339 can write: keeps every timestamp
// far from int64 overflow in window arithmetic (run.cpp relies on it).
constexpr int64_t kMinMillis = -62167219200000;  // 0000-01-01T00:00:00Z
constexpr int64_t kMaxMillis = 253402300799999;  // 9999-12-31T23:59:59.999Z

// absl::StrCat takes absl::string_view, which in Debian's abseil is not
// std::string_view; this takes both, and integers.
void AppendPart(std::string& out, std::string_view part) { out += part; }
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

absl::Status Invalid(std::string message) {
  return absl::InvalidArgumentError(std::move(message));
}

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

// simdjson's error as a short lowercase phrase.
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

std::optional<int64_t> ParseRfc3339Millis(std::string_view text) {
  size_t pos = 0;
  auto year = Digits(text, pos, 4);
  if (!year || !Expect(text, pos, '-')) return std::nullopt;
  auto month = Digits(text, pos, 2);
  if (!month || !Expect(text, pos, '-')) return std::nullopt;
  auto day = Digits(text, pos, 2);
  if (!day || pos >= text.size()) return std::nullopt;
  if (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ') {
    return std::nullopt;
  }
  ++pos;
  auto hour = Digits(text, pos, 2);
  if (!hour || !Expect(text, pos, ':')) return std::nullopt;
  auto minute = Digits(text, pos, 2);
  if (!minute || !Expect(text, pos, ':')) return std::nullopt;
  auto second = Digits(text, pos, 2);
  if (!second) return std::nullopt;
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
    if (fraction_digits == 0) return std::nullopt;
  }
  if (pos >= text.size()) return std::nullopt;
  int offset_minutes = 0;
  if (text[pos] == 'Z' || text[pos] == 'z') {
    ++pos;
  } else if (text[pos] == '+' || text[pos] == '-') {
    const int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    auto offset_hour = Digits(text, pos, 2);
    if (!offset_hour || !Expect(text, pos, ':')) return std::nullopt;
    auto offset_minute = Digits(text, pos, 2);
    if (!offset_minute || *offset_hour > 23 || *offset_minute > 59) {
      return std::nullopt;
    }
    offset_minutes = sign * (*offset_hour * 60 + *offset_minute);
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  // Second 60 is a leap second (RFC 3339 allows it); it reads as :59.999 so
  // that it stays within its minute.
  if (*hour > 23 || *minute > 59 || *second > 60) return std::nullopt;
  if (*second == 60) {
    *second = 59;
    millis = 999;
  }
  const std::chrono::year_month_day date{
      std::chrono::year(*year),
      std::chrono::month(static_cast<unsigned>(*month)),
      std::chrono::day(static_cast<unsigned>(*day))};
  if (!date.ok()) return std::nullopt;
  const int64_t days = std::chrono::sys_days(date).time_since_epoch().count();
  const int64_t seconds = days * 86400 + *hour * 3600 + *minute * 60 + *second -
                          int64_t{offset_minutes} * 60;
  return seconds * 1000 + millis;
}

}  // namespace

absl::StatusOr<Timestamp> ParseRfc3339(std::string_view text) {
  std::optional<int64_t> millis = ParseRfc3339Millis(text);
  if (!millis) {
    return Invalid(Cat("'", text, "' is not an RFC 3339 date-time"));
  }
  return FromMillis(*millis);
}

bool IsBlankLine(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

// ---- decoding ---------------------------------------------------------------

struct RecordDecoder::Impl {
  std::vector<const Schema*> schemas;
  simdjson::dom::parser parser;
  // The line, followed by the padding simdjson reads past the end.
  std::string buffer;

  absl::StatusOr<Record> Decode(std::string_view line);
  absl::StatusOr<const Schema*> SchemaOf(simdjson::dom::object object) const;
  static absl::Status DecodeField(const FieldDef& field,
                                  simdjson::dom::element element, Value& value);
};

absl::StatusOr<Record> RecordDecoder::Impl::Decode(std::string_view line) {
  buffer.assign(line);
  buffer.append(simdjson::SIMDJSON_PADDING, '\0');
  simdjson::dom::element document;
  if (simdjson::error_code error =
          parser.parse(buffer.data(), line.size(), false).get(document);
      error != simdjson::SUCCESS) {
    return Invalid(Cat("malformed JSON: ", JsonErrorText(error)));
  }
  simdjson::dom::object object;
  if (document.get_object().get(object) != simdjson::SUCCESS) {
    return Invalid(Cat("expected a JSON object, not ", JsonTypeName(document)));
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
    if (absl::Status status = DecodeField(field, element, values[field_idx]);
        !status.ok()) {
      return status;
    }
  }
  return Record(schema, std::move(values));
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
  std::string escaped;
  AppendJsonString(escaped, type);
  return Invalid(Cat("unknown event type '",
                     std::string_view(escaped).substr(1, escaped.size() - 2),
                     "'"));
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
        return Invalid(Cat("field '", field.name, "' is too large for an int"));
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
            element.get_int64().value_unsafe() >= kMinMillis &&
            element.get_int64().value_unsafe() <= kMaxMillis;
        if (!in_range) {
          return Invalid(
              Cat("field '", field.name, "': timestamp ",
                  type == element_type::INT64
                      ? Cat(element.get_int64().value_unsafe())
                      : Cat(element.get_uint64().value_unsafe()),
                  " is outside years 0000 to 9999 (epoch milliseconds)"));
        }
        value = element.get_int64().value_unsafe();
        return absl::OkStatus();
      }
      if (type == element_type::STRING) {
        std::string_view text = element.get_string().value_unsafe();
        if (std::optional<int64_t> millis = ParseRfc3339Millis(text)) {
          value = *millis;
          return absl::OkStatus();
        }
        std::string quoted;
        AppendJsonString(quoted, text);
        return Invalid(
            Cat("field '", field.name, "': timestamp '",
                std::string_view(quoted).substr(1, quoted.size() - 2),
                "' is not RFC 3339 or epoch milliseconds"));
      }
      return wrong_type(
          "a timestamp (epoch milliseconds as an integer, or an RFC 3339 "
          "string)");
    }
  }
  return absl::InternalError("unknown field type");
}

RecordDecoder::RecordDecoder(const PatternFile& file)
    : impl_(std::make_unique<Impl>()) {
  for (const auto& schema : file.schemas()) {
    impl_->schemas.push_back(schema.get());
  }
}

RecordDecoder::RecordDecoder(std::vector<const Schema*> schemas)
    : impl_(std::make_unique<Impl>()) {
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
