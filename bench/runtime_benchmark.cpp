// The path a service that embeds Cepheus takes: a Runtime over its own typed
// events, with no framing, no decoding and no output formatting, so that the
// cost `cep run` adds for JSON lines shows by difference (README,
// "Performance"). The workload and the pattern are `cep run
// patterns/card_testing.cep` over `cep gen card-testing`, built in C++:
//
//   BM_RuntimeTypedCardTesting   card_testing (as examples/fraud_demo.cpp
//                                writes it) over card-testing events held
//                                as a struct; arg parallelism: worker
//                                threads (1: everything on the caller's
//                                thread). Wall time, process CPU time and
//                                events/s of wall time per run of 2M events.
//
// Checks before timing that every planted fraud is found once.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include <benchmark/benchmark.h>

#include "cep/compiler.hpp"
#include "cep/event.hpp"
#include "cep/pattern.hpp"
#include "cep/runtime.hpp"
#include "cep/time.hpp"
#include "cep/workload.hpp"

namespace {

constexpr uint64_t kEvents = 2'000'000;

struct Txn {
  std::string card;
  double amount = 0;
  std::string merchant;
  std::string result;
  int64_t ts = 0;
};

cep::Pattern<Txn> CardTesting() {
  using P = cep::Pattern<Txn>;
  return P::Begin("probe", cep::AfterMatchSkip::SkipPastLastEvent())
      .Where([](const Txn& t) {
        return t.amount <= 2.00 && t.result == "approved";
      })
      .TimesOrMore(3)
      .Consecutive()
      .Greedy()
      .NotFollowedBy("refund")
      .Where([](const Txn& t) { return t.result == "refund"; })
      .FollowedBy("cashout")
      .Where([](const Txn& t) {
        return t.amount >= 500 && t.result == "approved";
      })
      .Within(std::chrono::minutes(30));
}

struct Workload {
  std::vector<Txn> events;
  uint64_t planted = 0;
};

// `cep gen card-testing --events kEvents`, as structs.
const Workload& Events() {
  static const Workload workload = [] {
    Workload made;
    cep::WorkloadOptions options;
    options.events = kEvents;
    absl::StatusOr<std::unique_ptr<cep::WorkloadGenerator>> gen =
        cep::MakeWorkload("card-testing", options);
    if (!gen.ok()) {
      std::fprintf(stderr, "runtime_benchmark: no workload\n");
      std::abort();
    }
    std::vector<cep::Value> values;
    while ((*gen)->NextValues(values)) {
      made.events.push_back(
          {std::get<std::string>(values[0]), std::get<double>(values[1]),
           std::get<std::string>(values[2]), std::get<std::string>(values[3]),
           std::get<int64_t>(values[4])});
    }
    made.planted = (*gen)->planted_frauds();
    return made;
  }();
  return workload;
}

class CountingSink : public cep::RuntimeSink<Txn, std::string> {
 public:
  void OnMatch(size_t, const std::string&, cep::Match<Txn>, int64_t) override {
    ++matches;
  }
  uint64_t matches = 0;
};

// Runs the pattern over every event; returns the matches, or -1 on error.
int64_t RunOnce(const cep::Nfa<Txn>& nfa, const std::vector<Txn>& events,
                size_t parallelism) {
  CountingSink sink;
  cep::RuntimeOptions options;
  options.parallelism = parallelism;
  std::vector<cep::RuntimePattern<Txn, std::string>> patterns;
  patterns.emplace_back(&nfa, [](const Txn& t) { return t.card; });
  auto runtime = cep::Runtime<Txn, std::string>::Create(std::move(patterns),
                                                        options, sink);
  if (!runtime.ok()) return -1;
  for (const Txn& event : events) {
    if (!(*runtime)->Push(event, cep::FromMillis(event.ts)).ok()) return -1;
  }
  if (!(*runtime)->Finish().ok()) return -1;
  return static_cast<int64_t>(sink.matches);
}

void BM_RuntimeTypedCardTesting(benchmark::State& state) {
  const Workload& workload = Events();
  absl::StatusOr<cep::Nfa<Txn>> nfa = cep::CompilePattern(CardTesting());
  if (!nfa.ok()) {
    state.SkipWithError("pattern does not compile");
    return;
  }
  const auto parallelism = static_cast<size_t>(state.range(0));
  if (RunOnce(*nfa, workload.events, parallelism) !=
      static_cast<int64_t>(workload.planted)) {
    state.SkipWithError("matches differ from the planted frauds");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(RunOnce(*nfa, workload.events, parallelism));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(workload.events.size()));
}
BENCHMARK(BM_RuntimeTypedCardTesting)
    ->ArgName("parallelism")
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
