// Micro-benchmarks of the StateBackends: the cost of a key's state per event.
//
//   BM_StateBackendGet   Get() of a uniformly random key
//   BM_StateBackendPut   Get(), change, Put() of a uniformly random key, with
//                        Commit() every `commit_every` events
//
// Arguments: `rocksdb` 0 = InMemoryStateBackend, 1 = RocksDbStateBackend;
// `keys` stored keys (each state: one partial match holding one event);
// `cache_pct` the RocksDB decoded-state cache as a percentage of `keys`;
// `commit_every` events per Commit(). The default workload is 1M keys with a
// 10% cache; `--state_keys=N` runs it with N keys instead (a quick check:
// --state_keys=100000). States are built once per process, before timing,
// in a fresh folder under $TMPDIR (or /tmp), removed at exit. Each reports
// events/s (items_per_second) and, for RocksDB, the cache hit rate.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include <unistd.h>

#include "cep/codec.hpp"
#include "cep/key_state.hpp"
#include "cep/rocksdb_state.hpp"
#include "cep/state.hpp"

namespace {

struct Txn {
  uint64_t card = 0;
  double amount = 0;
  int64_t ts = 0;
};

using Backend = cep::StateBackend<Txn, uint64_t>;
using RocksBackend = cep::RocksDbStateBackend<Txn, uint64_t>;

int64_t g_keys = 1'000'000;  // --state_keys

const cep::TrivialCodec<uint64_t> kKeyCodec;
const cep::TrivialCodec<Txn> kEventCodec;

// A key waiting in the middle of a pattern: one partial match that took one
// event, as the Evaluator leaves it.
void MakeState(cep::KeyState<Txn>& state, uint64_t card) {
  const auto ts = static_cast<int64_t>(card);
  const cep::internal::DeweyNumber version(1);
  auto& buffer = state.buffer();
  const uint32_t event = buffer.AddEvent(Txn{card, 1.5, ts}, ts, card);
  const uint32_t node = buffer.Put(0, event, cep::kNoNode, version);
  buffer.Lock(node, version);
  buffer.ReleaseEvent(event);
  cep::Computation comp;
  comp.state = 1;
  comp.node = node;
  comp.version = version;
  comp.has_start = true;
  comp.start_ts = ts;
  comp.previous_ts = ts;
  comp.aggregates.resize(1);
  comp.aggregates[0].Add(1.5);
  state.partial().push_back(std::move(comp));
}

// The populated backends, built on first use and kept for the process.
class Fixtures {
 public:
  ~Fixtures() {
    backends_.clear();  // close the databases before removing their files
    std::error_code ignored;
    if (!root_.empty()) std::filesystem::remove_all(root_, ignored);
  }

  // nullptr with `error` set when building failed.
  Backend* Get(bool rocksdb, int64_t keys, int64_t cache_pct,
               std::string& error) {
    auto key = std::make_tuple(rocksdb, keys, cache_pct);
    if (auto it = backends_.find(key); it != backends_.end()) {
      return it->second.get();
    }
    std::unique_ptr<Backend> backend;
    if (rocksdb) {
      if (root_.empty()) {
        const char* tmp = std::getenv("TMPDIR");
        root_ = std::filesystem::path(tmp != nullptr ? tmp : "/tmp") /
                absl::StrCat("cep_state_benchmark_", ::getpid());
      }
      cep::RocksDbStateOptions options;
      options.path =
          (root_ / absl::StrCat("db_", keys, "_", cache_pct)).string();
      options.cache_capacity = static_cast<size_t>(keys * cache_pct / 100);
      auto opened = RocksBackend::Open(options, kKeyCodec, kEventCodec);
      if (!opened.ok()) {
        error = opened.status().ToString();
        return nullptr;
      }
      backend = *std::move(opened);
    } else {
      backend = std::make_unique<cep::InMemoryStateBackend<Txn, uint64_t>>();
    }
    for (int64_t card = 0; card < keys; ++card) {
      auto state = backend->Get(static_cast<uint64_t>(card));
      absl::Status status = state.status();
      if (status.ok()) {
        MakeState(**state, static_cast<uint64_t>(card));
        status = backend->Put(static_cast<uint64_t>(card), **state);
      }
      if (status.ok() && card % 10'000 == 0) status = backend->Commit();
      if (!status.ok()) {
        error = status.ToString();
        return nullptr;
      }
    }
    if (absl::Status status = backend->Commit(); !status.ok()) {
      error = status.ToString();
      return nullptr;
    }
    // The answer, once: every key stored, a key's state reads back.
    auto state = backend->Get(static_cast<uint64_t>(keys / 2));
    if (!state.ok() || (*state)->partial().size() != 1 ||
        (*state)->partial()[0].start_ts != keys / 2 ||
        backend->key_count() != static_cast<size_t>(keys)) {
      error = "populated backend does not read back";
      return nullptr;
    }
    return backends_.emplace(key, std::move(backend)).first->second.get();
  }

 private:
  std::filesystem::path root_;
  std::map<std::tuple<bool, int64_t, int64_t>, std::unique_ptr<Backend>>
      backends_;
};

// Lives in main(): the databases must close before RocksDB's own statics
// (its default Env) are destroyed, which a static Fixtures would not ensure.
Fixtures* g_fixtures = nullptr;

Fixtures& TheFixtures() { return *g_fixtures; }

void ReportCache(benchmark::State& state, Backend& backend,
                 const cep::RocksDbStateMetrics& before) {
  auto* rocks = dynamic_cast<RocksBackend*>(&backend);
  if (rocks == nullptr) return;
  const cep::RocksDbStateMetrics& after = rocks->metrics();
  const double hits = static_cast<double>(after.cache_hits - before.cache_hits);
  const double misses =
      static_cast<double>(after.cache_misses - before.cache_misses);
  state.counters["hit_rate"] = hits + misses == 0 ? 0 : hits / (hits + misses);
  state.counters["bytes_per_write"] =
      after.writes == before.writes
          ? 0
          : static_cast<double>(after.bytes_written - before.bytes_written) /
                static_cast<double>(after.writes - before.writes);
}

cep::RocksDbStateMetrics MetricsOf(Backend& backend) {
  auto* rocks = dynamic_cast<RocksBackend*>(&backend);
  return rocks == nullptr ? cep::RocksDbStateMetrics{} : rocks->metrics();
}

void BM_StateBackendGet(benchmark::State& state) {
  const bool rocksdb = state.range(0) != 0;
  std::string error;
  Backend* backend = TheFixtures().Get(rocksdb, g_keys, state.range(1), error);
  if (backend == nullptr) {
    state.SkipWithError(error.c_str());
    return;
  }
  const cep::RocksDbStateMetrics before = MetricsOf(*backend);
  // One sequence across the runs Google Benchmark makes (it reruns with
  // more iterations): a restarted sequence would hit the cache it filled.
  static std::mt19937_64 rng(7);
  std::uniform_int_distribution<uint64_t> card(0, g_keys - 1);
  for (auto _ : state) {
    auto key_state = backend->Get(card(rng));
    if (!key_state.ok()) {
      state.SkipWithError(key_state.status().ToString().c_str());
      return;
    }
    benchmark::DoNotOptimize(*key_state);
  }
  state.SetItemsProcessed(state.iterations());
  ReportCache(state, *backend, before);
}

void BM_StateBackendPut(benchmark::State& state) {
  const bool rocksdb = state.range(0) != 0;
  const int64_t commit_every = state.range(2);
  std::string error;
  Backend* backend = TheFixtures().Get(rocksdb, g_keys, state.range(1), error);
  if (backend == nullptr) {
    state.SkipWithError(error.c_str());
    return;
  }
  const cep::RocksDbStateMetrics before = MetricsOf(*backend);
  static std::mt19937_64 rng(11);  // as in BM_StateBackendGet
  std::uniform_int_distribution<uint64_t> card(0, g_keys - 1);
  int64_t since_commit = 0;
  for (auto _ : state) {
    const uint64_t key = card(rng);
    auto key_state = backend->Get(key);
    absl::Status status = key_state.status();
    if (status.ok()) {
      ++(*key_state)->partial()[0].previous_ts;
      status = backend->Put(key, **key_state);
    }
    if (status.ok() && ++since_commit == commit_every) {
      since_commit = 0;
      status = backend->Commit();
    }
    if (!status.ok()) {
      state.SkipWithError(status.ToString().c_str());
      return;
    }
  }
  if (absl::Status status = backend->Commit(); !status.ok()) {
    state.SkipWithError(status.ToString().c_str());
    return;
  }
  state.SetItemsProcessed(state.iterations());
  ReportCache(state, *backend, before);
}

// In-memory, then RocksDB with a cache of 10% of the keys.
BENCHMARK(BM_StateBackendGet)
    ->ArgNames({"rocksdb", "cache_pct"})
    ->Args({0, 10})
    ->Args({1, 10});
BENCHMARK(BM_StateBackendPut)
    ->ArgNames({"rocksdb", "cache_pct", "commit_every"})
    ->Args({0, 10, 100})
    ->Args({1, 10, 100})
    ->Args({1, 10, 10'000});

}  // namespace

int main(int argc, char** argv) {
  // Our flag first; the rest is Google Benchmark's.
  std::vector<char*> rest;
  for (int arg_idx = 0; arg_idx < argc; ++arg_idx) {
    constexpr std::string_view kFlag = "--state_keys=";
    const std::string_view arg = argv[arg_idx];
    if (arg.substr(0, kFlag.size()) == kFlag) {
      const std::string value(arg.substr(kFlag.size()));
      if (!absl::SimpleAtoi(value, &g_keys) || g_keys < 1) {
        std::fprintf(stderr, "state_benchmark: bad %s\n", argv[arg_idx]);
        return 2;
      }
      continue;
    }
    rest.push_back(argv[arg_idx]);
  }
  int rest_count = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_count, rest.data());
  if (benchmark::ReportUnrecognizedArguments(rest_count, rest.data())) {
    return 1;
  }
  benchmark::AddCustomContext("state_keys", std::to_string(g_keys));
  Fixtures fixtures;
  g_fixtures = &fixtures;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
