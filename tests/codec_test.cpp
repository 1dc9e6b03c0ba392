// Tests of the event and key codecs: varints, TrivialCodec, StringCodec,
// ValueCodec and RecordCodec round trips, edge values, and kDataLoss for
// truncated or corrupt input.
#include "cep/codec.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "cep/event.hpp"

#include "testing/status_matchers.hpp"

namespace cep {
namespace {

using ::cep::testing::IsOk;
using ::cep::testing::StatusIs;

constexpr auto kDataLoss = absl::StatusCode::kDataLoss;

// Encodes `value`, decodes it back and checks that every byte was consumed.
template <typename T>
T RoundTrip(const Codec<T>& codec, const T& value) {
  std::string bytes;
  codec.Encode(value, bytes);
  std::string_view in = bytes;
  T back{};
  EXPECT_THAT(codec.Decode(in, back), IsOk());
  EXPECT_TRUE(in.empty()) << in.size() << " bytes left";
  return back;
}

// Every proper prefix of `value`'s encoding fails with kDataLoss.
template <typename T>
void ExpectEveryTruncationFails(const Codec<T>& codec, const T& value) {
  std::string bytes;
  codec.Encode(value, bytes);
  for (size_t size = 0; size < bytes.size(); ++size) {
    std::string_view in(bytes.data(), size);
    T back{};
    EXPECT_EQ(codec.Decode(in, back).code(), absl::StatusCode::kDataLoss)
        << "prefix of " << size << " bytes";
  }
}

TEST(VarintTest, RoundTripsEdgeValuesWithExpectedSizes) {
  const std::vector<std::pair<uint64_t, size_t>> cases = {
      {0, 1},     {1, 1},     {127, 1},        {128, 2},
      {16383, 2}, {16384, 3}, {UINT32_MAX, 5}, {UINT64_MAX, 10}};
  for (const auto& [value, size] : cases) {
    std::string bytes;
    internal::PutVarint(bytes, value);
    EXPECT_EQ(bytes.size(), size) << value;
    std::string_view in = bytes;
    uint64_t back = 0;
    ASSERT_TRUE(internal::GetVarint(in, back)) << value;
    EXPECT_EQ(back, value);
    EXPECT_TRUE(in.empty());
  }
}

TEST(VarintTest, RejectsTruncatedAndOverlongInput) {
  uint64_t value = 0;
  std::string_view truncated("\x80\x80", 2);
  EXPECT_FALSE(internal::GetVarint(truncated, value));
  // 2^64 does not fit: the tenth byte may only hold one bit.
  std::string too_big(9, '\x80');
  too_big.push_back('\x02');
  std::string_view in = too_big;
  EXPECT_FALSE(internal::GetVarint(in, value));
  std::string eleven(10, '\x80');
  eleven.push_back('\x01');
  in = eleven;
  EXPECT_FALSE(internal::GetVarint(in, value));
}

TEST(VarintTest, Varint32RejectsValuesAbove32Bits) {
  std::string bytes;
  internal::PutVarint(bytes, uint64_t{UINT32_MAX} + 1);
  std::string_view in = bytes;
  uint32_t value = 0;
  EXPECT_FALSE(internal::GetVarint32(in, value));
}

TEST(VarintTest, ZigZagRoundTripsSignedEdgeValues) {
  for (int64_t value : {int64_t{0}, int64_t{-1}, int64_t{1}, int64_t{-64},
                        int64_t{63}, std::numeric_limits<int64_t>::min(),
                        std::numeric_limits<int64_t>::max()}) {
    std::string bytes;
    internal::PutSignedVarint(bytes, value);
    std::string_view in = bytes;
    int64_t back = 0;
    ASSERT_TRUE(internal::GetSignedVarint(in, back));
    EXPECT_EQ(back, value);
  }
  EXPECT_EQ(internal::ZigZag(-1), 1u);
  EXPECT_EQ(internal::ZigZag(1), 2u);
  EXPECT_EQ(internal::ZigZag(std::numeric_limits<int64_t>::min()), UINT64_MAX);
}

TEST(TrivialCodecTest, RoundTripsIntegersAndDoublesBitForBit) {
  TrivialCodec<int64_t> ints;
  for (int64_t v : {std::numeric_limits<int64_t>::min(), int64_t{-1},
                    int64_t{0}, std::numeric_limits<int64_t>::max()}) {
    EXPECT_EQ(RoundTrip<int64_t>(ints, v), v);
  }
  TrivialCodec<double> doubles;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(std::isnan(RoundTrip<double>(doubles, nan)));
  EXPECT_TRUE(std::signbit(RoundTrip<double>(doubles, -0.0)));
  EXPECT_EQ(
      RoundTrip<double>(doubles, -std::numeric_limits<double>::infinity()),
      -std::numeric_limits<double>::infinity());
  ExpectEveryTruncationFails<double>(doubles, 1.5);
}

TEST(TrivialCodecTest, RoundTripsAStruct) {
  struct Pair {
    int32_t a;
    double b;
  };
  TrivialCodec<Pair> codec;
  Pair back = RoundTrip<Pair>(codec, Pair{-7, 2.5});
  EXPECT_EQ(back.a, -7);
  EXPECT_EQ(back.b, 2.5);
}

TEST(TrivialCodecTest, TruncatedValueIsDataLoss) {
  TrivialCodec<uint32_t> codec;
  std::string_view in("\x01\x02", 2);
  uint32_t value = 0;
  EXPECT_THAT(codec.Decode(in, value),
              StatusIs(kDataLoss, "truncated: a value of 4 bytes, 2 left"));
}

TEST(TrivialCodecTest, BoolOtherThanZeroOrOneIsDataLoss) {
  TrivialCodec<bool> codec;
  EXPECT_TRUE(RoundTrip<bool>(codec, true));
  EXPECT_FALSE(RoundTrip<bool>(codec, false));
  std::string_view in("\x02", 1);
  bool value = false;
  EXPECT_THAT(codec.Decode(in, value),
              StatusIs(kDataLoss, "a bool must be 0 or 1, not 2"));
}

TEST(StringCodecTest, RoundTripsEmptyBinaryAndLongStrings) {
  StringCodec codec;
  EXPECT_EQ(RoundTrip<std::string>(codec, ""), "");
  const std::string binary("a\0b\xff", 4);
  EXPECT_EQ(RoundTrip<std::string>(codec, binary), binary);
  const std::string long_string(300, 'x');
  std::string bytes;
  codec.Encode(long_string, bytes);
  EXPECT_EQ(bytes.size(), 302u);  // a two-byte length
  EXPECT_EQ(RoundTrip<std::string>(codec, long_string), long_string);
}

TEST(StringCodecTest, DecodesConsecutiveValuesInOrder) {
  StringCodec codec;
  std::string bytes;
  codec.Encode("first", bytes);
  codec.Encode("", bytes);
  codec.Encode("third", bytes);
  std::string_view in = bytes;
  std::string a, b, c;
  ASSERT_THAT(codec.Decode(in, a), IsOk());
  ASSERT_THAT(codec.Decode(in, b), IsOk());
  ASSERT_THAT(codec.Decode(in, c), IsOk());
  EXPECT_EQ(a, "first");
  EXPECT_EQ(b, "");
  EXPECT_EQ(c, "third");
  EXPECT_TRUE(in.empty());
}

TEST(StringCodecTest, LengthBeyondInputIsDataLoss) {
  StringCodec codec;
  // Claims 2^40 bytes: must fail without allocating them.
  std::string bytes;
  internal::PutVarint(bytes, uint64_t{1} << 40);
  bytes += "abc";
  std::string_view in = bytes;
  std::string value;
  EXPECT_THAT(codec.Decode(in, value),
              StatusIs(kDataLoss, "truncated or corrupt string"));
  ExpectEveryTruncationFails<std::string>(codec, "hello");
}

TEST(ValueCodecTest, RoundTripsEveryAlternativeWithEdgeValues) {
  ValueCodec codec;
  const std::vector<Value> values = {
      Value(),
      Value(int64_t{0}),
      Value(std::numeric_limits<int64_t>::min()),
      Value(std::numeric_limits<int64_t>::max()),
      Value(-0.0),
      Value(std::numeric_limits<double>::infinity()),
      Value(true),
      Value(false),
      Value(std::string()),
      Value(std::string("card-42\0x", 9))};
  for (const Value& value : values) {
    EXPECT_EQ(RoundTrip<Value>(codec, value), value) << value.index();
    ExpectEveryTruncationFails<Value>(codec, value);
  }
  // -0.0 == 0.0, so check the sign survived.
  EXPECT_TRUE(std::signbit(std::get<double>(RoundTrip<Value>(codec, -0.0))));
}

TEST(ValueCodecTest, UnknownTagIsDataLoss) {
  ValueCodec codec;
  std::string_view in("\x09", 1);
  Value value;
  EXPECT_THAT(codec.Decode(in, value),
              StatusIs(kDataLoss, "value: unknown tag 9 (0 to 4 are known)"));
}

TEST(ValueCodecTest, BoolByteOtherThanZeroOrOneIsDataLoss) {
  ValueCodec codec;
  std::string_view in("\x03\x05", 2);
  Value value;
  EXPECT_THAT(codec.Decode(in, value),
              StatusIs(kDataLoss, "value: a bool must be 0 or 1, not 5"));
}

class RecordCodecTest : public ::testing::Test {
 protected:
  Schema auth_{"Auth",
               {{"card", FieldType::kString},
                {"amount", FieldType::kDouble},
                {"count", FieldType::kInt},
                {"flagged", FieldType::kBool},
                {"ts", FieldType::kTimestamp}},
               /*key_field=*/0,
               /*time_field=*/4,
               /*id=*/0};
  Schema ping_{"Ping",
               {{"n", FieldType::kInt}},
               std::nullopt,
               std::nullopt,
               /*id=*/1};
  RecordCodec codec_{{&auth_, &ping_}};
};

TEST_F(RecordCodecTest, RoundTripsEveryFieldType) {
  const Record record(&auth_, {Value(std::string("c\0-1", 4)), Value(-1.25),
                               Value(std::numeric_limits<int64_t>::min()),
                               Value(true), Value(int64_t{1700000000123})});
  const Record back = RoundTrip<Record>(codec_, record);
  EXPECT_EQ(back, record);
  EXPECT_EQ(back.schema_ptr(), &auth_);
  ExpectEveryTruncationFails<Record>(codec_, record);
}

TEST_F(RecordCodecTest, EncodingIsCompactAndExact) {
  std::string bytes;
  codec_.Encode(Record(&ping_, {Value(int64_t{-2})}), bytes);
  // Schema id 1 + 1, then zigzag(-2) = 3.
  EXPECT_EQ(bytes, std::string("\x02\x03", 2));
}

TEST_F(RecordCodecTest, RoundTripsRecordsOfSeveralSchemasAndNoSchema) {
  std::string bytes;
  const Record ping(&ping_, {Value(int64_t{7})});
  const Record auth(&auth_,
                    {Value(std::string("c")), Value(0.5), Value(int64_t{1}),
                     Value(false), Value(int64_t{2})});
  codec_.Encode(ping, bytes);
  codec_.Encode(Record(), bytes);
  codec_.Encode(auth, bytes);
  std::string_view in = bytes;
  Record a, b, c;
  ASSERT_THAT(codec_.Decode(in, a), IsOk());
  ASSERT_THAT(codec_.Decode(in, b), IsOk());
  ASSERT_THAT(codec_.Decode(in, c), IsOk());
  EXPECT_EQ(a, ping);
  EXPECT_EQ(b, Record());
  EXPECT_EQ(c, auth);
  EXPECT_TRUE(in.empty());
}

TEST_F(RecordCodecTest, UnknownSchemaIdIsDataLoss) {
  std::string_view in("\x06", 1);  // schema id 5
  Record record;
  EXPECT_THAT(codec_.Decode(in, record),
              StatusIs(kDataLoss,
                       "record: schema id 5 is unknown (2 schemas are known)"));
  RecordCodec with_gap({nullptr, &ping_});
  std::string_view gap("\x01", 1);  // schema id 0: no schema there
  EXPECT_THAT(with_gap.Decode(gap, record),
              StatusIs(kDataLoss,
                       "record: schema id 0 is unknown (2 schemas are known)"));
}

TEST_F(RecordCodecTest, ValueOfTheWrongKindIsDataLoss) {
  std::string bytes;
  codec_.Encode(
      Record(&auth_, {Value(std::string("c")), Value(0.5), Value(int64_t{1}),
                      Value(false), Value(int64_t{2})}),
      bytes);
  // The bool sits after id (1), "c" (2), the double (8), the int (1).
  bytes[12] = '\x07';
  std::string_view in = bytes;
  Record record;
  EXPECT_THAT(codec_.Decode(in, record),
              StatusIs(kDataLoss,
                       "record of type 'Auth': field 'flagged' (bool): a bool "
                       "must be 0 or 1, not 7"));
}

TEST_F(RecordCodecTest, TruncatedFieldNamesTheField) {
  std::string bytes;
  codec_.Encode(
      Record(&auth_, {Value(std::string("card")), Value(0.5), Value(int64_t{1}),
                      Value(false), Value(int64_t{2})}),
      bytes);
  std::string_view in(bytes.data(), 4);  // inside "card"
  Record record;
  EXPECT_THAT(codec_.Decode(in, record),
              StatusIs(kDataLoss,
                       "record of type 'Auth': field 'card' (string): "
                       "truncated or corrupt string"));
}

}  // namespace
}  // namespace cep
