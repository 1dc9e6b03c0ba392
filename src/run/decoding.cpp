// LineDecoder: see decoding.hpp.

#include "decoding.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "../io/flat_json.hpp"

namespace cep::run {

LineDecoder::LineDecoder(const PatternFile& file, InputFormat format)
    : file_(file), format_(format), json_(file), csv_(file) {}

Decoded LineDecoder::Decode(std::string_view raw, Record& record,
                            std::string& error) {
  // Most lines: one JSON object of the only event type. The scanner takes
  // no line with a NUL byte, a blank line or a CSV header, so the checks
  // below would pass it; what it declines takes the full path.
  if (format_ == InputFormat::kJsonl && file_.schemas().size() == 1) {
    const Schema* schema = file_.schemas().front().get();
    if (io::DecodeFlatJson(raw, *schema, values_)) {
      record = Record(schema, std::move(values_));
      return Decoded::kEvent;
    }
  }
  std::string_view line = raw;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.find('\0') != std::string_view::npos) {
    error = format_ == InputFormat::kCsv
                ? "the input is not text (it contains a NUL byte); expected "
                  "CSV with a header row"
                : "the input is not text (it contains a NUL byte); expected "
                  "one JSON object per line";
    return awaiting_header() ? Decoded::kFatal : Decoded::kBad;
  }
  if (IsBlankLine(line)) return Decoded::kNothing;
  if (awaiting_header()) {
    if (absl::Status status = csv_.ReadHeader(line); !status.ok()) {
      error = "header: ";
      error += std::string(status.message());
      return Decoded::kFatal;
    }
    header_.assign(line);
    return Decoded::kNothing;
  }
  absl::StatusOr<Record> decoded =
      format_ == InputFormat::kCsv ? csv_.Decode(line) : json_.Decode(line);
  if (!decoded.ok()) {
    error = std::string(decoded.status().message());
    return Decoded::kBad;
  }
  record = *std::move(decoded);
  return Decoded::kEvent;
}

std::unique_ptr<LineDecoder> LineDecoder::Clone() const {
  auto copy = std::make_unique<LineDecoder>(file_, format_);
  if (format_ == InputFormat::kCsv && csv_.has_header()) {
    copy->header_ = header_;
    copy->csv_.ReadHeader(copy->header_).IgnoreError();
  }
  return copy;
}

}  // namespace cep::run
