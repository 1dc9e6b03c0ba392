// PartitionStates (src/run/partition_state.hpp) over a PartitionLog kept in
// memory: what each checkpoint logs per partition (changed key states,
// tombstones, a marker), what a reader restores (only what a marker
// follows), and how Apply() drops and restores partitions' keys, waiting
// events and watermarks. The Kafka topic itself is tested in
// tests/kafka/kafka_run_test.cpp.

#include "run/partition_state.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cep/dsl.hpp"
#include "cep/event.hpp"
#include "cep/key_state.hpp"
#include "cep/state.hpp"

#include "run/partition_log.hpp"
#include "testing/status_matchers.hpp"

namespace cep::run {
namespace {

using ::cep::testing::IsOk;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

// Records per partition, in order; Read() as a Kafka reader does.
class MemoryLog final : public PartitionLog {
 public:
  std::string_view name() const override { return "memory"; }
  absl::Status Put(int32_t partition, std::string_view key,
                   std::optional<std::string_view> value) override {
    records_[partition].emplace_back(
        std::string(key),
        value ? std::optional<std::string>(*value) : std::nullopt);
    return absl::OkStatus();
  }
  absl::Status Flush() override {
    ++flushes;
    return absl::OkStatus();
  }
  absl::StatusOr<ChangelogContents> Read(int32_t partition) override {
    ChangelogReader reader;
    for (const auto& [key, value] : records_[partition]) {
      reader.Add(key, value);
    }
    return std::move(reader).Finish();
  }

  // The keys of `partition`'s records, "-KEY" for a tombstone, "m" markers.
  std::vector<std::string> Keys(int32_t partition) {
    std::vector<std::string> keys;
    for (const auto& [key, value] : records_[partition]) {
      keys.push_back(key == "m" ? key : (value ? "" : "-") + Printable(key));
    }
    return keys;
  }
  void Clear() { records_.clear(); }

  int flushes = 0;

 private:
  // "kp\0" + ValueCodec bytes of a string: the string's text after "p:".
  static std::string Printable(const std::string& key) {
    std::string out = "p:";
    for (const char c : key.substr(3)) {
      if (c >= 'a' && c <= 'z') out += c;
    }
    return out;
  }

  std::map<int32_t,
           std::vector<std::pair<std::string, std::optional<std::string>>>>
      records_;
};

constexpr char kFile[] = R"(event E {
  k string key
  ts timestamp time
}
pattern p on E {
  begin a where k == "x"
  followed by b where k == "y"
}
)";

class PartitionStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<PatternFile> file = ParsePatternFile(kFile, "t.cep");
    ASSERT_THAT(file.status(), IsOk());
    file_.emplace(*std::move(file));
    states_.emplace(log_, *file_);
  }

  // Gives `key` a state with a partial match started by the event at
  // `offset` of `partition`.
  void PutKey(InMemoryStateBackend<Record, Value>& backend,
              const std::string& key, uint32_t partition, uint64_t offset) {
    absl::StatusOr<KeyState<Record>*> state = backend.Get(Value(key));
    ASSERT_THAT(state.status(), IsOk());
    (*state)->partial().clear();
    Computation& started = (*state)->partial().emplace_back();
    started.has_start = true;
    started.start_ts = static_cast<int64_t>(offset) * 10;
    started.start_seq = KafkaSeq(partition, offset);
    started.version = internal::DeweyNumber(1);
    ASSERT_THAT(backend.Put(Value(key), **state), IsOk());
  }

  HeldEvent<Record> Waiting(uint32_t partition, uint64_t offset) {
    const Schema* schema = file_->schemas()[0].get();
    HeldEvent<Record> held;
    held.ts = FromMillis(static_cast<int64_t>(offset) * 10);
    held.seq = KafkaSeq(partition, offset);
    held.event = Record(schema, {Value(std::string("x")),
                                 Value(static_cast<int64_t>(offset) * 10)});
    return held;
  }

  std::vector<std::string> KeysOf(
      InMemoryStateBackend<Record, Value>& backend) {
    std::vector<std::string> keys;
    EXPECT_THAT(backend.ForEach([&](const Value& key, KeyState<Record>& state) {
      keys.push_back(std::get<std::string>(key) + "@" +
                     std::to_string(*PartitionOfState(state)));
      return absl::OkStatus();
    }),
                IsOk());
    std::sort(keys.begin(), keys.end());
    return keys;
  }

  std::optional<PatternFile> file_;
  MemoryLog log_;
  std::optional<PartitionStates> states_;
  InMemoryStateBackend<Record, Value> backend_;
};

TEST_F(PartitionStateTest, PartitionOfStateIsThatOfItsFirstEvent) {
  KeyState<Record> state;
  EXPECT_EQ(PartitionOfState(state), std::nullopt);
  Computation& started = state.partial().emplace_back();
  started.has_start = true;
  started.start_seq = KafkaSeq(5, 123);
  EXPECT_EQ(PartitionOfState(state), 5u);
  EXPECT_EQ(KafkaSeqPartition(KafkaSeq(7, (uint64_t{1} << 40) - 1)), 7u);
}

// A checkpoint logs each partition's key states, then its marker; the next
// logs only what changed, and a tombstone for a key that went away.
TEST_F(PartitionStateTest, WritesChangedKeysThenAMarkerPerPartition) {
  ASSERT_NO_FATAL_FAILURE(PutKey(backend_, "a", 0, 3));
  ASSERT_NO_FATAL_FAILURE(PutKey(backend_, "b", 1, 4));
  ASSERT_NO_FATAL_FAILURE(PutKey(backend_, "c", 1, 5));
  RuntimeSnapshot<Record> snapshot;
  const std::vector<PartitionPosition> positions = {{0, {10, 10}},
                                                    {1, {20, 20}}};
  ASSERT_THAT(states_->Write(positions, {{"p", &backend_}}, snapshot), IsOk());
  EXPECT_THAT(log_.Keys(0), ElementsAre("p:a", "m"));
  EXPECT_THAT(log_.Keys(1), UnorderedElementsAre("p:b", "p:c", "m"));
  EXPECT_EQ(log_.Keys(1).back(), "m");
  EXPECT_EQ(log_.flushes, 1);
  log_.Clear();
  ASSERT_NO_FATAL_FAILURE(PutKey(backend_, "b", 1, 6));  // changed
  ASSERT_THAT(backend_.Erase(Value(std::string("c"))), IsOk());
  ASSERT_THAT(states_->Write(positions, {{"p", &backend_}}, snapshot), IsOk());
  EXPECT_THAT(log_.Keys(0), ElementsAre("m"));
  EXPECT_THAT(log_.Keys(1), ElementsAre("p:b", "-p:c", "m"));
}

// Read() restores a partition as of its last marker: its keys, position,
// watermarks and waiting events; records after the marker are unfinished.
TEST_F(PartitionStateTest, ReadRestoresUpToTheLastMarker) {
  ASSERT_NO_FATAL_FAILURE(PutKey(backend_, "a", 0, 3));
  ASSERT_NO_FATAL_FAILURE(PutKey(backend_, "b", 1, 4));
  RuntimeSnapshot<Record> snapshot;
  snapshot.max_ts = FromMillis(90);
  snapshot.source_watermark = FromMillis(80);
  snapshot.operator_watermark = FromMillis(70);
  snapshot.pending = {Waiting(0, 8), Waiting(1, 9)};
  ASSERT_THAT(states_->Write({{0, {10, 10}}, {1, {20, 19}}}, {{"p", &backend_}},
                             snapshot),
              IsOk());
  // A checkpoint that died before its marker.
  ASSERT_NO_FATAL_FAILURE(PutKey(backend_, "z", 1, 30));
  ASSERT_THAT(states_->Write({}, {{"p", &backend_}}, snapshot), IsOk());
  ASSERT_THAT(log_.Put(1, "kp\0x", std::string("garbage")), IsOk());

  absl::StatusOr<RestoredPartition> one = states_->Read(1);
  ASSERT_THAT(one.status(), IsOk());
  ASSERT_TRUE(one->position.has_value());
  EXPECT_EQ(one->position->offset, 20u);
  EXPECT_EQ(one->position->line_no, 19u);
  EXPECT_EQ(one->max_ts, FromMillis(90));
  EXPECT_EQ(one->source_watermark, FromMillis(80));
  EXPECT_EQ(one->operator_watermark, FromMillis(70));
  ASSERT_EQ(one->pending.size(), 1u);
  EXPECT_EQ(one->pending[0].seq, KafkaSeq(1, 9));
  EXPECT_EQ(one->pending[0].event.GetInt(1), 90);
  EXPECT_EQ(one->keys.size(), 1u);
  EXPECT_EQ(one->unfinished.size(), 1u);

  absl::StatusOr<RestoredPartition> none = states_->Read(5);
  ASSERT_THAT(none.status(), IsOk());
  EXPECT_EQ(none->position, std::nullopt);
  EXPECT_THAT(none->keys, IsEmpty());
}

// Apply() keeps the kept partitions' keys and waiting events, drops the
// rest, puts the restored ones in, and moves the watermarks back.
TEST_F(PartitionStateTest, ApplyDropsOthersAndRestores) {
  ASSERT_NO_FATAL_FAILURE(PutKey(backend_, "a", 0, 3));
  ASSERT_NO_FATAL_FAILURE(PutKey(backend_, "b", 1, 4));
  RuntimeSnapshot<Record> written;
  written.max_ts = FromMillis(50);
  written.source_watermark = FromMillis(40);
  written.operator_watermark = FromMillis(30);
  written.pending = {Waiting(1, 6)};
  ASSERT_THAT(states_->Write({{1, {20, 20}}}, {{"p", &backend_}}, written),
              IsOk());
  absl::StatusOr<RestoredPartition> restored = states_->Read(1);
  ASSERT_THAT(restored.status(), IsOk());

  // Another process: partitions 0 and 2, a stale key of 1, and later time.
  InMemoryStateBackend<Record, Value> other;
  ASSERT_NO_FATAL_FAILURE(PutKey(other, "c", 2, 7));
  ASSERT_NO_FATAL_FAILURE(PutKey(other, "d", 0, 8));
  ASSERT_NO_FATAL_FAILURE(PutKey(other, "b", 1, 1));  // stale
  RuntimeSnapshot<Record> snapshot;
  snapshot.max_ts = FromMillis(500);
  snapshot.source_watermark = FromMillis(400);
  snapshot.operator_watermark = FromMillis(300);
  snapshot.pending = {Waiting(0, 2), Waiting(2, 9), Waiting(1, 1)};
  ASSERT_THAT(
      states_->Apply({2}, {*std::move(restored)}, {{"p", &other}}, snapshot),
      IsOk());
  EXPECT_THAT(KeysOf(other), ElementsAre("b@1", "c@2"));
  EXPECT_EQ(snapshot.max_ts, FromMillis(50));
  EXPECT_EQ(snapshot.source_watermark, FromMillis(40));
  EXPECT_EQ(snapshot.operator_watermark, FromMillis(30));
  std::vector<uint64_t> seqs;
  for (const HeldEvent<Record>& held : snapshot.pending) {
    seqs.push_back(held.seq);
  }
  EXPECT_THAT(seqs, ElementsAre(KafkaSeq(1, 6), KafkaSeq(2, 9)));
  // The restored key is logged again only once it changes.
  log_.Clear();
  ASSERT_THAT(
      states_->Write({{1, {20, 20}}, {2, {5, 5}}}, {{"p", &other}}, snapshot),
      IsOk());
  EXPECT_THAT(log_.Keys(1), ElementsAre("m"));
  EXPECT_THAT(log_.Keys(2), ElementsAre("p:c", "m"));
}

}  // namespace
}  // namespace cep::run
