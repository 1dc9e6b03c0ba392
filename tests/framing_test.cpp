// Tests for LineFramer (src/run/framing.hpp): it cuts the same lines as
// io::LineReader (the bounded std::getline the run used before, and the one
// `cep trace` uses), with the same numbers, offsets and too-long marks,
// whatever the stream's buffer hands it at a time.

#include "run/framing.hpp"

#include <cstdint>
#include <istream>
#include <random>
#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "io/line_reader.hpp"

namespace cep::run {
namespace {

struct Line {
  std::string text;
  bool too_long = false;
  uint64_t line_no = 0;
  uint64_t end_offset = 0;
  friend bool operator==(const Line&, const Line&) = default;
};

// A stream buffer over `text` that shows at most `piece` bytes at a time,
// as a pipe does.
class PieceBuffer : public std::streambuf {
 public:
  PieceBuffer(std::string text, size_t piece)
      : text_(std::move(text)), piece_(piece) {}

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    if (next_ >= text_.size()) return traits_type::eof();
    char* begin = text_.data() + next_;
    const size_t size = std::min(piece_, text_.size() - next_);
    next_ += size;
    setg(begin, begin, begin + size);
    return traits_type::to_int_type(*gptr());
  }

 private:
  std::string text_;
  size_t piece_;
  size_t next_ = 0;
};

std::vector<Line> WithReader(const std::string& input, size_t max_bytes) {
  std::istringstream in(input);
  io::LineReader reader(max_bytes);
  std::vector<Line> lines;
  std::string text;
  uint64_t consumed = 0;
  uint64_t offset = 0;
  for (io::LineRead read;
       (read = reader.Next(in, text, consumed)) != io::LineRead::kEnd;) {
    offset += consumed;
    lines.push_back({text, read == io::LineRead::kTooLong,
                     static_cast<uint64_t>(lines.size() + 1), offset});
  }
  return lines;
}

std::vector<Line> WithFramer(std::istream& in, size_t max_bytes) {
  LineFramer framer(max_bytes, /*drop_rest=*/true, /*stop=*/nullptr);
  std::vector<Line> lines;
  Frame frame;
  while (framer.Next(in, frame)) {
    lines.push_back({std::string(frame.text), frame.too_long, frame.line_no,
                     frame.end_offset});
  }
  return lines;
}

// Lines of random lengths (some beyond 64 KiB, the framer's block), blank
// lines, '\r's, and sometimes no newline at the end.
std::string RandomInput(std::mt19937_64& rng) {
  std::string input;
  const size_t lines = 1 + rng() % 400;
  for (size_t line = 0; line < lines; ++line) {
    size_t length = rng() % 200;
    if (rng() % 50 == 0) length = 60000 + rng() % 20000;
    for (size_t idx = 0; idx < length; ++idx) {
      input += static_cast<char>('a' + rng() % 26);
    }
    if (rng() % 10 == 0) input += '\r';
    if (line + 1 < lines || rng() % 2 == 0) input += '\n';
  }
  return input;
}

TEST(LineFramerTest, CutsTheLinesLineReaderCuts) {
  std::mt19937_64 rng(15);
  for (int round = 0; round < 60; ++round) {
    const std::string input = RandomInput(rng);
    for (const size_t max_bytes : {size_t{7}, size_t{150}, size_t{1} << 20}) {
      const std::vector<Line> want = WithReader(input, max_bytes);
      std::istringstream whole(input);
      ASSERT_EQ(WithFramer(whole, max_bytes), want) << "round " << round;
      PieceBuffer pieces(input, 1 + rng() % 300);
      std::istream piecewise(&pieces);
      ASSERT_EQ(WithFramer(piecewise, max_bytes), want) << "round " << round;
    }
  }
}

TEST(LineFramerTest, EmptyInputAndEmptyLines) {
  std::istringstream empty("");
  EXPECT_TRUE(WithFramer(empty, 100).empty());
  std::istringstream blanks("\n\nx");
  EXPECT_EQ(WithFramer(blanks, 100),
            (std::vector<Line>{
                {"", false, 1, 1}, {"", false, 2, 2}, {"x", false, 3, 3}}));
}

TEST(LineFramerTest, BufferedBytesComeAfterTheOffset) {
  std::istringstream in("ab\ncd\nef\n");
  LineFramer framer(100, /*drop_rest=*/true, /*stop=*/nullptr);
  Frame frame;
  ASSERT_TRUE(framer.Next(in, frame));
  EXPECT_EQ(frame.text, "ab");
  EXPECT_EQ(framer.offset(), 3u);
  EXPECT_EQ(framer.buffered(), 6u);  // read ahead: "cd\nef\n"
  EXPECT_EQ(framer.DropBuffered(3), 3u);
  framer.Reset(6, 2);
  ASSERT_TRUE(framer.Next(in, frame));
  EXPECT_EQ(frame.text, "ef");
  EXPECT_EQ(frame.line_no, 3u);
  EXPECT_EQ(frame.end_offset, 9u);
  EXPECT_FALSE(framer.Next(in, frame));
}

}  // namespace
}  // namespace cep::run
