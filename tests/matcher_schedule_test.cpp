// Tests of KeyedMatcher's recovery API: ExportSchedule / ImportSchedule give
// a new matcher over the same state the timers (and their tie order) of the
// old one; RestoreTimers rebuilds them from the backend alone.
#include <chrono>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "cep/compiler.hpp"
#include "cep/matcher.hpp"

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
using ::testing::UnorderedElementsAreArray;
using P = Pattern<Ev>;

P AThenB() {
  return P::Begin("a")
      .Where(NameIs("a"))
      .FollowedBy("b")
      .Where(NameIs("b"))
      .Within(std::chrono::milliseconds(10));
}

TEST(MatcherScheduleTest, ImportedScheduleFiresInTheSameOrder) {
  auto nfa = CompilePattern(AThenB());
  ASSERT_THAT(nfa.status(), IsOk());
  auto key_of = [](const Ev& e) { return e.id; };
  InMemoryStateBackend<Ev, int> backend;
  KeyedMatcher<Ev, int> before(*nfa, key_of, backend);
  Recorder sink;
  // Keys 9, 3, 6 all time out at 110: ties go in scheduling order.
  for (const Ev& e : {K(9, "a9", "a", 100), K(3, "a3", "a", 100),
                      K(6, "a6", "a", 100), K(4, "a4", "a", 101)}) {
    ASSERT_THAT(before.Process(e, FromMillis(e.ts), sink), IsOk());
  }
  KeyedMatcher<Ev, int> after(*nfa, key_of, backend);
  after.ImportSchedule(before.ExportSchedule());
  EXPECT_EQ(after.NextTimer(), FromMillis(110));
  ASSERT_THAT(after.AdvanceTime(FromMillis(1000), sink), IsOk());
  EXPECT_THAT(sink.out,
              ElementsAre("9: timeout a=[a9] @110", "3: timeout a=[a3] @110",
                          "6: timeout a=[a6] @110", "4: timeout a=[a4] @111"));
}

TEST(MatcherScheduleTest, RestoreTimersWalksTheBackend) {
  auto nfa = CompilePattern(AThenB());
  ASSERT_THAT(nfa.status(), IsOk());
  auto key_of = [](const Ev& e) { return e.id; };
  InMemoryStateBackend<Ev, int> backend;
  KeyedMatcher<Ev, int> before(*nfa, key_of, backend);
  Recorder sink;
  for (const Ev& e : {K(9, "a9", "a", 100), K(3, "a3", "a", 102),
                      K(3, "b3", "b", 103), K(6, "a6", "a", 104)}) {
    ASSERT_THAT(before.Process(e, FromMillis(e.ts), sink), IsOk());
  }
  ASSERT_THAT(sink.out, ElementsAre("3: a=[a3] b=[b3]"));
  sink.out.clear();
  KeyedMatcher<Ev, int> after(*nfa, key_of, backend);
  ASSERT_THAT(after.RestoreTimers(), IsOk());
  EXPECT_EQ(after.NextTimer(), FromMillis(110));
  ASSERT_THAT(after.AdvanceTime(FromMillis(1000), sink), IsOk());
  EXPECT_THAT(sink.out, UnorderedElementsAreArray({"9: timeout a=[a9] @110",
                                                   "6: timeout a=[a6] @114"}));
}

}  // namespace
}  // namespace cep
