// Tests of the RocksDB StateBackend and its byte store: put/get/erase and
// reopen, durability only after Commit(), eviction of dirty cache entries,
// the same matches and timeouts as the in-memory backend, kDataLoss for
// corrupt values, version and pattern-hash checks, checkpoints, meta.
#include "cep/rocksdb_state.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include <unistd.h>

#include "cep/codec.hpp"
#include "cep/compiler.hpp"
#include "cep/matcher.hpp"
#include "cep/pattern.hpp"
#include "cep/state.hpp"

#include "testing/keyed_recorder.hpp"
#include "testing/nfa_harness.hpp"
#include "testing/status_matchers.hpp"

namespace cep {
namespace {

using ::cep::testing::E;
using ::cep::testing::Ev;
using Recorder = ::cep::testing::KeyedRecorder;
using ::cep::testing::FormatMatch;
using ::cep::testing::IsOk;
using ::cep::testing::IsOkAndHolds;
using ::cep::testing::NameIs;
using ::cep::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using P = Pattern<Ev>;

// Every field of Ev, in declaration order.
class EvCodec final : public Codec<Ev> {
 public:
  void Encode(const Ev& e, std::string& out) const override {
    internal::PutLengthPrefixed(out, e.label);
    internal::PutLengthPrefixed(out, e.name);
    internal::PutDouble(out, e.price);
    internal::PutSignedVarint(out, e.ts);
    internal::PutDouble(out, e.volume);
    internal::PutSignedVarint(out, e.id);
  }
  [[nodiscard]] absl::Status Decode(std::string_view& in,
                                    Ev& e) const override {
    std::string_view label;
    std::string_view name;
    int64_t id = 0;
    if (!internal::GetLengthPrefixed(in, label) ||
        !internal::GetLengthPrefixed(in, name) ||
        !internal::GetDouble(in, e.price) ||
        !internal::GetSignedVarint(in, e.ts) ||
        !internal::GetDouble(in, e.volume) ||
        !internal::GetSignedVarint(in, id)) {
      return absl::DataLossError("truncated or corrupt Ev");
    }
    e.label.assign(label);
    e.name.assign(name);
    e.id = static_cast<int>(id);
    return absl::OkStatus();
  }
};

using StringBackend = RocksDbStateBackend<Ev, std::string>;
using IntBackend = RocksDbStateBackend<Ev, int>;

// A fresh directory per test, removed at the end.
class RocksDbStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = std::filesystem::path(::testing::TempDir()) /
            absl::StrCat("rocksdb_state_test_",
                         absl::StrReplaceAll(info->name(), {{"/", "_"}}), "_",
                         ::getpid());
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_);
    path_ = (root_ / "db").string();
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }

  RocksDbStateOptions Options(size_t cache_capacity = 10000) const {
    RocksDbStateOptions options;
    options.path = path_;
    options.pattern_hash = "p1";
    options.cache_capacity = cache_capacity;
    // Small memtables: tests open many databases.
    options.write_buffer_bytes = size_t{1} << 20;
    options.block_cache_bytes = size_t{1} << 20;
    return options;
  }

  std::unique_ptr<StringBackend> OpenStrings(size_t cache_capacity = 10000) {
    return OpenStrings(Options(cache_capacity));
  }
  std::unique_ptr<StringBackend> OpenStrings(
      const RocksDbStateOptions& options) {
    auto backend = StringBackend::Open(options, strings_, events_);
    EXPECT_THAT(backend.status(), IsOk());
    return backend.ok() ? *std::move(backend) : nullptr;
  }

  std::filesystem::path root_;
  std::string path_;
  StringCodec strings_;
  TrivialCodec<int> ints_;
  EvCodec events_;
};

// Makes `state` hold one partial match that took one event labelled
// `label` at `ts`, as the Evaluator would.
void MakeLive(KeyState<Ev>& state, const std::string& label, int64_t ts) {
  const internal::DeweyNumber version(1);
  const uint32_t event = state.buffer().AddEvent(E(label, "a", 1.0, ts), ts, 0);
  const uint32_t node = state.buffer().Put(0, event, kNoNode, version);
  state.buffer().Lock(node, version);
  state.buffer().ReleaseEvent(event);
  Computation comp;
  comp.state = 1;
  comp.node = node;
  comp.version = version;
  comp.has_start = true;
  comp.start_ts = ts;
  comp.previous_ts = ts;
  state.partial().push_back(std::move(comp));
}

// The label of the event a live state's first partial match took, and its
// start; "idle" for an idle state.
std::string Describe(const KeyState<Ev>& state) {
  if (state.IsIdle()) return "idle";
  const Computation& comp = state.partial().front();
  const auto& node = state.buffer().node(comp.node);
  return absl::StrCat(state.buffer().event(node.event).event->label, "@",
                      comp.start_ts);
}

// Describe() of the state Get(key) returns.
template <typename Backend, typename Key>
std::string Read(Backend& backend, const Key& key) {
  auto state = backend.Get(key);
  if (!state.ok()) return state.status().ToString();
  return Describe(**state);
}

template <typename Backend, typename Key>
void PutLive(Backend& backend, const Key& key, const std::string& label,
             int64_t ts) {
  auto state = backend.Get(key);
  ASSERT_THAT(state.status(), IsOk());
  **state = KeyState<Ev>();
  MakeLive(**state, label, ts);
  ASSERT_THAT(backend.Put(key, **state), IsOk());
}

TEST_F(RocksDbStateTest, PutGetEraseCommitReopen) {
  auto backend = OpenStrings();
  ASSERT_NE(backend, nullptr);
  EXPECT_EQ(Read(*backend, std::string("k1")), "idle");
  PutLive(*backend, std::string("k1"), "a1", 10);
  PutLive(*backend, std::string("k2"), "a2", 20);
  EXPECT_EQ(backend->key_count(), 2u);
  ASSERT_THAT(backend->Commit(), IsOk());
  backend.reset();

  backend = OpenStrings();
  ASSERT_NE(backend, nullptr);
  EXPECT_EQ(backend->key_count(), 2u);
  EXPECT_EQ(Read(*backend, std::string("k1")), "a1@10");
  EXPECT_EQ(Read(*backend, std::string("k2")), "a2@20");
  EXPECT_EQ(backend->metrics().cache_misses, 2u);
  EXPECT_EQ(Read(*backend, std::string("k1")), "a1@10");
  EXPECT_EQ(backend->metrics().cache_hits, 1u);
  ASSERT_THAT(backend->Erase("k1"), IsOk());
  EXPECT_EQ(backend->key_count(), 1u);
  ASSERT_THAT(backend->Commit(), IsOk());
  backend.reset();

  backend = OpenStrings();
  ASSERT_NE(backend, nullptr);
  EXPECT_EQ(backend->key_count(), 1u);
  EXPECT_EQ(Read(*backend, std::string("k1")), "idle");
  EXPECT_EQ(Read(*backend, std::string("k2")), "a2@20");
}

TEST_F(RocksDbStateTest, EraseOfUncachedKeyDeletesStoredState) {
  auto backend = OpenStrings();
  ASSERT_NE(backend, nullptr);
  PutLive(*backend, std::string("k1"), "a1", 10);
  ASSERT_THAT(backend->Commit(), IsOk());
  backend.reset();
  backend = OpenStrings();
  ASSERT_NE(backend, nullptr);
  ASSERT_THAT(backend->Erase("k1"), IsOk());
  ASSERT_THAT(backend->Erase("never-stored"), IsOk());
  EXPECT_EQ(backend->key_count(), 0u);
  ASSERT_THAT(backend->Commit(), IsOk());
  backend.reset();
  backend = OpenStrings();
  ASSERT_NE(backend, nullptr);
  EXPECT_EQ(backend->key_count(), 0u);
  EXPECT_EQ(Read(*backend, std::string("k1")), "idle");
}

TEST_F(RocksDbStateTest, StateSurvivesReopenOnlyAfterCommit) {
  auto backend = OpenStrings();
  ASSERT_NE(backend, nullptr);
  PutLive(*backend, std::string("committed"), "a1", 1);
  ASSERT_THAT(backend->Commit(), IsOk());
  PutLive(*backend, std::string("uncommitted"), "a2", 2);
  PutLive(*backend, std::string("committed"), "a3", 3);
  backend.reset();

  backend = OpenStrings();
  ASSERT_NE(backend, nullptr);
  EXPECT_EQ(backend->key_count(), 1u);
  EXPECT_EQ(Read(*backend, std::string("committed")), "a1@1");
  EXPECT_EQ(Read(*backend, std::string("uncommitted")), "idle");
}

TEST_F(RocksDbStateTest, IdleStateIsDeletedNotStored) {
  auto backend = OpenStrings();
  ASSERT_NE(backend, nullptr);
  PutLive(*backend, std::string("k"), "a1", 1);
  ASSERT_THAT(backend->Commit(), IsOk());
  auto state = backend->Get("k");
  ASSERT_THAT(state.status(), IsOk());
  **state = KeyState<Ev>();
  ASSERT_THAT(backend->Put("k", **state), IsOk());
  EXPECT_EQ(backend->key_count(), 0u);
  ASSERT_THAT(backend->Commit(), IsOk());
  EXPECT_EQ(backend->metrics().deletes, 1u);
  auto stored = backend->store().Get("\001k");  // StringCodec: length, bytes
  ASSERT_THAT(stored.status(), IsOk());
  EXPECT_EQ(*stored, std::nullopt);
  // A fresh key that stays idle is never written.
  ASSERT_THAT(backend->Get("fresh").status(), IsOk());
  ASSERT_THAT(backend->Put("fresh", **backend->Get("fresh")), IsOk());
  ASSERT_THAT(backend->Commit(), IsOk());
  EXPECT_EQ(backend->metrics().writes, 1u);
}

TEST_F(RocksDbStateTest, EvictingDirtyEntriesLosesNothing) {
  auto backend = OpenStrings(/*cache_capacity=*/2);
  ASSERT_NE(backend, nullptr);
  for (int key_idx = 0; key_idx < 100; ++key_idx) {
    PutLive(*backend, absl::StrCat("key", key_idx), absl::StrCat("e", key_idx),
            key_idx);
  }
  EXPECT_EQ(backend->cached_keys(), 2u);
  EXPECT_EQ(backend->metrics().evictions, 98u);
  EXPECT_EQ(backend->key_count(), 100u);
  // Before Commit(): evicted states are read back from the pending batch.
  for (int key_idx = 0; key_idx < 100; ++key_idx) {
    EXPECT_EQ(Read(*backend, absl::StrCat("key", key_idx)),
              absl::StrCat("e", key_idx, "@", key_idx));
  }
  // Change every other key again, through the cache, then commit.
  for (int key_idx = 0; key_idx < 100; key_idx += 2) {
    PutLive(*backend, absl::StrCat("key", key_idx), "again", key_idx + 1000);
  }
  ASSERT_THAT(backend->Commit(), IsOk());
  backend.reset();

  backend = OpenStrings(/*cache_capacity=*/2);
  ASSERT_NE(backend, nullptr);
  EXPECT_EQ(backend->key_count(), 100u);
  for (int key_idx = 0; key_idx < 100; ++key_idx) {
    EXPECT_EQ(Read(*backend, absl::StrCat("key", key_idx)),
              key_idx % 2 == 0 ? absl::StrCat("again@", key_idx + 1000)
                               : absl::StrCat("e", key_idx, "@", key_idx));
  }
  int visited = 0;
  ASSERT_THAT(backend->ForEach([&](const std::string& key,
                                   KeyState<Ev>& state) -> absl::Status {
    ++visited;
    EXPECT_FALSE(state.IsIdle()) << key;
    return absl::OkStatus();
  }),
              IsOk());
  EXPECT_EQ(visited, 100);
}

// Keys without state that stay idle are never cached: they neither take
// memory nor evict a live key (capacity 1 here), and a key that becomes
// live is cached from its first Put().
TEST_F(RocksDbStateTest, IdleKeysWithoutStateAreNotCached) {
  auto backend = OpenStrings(1);
  PutLive(*backend, std::string("live"), "a", 5);
  for (int key_idx = 0; key_idx < 100; ++key_idx) {
    const std::string key = absl::StrCat("idle", key_idx);
    auto state = backend->Get(key);
    ASSERT_THAT(state.status(), IsOk());
    EXPECT_TRUE((*state)->IsIdle());
    ASSERT_THAT(backend->Put(key, **state), IsOk());
  }
  EXPECT_EQ(backend->cached_keys(), 1u);
  EXPECT_EQ(backend->metrics().evictions, 0u);
  EXPECT_EQ(backend->key_count(), 1u);
  const uint64_t hits = backend->metrics().cache_hits;
  EXPECT_EQ(Read(*backend, std::string("live")), "a@5");
  EXPECT_EQ(backend->metrics().cache_hits, hits + 1);
  // Put of a state from an earlier Get() of another key is refused.
  auto first = backend->Get(std::string("x"));
  ASSERT_THAT(first.status(), IsOk());
  KeyState<Ev>* x = *first;
  ASSERT_THAT(backend->Get(std::string("y")).status(), IsOk());
  EXPECT_THAT(backend->Put(std::string("x"), *x),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("put of key 'x' with a state its Get() did "
                                 "not return")));
  PutLive(*backend, std::string("new"), "b", 6);
  EXPECT_EQ(backend->key_count(), 2u);
  ASSERT_THAT(backend->Commit(), IsOk());
  EXPECT_EQ(Read(*backend, std::string("live")), "a@5");  // evicted, stored
  EXPECT_EQ(Read(*backend, std::string("new")), "b@6");
}

TEST_F(RocksDbStateTest, GetNeverEvictsTheStateItReturns) {
  auto backend = OpenStrings(/*cache_capacity=*/1);
  ASSERT_NE(backend, nullptr);
  PutLive(*backend, std::string("a"), "a1", 1);
  auto state = backend->Get("b");
  ASSERT_THAT(state.status(), IsOk());
  EXPECT_EQ(backend->cached_keys(), 1u);
  MakeLive(**state, "b1", 2);
  ASSERT_THAT(backend->Put("b", **state), IsOk());
  EXPECT_EQ(Read(*backend, std::string("a")), "a1@1");
  EXPECT_EQ(Read(*backend, std::string("b")), "b1@2");
}

TEST_F(RocksDbStateTest, PutOfStateNotFromGetFails) {
  auto backend = OpenStrings();
  ASSERT_NE(backend, nullptr);
  KeyState<Ev> elsewhere;
  EXPECT_THAT(backend->Put("k", elsewhere),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       absl::StrCat("rocksdb state at '", path_,
                                    "': put of key 'k' with a state its "
                                    "Get() did not return")));
}

TEST_F(RocksDbStateTest, CorruptValueIsDataLossNamingTheKey) {
  auto backend = OpenStrings();
  ASSERT_NE(backend, nullptr);
  std::string key_bytes;
  strings_.Encode("card-42", key_bytes);
  backend->store().Put(key_bytes, "\x01garbage");
  ASSERT_THAT(backend->store().Commit(), IsOk());
  const std::string expected =
      absl::StrCat("rocksdb state at '", path_,
                   "': key 'card-42': cannot decode state: key state: ");
  EXPECT_THAT(backend->Get("card-42"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr(expected)));
  // Not cached: it fails again, and other keys still work.
  EXPECT_THAT(backend->Get("card-42"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr(expected)));
  EXPECT_EQ(backend->cached_keys(), 0u);
  EXPECT_EQ(Read(*backend, std::string("other")), "idle");
  EXPECT_THAT(backend->ForEach([](const std::string&, KeyState<Ev>&) {
    return absl::OkStatus();
  }),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr(expected)));
}

TEST_F(RocksDbStateTest, UndecodableKeyIsDataLossInHex) {
  auto backend = OpenStrings();
  ASSERT_NE(backend, nullptr);
  backend->store().Put("\x05x", "");  // length 5, one byte
  EXPECT_THAT(backend->ForEach([](const std::string&, KeyState<Ev>&) {
    return absl::OkStatus();
  }),
              StatusIs(absl::StatusCode::kDataLoss,
                       absl::StrCat("rocksdb state at '", path_,
                                    "': key 0x0578: cannot decode key: "
                                    "truncated or corrupt string")));
}

TEST_F(RocksDbStateTest, FormatVersionMismatchFailsNamingBoth) {
  ASSERT_NE(OpenStrings(), nullptr);
  {
    RocksDbStoreOptions options;
    options.path = path_;
    auto store = RocksDbStore::Open(options);
    ASSERT_THAT(store.status(), IsOk());
    (*store)->PutMeta("format_version", "999");
    ASSERT_THAT((*store)->Commit(), IsOk());
  }
  EXPECT_THAT(StringBackend::Open(Options(), strings_, events_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       absl::StrCat("rocksdb state at '", path_,
                                    "': states have format version 999, "
                                    "this build reads version ",
                                    kKeyStateFormatVersion)));
}

TEST_F(RocksDbStateTest, PatternHashMismatchFailsNamingBoth) {
  ASSERT_NE(OpenStrings(), nullptr);
  RocksDbStateOptions options = Options();
  options.pattern_hash = "p2";
  EXPECT_THAT(StringBackend::Open(options, strings_, events_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       absl::StrCat("rocksdb state at '", path_,
                                    "': states belong to pattern hash 'p1', "
                                    "the pattern now has hash 'p2'")));
}

TEST_F(RocksDbStateTest, CorruptedMetaIsPrintedEscaped) {
  ASSERT_NE(OpenStrings(), nullptr);
  {
    RocksDbStoreOptions options;
    options.path = path_;
    auto store = RocksDbStore::Open(options);
    ASSERT_THAT(store.status(), IsOk());
    (*store)->PutMeta("pattern_hash", std::string("p\x1b[2J\0\xff\\", 8));
    ASSERT_THAT((*store)->Commit(), IsOk());
  }
  EXPECT_THAT(StringBackend::Open(Options(), strings_, events_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       absl::StrCat("rocksdb state at '", path_,
                                    "': states belong to pattern hash "
                                    "'p\\x1b[2J\\x00\\xff\\x5c', the "
                                    "pattern now has hash 'p1'")));
  EXPECT_EQ(internal::Printable("ab\ncd\x7f\xe9"), "ab\\x0acd\\x7f\\xe9");
}

TEST_F(RocksDbStateTest, SecondOpenOfSameDatabaseIsUnavailable) {
  auto backend = OpenStrings();
  ASSERT_NE(backend, nullptr);
  EXPECT_THAT(StringBackend::Open(Options(), strings_, events_),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr(absl::StrCat("rocksdb state at '", path_,
                                              "': open: IO error: "))));
}

TEST_F(RocksDbStateTest, CheckpointOpensWithTheSameState) {
  auto backend = OpenStrings(/*cache_capacity=*/4);
  ASSERT_NE(backend, nullptr);
  for (int key_idx = 0; key_idx < 10; ++key_idx) {
    PutLive(*backend, absl::StrCat("key", key_idx), "a", key_idx);
  }
  ASSERT_THAT(backend->SetMeta("input_position", "10"), IsOk());
  const std::string checkpoint = (root_ / "checkpoint").string();
  ASSERT_THAT(backend->Checkpoint(checkpoint), IsOk());
  // Later changes stay out of the checkpoint.
  PutLive(*backend, std::string("key0"), "later", 99);
  PutLive(*backend, std::string("key10"), "later", 99);
  ASSERT_THAT(backend->Commit(), IsOk());
  backend.reset();

  RocksDbStateOptions options = Options();
  options.path = checkpoint;
  backend = OpenStrings(options);
  ASSERT_NE(backend, nullptr);
  EXPECT_EQ(backend->key_count(), 10u);
  for (int key_idx = 0; key_idx < 11; ++key_idx) {
    EXPECT_EQ(Read(*backend, absl::StrCat("key", key_idx)),
              key_idx < 10 ? absl::StrCat("a@", key_idx) : "idle");
  }
  EXPECT_THAT(backend->GetMeta("input_position"),
              ::cep::testing::IsOkAndHolds(std::optional<std::string>("10")));
}

TEST_F(RocksDbStateTest, MetaCommitsWithTheState) {
  auto backend = OpenStrings();
  ASSERT_NE(backend, nullptr);
  ASSERT_THAT(backend->SetMeta("watermark", "5"), IsOk());
  EXPECT_THAT(backend->GetMeta("watermark"),
              ::cep::testing::IsOkAndHolds(std::optional<std::string>("5")));
  EXPECT_THAT(backend->SetMeta("key_count", "7"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "meta name 'key_count' is reserved"));
  backend.reset();  // not committed
  backend = OpenStrings();
  ASSERT_NE(backend, nullptr);
  EXPECT_THAT(backend->GetMeta("watermark"),
              ::cep::testing::IsOkAndHolds(std::optional<std::string>()));
  ASSERT_THAT(backend->SetMeta("watermark", "6"), IsOk());
  ASSERT_THAT(backend->Commit(), IsOk());
  backend.reset();
  backend = OpenStrings();
  ASSERT_NE(backend, nullptr);
  EXPECT_THAT(backend->GetMeta("watermark"),
              ::cep::testing::IsOkAndHolds(std::optional<std::string>("6")));
}

TEST(RocksDbStoreTest, KeyGroupIsFnv1aModKeyGroups) {
  EXPECT_EQ(RocksDbStore::KeyGroup(""), 69);
  EXPECT_EQ(RocksDbStore::KeyGroup("a"), 44);
  EXPECT_EQ(RocksDbStore::StateKey("a"), std::string("\x00\x2c"
                                                     "a",
                                                     3));
}

TEST_F(RocksDbStateTest, SharedStoresCommitTogetherInTheirOwnNamespaces) {
  RocksDbStoreOptions options;
  options.path = path_;
  {
    auto shared = RocksDbStore::OpenShared(options, {"a", "b"});
    ASSERT_THAT(shared.status(), IsOk());
    ASSERT_THAT(shared->stores, SizeIs(2));
    EXPECT_THAT(shared->other_namespaces, ::testing::IsEmpty());
    RocksDbStore& a = *shared->stores[0];
    RocksDbStore& b = *shared->stores[1];
    EXPECT_EQ(a.path(), path_ + "[a]");
    a.Put("k", "in a");
    b.Put("k", "in b");
    a.PutMeta("m", "meta of a");
    // One batch: b sees its own write and has pending work from a.
    EXPECT_THAT(b.Get("k"), IsOkAndHolds(std::optional<std::string>("in b")));
    EXPECT_THAT(b.GetMeta("m"), IsOkAndHolds(std::nullopt));
    EXPECT_TRUE(b.has_pending());
    ASSERT_THAT(b.Commit(), IsOk());  // writes a's too
    EXPECT_FALSE(a.has_pending());
  }
  auto reopened = RocksDbStore::OpenShared(options, {"b"});
  ASSERT_THAT(reopened.status(), IsOk());
  EXPECT_THAT(reopened->other_namespaces, ::testing::ElementsAre("a"));
  EXPECT_THAT(reopened->stores[0]->Get("k"),
              IsOkAndHolds(std::optional<std::string>("in b")));
  reopened->stores.clear();
  auto again = RocksDbStore::OpenShared(options, {"a"});
  ASSERT_THAT(again.status(), IsOk());
  EXPECT_THAT(again->stores[0]->Get("k"),
              IsOkAndHolds(std::optional<std::string>("in a")));
  EXPECT_THAT(again->stores[0]->GetMeta("m"),
              IsOkAndHolds(std::optional<std::string>("meta of a")));
  EXPECT_THAT(RocksDbStore::OpenShared(options, {"x/y"}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("bad namespace 'x/y'")));
}

// Forks: batches of their own over the same namespaces; CommitTogether()
// writes them all, and the meta's, in one write.
TEST_F(RocksDbStateTest, ForksStageApartAndCommitTogether) {
  RocksDbStoreOptions options;
  options.path = path_;
  {
    auto shared = RocksDbStore::OpenShared(options, {"a", "b"});
    ASSERT_THAT(shared.status(), IsOk());
    std::vector<RocksDbStore*> opened = {shared->stores[0].get(),
                                         shared->stores[1].get()};
    std::vector<std::unique_ptr<RocksDbStore>> one = RocksDbStore::Fork(opened);
    std::vector<std::unique_ptr<RocksDbStore>> two = RocksDbStore::Fork(opened);
    ASSERT_THAT(one, SizeIs(2));
    EXPECT_EQ(one[1]->path(), path_ + "[b]");
    one[0]->Put("k1", "one in a");
    one[1]->Put("k1", "one in b");
    two[0]->Put("k2", "two in a");
    opened[0]->PutMeta("m", "meta of a");
    // Each fork sees its own batch only; the opened stores theirs.
    EXPECT_THAT(one[0]->Get("k1"),
                IsOkAndHolds(std::optional<std::string>("one in a")));
    EXPECT_THAT(two[0]->Get("k1"), IsOkAndHolds(std::nullopt));
    EXPECT_THAT(opened[0]->Get("k2"), IsOkAndHolds(std::nullopt));
    EXPECT_TRUE(one[1]->has_pending());
    EXPECT_FALSE(two[1]->has_pending() && !two[0]->has_pending());
    ASSERT_THAT(
        RocksDbStore::CommitTogether(
            {opened[0], opened[1], one[0].get(), one[1].get(), two[0].get()}),
        IsOk());
    for (RocksDbStore* store : {opened[0], one[0].get(), two[1].get()}) {
      EXPECT_FALSE(store->has_pending());
    }
    // Committed: every fork reads every write.
    EXPECT_THAT(two[0]->Get("k1"),
                IsOkAndHolds(std::optional<std::string>("one in a")));
    EXPECT_THAT(two[1]->Get("k1"),
                IsOkAndHolds(std::optional<std::string>("one in b")));
    EXPECT_THAT(RocksDbStore::CommitTogether({two[0].get()}), IsOk());
  }
  auto reopened = RocksDbStore::OpenShared(options, {"a", "b"});
  ASSERT_THAT(reopened.status(), IsOk());
  RocksDbStore& a = *reopened->stores[0];
  EXPECT_THAT(a.Get("k1"),
              IsOkAndHolds(std::optional<std::string>("one in a")));
  EXPECT_THAT(a.Get("k2"),
              IsOkAndHolds(std::optional<std::string>("two in a")));
  EXPECT_THAT(a.GetMeta("m"),
              IsOkAndHolds(std::optional<std::string>("meta of a")));
  EXPECT_THAT(reopened->stores[1]->Get("k1"),
              IsOkAndHolds(std::optional<std::string>("one in b")));
}

// What a fork stages is lost unless committed, like any batch.
TEST_F(RocksDbStateTest, UncommittedForksLeaveNothing) {
  RocksDbStoreOptions options;
  options.path = path_;
  {
    auto shared = RocksDbStore::OpenShared(options, {"a"});
    ASSERT_THAT(shared.status(), IsOk());
    auto forks = RocksDbStore::Fork({shared->stores[0].get()});
    forks[0]->Put("k", "v");
    ASSERT_THAT(shared->stores[0]->Commit(), IsOk());  // its own batch only
  }
  auto reopened = RocksDbStore::OpenShared(options, {"a"});
  ASSERT_THAT(reopened.status(), IsOk());
  EXPECT_THAT(reopened->stores[0]->Get("k"), IsOkAndHolds(std::nullopt));
}

// Workers own contiguous ranges of key groups that cover every group once,
// and the runtime's routing of KeyGroupRouteHash picks the same worker.
TEST(RocksDbStoreTest, KeyGroupRangesCoverEveryGroupOnce) {
  for (size_t workers = 1; workers <= 130; ++workers) {
    SCOPED_TRACE(workers);
    EXPECT_EQ(KeyGroupStart(0, workers), 0u);
    EXPECT_EQ(KeyGroupStart(workers, workers), kKeyGroups);
    for (size_t worker = 0; worker < workers; ++worker) {
      for (uint32_t group = KeyGroupStart(worker, workers);
           group < KeyGroupStart(worker + 1, workers); ++group) {
        ASSERT_EQ(KeyGroupWorker(group, workers), worker) << group;
        // Runtime::WorkerOfHash: the high 32 bits scaled to the workers.
        const uint64_t hash = KeyGroupRouteHash(group);
        ASSERT_EQ(((hash >> 32) * workers) >> 32, worker) << group;
      }
    }
  }
}

// A backend over part of the key groups counts only their keys at Open and
// leaves the key count meta to its caller.
TEST_F(RocksDbStateTest, BackendOverSomeKeyGroupsCountsTheirKeys) {
  size_t in_low_half = 0;
  {
    auto backend = OpenStrings();
    for (int key_idx = 0; key_idx < 200; ++key_idx) {
      const std::string key = absl::StrCat("card", key_idx);
      std::string encoded;
      strings_.Encode(key, encoded);
      if (RocksDbStore::KeyGroup(encoded) < kKeyGroups / 2) ++in_low_half;
      PutLive(*backend, key, "a", 1);
    }
    ASSERT_THAT(backend->Commit(), IsOk());
  }
  RocksDbStateOptions options = Options();
  options.end_key_group = kKeyGroups / 2;
  auto part = OpenStrings(options);
  ASSERT_NE(part, nullptr);
  EXPECT_EQ(part->key_count(), in_low_half);
  EXPECT_GT(in_low_half, 50u);
  EXPECT_LT(in_low_half, 150u);
  PutLive(*part, std::string("fresh"), "b", 2);
  part->Stage();
  ASSERT_THAT(part->store().Commit(), IsOk());
  EXPECT_THAT(part->GetMeta("key_count"),
              IsOkAndHolds(std::optional<std::string>("200")));
}

// With statistics on, reads from table files count block-cache misses, then
// hits; without, the counts stay 0.
TEST_F(RocksDbStateTest, BlockCacheStatsCountReads) {
  RocksDbStoreOptions options;
  options.path = path_;
  options.write_buffer_bytes = 64 << 10;
  {
    auto store = RocksDbStore::Open(options);
    ASSERT_THAT(store.status(), IsOk());
    for (int key_idx = 0; key_idx < 3000; ++key_idx) {
      (*store)->Put(absl::StrCat("key", key_idx), std::string(100, 'v'));
    }
    ASSERT_THAT((*store)->Commit(), IsOk());
    EXPECT_EQ((*store)->block_cache_stats().hits, 0u);
    EXPECT_EQ((*store)->block_cache_stats().misses, 0u);
  }
  options.statistics = true;
  auto store = RocksDbStore::Open(options);  // the log replays into tables
  ASSERT_THAT(store.status(), IsOk());
  for (int pass = 0; pass < 2; ++pass) {
    for (int key_idx = 0; key_idx < 3000; key_idx += 100) {
      ASSERT_THAT(
          (*store)->Get(absl::StrCat("key", key_idx)),
          IsOkAndHolds(std::optional<std::string>(std::string(100, 'v'))));
    }
  }
  const RocksDbStore::BlockCacheStats stats = (*store)->block_cache_stats();
  EXPECT_GT(stats.misses, 0u);
  EXPECT_GT(stats.hits, 0u);
}

TEST_F(RocksDbStateTest, KeyGroupIsOneContiguousRange) {
  RocksDbStoreOptions options;
  options.path = path_;
  auto opened = RocksDbStore::Open(options);
  ASSERT_THAT(opened.status(), IsOk());
  RocksDbStore& store = **opened;
  std::vector<std::string> in_group;
  for (int key_idx = 0; key_idx < 2000; ++key_idx) {
    const std::string key = absl::StrCat("k", key_idx);
    store.Put(key, "v");
    if (RocksDbStore::KeyGroup(key) == 7) in_group.push_back(key);
  }
  ASSERT_THAT(store.Commit(), IsOk());
  std::sort(in_group.begin(), in_group.end());
  std::vector<std::string> seen;
  ASSERT_THAT(
      store.ForEachInKeyGroup(7,
                              [&](std::string_view key, std::string_view) {
                                seen.emplace_back(key);
                                return absl::OkStatus();
                              }),
      IsOk());
  EXPECT_EQ(seen, in_group);
  EXPECT_THAT(in_group, SizeIs(::testing::Gt(5u)));
  // ForEach visits groups in order.
  int last_group = -1;
  size_t all = 0;
  ASSERT_THAT(store.ForEach([&](std::string_view key, std::string_view) {
    const int group = RocksDbStore::KeyGroup(key);
    EXPECT_GE(group, last_group);
    last_group = group;
    ++all;
    return absl::OkStatus();
  }),
              IsOk());
  EXPECT_EQ(all, 2000u);
}

// ---- the same output as the in-memory backend -------------------------------

// a, then one or more b (any combination), then c, within 30 ms: branching
// partial matches sharing buffer nodes, and timeouts.
P BranchyPattern() {
  return P::Begin("a")
      .Where(NameIs("a"))
      .FollowedByAny("b")
      .Where(NameIs("b"))
      .OneOrMore()
      .FollowedBy("c")
      .Where(NameIs("c"))
      .Within(std::chrono::milliseconds(30));
}

// A seeded stream: 20 keys, names a/b/c/x, timestamps rising by 0..3 ms.
std::vector<Ev> RandomStream(uint32_t seed, int count) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> key(0, 19);
  std::uniform_int_distribution<int> name(0, 3);
  std::uniform_int_distribution<int> step(0, 3);
  std::vector<Ev> events;
  int64_t ts = 0;
  for (int event_idx = 0; event_idx < count; ++event_idx) {
    ts += step(rng);
    const char* names[] = {"a", "b", "c", "x"};
    Ev e = E(absl::StrCat("e", event_idx), names[name(rng)], event_idx, ts);
    e.id = key(rng);
    events.push_back(std::move(e));
  }
  return events;
}

std::vector<std::string> RunMatcher(const Nfa<Ev>& nfa,
                                    StateBackend<Ev, int>& backend,
                                    const std::vector<Ev>& events) {
  KeyedMatcher<Ev, int> matcher(
      nfa, [](const Ev& e) { return e.id; }, backend);
  Recorder sink;
  for (size_t event_idx = 0; event_idx < events.size(); ++event_idx) {
    const Ev& e = events[event_idx];
    EXPECT_THAT(matcher.Process(e, FromMillis(e.ts), sink), IsOk());
    // Commit points of every kind of loop: per event, per batch.
    if (event_idx % 7 == 0) {
      EXPECT_THAT(backend.Commit(), IsOk());
    }
  }
  EXPECT_THAT(matcher.AdvanceTime(FromMillis(events.back().ts + 100), sink),
              IsOk());
  EXPECT_THAT(backend.Commit(), IsOk());
  return sink.out;
}

class RocksDbMatcherTest : public RocksDbStateTest,
                           public ::testing::WithParamInterface<size_t> {};

TEST_P(RocksDbMatcherTest, SameMatchesAndTimeoutsAsInMemory) {
  auto nfa = CompilePattern(BranchyPattern());
  ASSERT_THAT(nfa.status(), IsOk());
  const std::vector<Ev> events = RandomStream(/*seed=*/42, /*count=*/600);

  InMemoryStateBackend<Ev, int> memory;
  const std::vector<std::string> expected = RunMatcher(*nfa, memory, events);
  ASSERT_THAT(expected, SizeIs(::testing::Gt(20u)));

  auto backend = IntBackend::Open(Options(GetParam()), ints_, events_);
  ASSERT_THAT(backend.status(), IsOk());
  EXPECT_EQ(RunMatcher(*nfa, **backend, events), expected);
  // Every window closed: nothing left to store.
  EXPECT_EQ((*backend)->key_count(), 0u);
  EXPECT_GT((*backend)->metrics().writes, 0u);
  if (GetParam() == 1) {
    EXPECT_GT((*backend)->metrics().evictions, 0u);
    EXPECT_GT((*backend)->metrics().cache_misses, 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(CacheCapacities, RocksDbMatcherTest,
                         ::testing::Values(size_t{1}, size_t{16},
                                           size_t{100000}),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           return absl::StrCat("Capacity", info.param);
                         });

}  // namespace
}  // namespace cep
