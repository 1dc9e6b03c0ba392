// Tests for LineBlocks (src/run/line_blocks.hpp): lanes walking the blocks
// concurrently each see every line of the input once, in order, with the
// numbers, offsets, scan results and owners the framing and the scanner
// give; a lane that aborts releases the others; a stop ends the input at a
// block; checkpoint marks are decided in input order and seen by every lane.

#include "run/line_blocks.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <span>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "cep/dsl.hpp"
#include "cep/event.hpp"

#include "io/flat_json.hpp"
#include "run/source.hpp"
#include "testing/status_matchers.hpp"

namespace cep::run {
namespace {

using ::cep::testing::IsOk;

constexpr char kPatterns[] = R"(event Auth {
  card    string     key
  amount  double
  ts      timestamp  time
}

pattern p on Auth {
  begin a where amount > 1
}
)";

// What a lane saw of one line.
struct Seen {
  uint64_t line_no = 0;
  uint64_t end_offset = 0;
  std::string text;
  bool too_long = false;
  bool scanned = false;
  int64_t millis = 0;
  uint64_t owners = 0;
  friend bool operator==(const Seen&, const Seen&) = default;
};

// `lines` lines: scannable events, a line too long every 97th, a line the
// scanner declines (an unknown member) every 13th.
std::string Input(int lines) {
  std::string input;
  for (int line = 1; line <= lines; ++line) {
    if (line % 97 == 0) {
      input += std::string(300, 'x') + "\n";
    } else if (line % 13 == 0) {
      input += R"({"card":"c1","amount":2,"ts":5,"extra":1})"
               "\n";
    } else {
      input += R"({"card":"c)" + std::to_string(line % 7) +
               R"(","amount":1.5,"ts":)" + std::to_string(1000 + line) + "}\n";
    }
  }
  return input;
}

// The owners the test's Owners function gives: a bit per card digit.
uint64_t CardBit(std::span<const io::FlatField> fields) {
  return uint64_t{1} << (fields[0].text().back() - '0');
}

// Walks every block as a lane; `abort_after`: aborts after that many.
std::vector<Seen> Walk(LineBlocks& blocks, int abort_after = -1) {
  std::vector<Seen> seen;
  for (uint64_t number = 0;; ++number) {
    if (static_cast<int>(number) == abort_after) {
      blocks.Abort();
      return seen;
    }
    const LineBlock* block = blocks.Acquire(number);
    if (block == nullptr) return seen;
    EXPECT_EQ(block->number, number);
    for (size_t idx = 0; idx < block->lines.size(); ++idx) {
      const Frame frame = block->FrameOf(idx);
      const BlockLine& line = block->lines[idx];
      seen.push_back({frame.line_no, frame.end_offset, std::string(frame.text),
                      frame.too_long, line.scanned, line.millis, line.owners});
      if (line.scanned) {
        EXPECT_EQ(block->FieldsOf(idx)[2].integer, line.millis);
      }
    }
    const bool last = block->last;
    blocks.Release(number);
    if (last) return seen;
  }
}

class LineBlocksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<PatternFile> file = ParsePatternFile(kPatterns, "t.cep");
    ASSERT_THAT(file, IsOk());
    file_ = *std::move(file);
  }
  const Schema& schema() const { return *file_.schemas().front(); }

  // What one lane alone sees: the reference.
  std::vector<Seen> Alone(const std::string& input) {
    std::istringstream in(input);
    StreamSource source(in, "in", 200, true, nullptr, "");
    LineBlocks blocks(source, schema(), 1, CardBit, nullptr);
    return Walk(blocks);
  }

  PatternFile file_;
};

TEST_F(LineBlocksTest, EveryLaneSeesEveryLineInOrder) {
  const std::string input = Input(9000);  // several blocks of 1024 lines
  const std::vector<Seen> alone = Alone(input);
  ASSERT_EQ(alone.size(), 9000u);
  EXPECT_EQ(alone[96].too_long, true);
  EXPECT_EQ(alone[96].text, std::string(200, 'x'));
  EXPECT_FALSE(alone[96].scanned);
  EXPECT_FALSE(alone[12].scanned);  // declined: the DOM path decides
  EXPECT_TRUE(alone[0].scanned);
  EXPECT_EQ(alone[0].millis, 1001);
  EXPECT_EQ(alone[0].owners, uint64_t{1} << 1);
  EXPECT_EQ(alone.back().end_offset, input.size());
  for (size_t idx = 0; idx < alone.size(); ++idx) {
    EXPECT_EQ(alone[idx].line_no, idx + 1);
  }
  for (const size_t lanes : {2u, 3u, 5u}) {
    std::istringstream in(input);
    StreamSource source(in, "in", 200, true, nullptr, "");
    LineBlocks blocks(source, schema(), lanes, CardBit, nullptr);
    std::vector<std::vector<Seen>> seen(lanes);
    std::vector<std::thread> threads;
    for (size_t lane = 0; lane < lanes; ++lane) {
      threads.emplace_back([&, lane] { seen[lane] = Walk(blocks); });
    }
    for (std::thread& thread : threads) thread.join();
    for (size_t lane = 0; lane < lanes; ++lane) {
      EXPECT_EQ(seen[lane], alone) << lanes << " lanes, lane " << lane;
    }
    EXPECT_THAT(blocks.status(), IsOk());
    EXPECT_EQ(blocks.position().offset, input.size());
    EXPECT_EQ(blocks.position().line_no, 9000u);
  }
}

// Durable lanes checkpoint together after the blocks CheckpointDue marks:
// it is asked once per block, in input order, never for the last block,
// and every lane sees the same marks.
TEST_F(LineBlocksTest, CheckpointMarksAreDecidedInOrderAndSeenByEveryLane) {
  // Blocks 0..8 with lines (the input has nothing more at once after the
  // 9000th: block 8 ends there), then an empty last block 9.
  const std::string input = Input(9000);
  std::istringstream in(input);
  StreamSource source(in, "in", 200, true, nullptr, "");
  std::mutex mu;
  std::vector<uint64_t> asked;
  LineBlocks blocks(source, schema(), 3, CardBit, nullptr,
                    [&](const LineBlock& block) {
                      std::lock_guard<std::mutex> lock(mu);
                      asked.push_back(block.number);
                      return block.number % 3 == 2;
                    });
  std::vector<std::vector<uint64_t>> marked(3);
  std::vector<std::thread> threads;
  for (size_t lane = 0; lane < 3; ++lane) {
    threads.emplace_back([&, lane] {
      for (uint64_t number = 0;; ++number) {
        const LineBlock* block = blocks.Acquire(number);
        ASSERT_NE(block, nullptr);
        if (block->checkpoint) {
          marked[lane].push_back(number);
          EXPECT_EQ(block->EndPosition().line_no,
                    std::min<uint64_t>((number + 1) * 1024, 9000));
        }
        const bool last = block->last;
        if (last) {
          EXPECT_EQ(number, 9u);
        }
        blocks.Release(number);
        if (last) return;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(asked, (std::vector<uint64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8}));
  for (size_t lane = 0; lane < 3; ++lane) {
    EXPECT_EQ(marked[lane], (std::vector<uint64_t>{2, 5, 8})) << lane;
  }
}

TEST_F(LineBlocksTest, EmptyInputIsOneLastBlock) {
  std::istringstream in("");
  StreamSource source(in, "in", 200, true, nullptr, "");
  LineBlocks blocks(source, schema(), 2, CardBit, nullptr);
  const LineBlock* block = blocks.Acquire(0);
  ASSERT_NE(block, nullptr);
  EXPECT_TRUE(block->lines.empty());
  EXPECT_TRUE(block->last);
  EXPECT_FALSE(block->stopped);
}

// A lane that stops walking (its error ends the run) aborts: the others,
// waiting for blocks whose slots it holds, return instead of hanging.
TEST_F(LineBlocksTest, AbortReleasesTheOtherLanes) {
  const std::string input = Input(40000);
  std::istringstream in(input);
  StreamSource source(in, "in", 200, true, nullptr, "");
  LineBlocks blocks(source, schema(), 3, CardBit, nullptr);
  std::vector<std::vector<Seen>> seen(3);
  std::vector<std::thread> threads;
  for (size_t lane = 0; lane < 3; ++lane) {
    threads.emplace_back(
        [&, lane] { seen[lane] = Walk(blocks, lane == 1 ? 2 : -1); });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(seen[1].size(), 2 * LineBlocks::kBlockLines);
  for (const size_t lane : {0u, 2u}) {
    // At most the slots' worth past the aborting lane's releases.
    EXPECT_LE(seen[lane].size(),
              (2 + 3 * LineBlocks::kSlotsPerLane) * LineBlocks::kBlockLines);
  }
}

TEST_F(LineBlocksTest, StopEndsTheInputAtABlock) {
  const std::string input = Input(5000);
  std::istringstream in(input);
  std::atomic<bool> stop{true};
  StreamSource source(in, "in", 200, true, &stop, "");
  LineBlocks blocks(source, schema(), 2, CardBit, &stop);
  const LineBlock* block = blocks.Acquire(0);
  ASSERT_NE(block, nullptr);
  EXPECT_TRUE(block->lines.empty());
  EXPECT_TRUE(block->last);
  EXPECT_TRUE(block->stopped);
}

}  // namespace
}  // namespace cep::run
