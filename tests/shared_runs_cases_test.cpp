// Differential test over the project's own patterns: every pattern of
// tests/cases/*/pattern.cep that parses, compiles and is accepted by
// CheckSharedRuns runs over its case's events.jsonl under both the per-run
// Evaluator and the SharedRunsEvaluator, which must report the same matches
// (stage -> events, in the same order) and the same timeouts, per key.
//
// Events are decoded as `cep run` decodes them (RecordDecoder; lines that do
// not decode are left out), given to the patterns that accept their type,
// grouped by the pattern's key in input order, sorted stably by event time
// per key, and numbered by their line (seq). After a key's last event, time
// advances far past it, so every window closes.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#include "cep/compiler.hpp"
#include "cep/dsl.hpp"
#include "cep/evaluator.hpp"
#include "cep/key_state.hpp"
#include "cep/record_json.hpp"
#include "cep/shared_runs_evaluator.hpp"

#include "testing/case_loader.hpp"
#include "testing/nfa_harness.hpp"

namespace cep {
namespace {

const std::filesystem::path kCasesDir =
    std::filesystem::path(CEP_SOURCE_DIR) / "tests" / "cases";

// Records what an evaluator reports, as `cep run` writes it.
class Recorder : public MatchSink<Record> {
 public:
  Recorder(const FilePattern& pattern, const Value& key)
      : pattern_(pattern), key_(key) {}
  void OnMatch(Match<Record> match) override {
    lines.push_back(FormatMatch(pattern_, key_, match));
  }
  void OnTimeout(Match<Record> partial, Timestamp timeout_at) override {
    lines.push_back(
        absl::StrCat(FormatMatch(pattern_, key_, partial, MatchKind::kTimeout),
                     " @", ToMillis(timeout_at)));
  }
  std::vector<std::string> lines;

 private:
  const FilePattern& pattern_;
  const Value& key_;
};

struct KeyedEvent {
  Record record;
  int64_t ts = 0;
  uint64_t seq = 0;
};

// Why a pattern was not compared, or "" when it was.
std::string SkipReason(const testing::Case& c, const FilePattern& pattern,
                       const absl::StatusOr<Nfa<Record>>& nfa) {
  if (!nfa.ok()) return "does not compile";
  if (!CheckSharedRuns(*nfa).ok()) return "per-run strategy";
  if (pattern.max_partial_matches.has_value() ||
      std::find(c.options.begin(), c.options.end(), "--max-partial-matches") !=
          c.options.end()) {
    return "partial-match cap (per run only)";
  }
  if (std::find(c.options.begin(), c.options.end(), "--state-ttl") !=
      c.options.end()) {
    return "--state-ttl (keys expire in the runtime)";
  }
  for (const Schema* schema : pattern.types) {
    if (!schema->time_field().has_value()) return "no event-time field";
  }
  return "";
}

// Runs `pattern` over `events` (already filtered and numbered) under both
// evaluators, one key at a time; returns the number of lines compared.
size_t Compare(const std::string& where, const FilePattern& pattern,
               const Nfa<Record>& nfa, const std::vector<KeyedEvent>& events) {
  std::vector<Value> keys;
  std::vector<std::vector<KeyedEvent>> by_key;
  for (const KeyedEvent& e : events) {
    const Value key = pattern.KeyOf(e.record);
    auto it = std::find(keys.begin(), keys.end(), key);
    if (it == keys.end()) {
      keys.push_back(key);
      by_key.emplace_back();
      it = keys.end() - 1;
    }
    by_key[static_cast<size_t>(it - keys.begin())].push_back(e);
  }
  size_t compared = 0;
  for (size_t k = 0; k < keys.size(); ++k) {
    std::vector<KeyedEvent>& stream = by_key[k];
    std::stable_sort(
        stream.begin(), stream.end(),
        [](const KeyedEvent& a, const KeyedEvent& b) { return a.ts < b.ts; });
    Evaluator<Record> reference(nfa);
    KeyState<Record> reference_state;
    Recorder reference_out(pattern, keys[k]);
    SharedRunsEvaluator<Record> shared(nfa);
    SharedRunsState<Record> shared_state;
    Recorder shared_out(pattern, keys[k]);
    for (const KeyedEvent& e : stream) {
      EXPECT_TRUE(reference
                      .Process(reference_state, e.record, FromMillis(e.ts),
                               e.seq, reference_out)
                      .ok());
      EXPECT_TRUE(shared
                      .Process(shared_state, e.record, FromMillis(e.ts), e.seq,
                               shared_out)
                      .ok());
    }
    // Far past every window (about 30 years after the last event).
    const Timestamp end = FromMillis(stream.back().ts + (int64_t{1} << 40));
    EXPECT_TRUE(
        reference.AdvanceTime(reference_state, end, reference_out).ok());
    EXPECT_TRUE(shared.AdvanceTime(shared_state, end, shared_out).ok());
    EXPECT_EQ(shared_out.lines, reference_out.lines) << where;
    compared += reference_out.lines.size();
  }
  return compared;
}

TEST(SharedRunsCasesTest, EveryAcceptedCasePatternAgreesWithPerRun) {
  size_t cases_compared = 0;
  size_t patterns_compared = 0;
  size_t lines_compared = 0;
  std::map<std::string, size_t> skipped;
  for (const std::filesystem::path& dir : testing::DiscoverCases(kCasesDir)) {
    const testing::Case c = testing::LoadCase(dir);
    absl::StatusOr<PatternFile> file =
        ParsePatternFile(c.pattern_text, std::string(testing::kPatternFile));
    if (!file.ok()) {
      ++skipped["case: pattern file does not parse"];
      continue;
    }
    if (c.events.empty()) {
      skipped["pattern: case has no events"] += file->patterns().size();
      continue;
    }
    RecordDecoder decoder(*file);
    std::vector<KeyedEvent> decoded;
    uint64_t seq = 0;
    std::istringstream lines(c.events);
    std::string line;
    while (std::getline(lines, line)) {
      if (IsBlankLine(line)) continue;
      absl::StatusOr<Record> record = decoder.Decode(line);
      const uint64_t this_seq = seq++;
      if (!record.ok()) continue;  // `cep run` stops or skips: left out here
      decoded.push_back(KeyedEvent{*std::move(record), 0, this_seq});
    }
    bool case_compared = false;
    for (const FilePattern& pattern : file->patterns()) {
      absl::StatusOr<Nfa<Record>> nfa = CompilePattern(pattern.pattern);
      const std::string reason = SkipReason(c, pattern, nfa);
      if (!reason.empty()) {
        ++skipped["pattern: " + reason];
        continue;
      }
      std::vector<KeyedEvent> events;
      for (const KeyedEvent& e : decoded) {
        if (!pattern.Accepts(e.record)) continue;
        KeyedEvent accepted = e;
        accepted.ts = e.record.GetInt(*e.record.schema().time_field());
        events.push_back(std::move(accepted));
      }
      if (events.empty()) {
        ++skipped["pattern: no events of its types"];
        continue;
      }
      lines_compared += Compare(absl::StrCat(c.name, " / ", pattern.name),
                                pattern, *nfa, events);
      ++patterns_compared;
      case_compared = true;
    }
    if (case_compared) ++cases_compared;
  }
  std::cout << "compared " << patterns_compared << " patterns of "
            << cases_compared << " cases (" << lines_compared
            << " matches and timeouts)\n";
  for (const auto& [reason, count] : skipped) {
    std::cout << "skipped " << count << " " << reason << "\n";
  }
  // What this tree holds; fewer means cases stopped reaching the comparison.
  EXPECT_GE(patterns_compared, 157u);
  EXPECT_GE(cases_compared, 108u);
  EXPECT_GE(lines_compared, 361u);
}

// The ported FlinkCEP tests run under both evaluators through the NFA
// harness (testing/nfa_harness.hpp) when the pattern allows it.
TEST(SharedRunsCasesTest, HarnessShadowsPatternsTheSharedRunsEvaluatorTakes) {
  using testing::Ev;
  using testing::NameIs;
  const Pattern<Ev> simple = Pattern<Ev>::Begin("a")
                                 .Where(NameIs("a"))
                                 .FollowedByAny("b")
                                 .Where(NameIs("b"))
                                 .Within(std::chrono::milliseconds(10));
  testing::Harness<Ev> shadowed(simple);
  EXPECT_TRUE(shadowed.shadowed());
  EXPECT_EQ(shadowed.FeedAll({testing::E("a1", "a", 1, 1),
                              testing::E("b1", "b", 1, 2),
                              testing::E("b2", "b", 1, 3)}),
            (std::vector<std::string>{"a=[a1] b=[b1]", "a=[a1] b=[b2]"}));
  EXPECT_EQ(shadowed.Advance(20), std::vector<std::string>{});
  EXPECT_EQ(shadowed.timeouts(), std::vector<std::string>{"a=[a1] @11"});

  EvaluatorOptions capped;
  capped.max_partial_matches = 5;
  EXPECT_FALSE(testing::Harness<Ev>(simple, capped).shadowed());

  const Pattern<Ev> iterative =
      Pattern<Ev>::Begin("a")
          .Where(NameIs("a"))
          .FollowedBy("b")
          .Where([](const Ev& e, const Context<Ev>& context) {
            return e.price > context.FirstEvent("a")->price;
          });
  EXPECT_FALSE(testing::Harness<Ev>(iterative).shadowed());
}

}  // namespace
}  // namespace cep
