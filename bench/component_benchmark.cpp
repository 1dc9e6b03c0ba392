// Micro-benchmarks of the per-event components around the NFA step: compiled
// pattern-language conditions, the shared buffer, and the JSON / CSV codecs.
//
//   BM_ConditionSimple      one compiled simple condition of a pattern file,
//                           `amount < 2 and result == "approved"`, on one
//                           card-testing event (about a quarter of them
//                           planted probes, so both outcomes occur)
//   BM_ConditionIterative   one compiled iterative condition,
//                           `amount > 100 * avg(probe.amount) and result ==
//                           "approved" and merchant != last(probe).merchant`,
//                           on one event, against a fixed partial match of
//                           three probes
//   BM_SharedBufferAddExtractRelease
//                           one match's life in a SharedBuffer<Record>: per
//                           stage AddEvent, Put, Lock, release of the previous
//                           branch, ReleaseEvent; then Extract of the path and
//                           Release, which empties the buffer. The argument
//                           `stages` is the match length (events per match)
//   BM_JsonDecode           RecordDecoder::Decode of one card-testing JSON
//                           line (about 110 bytes) into an Auth Record
//   BM_CsvDecode            RecordCsvDecoder::Decode of one card-testing CSV
//                           row into an Auth Record
//   BM_MatchJsonEncode      AppendMatchJson of a 3-event match (two probes,
//                           one cash-out) into a reused string
//
// Conditions are reached without a matcher: a Pattern<Record>'s stages hold
// their condition as a ConditionExpr tree (condition.hpp) whose leaves are the
// compiled UserConditions, so the benchmarks walk that tree and call them. The
// iterative one gets a Context implemented here, with the pattern's aggregates
// computed once over the three probes: it measures the compiled expression
// (aggregate and last-event lookups included), not the shared-buffer walk a
// KeyedMatcher does to build the context.
//
// Each reports items/s (items_per_second: condition evaluations, events
// through the buffer, lines decoded, matches encoded) and, for the codecs,
// bytes/s. Each checks its answer before timing (condition outcomes against
// the same test written in C++, decoded records against the generator's
// values, the extracted path, the encoded line) and aborts with a message
// when it is wrong: a benchmark that measures nothing must not pass quietly.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "benchmark/benchmark.h"

#include "cep/condition.hpp"
#include "cep/dsl.hpp"
#include "cep/event.hpp"
#include "cep/internal/dewey_number.hpp"
#include "cep/match.hpp"
#include "cep/pattern.hpp"
#include "cep/record_csv.hpp"
#include "cep/record_json.hpp"
#include "cep/shared_buffer.hpp"
#include "cep/time.hpp"
#include "cep/workload.hpp"

namespace {

using cep::Record;

// Aborts with `message` unless `ok`.
void Check(bool ok, std::string_view message) {
  if (ok) return;
  std::fprintf(stderr, "component_benchmark: check failed: %.*s\n",
               static_cast<int>(message.size()), message.data());
  std::abort();
}

void CheckOk(const absl::Status& status, std::string_view what) {
  Check(status.ok(), std::string(what) + ": " + std::string(status.message()));
}

// The Auth type of patterns/card_testing.cep (the fields the card-testing
// workload makes) and two patterns whose conditions the benchmarks call.
// `probe {2,}` keeps the iterative pattern valid; its probes are only read.
constexpr std::string_view kPatternFile = R"(
event Auth {
  card      string     key
  amount    double
  merchant  string
  result    string
  ts        timestamp  time
}

pattern simple on Auth {
  begin probe where amount < 2 and result == "approved"
}

pattern iterative on Auth within 30m {
  begin probe {2,} consecutive where amount <= 2.00
  followed by cashout where amount > 100 * avg(probe.amount)
    and result == "approved" and merchant != last(probe).merchant
}
)";

constexpr size_t kCard = 0, kAmount = 1, kMerchant = 2, kResult = 3, kTs = 4;

const cep::PatternFile& File() {
  static const cep::PatternFile* const file = [] {
    absl::StatusOr<cep::PatternFile> parsed =
        cep::ParsePatternFile(kPatternFile, "component_benchmark.cep");
    CheckOk(parsed.status(), "ParsePatternFile");
    const cep::Schema* auth = parsed->FindSchema("Auth");
    Check(auth != nullptr && auth->FieldIndex("card") == kCard &&
              auth->FieldIndex("amount") == kAmount &&
              auth->FieldIndex("merchant") == kMerchant &&
              auth->FieldIndex("result") == kResult &&
              auth->FieldIndex("ts") == kTs,
          "Auth fields are not in the expected order");
    return new cep::PatternFile(*std::move(parsed));
  }();
  return *file;
}

const cep::Schema& Auth() { return *File().FindSchema("Auth"); }

// Card-testing options with planted frauds frequent enough that about a
// quarter of the events are probes (amount <= 2.00, "online-test").
cep::WorkloadOptions CardTestingOptions(uint64_t events,
                                        cep::WorkloadFormat format) {
  cep::WorkloadOptions options;
  options.events = events;
  options.seed = 7;
  options.fraud_rate = 0.05;
  options.format = format;
  return options;
}

constexpr size_t kEvents = 4096;  // a power of two: index with a mask

const std::vector<Record>& Events() {
  static const std::vector<Record>* const events = [] {
    auto gen = cep::MakeWorkload(
        "card-testing",
        CardTestingOptions(kEvents, cep::WorkloadFormat::kJsonl));
    CheckOk(gen.status(), "MakeWorkload");
    auto records = cep::WorkloadRecords::Create(*std::move(gen), File());
    CheckOk(records.status(), "WorkloadRecords::Create");
    auto* out = new std::vector<Record>();
    while (std::optional<Record> r = records->Next()) {
      out->push_back(*std::move(r));
    }
    Check(out->size() == kEvents, "workload made the wrong number of events");
    return out;
  }();
  return *events;
}

// The text lines of the same workload (no newlines) and their total size.
struct Lines {
  std::string header;  // CSV only
  std::vector<std::string> lines;
  int64_t bytes = 0;
};

Lines MakeLines(cep::WorkloadFormat format) {
  auto gen =
      cep::MakeWorkload("card-testing", CardTestingOptions(kEvents, format));
  CheckOk(gen.status(), "MakeWorkload");
  Lines out;
  std::string text;
  (*gen)->AppendHeader(text);
  while ((*gen)->AppendLine(text)) {
  }
  std::string_view rest = text;
  if (format == cep::WorkloadFormat::kCsv) {
    const size_t end = rest.find('\n');
    out.header = std::string(rest.substr(0, end));
    rest.remove_prefix(end + 1);
  }
  while (!rest.empty()) {
    const size_t end = rest.find('\n');
    Check(end != std::string_view::npos, "generated line without newline");
    out.lines.emplace_back(rest.substr(0, end));
    out.bytes += static_cast<int64_t>(end);
    rest.remove_prefix(end + 1);
  }
  Check(out.lines.size() == kEvents, "workload made the wrong number of lines");
  return out;
}

// ---- conditions -------------------------------------------------------------

// The condition of stage `stage` of pattern `pattern` in File().
const cep::ConditionExpr<Record>& StageCondition(std::string_view pattern,
                                                 std::string_view stage) {
  const cep::FilePattern* p = File().FindPattern(pattern);
  Check(p != nullptr, "pattern not found");
  for (const cep::Stage<Record>& s : p->pattern.stages()) {
    if (s.name == stage) {
      Check(s.condition != nullptr, "stage has no condition");
      return *s.condition;
    }
  }
  Check(false, "stage not found");
  std::abort();
}

// Evaluates `expr` as the engine does: AND / OR / NOT over user conditions,
// iterative ones with `ctx`.
bool Evaluate(const cep::ConditionExpr<Record>& expr, const Record& event,
              const cep::Context<Record>* ctx) {
  using Op = cep::ConditionExpr<Record>::Op;
  switch (expr.op) {
    case Op::kUser:
      if (expr.user->simple) return expr.user->simple(event);
      return expr.user->iterative(event, *ctx);
    case Op::kAnd:
      return Evaluate(*expr.lhs, event, ctx) && Evaluate(*expr.rhs, event, ctx);
    case Op::kOr:
      return Evaluate(*expr.lhs, event, ctx) || Evaluate(*expr.rhs, event, ctx);
    case Op::kNot:
      return !Evaluate(*expr.lhs, event, ctx);
    case Op::kTrue:
      return true;
  }
  return false;
}

// A partial match whose stage `stage` took `events`: the pattern's
// aggregates computed once, events returned as stored.
class FixedContext final : public cep::Context<Record> {
 public:
  FixedContext(const cep::Pattern<Record>& pattern, std::string stage,
               std::vector<Record> events)
      : stage_(std::move(stage)), events_(std::move(events)) {
    for (const Record& e : events_) pointers_.push_back(&e);
    for (const cep::AggregateDef<Record>& def : pattern.aggregates()) {
      cep::AggregateValue value;
      if (def.stage == stage_) {
        for (const Record& e : events_) value.Add(def.value(e));
      }
      aggregates_.push_back(value);
    }
  }

  std::span<const Record* const> EventsFor(
      std::string_view stage) const override {
    if (stage != stage_) return {};
    return pointers_;
  }
  const cep::AggregateValue& Aggregate(cep::AggregateId id) const override {
    return aggregates_[id.index];
  }
  cep::Timestamp timestamp() const override { return cep::FromMillis(0); }
  size_t aggregate_count() const { return aggregates_.size(); }

 private:
  std::string stage_;
  std::vector<Record> events_;
  std::vector<const Record*> pointers_;
  std::vector<cep::AggregateValue> aggregates_;
};

Record Probe(double amount, int64_t ts) {
  return Record(&Auth(),
                {cep::Value(std::string("4000-0000-9000-0001")),
                 cep::Value(amount), cep::Value(std::string("online-test")),
                 cep::Value(std::string("approved")), cep::Value(ts)});
}

// Evaluates `expr` on every event; checks each outcome against `expected`
// and that both outcomes occur, then times one evaluation per iteration.
template <typename Expected>
void RunCondition(benchmark::State& state,
                  const cep::ConditionExpr<Record>& expr,
                  const cep::Context<Record>* ctx, Expected expected) {
  const std::vector<Record>& events = Events();
  int64_t holds = 0;
  for (const Record& e : events) {
    const bool result = Evaluate(expr, e, ctx);
    Check(result == expected(e), "condition disagrees with its C++ version");
    holds += result ? 1 : 0;
  }
  Check(holds > 0 && holds < static_cast<int64_t>(events.size()),
        "condition is constant over the events");
  size_t event_idx = 0;
  for (auto _ : state) {
    bool result = Evaluate(expr, events[event_idx], ctx);
    benchmark::DoNotOptimize(result);
    event_idx = (event_idx + 1) & (kEvents - 1);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["true_pct"] =
      100.0 * static_cast<double>(holds) / static_cast<double>(events.size());
}

void BM_ConditionSimple(benchmark::State& state) {
  const cep::ConditionExpr<Record>& expr = StageCondition("simple", "probe");
  RunCondition(state, expr, nullptr, [](const Record& e) {
    return e.GetDouble(kAmount) < 2 && e.GetString(kResult) == "approved";
  });
}
BENCHMARK(BM_ConditionSimple);

void BM_ConditionIterative(benchmark::State& state) {
  const cep::FilePattern* p = File().FindPattern("iterative");
  Check(p != nullptr, "pattern 'iterative' not found");
  FixedContext ctx(p->pattern, "probe",
                   {Probe(1.00, 1000), Probe(1.50, 2000), Probe(0.50, 3000)});
  Check(ctx.aggregate_count() > 0, "the iterative pattern has no aggregate");
  const cep::ConditionExpr<Record>& expr =
      StageCondition("iterative", "cashout");
  RunCondition(state, expr, &ctx, [](const Record& e) {
    // avg(probe.amount) is 1.0; the last probe's merchant "online-test".
    return e.GetDouble(kAmount) > 100 * 1.0 &&
           e.GetString(kResult) == "approved" &&
           e.GetString(kMerchant) != "online-test";
  });
}
BENCHMARK(BM_ConditionIterative);

// ---- shared buffer ----------------------------------------------------------

void BM_SharedBufferAddExtractRelease(benchmark::State& state) {
  const auto stages = static_cast<uint32_t>(state.range(0));
  const std::vector<Record>& events = Events();
  cep::SharedBuffer<Record> buffer;
  std::vector<cep::SharedBuffer<Record>::PathStep> path;
  std::vector<uint32_t> slots(stages);
  size_t event_idx = 0;
  uint64_t seq = 0;
  // One match: stage k takes an event after stage k - 1's node, as the
  // evaluator's TAKE does (the new branch's version adds a stage); at the
  // end the match's path is extracted and its branch released.
  auto one_match = [&] {
    uint32_t node = cep::kNoNode;
    cep::internal::DeweyNumber version(1);
    for (uint32_t stage = 0; stage < stages; ++stage) {
      const Record& e = events[event_idx];
      event_idx = (event_idx + 1) & (kEvents - 1);
      const uint32_t slot = buffer.AddEvent(e, e.GetInt(kTs), seq++);
      slots[stage] = slot;
      const uint32_t next = buffer.Put(stage, slot, node, version);
      cep::internal::DeweyNumber next_version = version.AddStage();
      buffer.Lock(next, next_version);
      buffer.Release(node, version);
      buffer.ReleaseEvent(slot);
      node = next;
      version = std::move(next_version);
    }
    const bool found = buffer.Extract(node, version, path);
    benchmark::DoNotOptimize(found);
    benchmark::DoNotOptimize(path.data());
    return std::make_pair(node, version);
  };

  // Check once: the path holds every stage's event in order, and releasing
  // the branch frees everything.
  {
    const size_t first = event_idx;
    auto [node, version] = one_match();
    Check(path.size() == stages, "extracted path has the wrong length");
    for (uint32_t stage = 0; stage < stages; ++stage) {
      Check(path[stage].stage == stage && path[stage].event == slots[stage],
            "extracted path has the wrong steps");
      Check(*buffer.event(path[stage].event).event ==
                events[(first + stage) & (kEvents - 1)],
            "extracted path has the wrong events");
    }
    Check(buffer.event_count() == stages && buffer.node_count() == stages,
          "buffer holds the wrong number of events or nodes");
    buffer.Release(node, version);
    Check(buffer.empty(), "releasing the match left the buffer non-empty");
  }

  for (auto _ : state) {
    auto [node, version] = one_match();
    buffer.Release(node, version);
  }
  Check(buffer.empty(), "releasing the matches left the buffer non-empty");
  state.SetItemsProcessed(state.iterations() * stages);
  state.counters["matches_per_second"] = benchmark::Counter(
      static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SharedBufferAddExtractRelease)->ArgName("stages")->Arg(3)->Arg(10);

// ---- codecs -----------------------------------------------------------------

// Decodes every line once and checks it against the generator's Records.
template <typename Decoder>
void CheckDecodes(Decoder& decoder, const Lines& lines) {
  const std::vector<Record>& events = Events();
  for (size_t line_idx = 0; line_idx < lines.lines.size(); ++line_idx) {
    absl::StatusOr<Record> record = decoder.Decode(lines.lines[line_idx]);
    CheckOk(record.status(), "Decode");
    Check(*record == events[line_idx],
          "decoded record differs from the generator's");
  }
}

template <typename Decoder>
void RunDecode(benchmark::State& state, Decoder& decoder, const Lines& lines) {
  CheckDecodes(decoder, lines);
  size_t line_idx = 0;
  int64_t bytes = 0;
  for (auto _ : state) {
    const std::string& line = lines.lines[line_idx];
    absl::StatusOr<Record> record = decoder.Decode(line);
    Check(record.ok(), "Decode failed while timing");
    benchmark::DoNotOptimize(record);
    bytes += static_cast<int64_t>(line.size());
    line_idx = (line_idx + 1) & (kEvents - 1);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(bytes);
}

void BM_JsonDecode(benchmark::State& state) {
  static const Lines lines = MakeLines(cep::WorkloadFormat::kJsonl);
  cep::RecordDecoder decoder(File());
  RunDecode(state, decoder, lines);
}
BENCHMARK(BM_JsonDecode);

void BM_CsvDecode(benchmark::State& state) {
  static const Lines lines = MakeLines(cep::WorkloadFormat::kCsv);
  cep::RecordCsvDecoder decoder(File());
  CheckOk(decoder.ReadHeader(lines.header), "ReadHeader");
  RunDecode(state, decoder, lines);
}
BENCHMARK(BM_CsvDecode);

void BM_MatchJsonEncode(benchmark::State& state) {
  const cep::FilePattern* p = File().FindPattern("iterative");
  Check(p != nullptr, "pattern 'iterative' not found");
  const std::vector<Record>& events = Events();
  cep::Match<Record> match;
  uint64_t seq = 0;
  auto add = [&](std::string stage, std::vector<Record> records) {
    cep::StageMatch<Record>& s = match.stages.emplace_back();
    s.stage = std::move(stage);
    for (Record& r : records) {
      const int64_t ts = r.GetInt(kTs);
      s.events.push_back({std::move(r), cep::FromMillis(ts), seq++});
    }
  };
  add("probe",
      {Probe(1.00, 1'764'547'200'000), Probe(1.50, 1'764'547'230'000)});
  add("cashout", {events[0]});
  const cep::Value key(std::string("4000-0000-9000-0001"));
  Check(match.size() == 3, "match does not hold 3 events");

  std::string out;
  cep::AppendMatchJson(out, p->name, key, match, cep::MatchKind::kMatch,
                       /*with_types=*/false);
  Check(out.starts_with(R"({"pattern":"iterative","key":"4000-0000-9000-0001",)"
                        R"("events":{"probe":[{"seq":0,)") &&
            out.find(R"("cashout":[{"seq":2,)") != std::string::npos &&
            out.ends_with("}]}}"),
        "unexpected match line: " + out);
  const size_t line_size = out.size();

  for (auto _ : state) {
    out.clear();
    cep::AppendMatchJson(out, p->name, key, match, cep::MatchKind::kMatch,
                         /*with_types=*/false);
    benchmark::DoNotOptimize(out.data());
  }
  Check(out.size() == line_size, "match line changed while timing");
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(line_size));
}
BENCHMARK(BM_MatchJsonEncode);

}  // namespace

BENCHMARK_MAIN();
