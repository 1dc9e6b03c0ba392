// Workload generators (cep/workload.hpp). Every random draw comes from Rng
// below in a fixed order, so a seed fixes the stream on every platform.
// Lines are formatted by hand into the caller's string: `cep gen` must write
// millions of lines per second.

#include "cep/workload.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

#include "cep/dsl.hpp"
#include "cep/event.hpp"

#include "fraud_workloads.hpp"
#include "generators.hpp"

namespace cep {
namespace {

using workload_internal::AmountCents;
using workload_internal::AppendCents;
using workload_internal::AppendInt;
using workload_internal::AuthFields;
using workload_internal::CardNumber;
using workload_internal::kAmountSteps;
using workload_internal::kDefaultCards;
using workload_internal::kEpochMs;
using workload_internal::kMaxCards;
using workload_internal::kMerchants;
using workload_internal::kResults;
using workload_internal::Rng;

// ---- card-testing -----------------------------------------------------------

constexpr std::string_view kProbeMerchant = "online-test";

// Gaps between ordinary events: uniform 0..172 ms, mean 86 ms, so a million
// events span about a day.
constexpr int64_t kMaxGapMs = 172;
// A planted fraud: kProbes probes 2..60 s apart, then the cash-out
// 30..300 s after the last probe: at most 11 minutes from the first probe,
// inside the 30 minutes of card_testing.cep and card_cashout.cep.
constexpr int kProbes = 6;
constexpr int kFraudEvents = kProbes + 1;

class CardTesting final : public WorkloadGenerator {
 public:
  explicit CardTesting(const WorkloadOptions& options)
      : WorkloadGenerator(options),
        rng_(options.seed),
        cards_(options.keys == 0 ? kDefaultCards : options.keys) {
    next_ts_ = kEpochMs + rng_.Between(0, kMaxGapMs);
  }

  const std::vector<FieldDef>& fields() const override { return AuthFields(); }
  std::string_view event_type() const override { return "Auth"; }
  uint64_t planted_frauds() const override { return frauds_; }

 protected:
  void Advance() override {
    const uint64_t remaining = options().events - generated();
    if (!pending_.empty() &&
        (pending_.size() == remaining || pending_.front().ts <= next_ts_)) {
      std::pop_heap(pending_.begin(), pending_.end(), Later);
      const FraudEvent& event = pending_.back();
      current_ = Current{.card = CardNumber(event.fraud_idx, /*fraud=*/true),
                         .cents = event.cents,
                         .merchant = event.merchant,
                         .result = kResults[0],
                         .ts = event.ts};
      pending_.pop_back();
      return;
    }
    const int64_t ts = next_ts_;
    next_ts_ += rng_.Between(0, kMaxGapMs);
    const uint64_t card = rng_.Below(cards_);
    // Log-normal-ish: a triangular exponent, 5.00..500.00, median 50.00.
    const int64_t cents = AmountCents()[rng_.Below(kAmountSteps / 2 + 1) +
                                        rng_.Below(kAmountSteps / 2 + 1)];
    const uint64_t roll = rng_.Below(1000);
    const std::string_view result =
        roll < 940 ? kResults[0] : (roll < 990 ? kResults[1] : kResults[2]);
    current_ = Current{.card = CardNumber(card, /*fraud=*/false),
                       .cents = cents,
                       .merchant = kMerchants[rng_.Below(kMerchants.size())],
                       .result = result,
                       .ts = ts};
    // Plant only frauds whose seven events fit in what is left, so every
    // counted fraud is complete.
    if (rng_.Unit() < options().fraud_rate &&
        pending_.size() + kFraudEvents <= remaining - 1) {
      Plant(ts);
    }
  }

  void AppendJson(std::string& out) const override {
    out.append(R"({"card":")");
    out.append(current_.card.data(), current_.card.size());
    out.append(R"(","amount":)");
    AppendCents(out, current_.cents);
    out.append(R"(,"merchant":")");
    out.append(current_.merchant);
    out.append(R"(","result":")");
    out.append(current_.result);
    out.append(R"(","ts":)");
    AppendInt(out, current_.ts);
    out.push_back('}');
  }

  void AppendCsv(std::string& out) const override {
    out.append(current_.card.data(), current_.card.size());
    out.push_back(',');
    AppendCents(out, current_.cents);
    out.push_back(',');
    out.append(current_.merchant);
    out.push_back(',');
    out.append(current_.result);
    out.push_back(',');
    AppendInt(out, current_.ts);
  }

  void FillValues(std::vector<Value>& values) const override {
    values[0] = std::string(current_.card.data(), current_.card.size());
    values[1] = static_cast<double>(current_.cents) / 100;
    values[2] = std::string(current_.merchant);
    values[3] = std::string(current_.result);
    values[4] = current_.ts;
  }

 private:
  struct FraudEvent {
    int64_t ts = 0;
    uint64_t order = 0;  // breaks ties of ts: the heap order is total
    uint64_t fraud_idx = 0;
    int64_t cents = 0;
    std::string_view merchant;
  };
  struct Current {
    std::array<char, 19> card{};
    int64_t cents = 0;
    std::string_view merchant;
    std::string_view result;
    int64_t ts = 0;
  };

  // Heap order: the earliest (ts, order) on top.
  static bool Later(const FraudEvent& a, const FraudEvent& b) {
    return a.ts != b.ts ? a.ts > b.ts : a.order > b.order;
  }

  void Plant(int64_t start) {
    const uint64_t fraud_idx = frauds_++;
    int64_t ts = start;
    for (int event_idx = 0; event_idx < kFraudEvents; ++event_idx) {
      const bool cashout = event_idx == kProbes;
      ts +=
          cashout ? rng_.Between(30'000, 300'000) : rng_.Between(2'000, 60'000);
      FraudEvent event{
          .ts = ts,
          .order = scheduled_++,
          .fraud_idx = fraud_idx,
          .cents =
              cashout ? rng_.Between(50'000, 200'000) : rng_.Between(50, 200),
          .merchant = cashout ? kMerchants[rng_.Below(kMerchants.size())]
                              : kProbeMerchant};
      pending_.push_back(event);
      std::push_heap(pending_.begin(), pending_.end(), Later);
    }
  }

  Rng rng_;
  uint64_t cards_;
  int64_t next_ts_ = kEpochMs;       // time of the next ordinary event
  std::vector<FraudEvent> pending_;  // heap by Later
  uint64_t frauds_ = 0;
  uint64_t scheduled_ = 0;
  Current current_;
};

// ---- skewed -----------------------------------------------------------------

constexpr uint64_t kMaxSkewedCards = 10'000'000;
constexpr std::string_view kBotCard = "bot-0000";
// Weight of the bot card: the Zipf card of rank r has weight 1/r, so the bot
// gets 100 times the rate of rank 1.
constexpr double kBotWeight = 100.0;
// One bot event in kBotCashoutEvery is a cash-out; the others are probes.
constexpr uint64_t kBotCashoutEvery = 100;

class Skewed final : public WorkloadGenerator {
 public:
  explicit Skewed(const WorkloadOptions& options)
      : WorkloadGenerator(options),
        rng_(options.seed),
        cumulative_(
            BuildCumulative(options.keys == 0 ? kDefaultCards : options.keys)) {
    next_ts_ = kEpochMs + rng_.Between(0, kMaxGapMs);
  }

  const std::vector<FieldDef>& fields() const override { return AuthFields(); }
  std::string_view event_type() const override { return "Auth"; }

 protected:
  void Advance() override {
    ts_ = next_ts_;
    next_ts_ += rng_.Between(0, kMaxGapMs);
    // One draw picks the card: index 0 is the bot, index r the Zipf card of
    // rank r. Unit() * total may round up to total itself: clamp.
    const double draw = rng_.Unit() * cumulative_.back();
    const size_t index = std::min<size_t>(
        static_cast<size_t>(
            std::upper_bound(cumulative_.begin(), cumulative_.end(), draw) -
            cumulative_.begin()),
        cumulative_.size() - 1);
    bot_ = index == 0;
    if (bot_) {
      const bool cashout = rng_.Below(kBotCashoutEvery) == 0;
      cents_ = cashout ? rng_.Between(50'000, 200'000) : rng_.Between(50, 200);
      merchant_ =
          cashout ? kMerchants[rng_.Below(kMerchants.size())] : kProbeMerchant;
      result_ = kResults[0];
      return;
    }
    card_ = CardNumber(index - 1, /*fraud=*/false);
    cents_ = AmountCents()[rng_.Below(kAmountSteps / 2 + 1) +
                           rng_.Below(kAmountSteps / 2 + 1)];
    const uint64_t roll = rng_.Below(1000);
    result_ =
        roll < 940 ? kResults[0] : (roll < 990 ? kResults[1] : kResults[2]);
    merchant_ = kMerchants[rng_.Below(kMerchants.size())];
  }

  void AppendJson(std::string& out) const override {
    out.append(R"({"card":")");
    out.append(Card());
    out.append(R"(","amount":)");
    AppendCents(out, cents_);
    out.append(R"(,"merchant":")");
    out.append(merchant_);
    out.append(R"(","result":")");
    out.append(result_);
    out.append(R"(","ts":)");
    AppendInt(out, ts_);
    out.push_back('}');
  }

  void AppendCsv(std::string& out) const override {
    out.append(Card());
    out.push_back(',');
    AppendCents(out, cents_);
    out.push_back(',');
    out.append(merchant_);
    out.push_back(',');
    out.append(result_);
    out.push_back(',');
    AppendInt(out, ts_);
  }

  void FillValues(std::vector<Value>& values) const override {
    values[0] = std::string(Card());
    values[1] = static_cast<double>(cents_) / 100;
    values[2] = std::string(merchant_);
    values[3] = std::string(result_);
    values[4] = ts_;
  }

 private:
  // Running sums of the weights: [0] is the bot's, [r] adds 1/r. Division
  // and addition are correctly rounded in IEEE 754, and the sums run in a
  // fixed order, so the table is the same everywhere.
  static std::vector<double> BuildCumulative(uint64_t cards) {
    std::vector<double> cumulative(cards + 1);
    double sum = kBotWeight;
    cumulative[0] = sum;
    for (uint64_t rank = 1; rank <= cards; ++rank) {
      sum += 1.0 / static_cast<double>(rank);
      cumulative[rank] = sum;
    }
    return cumulative;
  }

  std::string_view Card() const {
    return bot_ ? kBotCard : std::string_view(card_.data(), card_.size());
  }

  Rng rng_;
  std::vector<double> cumulative_;
  int64_t next_ts_ = kEpochMs;
  int64_t ts_ = 0;
  bool bot_ = false;
  std::array<char, 19> card_{};
  int64_t cents_ = 0;
  std::string_view merchant_;
  std::string_view result_;
};

// ---- stock-ticks ------------------------------------------------------------

// The tickers of the CORE benchmark's stock stream.
constexpr std::array<std::string_view, 20> kTickers = {
    "INTC", "RIMM", "QQQ",  "MSFT", "ORCL", "AAPL", "AMZN",
    "GOOG", "CSCO", "DELL", "YHOO", "AMAT", "EBAY", "NVDA",
    "ALTR", "BRCD", "SUNW", "JDSU", "QCOM", "ADBE"};

class StockTicks final : public WorkloadGenerator {
 public:
  explicit StockTicks(const WorkloadOptions& options)
      : WorkloadGenerator(options),
        rng_(options.seed),
        tickers_(options.keys == 0 ? kTickers.size() : options.keys) {
    // Opening prices 20.00..200.00, one per ticker.
    for (int64_t& price : price_cents_) price = rng_.Between(2'000, 20'000);
  }

  const std::vector<FieldDef>& fields() const override {
    static const std::vector<FieldDef>* const fields =
        new std::vector<FieldDef>{{"event_type", FieldType::kString},
                                  {"id", FieldType::kInt},
                                  {"name", FieldType::kString},
                                  {"volume", FieldType::kInt},
                                  {"price", FieldType::kDouble},
                                  {"stock_time", FieldType::kInt}};
    return *fields;
  }
  std::string_view event_type() const override { return buy_ ? "BUY" : "SELL"; }

 protected:
  void Advance() override {
    index_ = static_cast<int64_t>(generated());
    buy_ = (rng_.Next() >> 63) != 0;
    ticker_ = rng_.Below(tickers_);
    volume_ = rng_.Between(1, 1000);
    // Random walk of -0.10..+0.10 per tick of the ticker, never below 1.00.
    int64_t& price = price_cents_[ticker_];
    price = std::max<int64_t>(100, price + rng_.Between(-10, 10));
  }

  void AppendJson(std::string& out) const override {
    out.append(buy_ ? R"({"event_type":"BUY","id":)"
                    : R"({"event_type":"SELL","id":)");
    AppendInt(out, index_);
    out.append(R"(,"name":")");
    out.append(kTickers[ticker_]);
    out.append(R"(","volume":)");
    AppendInt(out, volume_);
    out.append(R"(,"price":)");
    AppendCents(out, price_cents_[ticker_]);
    out.append(R"(,"stock_time":)");
    AppendInt(out, index_);
    out.push_back('}');
  }

  void AppendCsv(std::string& out) const override {
    out.append(buy_ ? "BUY," : "SELL,");
    AppendInt(out, index_);
    out.push_back(',');
    out.append(kTickers[ticker_]);
    out.push_back(',');
    AppendInt(out, volume_);
    out.push_back(',');
    AppendCents(out, price_cents_[ticker_]);
    out.push_back(',');
    AppendInt(out, index_);
  }

  void FillValues(std::vector<Value>& values) const override {
    values[0] = std::string(buy_ ? "BUY" : "SELL");
    values[1] = index_;
    values[2] = std::string(kTickers[ticker_]);
    values[3] = volume_;
    values[4] = static_cast<double>(price_cents_[ticker_]) / 100;
    values[5] = index_;
  }

 private:
  Rng rng_;
  uint64_t tickers_;
  std::array<int64_t, kTickers.size()> price_cents_{};
  int64_t index_ = 0;
  bool buy_ = false;
  uint64_t ticker_ = 0;
  int64_t volume_ = 0;
};

// ---- the table
// ----------------------------------------------------------------

struct WorkloadEntry {
  WorkloadInfo info;
  // Returns the error for options out of range, or OK.
  absl::Status (*check)(const WorkloadOptions& options);
  std::unique_ptr<WorkloadGenerator> (*make)(const WorkloadOptions& options);
};

absl::Status CheckCardTesting(const WorkloadOptions& options) {
  if (options.keys > kMaxCards) {
    return absl::InvalidArgumentError(
        absl::StrCat("keys: ", options.keys, " is more than the ", kMaxCards,
                     " cards card-testing can number"));
  }
  if (!(options.fraud_rate >= 0 && options.fraud_rate <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "fraud-rate: ", options.fraud_rate, " is not between 0 and 1"));
  }
  return absl::OkStatus();
}

absl::Status CheckStockTicks(const WorkloadOptions& options) {
  if (options.keys > kTickers.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("keys: ", options.keys, " is more than the ",
                     kTickers.size(), " tickers of stock-ticks"));
  }
  return absl::OkStatus();
}

absl::Status CheckSkewed(const WorkloadOptions& options) {
  if (options.keys > kMaxSkewedCards) {
    return absl::InvalidArgumentError(
        absl::StrCat("keys: ", options.keys, " is more than the ",
                     kMaxSkewedCards, " cards skewed can draw from"));
  }
  return absl::OkStatus();
}

template <typename Generator>
std::unique_ptr<WorkloadGenerator> Make(const WorkloadOptions& options) {
  return std::make_unique<Generator>(options);
}

// ---- plain-words descriptions -----------------------------------------------
// Lines of at most 76 characters; DescribeWorkload indents them by two.

constexpr std::string_view kCardTestingLayout =
    "One event type, Auth; every event has all five fields.\n"
    "card: the key. \"4000-0000-DDDD-DDDD\" for the `keys` ordinary cards\n"
    "  (default 10000, drawn uniformly), \"4000-GGGG-9DDD-DDDD\" for the\n"
    "  cards of planted frauds, one fresh card per fraud.\n"
    "amount: a decimal with two places. Ordinary events 5.00 to 500.00\n"
    "  (median 50.00); fraud probes 0.50 to 2.00; cash-outs 500.00 to\n"
    "  2000.00.\n"
    "merchant: grocery, fuel, coffee, pharmacy, travel, online, restaurant\n"
    "  or electronics (uniform); fraud probes are at online-test.\n"
    "result: approved (94%), declined (5%) or refund (1%); every event of a\n"
    "  planted fraud is approved.\n"
    "ts: the time field, epoch milliseconds from 2025-12-01T00:00:00Z\n"
    "  (1764547200000). Events come in non-decreasing ts order (ties are\n"
    "  possible; keep them in file order), 0 to 172 ms apart.\n"
    "A planted fraud (chance --fraud-rate per ordinary event): six approved\n"
    "  probes 2 to 60 s apart at online-test, then 30 to 300 s later one\n"
    "  approved cash-out, interleaved with the ordinary events by ts.";

constexpr std::string_view kCardTestingPatterns =
    "patterns/card_testing.cep, per card (the key), within 30 minutes from\n"
    "the first to the last event of a match (exclusive: last.ts - first.ts <\n"
    "30 min), skipping past a match's last event before the next match of\n"
    "the card: three or more consecutive authorisations of the card (no\n"
    "other event of the card in between) of at most 2.00 with result\n"
    "approved, taken greedily; then no authorisation with result refund\n"
    "before the cash-out; then the cash-out, an approved authorisation of\n"
    "500 or more (other events of the card in between are skipped).\n"
    "patterns/card_cashout.cep: the same with five or more probes.\n"
    "Either pattern finds exactly the planted frauds (`cep gen` prints how\n"
    "many), one match each; ordinary events (at least 5.00) never match.";

constexpr std::string_view kSkewedLayout =
    "One event type, Auth, with card-testing's fields.\n"
    "card: the key. Each event's card is drawn with weight 1/r for the\n"
    "  Zipf card of rank r (r = 1 to `keys`, default 10000; written\n"
    "  \"4000-0000-DDDD-DDDD\" with r - 1 in the digits) and weight 100 for\n"
    "  the bot card \"bot-0000\". With 10000 cards the bot makes about 91% of\n"
    "  the events, rank 1 about 0.9%.\n"
    "Zipf-card events are card-testing's ordinary events: amount 5.00 to\n"
    "  500.00 (median 50.00), merchant one of the eight, result approved\n"
    "  (94%), declined (5%) or refund (1%).\n"
    "Bot events are all approved: 99 in 100 are probes of 0.50 to 2.00 at\n"
    "  online-test, 1 in 100 a cash-out of 500.00 to 2000.00 at one of the\n"
    "  eight merchants.\n"
    "ts: the time field, as in card-testing: epoch milliseconds from\n"
    "  1764547200000, non-decreasing, 0 to 172 ms apart.";

constexpr std::string_view kSkewedPatterns =
    "Patterns whose partial matches grow with one hot key, per card (the\n"
    "key), within 30 minutes (exclusive), for example: an approved\n"
    "authorisation of at most 2.00, followed by any (skip till any match)\n"
    "approved authorisation of 500 or more, no skip after a match. Every bot\n"
    "probe stays a partial match for the whole window (about 19000 at once\n"
    "with the default keys), and each bot cash-out matches every probe of\n"
    "the 30 minutes before it. Also card_testing.cep and card_cashout.cep\n"
    "(see card-testing): every match there is a bot cash-out after its run\n"
    "of probes. There are no planted frauds: the generator does not fix the\n"
    "match count.";

constexpr std::string_view kStockTicksLayout =
    "One stream, no key. Every event has all six fields; event_type names\n"
    "its type (BUY or SELL), so an engine with typed events can declare two\n"
    "types with the same fields.\n"
    "event_type: \"BUY\" or \"SELL\", each with chance 1/2.\n"
    "id: the event's 0-based index in the stream.\n"
    "name: the ticker, uniform over the first `keys` (default all 20) of\n"
    "  INTC RIMM QQQ MSFT ORCL AAPL AMZN GOOG CSCO DELL YHOO AMAT EBAY NVDA\n"
    "  ALTR BRCD SUNW JDSU QCOM ADBE.\n"
    "volume: 1 to 1000.\n"
    "price: a decimal with two places; per ticker a random walk from an\n"
    "  opening price of 20.00 to 200.00, -0.10 to +0.10 per tick of the\n"
    "  ticker, never below 1.00.\n"
    "stock_time: the time field, equal to id: it grows by 1 per event.\n"
    "  `cep` declares it a timestamp, so it reads stock_time as\n"
    "  milliseconds (a window of W stock_time units is `within Wms`).";

constexpr std::string_view kStockTicksPatterns =
    "The stock queries of CORE (VLDB 2022), over the whole stream as one\n"
    "key, stages joined by followed-by-any (skip till any match: every\n"
    "combination of events in stream order), no skip after a match, within\n"
    "W stock_time units from the first to the last event, exclusive\n"
    "(last.stock_time - first.stock_time < W). A step \"SELL INTC\" is an\n"
    "event with event_type SELL and name INTC.\n"
    "3 steps: SELL INTC followed-by-any BUY RIMM followed-by-any BUY QQQ\n"
    "  within W (stock_time): its matches are all index triples i < j < k\n"
    "  of such events with stock_time[k] - stock_time[i] < W.\n"
    "6 steps: the 3 steps, then SELL MSFT, BUY ORCL, BUY AAPL.\n"
    "9 steps: the 6 steps, then SELL AMZN, BUY GOOG, BUY CSCO.\n"
    "Never completing, 4 steps: the 3 steps, then SELL ZZZZ, a ticker the\n"
    "  generator never makes: no match, but the partial matches of the 3\n"
    "  steps live until their window passes.\n"
    "`cep gen stock-ticks --query 3 --window W` writes the .cep file of a\n"
    "query (--query 3,never for the never-completing one).";

constexpr std::array<WorkloadEntry, 8> kWorkloads = {{
    {{"card-testing",
      "Auth events for patterns/card_testing.cep with planted card-testing "
      "frauds",
      kCardTestingLayout, kCardTestingPatterns},
     CheckCardTesting,
     Make<CardTesting>},
    {{"stock-ticks",
      "BUY/SELL stock ticks of 20 tickers, the CORE (VLDB 2022) benchmark "
      "stream",
      kStockTicksLayout, kStockTicksPatterns},
     CheckStockTicks,
     Make<StockTicks>},
    {{"skewed",
      "Auth events of Zipf-distributed cards plus one bot card with 100 "
      "times the top card's rate",
      kSkewedLayout, kSkewedPatterns},
     CheckSkewed,
     Make<Skewed>},
    {{"velocity",
      "Auth events for patterns/velocity.cep with planted bursts of six "
      "authorisations in a minute",
      workload_internal::kVelocityLayout, workload_internal::kVelocityPatterns},
     workload_internal::CheckVelocity,
     workload_internal::MakeVelocity},
    {{"declines-then-charge",
      "Auth events for patterns/declines_then_charge.cep with planted "
      "declines then a large charge",
      workload_internal::kDeclinesLayout, workload_internal::kDeclinesPatterns},
     workload_internal::CheckDeclinesThenCharge,
     workload_internal::MakeDeclinesThenCharge},
    {{"impossible-travel",
      "Login events for patterns/impossible_travel.cep with planted "
      "impossible hops",
      workload_internal::kTravelLayout, workload_internal::kTravelPatterns},
     workload_internal::CheckImpossibleTravel,
     workload_internal::MakeImpossibleTravel},
    {{"account-takeover",
      "PasswordReset/Login/MfaCheck/Payout events for "
      "patterns/account_takeover.cep with planted takeovers",
      workload_internal::kTakeoverLayout, workload_internal::kTakeoverPatterns},
     workload_internal::CheckAccountTakeover,
     workload_internal::MakeAccountTakeover},
    {{"abandoned-challenge",
      "RiskFlag/ChallengeIssued/ChallengePassed events for "
      "patterns/abandoned_challenge.cep with planted abandoned challenges",
      workload_internal::kChallengeLayout,
      workload_internal::kChallengePatterns},
     workload_internal::CheckAbandonedChallenge,
     workload_internal::MakeAbandonedChallenge},
}};

constexpr std::array<WorkloadInfo, kWorkloads.size()> WorkloadInfos() {
  std::array<WorkloadInfo, kWorkloads.size()> infos{};
  for (size_t entry_idx = 0; entry_idx < kWorkloads.size(); ++entry_idx) {
    infos[entry_idx] = kWorkloads[entry_idx].info;
  }
  return infos;
}

constexpr std::array<WorkloadInfo, kWorkloads.size()> kWorkloadInfos =
    WorkloadInfos();

// Whether a workload field of type `from` may fill a declared field of type
// `to`.
bool Fits(FieldType from, FieldType to) {
  if (from == to) return true;
  if (from == FieldType::kInt) {
    return to == FieldType::kTimestamp || to == FieldType::kDouble;
  }
  return from == FieldType::kTimestamp && to == FieldType::kInt;
}

}  // namespace

std::span<const WorkloadInfo> Workloads() { return kWorkloadInfos; }

void WorkloadGenerator::AppendHeader(std::string& out) const {
  if (options_.format != WorkloadFormat::kCsv) return;
  bool first = true;
  for (const FieldDef& field : fields()) {
    if (!first) out.push_back(',');
    first = false;
    out.append(field.name);
  }
  out.push_back('\n');
}

bool WorkloadGenerator::AppendLine(std::string& out) {
  if (generated_ >= options_.events) return false;
  Advance();
  ++generated_;
  if (options_.format == WorkloadFormat::kCsv) {
    AppendCsv(out);
  } else {
    AppendJson(out);
  }
  out.push_back('\n');
  return true;
}

bool WorkloadGenerator::NextValues(std::vector<Value>& values) {
  if (generated_ >= options_.events) return false;
  Advance();
  ++generated_;
  values.resize(fields().size());
  FillValues(values);
  return true;
}

absl::StatusOr<std::unique_ptr<WorkloadGenerator>> MakeWorkload(
    std::string_view name, const WorkloadOptions& options) {
  for (const WorkloadEntry& entry : kWorkloads) {
    if (entry.info.name != name) continue;
    if (absl::Status status = entry.check(options); !status.ok()) {
      return status;
    }
    return entry.make(options);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown workload '", std::string(name), "'"));
}

namespace {

// Appends `text`'s lines to `out`, each indented by two spaces and ended
// with '\n'.
void AppendIndented(std::string& out, std::string_view text) {
  while (!text.empty()) {
    const size_t end = std::min(text.find('\n'), text.size());
    out.append("  ").append(text.substr(0, end)).push_back('\n');
    text.remove_prefix(std::min(end + 1, text.size()));
  }
}

// For absl::StrCat, whose string_view may not be std::string_view.
absl::string_view Sv(std::string_view text) {
  return absl::string_view(text.data(), text.size());
}

// The step CORE's stock queries never complete on: a ticker not in
// kTickers.
constexpr std::string_view kNeverTicker = "ZZZZ";
constexpr int64_t kMaxQueryWindow = 1'000'000'000'000'000;

}  // namespace

absl::StatusOr<std::string> DescribeWorkload(std::string_view name) {
  for (const WorkloadEntry& entry : kWorkloads) {
    if (entry.info.name != name) continue;
    const std::unique_ptr<WorkloadGenerator> generator =
        entry.make(WorkloadOptions{.events = 0});
    std::string out = absl::StrCat(Sv(entry.info.name), ": ",
                                   Sv(entry.info.description), "\n",
                                   "fields, in JSON member and CSV column "
                                   "order:\n");
    for (const FieldDef& field : generator->fields()) {
      std::string line = field.name;
      line.resize(std::max<size_t>(line.size() + 2, 12), ' ');
      line.append(FieldTypeName(field.type));
      AppendIndented(out, line);
    }
    out.append("layout:\n");
    AppendIndented(out, entry.info.layout_in_words);
    out.append("patterns:\n");
    AppendIndented(out, entry.info.pattern_in_words);
    return out;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown workload '", std::string(name), "'"));
}

absl::StatusOr<std::string> CoreStockQueryText(int steps, bool never_completes,
                                               int64_t window) {
  if (steps < 1 || static_cast<size_t>(steps) > kTickers.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("steps: ", steps, " is not 1 to ", kTickers.size()));
  }
  if (window < 1 || window > kMaxQueryWindow) {
    return absl::InvalidArgumentError(
        absl::StrCat("window: ", window, " is not 1 to ", kMaxQueryWindow));
  }
  struct Step {
    std::string_view side;
    std::string_view ticker;
  };
  std::vector<Step> plan;
  const int total = steps + (never_completes ? 1 : 0);
  for (int step_idx = 0; step_idx < total; ++step_idx) {
    plan.push_back(Step{.side = step_idx % 3 == 0 ? "SELL" : "BUY",
                        .ticker = step_idx < steps
                                      ? kTickers[static_cast<size_t>(step_idx)]
                                      : kNeverTicker});
  }
  std::string words;
  for (const Step& step : plan) {
    absl::StrAppend(&words, words.empty() ? "" : ", ", Sv(step.side), " ",
                    Sv(step.ticker));
  }
  const std::string name =
      absl::StrCat("core_stock_", steps, never_completes ? "_never" : "");
  std::string text = absl::StrCat(
      "// The CORE (VLDB 2022) stock query with ", total, " steps",
      never_completes ? " (never completes: no stock-ticks event is on "
                        "ZZZZ)"
                      : "",
      ",\n// over `cep gen stock-ticks` data: ", words,
      ",\n// each followed by any, within ", window,
      " stock_time units (read as milliseconds).\n"
      "// Written by `cep gen stock-ticks --query ",
      steps, never_completes ? ",never" : "", " --window ", window,
      "`.\n\n"
      "event Stock {\n"
      "  event_type  string\n"
      "  id          int\n"
      "  name        string\n"
      "  volume      int\n"
      "  price       double\n"
      "  stock_time  timestamp  time\n"
      "}\n\n"
      "pattern ",
      name, " on Stock\n  within ", window, "ms {\n");
  for (size_t step_idx = 0; step_idx < plan.size(); ++step_idx) {
    const Step& step = plan[step_idx];
    std::string stage = absl::StrCat(Sv(step.side), "_", Sv(step.ticker));
    std::transform(stage.begin(), stage.end(), stage.begin(), [](char c) {
      return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    });
    absl::StrAppend(&text, step_idx == 0 ? "  begin " : "  followed by any ",
                    stage, " where event_type == \"", Sv(step.side),
                    "\" and name == \"", Sv(step.ticker), "\"\n");
  }
  text.append("}\n");
  return text;
}

absl::StatusOr<WorkloadRecords> WorkloadRecords::Create(
    std::unique_ptr<WorkloadGenerator> generator, const PatternFile& file) {
  const std::vector<FieldDef>& fields = generator->fields();
  std::vector<Binding> bindings;
  for (const auto& schema : file.schemas()) {
    Binding binding{.schema = schema.get(), .source = {}};
    for (const FieldDef& declared : schema->fields()) {
      const auto found = std::find_if(
          fields.begin(), fields.end(),
          [&](const FieldDef& f) { return f.name == declared.name; });
      if (found == fields.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat(schema->name(), ": field '", declared.name,
                         "' is not made by the workload"));
      }
      if (!Fits(found->type, declared.type)) {
        return absl::InvalidArgumentError(
            absl::StrCat(schema->name(), ": field '", declared.name, "' is ",
                         std::string(FieldTypeName(declared.type)),
                         " but the workload makes ",
                         std::string(FieldTypeName(found->type))));
      }
      binding.source.push_back(static_cast<size_t>(found - fields.begin()));
    }
    bindings.push_back(std::move(binding));
  }
  if (bindings.empty()) {
    return absl::InvalidArgumentError("the pattern file declares no event");
  }
  return WorkloadRecords(std::move(generator), std::move(bindings));
}

std::optional<Record> WorkloadRecords::Next() {
  while (generator_->NextValues(values_)) {
    const Binding* binding = &bindings_.front();
    if (bindings_.size() > 1) {
      binding = nullptr;
      for (const Binding& candidate : bindings_) {
        if (candidate.schema->name() == generator_->event_type()) {
          binding = &candidate;
          break;
        }
      }
      if (binding == nullptr) continue;
    }
    const std::vector<FieldDef>& declared = binding->schema->fields();
    std::vector<Value> values;
    values.reserve(declared.size());
    for (size_t field_idx = 0; field_idx < declared.size(); ++field_idx) {
      const Value& value = values_[binding->source[field_idx]];
      if (declared[field_idx].type == FieldType::kDouble &&
          std::holds_alternative<int64_t>(value)) {
        values.emplace_back(static_cast<double>(std::get<int64_t>(value)));
      } else {
        values.push_back(value);
      }
    }
    return Record(binding->schema, std::move(values));
  }
  return std::nullopt;
}

}  // namespace cep
