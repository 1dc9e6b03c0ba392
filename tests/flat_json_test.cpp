// Tests for DecodeFlatJson (src/io/flat_json.hpp), RecordDecoder's fast
// path: exact values on the lines it takes, false on the lines it must leave
// to the DOM parser, and a differential test of RecordDecoder with
// JsonParsing::kFast against kDom on random and damaged lines (same Records,
// same error messages).

#include "io/flat_json.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cep/event.hpp"
#include "cep/record_json.hpp"

namespace cep {
namespace {

using ::testing::ElementsAre;

// event Auth { card string key; amount double; n int; ok bool; ts timestamp
// time }
Schema AuthSchema() {
  return Schema("Auth",
                {{"card", FieldType::kString},
                 {"amount", FieldType::kDouble},
                 {"n", FieldType::kInt},
                 {"ok", FieldType::kBool},
                 {"ts", FieldType::kTimestamp}},
                /*key_field=*/0, /*time_field=*/4);
}

TEST(FlatJsonTest, DecodesEveryFieldTypeExactly) {
  const Schema auth = AuthSchema();
  std::vector<Value> values;
  ASSERT_TRUE(io::DecodeFlatJson(
      R"({"card":"4000-0000-0000-0042","amount":61.28,"n":-3,"ok":true,)"
      R"("ts":1764547200121})",
      auth, values));
  EXPECT_THAT(values, ElementsAre(Value(std::string("4000-0000-0000-0042")),
                                  Value(61.28), Value(int64_t{-3}), Value(true),
                                  Value(int64_t{1764547200121})));
}

TEST(FlatJsonTest, TakesBlanksAnyOrderExponentsRfc3339AndUtf8) {
  const Schema auth = AuthSchema();
  std::vector<Value> values;
  ASSERT_TRUE(io::DecodeFlatJson(
      " {\t\"ts\" : \"2026-01-01T10:00:00.250+01:00\" , \"ok\":false,"
      "\"n\":0,\"amount\":-2.5E+3,\"card\":\"caf\xC3\xA9\"}\r",
      auth, values));
  EXPECT_THAT(values, ElementsAre(Value(std::string("caf\xC3\xA9")),
                                  Value(-2500.0), Value(int64_t{0}),
                                  Value(false), Value(int64_t{1767258000250})));
  // An integer for a double field is read as an integer, then converted.
  ASSERT_TRUE(io::DecodeFlatJson(
      R"({"card":"","amount":7,"n":123456789012345678,"ok":true,"ts":0})", auth,
      values));
  EXPECT_EQ(values[1], Value(7.0));
  EXPECT_EQ(values[2], Value(int64_t{123456789012345678}));
}

TEST(FlatJsonTest, LeavesEverythingElseToTheDomParser) {
  const Schema auth = AuthSchema();
  std::vector<Value> values;
  const std::string_view ok_rest = R"("amount":1,"n":1,"ok":true,"ts":1})";
  for (const std::string_view head : {
           R"({"card":"a\"b",)",          // an escape
           R"({"c\u0061rd":"a",)",        // an escape in a name
           "{\"card\":\"a\tb\",",         // a control character
           "{\"card\":\"\xC3\",",         // invalid UTF-8
           R"({"card":7,)",               // wrong type
           R"({"card":null,)",            // null
           R"({"extra":1,"card":"a",)",   // a member not declared
           R"({"card":"a","card":"b",)",  // a repeated field
           R"({"card":"a" "x",)",         // no comma
           R"({"card":"a",,)",            // two commas
           R"({card:"a",)",               // a name without quotes
           R"(["card":"a",)",             // not an object
       }) {
    const std::string line = std::string(head) + std::string(ok_rest);
    EXPECT_FALSE(io::DecodeFlatJson(line, auth, values)) << line;
  }
  for (
      const std::string_view line : {
          R"({"card":"a","amount":1,"n":1,"ok":true})",             // missing
          R"({"card":"a","amount":1,"n":1,"ok":true,"ts":1,})",     // comma
          R"({"card":"a","amount":1,"n":1,"ok":true,"ts":1}x)",     // after
          R"({"card":"a","amount":1,"n":1,"ok":true,"ts":1)",       // unclosed
          R"({"card":"a","amount":1,"n":-0,"ok":true,"ts":1})",     // -0
          R"({"card":"a","amount":-0,"n":1,"ok":true,"ts":1})",     // -0
          R"({"card":"a","amount":1,"n":1.0,"ok":true,"ts":1})",    // fraction
          R"({"card":"a","amount":1,"n":01,"ok":true,"ts":1})",     // leading 0
          R"({"card":"a","amount":1,"n":+1,"ok":true,"ts":1})",     // plus
          R"({"card":"a","amount":1.,"n":1,"ok":true,"ts":1})",     // "1."
          R"({"card":"a","amount":1e,"n":1,"ok":true,"ts":1})",     // "1e"
          R"({"card":"a","amount":1e400,"n":1,"ok":true,"ts":1})",  // infinite
          R"({"card":"a","amount":1,"n":1234567890123456789,"ok":true,"ts":1})",
          R"({"card":"a","amount":1,"n":1,"ok":truex,"ts":1})",
          R"({"card":"a","amount":1,"n":1,"ok":True,"ts":1})",
          R"({"card":"a","amount":1,"n":1,"ok":true,"ts":-"2026-01-01T10:00:00Z"})",
          R"({"card":"a","amount":1,"n":1,"ok":true,"ts":"2026-02-30T10:00:00Z"})",
          R"({"card":"a","amount":1,"n":1,"ok":true,"ts":253402300800000})",
          R"({"card":"a","amount":1,"n":1,"ok":true,"ts":1.5})",
          R"({})",
          R"()",
      }) {
    EXPECT_FALSE(io::DecodeFlatJson(line, auth, values)) << line;
  }
}

TEST(FlatJsonTest, DecimalsRoundAsStrtod) {
  // The short-decimal path divides by a power of ten: each result must be
  // the correctly rounded double, bit for bit.
  const Schema one("One", {{"x", FieldType::kDouble}});
  std::mt19937_64 rng(7);
  std::vector<Value> values;
  for (int round = 0; round < 200000; ++round) {
    std::string number = rng() % 2 == 0 ? "-" : "";
    const size_t int_digits = 1 + rng() % 8;
    const size_t fraction_digits = 1 + rng() % (16 - int_digits);
    number += std::to_string(1 + rng() % 9);
    for (size_t idx = 1; idx < int_digits + fraction_digits; ++idx) {
      if (idx == int_digits) number += '.';
      number += static_cast<char>('0' + rng() % 10);
    }
    if (int_digits == 1 && rng() % 2 == 0) number[number[0] == '-'] = '0';
    ASSERT_TRUE(io::DecodeFlatJson("{\"x\":" + number + "}", one, values))
        << number;
    const double want = std::strtod(number.c_str(), nullptr);
    const double got = std::get<double>(values[0]);
    ASSERT_EQ(std::memcmp(&got, &want, sizeof(double)), 0) << number;
  }
}

// ---- differential: kFast against kDom ------------------------------------

// A random line near the shape of the schema's events: the fields in a
// random order, sometimes with blanks, extra members, repeats or missing
// fields, values of every JSON kind; then, a third of the time, damaged by a
// few random edits with bytes that matter to JSON.
std::string RandomLine(std::mt19937_64& rng) {
  auto pick = [&rng](size_t n) { return static_cast<size_t>(rng() % n); };
  auto blank = [&]() -> std::string {
    static const char* kBlanks[] = {"", "", "", " ", "\t", "  ", "\r"};
    return kBlanks[pick(7)];
  };
  auto digits = [&](size_t n) {
    std::string out;
    for (size_t idx = 0; idx < n; ++idx)
      out += static_cast<char>('0' + pick(10));
    return out;
  };
  auto number = [&]() -> std::string {
    std::string out = pick(4) == 0 ? "-" : "";
    const size_t int_digits = 1 + pick(pick(6) == 0 ? 24 : 6);
    std::string whole = digits(int_digits);
    if (whole.size() > 1 && pick(4) != 0 && whole[0] == '0') whole[0] = '1';
    out += whole;
    if (pick(2) == 0) out += "." + digits(1 + pick(pick(5) == 0 ? 25 : 4));
    if (pick(6) == 0) {
      out += pick(2) == 0 ? "e" : "E";
      static const char* kSigns[] = {"", "+", "-"};
      out += kSigns[pick(3)];
      out += digits(1 + pick(3));
    }
    return out;
  };
  auto string = [&]() -> std::string {
    static const char* kStrings[] = {"\"4000-0000-0000-5741\"",
                                     "\"grocery\"",
                                     "\"\"",
                                     "\"a\\\"b\"",
                                     "\"caf\xC3\xA9\"",
                                     "\"\xC3\"",
                                     "\"a\\u0041\"",
                                     "\"2026-01-01T10:00:00Z\"",
                                     "\"2026-01-01 10:00:00.5-05:00\"",
                                     "\"2026-13-01T10:00:00Z\"",
                                     "\"x\ty\""};
    return kStrings[pick(11)];
  };
  auto value = [&]() -> std::string {
    switch (pick(9)) {
      case 0:
      case 1:
      case 2:
        return number();
      case 3:
      case 4:
        return string();
      case 5:
        return pick(2) == 0 ? "true" : "false";
      case 6:
        return "null";
      case 7:
        return "[1,{\"a\":2}]";
      default:
        return std::to_string(static_cast<int64_t>(rng() % 4000000000000000) -
                              100000000000000);
    }
  };
  static const char* kNames[] = {"card", "amount", "n",   "ok",
                                 "ts",   "extra",  "type"};
  std::vector<size_t> order = {0, 1, 2, 3, 4};
  std::shuffle(order.begin(), order.end(), rng);
  if (pick(5) == 0) order.push_back(pick(7));  // an extra or repeated member
  if (pick(8) == 0) order.erase(order.begin() + static_cast<long>(pick(5)));
  std::string line = blank() + "{";
  for (size_t idx = 0; idx < order.size(); ++idx) {
    if (idx > 0) line += ",";
    line +=
        blank() + "\"" + kNames[order[idx]] + "\"" + blank() + ":" + blank();
    // Mostly a value of the field's own type, so that many lines decode.
    const size_t name = order[idx];
    if (pick(8) != 0 && name < 5) {
      switch (name) {
        case 0:
          line += pick(4) != 0 ? "\"4000-0000-0000-5741\"" : string();
          break;
        case 1:
        case 2:
          line += number();
          break;
        case 3:
          line += pick(2) == 0 ? "true" : "false";
          break;
        default:
          line += pick(2) == 0 ? value() : "1764547200121";
      }
    } else {
      line += value();
    }
    line += blank();
  }
  line += "}" + blank();
  if (pick(3) == 0) {
    static const char kBytes[] = "{}[]:,\"\\ -+.eE0123456789tfnul\x01\x80\xC3";
    const size_t edits = 1 + pick(3);
    for (size_t edit = 0; edit < edits && !line.empty(); ++edit) {
      const size_t pos = pick(line.size());
      const char byte = kBytes[pick(sizeof(kBytes) - 1)];
      switch (pick(3)) {
        case 0:
          line[pos] = byte;
          break;
        case 1:
          line.insert(line.begin() + static_cast<long>(pos), byte);
          break;
        default:
          line.erase(pos, 1);
      }
    }
  }
  return line;
}

// Equal values, doubles bit for bit (== holds for 0.0 and -0.0, which print
// differently).
bool SameValues(const std::vector<Value>& a, const std::vector<Value>& b) {
  if (a != b) return false;
  for (size_t idx = 0; idx < a.size(); ++idx) {
    const double* x = std::get_if<double>(&a[idx]);
    const double* y = std::get_if<double>(&b[idx]);
    if (x != nullptr && std::memcmp(x, y, sizeof(double)) != 0) return false;
  }
  return true;
}

TEST(FlatJsonTest, FastAndDomAgreeOnRandomLines) {
  const Schema auth = AuthSchema();
  RecordDecoder fast({&auth}, JsonParsing::kFast);
  RecordDecoder dom({&auth}, JsonParsing::kDom);
  std::mt19937_64 rng(20261202);
  size_t decoded = 0;
  size_t fast_taken = 0;
  std::vector<Value> values;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(20);
  constexpr size_t kLines = 300000;
  size_t line_idx = 0;
  for (; line_idx < kLines && std::chrono::steady_clock::now() < deadline;
       ++line_idx) {
    const std::string line = RandomLine(rng);
    absl::StatusOr<Record> want = dom.Decode(line);
    absl::StatusOr<Record> got = fast.Decode(line);
    if (io::DecodeFlatJson(line, auth, values)) {
      ++fast_taken;
      // What the scanner takes, the DOM parser takes, with the same values.
      ASSERT_TRUE(want.ok()) << line << "\n" << want.status();
      ASSERT_TRUE(SameValues(values, want->values())) << line;
    }
    ASSERT_EQ(got.status(), want.status()) << line;
    if (want.ok()) {
      ++decoded;
      ASSERT_TRUE(SameValues(got->values(), want->values())) << line;
      ASSERT_EQ(&got->schema(), &want->schema());
    }
  }
  // The generator reaches both paths and both outcomes.
  EXPECT_GT(line_idx, 10000u);
  EXPECT_GT(fast_taken, line_idx / 20);
  EXPECT_GT(decoded, fast_taken);
  EXPECT_GT(line_idx - decoded, line_idx / 4);
}

// Scanning on one thread and building the Values from the packed fields on
// another (cep run --parallelism N) takes the lines DecodeFlatJson takes and
// yields its values, bit for bit.
TEST(FlatJsonTest, ScanPackUnpackYieldsWhatDecodeYields) {
  const Schema auth = AuthSchema();
  std::mt19937_64 rng(20261203);
  std::vector<Value> decoded;
  std::vector<Value> unpacked;
  std::array<io::FlatField, 64> fields;
  std::string packed;
  size_t taken = 0;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  size_t line_idx = 0;
  for (; line_idx < 100000 && std::chrono::steady_clock::now() < deadline;
       ++line_idx) {
    const std::string line = RandomLine(rng);
    const bool decodes = io::DecodeFlatJson(line, auth, decoded);
    ASSERT_EQ(io::ScanFlatJson(line, auth, fields), decodes) << line;
    if (!decodes) continue;
    ++taken;
    packed.clear();
    io::PackFlatFields(auth, fields, packed);
    ASSERT_TRUE(io::UnpackFlatFields(packed, auth, unpacked)) << line;
    ASSERT_TRUE(SameValues(unpacked, decoded)) << line;
    // A packing cut short or with bytes after it is refused.
    ASSERT_FALSE(io::UnpackFlatFields(
        std::string_view(packed).substr(0, packed.size() - 1), auth, unpacked));
    ASSERT_FALSE(io::UnpackFlatFields(packed + "x", auth, unpacked));
  }
  EXPECT_GT(line_idx, 10000u);
  EXPECT_GT(taken, line_idx / 20);
}

}  // namespace
}  // namespace cep
