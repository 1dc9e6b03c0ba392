#include "cep/version.hpp"

#include <gtest/gtest.h>

namespace cep {
namespace {

TEST(VersionTest, MatchesProjectVersion) { EXPECT_EQ(Version(), "0.1.0"); }

}  // namespace
}  // namespace cep
