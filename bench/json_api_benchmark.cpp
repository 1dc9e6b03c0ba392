// simdjson's two APIs on one card-testing JSON line (about 110 bytes), for
// the choice of how `cep run` decodes (DESIGN.md, "Files and outputs"):
//
//   BM_DomFields        the validating DOM parser (what RecordDecoder uses):
//                       parse, then read the five fields
//   BM_OnDemandFields   the on-demand API: the five fields, in line order
//   BM_OnDemandKey      the on-demand API: only the key field ("card"), as a
//                       worker that routes by key before decoding would
//   BM_RecordDecoder    RecordDecoder::Decode into an Auth Record (the
//                       checks of record_json.hpp, the Record's values);
//                       parsing:0 its one-pass scanner (JsonParsing::kFast,
//                       what `cep run` uses), parsing:1 the DOM (kDom)
//
// Each reports items/s (lines) and checks the values it read before timing.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include <benchmark/benchmark.h>

#include "cep/dsl.hpp"
#include "cep/event.hpp"
#include "cep/record_json.hpp"

#include "simdjson.h"

namespace {

constexpr size_t kLines = 1024;  // a power of two

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "json_api_benchmark: %s\n", what);
    std::abort();
  }
}

// Lines as `cep gen card-testing` writes them, each with simdjson's padding.
struct Lines {
  std::vector<simdjson::padded_string> padded;
  std::vector<std::string> text;
};

const Lines& MakeLines() {
  static const Lines lines = [] {
    Lines made;
    const char* merchants[] = {"grocery", "online", "fuel", "pharmacy"};
    uint64_t state = 1;
    for (size_t idx = 0; idx < kLines; ++idx) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      char line[256];
      std::snprintf(line, sizeof(line),
                    "{\"card\":\"4000-0000-0000-%04u\",\"amount\":%u.%02u,"
                    "\"merchant\":\"%s\",\"result\":\"approved\",\"ts\":%llu}",
                    static_cast<unsigned>((state >> 20) % 10000),
                    static_cast<unsigned>((state >> 40) % 1000),
                    static_cast<unsigned>((state >> 50) % 100),
                    merchants[(state >> 60) % 4],
                    static_cast<unsigned long long>(1764547200000 + idx * 90));
      made.text.emplace_back(line);
      made.padded.emplace_back(made.text.back());
    }
    return made;
  }();
  return lines;
}

struct Fields {
  std::string_view card;
  double amount = 0;
  std::string_view merchant;
  std::string_view result;
  int64_t ts = 0;
};

bool DomFields(simdjson::dom::parser& parser,
               const simdjson::padded_string& line, Fields& out) {
  simdjson::dom::element doc;
  if (parser.parse(line).get(doc)) return false;
  simdjson::dom::object object;
  if (doc.get_object().get(object)) return false;
  return !object["card"].get_string().get(out.card) &&
         !object["amount"].get_double().get(out.amount) &&
         !object["merchant"].get_string().get(out.merchant) &&
         !object["result"].get_string().get(out.result) &&
         !object["ts"].get_int64().get(out.ts);
}

bool OnDemandFields(simdjson::ondemand::parser& parser,
                    const simdjson::padded_string& line, Fields& out) {
  simdjson::ondemand::document doc;
  if (parser.iterate(line).get(doc)) return false;
  return !doc["card"].get_string().get(out.card) &&
         !doc["amount"].get_double().get(out.amount) &&
         !doc["merchant"].get_string().get(out.merchant) &&
         !doc["result"].get_string().get(out.result) &&
         !doc["ts"].get_int64().get(out.ts);
}

bool OnDemandKey(simdjson::ondemand::parser& parser,
                 const simdjson::padded_string& line, std::string_view& key) {
  simdjson::ondemand::document doc;
  if (parser.iterate(line).get(doc)) return false;
  return !doc["card"].get_string().get(key);
}

void BM_DomFields(benchmark::State& state) {
  const Lines& lines = MakeLines();
  simdjson::dom::parser parser;
  Fields fields;
  Check(DomFields(parser, lines.padded[0], fields) &&
            lines.text[0].find(fields.card) != std::string::npos,
        "dom: wrong fields");
  size_t idx = 0;
  for (auto _ : state) {
    Check(DomFields(parser, lines.padded[idx], fields), "dom: parse failed");
    benchmark::DoNotOptimize(fields);
    idx = (idx + 1) & (kLines - 1);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DomFields);

void BM_OnDemandFields(benchmark::State& state) {
  const Lines& lines = MakeLines();
  simdjson::ondemand::parser parser;
  Fields fields;
  Check(OnDemandFields(parser, lines.padded[0], fields) &&
            lines.text[0].find(fields.card) != std::string::npos,
        "on-demand: wrong fields");
  size_t idx = 0;
  for (auto _ : state) {
    Check(OnDemandFields(parser, lines.padded[idx], fields),
          "on-demand: parse failed");
    benchmark::DoNotOptimize(fields);
    idx = (idx + 1) & (kLines - 1);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_OnDemandFields);

void BM_OnDemandKey(benchmark::State& state) {
  const Lines& lines = MakeLines();
  simdjson::ondemand::parser parser;
  std::string_view key;
  Check(OnDemandKey(parser, lines.padded[0], key) &&
            lines.text[0].find(key) != std::string::npos,
        "on-demand key: wrong key");
  size_t idx = 0;
  for (auto _ : state) {
    Check(OnDemandKey(parser, lines.padded[idx], key),
          "on-demand key: parse failed");
    benchmark::DoNotOptimize(key);
    idx = (idx + 1) & (kLines - 1);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_OnDemandKey);

void BM_RecordDecoder(benchmark::State& state) {
  const Lines& lines = MakeLines();
  absl::StatusOr<cep::PatternFile> file = cep::ParsePatternFile(
      "event Auth {\n  card string key\n  amount double\n  merchant string\n"
      "  result string\n  ts timestamp time\n}\n"
      "pattern p on Auth {\n  begin a where amount > 1\n}\n",
      "auth.cep");
  Check(file.ok(), "pattern file");
  const auto parsing =
      state.range(0) == 0 ? cep::JsonParsing::kFast : cep::JsonParsing::kDom;
  cep::RecordDecoder decoder(*file, parsing);
  cep::RecordDecoder dom(*file, cep::JsonParsing::kDom);
  for (const std::string& line : lines.text) {
    absl::StatusOr<cep::Record> got = decoder.Decode(line);
    absl::StatusOr<cep::Record> want = dom.Decode(line);
    Check(got.ok() && want.ok() && *got == *want, "record: wrong values");
  }
  size_t idx = 0;
  for (auto _ : state) {
    absl::StatusOr<cep::Record> record = decoder.Decode(lines.text[idx]);
    Check(record.ok(), "record: decode failed");
    benchmark::DoNotOptimize(record);
    idx = (idx + 1) & (kLines - 1);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RecordDecoder)->ArgName("parsing")->Arg(0)->Arg(1);

}  // namespace

BENCHMARK_MAIN();
