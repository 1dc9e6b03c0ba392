// Keyed test events and a KeyedMatchSink that records what it is given, for
// the tests of KeyedMatcher and the state backends.
//
// Example:
//   cep::testing::KeyedRecorder sink;
//   ASSERT_THAT(matcher.Process(K(7, "a7", "a", 100), FromMillis(100), sink),
//               IsOk());
//   EXPECT_THAT(sink.out, ElementsAre("7: timeout a=[a7] @110"));
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

#include "cep/match.hpp"
#include "cep/matcher.hpp"
#include "cep/time.hpp"

#include "testing/nfa_harness.hpp"

namespace cep::testing {

// An event of key `key` (Ev::id).
inline Ev K(int key, std::string label, std::string name, int64_t ts) {
  return Ev{std::move(label), std::move(name), 0, ts, 0, key};
}

// Lines "KEY: MATCH" and "KEY: timeout PARTIAL @WINDOW_END", in call order.
class KeyedRecorder : public KeyedMatchSink<Ev, int> {
 public:
  void OnMatch(const int& key, Match<Ev> match) override {
    out.push_back(absl::StrCat(key, ": ", FormatMatch(match)));
  }
  void OnTimeout(const int& key, Match<Ev> partial, Timestamp at) override {
    out.push_back(absl::StrCat(key, ": timeout ", FormatMatch(partial), " @",
                               ToMillis(at)));
  }
  std::vector<std::string> out;
};

}  // namespace cep::testing
