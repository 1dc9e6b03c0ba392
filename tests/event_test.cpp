#include "cep/event.hpp"

#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "gtest/gtest.h"

namespace cep {
namespace {

Schema AuthSchema() {
  return Schema("Auth",
                {{"card", FieldType::kString},
                 {"amount", FieldType::kDouble},
                 {"approved", FieldType::kBool},
                 {"ts", FieldType::kTimestamp}},
                /*key_field=*/0, /*time_field=*/3, /*id=*/2);
}

TEST(SchemaTest, FindsFieldsByName) {
  const Schema auth = AuthSchema();
  EXPECT_EQ(auth.name(), "Auth");
  EXPECT_EQ(auth.id(), 2u);
  EXPECT_EQ(auth.FieldIndex("amount"), 1u);
  EXPECT_EQ(auth.FieldIndex("ts"), 3u);
  EXPECT_EQ(auth.FieldIndex("amout"), std::nullopt);
  EXPECT_EQ(auth.key_field(), 0u);
  EXPECT_EQ(auth.time_field(), 3u);
}

TEST(SchemaTest, NamesFieldTypesAsThePatternLanguageDoes) {
  EXPECT_EQ(FieldTypeName(FieldType::kInt), "int");
  EXPECT_EQ(FieldTypeName(FieldType::kDouble), "double");
  EXPECT_EQ(FieldTypeName(FieldType::kString), "string");
  EXPECT_EQ(FieldTypeName(FieldType::kBool), "bool");
  EXPECT_EQ(FieldTypeName(FieldType::kTimestamp), "timestamp");
}

TEST(RecordTest, ReadsTypedFields) {
  const Schema auth = AuthSchema();
  const Record r(&auth, {Value(std::string("c1")), Value(1.5), Value(true),
                         Value(int64_t{1700000000000})});
  EXPECT_EQ(&r.schema(), &auth);
  EXPECT_EQ(r.size(), 4u);
  EXPECT_EQ(r.GetString(0), "c1");
  EXPECT_EQ(r.GetDouble(1), 1.5);
  EXPECT_TRUE(r.GetBool(2));
  EXPECT_EQ(r.GetInt(3), 1700000000000);
}

TEST(RecordTest, EqualityComparesSchemaAndValues) {
  const Schema auth = AuthSchema();
  const Schema other = AuthSchema();
  const Record a(&auth, {Value(std::string("c1")), Value(1.5), Value(true),
                         Value(int64_t{5})});
  Record b = a;
  EXPECT_EQ(a, b);
  const Record c(&auth, {Value(std::string("c1")), Value(2.5), Value(true),
                         Value(int64_t{5})});
  EXPECT_FALSE(a == c);
  const Record d(&other, a.values());
  EXPECT_FALSE(a == d);
}

TEST(ValueTest, KeysOfEveryTypeHashDistinctly) {
  absl::flat_hash_map<Value, int> keys;
  keys[Value()] = 0;
  keys[Value(int64_t{1})] = 1;
  keys[Value(1.0)] = 2;
  keys[Value(true)] = 3;
  keys[Value(std::string("1"))] = 4;
  EXPECT_EQ(keys.size(), 5u);
  EXPECT_EQ(keys[Value(std::string("1"))], 4);
  EXPECT_EQ(keys[Value()], 0);
}

}  // namespace
}  // namespace cep
