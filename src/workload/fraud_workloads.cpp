// The fraud workloads of cep/workload.hpp beyond card-testing: one per
// pattern file of patterns/ (velocity, declines-then-charge,
// impossible-travel, account-takeover, abandoned-challenge). Each makes
// ordinary traffic that exercises its pattern's conditions without ever
// completing it, plus planted instances on fresh keys (a key no ordinary
// event uses), each exactly one match of the pattern.
//
// All five share Scripted below: ordinary events come one per step at a
// clock that advances by a random gap; planted instances and follow-up
// events of ordinary keys wait in a heap by time and come out when the
// clock passes them. A script is scheduled only if all its events fit in
// the events left, so every scheduled script is complete at the end.

#include "fraud_workloads.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

#include "cep/event.hpp"
#include "cep/workload.hpp"

#include "generators.hpp"

namespace cep::workload_internal {
namespace {

// How a field's value is written: its slot's text, or its number as a
// decimal with 2 or 4 places, an integer, or true/false.
enum class Format : uint8_t { kString, kCents, kE4, kInt, kBool };

constexpr size_t kMaxSlots = 9;
// Event::key of planted events: no ordinary key.
constexpr uint64_t kPlantedKey = ~uint64_t{0};

struct Slot {
  std::string text;
  int64_t number = 0;
};

struct Event {
  int64_t ts = 0;
  uint64_t key = kPlantedKey;  // the ordinary key index, for the hooks
  std::array<Slot, kMaxSlots> slots;
};

// "PREFIX" followed by `index` in at least 8 digits: "user-00000042".
std::string Id(std::string_view prefix, uint64_t index) {
  std::string id(prefix);
  std::string digits;
  AppendInt(digits, static_cast<int64_t>(index));
  if (digits.size() < 8) id.append(8 - digits.size(), '0');
  id.append(digits);
  return id;
}

std::string CardText(uint64_t index, bool fraud) {
  const std::array<char, 19> card = CardNumber(index, fraud);
  return std::string(card.data(), card.size());
}

class Scripted : public WorkloadGenerator {
 public:
  const std::vector<FieldDef>& fields() const override { return *fields_; }
  // The first field, "type", names the type of a multi-type workload.
  std::string_view event_type() const override {
    return single_type_.empty() ? std::string_view(current_.slots[0].text)
                                : single_type_;
  }
  uint64_t planted_frauds() const override { return frauds_; }

 protected:
  // `fields` and `formats` (one per field but the last, the timestamp)
  // must outlive the generator. `single_type` is the type of every event,
  // or empty when the first field is "type".
  Scripted(const WorkloadOptions& options, const std::vector<FieldDef>& fields,
           std::span<const Format> formats, std::string_view single_type,
           int64_t max_gap_ms)
      : WorkloadGenerator(options),
        rng_(options.seed),
        fields_(&fields),
        formats_(formats),
        single_type_(single_type),
        max_gap_ms_(max_gap_ms) {
    next_ts_ = kEpochMs + rng_.Between(0, max_gap_ms_);
  }

  // Fills `event` (its ts set) with an ordinary event. May Schedule at most
  // `room` follow-ups at or after event.ts.
  virtual void Ordinary(uint64_t room, Event& event) = 0;
  // Called after each ordinary event at `ts`: may Schedule at most `room`
  // planted events after `ts`, counting frauds in frauds_.
  virtual void Plant(int64_t ts, uint64_t room) = 0;
  // Called with every event when it becomes the current one.
  virtual void Emitted(const Event& /*event*/) {}

  void Schedule(Event event) {
    pending_.push_back(
        Pending{.order = scheduled_++, .event = std::move(event)});
    std::push_heap(pending_.begin(), pending_.end(), Later);
  }

  void Advance() final {
    const uint64_t remaining = options().events - generated();
    if (!pending_.empty() && (pending_.size() == remaining ||
                              pending_.front().event.ts <= next_ts_)) {
      std::pop_heap(pending_.begin(), pending_.end(), Later);
      current_ = std::move(pending_.back().event);
      pending_.pop_back();
      Emitted(current_);
      return;
    }
    current_.ts = next_ts_;
    current_.key = kPlantedKey;
    next_ts_ += rng_.Between(0, max_gap_ms_);
    Ordinary(remaining - 1 - pending_.size(), current_);
    Plant(current_.ts, remaining - 1 - pending_.size());
    Emitted(current_);
  }

  void AppendJson(std::string& out) const final {
    out.push_back('{');
    for (size_t field_idx = 0; field_idx < fields_->size(); ++field_idx) {
      if (field_idx > 0) out.push_back(',');
      out.push_back('"');
      out.append((*fields_)[field_idx].name);
      out.append("\":");
      const bool text =
          field_idx < formats_.size() && formats_[field_idx] == Format::kString;
      if (text) out.push_back('"');
      AppendValue(out, field_idx);
      if (text) out.push_back('"');
    }
    out.push_back('}');
  }

  void AppendCsv(std::string& out) const final {
    for (size_t field_idx = 0; field_idx < fields_->size(); ++field_idx) {
      if (field_idx > 0) out.push_back(',');
      AppendValue(out, field_idx);
    }
  }

  void FillValues(std::vector<Value>& values) const final {
    for (size_t field_idx = 0; field_idx < fields_->size(); ++field_idx) {
      if (field_idx == formats_.size()) {
        values[field_idx] = current_.ts;
        continue;
      }
      const Slot& slot = current_.slots[field_idx];
      switch (formats_[field_idx]) {
        case Format::kString:
          values[field_idx] = slot.text;
          break;
        case Format::kCents:
          values[field_idx] = static_cast<double>(slot.number) / 100;
          break;
        case Format::kE4:
          values[field_idx] = static_cast<double>(slot.number) / 10'000;
          break;
        case Format::kInt:
          values[field_idx] = slot.number;
          break;
        case Format::kBool:
          values[field_idx] = slot.number != 0;
          break;
      }
    }
  }

  Rng rng_;
  uint64_t frauds_ = 0;

 private:
  struct Pending {
    uint64_t order = 0;  // breaks ties of ts: the heap order is total
    Event event;
  };
  // Heap order: the earliest (ts, order) on top.
  static bool Later(const Pending& a, const Pending& b) {
    return a.event.ts != b.event.ts ? a.event.ts > b.event.ts
                                    : a.order > b.order;
  }

  void AppendValue(std::string& out, size_t field_idx) const {
    if (field_idx == formats_.size()) {
      AppendInt(out, current_.ts);
      return;
    }
    const Slot& slot = current_.slots[field_idx];
    switch (formats_[field_idx]) {
      case Format::kString:
        out.append(slot.text);
        break;
      case Format::kCents:
        AppendFixed(out, slot.number, 2);
        break;
      case Format::kE4:
        AppendFixed(out, slot.number, 4);
        break;
      case Format::kInt:
        AppendInt(out, slot.number);
        break;
      case Format::kBool:
        out.append(slot.number != 0 ? "true" : "false");
        break;
    }
  }

  const std::vector<FieldDef>* fields_;
  std::span<const Format> formats_;
  std::string_view single_type_;
  int64_t max_gap_ms_;
  int64_t next_ts_ = kEpochMs;    // time of the next ordinary event
  std::vector<Pending> pending_;  // heap by Later
  uint64_t scheduled_ = 0;
  Event current_;
};

// ---- Auth events (velocity, declines-then-charge) ---------------------------

constexpr std::array<Format, 4> kAuthFormats = {
    Format::kString, Format::kCents, Format::kString, Format::kString};

// Gaps between ordinary Auth events: 0..172 ms, as card-testing.
constexpr int64_t kAuthMaxGapMs = 172;

void SetAuth(Event& event, std::string card, int64_t cents,
             std::string_view merchant, std::string_view result) {
  event.slots[0].text = std::move(card);
  event.slots[1].number = cents;
  event.slots[2].text = merchant;
  event.slots[3].text = result;
}

// Ordinary result: approved 94%, declined 5%, refund 1%.
std::string_view OrdinaryResult(Rng& rng) {
  const uint64_t roll = rng.Below(1000);
  return roll < 940 ? kResults[0] : (roll < 990 ? kResults[1] : kResults[2]);
}

// Events of keys in a sliding time window, counted per key.
class KeyWindow {
 public:
  explicit KeyWindow(int64_t span_ms) : span_ms_(span_ms) {}

  // Forgets the events that no event at `now` or later can share a window
  // with: those at least span_ms older.
  void Expire(int64_t now) {
    while (!events_.empty() && now - events_.front().first >= span_ms_) {
      const auto found = counts_.find(events_.front().second);
      if (--found->second == 0) counts_.erase(found);
      events_.pop_front();
    }
  }
  void Add(int64_t ts, uint64_t key) {
    events_.emplace_back(ts, key);
    ++counts_[key];
  }
  uint64_t Count(uint64_t key) const {
    const auto found = counts_.find(key);
    return found == counts_.end() ? 0 : found->second;
  }
  size_t size() const { return events_.size(); }
  uint64_t KeyAt(size_t index) const { return events_[index].second; }

 private:
  int64_t span_ms_;
  std::deque<std::pair<int64_t, uint64_t>> events_;
  std::unordered_map<uint64_t, uint64_t> counts_;
};

// ---- velocity ---------------------------------------------------------------

constexpr int64_t kMinute = 60'000;
// patterns/velocity.cep: 6 authorisations of a card within a minute.
constexpr uint64_t kBurst = 6;

class Velocity final : public Scripted {
 public:
  explicit Velocity(const WorkloadOptions& options)
      : Scripted(options, AuthFields(), kAuthFormats, "Auth", kAuthMaxGapMs),
        cards_(options.keys == 0 ? kDefaultCards : options.keys),
        window_(kMinute) {}

 protected:
  void Ordinary(uint64_t /*room*/, Event& event) override {
    window_.Expire(event.ts);
    // One event in ten repeats the card of an event of the last minute, so
    // cards with several authorisations a minute are common.
    uint64_t card = rng_.Below(cards_);
    if (window_.size() > 0 && rng_.Below(10) == 0) {
      card = window_.KeyAt(rng_.Below(window_.size()));
    }
    // A card with kBurst - 1 authorisations in the last minute takes no
    // more: the next card that has room does (at most a fifth of the cards
    // can be full: CheckVelocity wants 1000 cards, a minute holds about 700
    // events).
    while (window_.Count(card) >= kBurst - 1) card = (card + 1) % cards_;
    window_.Add(event.ts, card);
    event.key = card;
    const int64_t cents = OrdinaryCents(rng_);
    const std::string_view merchant = kMerchants[rng_.Below(kMerchants.size())];
    SetAuth(event, CardText(card, /*fraud=*/false), cents, merchant,
            OrdinaryResult(rng_));
  }

  void Plant(int64_t ts, uint64_t room) override {
    if (!(rng_.Unit() < options().fraud_rate) || room < kBurst) return;
    const uint64_t fraud_idx = frauds_++;
    const std::string_view merchant = kMerchants[rng_.Below(kMerchants.size())];
    Event event;
    event.ts = ts;
    for (uint64_t event_idx = 0; event_idx < kBurst; ++event_idx) {
      // 2..11 s apart: the sixth is at most 55 s after the first.
      event.ts += rng_.Between(2'000, 11'000);
      const int64_t cents = OrdinaryCents(rng_);
      SetAuth(event, CardText(fraud_idx, /*fraud=*/true), cents, merchant,
              rng_.Below(3) == 0 ? kResults[1] : kResults[0]);
      Schedule(event);
    }
  }

 private:
  uint64_t cards_;
  KeyWindow window_;
};

// ---- declines-then-charge ---------------------------------------------------

constexpr int64_t kDeclineWindowMs = 10 * kMinute;
constexpr uint64_t kMinDeclines = 3;
constexpr int64_t kChargeCents = 100'000;  // 1000.00
constexpr uint64_t kMaxPlantedDeclines = 5;

class DeclinesThenCharge final : public Scripted {
 public:
  explicit DeclinesThenCharge(const WorkloadOptions& options)
      : Scripted(options, AuthFields(), kAuthFormats, "Auth", kAuthMaxGapMs),
        cards_(options.keys == 0 ? kDefaultCards : options.keys),
        declines_(kDeclineWindowMs) {}

 protected:
  void Ordinary(uint64_t room, Event& event) override {
    const uint64_t card = rng_.Below(cards_);
    event.key = card;
    const uint64_t roll = rng_.Below(1000);
    const std::string_view merchant = kMerchants[rng_.Below(kMerchants.size())];
    if (roll < 10) {
      // A large purchase, 1000.00..3000.00, approved; on a card with three
      // or more declines in the last 10 minutes it stays below 1000.00.
      int64_t cents = rng_.Between(kChargeCents, 3 * kChargeCents);
      declines_.Expire(event.ts);
      if (declines_.Count(card) >= kMinDeclines) {
        cents = rng_.Between(90'000, kChargeCents - 1);
      }
      SetAuth(event, CardText(card, false), cents, merchant, kResults[0]);
      return;
    }
    const int64_t cents = OrdinaryCents(rng_);
    const std::string_view result = OrdinaryResult(rng_);
    SetAuth(event, CardText(card, false), cents, merchant, result);
    // Three declines in ten are retried one to three times, 5..60 s apart.
    if (result == kResults[1] && room >= 3 && rng_.Below(10) < 3) {
      Event retry = event;
      const int64_t retries = rng_.Between(1, 3);
      for (int64_t retry_idx = 0; retry_idx < retries; ++retry_idx) {
        retry.ts += rng_.Between(5'000, 60'000);
        Schedule(retry);
      }
    }
  }

  void Plant(int64_t ts, uint64_t room) override {
    if (!(rng_.Unit() < options().fraud_rate) ||
        room < kMaxPlantedDeclines + 1) {
      return;
    }
    const uint64_t fraud_idx = frauds_++;
    const int64_t declines =
        rng_.Between(kMinDeclines, static_cast<int64_t>(kMaxPlantedDeclines));
    const int64_t cents = rng_.Between(kChargeCents, 5 * kChargeCents);
    const std::string_view merchant = kMerchants[rng_.Below(kMerchants.size())];
    Event event;
    event.ts = ts;
    // Declines 5..60 s apart, the charge 30..240 s after the last: at most
    // 8 minutes from the first decline.
    for (int64_t decline_idx = 0; decline_idx < declines; ++decline_idx) {
      event.ts += rng_.Between(5'000, 60'000);
      SetAuth(event, CardText(fraud_idx, true), cents, merchant, kResults[1]);
      Schedule(event);
    }
    event.ts += rng_.Between(30'000, 240'000);
    SetAuth(event, CardText(fraud_idx, true), cents, merchant, kResults[0]);
    Schedule(event);
  }

  void Emitted(const Event& event) override {
    if (event.key == kPlantedKey || event.slots[3].text != kResults[1]) return;
    declines_.Expire(event.ts);
    declines_.Add(event.ts, event.key);
  }

 private:
  uint64_t cards_;
  KeyWindow declines_;  // declines of ordinary cards
};

// ---- impossible-travel ------------------------------------------------------

struct City {
  std::string_view name;
  int64_t lat_e4;  // degrees * 10^4
  int64_t lon_e4;
};

constexpr std::array<City, 16> kCities = {{
    {"New York", 407128, -740060},
    {"Toronto", 436532, -793832},
    {"Chicago", 418781, -876298},
    {"Los Angeles", 340522, -1182437},
    {"London", 515074, -1278},
    {"Paris", 488566, 23522},
    {"Amsterdam", 523676, 49041},
    {"Frankfurt", 501109, 86821},
    {"Berlin", 525200, 134050},
    {"Warsaw", 522297, 210122},
    {"Madrid", 404168, -37038},
    {"Rome", 419028, 124964},
    {"Istanbul", 410082, 289784},
    {"Dubai", 252048, 552708},
    {"Singapore", 13521, 1038198},
    {"Tokyo", 356762, 1396503},
}};

// Great-circle distances between kCities in km, rounded (haversine, Earth
// radius 6371 km, as distance_km). A table, not std::sin, so that every
// platform makes the same choices.
constexpr std::array<std::array<int64_t, 16>, 16> kDistanceKm = {{
    {0, 550, 1144, 3936, 5570, 5837, 5863, 6203, 6385, 6854, 5768, 6890, 8070,
     11008, 15332, 10852},
    {550, 0, 701, 3494, 5712, 6001, 5982, 6333, 6476, 6921, 6036, 7081, 8193,
     11071, 15001, 10352},
    {1144, 701, 0, 2804, 6353, 6651, 6609, 6964, 7083, 7511, 6725, 7740, 8813,
     11637, 15072, 10141},
    {3936, 3494, 2804, 0, 8756, 9086, 8940, 9303, 9310, 9637, 9363, 10189,
     11020, 13391, 14121, 8819},
    {5570, 5712, 6353, 8756, 0, 344, 358, 638, 932, 1449, 1263, 1434, 2501,
     5473, 10848, 9559},
    {5837, 6001, 6651, 9086, 344, 0, 430, 478, 877, 1367, 1053, 1105, 2256,
     5247, 10729, 9712},
    {5863, 5982, 6609, 8940, 358, 430, 0, 363, 576, 1093, 1481, 1296, 2212,
     5159, 10492, 9288},
    {6203, 6333, 6964, 9303, 638, 478, 363, 0, 424, 890, 1446, 959, 1867, 4836,
     10258, 9331},
    {6385, 6476, 7083, 9310, 932, 877, 576, 424, 0, 517, 1869, 1183, 1738, 4624,
     9916, 8916},
    {6854, 6921, 7511, 9637, 1449, 1367, 1093, 890, 517, 0, 2290, 1315, 1386,
     4156, 9399, 8578},
    {5768, 6036, 6725, 9363, 1263, 1053, 1481, 1446, 1869, 2290, 0, 1364, 2739,
     5656, 11381, 10762},
    {6890, 7081, 7740, 10189, 1434, 1105, 1296, 959, 1183, 1315, 1364, 0, 1375,
     4321, 10017, 9852},
    {8070, 8193, 8813, 11020, 2501, 2256, 2212, 1867, 1738, 1386, 2739, 1375, 0,
     2994, 8642, 8943},
    {11008, 11071, 11637, 13391, 5473, 5247, 5159, 4836, 4624, 4156, 5656, 4321,
     2994, 0, 5837, 7930},
    {15332, 15001, 15072, 14121, 10848, 10729, 10492, 10258, 9916, 9399, 11381,
     10017, 8642, 5837, 0, 5311},
    {10852, 10352, 10141, 8819, 9559, 9712, 9288, 9331, 8916, 8578, 10762, 9852,
     8943, 7930, 5311, 0},
}};

const std::vector<FieldDef>& LoginFields() {
  static const std::vector<FieldDef>* const fields =
      new std::vector<FieldDef>{{"user", FieldType::kString},
                                {"city", FieldType::kString},
                                {"lat", FieldType::kDouble},
                                {"lon", FieldType::kDouble},
                                {"ts", FieldType::kTimestamp}};
  return *fields;
}
constexpr std::array<Format, 4> kLoginFormats = {
    Format::kString, Format::kString, Format::kE4, Format::kE4};

// Gaps between ordinary logins: 0..1000 ms, mean 0.5 s.
constexpr int64_t kLoginMaxGapMs = 1'000;
// Ordinary users move only at up to 900 km/h: a hop of D km takes at least
// D * 4000 ms.
constexpr int64_t kMsPerKmOrdinary = 4'000;
// Planted hops are at least kMinImpossibleKm long and take at most D * 1000
// ms: 3600 km/h or more.
constexpr int64_t kMinImpossibleKm = 1'500;
// Users have a state each: at most this many.
constexpr uint64_t kMaxTravelUsers = 1'000'000;

void SetLogin(Event& event, std::string user, size_t city) {
  event.slots[0].text = std::move(user);
  event.slots[1].text = kCities[city].name;
  event.slots[2].number = kCities[city].lat_e4;
  event.slots[3].number = kCities[city].lon_e4;
}

class ImpossibleTravel final : public Scripted {
 public:
  explicit ImpossibleTravel(const WorkloadOptions& options)
      : Scripted(options, LoginFields(), kLoginFormats, "Login",
                 kLoginMaxGapMs),
        users_(options.keys == 0 ? kDefaultUsers : options.keys),
        city_(users_, -1),
        last_ts_(users_, 0) {}

  static constexpr uint64_t kDefaultUsers = 10'000;

 protected:
  void Ordinary(uint64_t /*room*/, Event& event) override {
    const uint64_t user = rng_.Below(users_);
    event.key = user;
    const auto home = static_cast<int8_t>(user % kCities.size());
    int8_t& city = city_[user];
    const bool first = city < 0;
    if (first) city = home;
    // Three logins in twenty try another city (home in one of them): the
    // user moves there if it is at most 900 km/h away from the last login.
    const uint64_t roll = rng_.Below(20);
    if (roll < 3) {
      const auto dest = static_cast<int8_t>(
          roll == 0 ? home : static_cast<int8_t>(rng_.Below(kCities.size())));
      const int64_t km =
          kDistanceKm[static_cast<size_t>(city)][static_cast<size_t>(dest)];
      if (first || km * kMsPerKmOrdinary <= event.ts - last_ts_[user]) {
        city = dest;
      }
    }
    last_ts_[user] = event.ts;
    SetLogin(event, Id("user-", user), static_cast<size_t>(city));
  }

  void Plant(int64_t ts, uint64_t room) override {
    if (!(rng_.Unit() < options().fraud_rate) || room < 4) return;
    const uint64_t fraud_idx = frauds_++;
    const size_t from = rng_.Below(kCities.size());
    size_t to = rng_.Below(kCities.size());
    while (kDistanceKm[from][to] < kMinImpossibleKm) {
      to = (to + 1) % kCities.size();
    }
    const std::string user = Id("user-x", fraud_idx);
    Event event;
    event.ts = ts + rng_.Between(1'000, 60'000);
    SetLogin(event, user, from);
    Schedule(event);
    // Zero to two more logins from the same city, 1 to 10 minutes apart.
    const int64_t stays = rng_.Between(0, 2);
    for (int64_t stay_idx = 0; stay_idx < stays; ++stay_idx) {
      event.ts += rng_.Between(kMinute, 10 * kMinute);
      Schedule(event);
    }
    event.ts += rng_.Between(kMinute, kDistanceKm[from][to] * 1'000);
    SetLogin(event, user, to);
    Schedule(event);
  }

 private:
  uint64_t users_;
  std::vector<int8_t> city_;  // the city of each user's last login, or -1
  std::vector<int64_t> last_ts_;
};

// ---- account-takeover -------------------------------------------------------

const std::vector<FieldDef>& AccountFields() {
  static const std::vector<FieldDef>* const fields = new std::vector<FieldDef>{
      {"type", FieldType::kString},     {"account", FieldType::kString},
      {"channel", FieldType::kString},  {"device", FieldType::kString},
      {"new_device", FieldType::kBool}, {"method", FieldType::kString},
      {"amount", FieldType::kDouble},   {"iban", FieldType::kString},
      {"ts", FieldType::kTimestamp}};
  return *fields;
}
constexpr std::array<Format, 8> kAccountFormats = {
    Format::kString, Format::kString, Format::kString, Format::kString,
    Format::kBool,   Format::kString, Format::kCents,  Format::kString};

constexpr int64_t kAccountMaxGapMs = 500;
constexpr uint64_t kMinAccounts = 1'000;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kPayoutCents = 100'000;  // 1000.00
constexpr std::array<std::string_view, 2> kChannels = {"email", "sms"};
constexpr std::array<std::string_view, 4> kKnownDevices = {"iphone", "android",
                                                           "laptop", "tablet"};
constexpr std::array<std::string_view, 4> kNewDevices = {
    "android-new", "windows-pc", "mac-new", "linux-pc"};
constexpr std::array<std::string_view, 3> kMfaMethods = {"sms", "totp", "push"};
constexpr std::array<std::string_view, 4> kIbans = {
    "DE89370400440532013000", "GB33BUKB20201555555555",
    "FR1420041010050500013M02606", "NL91ABNA0417164300"};

// Sets the type and account and clears the other members.
void SetAccountEvent(Event& event, std::string_view type, std::string account) {
  for (Slot& slot : event.slots) {
    slot.text.clear();
    slot.number = 0;
  }
  event.slots[0].text = type;
  event.slots[1].text = std::move(account);
}

class AccountTakeover final : public Scripted {
 public:
  explicit AccountTakeover(const WorkloadOptions& options)
      : Scripted(options, AccountFields(), kAccountFormats, "",
                 kAccountMaxGapMs),
        accounts_(options.keys == 0 ? kDefaultCards : options.keys) {}

 protected:
  void Ordinary(uint64_t room, Event& event) override {
    // An account waiting for the MFA check of its reset makes no event
    // until then (at most a few hundred wait at once: CheckAccountTakeover
    // wants 1000 accounts).
    uint64_t account = rng_.Below(accounts_);
    while (awaiting_mfa_.contains(account)) account = (account + 1) % accounts_;
    event.key = account;
    const std::string id = Id("acct-", account);
    const uint64_t roll = rng_.Below(100);
    if (roll < 5 && room >= 1) {
      // A password reset, always followed by an MFA check of the account
      // 5 s to 2 min later, before any other event of the account.
      SetAccountEvent(event, "PasswordReset", id);
      event.slots[2].text = kChannels[rng_.Below(kChannels.size())];
      Event mfa;
      mfa.key = account;
      mfa.ts = event.ts + rng_.Between(5'000, 120'000);
      SetAccountEvent(mfa, "MfaCheck", id);
      mfa.slots[5].text = kMfaMethods[rng_.Below(kMfaMethods.size())];
      Schedule(std::move(mfa));
      awaiting_mfa_.insert(account);
    } else if (roll < 65) {
      SetAccountEvent(event, "Login", id);
      const bool fresh = rng_.Below(100) < 3;
      event.slots[3].text = fresh
                                ? kNewDevices[rng_.Below(kNewDevices.size())]
                                : kKnownDevices[account % kKnownDevices.size()];
      event.slots[4].number = fresh ? 1 : 0;
    } else if (roll < 77) {
      SetAccountEvent(event, "MfaCheck", id);
      event.slots[5].text = kMfaMethods[rng_.Below(kMfaMethods.size())];
    } else {
      SetAccountEvent(event, "Payout", id);
      event.slots[6].number = rng_.Below(5) == 0
                                  ? rng_.Between(kPayoutCents, 5 * kPayoutCents)
                                  : OrdinaryCents(rng_);
      event.slots[7].text = kIbans[rng_.Below(kIbans.size())];
    }
  }

  void Plant(int64_t ts, uint64_t room) override {
    // A takeover: reset, a login from a new device 1 to 50 minutes later,
    // a payout of 1000.00 to 10000.00 10 minutes to 12 hours after that.
    if (rng_.Unit() < options().fraud_rate && room >= 3) {
      PlantChain(ts, Id("acct-x", frauds_++), /*thwarted=*/false);
      room -= 3;
    }
    // A thwarted one on another fresh account: the same with an MFA check
    // between the login and the payout.
    if (rng_.Unit() < options().fraud_rate && room >= 4) {
      PlantChain(ts, Id("acct-d", thwarted_++), /*thwarted=*/true);
    }
  }

  void Emitted(const Event& event) override {
    if (event.key != kPlantedKey && event.slots[0].text == "MfaCheck") {
      awaiting_mfa_.erase(event.key);
    }
  }

 private:
  void PlantChain(int64_t ts, const std::string& account, bool thwarted) {
    Event event;
    event.ts = ts + rng_.Between(1'000, 60'000);
    SetAccountEvent(event, "PasswordReset", account);
    event.slots[2].text = kChannels[rng_.Below(kChannels.size())];
    Schedule(event);
    event.ts += rng_.Between(kMinute, 50 * kMinute);
    SetAccountEvent(event, "Login", account);
    event.slots[3].text = kNewDevices[rng_.Below(kNewDevices.size())];
    event.slots[4].number = 1;
    Schedule(event);
    const int64_t payout_ts = event.ts + rng_.Between(10 * kMinute, 12 * kHour);
    if (thwarted) {
      event.ts += rng_.Between(10'000, 5 * kMinute);
      SetAccountEvent(event, "MfaCheck", account);
      event.slots[5].text = kMfaMethods[rng_.Below(kMfaMethods.size())];
      Schedule(event);
    }
    event.ts = std::max(event.ts, payout_ts);
    SetAccountEvent(event, "Payout", account);
    event.slots[6].number = rng_.Between(kPayoutCents, 10 * kPayoutCents);
    event.slots[7].text = kIbans[rng_.Below(kIbans.size())];
    Schedule(event);
  }

  uint64_t accounts_;
  uint64_t thwarted_ = 0;
  std::unordered_set<uint64_t> awaiting_mfa_;
};

// ---- abandoned-challenge ----------------------------------------------------

const std::vector<FieldDef>& SessionFields() {
  static const std::vector<FieldDef>* const fields = new std::vector<FieldDef>{
      {"type", FieldType::kString},   {"session", FieldType::kString},
      {"score", FieldType::kInt},     {"reason", FieldType::kString},
      {"method", FieldType::kString}, {"ts", FieldType::kTimestamp}};
  return *fields;
}
constexpr std::array<Format, 5> kSessionFormats = {
    Format::kString, Format::kString, Format::kInt, Format::kString,
    Format::kString};

constexpr int64_t kSessionMaxGapMs = 400;
constexpr int64_t kHighRisk = 70;
constexpr std::array<std::string_view, 5> kReasons = {
    "new device", "tor exit node", "impossible travel", "credential stuffing",
    "new merchant"};
constexpr std::array<std::string_view, 3> kChallengeMethods = {"sms", "3ds",
                                                               "email"};

void SetSessionEvent(Event& event, std::string_view type, std::string session) {
  for (Slot& slot : event.slots) {
    slot.text.clear();
    slot.number = 0;
  }
  event.slots[0].text = type;
  event.slots[1].text = std::move(session);
}

class AbandonedChallenge final : public Scripted {
 public:
  explicit AbandonedChallenge(const WorkloadOptions& options)
      : Scripted(options, SessionFields(), kSessionFormats, "",
                 kSessionMaxGapMs) {}

 protected:
  // Every ordinary event starts a new session with a RiskFlag; its
  // challenge and pass (if any) follow.
  void Ordinary(uint64_t room, Event& event) override {
    const std::string session = Id("sess-", sessions_++);
    SetSessionEvent(event, "RiskFlag", session);
    const int64_t score = rng_.Between(0, 100);
    event.slots[2].number = score;
    event.slots[3].text = kReasons[rng_.Below(kReasons.size())];
    const uint64_t roll = rng_.Below(100);
    const std::string_view method =
        kChallengeMethods[rng_.Below(kChallengeMethods.size())];
    Event next;
    SetSessionEvent(next, "ChallengeIssued", session);
    next.slots[4].text = method;
    next.ts = event.ts + rng_.Between(1'000, 30'000);
    if (score >= kHighRisk) {
      // 80%: challenged and passed within 230 s of the flag; 10%: never
      // challenged; 10%: challenged only 320 to 600 s after the flag.
      if (roll < 80 && room >= 2) {
        Schedule(next);
        next.ts += rng_.Between(5'000, 200'000);
        next.slots[0].text = "ChallengePassed";
        Schedule(std::move(next));
      } else if (roll >= 90 && room >= 1) {
        next.ts = event.ts + rng_.Between(320'000, 600'000);
        Schedule(std::move(next));
      }
      return;
    }
    // Low risk: half are challenged anyway, and half of those walk away.
    if (roll < 50 && room >= 1) {
      Schedule(next);
      if (roll < 25 && room >= 2) {
        next.ts += rng_.Between(5'000, 200'000);
        next.slots[0].text = "ChallengePassed";
        Schedule(std::move(next));
      }
    }
  }

  // An abandoned challenge: a high-risk flag, a challenge 1 to 30 s later,
  // and no pass, or (half of them) a pass 330 to 900 s after the flag.
  void Plant(int64_t ts, uint64_t room) override {
    if (!(rng_.Unit() < options().fraud_rate) || room < 3) return;
    const std::string session = Id("sess-x", frauds_++);
    Event event;
    SetSessionEvent(event, "RiskFlag", session);
    event.ts = ts + rng_.Between(1, 1'000);
    event.slots[2].number = rng_.Between(kHighRisk, 100);
    event.slots[3].text = kReasons[rng_.Below(kReasons.size())];
    const int64_t flag_ts = event.ts;
    Schedule(event);
    const std::string_view method =
        kChallengeMethods[rng_.Below(kChallengeMethods.size())];
    SetSessionEvent(event, "ChallengeIssued", session);
    event.slots[4].text = method;
    event.ts += rng_.Between(1'000, 30'000);
    Schedule(event);
    if (rng_.Below(2) == 0) {
      event.slots[0].text = "ChallengePassed";
      event.ts = flag_ts + rng_.Between(330'000, 900'000);
      Schedule(std::move(event));
    }
  }

 private:
  uint64_t sessions_ = 0;
};

absl::Status CheckFraudRate(const WorkloadOptions& options) {
  if (!(options.fraud_rate >= 0 && options.fraud_rate <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "fraud-rate: ", options.fraud_rate, " is not between 0 and 1"));
  }
  return absl::OkStatus();
}

absl::Status CheckKeys(const WorkloadOptions& options, uint64_t min,
                       uint64_t max, const char* what, const char* workload) {
  if (options.keys != 0 && options.keys < min) {
    return absl::InvalidArgumentError(
        absl::StrCat("keys: ", options.keys, " is fewer than the ", min, " ",
                     what, " ", workload, " needs"));
  }
  if (options.keys > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("keys: ", options.keys, " is more than the ", max, " ",
                     what, " ", workload, " can number"));
  }
  return CheckFraudRate(options);
}

}  // namespace

absl::Status CheckVelocity(const WorkloadOptions& options) {
  return CheckKeys(options, kMinAccounts, kMaxCards, "cards", "velocity");
}
absl::Status CheckDeclinesThenCharge(const WorkloadOptions& options) {
  return CheckKeys(options, 1, kMaxCards, "cards", "declines-then-charge");
}
absl::Status CheckImpossibleTravel(const WorkloadOptions& options) {
  return CheckKeys(options, 1, kMaxTravelUsers, "users", "impossible-travel");
}
absl::Status CheckAccountTakeover(const WorkloadOptions& options) {
  return CheckKeys(options, kMinAccounts, kMaxCards, "accounts",
                   "account-takeover");
}
absl::Status CheckAbandonedChallenge(const WorkloadOptions& options) {
  return CheckFraudRate(options);
}

std::unique_ptr<WorkloadGenerator> MakeVelocity(
    const WorkloadOptions& options) {
  return std::make_unique<Velocity>(options);
}
std::unique_ptr<WorkloadGenerator> MakeDeclinesThenCharge(
    const WorkloadOptions& options) {
  return std::make_unique<DeclinesThenCharge>(options);
}
std::unique_ptr<WorkloadGenerator> MakeImpossibleTravel(
    const WorkloadOptions& options) {
  return std::make_unique<ImpossibleTravel>(options);
}
std::unique_ptr<WorkloadGenerator> MakeAccountTakeover(
    const WorkloadOptions& options) {
  return std::make_unique<AccountTakeover>(options);
}
std::unique_ptr<WorkloadGenerator> MakeAbandonedChallenge(
    const WorkloadOptions& options) {
  return std::make_unique<AbandonedChallenge>(options);
}

}  // namespace cep::workload_internal
