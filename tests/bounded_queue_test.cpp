// Tests of internal::BoundedQueue: items come out in order, in batches,
// never more than the capacity at once for single pushes; Close() drains.
#include "cep/internal/bounded_queue.hpp"

#include <algorithm>
#include <cstddef>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cep::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(BoundedQueueTest, PopAllTakesEverythingQueuedInOrder) {
  BoundedQueue<int> queue(8);
  ASSERT_TRUE(queue.Push(1));
  ASSERT_TRUE(queue.Push(2));
  std::vector<int> batch = {3, 4};
  ASSERT_TRUE(queue.PushAll(batch));
  EXPECT_THAT(batch, IsEmpty());
  EXPECT_EQ(queue.size(), 4u);
  std::vector<int> out;
  ASSERT_TRUE(queue.PopAll(out));
  EXPECT_THAT(out, ElementsAre(1, 2, 3, 4));
  EXPECT_EQ(queue.size(), 0u);
}

TEST(BoundedQueueTest, PushAllIntoAnEmptyQueueSwapsTheVector) {
  BoundedQueue<int> queue(2);
  std::vector<int> batch = {1, 2, 3, 4, 5};  // larger than the capacity
  const int* data = batch.data();
  ASSERT_TRUE(queue.PushAll(batch));
  std::vector<int> out;
  ASSERT_TRUE(queue.PopAll(out));
  EXPECT_EQ(out.data(), data);  // moved, not copied
  EXPECT_THAT(out, ElementsAre(1, 2, 3, 4, 5));
}

TEST(BoundedQueueTest, CloseLetsTheConsumerDrainThenStops) {
  BoundedQueue<int> queue(4);
  ASSERT_TRUE(queue.Push(7));
  queue.Close();
  EXPECT_FALSE(queue.Push(8));
  std::vector<int> batch = {9};
  EXPECT_FALSE(queue.PushAll(batch));
  std::vector<int> out;
  ASSERT_TRUE(queue.PopAll(out));
  EXPECT_THAT(out, ElementsAre(7));
  out.clear();
  EXPECT_FALSE(queue.PopAll(out));
}

TEST(BoundedQueueTest, ZeroCapacityMeansOne) {
  BoundedQueue<int> queue(0);
  EXPECT_EQ(queue.capacity(), 1u);
}

TEST(BoundedQueueTest, ProducerAndConsumerThreadsKeepOrderAndTheBound) {
  constexpr int kItems = 100000;
  constexpr size_t kCapacity = 8;
  BoundedQueue<int> queue(kCapacity);
  std::thread producer([&queue] {
    for (int i = 0; i < kItems; ++i) queue.Push(i);
    queue.Close();
  });
  std::vector<int> out;
  int next = 0;
  size_t largest_batch = 0;
  bool in_order = true;
  while (queue.PopAll(out)) {
    largest_batch = std::max(largest_batch, out.size());
    for (int item : out) in_order = in_order && item == next++;
    out.clear();
  }
  producer.join();
  EXPECT_TRUE(in_order);
  EXPECT_EQ(next, kItems);
  EXPECT_LE(largest_batch, kCapacity);  // single pushes never pass the bound
}

}  // namespace
}  // namespace cep::internal
