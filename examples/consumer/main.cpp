// A program outside the Cepheus tree, linked against the installed package
// (find_package(cep), cep::cep): the README's C++ API example. It finds card
// testing followed by a cash-out in a handful of transactions and prints
// the alert.
#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "cep/compiler.hpp"  // CompilePattern
#include "cep/matcher.hpp"   // KeyedMatcher, KeyedMatchSink
#include "cep/pattern.hpp"   // Pattern
#include "cep/state.hpp"     // InMemoryStateBackend
#include "cep/version.hpp"

struct Txn {
  std::string card;
  double amount;
  std::string result;
  int64_t ts;  // epoch milliseconds
};

class PrintAlerts : public cep::KeyedMatchSink<Txn, std::string> {
 public:
  void OnMatch(const std::string& card, cep::Match<Txn> match) override {
    ++alerts;
    std::cout << card << ": " << match.Find("probe")->events.size()
              << " probes, then a cash-out of "
              << match.Find("cashout")->events[0].event.amount << "\n";
  }
  void OnTimeout(const std::string& card, cep::Match<Txn> partial,
                 cep::Timestamp window_end) override {
    std::cout << card << ": " << partial.size()
              << " probes, no cash-out before " << cep::ToMillis(window_end)
              << "\n";
  }
  int alerts = 0;
};

int main() {
  using P = cep::Pattern<Txn>;
  P pattern = P::Begin("probe", cep::AfterMatchSkip::SkipPastLastEvent())
                  .Where([](const Txn& t) { return t.amount <= 2.0; })
                  .TimesOrMore(3)
                  .Consecutive()
                  .NotFollowedBy("refund")
                  .Where([](const Txn& t) { return t.result == "refund"; })
                  .FollowedBy("cashout")
                  .Where([](const Txn& t) { return t.amount >= 500; })
                  .Within(std::chrono::minutes(30));

  absl::StatusOr<cep::Nfa<Txn>> nfa = cep::CompilePattern(pattern);
  if (!nfa.ok()) {  // a malformed pattern: the message names the stage
    std::cerr << nfa.status().message() << "\n";
    return 1;
  }
  cep::InMemoryStateBackend<Txn, std::string> state;
  cep::KeyedMatcher<Txn, std::string> matcher(
      *nfa, [](const Txn& t) { return t.card; }, state);
  PrintAlerts sink;

  const int64_t minute = 60'000;
  std::vector<Txn> txns = {
      {"card-1", 1.00, "approved", 0 * minute},
      {"card-2", 0.50, "approved", 1 * minute},
      {"card-1", 1.50, "approved", 2 * minute},
      {"card-2", 0.70, "approved", 2 * minute},
      {"card-1", 0.99, "approved", 3 * minute},
      {"card-2", 0.90, "approved", 4 * minute},
      {"card-1", 899.00, "approved", 9 * minute},  // alert for card-1
      {"card-2", 0.90, "refund", 10 * minute},     // card-2: a refund
      {"card-2", 950.00, "approved", 12 * minute},
  };
  for (const Txn& t : txns) {  // in timestamp order
    if (auto s = matcher.Process(t, cep::FromMillis(t.ts), sink); !s.ok()) {
      std::cerr << s.message() << "\n";  // a condition threw: named, no crash
      return 1;
    }
  }
  // End of input: let every window pass, so partial matches time out.
  if (auto s = matcher.AdvanceTime(
          cep::FromMillis(txns.back().ts + 60 * minute), sink);
      !s.ok()) {
    std::cerr << s.message() << "\n";
    return 1;
  }
  std::cout << "cep_consumer (cepheus " << cep::Version()
            << "): " << sink.alerts << " alert(s)\n";
  return sink.alerts == 1 ? 0 : 1;
}
