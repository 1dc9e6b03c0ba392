// cep/workload.hpp — seeded synthetic event streams for benchmarks and
// tests: what `cep gen` writes, available in memory.
//
// A workload is a named generator of events (Workloads() lists them). Given
// the same WorkloadOptions it produces the same events, byte for byte, on
// every platform: it draws from its own xoshiro256** generator seeded with
// splitmix64, never from std:: distributions (whose output differs between
// standard libraries). Each event comes out as a text line (JSON or CSV) or
// as a Record of a PatternFile's schema (WorkloadRecords).
//
// Workloads:
//   card-testing  Auth events {card, amount, merchant, result, ts} for
//                 patterns/card_testing.cep and card_cashout.cep: ordinary
//                 authorisations by `keys` cards, plus planted frauds (six
//                 approved probes of at most 2.00 at merchant "online-test",
//                 then one approved 500..2000 within 11 minutes, no refund)
//                 on fresh cards "4000-XXXX-9XXX-XXXX". Each planted fraud is
//                 exactly one match of either pattern; planted_frauds() says
//                 how many there are.
//   skewed        Auth events {card, amount, merchant, result, ts} like
//                 card-testing's ordinary traffic, but the card of each event
//                 is drawn from a Zipf distribution (exponent 1) over `keys`
//                 cards: the card of rank r ("4000-0000-DDDD-DDDD", r - 1 in
//                 the digits) has weight 1/r. One bot card, "bot-0000", has
//                 weight 100, 100 times the most frequent card's, and makes
//                 tiny approved probes with an occasional large cash-out, so
//                 its partial matches pile up under `followed by any`.
//                 Timestamps advance as in card-testing; no planted frauds.
//   stock-ticks   the stock stream of the CORE benchmark (VLDB 2022):
//                 {event_type BUY|SELL, id, name, volume, price, stock_time}
//                 with stock_time = id = the event's 0-based index.
//                 CoreStockQueryText() writes CORE's queries over it.
//   velocity      Auth events for patterns/velocity.cep: ordinary cards
//                 never make six authorisations within a minute (five do);
//                 planted bursts of six 2..11 s apart on fresh cards.
//   declines-then-charge
//                 Auth events for patterns/declines_then_charge.cep:
//                 ordinary declines (some retried) and large purchases, but
//                 no approved 1000+ after three declines in 10 minutes;
//                 planted 3..5 declines then an approved 1000..5000 on
//                 fresh cards.
//   impossible-travel
//                 Login events {user, city, lat, lon, ts} for
//                 patterns/impossible_travel.cep: ordinary users move
//                 between 16 cities at up to 900 km/h; planted hops of
//                 1500+ km at 3600+ km/h on fresh users.
//   account-takeover
//                 PasswordReset, Login, MfaCheck and Payout events for
//                 patterns/account_takeover.cep: every ordinary reset is
//                 followed by an MfaCheck; planted reset, new-device login
//                 and payout of 1000+ on fresh accounts (and thwarted ones
//                 with an MfaCheck, which do not match).
//   abandoned-challenge
//                 RiskFlag, ChallengeIssued and ChallengePassed events for
//                 patterns/abandoned_challenge.cep: every ordinary event
//                 starts a new session; high-risk ones pass their challenge
//                 within 5 minutes or get none in time; planted high-risk
//                 sessions are challenged and never pass in time.
//   The multi-type ones (account-takeover, abandoned-challenge) have one
//   field list: "type" (the event type, also event_type()) and the union of
//   their types' fields; every line carries all of them, the members of
//   other types empty ("", false, 0). The JSONL and CSV decoders ignore
//   fields a type does not declare, so `cep run` reads the lines as they
//   are. For all of these, each planted instance is exactly one match of
//   its pattern and ordinary traffic makes none: planted_frauds() is the
//   match count.
//
// DescribeWorkload() says in plain words what each workload's data looks
// like and which patterns it is meant for, so that another engine can run
// the identical data (`cep gen WORKLOAD --describe`).
//
// Example:
//   CEP_ASSIGN_OR_RETURN(std::unique_ptr<cep::WorkloadGenerator> gen,
//                        cep::MakeWorkload("card-testing",
//                                          {.events = 1'000'000, .seed = 7}));
//   std::string buffer;
//   gen->AppendHeader(buffer);  // CSV only
//   while (gen->AppendLine(buffer)) {
//     if (buffer.size() > (1 << 20)) Flush(buffer);
//   }
//   std::cerr << gen->planted_frauds() << " frauds\n";
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

#include "cep/dsl.hpp"
#include "cep/event.hpp"

namespace cep {

// Text encoding of generated lines.
enum class WorkloadFormat : uint8_t {
  kJsonl,  // one JSON object per line, members in field order
  kCsv,    // a header row (AppendHeader), then one row per event
};

struct WorkloadOptions {
  // Number of events to generate. Default: 1000000.
  uint64_t events = 1'000'000;
  // Number of keys: cards for card-testing (1 to 90000000; planted-fraud
  // cards come on top), Zipf cards for skewed (1 to 10000000; the bot card
  // comes on top), tickers for stock-ticks (1 to 20); cards for velocity
  // (1000 to 90000000) and declines-then-charge (1 to 90000000), users for
  // impossible-travel (1 to 1000000), accounts for account-takeover (1000
  // to 90000000); unused by abandoned-challenge (every session is new).
  // 0 means the workload's default: 10000 keys, 20 tickers.
  uint64_t keys = 0;
  // Seed of the random stream; equal options give equal events.
  // Default: 1.
  uint64_t seed = 1;
  // Probability that an ordinary event starts a planted fraud (0 to 1), for
  // card-testing and the pattern workloads (velocity, declines-then-charge,
  // impossible-travel, account-takeover, abandoned-challenge). A fraud is
  // planted only if all its events still fit in `events`. Ignored by
  // skewed and stock-ticks. Default: 0.0001.
  double fraud_rate = 0.0001;
  // Encoding of AppendHeader/AppendLine. Default: kJsonl.
  WorkloadFormat format = WorkloadFormat::kJsonl;
};

// A name for MakeWorkload and `cep gen`, with a one-line description (no
// trailing period) for --help, and plain-words texts for DescribeWorkload:
// lines separated by '\n', no trailing newline.
struct WorkloadInfo {
  std::string_view name;
  std::string_view description;
  // What the values are, how events are ordered and which field is their
  // time: enough for another engine to read the same data the same way.
  std::string_view layout_in_words;
  // The pattern(s) the workload is meant for, in plain words, with the
  // number of matches to expect where the workload fixes it.
  std::string_view pattern_in_words;
};

// The workloads MakeWorkload knows, in a fixed order.
std::span<const WorkloadInfo> Workloads();

// Generates the events of one workload, one at a time. Not thread-safe; one
// per thread (generators with equal options produce equal streams).
class WorkloadGenerator {
 public:
  virtual ~WorkloadGenerator() = default;

  // The fields every event has, in output order: JSON member order and CSV
  // column order.
  virtual const std::vector<FieldDef>& fields() const = 0;

  // The event type of the current event: "Auth" for card-testing, skewed,
  // velocity and declines-then-charge, "Login" for impossible-travel, the
  // "type" field for account-takeover and abandoned-challenge, "BUY" or
  // "SELL" for stock-ticks. WorkloadRecords uses it to pick a
  // schema when a file declares several. REQUIRES: an event has been generated.
  virtual std::string_view event_type() const = 0;

  // With WorkloadFormat::kCsv appends the header row and '\n' to `out`;
  // with kJsonl appends nothing.
  void AppendHeader(std::string& out) const;

  // Generates the next event and appends its line and '\n' to `out`.
  // Returns false, appending nothing, when all events have been generated.
  bool AppendLine(std::string& out);

  // Generates the next event and stores its values in field order (see
  // fields(); int and timestamp fields hold int64_t). Returns false, leaving
  // `values` as it was, at the end.
  bool NextValues(std::vector<Value>& values);

  const WorkloadOptions& options() const { return options_; }
  // Events generated so far.
  uint64_t generated() const { return generated_; }
  // Planted frauds whose events have been scheduled so far (card-testing
  // and the pattern workloads; 0 for skewed and stock-ticks). Every scheduled
  // fraud is complete by the last event, so after the end this is the number of
  // frauds in the stream.
  virtual uint64_t planted_frauds() const { return 0; }

 protected:
  explicit WorkloadGenerator(const WorkloadOptions& options)
      : options_(options) {}

  // Moves to the next event. Called only while generated() < events.
  virtual void Advance() = 0;
  // The current event, appended without a newline.
  virtual void AppendJson(std::string& out) const = 0;
  virtual void AppendCsv(std::string& out) const = 0;
  // The current event's values; `values` has fields().size() elements.
  virtual void FillValues(std::vector<Value>& values) const = 0;

 private:
  WorkloadOptions options_;
  uint64_t generated_ = 0;
};

// A plain-words description of workload `name`, what `cep gen WORKLOAD
// --describe` prints: its fields with their types (JSON member and CSV
// column order), then its layout_in_words and pattern_in_words, indented.
// Ends with a newline. Errors: kInvalidArgument for an unknown name.
[[nodiscard]] absl::StatusOr<std::string> DescribeWorkload(
    std::string_view name);

// The text of a .cep file with one query of the CORE benchmark (VLDB 2022)
// over stock-ticks data: `steps` stages joined with `followed by any`, the
// whole stream as one key (no key field), no skip after a match, and
// `within WINDOW` on stock_time, which is declared as a timestamp, so the
// window is written in milliseconds ("within 1000ms" for 1000 stock_time
// units). Matches are all index-ordered combinations whose last and first
// events are less than `window` stock_time units apart (the window is
// exclusive, as FlinkCEP's).
//
// Step i (0-based) is on the generator's i-th ticker, in its order INTC
// RIMM QQQ MSFT ORCL AAPL AMZN GOOG CSCO DELL YHOO AMAT EBAY NVDA ALTR BRCD
// SUNW JDSU QCOM ADBE, and is a SELL when i % 3 == 0, else a BUY. So
// 3 steps are CORE's SELL INTC, BUY RIMM, BUY QQQ; 6 steps add SELL MSFT,
// BUY ORCL, BUY AAPL; 9 steps add SELL AMZN, BUY GOOG, BUY CSCO. With
// `never_completes` one more step follows, on ticker "ZZZZ" that the
// generator never makes (side by the same rule), so the query never
// matches: 3 steps + never is CORE's never-completing 4-step query. The
// stock-ticks stream must have at least `steps` tickers (the default 20).
// Errors: kInvalidArgument if `steps` is not 1 to 20 or `window` not 1 to
// 10^15.
[[nodiscard]] absl::StatusOr<std::string> CoreStockQueryText(
    int steps, bool never_completes, int64_t window);

// The generator of workload `name` (see Workloads()).
// Errors: kInvalidArgument for an unknown name ("unknown workload 'x'"), or
// an option out of range for the workload, naming it ("keys: 30 is more than
// the 20 tickers of stock-ticks").
[[nodiscard]] absl::StatusOr<std::unique_ptr<WorkloadGenerator>> MakeWorkload(
    std::string_view name, const WorkloadOptions& options);

// Turns a generator's events into Records of a PatternFile's schemas, for
// benchmarks that run in memory. Every declared field takes the workload
// field of the same name; int fields may be declared int, timestamp or
// double, timestamp fields timestamp or int. With one schema every event
// becomes a Record of it; with several, of the schema named like the
// event's event_type() (events of other types are skipped).
//
// Example:
//   CEP_ASSIGN_OR_RETURN(cep::WorkloadRecords records,
//                        cep::WorkloadRecords::Create(std::move(gen), file));
//   std::vector<cep::Record> events;
//   while (std::optional<cep::Record> r = records.Next()) {
//     events.push_back(*std::move(r));
//   }
class WorkloadRecords {
 public:
  // `file` must outlive the result. Errors: kInvalidArgument naming the
  // schema and field that the workload does not make, or whose type does
  // not fit ("Auth: field 'x' is not in workload card-testing").
  [[nodiscard]] static absl::StatusOr<WorkloadRecords> Create(
      std::unique_ptr<WorkloadGenerator> generator, const PatternFile& file);

  // The next event as a Record, or nullopt after the last one.
  std::optional<Record> Next();

  WorkloadGenerator& generator() { return *generator_; }

 private:
  struct Binding {
    const Schema* schema = nullptr;
    // For each schema field, the index of the workload field it takes.
    std::vector<size_t> source;
  };
  WorkloadRecords(std::unique_ptr<WorkloadGenerator> generator,
                  std::vector<Binding> bindings)
      : generator_(std::move(generator)), bindings_(std::move(bindings)) {}

  std::unique_ptr<WorkloadGenerator> generator_;
  std::vector<Binding> bindings_;
  std::vector<Value> values_;
};

}  // namespace cep
