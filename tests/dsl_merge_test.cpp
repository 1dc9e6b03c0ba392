// MergePatternFiles and PatternFile::AddPattern: patterns of several files,
// and patterns written in C++, run over one file's event types.

#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <absl/status/status.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cep/dsl.hpp"
#include "cep/pattern.hpp"
#include "cep/run.hpp"

#include "testing/status_matchers.hpp"

namespace cep {
namespace {

using ::cep::testing::IsOk;
using ::cep::testing::StatusIs;

constexpr const char* kAuth = R"(
event Auth {
  card    string     key
  amount  double
  ts      timestamp  time
}
)";

PatternFile Parse(const std::string& text, const std::string& name) {
  absl::StatusOr<PatternFile> file = ParsePatternFile(text, name);
  EXPECT_THAT(file.status(), IsOk());
  return *std::move(file);
}

PatternFile SmallThenBigFile() {
  return Parse(std::string(kAuth) + R"(
pattern small_then_big on Auth {
  begin small where amount < 10
  followed by big where amount > 100
}
)",
               "a.cep");
}

PatternFile TwoBigFile() {
  return Parse(std::string(kAuth) + R"(
pattern two_big on Auth {
  begin first where amount > 100
  next second where amount > 100
}
)",
               "b.cep");
}

std::string RunOn(const PatternFile& file, const std::string& input) {
  std::istringstream in(input);
  std::ostringstream matches;
  RunOutputs outputs{.matches = &matches};
  absl::StatusOr<RunStats> stats =
      RunPatternFile(file, in, "events.jsonl", RunOptions{}, outputs);
  EXPECT_THAT(stats.status(), IsOk());
  return matches.str();
}

constexpr const char* kEvents =
    R"({"card":"c1","amount":1,"ts":1000}
{"card":"c1","amount":200,"ts":2000}
{"card":"c1","amount":300,"ts":3000}
)";

TEST(MergePatternFilesTest, RunsThePatternsOfEveryFileInOnePass) {
  std::vector<PatternFile> files;
  files.push_back(SmallThenBigFile());
  files.push_back(TwoBigFile());
  absl::StatusOr<PatternFile> merged = MergePatternFiles(std::move(files));
  ASSERT_THAT(merged.status(), IsOk());
  EXPECT_EQ(merged->filename(), "a.cep");
  ASSERT_EQ(merged->patterns().size(), 2u);
  EXPECT_EQ(merged->patterns()[1].filename, "b.cep");
  EXPECT_EQ(merged->patterns()[1].types[0], merged->schemas()[0].get());
  EXPECT_EQ(
      RunOn(*merged, kEvents),
      R"({"pattern":"small_then_big","key":"c1","events":{"small":[{"seq":0,"card":"c1","amount":1.0,"ts":1000}],"big":[{"seq":1,"card":"c1","amount":200.0,"ts":2000}]}}
{"pattern":"two_big","key":"c1","events":{"first":[{"seq":1,"card":"c1","amount":200.0,"ts":2000}],"second":[{"seq":2,"card":"c1","amount":300.0,"ts":3000}]}}
)");
}

TEST(MergePatternFilesTest, RefusesDifferentEventTypes) {
  std::vector<PatternFile> files;
  files.push_back(SmallThenBigFile());
  files.push_back(Parse(R"(
event Auth {
  card    string     key
  amount  int
  ts      timestamp  time
}
pattern p on Auth { begin a where amount > 1 }
)",
                        "c.cep"));
  EXPECT_THAT(MergePatternFiles(std::move(files)).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "c.cep: error: event Auth differs at field 2 ('amount' "
                       "where the first file has 'amount', or its type) "
                       "(first file: a.cep)"));
}

TEST(MergePatternFilesTest, RefusesARepeatedPatternName) {
  std::vector<PatternFile> files;
  files.push_back(SmallThenBigFile());
  files.push_back(SmallThenBigFile());
  EXPECT_THAT(MergePatternFiles(std::move(files)).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "a.cep: error: pattern 'small_then_big' is also "
                       "declared in an earlier file"));
}

TEST(MergePatternFilesTest, RefusesNoFiles) {
  EXPECT_THAT(MergePatternFiles({}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "no pattern files"));
}

TEST(AddPatternTest, RunsAPatternWrittenInCxxWithAnIterativeCondition) {
  PatternFile file = Parse(kAuth, "auth.cep");
  const size_t amount = *file.schemas()[0]->FieldIndex("amount");
  // An amount more than twice the running sum of the earlier ones.
  auto pattern =
      Pattern<Record>::Begin("earlier").OneOrMore().FollowedBy("spike").Where(
          [amount](const Record& r, const Context<Record>& ctx) {
            double sum = 0;
            for (const Record* e : ctx.EventsFor("earlier")) {
              sum += e->GetDouble(amount);
            }
            return r.GetDouble(amount) > 2 * sum;
          });
  ASSERT_THAT(file.AddPattern("spike", std::move(pattern), {"Auth"}, "card"),
              IsOk());
  EXPECT_EQ(file.patterns().back().key_field, "card");
  EXPECT_EQ(
      RunOn(file, kEvents),
      R"({"pattern":"spike","key":"c1","events":{"earlier":[{"seq":0,"card":"c1","amount":1.0,"ts":1000}],"spike":[{"seq":1,"card":"c1","amount":200.0,"ts":2000}]}}
)");
}

TEST(AddPatternTest, RefusesUnknownTypesMissingKeysAndTakenNames) {
  PatternFile file = SmallThenBigFile();
  auto any = [] {
    return Pattern<Record>::Begin("a").Where(
        [](const Record&) { return true; });
  };
  EXPECT_THAT(file.AddPattern("x", any(), {"Refund"}, ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "pattern 'x': unknown event type 'Refund'"));
  EXPECT_THAT(file.AddPattern("x", any(), {}, "merchant"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "pattern 'x': event Auth has no field 'merchant'"));
  EXPECT_THAT(file.AddPattern("small_then_big", any(), {}, ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "pattern 'small_then_big': the name is taken"));
  EXPECT_EQ(file.patterns().size(), 1u);
}

}  // namespace
}  // namespace cep
