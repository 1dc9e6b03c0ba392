// Tests of KeyedMatcher and the in-memory StateBackend: per-key isolation,
// keys in output, time advanced for keys without new events.
#include "cep/matcher.hpp"

#include <chrono>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "testing/keyed_recorder.hpp"
#include "testing/nfa_harness.hpp"
#include "testing/status_matchers.hpp"

namespace cep {
namespace {

using ::cep::testing::Ev;
using ::cep::testing::K;
using Recorder = ::cep::testing::KeyedRecorder;
using ::cep::testing::FormatMatch;
using ::cep::testing::IsOk;
using ::cep::testing::NameIs;
using ::testing::ElementsAre;
using P = Pattern<Ev>;

P AThenB() {
  return P::Begin("a")
      .Where(NameIs("a"))
      .FollowedBy("b")
      .Where(NameIs("b"))
      .Within(std::chrono::milliseconds(10));
}

TEST(KeyedMatcherTest, KeysMatchIndependently) {
  auto nfa = CompilePattern(AThenB());
  ASSERT_THAT(nfa.status(), IsOk());
  InMemoryStateBackend<Ev, int> backend;
  KeyedMatcher<Ev, int> matcher(
      *nfa, [](const Ev& e) { return e.id; }, backend);
  Recorder sink;
  for (const Ev& e :
       {K(1, "a1", "a", 1), K(2, "a2", "a", 2), K(2, "b2", "b", 3),
        K(1, "x", "x", 4), K(1, "b1", "b", 5)}) {
    ASSERT_THAT(matcher.Process(e, FromMillis(e.ts), sink), IsOk());
  }
  EXPECT_THAT(sink.out, ElementsAre("2: a=[a2] b=[b2]", "1: a=[a1] b=[b1]"));
  EXPECT_EQ(backend.key_count(), 2u);
  EXPECT_EQ(matcher.metrics().events, 5u);
}

TEST(KeyedMatcherTest, AdvanceTimeTimesOutKeysWithoutNewEvents) {
  auto nfa = CompilePattern(AThenB());
  ASSERT_THAT(nfa.status(), IsOk());
  InMemoryStateBackend<Ev, int> backend;
  KeyedMatcher<Ev, int> matcher(
      *nfa, [](const Ev& e) { return e.id; }, backend);
  Recorder sink;
  ASSERT_THAT(matcher.Process(K(7, "a7", "a", 100), FromMillis(100), sink),
              IsOk());
  ASSERT_THAT(matcher.Process(K(8, "a8", "a", 104), FromMillis(104), sink),
              IsOk());
  ASSERT_THAT(matcher.AdvanceTime(FromMillis(111), sink), IsOk());
  EXPECT_THAT(sink.out, ElementsAre("7: timeout a=[a7] @110"));
  ASSERT_THAT(matcher.AdvanceTime(FromMillis(200), sink), IsOk());
  EXPECT_THAT(sink.out,
              ElementsAre("7: timeout a=[a7] @110", "8: timeout a=[a8] @114"));
}

TEST(KeyedMatcherTest, TimersFireInDeadlineOrderAcrossKeys) {
  auto nfa = CompilePattern(AThenB());
  ASSERT_THAT(nfa.status(), IsOk());
  InMemoryStateBackend<Ev, int> backend;
  KeyedMatcher<Ev, int> matcher(
      *nfa, [](const Ev& e) { return e.id; }, backend);
  Recorder sink;
  // Key 2 starts later but its first partial match is older than key 1's
  // second one; key 3 completes its match, so it has nothing to time out.
  for (const Ev& e :
       {K(1, "a1", "a", 100), K(2, "a2", "a", 101), K(1, "a1'", "a", 103),
        K(3, "a3", "a", 104), K(3, "b3", "b", 105)}) {
    ASSERT_THAT(matcher.Process(e, FromMillis(e.ts), sink), IsOk());
  }
  EXPECT_EQ(matcher.NextTimer(), FromMillis(110));
  ASSERT_THAT(matcher.AdvanceTime(FromMillis(1000), sink), IsOk());
  EXPECT_THAT(sink.out,
              ElementsAre("3: a=[a3] b=[b3]", "1: timeout a=[a1] @110",
                          "2: timeout a=[a2] @111", "1: timeout a=[a1'] @113"));
  EXPECT_EQ(matcher.NextTimer(), std::nullopt);
}

TEST(KeyedMatcherTest, TimerOfAKeyWhoseMatchCompletedFiresNothing) {
  auto nfa = CompilePattern(AThenB());
  ASSERT_THAT(nfa.status(), IsOk());
  InMemoryStateBackend<Ev, int> backend;
  KeyedMatcher<Ev, int> matcher(
      *nfa, [](const Ev& e) { return e.id; }, backend);
  Recorder sink;
  ASSERT_THAT(matcher.Process(K(1, "a1", "a", 100), FromMillis(100), sink),
              IsOk());
  ASSERT_THAT(matcher.Process(K(1, "b1", "b", 102), FromMillis(102), sink),
              IsOk());
  // The timer set by a1 stays and fires as a no-op.
  EXPECT_EQ(matcher.NextTimer(), FromMillis(110));
  ASSERT_THAT(matcher.AdvanceTime(FromMillis(1000), sink), IsOk());
  EXPECT_THAT(sink.out, ElementsAre("1: a=[a1] b=[b1]"));
  EXPECT_EQ(matcher.NextTimer(), std::nullopt);
}

TEST(KeyedMatcherTest, ExplicitSequenceNumbersReachMatches) {
  auto nfa = CompilePattern(AThenB());
  ASSERT_THAT(nfa.status(), IsOk());
  InMemoryStateBackend<Ev, int> backend;
  KeyedMatcher<Ev, int> matcher(
      *nfa, [](const Ev& e) { return e.id; }, backend);
  class SeqSink : public KeyedMatchSink<Ev, int> {
   public:
    void OnMatch(const int&, Match<Ev> m) override {
      for (const auto& s : m.stages) {
        for (const auto& e : s.events) seqs.push_back(e.seq);
      }
    }
    std::vector<uint64_t> seqs;
  } sink;
  ASSERT_THAT(matcher.Process(K(1, "a", "a", 1), FromMillis(1), 40, sink),
              IsOk());
  ASSERT_THAT(matcher.Process(K(1, "b", "b", 2), FromMillis(2), sink), IsOk());
  EXPECT_THAT(sink.seqs, ElementsAre(40u, 41u));
}

// Runs `events` (name = type, id = key) and returns every match with its
// key and sequence numbers.
std::vector<std::string> RunKeyed(const P& pattern,
                                  const std::vector<Ev>& events, bool skip,
                                  uint64_t* skipped) {
  auto nfa = CompilePattern(pattern);
  EXPECT_THAT(nfa.status(), IsOk());
  if (!nfa.ok()) return {};
  InMemoryStateBackend<Ev, int> backend;
  EvaluatorOptions options;
  options.skip_irrelevant_events = skip;
  KeyedMatcher<Ev, int> matcher(
      *nfa, [](const Ev& e) { return e.id; }, backend, options);
  Recorder sink;
  for (const Ev& e : events) {
    EXPECT_THAT(matcher.Process(e, FromMillis(e.ts), sink), IsOk());
  }
  *skipped = matcher.metrics().skipped_events;
  return sink.out;
}

TEST(KeyedMatcherTest, SkippingIrrelevantEventsChangesNoOutput) {
  // 3 keys; A, B, C 10% each, the rest irrelevant.
  std::vector<Ev> events;
  uint64_t x = 12345;
  for (int i = 0; i < 3000; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    int r = static_cast<int>((x >> 33) % 10);
    std::string type = r == 0 ? "A" : r == 1 ? "B" : r == 2 ? "C" : "x";
    events.push_back(
        K(static_cast<int>((x >> 20) % 3), absl::StrCat(type, i), type, i));
  }
  auto is = [](const char* t) { return NameIs(t); };
  std::vector<std::pair<std::string, P>> patterns = {
      {"seq", P::Begin("a")
                  .Where(is("A"))
                  .FollowedBy("b")
                  .Where(is("B"))
                  .FollowedBy("c")
                  .Where(is("C"))},
      {"kleene", P::Begin("a")
                     .Where(is("A"))
                     .FollowedBy("b")
                     .Where(is("B"))
                     .OneOrMore()
                     .FollowedBy("c")
                     .Where(is("C"))},
      {"strict", P::Begin("a").Where(is("A")).Next("b").Where(is("B"))},
      {"optional", P::Begin("a")
                       .Where(is("A"))
                       .FollowedBy("b")
                       .Where(is("B"))
                       .Optional()
                       .FollowedBy("c")
                       .Where(is("C"))},
      {"not_next", P::Begin("a")
                       .Where(is("A"))
                       .NotNext("n")
                       .Where(is("C"))
                       .FollowedBy("b")
                       .Where(is("B"))},
      {"greedy", P::Begin("a")
                     .Where(is("A"))
                     .FollowedBy("b")
                     .Where(is("B"))
                     .TimesOrMore(2)
                     .Greedy()
                     .FollowedBy("c")
                     .Where(is("C"))},
      {"any", P::Begin("a")
                  .Where(is("A"))
                  .FollowedByAny("b")
                  .Where(is("B"))
                  .FollowedBy("c")
                  .Where(is("C"))},
  };
  for (const auto& [name, pattern] : patterns) {
    uint64_t skipped_on = 0, skipped_off = 0;
    std::vector<std::string> with_skip =
        RunKeyed(pattern, events, true, &skipped_on);
    std::vector<std::string> without =
        RunKeyed(pattern, events, false, &skipped_off);
    EXPECT_EQ(with_skip, without) << name;
    EXPECT_FALSE(without.empty()) << name;
    EXPECT_EQ(skipped_off, 0u) << name;
    if (name == "seq" || name == "kleene") {
      EXPECT_GT(skipped_on, 1000u) << name;
    }
  }
}

// a, then b, without a window: partial matches wait forever without TTL.
P AThenBNoWindow() {
  return P::Begin("a").Where(NameIs("a")).FollowedBy("b").Where(NameIs("b"));
}

TEST(KeyedMatcherTest, StateTtlDropsKeysThatTookNoEventForTheTtl) {
  auto nfa = CompilePattern(AThenBNoWindow());
  ASSERT_THAT(nfa.status(), IsOk());
  InMemoryStateBackend<Ev, int> backend;
  EvaluatorOptions options;
  options.state_ttl = std::chrono::milliseconds(100);
  KeyedMatcher<Ev, int> matcher(
      *nfa, [](const Ev& e) { return e.id; }, backend, options);
  Recorder sink;
  auto process = [&](const Ev& e) {
    ASSERT_THAT(matcher.AdvanceTime(FromMillis(e.ts), sink), IsOk());
    ASSERT_THAT(matcher.Process(e, FromMillis(e.ts), sink), IsOk());
  };
  process(K(1, "a1", "a", 0));
  process(K(2, "a2", "a", 50));
  // Key 1 took its last event at 0: it expires at 100, before this event.
  EXPECT_EQ(matcher.NextTimer(), FromMillis(100));
  process(K(1, "b1", "b", 120));
  // Key 2 took "a" again at 140, so its state lives until 240.
  process(K(2, "a2'", "a", 140));
  process(K(2, "b2", "b", 200));
  process(K(2, "a2''", "a", 230));  // waits for a b until 330
  EXPECT_THAT(sink.out, ElementsAre("2: a=[a2] b=[b2]", "2: a=[a2'] b=[b2]"));
  EXPECT_EQ(matcher.metrics().expired_keys, 1u);
  // Keys holding partial matches.
  auto busy_keys = [&backend] {
    std::vector<int> keys;
    EXPECT_THAT(backend.ForEach([&](const int& key, KeyState<Ev>& state) {
      if (!state.IsIdle()) keys.push_back(key);
      return absl::OkStatus();
    }),
                IsOk());
    return keys;
  };
  EXPECT_THAT(busy_keys(), ElementsAre(2));
  ASSERT_THAT(matcher.AdvanceTime(FromMillis(329), sink), IsOk());
  EXPECT_THAT(busy_keys(), ElementsAre(2));
  ASSERT_THAT(matcher.AdvanceTime(FromMillis(330), sink), IsOk());
  EXPECT_THAT(busy_keys(), ::testing::IsEmpty());
  EXPECT_EQ(matcher.metrics().expired_keys, 2u);
}

TEST(KeyedMatcherTest, WithoutStateTtlPartialMatchesWaitForever) {
  auto nfa = CompilePattern(AThenBNoWindow());
  ASSERT_THAT(nfa.status(), IsOk());
  InMemoryStateBackend<Ev, int> backend;
  KeyedMatcher<Ev, int> matcher(
      *nfa, [](const Ev& e) { return e.id; }, backend);
  Recorder sink;
  ASSERT_THAT(matcher.Process(K(1, "a1", "a", 0), FromMillis(0), sink), IsOk());
  EXPECT_EQ(matcher.NextTimer(), std::nullopt);
  ASSERT_THAT(matcher.AdvanceTime(FromMillis(1'000'000), sink), IsOk());
  ASSERT_THAT(
      matcher.Process(K(1, "b1", "b", 1'000'001), FromMillis(1'000'001), sink),
      IsOk());
  EXPECT_THAT(sink.out, ElementsAre("1: a=[a1] b=[b1]"));
  EXPECT_EQ(matcher.metrics().expired_keys, 0u);
}

// Keys whose state Put() finds live are stored; a key Get() without a
// live Put() is not (idle keys cost nothing), and stays stored once it is.
TEST(InMemoryStateBackendTest, GetPutEraseForEach) {
  InMemoryStateBackend<Ev, std::string> backend;
  auto live = [&backend](const std::string& key) {
    auto state = backend.Get(key);
    ASSERT_THAT(state.status(), IsOk());
    EXPECT_TRUE((*state)->partial().empty());
    (*state)->partial().emplace_back().has_start = true;
    ASSERT_THAT(backend.Put(key, **state), IsOk());
  };
  live("k1");
  auto idle = backend.Get("k2");
  ASSERT_THAT(idle.status(), IsOk());
  ASSERT_THAT(backend.Put("k2", **idle), IsOk());
  live("k3");
  EXPECT_EQ(backend.key_count(), 2u);
  EXPECT_EQ((*backend.Get("k1"))->partial().size(), 1u);
  EXPECT_TRUE((*backend.Get("k2"))->partial().empty());
  std::vector<std::string> keys;
  ASSERT_THAT(backend.ForEach([&](const std::string& key, KeyState<Ev>&) {
    keys.push_back(key);
    return absl::OkStatus();
  }),
              IsOk());
  EXPECT_THAT(keys, ::testing::UnorderedElementsAre("k1", "k3"));
  ASSERT_THAT(backend.Erase("k1"), IsOk());
  ASSERT_THAT(backend.Erase("k2"), IsOk());
  EXPECT_EQ(backend.key_count(), 1u);
  EXPECT_EQ((*backend.Get("k3"))->partial().size(), 1u);
  ASSERT_THAT(backend.Commit(), IsOk());
  EXPECT_THAT(backend.ForEach([](const std::string&, KeyState<Ev>&) {
    return absl::InternalError("stop");
  }),
              testing::StatusIs(absl::StatusCode::kInternal, "stop"));
}

}  // namespace
}  // namespace cep
