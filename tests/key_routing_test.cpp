// Tests of the route hashes of `cep run --parallelism N`
// (src/run/compiled_pattern.hpp): the reading thread hashes a string key as
// a view into the line, the workers (and lines decoded on the reading
// thread) hash the Record's Value; both must pick the same worker, and with
// durable state the same key group as the state's own encoding of the key,
// or a checkpoint written with another worker count would be misrouted.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cep/codec.hpp"
#include "cep/event.hpp"
#include "cep/rocksdb_state.hpp"
#include "cep/runtime.hpp"

#include "run/compiled_pattern.hpp"

namespace cep {
namespace {

using run::KeyRouting;

std::string RandomKey(std::mt19937_64& rng) {
  std::string key(rng() % 40, ' ');
  for (char& c : key) c = static_cast<char>(rng() % 256);
  return key;
}

// A string key hashes the same as a view and as a Value, by key group as
// the state's ValueCodec encodes it.
TEST(KeyRoutingTest, StringViewsRouteAsTheirValues) {
  std::mt19937_64 rng(7);
  const ValueCodec codec;
  for (int idx = 0; idx < 20000; ++idx) {
    const std::string key = RandomKey(rng);
    EXPECT_EQ(run::RouteHashOfStringKey(KeyRouting::kHash, key),
              run::RouteHashOfKey(KeyRouting::kHash, Value(key)));
    std::string encoded;
    codec.Encode(Value(key), encoded);
    const uint64_t group = KeyGroupRouteHash(RocksDbStore::KeyGroup(encoded));
    ASSERT_EQ(run::RouteHashOfStringKey(KeyRouting::kKeyGroup, key), group)
        << idx;
    EXPECT_EQ(run::RouteHashOfKey(KeyRouting::kKeyGroup, Value(key)), group);
  }
  // Keys of other types by key group: their encoding's.
  for (const Value& key :
       {Value(), Value(int64_t{-42}), Value(2.5), Value(true)}) {
    std::string encoded;
    codec.Encode(key, encoded);
    EXPECT_EQ(run::RouteHashOfKey(KeyRouting::kKeyGroup, key),
              KeyGroupRouteHash(RocksDbStore::KeyGroup(encoded)));
  }
}

// Card-number-like keys spread over 2, 3 and 4 workers within 5% of an
// even share; a one-byte change moves the hash.
TEST(KeyRoutingTest, StringKeysSpreadOverEveryWorker) {
  for (const size_t workers : {2u, 3u, 4u}) {
    std::vector<size_t> per_worker(workers, 0);
    constexpr int kKeys = 30000;
    for (int idx = 0; idx < kKeys; ++idx) {
      const std::string card = "4000-0000-" + std::to_string(1000000 + idx);
      const uint64_t hash = run::RouteHashOfStringKey(KeyRouting::kHash, card);
      ++per_worker[Runtime<Record, Value>::WorkerOfHash(hash, workers)];
    }
    for (const size_t keys : per_worker) {
      EXPECT_NEAR(static_cast<double>(keys),
                  kKeys / static_cast<double>(workers),
                  0.05 * kKeys / static_cast<double>(workers))
          << workers;
    }
  }
  EXPECT_NE(run::RouteHashOfBytes("4000-0000-0000-0001"),
            run::RouteHashOfBytes("4000-0000-0000-0002"));
  EXPECT_NE(run::RouteHashOfBytes(""),
            run::RouteHashOfBytes(std::string(1, '\0')));
}

}  // namespace
}  // namespace cep
