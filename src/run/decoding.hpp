// LineDecoder: one frame's text to a Record of the file's event types,
// in the input format (JSON lines or CSV rows after a header), with the
// checks a run makes before decoding (text, not binary; blank lines).
// Internal to src/run/: not installed, not under include/.
//
// Not thread-safe (the decoders keep buffers): one per thread; a copy made
// with Clone() decodes the same way (a CSV decoder with the same header).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

#include "cep/dsl.hpp"
#include "cep/event.hpp"
#include "cep/record_csv.hpp"
#include "cep/record_json.hpp"
#include "cep/run.hpp"

namespace cep::run {

// What a frame held.
enum class Decoded : uint8_t {
  kEvent,    // an event: the record is set
  kNothing,  // a blank line, or the CSV header
  kBad,      // not an event (the error says why); under OnError::kSkip a
             // dead letter
  kFatal,    // the CSV header is missing or bad: the run cannot go on
};

class LineDecoder {
 public:
  // `file` must outlive the decoder.
  LineDecoder(const PatternFile& file, InputFormat format);

  // Decodes `raw` (a frame's text). kBad and kFatal set `error` to the
  // reason, without "INPUT:LINE: error: ".
  Decoded Decode(std::string_view raw, Record& record, std::string& error);

  // Whether the header of a CSV input is still to come (lines before it
  // are not skippable).
  bool awaiting_header() const {
    return format_ == InputFormat::kCsv && !csv_.has_header();
  }

  // A decoder for another thread, in the same state.
  std::unique_ptr<LineDecoder> Clone() const;

 private:
  const PatternFile& file_;
  InputFormat format_;
  RecordDecoder json_;
  RecordCsvDecoder csv_;
  std::string header_;         // the CSV header, for Clone()
  std::vector<Value> values_;  // of the record being decoded
};

}  // namespace cep::run
