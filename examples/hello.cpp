// The smallest complete Cepheus program: one pattern, a handful of events,
// one match printed. Prints "sensor-1: 21.5 then 35.0 within 10 s".
#include <chrono>
#include <cstdint>
#include <iomanip>
#include <iostream>
#include <string>

#include "cep/compiler.hpp"
#include "cep/matcher.hpp"
#include "cep/pattern.hpp"
#include "cep/state.hpp"

struct Reading {
  std::string sensor;
  double celsius;
  int64_t ts;  // epoch milliseconds
};

class Print : public cep::KeyedMatchSink<Reading, std::string> {
 public:
  void OnMatch(const std::string& sensor, cep::Match<Reading> m) override {
    std::cout << sensor << ": " << m.Find("normal")->events[0].event.celsius
              << " then " << m.Find("hot")->events[0].event.celsius
              << " within 10 s\n";
  }
};

int main() {
  // A normal reading followed by a hot one within 10 seconds.
  auto pattern = cep::Pattern<Reading>::Begin("normal")
                     .Where([](const Reading& r) { return r.celsius < 25; })
                     .FollowedBy("hot")
                     .Where([](const Reading& r) { return r.celsius > 30; })
                     .Within(std::chrono::seconds(10));
  auto nfa = cep::CompilePattern(pattern);
  if (!nfa.ok()) return (std::cerr << nfa.status() << "\n", 1);
  cep::InMemoryStateBackend<Reading, std::string> state;
  cep::KeyedMatcher<Reading, std::string> matcher(
      *nfa, [](const Reading& r) { return r.sensor; }, state);
  Print print;
  std::cout << std::fixed << std::setprecision(1);
  for (const Reading& r :
       {Reading{"sensor-1", 21.5, 1000}, Reading{"sensor-2", 22.0, 2000},
        Reading{"sensor-1", 35.0, 4000}, Reading{"sensor-2", 31.0, 30000}}) {
    if (auto s = matcher.Process(r, cep::FromMillis(r.ts), print); !s.ok()) {
      return (std::cerr << s << "\n", 1);
    }
  }
  return 0;
}
