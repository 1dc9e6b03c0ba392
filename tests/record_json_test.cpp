#include "cep/record_json.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <absl/status/status.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cep/dsl.hpp"
#include "cep/event.hpp"
#include "cep/match.hpp"

#include "testing/status_matchers.hpp"

namespace cep {
namespace {

using ::cep::testing::IsOk;
using ::cep::testing::StatusIs;
using ::testing::ElementsAre;

// event Auth { card string key; amount double; n int; ok bool; ts timestamp
// time }
Schema AuthSchema(uint32_t id = 0) {
  return Schema("Auth",
                {{"card", FieldType::kString},
                 {"amount", FieldType::kDouble},
                 {"n", FieldType::kInt},
                 {"ok", FieldType::kBool},
                 {"ts", FieldType::kTimestamp}},
                /*key_field=*/0, /*time_field=*/4, id);
}

absl::Status DecodeError(RecordDecoder& decoder, std::string_view line) {
  return decoder.Decode(line).status();
}

TEST(RecordDecoderTest, DecodesEveryFieldType) {
  Schema auth = AuthSchema();
  RecordDecoder decoder({&auth});
  auto record = decoder.Decode(
      R"({"card":"c1","amount":1.5,"n":-3,"ok":true,"ts":1700000000000})");
  ASSERT_THAT(record, IsOk());
  EXPECT_EQ(&record->schema(), &auth);
  EXPECT_THAT(
      record->values(),
      ElementsAre(Value(std::string("c1")), Value(1.5), Value(int64_t{-3}),
                  Value(true), Value(int64_t{1700000000000})));
}

TEST(RecordDecoderTest, IntegerIsAcceptedForDoubleAndExtraMembersIgnored) {
  Schema auth = AuthSchema();
  RecordDecoder decoder({&auth});
  auto record = decoder.Decode(
      R"({"extra":[1,{"a":2}],"ts":5,"ok":false,"n":0,"amount":7,"card":""})");
  ASSERT_THAT(record, IsOk());
  EXPECT_EQ((*record)[1], Value(7.0));
  EXPECT_EQ((*record)[4], Value(int64_t{5}));
}

TEST(RecordDecoderTest, MissingField) {
  Schema auth = AuthSchema();
  RecordDecoder decoder({&auth});
  EXPECT_THAT(
      DecodeError(decoder, R"({"amount":1.5,"n":1,"ok":true,"ts":1})"),
      StatusIs(absl::StatusCode::kInvalidArgument, "missing field 'card'"));
}

TEST(RecordDecoderTest, WrongTypesNameFieldAndBothTypes) {
  Schema auth = AuthSchema();
  RecordDecoder decoder({&auth});
  EXPECT_THAT(
      DecodeError(decoder,
                  R"({"card":"c","amount":"1.5","n":1,"ok":true,"ts":1})"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "field 'amount' must be a number, not a string"));
  EXPECT_THAT(
      DecodeError(decoder,
                  R"({"card":"c","amount":1,"n":1.5,"ok":true,"ts":1})"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "field 'n' must be an integer, not a number with a fraction "
               "or exponent"));
  EXPECT_THAT(
      DecodeError(decoder, R"({"card":7,"amount":1,"n":1,"ok":true,"ts":1})"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "field 'card' must be a string, not an integer"));
  EXPECT_THAT(
      DecodeError(decoder, R"({"card":"c","amount":1,"n":1,"ok":1,"ts":1})"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "field 'ok' must be a boolean, not an integer"));
  EXPECT_THAT(DecodeError(decoder,
                          R"({"card":null,"amount":1,"n":1,"ok":true,"ts":1})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "field 'card' must be a string, not null"));
  EXPECT_THAT(
      DecodeError(decoder,
                  R"({"card":"c","amount":1,"n":1,"ok":true,"ts":1.5})"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "field 'ts' must be a timestamp (epoch milliseconds as an "
               "integer, or an RFC 3339 string), not a number with a "
               "fraction or exponent"));
}

TEST(RecordDecoderTest, IntTooLarge) {
  Schema auth = AuthSchema();
  RecordDecoder decoder({&auth});
  EXPECT_THAT(
      DecodeError(
          decoder,
          R"({"card":"c","amount":1,"n":18446744073709551615,"ok":true,"ts":1})"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "field 'n': 18446744073709551615 is too large for an int"));
}

// Numbers simdjson cannot hold (integers beyond 64 bits, doubles beyond the
// double range) are valid JSON: the error names the field they are for.
TEST(RecordDecoderTest, NumbersBeyond64Bits) {
  Schema auth = AuthSchema();
  RecordDecoder decoder({&auth});
  EXPECT_THAT(
      DecodeError(
          decoder,
          R"({"card":"c","amount":1,"n":123456789012345678901234567890,"ok":true,"ts":1})"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "field 'n': 123456789012345678901234567890 is too large for an "
               "int"));
  EXPECT_THAT(
      DecodeError(
          decoder,
          R"({"card":"c","amount":1,"n":-9223372036854775809,"ok":true,"ts":1})"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "field 'n': -9223372036854775809 is too small for an int"));
  EXPECT_THAT(
      DecodeError(
          decoder,
          R"({"card":"c","amount":1,"n":1,"ok":true,"ts":123456789012345678901234567890})"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "field 'ts': 123456789012345678901234567890 is out of range "
               "for a timestamp (64-bit epoch milliseconds)"));
  EXPECT_THAT(
      DecodeError(decoder,
                  R"({"card":"c","amount":1e400,"n":1,"ok":true,"ts":1})"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "field 'amount': 1e400 is out of range for a double"));
  EXPECT_THAT(
      DecodeError(
          decoder,
          R"({"card":99999999999999999999,"amount":1,"n":1,"ok":true,"ts":1})"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "field 'card' must be a string, not an integer"));
  EXPECT_THAT(
      DecodeError(decoder,
                  R"({"card":"c","amount":1,"n":-1e999,"ok":true,"ts":1})"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "field 'n' must be an integer, not a number with a fraction or "
               "exponent"));
  // Fields are checked in schema order, as on any other line.
  EXPECT_THAT(
      DecodeError(decoder,
                  R"({"amount":1,"n":99999999999999999999,"ok":true,"ts":1})"),
      StatusIs(absl::StatusCode::kInvalidArgument, "missing field 'card'"));
}

TEST(RecordDecoderTest, NumbersBeyond64BitsWhereTheyFit) {
  Schema auth = AuthSchema();
  RecordDecoder decoder({&auth});
  // A double takes an integer of any size; members that are no field are
  // ignored, at any depth.
  auto record = decoder.Decode(
      R"({"extra":[1e999,{"x":-99999999999999999999}],"card":"c",)"
      R"("amount":100000000000000000000,"n":2,"ok":true,"ts":3,)"
      R"("more":99999999999999999999})");
  ASSERT_THAT(record, IsOk());
  EXPECT_EQ((*record)[1], Value(1e20));
  EXPECT_EQ((*record)[2], Value(int64_t{2}));
  // A name twice is an error, whichever of the two is too big.
  EXPECT_THAT(
      DecodeError(
          decoder,
          R"({"card":"c","amount":1,"n":5,"n":99999999999999999999,"ok":true,"ts":1})"),
      StatusIs(absl::StatusCode::kInvalidArgument, "duplicate member 'n'"));
  EXPECT_THAT(
      DecodeError(
          decoder,
          R"({"card":"c","amount":1,"n":99999999999999999999,"n":5,"ok":true,"ts":1})"),
      StatusIs(absl::StatusCode::kInvalidArgument, "duplicate member 'n'"));
}

TEST(RecordDecoderTest, DuplicateMembersAreRejected) {
  Schema auth = AuthSchema();
  RecordDecoder decoder({&auth});
  EXPECT_THAT(
      DecodeError(
          decoder,
          R"({"card":"c1","amount":1,"n":1,"ok":true,"ts":1,"amount":900})"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "duplicate member 'amount'"));
  // Members that are no field count too; nested objects are not checked.
  EXPECT_THAT(
      DecodeError(
          decoder,
          R"({"x":1,"card":"c1","amount":1,"n":1,"ok":true,"ts":1,"x":2})"),
      StatusIs(absl::StatusCode::kInvalidArgument, "duplicate member 'x'"));
  EXPECT_THAT(
      decoder.Decode(
          R"({"card":"c1","amount":1,"n":1,"ok":true,"ts":1,"o":{"a":1,"b":2}})"),
      IsOk());
  // Many members: sorted, not compared pairwise; the name is escaped.
  std::string many = R"({"card":"c1","amount":1,"n":1,"ok":true,"ts":1)";
  for (int idx = 0; idx < 40; ++idx) {
    many += ",\"m" + std::to_string(idx) + "\":0";
  }
  EXPECT_THAT(decoder.Decode(many + "}"), IsOk());
  EXPECT_THAT(
      DecodeError(decoder, many + R"(,"m\n7":1,"m\n7":2})"),
      StatusIs(absl::StatusCode::kInvalidArgument, "duplicate member 'm\\n7'"));
}

TEST(RecordDecoderTest, NumbersBeyond64BitsWithSeveralTypes) {
  Schema auth = AuthSchema(0);
  Schema refund("Refund",
                {{"card", FieldType::kString}, {"n", FieldType::kInt}}, 0,
                std::nullopt, 1);
  RecordDecoder decoder({&auth, &refund});
  EXPECT_THAT(
      DecodeError(decoder,
                  R"({"n":99999999999999999999,"type":"Refund","card":"c9"})"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "field 'n': 99999999999999999999 is too large for an int"));
}

TEST(RecordDecoderTest, MalformedJson) {
  Schema auth = AuthSchema();
  RecordDecoder decoder({&auth});
  EXPECT_THAT(DecodeError(decoder, "[1,2]"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "expected a JSON object, not an array"));
}

// Malformed lines: the column (in characters, from 1) of the first problem
// and what is there.
TEST(RecordDecoderTest, MalformedJsonNamesColumnAndWhatIsThere) {
  Schema auth = AuthSchema();
  RecordDecoder decoder({&auth});
  const std::pair<std::string, std::string> cases[] = {
      {R"({"card":"c",)",
       "column 13: expected a member name after ',', found the end of the "
       "line"},
      {R"({"card":"c"} trailing)",
       "column 14: expected the end of the line after the JSON value, found "
       "'trailing'"},
      {R"({"card":"c" "n":1})",
       "column 13: expected ',' or '}' after a member, found a string"},
      {R"({"card":"c",})",
       "column 13: expected a member name after ',', found '}'"},
      {R"({"card" "c"})",
       "column 9: expected ':' after the member name, found a string"},
      {R"({"card":})", "column 9: expected a value after ':', found '}'"},
      {R"({"card":yes})", "column 9: expected a value after ':', found 'yes'"},
      {R"({"card":tru})", "column 9: expected a value after ':', found 'tru'"},
      {R"({card:1})",
       "column 2: expected a member name or '}' after '{', found 'card'"},
      {R"({"a":[1,]})", "column 9: expected a value after ',', found ']'"},
      {R"({"a":[1 2]})",
       "column 9: expected ',' or ']' after an array element, found '2'"},
      {R"({"a":[)",
       "column 7: expected a value or ']' after '[', found the end of the "
       "line"},
      {R"({"a":[1,2}})",
       "column 10: expected ',' or ']' after an array element, found '}'"},
      {R"({"a":01})", "column 6: bad number '01'"},
      {R"({"a":1.})", "column 6: bad number '1.'"},
      {R"({"a":-})", "column 6: bad number '-'"},
      {R"({"a":2x})", "column 6: bad number '2x'"},
      {R"({"a":"x)", R"(column 6: unclosed string (no '"' ends it))"},
      {"{\"a\":\"x\ty\"}",
       "column 8: a control character (U+0009) inside a string; write it as "
       "an escape"},
      {R"({"a":"\x"})", R"(column 7: bad escape '\x' in a string)"},
      {R"({"a":"\u12"})",
       R"(column 7: bad escape '\u12' in a string (\u takes four hex digits))"},
      {R"({"a":"\udc00"})",
       R"(column 7: bad escape '\udc00' in a string (a lone low surrogate))"},
      {R"({"a":"\ud800x"})",
       R"(column 7: bad escape '\ud800' in a string (a high surrogate without its low surrogate))"},
      // Columns count characters, not bytes.
      {"{\"caf\xC3\xA9\":1,,}",
       "column 11: expected a member name after ',', found ','"},
      {"{\"a\":\"\xC3\xA9\xFF\"}", "column 8: invalid UTF-8"},
      {"{\"a\":1 \xC3\xA9}",
       "column 8: expected ',' or '}' after a member, found '\xC3\xA9'"},
  };
  for (const auto& [line, message] : cases) {
    EXPECT_THAT(DecodeError(decoder, line),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         "malformed JSON at " + message))
        << line;
  }
  // Nesting deeper than simdjson takes: no column to give.
  EXPECT_THAT(
      DecodeError(decoder, std::string(2000, '[') + std::string(2000, ']')),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "malformed JSON: nested too deeply"));
}

TEST(RecordDecoderTest, TimestampsAsRfc3339) {
  Schema auth = AuthSchema();
  RecordDecoder decoder({&auth});
  auto ts_of = [&](std::string ts) -> int64_t {
    auto record = decoder.Decode(
        R"({"card":"c","amount":1,"n":1,"ok":true,"ts":")" + ts + R"("})");
    EXPECT_THAT(record, IsOk()) << ts;
    return record.ok() ? record->GetInt(4) : -1;
  };
  EXPECT_EQ(ts_of("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ts_of("2026-01-01T10:00:00Z"), 1767261600000);
  EXPECT_EQ(ts_of("2026-01-01T10:00:00.250Z"), 1767261600250);
  EXPECT_EQ(ts_of("2026-01-01T10:00:00.2509z"), 1767261600250);
  EXPECT_EQ(ts_of("2026-01-01t11:00:00.5+01:00"), 1767261600500);
  EXPECT_EQ(ts_of("2026-01-01 05:30:00-04:30"), 1767261600000);
  EXPECT_EQ(ts_of("1969-12-31T23:59:59.999Z"), -1);
  EXPECT_EQ(ts_of("2024-02-29T00:00:00Z"), 1709164800000);
}

TEST(RecordDecoderTest, BadTimestamps) {
  Schema auth = AuthSchema();
  RecordDecoder decoder({&auth});
  for (const char* ts :
       {"2026-01-01", "2026-01-01T10:00:00", "2026-01-01T10:00:00.Z",
        "2026-01-01T10:00:00+0100", "1700000000000", "2026-1-01T00:00:00Z"}) {
    EXPECT_THAT(
        DecodeError(decoder, std::string(R"({"card":"c","amount":1,"n":1,)") +
                                 R"("ok":true,"ts":")" + ts + R"("})"),
        StatusIs(absl::StatusCode::kInvalidArgument,
                 std::string("field 'ts': timestamp '") + ts +
                     "' is not RFC 3339 or epoch milliseconds"));
  }
  // The shape of RFC 3339, but no such date or time.
  for (const char* ts :
       {"2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z", "2026-04-31T00:00:00Z",
        "2025-02-29T00:00:00Z", "2023-02-30T10:00:00Z", "2026-01-01T24:00:00Z",
        "2026-01-01T10:60:00Z", "2026-01-01T10:00:61Z",
        "2026-01-01T10:00:00+24:00"}) {
    EXPECT_THAT(
        DecodeError(decoder, std::string(R"({"card":"c","amount":1,"n":1,)") +
                                 R"("ok":true,"ts":")" + ts + R"("})"),
        StatusIs(absl::StatusCode::kInvalidArgument,
                 std::string("field 'ts': '") + ts + "' is not a valid date"));
  }
  // Valid dates whose offset moves them past year 9999 or before 0000 in
  // UTC: their epoch milliseconds would not read back (#13).
  for (const char* ts :
       {"9999-12-31T23:59:59.999-23:59", "0000-01-01T00:00:00+00:01"}) {
    EXPECT_THAT(
        DecodeError(decoder, std::string(R"({"card":"c","amount":1,"n":1,)") +
                                 R"("ok":true,"ts":")" + ts + R"("})"),
        StatusIs(absl::StatusCode::kInvalidArgument,
                 std::string("field 'ts': '") + ts +
                     "' is outside years 0000 to 9999 in UTC"));
  }
  EXPECT_THAT(
      DecodeError(decoder,
                  R"({"card":"c","amount":1,"n":1,"ok":true,"ts":1e20})"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               ::testing::HasSubstr("must be a timestamp")));
  EXPECT_THAT(
      DecodeError(
          decoder,
          R"({"card":"c","amount":1,"n":1,"ok":true,"ts":9000000000000000})"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "field 'ts': timestamp 9000000000000000 is outside years 0000 "
               "to 9999 (epoch milliseconds)"));
}

TEST(RecordDecoderTest, SeveralTypesNeedTypeMember) {
  Schema auth = AuthSchema(0);
  Schema refund("Refund", {{"card", FieldType::kString}}, 0, std::nullopt, 1);
  RecordDecoder decoder({&auth, &refund});
  auto record = decoder.Decode(R"({"card":"c9","type":"Refund"})");
  ASSERT_THAT(record, IsOk());
  EXPECT_EQ(&record->schema(), &refund);
  EXPECT_THAT(DecodeError(decoder, R"({"card":"c9"})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "missing member 'type' (one of Auth, Refund)"));
  EXPECT_THAT(DecodeError(decoder, R"({"type":"Login","card":"c9"})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "unknown event type 'Login'"));
  EXPECT_THAT(DecodeError(decoder, R"({"type":1,"card":"c9"})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "member 'type' must be a string, not an integer"));
}

TEST(RecordDecoderTest, OneTypeIgnoresTypeMember) {
  Schema refund("Refund", {{"card", FieldType::kString}});
  RecordDecoder decoder({&refund});
  EXPECT_THAT(decoder.Decode(R"({"type":"Other","card":"c9"})"), IsOk());
}

TEST(RecordJsonTest, BlankLines) {
  EXPECT_TRUE(IsBlankLine(""));
  EXPECT_TRUE(IsBlankLine(" \t\r"));
  EXPECT_FALSE(IsBlankLine(" {}"));
}

std::string ValueJson(const Value& value) {
  std::string out;
  AppendValueJson(out, value);
  return out;
}

TEST(RecordJsonTest, Values) {
  EXPECT_EQ(ValueJson(Value()), "null");
  EXPECT_EQ(ValueJson(Value(int64_t{-42})), "-42");
  EXPECT_EQ(ValueJson(Value(true)), "true");
  EXPECT_EQ(ValueJson(Value(2.0)), "2.0");
  EXPECT_EQ(ValueJson(Value(-0.0)), "-0.0");
  EXPECT_EQ(ValueJson(Value(0.1)), "0.1");
  EXPECT_EQ(ValueJson(Value(1e100)), "1e+100");
  EXPECT_EQ(ValueJson(Value(123456789012.5)), "123456789012.5");
  EXPECT_EQ(ValueJson(Value(std::numeric_limits<double>::quiet_NaN())), "null");
  EXPECT_EQ(ValueJson(Value(-std::numeric_limits<double>::infinity())), "null");
  EXPECT_EQ(ValueJson(Value(std::string("a\"b\\c\n\t\x01\x1f/é"))),
            "\"a\\\"b\\\\c\\n\\t\\u0001\\u001f/é\"");
}

TEST(RecordJsonTest, FormatMatchAndTimeout) {
  Schema auth = AuthSchema();
  Record r0(&auth, {Value(std::string("c1")), Value(1.0), Value(int64_t{1}),
                    Value(true), Value(int64_t{1000})});
  Record r1(&auth, {Value(std::string("c1")), Value(600.25), Value(int64_t{2}),
                    Value(false), Value(int64_t{2000})});
  Match<Record> match;
  match.stages.push_back({"probe", {{r0, FromMillis(1000), 0}}});
  match.stages.push_back({"cashout", {{r1, FromMillis(2000), 3}}});
  std::string out;
  AppendMatchJson(out, "card_testing", Value(std::string("c1")), match,
                  MatchKind::kMatch, false);
  EXPECT_EQ(
      out,
      R"({"pattern":"card_testing","key":"c1","events":{"probe":[{"seq":0,"card":"c1","amount":1.0,"n":1,"ok":true,"ts":1000}],"cashout":[{"seq":3,"card":"c1","amount":600.25,"n":2,"ok":false,"ts":2000}]}})");
  out.clear();
  match.stages.pop_back();
  AppendMatchJson(out, "p", Value(), match, MatchKind::kTimeout, true);
  EXPECT_EQ(
      out,
      R"({"pattern":"p","key":null,"events":{"probe":[{"seq":0,"type":"Auth","card":"c1","amount":1.0,"n":1,"ok":true,"ts":1000}]},"timeout":true})");
}

TEST(RecordJsonTest, FormatLateWithTypeWhenFileHasSeveralTypes) {
  std::vector<std::unique_ptr<const Schema>> schemas;
  schemas.push_back(std::make_unique<Schema>(
      "A", std::vector<FieldDef>{{"x", FieldType::kInt}}, std::nullopt,
      std::nullopt, 0));
  schemas.push_back(std::make_unique<Schema>(
      "B", std::vector<FieldDef>{{"y", FieldType::kString}}, std::nullopt,
      std::nullopt, 1));
  const Schema* b = schemas[1].get();
  PatternFile file("f.cep", std::move(schemas), {});
  Record record(b, {Value(std::string("v"))});
  EXPECT_EQ(FormatLate(file, record, 7), R"({"seq":7,"type":"B","y":"v"})");
}

TEST(RecordJsonTest, ParseRfc3339) {
  auto ts = ParseRfc3339("2026-01-01T10:00:00Z");
  ASSERT_THAT(ts, IsOk());
  EXPECT_EQ(ToMillis(*ts), 1767261600000);
  EXPECT_THAT(ParseRfc3339("yesterday"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "'yesterday' is not an RFC 3339 date-time"));
  EXPECT_THAT(ParseRfc3339("2023-02-30T10:00:00Z"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "'2023-02-30T10:00:00Z' is not a valid date"));
  EXPECT_THAT(ParseRfc3339("9999-12-31T23:00:00-01:00"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "'9999-12-31T23:00:00-01:00' is outside years 0000 to "
                       "9999 in UTC"));
  ASSERT_THAT(ParseRfc3339("9999-12-31T23:59:59.999Z"), IsOk());
}

}  // namespace
}  // namespace cep
