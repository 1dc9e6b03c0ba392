#include "gtest/gtest.h"

#include "dsl/source.hpp"
#include "testing/status_matchers.hpp"

namespace cep::dsl {
namespace {

using ::cep::testing::StatusIs;

TEST(SourceTest, LocatesLinesAndColumnsFromOne) {
  const Source source("a.cep", "ab\ncd\n\nef");
  EXPECT_EQ(source.Locate(0).line, 1u);
  EXPECT_EQ(source.Locate(0).column, 1u);
  EXPECT_EQ(source.Locate(4).line, 2u);
  EXPECT_EQ(source.Locate(4).column, 2u);
  EXPECT_EQ(source.Locate(7).line, 4u);
  EXPECT_EQ(source.Locate(7).column, 1u);
}

TEST(SourceTest, FormatsErrorWithLineAndCaret) {
  const Source source("card.cep", "event A {\n  amount  dubble\n}\n");
  EXPECT_EQ(source.FormatError(20, "unknown field type 'dubble'"),
            "card.cep:2:11: error: unknown field type 'dubble'\n"
            "  amount  dubble\n"
            "          ^");
}

TEST(SourceTest, CaretKeepsTabsSoItLinesUp) {
  const Source source("t.cep", "\tbegin x where\n");
  EXPECT_EQ(source.FormatError(14, "expected a condition after 'where'"),
            "t.cep:1:15: error: expected a condition after 'where'\n"
            "\tbegin x where\n"
            "\t             ^");
}

TEST(SourceTest, ErrorAtEndOfFilePointsPastTheLastCharacter) {
  const Source source("t.cep", "pattern p on A");
  EXPECT_EQ(source.FormatError(100, "expected '{'"),
            "t.cep:1:15: error: expected '{'\n"
            "pattern p on A\n"
            "              ^");
}

TEST(SourceTest, DropsCarriageReturnOfWindowsLineEndings) {
  const Source source("t.cep", "abc\r\ndef\r\n");
  EXPECT_EQ(source.FormatError(1, "x"), "t.cep:1:2: error: x\nabc\n ^");
}

TEST(SourceTest, ErrorIsInvalidArgumentWithTheFormattedText) {
  const Source source("t.cep", "x");
  EXPECT_THAT(source.Error(0, "bad"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "t.cep:1:1: error: bad\nx\n^"));
}

}  // namespace
}  // namespace cep::dsl
