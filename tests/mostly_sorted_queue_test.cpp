// MostlySortedQueue against std::priority_queue: the same items come out in
// the same order for in-order, reversed and randomly disordered input, with
// pops interleaved, and Sorted() lists what is held in order.
#include "cep/internal/mostly_sorted_queue.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <queue>
#include <random>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace cep::internal {
namespace {

using Item = std::pair<int64_t, uint64_t>;  // (ts, seq), as the operator's
using Queue = MostlySortedQueue<Item, std::less<Item>>;
using Reference =
    std::priority_queue<Item, std::vector<Item>, std::greater<Item>>;

std::vector<Item> Drain(Queue& q) {
  std::vector<Item> out;
  while (!q.empty()) {
    out.push_back(q.top());
    q.pop();
  }
  return out;
}

TEST(MostlySortedQueueTest, InOrderAndReversedInput) {
  Queue in_order;
  Queue reversed;
  for (uint64_t seq = 0; seq < 3000; ++seq) {
    in_order.push({static_cast<int64_t>(seq / 3), seq});
    reversed.push({static_cast<int64_t>(3000 - seq), seq});
  }
  EXPECT_EQ(in_order.size(), 3000u);
  const std::vector<Item> a = Drain(in_order);
  const std::vector<Item> b = Drain(reversed);
  ASSERT_EQ(a.size(), 3000u);
  ASSERT_EQ(b.size(), 3000u);
  EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
  EXPECT_TRUE(std::is_sorted(b.begin(), b.end()));
  EXPECT_EQ(a.front(), Item(0, 0));
  EXPECT_EQ(b.front(), Item(1, 2999));
}

TEST(MostlySortedQueueTest, SameOrderAsAHeapUnderRandomDisorder) {
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE(seed);
    std::mt19937 rng(seed);
    Queue q;
    Reference reference;
    int64_t now = 0;
    const uint32_t disorder = rng() % 4;  // 0: in order
    for (uint64_t seq = 0; seq < 5000; ++seq) {
      now += static_cast<int64_t>(rng() % 3);
      const int64_t ts =
          disorder == 0 || rng() % 5 != 0
              ? now
              : now - static_cast<int64_t>(rng() % (10 * disorder));
      q.push({ts, seq});
      reference.push({ts, seq});
      if (rng() % 7 == 0) {
        // Every now and then, a batch leaves (a watermark advance).
        for (uint32_t pops = rng() % 2000; pops > 0 && !q.empty(); --pops) {
          ASSERT_EQ(q.top(), reference.top());
          q.pop();
          reference.pop();
        }
      }
      ASSERT_EQ(q.size(), reference.size());
    }
    std::vector<Item> expected;
    for (Reference copy = reference; !copy.empty(); copy.pop()) {
      expected.push_back(copy.top());
    }
    EXPECT_EQ(q.Sorted(), expected);
    EXPECT_EQ(Drain(q), expected);
  }
}

}  // namespace
}  // namespace cep::internal
