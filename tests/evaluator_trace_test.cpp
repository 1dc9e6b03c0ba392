// Tests of EvaluatorTracer (cep/evaluator_trace.hpp): which calls the
// per-run Evaluator makes, in which order, and that a tracer changes no
// output. The words `cep trace` makes of them are pinned by tests/trace/.
#include "cep/evaluator_trace.hpp"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "cep/compiler.hpp"
#include "cep/evaluator.hpp"

#include "testing/nfa_harness.hpp"

namespace cep {
namespace {

using ::cep::testing::E;
using ::cep::testing::Ev;
using ::cep::testing::FormatMatch;
using ::cep::testing::NameIs;
using ::testing::ElementsAre;
using P = Pattern<Ev>;

// Records each call as "Call state" (NFA state names) or "Call label...".
class Recorder final : public EvaluatorTracer<Ev> {
 public:
  explicit Recorder(const Nfa<Ev>& nfa) : nfa_(nfa) {}

  void OnTake(const KeyState<Ev>& state, const Computation& from,
              uint32_t source, const Computation& to) override {
    calls.push_back(absl::StrCat("Take ", Name(from.state), ">", Name(source),
                                 ">", Name(to.state), " ", Labels(state, to)));
  }
  void OnIgnore(const KeyState<Ev>& state, const Computation& from,
                uint32_t source, const Computation& to) override {
    (void)source;
    calls.push_back(absl::StrCat("Ignore ", Name(from.state), ">",
                                 Name(to.state), " ", Labels(state, to)));
  }
  void OnProceedToFinal(const KeyState<Ev>& state,
                        const Computation& taken) override {
    calls.push_back(absl::StrCat("ProceedToFinal ", Labels(state, taken)));
  }
  void OnUnchanged(const KeyState<Ev>& state,
                   const Computation& branch) override {
    calls.push_back(absl::StrCat("Unchanged ", Labels(state, branch)));
  }
  void OnDead(const KeyState<Ev>& state, const Computation& from) override {
    calls.push_back(absl::StrCat("Dead ", Labels(state, from)));
  }
  void OnStopped(const KeyState<Ev>& state,
                 const Computation& stopped) override {
    calls.push_back(absl::StrCat("Stopped ", Name(stopped.state), " ",
                                 Labels(state, stopped)));
  }
  void OnWindowPassed(const KeyState<Ev>& state, const Computation& branch,
                      Timestamp at, bool pending) override {
    calls.push_back(absl::StrCat("WindowPassed ", Labels(state, branch), " ",
                                 ToMillis(at), pending ? " pending" : ""));
  }
  void OnRelease(const KeyState<Ev>& state, const Computation& match) override {
    calls.push_back(absl::StrCat("Release ", Labels(state, match)));
  }
  void OnHeldBack(const KeyState<Ev>& state,
                  const std::vector<Computation>& held,
                  const Computation& blocking) override {
    calls.push_back(absl::StrCat("HeldBack ", Labels(state, held.front()),
                                 " by ", Labels(state, blocking)));
  }
  void OnSkipDiscard(const KeyState<Ev>& state, const Computation& branch,
                     bool completed) override {
    calls.push_back(absl::StrCat("SkipDiscard ", Labels(state, branch),
                                 completed ? " completed" : ""));
  }
  void OnEvict(const KeyState<Ev>& state, const Computation& branch,
               bool completed) override {
    calls.push_back(absl::StrCat("Evict ", Labels(state, branch),
                                 completed ? " completed" : ""));
  }

  std::vector<std::string> calls;

 private:
  const std::string& Name(uint32_t state) const {
    return nfa_.states()[state].name;
  }
  std::string Labels(const KeyState<Ev>& state, const Computation& c) const {
    std::vector<SharedBuffer<Ev>::PathStep> path;
    state.buffer().Extract(c.node, c.version, path);
    std::string out = "[";
    for (const auto& step : path) {
      if (out.size() > 1) out += ' ';
      out += state.buffer().event(step.event).event->label;
    }
    return out + "]";
  }

  const Nfa<Ev>& nfa_;
};

class Sink final : public MatchSink<Ev> {
 public:
  void OnMatch(Match<Ev> match) override {
    matches.push_back(FormatMatch(match));
  }
  void OnTimeout(Match<Ev> partial, Timestamp at) override {
    timeouts.push_back(
        absl::StrCat(FormatMatch(partial), " at ", ToMillis(at)));
  }
  std::vector<std::string> matches;
  std::vector<std::string> timeouts;
};

// Feeds `events` (ts from each) then advances to `end`; returns the calls.
std::vector<std::string> Trace(const P& pattern, const std::vector<Ev>& events,
                               int64_t end, Sink& sink,
                               EvaluatorOptions options = {}) {
  auto nfa = CompilePattern(pattern);
  EXPECT_TRUE(nfa.ok()) << nfa.status();
  if (!nfa.ok()) return {};
  Evaluator<Ev> evaluator(*nfa, options);
  Recorder recorder(*nfa);
  evaluator.SetTracer(&recorder);
  KeyState<Ev> state;
  uint64_t seq = 0;
  for (const Ev& e : events) {
    EXPECT_TRUE(
        evaluator.Process(state, e, FromMillis(e.ts), seq++, sink).ok());
  }
  EXPECT_TRUE(evaluator.AdvanceTime(state, FromMillis(end), sink).ok());
  return recorder.calls;
}

TEST(EvaluatorTraceTest, TakeIgnoreAndRelease) {
  Sink sink;
  const auto calls = Trace(
      P::Begin("a").Where(NameIs("a")).FollowedBy("b").Where(NameIs("b")),
      {E("a1", "a", 0, 1), E("x", "x", 0, 2), E("b1", "b", 0, 3)}, 10, sink);
  EXPECT_THAT(calls, ElementsAre("Take a>a>b [a1]", "Unchanged [a1]",
                                 "Take b>b>$end$ [a1 b1]", "Release [a1 b1]"));
  EXPECT_THAT(sink.matches, ElementsAre("a=[a1] b=[b1]"));
}

TEST(EvaluatorTraceTest, StrictContiguityEndsBranch) {
  Sink sink;
  const auto calls =
      Trace(P::Begin("a").Where(NameIs("a")).Next("b").Where(NameIs("b")),
            {E("a1", "a", 0, 1), E("x", "x", 0, 2)}, 10, sink);
  EXPECT_THAT(calls, ElementsAre("Take a>a>b [a1]", "Dead [a1]"));
}

TEST(EvaluatorTraceTest, NotStageStopsBranch) {
  Sink sink;
  const auto calls = Trace(P::Begin("a")
                               .Where(NameIs("a"))
                               .NotFollowedBy("n")
                               .Where(NameIs("n"))
                               .FollowedBy("b")
                               .Where(NameIs("b")),
                           {E("a1", "a", 0, 1), E("n1", "n", 0, 2)}, 10, sink);
  // Every move of the branch is reported, the TAKE into the stop state
  // too; then OnStopped says the branch and its successors are discarded.
  EXPECT_THAT(calls, ElementsAre("Take a>a>b [a1]", "Ignore b>b [a1]",
                                 "Take b>n>n [a1 n1]", "Stopped n [a1 n1]"));
  EXPECT_TRUE(sink.matches.empty());
}

TEST(EvaluatorTraceTest, WindowPrunesBeforeTheSinkHearsOfIt) {
  Sink sink;
  const auto calls = Trace(P::Begin("a")
                               .Where(NameIs("a"))
                               .FollowedBy("b")
                               .Where(NameIs("b"))
                               .Within(std::chrono::milliseconds(5)),
                           {E("a1", "a", 0, 1)}, 10, sink);
  EXPECT_THAT(calls, ElementsAre("Take a>a>b [a1]", "WindowPassed [a1] 6"));
  EXPECT_THAT(sink.timeouts, ElementsAre("a=[a1] at 6"));
}

TEST(EvaluatorTraceTest, SkipStrategyHoldsBackAndDiscards) {
  Sink sink;
  const auto calls = Trace(
      P::Begin("a", AfterMatchSkip::SkipPastLastEvent())
          .Where(NameIs("a"))
          .FollowedBy("b")
          .Where(NameIs("b")),
      {E("a1", "a", 0, 1), E("a2", "a", 0, 2), E("b1", "b", 0, 3)}, 10, sink);
  EXPECT_THAT(
      calls, ElementsAre("Take a>a>b [a1]", "Unchanged [a1]", "Take a>a>b [a2]",
                         "Take b>b>$end$ [a1 b1]", "Take b>b>$end$ [a2 b1]",
                         "Release [a1 b1]", "SkipDiscard [a2 b1] completed"));
  EXPECT_THAT(sink.matches, ElementsAre("a=[a1] b=[b1]"));
}

TEST(EvaluatorTraceTest, CapEvictsOldest) {
  EvaluatorOptions options;
  options.max_partial_matches = 1;
  Sink sink;
  const auto calls =
      Trace(P::Begin("a").Where(NameIs("a")).FollowedBy("b").Where(NameIs("b")),
            {E("a1", "a", 0, 1), E("a2", "a", 0, 2)}, 10, sink, options);
  EXPECT_THAT(calls, ElementsAre("Take a>a>b [a1]", "Unchanged [a1]",
                                 "Take a>a>b [a2]", "Evict [a1]"));
}

// The same events with and without a tracer give the same matches.
TEST(EvaluatorTraceTest, TracerChangesNoOutput) {
  const P pattern = P::Begin("a")
                        .Where(NameIs("a"))
                        .FollowedByAny("b")
                        .Where(NameIs("b"))
                        .OneOrMore()
                        .FollowedBy("c")
                        .Where(NameIs("c"));
  const std::vector<Ev> events = {E("a1", "a", 0, 1), E("b1", "b", 0, 2),
                                  E("b2", "b", 0, 3), E("c1", "c", 0, 4)};
  Sink traced;
  EXPECT_FALSE(Trace(pattern, events, 10, traced).empty());
  auto nfa = CompilePattern(pattern);
  ASSERT_TRUE(nfa.ok());
  Evaluator<Ev> evaluator(*nfa);
  KeyState<Ev> state;
  Sink plain;
  uint64_t seq = 0;
  for (const Ev& e : events) {
    ASSERT_TRUE(
        evaluator.Process(state, e, FromMillis(e.ts), seq++, plain).ok());
  }
  EXPECT_EQ(traced.matches, plain.matches);
  EXPECT_EQ(traced.matches.size(), 3u);
}

}  // namespace
}  // namespace cep
