// fraud_demo — card testing followed by a cash-out, found in a day of card
// authorisations (examples/data/transactions.csv) with the C++ API.
//
// Stolen card numbers are first tested with tiny authorisations; the cards
// that work are then used for one large purchase. The pattern: three or more
// consecutive authorisations of at most 2.00, no refund after them, then an
// approved purchase of at least 500, all within 30 minutes, per card.
//
// Usage: fraud_demo [TRANSACTIONS.csv]
// Prints each match as one JSON line (DESIGN.md's output contract), then a
// one-line summary.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "cep/compiler.hpp"
#include "cep/matcher.hpp"
#include "cep/pattern.hpp"
#include "cep/state.hpp"

namespace {

struct Txn {
  std::string card;
  double amount = 0;
  std::string merchant;
  std::string result;
  int64_t ts = 0;
};

cep::Pattern<Txn> CardTesting() {
  using P = cep::Pattern<Txn>;
  return P::Begin("probe", cep::AfterMatchSkip::SkipPastLastEvent())
      .Where([](const Txn& t) {
        return t.amount <= 2.00 && t.result == "approved";
      })
      .TimesOrMore(3)
      .Consecutive()
      .Greedy()
      .NotFollowedBy("refund")
      .Where([](const Txn& t) { return t.result == "refund"; })
      .FollowedBy("cashout")
      .Where([](const Txn& t) {
        return t.amount >= 500 && t.result == "approved";
      })
      .Within(std::chrono::minutes(30));
}

bool ReadCsv(const std::string& path, std::vector<Txn>& out) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "fraud_demo: cannot open " << path << "\n";
    return false;
  }
  std::string line;
  std::getline(in, line);  // header: card,amount,merchant,result,ts
  for (int line_no = 2; std::getline(in, line); ++line_no) {
    std::stringstream fields(line);
    Txn t;
    std::string amount, ts;
    if (!std::getline(fields, t.card, ',') ||
        !std::getline(fields, amount, ',') ||
        !std::getline(fields, t.merchant, ',') ||
        !std::getline(fields, t.result, ',') || !std::getline(fields, ts)) {
      std::cerr << path << ":" << line_no << ": expected 5 fields\n";
      return false;
    }
    t.amount = std::stod(amount);
    t.ts = std::stoll(ts);
    out.push_back(std::move(t));
  }
  return true;
}

// Writes matches as JSON lines and counts them.
class JsonLinesSink : public cep::KeyedMatchSink<Txn, std::string> {
 public:
  void OnMatch(const std::string& card, cep::Match<Txn> match) override {
    ++matches_;
    std::string line =
        "{\"pattern\":\"card_testing\",\"key\":\"" + card + "\",\"events\":{";
    for (size_t s = 0; s < match.stages.size(); ++s) {
      const auto& stage = match.stages[s];
      line += (s > 0 ? ",\"" : "\"") + stage.stage + "\":[";
      for (size_t i = 0; i < stage.events.size(); ++i) {
        const auto& e = stage.events[i];
        char buf[160];
        std::snprintf(buf, sizeof buf,
                      "%s{\"seq\":%llu,\"amount\":%.2f,\"merchant\":\"%s\","
                      "\"ts\":%lld}",
                      i > 0 ? "," : "", static_cast<unsigned long long>(e.seq),
                      e.event.amount, e.event.merchant.c_str(),
                      static_cast<long long>(e.event.ts));
        line += buf;
      }
      line += "]";
    }
    std::cout << line << "}}\n";
  }
  int matches() const { return matches_; }

 private:
  int matches_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  std::string path = argc > 1 ? argv[1]
                              : std::string(CEP_SOURCE_DIR) +
                                    "/examples/data/transactions.csv";
  std::vector<Txn> txns;
  if (!ReadCsv(path, txns)) return 1;

  auto nfa = cep::CompilePattern(CardTesting());
  if (!nfa.ok()) {
    std::cerr << "fraud_demo: " << nfa.status().message() << "\n";
    return 1;
  }
  cep::InMemoryStateBackend<Txn, std::string> backend;
  cep::KeyedMatcher<Txn, std::string> matcher(
      *nfa, [](const Txn& t) { return t.card; }, backend);
  JsonLinesSink sink;

  auto start = std::chrono::steady_clock::now();
  for (const Txn& t : txns) {  // the file is in timestamp order
    if (auto s = matcher.Process(t, cep::FromMillis(t.ts), sink); !s.ok()) {
      std::cerr << "fraud_demo: " << s.message() << "\n";
      return 1;
    }
  }
  if (auto s = matcher.AdvanceTime(cep::FromMillis(txns.back().ts + 1), sink);
      !s.ok()) {
    std::cerr << "fraud_demo: " << s.message() << "\n";
    return 1;
  }
  double ms = std::chrono::duration<double, std::milli>(
                  std::chrono::steady_clock::now() - start)
                  .count();
  std::printf(
      "card_testing: %zu transactions, %zu cards, %d matches, %llu partial "
      "matches timed out, %.1f ms\n",
      txns.size(), backend.key_count(), sink.matches(),
      static_cast<unsigned long long>(matcher.metrics().timeouts), ms);
  return 0;
}
