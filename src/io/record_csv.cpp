// CSV rows in (RecordCsvDecoder). See cep/record_csv.hpp; the value rules
// and error wording follow the JSON lines decoder (src/io/record_json.cpp),
// sharing its helpers (io_util.hpp).

#include "cep/record_csv.hpp"

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_join.h"

#include "cep/dsl.hpp"
#include "cep/event.hpp"
#include "cep/record_json.hpp"
#include "cep/time.hpp"

#include "io_util.hpp"

namespace cep {
namespace {

constexpr size_t kNoColumn = std::numeric_limits<size_t>::max();
constexpr std::string_view kTypeColumn = "type";
constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

using io::Cat;
using io::Invalid;
using io::Quoted;

// One field of a row, as a view into the line. For a quoted field `text` is
// what lies between the quotes, still with its "" pairs when `doubled`.
struct Cell {
  std::string_view text;
  bool quoted = false;
  bool doubled = false;
};

// Appends `cell`'s value (quotes removed, "" read as ") to `out`.
void AppendUnquoted(std::string& out, const Cell& cell) {
  if (!cell.doubled) {
    out += cell.text;
    return;
  }
  for (size_t pos = 0; pos < cell.text.size(); ++pos) {
    out += cell.text[pos];
    // The splitter only sets `doubled` for pairs; skip the second quote.
    if (cell.text[pos] == '"') ++pos;
  }
}

std::string Columns(size_t count) {
  return Cat(count, count == 1 ? " column" : " columns");
}

// Splits `line` into `cells` (RFC 4180 fields). `cells` is cleared first and
// keeps its capacity, so a steady stream of rows does not allocate here.
absl::Status Split(std::string_view line, std::vector<Cell>& cells) {
  cells.clear();
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  size_t pos = 0;
  while (true) {
    Cell cell;
    const size_t column = cells.size() + 1;
    if (pos < line.size() && line[pos] == '"') {
      cell.quoted = true;
      const size_t start = ++pos;
      while (true) {
        const size_t quote = line.find('"', pos);
        if (quote == std::string_view::npos) {
          return Invalid(Cat("column ", column,
                             ": a quoted field runs past the end of the line "
                             "(line breaks inside quotes are not supported)"));
        }
        if (quote + 1 < line.size() && line[quote + 1] == '"') {
          cell.doubled = true;
          pos = quote + 2;
          continue;
        }
        cell.text = line.substr(start, quote - start);
        pos = quote + 1;
        break;
      }
      if (pos < line.size() && line[pos] != ',') {
        return Invalid(Cat("column ", column,
                           ": text after the closing quote (write \"\" for a "
                           "quote inside quotes)"));
      }
    } else {
      size_t end = line.find_first_of(",\"", pos);
      if (end != std::string_view::npos && line[end] == '"') {
        return Invalid(Cat("column ", column,
                           ": a quote in an unquoted field (quote the whole "
                           "field and write \"\" for the quote)"));
      }
      if (end == std::string_view::npos) end = line.size();
      cell.text = line.substr(pos, end - pos);
      pos = end;
    }
    cells.push_back(cell);
    if (pos == line.size()) return absl::OkStatus();
    ++pos;  // the comma
  }
}

bool IsEpochMillis(std::string_view text) {
  if (!text.empty() && text.front() == '-') text.remove_prefix(1);
  return !text.empty() &&
         text.find_first_not_of("0123456789") == std::string_view::npos;
}

}  // namespace

struct RecordCsvDecoder::Impl {
  // Where a schema's fields are in the header: columns[field_idx], or, when
  // some field has no column, the first such field.
  struct SchemaColumns {
    std::vector<size_t> columns;
    std::optional<size_t> missing_field;
  };

  std::vector<const Schema*> schemas;

  bool has_header = false;
  size_t column_count = 0;
  size_t type_column = kNoColumn;             // only with several schemas
  std::vector<SchemaColumns> schema_columns;  // per index into `schemas`

  // Reused between rows.
  std::vector<Cell> cells;
  std::string scratch;

  explicit Impl(std::vector<const Schema*> schemas_in);

  absl::Status ReadHeader(std::string_view line);
  absl::StatusOr<Record> Decode(std::string_view line);
  // `cell`'s value as text; a view into the line, or into `scratch` when
  // quotes had to be undoubled (valid until the next call).
  std::string_view Text(const Cell& cell);
  absl::Status DecodeField(const FieldDef& field, const Cell& cell,
                           Value& value);
};

RecordCsvDecoder::Impl::Impl(std::vector<const Schema*> schemas_in)
    : schemas(std::move(schemas_in)) {}

std::string_view RecordCsvDecoder::Impl::Text(const Cell& cell) {
  if (!cell.doubled) return cell.text;
  scratch.clear();
  AppendUnquoted(scratch, cell);
  return scratch;
}

absl::Status RecordCsvDecoder::Impl::ReadHeader(std::string_view line) {
  has_header = false;
  if (line.starts_with(kByteOrderMark)) line.remove_prefix(3);
  if (IsBlankLine(line)) return Invalid("empty header");
  if (absl::Status status = Split(line, cells); !status.ok()) {
    return Invalid(Cat("header: ", std::string(status.message())));
  }
  // Names compare by their text inside the quotes: undoubling "" is
  // one-to-one and an unquoted field holds no quote, so equal texts are
  // equal names and the other way round. Headers are short; the quadratic
  // scans run once per input.
  for (size_t column_idx = 0; column_idx < cells.size(); ++column_idx) {
    if (cells[column_idx].text.empty()) continue;
    for (size_t earlier_idx = 0; earlier_idx < column_idx; ++earlier_idx) {
      if (cells[earlier_idx].text == cells[column_idx].text) {
        return Invalid(Cat("duplicate column ", Quoted(Text(cells[column_idx])),
                           " (columns ", earlier_idx + 1, " and ",
                           column_idx + 1, ")"));
      }
    }
  }
  auto find_column = [&](std::string_view name) {
    for (size_t column_idx = 0; column_idx < cells.size(); ++column_idx) {
      if (!cells[column_idx].doubled && cells[column_idx].text == name) {
        return column_idx;
      }
    }
    return kNoColumn;
  };

  size_t type_col = kNoColumn;
  if (schemas.size() > 1) {
    type_col = find_column(kTypeColumn);
    if (type_col == kNoColumn) {
      std::vector<std::string> names;
      for (const Schema* schema : schemas) names.push_back(schema->name());
      return Invalid(Cat("missing column 'type' (each row's event type: ",
                         absl::StrJoin(names, ", "), ")"));
    }
  }
  std::vector<SchemaColumns> columns(schemas.size());
  for (size_t schema_idx = 0; schema_idx < schemas.size(); ++schema_idx) {
    const std::vector<FieldDef>& fields = schemas[schema_idx]->fields();
    SchemaColumns& schema_cols = columns[schema_idx];
    schema_cols.columns.resize(fields.size(), kNoColumn);
    for (size_t field_idx = 0; field_idx < fields.size(); ++field_idx) {
      schema_cols.columns[field_idx] = find_column(fields[field_idx].name);
      if (schema_cols.columns[field_idx] == kNoColumn &&
          !schema_cols.missing_field) {
        schema_cols.missing_field = field_idx;
      }
    }
  }
  if (schemas.size() == 1 && columns[0].missing_field) {
    return Invalid(Cat("missing column '",
                       schemas[0]->fields()[*columns[0].missing_field].name,
                       "'"));
  }
  column_count = cells.size();
  type_column = type_col;
  schema_columns = std::move(columns);
  has_header = true;
  return absl::OkStatus();
}

absl::StatusOr<Record> RecordCsvDecoder::Impl::Decode(std::string_view line) {
  if (absl::Status status = Split(line, cells); !status.ok()) return status;
  if (const std::optional<size_t> bad = io::FirstInvalidUtf8(line)) {
    // Between cells are only commas and quotes, so a cell holds the byte.
    size_t column = 1;
    while (column < cells.size() &&
           cells[column].text.data() <= line.data() + *bad) {
      ++column;
    }
    return Invalid(Cat("column ", column, ": invalid UTF-8"));
  }
  if (cells.size() != column_count) {
    return Invalid(
        Cat("row has ", Columns(cells.size()), ", the header ", column_count));
  }
  size_t schema_idx = 0;
  if (schemas.size() > 1) {
    const Cell& cell = cells[type_column];
    if (!cell.quoted && cell.text.empty()) {
      return Invalid("missing value for column 'type'");
    }
    const std::string_view type = Text(cell);
    while (schema_idx < schemas.size() && schemas[schema_idx]->name() != type) {
      ++schema_idx;
    }
    if (schema_idx == schemas.size()) {
      return Invalid(Cat("unknown event type ", Quoted(type)));
    }
  }
  const Schema* schema = schemas[schema_idx];
  const SchemaColumns& schema_cols = schema_columns[schema_idx];
  if (schema_cols.missing_field) {
    return Invalid(Cat("missing column '",
                       schema->fields()[*schema_cols.missing_field].name,
                       "' for event type '", schema->name(), "'"));
  }
  std::vector<Value> values(schema->fields().size());
  for (size_t field_idx = 0; field_idx < values.size(); ++field_idx) {
    if (absl::Status status = DecodeField(schema->fields()[field_idx],
                                          cells[schema_cols.columns[field_idx]],
                                          values[field_idx]);
        !status.ok()) {
      return status;
    }
  }
  return Record(schema, std::move(values));
}

absl::Status RecordCsvDecoder::Impl::DecodeField(const FieldDef& field,
                                                 const Cell& cell,
                                                 Value& value) {
  if (field.type == FieldType::kString) {
    std::string text;
    text.reserve(cell.text.size());
    AppendUnquoted(text, cell);
    value = std::move(text);
    return absl::OkStatus();
  }
  if (!cell.quoted && cell.text.empty()) {
    return Invalid(Cat("missing value for field '", field.name, "'"));
  }
  const std::string_view text = Text(cell);
  const char* const begin = text.data();
  const char* const end = text.data() + text.size();
  auto wrong_value = [&](std::string_view expected) {
    return Invalid(Cat("field '", field.name, "' must be ", expected, ", not ",
                       Quoted(text)));
  };
  switch (field.type) {
    case FieldType::kInt: {
      int64_t number = 0;
      const auto [ptr, ec] = std::from_chars(begin, end, number);
      if (ptr != end ||
          (ec != std::errc() && ec != std::errc::result_out_of_range)) {
        return wrong_value("an integer");
      }
      if (ec == std::errc::result_out_of_range) {
        return Invalid(io::IntegerOverflowError(field.name, field.type, text));
      }
      value = number;
      return absl::OkStatus();
    }
    case FieldType::kDouble: {
      double number = 0;
      const auto [ptr, ec] =
          std::from_chars(begin, end, number, std::chars_format::general);
      if (ptr != end || ec == std::errc::invalid_argument) {
        return wrong_value("a number");
      }
      if (ec == std::errc::result_out_of_range) {
        return Invalid(Cat("field '", field.name, "': ", Quoted(text),
                           " is out of range for a double"));
      }
      // JSON has no NaN or infinity, and the output writes them as null.
      if (!std::isfinite(number)) return wrong_value("a finite number");
      value = number;
      return absl::OkStatus();
    }
    case FieldType::kBool:
      if (text == "true") {
        value = true;
      } else if (text == "false") {
        value = false;
      } else {
        return wrong_value("true or false");
      }
      return absl::OkStatus();
    case FieldType::kTimestamp: {
      if (IsEpochMillis(text)) {
        int64_t millis = 0;
        const auto [ptr, ec] = std::from_chars(begin, end, millis);
        if (ec == std::errc::result_out_of_range) {
          return Invalid(
              io::IntegerOverflowError(field.name, field.type, text));
        }
        if (ec != std::errc() || millis < io::kMinMillis ||
            millis > io::kMaxMillis) {
          return Invalid(io::TimestampRangeError(field.name, text));
        }
        value = millis;
        return absl::OkStatus();
      }
      const io::ParsedTimestamp parsed = io::ParseTimestampText(text);
      if (parsed.problem != io::TimestampProblem::kNone) {
        return Invalid(
            io::TimestampTextError(field.name, text, parsed.problem));
      }
      value = parsed.millis;
      return absl::OkStatus();
    }
    case FieldType::kString:
      break;  // handled above
  }
  return absl::InternalError("unknown field type");
}

RecordCsvDecoder::RecordCsvDecoder(const PatternFile& file) {
  std::vector<const Schema*> schemas;
  for (const auto& schema : file.schemas()) schemas.push_back(schema.get());
  impl_ = std::make_unique<Impl>(std::move(schemas));
}

RecordCsvDecoder::RecordCsvDecoder(std::vector<const Schema*> schemas)
    : impl_(std::make_unique<Impl>(std::move(schemas))) {}

RecordCsvDecoder::~RecordCsvDecoder() = default;
RecordCsvDecoder::RecordCsvDecoder(RecordCsvDecoder&&) noexcept = default;
RecordCsvDecoder& RecordCsvDecoder::operator=(RecordCsvDecoder&&) noexcept =
    default;

absl::Status RecordCsvDecoder::ReadHeader(std::string_view line) {
  if (impl_->schemas.empty()) {
    return absl::FailedPreconditionError("the pattern file declares no events");
  }
  return impl_->ReadHeader(line);
}

bool RecordCsvDecoder::has_header() const { return impl_->has_header; }

absl::StatusOr<Record> RecordCsvDecoder::Decode(std::string_view line) {
  if (impl_->schemas.empty()) {
    return absl::FailedPreconditionError("the pattern file declares no events");
  }
  if (!impl_->has_header) {
    return absl::FailedPreconditionError(
        "no header: ReadHeader() must take the first line before Decode()");
  }
  return impl_->Decode(line);
}

}  // namespace cep
