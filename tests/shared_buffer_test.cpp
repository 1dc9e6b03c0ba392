// Tests of the shared buffer (branch-shared paths, reference counting) and
// of Dewey numbers.
#include "cep/shared_buffer.hpp"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "cep/internal/dewey_number.hpp"

namespace cep {
namespace {

using internal::DeweyNumber;

DeweyNumber D(std::initializer_list<uint32_t> digits) {
  DeweyNumber d;
  for (uint32_t x : digits) d.Append(x);
  return d;
}

TEST(DeweyNumberTest, CompatibleWithProperPrefix) {
  EXPECT_TRUE(D({1, 0, 2}).IsCompatibleWith(D({1, 0})));
  EXPECT_TRUE(D({1, 0, 2}).IsCompatibleWith(D({1})));
  EXPECT_FALSE(D({1, 0, 2}).IsCompatibleWith(D({2})));
  EXPECT_FALSE(D({1, 0}).IsCompatibleWith(D({1, 0, 2})));
}

TEST(DeweyNumberTest, CompatibleWithSameLengthWhenLastDigitNotSmaller) {
  EXPECT_TRUE(D({1, 3}).IsCompatibleWith(D({1, 2})));
  EXPECT_TRUE(D({1, 2}).IsCompatibleWith(D({1, 2})));
  EXPECT_FALSE(D({1, 1}).IsCompatibleWith(D({1, 2})));
  EXPECT_FALSE(D({2, 3}).IsCompatibleWith(D({1, 2})));
}

TEST(DeweyNumberTest, IncreaseAndAddStage) {
  DeweyNumber d(1);
  EXPECT_EQ(d.Increase(2).ToString(), "3");
  EXPECT_EQ(d.AddStage().ToString(), "1.0");
  EXPECT_EQ(d.AddStage().Increase(4).AddStage().ToString(), "1.4.0");
}

struct Steps {
  std::vector<std::string> Format(
      const SharedBuffer<std::string>& buffer,
      const std::vector<SharedBuffer<std::string>::PathStep>& path) {
    std::vector<std::string> out;
    for (const auto& step : path) {
      out.push_back(std::to_string(step.stage) + ":" +
                    *buffer.event(step.event).event);
    }
    return out;
  }
};

// What the evaluator does when a branch takes `event` (the stage is its
// first letter's position): register, put, lock, and drop the event's own
// reference at the end of the step.
uint32_t Take(SharedBuffer<std::string>& buffer, const std::string& event,
              uint32_t previous, const DeweyNumber& edge_version,
              const DeweyNumber& branch_version) {
  uint32_t slot = buffer.AddEvent(event, 0, 0);
  uint32_t node = buffer.Put(event[0] - 'a', slot, previous, edge_version);
  buffer.Lock(node, branch_version);
  buffer.ReleaseEvent(slot);
  return node;
}

TEST(SharedBufferTest, EventHeldOnlyByCallerIsFreedOnRelease) {
  SharedBuffer<std::string> buffer;
  uint32_t slot = buffer.AddEvent("x", 1, 0);
  EXPECT_EQ(buffer.event_count(), 1u);
  buffer.ReleaseEvent(slot);
  EXPECT_TRUE(buffer.empty());
}

TEST(SharedBufferTest, BranchesShareAPrefixAndExtractTheirOwnPath) {
  SharedBuffer<std::string> buffer;
  DeweyNumber v1 = D({1, 0});
  uint32_t a = Take(buffer, "a", kNoNode, D({1}), v1);
  // Two branches extend "a": versions 1.0 (b1) and 1.1 (b2).
  uint32_t b1 = Take(buffer, "b1", a, D({1, 0}), D({1, 0, 0}));
  uint32_t b2 = Take(buffer, "b2", a, D({1, 1}), D({1, 1, 0}));
  buffer.Release(a, v1);  // the branch at "a" moved on
  EXPECT_EQ(buffer.event_count(), 3u);

  std::vector<SharedBuffer<std::string>::PathStep> path;
  Steps steps;
  ASSERT_TRUE(buffer.Extract(b1, D({1, 0, 0}), path));
  EXPECT_THAT(steps.Format(buffer, path),
              ::testing::ElementsAre("0:a", "1:b1"));
  ASSERT_TRUE(buffer.Extract(b2, D({1, 1, 0}), path));
  EXPECT_THAT(steps.Format(buffer, path),
              ::testing::ElementsAre("0:a", "1:b2"));

  buffer.Release(b1, D({1, 0, 0}));
  EXPECT_EQ(buffer.event_count(), 2u);  // b1 freed, "a" still shared
  buffer.Release(b2, D({1, 1, 0}));
  EXPECT_EQ(buffer.event_count(), 0u);
  EXPECT_EQ(buffer.node_count(), 0u);
  EXPECT_TRUE(buffer.empty());
}

TEST(SharedBufferTest, SameStageAndEventReuseOneNode) {
  SharedBuffer<std::string> buffer;
  uint32_t e = buffer.AddEvent("x", 1, 0);
  uint32_t n1 = buffer.Put(0, e, kNoNode, D({1}));
  uint32_t n2 = buffer.Put(0, e, kNoNode, D({2}));
  EXPECT_EQ(n1, n2);
  EXPECT_EQ(buffer.node(n1).edges.size(), 2u);
  uint32_t other_stage = buffer.Put(1, e, kNoNode, D({3}));
  EXPECT_NE(other_stage, n1);
  EXPECT_EQ(buffer.node_count(), 2u);
  EXPECT_EQ(buffer.event_count(), 1u);
}

TEST(SharedBufferTest, FreedSlotsAreReused) {
  SharedBuffer<std::string> buffer;
  uint32_t n1 = Take(buffer, "one", kNoNode, D({1}), D({1, 0}));
  uint32_t e1 = buffer.node(n1).event;
  buffer.Release(n1, D({1, 0}));
  EXPECT_TRUE(buffer.empty());
  uint32_t e2 = buffer.AddEvent("two", 2, 1);
  EXPECT_EQ(e2, e1);
  EXPECT_EQ(*buffer.event(e2).event, "two");
}

}  // namespace
}  // namespace cep
