#include "cep/record_csv.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <absl/status/status.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cep/dsl.hpp"
#include "cep/event.hpp"

#include "testing/status_matchers.hpp"

namespace cep {
namespace {

using ::cep::testing::IsOk;
using ::cep::testing::StatusIs;
using ::testing::ElementsAre;

constexpr std::string_view kAuthHeader = "card,amount,n,ok,ts";

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

// event Decline { card string key; reason string; ts timestamp time }
Schema DeclineSchema(uint32_t id = 1) {
  return Schema("Decline",
                {{"card", FieldType::kString},
                 {"reason", FieldType::kString},
                 {"ts", FieldType::kTimestamp}},
                /*key_field=*/0, /*time_field=*/2, id);
}

Value Str(std::string_view text) { return Value(std::string(text)); }
Value Int(int64_t number) { return Value(number); }

// StatusIs(kInvalidArgument, message), shorter.
auto IsInvalid(std::string_view message) {
  return StatusIs(absl::StatusCode::kInvalidArgument, std::string(message));
}

// The status of decoding `row` of an Auth file with kAuthHeader.
absl::Status AuthRowError(std::string_view row) {
  Schema auth = AuthSchema();
  RecordCsvDecoder decoder({&auth});
  EXPECT_THAT(decoder.ReadHeader(kAuthHeader), IsOk());
  return decoder.Decode(row).status();
}

// ---- one event type ---------------------------------------------------------

TEST(RecordCsvDecoderTest, DecodesEveryFieldType) {
  Schema auth = AuthSchema();
  RecordCsvDecoder decoder({&auth});
  ASSERT_THAT(decoder.ReadHeader(kAuthHeader), IsOk());
  auto record = decoder.Decode("c1,1.5,-3,true,1700000000000");
  ASSERT_THAT(record, IsOk());
  EXPECT_EQ(&record->schema(), &auth);
  EXPECT_THAT(record->values(), ElementsAre(Str("c1"), Value(1.5), Int(-3),
                                            Value(true), Int(1700000000000)));
}

TEST(RecordCsvDecoderTest, ColumnsInAnyOrderAndUnknownColumnsIgnored) {
  Schema auth = AuthSchema();
  RecordCsvDecoder decoder({&auth});
  ASSERT_THAT(decoder.ReadHeader("ts,note,ok,type,n,amount,card"), IsOk());
  auto record = decoder.Decode("5,\"x, y\",false,Other,7,2,c2");
  ASSERT_THAT(record, IsOk());
  EXPECT_THAT(record->values(),
              ElementsAre(Str("c2"), Value(2.0), Int(7), Value(false), Int(5)));
}

TEST(RecordCsvDecoderTest, ConstructsFromPatternFile) {
  std::vector<std::unique_ptr<const Schema>> schemas;
  schemas.push_back(std::make_unique<Schema>(
      "A", std::vector<FieldDef>{{"x", FieldType::kInt}}, std::nullopt,
      std::nullopt, 0));
  const Schema* a = schemas[0].get();
  PatternFile file("f.cep", std::move(schemas), {});
  RecordCsvDecoder decoder(file);
  ASSERT_THAT(decoder.ReadHeader("x"), IsOk());
  auto record = decoder.Decode("42");
  ASSERT_THAT(record, IsOk());
  EXPECT_EQ(&record->schema(), a);
  EXPECT_THAT(record->values(), ElementsAre(Int(42)));
}

TEST(RecordCsvDecoderTest, DecodesSeveralRowsWithOneDecoder) {
  Schema auth = AuthSchema();
  RecordCsvDecoder decoder({&auth});
  ASSERT_THAT(decoder.ReadHeader(kAuthHeader), IsOk());
  auto first = decoder.Decode("c1,1,1,true,1");
  auto bad = decoder.Decode("c2,x,2,true,2");
  auto second = decoder.Decode("c3,3,3,false,3");
  ASSERT_THAT(first, IsOk());
  EXPECT_THAT(bad, StatusIs(absl::StatusCode::kInvalidArgument,
                            "field 'amount' must be a number, not 'x'"));
  ASSERT_THAT(second, IsOk());
  EXPECT_THAT(first->values(),
              ElementsAre(Str("c1"), Value(1.0), Int(1), Value(true), Int(1)));
  EXPECT_THAT(second->values(),
              ElementsAre(Str("c3"), Value(3.0), Int(3), Value(false), Int(3)));
}

TEST(RecordCsvDecoderTest, HeaderWithByteOrderMarkAndCrlf) {
  Schema auth = AuthSchema();
  RecordCsvDecoder decoder({&auth});
  ASSERT_THAT(decoder.ReadHeader("\xEF\xBB\xBF"
                                 "card,amount,n,ok,ts\r"),
              IsOk());
  auto record = decoder.Decode("c1,1.5,2,true,3\r");
  ASSERT_THAT(record, IsOk());
  EXPECT_THAT(record->values(),
              ElementsAre(Str("c1"), Value(1.5), Int(2), Value(true), Int(3)));
}

TEST(RecordCsvDecoderTest, TrailingCommaMakesAnUnnamedColumn) {
  Schema auth = AuthSchema();
  RecordCsvDecoder decoder({&auth});
  ASSERT_THAT(decoder.ReadHeader("card,,amount,n,ok,ts,"), IsOk());
  auto record = decoder.Decode("c1,ignored,1.5,2,true,3,");
  ASSERT_THAT(record, IsOk());
  EXPECT_THAT(record->values(),
              ElementsAre(Str("c1"), Value(1.5), Int(2), Value(true), Int(3)));
}

TEST(RecordCsvDecoderTest, ReadHeaderAgainReplacesTheHeader) {
  Schema auth = AuthSchema();
  RecordCsvDecoder decoder({&auth});
  ASSERT_THAT(decoder.ReadHeader(kAuthHeader), IsOk());
  ASSERT_THAT(decoder.ReadHeader("ts,ok,n,amount,card"), IsOk());
  auto record = decoder.Decode("3,true,2,1.5,c1");
  ASSERT_THAT(record, IsOk());
  EXPECT_THAT(record->values(),
              ElementsAre(Str("c1"), Value(1.5), Int(2), Value(true), Int(3)));
}

// ---- quoting ----------------------------------------------------------------

TEST(RecordCsvDecoderTest, QuotedFieldsOfEveryType) {
  Schema auth = AuthSchema();
  RecordCsvDecoder decoder({&auth});
  ASSERT_THAT(decoder.ReadHeader(R"("card","amount","n","ok","ts")"), IsOk());
  auto record = decoder.Decode(R"("c,1","2.5","7","false","1")");
  ASSERT_THAT(record, IsOk());
  EXPECT_THAT(record->values(), ElementsAre(Str("c,1"), Value(2.5), Int(7),
                                            Value(false), Int(1)));
}

TEST(RecordCsvDecoderTest, DoubledQuoteInsideQuotesIsAQuote) {
  Schema auth = AuthSchema();
  RecordCsvDecoder decoder({&auth});
  ASSERT_THAT(decoder.ReadHeader(kAuthHeader), IsOk());
  auto record = decoder.Decode(R"("say ""hi"", then ""bye""",1,2,true,3)");
  ASSERT_THAT(record, IsOk());
  EXPECT_EQ(record->GetString(0), R"(say "hi", then "bye")");
}

TEST(RecordCsvDecoderTest, QuotedFieldOfOnlyAQuote) {
  Schema auth = AuthSchema();
  RecordCsvDecoder decoder({&auth});
  ASSERT_THAT(decoder.ReadHeader(kAuthHeader), IsOk());
  auto record = decoder.Decode(R"("""",1,2,true,3)");
  ASSERT_THAT(record, IsOk());
  EXPECT_EQ(record->GetString(0), "\"");
}

TEST(RecordCsvDecoderTest, EmptyStringFieldQuotedOrNot) {
  Schema auth = AuthSchema();
  RecordCsvDecoder decoder({&auth});
  ASSERT_THAT(decoder.ReadHeader(kAuthHeader), IsOk());
  auto unquoted = decoder.Decode(",1,2,true,3");
  ASSERT_THAT(unquoted, IsOk());
  EXPECT_EQ(unquoted->GetString(0), "");
  auto quoted = decoder.Decode(R"("",1,2,true,3)");
  ASSERT_THAT(quoted, IsOk());
  EXPECT_EQ(quoted->GetString(0), "");
}

TEST(RecordCsvDecoderTest, SpacesArePartOfAString) {
  Schema auth = AuthSchema();
  RecordCsvDecoder decoder({&auth});
  ASSERT_THAT(decoder.ReadHeader(kAuthHeader), IsOk());
  auto record = decoder.Decode(" c 1 ,1,2,true,3");
  ASSERT_THAT(record, IsOk());
  EXPECT_EQ(record->GetString(0), " c 1 ");
}

// ---- values -----------------------------------------------------------------

TEST(RecordCsvDecoderTest, IntLimits) {
  Schema a("A", {{"x", FieldType::kInt}});
  RecordCsvDecoder decoder({&a});
  ASSERT_THAT(decoder.ReadHeader("x"), IsOk());
  auto max = decoder.Decode("9223372036854775807");
  auto min = decoder.Decode("-9223372036854775808");
  auto zero = decoder.Decode("-007");
  ASSERT_THAT(max, IsOk());
  ASSERT_THAT(min, IsOk());
  ASSERT_THAT(zero, IsOk());
  EXPECT_EQ(max->GetInt(0), INT64_MAX);
  EXPECT_EQ(min->GetInt(0), INT64_MIN);
  EXPECT_EQ(zero->GetInt(0), -7);
}

TEST(RecordCsvDecoderTest, DoubleForms) {
  Schema a("A", {{"x", FieldType::kDouble}});
  RecordCsvDecoder decoder({&a});
  ASSERT_THAT(decoder.ReadHeader("x"), IsOk());
  auto integer = decoder.Decode("3");
  auto exponent = decoder.Decode("2.5e3");
  auto negative = decoder.Decode("-0.125");
  auto leading_dot = decoder.Decode(".5");
  ASSERT_THAT(integer, IsOk());
  ASSERT_THAT(exponent, IsOk());
  ASSERT_THAT(negative, IsOk());
  ASSERT_THAT(leading_dot, IsOk());
  EXPECT_EQ(integer->GetDouble(0), 3.0);
  EXPECT_EQ(exponent->GetDouble(0), 2500.0);
  EXPECT_EQ(negative->GetDouble(0), -0.125);
  EXPECT_EQ(leading_dot->GetDouble(0), 0.5);
}

TEST(RecordCsvDecoderTest, TimestampAsRfc3339) {
  Schema auth = AuthSchema();
  RecordCsvDecoder decoder({&auth});
  ASSERT_THAT(decoder.ReadHeader(kAuthHeader), IsOk());
  auto utc = decoder.Decode("c1,1,1,true,2026-01-01T10:00:00Z");
  auto offset = decoder.Decode("c1,1,1,true,2026-01-01T10:00:00.250+01:00");
  auto space = decoder.Decode("c1,1,1,true,\"2026-01-01 10:00:00z\"");
  ASSERT_THAT(utc, IsOk());
  ASSERT_THAT(offset, IsOk());
  ASSERT_THAT(space, IsOk());
  EXPECT_EQ(utc->GetInt(4), 1767261600000);
  EXPECT_EQ(offset->GetInt(4), 1767258000250);
  EXPECT_EQ(space->GetInt(4), 1767261600000);
}

TEST(RecordCsvDecoderTest, TimestampAsEpochMillisWithinYears0000To9999) {
  Schema a("A", {{"t", FieldType::kTimestamp}});
  RecordCsvDecoder decoder({&a});
  ASSERT_THAT(decoder.ReadHeader("t"), IsOk());
  auto negative = decoder.Decode("-1");
  auto first = decoder.Decode("-62167219200000");
  auto last = decoder.Decode("253402300799999");
  ASSERT_THAT(negative, IsOk());
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(last, IsOk());
  EXPECT_EQ(negative->GetInt(0), -1);
  EXPECT_EQ(first->GetInt(0), -62167219200000);
  EXPECT_EQ(last->GetInt(0), 253402300799999);
}

// ---- several event types ----------------------------------------------------

TEST(RecordCsvDecoderTest, TypeColumnPicksTheSchema) {
  Schema auth = AuthSchema(0);
  Schema decline = DeclineSchema(1);
  RecordCsvDecoder decoder({&auth, &decline});
  ASSERT_THAT(decoder.ReadHeader("type,card,amount,n,ok,ts,reason"), IsOk());
  // Columns of the other type may be empty or hold anything.
  auto a = decoder.Decode("Auth,c1,1.5,2,true,5,");
  auto d = decoder.Decode("Decline,c1,,x,,6,limit");
  auto quoted = decoder.Decode(R"("Decline","c2",,,,7,"over, limit")");
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(d, IsOk());
  ASSERT_THAT(quoted, IsOk());
  EXPECT_EQ(&a->schema(), &auth);
  EXPECT_THAT(a->values(),
              ElementsAre(Str("c1"), Value(1.5), Int(2), Value(true), Int(5)));
  EXPECT_EQ(&d->schema(), &decline);
  EXPECT_THAT(d->values(), ElementsAre(Str("c1"), Str("limit"), Int(6)));
  EXPECT_EQ(&quoted->schema(), &decline);
  EXPECT_THAT(quoted->values(),
              ElementsAre(Str("c2"), Str("over, limit"), Int(7)));
}

TEST(RecordCsvDecoderTest, HeaderMayLackColumnsOfSomeTypes) {
  Schema auth = AuthSchema(0);
  Schema decline = DeclineSchema(1);
  RecordCsvDecoder decoder({&auth, &decline});
  ASSERT_THAT(decoder.ReadHeader("card,ts,type,reason"), IsOk());
  auto d = decoder.Decode("c1,6,Decline,limit");
  ASSERT_THAT(d, IsOk());
  EXPECT_THAT(d->values(), ElementsAre(Str("c1"), Str("limit"), Int(6)));
  EXPECT_THAT(decoder.Decode("c1,5,Auth,"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "missing column 'amount' for event type 'Auth'"));
}

TEST(RecordCsvDecoderTest, FieldCalledTypeIsAlsoTheTypeColumn) {
  Schema a("A", {{"type", FieldType::kString}, {"x", FieldType::kInt}},
           std::nullopt, std::nullopt, 0);
  Schema b("B", {{"y", FieldType::kInt}}, std::nullopt, std::nullopt, 1);
  RecordCsvDecoder decoder({&a, &b});
  ASSERT_THAT(decoder.ReadHeader("type,x,y"), IsOk());
  auto record = decoder.Decode("A,1,");
  ASSERT_THAT(record, IsOk());
  EXPECT_THAT(record->values(), ElementsAre(Str("A"), Int(1)));
}

// ---- errors: lifecycle ------------------------------------------------------

TEST(RecordCsvDecoderTest, DecodeBeforeHeaderFails) {
  Schema auth = AuthSchema();
  RecordCsvDecoder decoder({&auth});
  EXPECT_FALSE(decoder.has_header());
  EXPECT_THAT(decoder.Decode("c1,1,1,true,1"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "no header: ReadHeader() must take the first line "
                       "before Decode()"));
}

TEST(RecordCsvDecoderTest, NoSchemasFails) {
  RecordCsvDecoder decoder(std::vector<const Schema*>{});
  EXPECT_THAT(decoder.ReadHeader("x"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "the pattern file declares no events"));
  EXPECT_THAT(decoder.Decode("1"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "the pattern file declares no events"));
}

TEST(RecordCsvDecoderTest, FailedHeaderLeavesNoHeader) {
  Schema auth = AuthSchema();
  RecordCsvDecoder decoder({&auth});
  ASSERT_THAT(decoder.ReadHeader(kAuthHeader), IsOk());
  EXPECT_TRUE(decoder.has_header());
  EXPECT_THAT(
      decoder.ReadHeader("card"),
      StatusIs(absl::StatusCode::kInvalidArgument, "missing column 'amount'"));
  EXPECT_FALSE(decoder.has_header());
  EXPECT_THAT(decoder.Decode("c1,1,1,true,1"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "no header: ReadHeader() must take the first line "
                       "before Decode()"));
}

// ---- errors: header ---------------------------------------------------------

absl::Status AuthHeaderError(std::string_view header) {
  Schema auth = AuthSchema();
  RecordCsvDecoder decoder({&auth});
  return decoder.ReadHeader(header);
}

TEST(RecordCsvDecoderTest, EmptyHeader) {
  EXPECT_THAT(AuthHeaderError(""), IsInvalid("empty header"));
  EXPECT_THAT(AuthHeaderError(" \t\r"), IsInvalid("empty header"));
  EXPECT_THAT(AuthHeaderError("\xEF\xBB\xBF"), IsInvalid("empty header"));
}

TEST(RecordCsvDecoderTest, DuplicateColumn) {
  EXPECT_THAT(AuthHeaderError("card,amount,n,ok,ts,amount"),
              IsInvalid("duplicate column 'amount' (columns 2 and 6)"));
  // Quoting does not make a name different.
  EXPECT_THAT(AuthHeaderError(R"(card,"card")"),
              IsInvalid("duplicate column 'card' (columns 1 and 2)"));
  // Unknown columns must be unique too.
  EXPECT_THAT(AuthHeaderError("card,amount,n,ok,ts,x,x"),
              IsInvalid("duplicate column 'x' (columns 6 and 7)"));
}

TEST(RecordCsvDecoderTest, MissingFieldColumnWithOneType) {
  EXPECT_THAT(AuthHeaderError("card,amount,n,ts"),
              IsInvalid("missing column 'ok'"));
  // Names are case-sensitive.
  EXPECT_THAT(AuthHeaderError("Card,amount,n,ok,ts"),
              IsInvalid("missing column 'card'"));
}

TEST(RecordCsvDecoderTest, MissingTypeColumnWithSeveralTypes) {
  Schema auth = AuthSchema(0);
  Schema decline = DeclineSchema(1);
  RecordCsvDecoder decoder({&auth, &decline});
  EXPECT_THAT(
      decoder.ReadHeader("card,amount,n,ok,ts,reason"),
      IsInvalid(
          "missing column 'type' (each row's event type: Auth, Decline)"));
}

TEST(RecordCsvDecoderTest, MalformedHeader) {
  EXPECT_THAT(AuthHeaderError(R"(card,"amount)"),
              IsInvalid("header: column 2: a quoted field runs past the "
                        "end of the line (line breaks inside quotes are "
                        "not supported)"));
}

// ---- errors: rows -----------------------------------------------------------

TEST(RecordCsvDecoderTest, WrongNumberOfColumns) {
  EXPECT_THAT(AuthRowError("c1,1,1,true"),
              IsInvalid("row has 4 columns, the header 5"));
  EXPECT_THAT(AuthRowError("c1,1,1,true,1,"),
              IsInvalid("row has 6 columns, the header 5"));
  EXPECT_THAT(AuthRowError("c1"), IsInvalid("row has 1 column, the header 5"));
}

TEST(RecordCsvDecoderTest, QuotedFieldRunsPastTheEndOfTheLine) {
  EXPECT_THAT(AuthRowError(R"(c1,1,1,true,"1)"),
              IsInvalid("column 5: a quoted field runs past the end of "
                        "the line (line breaks inside quotes are not "
                        "supported)"));
  // A doubled quote does not close the field.
  EXPECT_THAT(AuthRowError(R"("a"",1,1,true,1)"),
              IsInvalid("column 1: a quoted field runs past the end of "
                        "the line (line breaks inside quotes are not "
                        "supported)"));
}

TEST(RecordCsvDecoderTest, TextAfterClosingQuote) {
  EXPECT_THAT(AuthRowError(R"(c1,"1"5,1,true,1)"),
              IsInvalid("column 2: text after the closing quote (write "
                        "\"\" for a quote inside quotes)"));
  EXPECT_THAT(AuthRowError(R"("c1" ,1,1,true,1)"),
              IsInvalid("column 1: text after the closing quote (write "
                        "\"\" for a quote inside quotes)"));
}

TEST(RecordCsvDecoderTest, QuoteInUnquotedField) {
  EXPECT_THAT(AuthRowError(R"(c"1,1,1,true,1)"),
              IsInvalid("column 1: a quote in an unquoted field (quote "
                        "the whole field and write \"\" for the quote)"));
  EXPECT_THAT(AuthRowError(R"(c1, "1",1,true,1)"),
              IsInvalid("column 2: a quote in an unquoted field (quote "
                        "the whole field and write \"\" for the quote)"));
}

TEST(RecordCsvDecoderTest, MissingValue) {
  EXPECT_THAT(AuthRowError("c1,,1,true,1"),
              IsInvalid("missing value for field 'amount'"));
  EXPECT_THAT(AuthRowError("c1,1,,true,1"),
              IsInvalid("missing value for field 'n'"));
  EXPECT_THAT(AuthRowError("c1,1,1,,1"),
              IsInvalid("missing value for field 'ok'"));
  EXPECT_THAT(AuthRowError("c1,1,1,true,"),
              IsInvalid("missing value for field 'ts'"));
  // Quoted, it is present but empty.
  EXPECT_THAT(AuthRowError(R"(c1,1,"",true,1)"),
              IsInvalid("field 'n' must be an integer, not ''"));
}

TEST(RecordCsvDecoderTest, BadInt) {
  EXPECT_THAT(AuthRowError("c1,1,abc,true,1"),
              IsInvalid("field 'n' must be an integer, not 'abc'"));
  EXPECT_THAT(AuthRowError("c1,1,1.5,true,1"),
              IsInvalid("field 'n' must be an integer, not '1.5'"));
  EXPECT_THAT(AuthRowError("c1,1,+5,true,1"),
              IsInvalid("field 'n' must be an integer, not '+5'"));
  EXPECT_THAT(AuthRowError("c1,1, 5,true,1"),
              IsInvalid("field 'n' must be an integer, not ' 5'"));
  EXPECT_THAT(AuthRowError("c1,1,-,true,1"),
              IsInvalid("field 'n' must be an integer, not '-'"));
  // Messages quote the value with its quotes undoubled, then escaped.
  EXPECT_THAT(AuthRowError(R"(c1,1,"1""2",true,1)"),
              IsInvalid(R"(field 'n' must be an integer, not '1\"2')"));
}

TEST(RecordCsvDecoderTest, IntOutOfRange) {
  EXPECT_THAT(
      AuthRowError("c1,1,9223372036854775808,true,1"),
      IsInvalid("field 'n': 9223372036854775808 is too large for an int"));
  EXPECT_THAT(AuthRowError("c1,1,-9223372036854775809,true,1"),
              IsInvalid("field 'n': -9223372036854775809 is too small for an "
                        "int"));
}

TEST(RecordCsvDecoderTest, BadDouble) {
  EXPECT_THAT(AuthRowError("c1,abc,1,true,1"),
              IsInvalid("field 'amount' must be a number, not 'abc'"));
  EXPECT_THAT(AuthRowError("c1,1.5x,1,true,1"),
              IsInvalid("field 'amount' must be a number, not '1.5x'"));
  EXPECT_THAT(AuthRowError("c1,0x10,1,true,1"),
              IsInvalid("field 'amount' must be a number, not '0x10'"));
  EXPECT_THAT(AuthRowError("c1,1e400,1,true,1"),
              IsInvalid("field 'amount': '1e400' is out of range for a "
                        "double"));
  EXPECT_THAT(AuthRowError("c1,nan,1,true,1"),
              IsInvalid("field 'amount' must be a finite number, not 'nan'"));
  EXPECT_THAT(AuthRowError("c1,-inf,1,true,1"),
              IsInvalid("field 'amount' must be a finite number, not '-inf'"));
}

TEST(RecordCsvDecoderTest, BadBool) {
  EXPECT_THAT(AuthRowError("c1,1,1,yes,1"),
              IsInvalid("field 'ok' must be true or false, not 'yes'"));
  EXPECT_THAT(AuthRowError("c1,1,1,True,1"),
              IsInvalid("field 'ok' must be true or false, not 'True'"));
  EXPECT_THAT(AuthRowError("c1,1,1,1,1"),
              IsInvalid("field 'ok' must be true or false, not '1'"));
  // Control characters are escaped, so the message stays on one line.
  EXPECT_THAT(AuthRowError("c1,1,1,t\tx,1"),
              IsInvalid(R"(field 'ok' must be true or false, not 't\tx')"));
}

TEST(RecordCsvDecoderTest, InvalidUtf8NamesTheColumn) {
  // A lone continuation byte, a truncated sequence, an overlong form and a
  // surrogate: none may reach the JSON output.
  EXPECT_THAT(AuthRowError("c\x80,1,2,true,3"),
              IsInvalid("column 1: invalid UTF-8"));
  EXPECT_THAT(AuthRowError("c1,1,2,true,3\xE2\x82"),
              IsInvalid("column 5: invalid UTF-8"));
  EXPECT_THAT(AuthRowError("c1,\"\xC0\xAF\",2,true,3"),
              IsInvalid("column 2: invalid UTF-8"));
  // Checked before the column count, in any column.
  EXPECT_THAT(AuthRowError("c1,1,2,true,3,\xED\xA0\x80"),
              IsInvalid("column 6: invalid UTF-8"));
  EXPECT_THAT(AuthRowError("\xED\xA0\x80"
                           "abcdefgh,1,2,true,3"),
              IsInvalid("column 1: invalid UTF-8"));
  // Past the first eight bytes (read a word at a time).
  EXPECT_THAT(AuthRowError("cardnumber1,1,2,true,3\xFF"),
              IsInvalid("column 5: invalid UTF-8"));
  // Valid multi-byte text decodes.
  Schema auth = AuthSchema();
  RecordCsvDecoder decoder({&auth});
  ASSERT_THAT(decoder.ReadHeader(kAuthHeader), IsOk());
  auto record = decoder.Decode("caf\xC3\xA9 \xF0\x9F\x92\xB3,1,2,true,3");
  ASSERT_THAT(record, IsOk());
  EXPECT_EQ((*record)[0], Str("caf\xC3\xA9 \xF0\x9F\x92\xB3"));
}

TEST(RecordCsvDecoderTest, BadTimestamp) {
  EXPECT_THAT(AuthRowError("c1,1,1,true,yesterday"),
              IsInvalid("field 'ts': timestamp 'yesterday' is not RFC "
                        "3339 or epoch milliseconds"));
  EXPECT_THAT(AuthRowError("c1,1,1,true,2026-13-01T00:00:00Z"),
              IsInvalid("field 'ts': '2026-13-01T00:00:00Z' is not a valid "
                        "date"));
  EXPECT_THAT(AuthRowError("c1,1,1,true,2026-01-01T10:00:00"),
              IsInvalid("field 'ts': timestamp '2026-01-01T10:00:00' is "
                        "not RFC 3339 or epoch milliseconds"));
  EXPECT_THAT(AuthRowError("c1,1,1,true,1.5"),
              IsInvalid("field 'ts': timestamp '1.5' is not RFC 3339 or "
                        "epoch milliseconds"));
  EXPECT_THAT(AuthRowError("c1,1,1,true,+5"),
              IsInvalid("field 'ts': timestamp '+5' is not RFC 3339 or "
                        "epoch milliseconds"));
}

TEST(RecordCsvDecoderTest, TimestampOutOfRange) {
  EXPECT_THAT(AuthRowError("c1,1,1,true,253402300800000"),
              IsInvalid("field 'ts': timestamp 253402300800000 is outside "
                        "years 0000 to 9999 (epoch milliseconds)"));
  EXPECT_THAT(AuthRowError("c1,1,1,true,-62167219200001"),
              IsInvalid("field 'ts': timestamp -62167219200001 is outside "
                        "years 0000 to 9999 (epoch milliseconds)"));
  EXPECT_THAT(AuthRowError("c1,1,1,true,99999999999999999999"),
              IsInvalid("field 'ts': 99999999999999999999 is out of range for "
                        "a timestamp (64-bit epoch milliseconds)"));
}

TEST(RecordCsvDecoderTest, MissingOrUnknownType) {
  Schema auth = AuthSchema(0);
  Schema decline = DeclineSchema(1);
  RecordCsvDecoder decoder({&auth, &decline});
  ASSERT_THAT(decoder.ReadHeader("type,card,ts,reason"), IsOk());
  EXPECT_THAT(decoder.Decode(",c1,1,x").status(),
              IsInvalid("missing value for column 'type'"));
  EXPECT_THAT(decoder.Decode(R"("",c1,1,x)").status(),
              IsInvalid("unknown event type ''"));
  EXPECT_THAT(decoder.Decode("Refund,c1,1,x").status(),
              IsInvalid("unknown event type 'Refund'"));
  EXPECT_THAT(decoder.Decode("decline,c1,1,x").status(),
              IsInvalid("unknown event type 'decline'"));
}

}  // namespace
}  // namespace cep
