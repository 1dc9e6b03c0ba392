// Internal pieces shared by the workload generators (src/workload/): the
// seeded random generator, line formatting and the card numbering of
// card-testing. Not part of the public API (include/cep/workload.hpp).
#pragma once

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cep/event.hpp"

namespace cep::workload_internal {

// The fields of the Auth events of card-testing, skewed, velocity and
// declines-then-charge, in output order.
inline const std::vector<FieldDef>& AuthFields() {
  static const std::vector<FieldDef>* const fields =
      new std::vector<FieldDef>{{"card", FieldType::kString},
                                {"amount", FieldType::kDouble},
                                {"merchant", FieldType::kString},
                                {"result", FieldType::kString},
                                {"ts", FieldType::kTimestamp}};
  return *fields;
}

// splitmix64 (Steele, Lea, Flood 2014): expands the seed into the state of
// xoshiro256** (Blackman, Vigna 2018).
inline uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (uint64_t& word : s_) word = SplitMix64(seed);
  }

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, n) by multiply-shift (Lemire); the bias is below 2^-40
  // for the ranges used here, and the result is the same everywhere.
  uint64_t Below(uint64_t n) {
    __extension__ using Uint128 = unsigned __int128;
    return static_cast<uint64_t>((static_cast<Uint128>(Next()) * n) >> 64);
  }
  // Uniform in [lo, hi].
  int64_t Between(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo) + 1));
  }
  // Uniform in [0, 1) with 53 bits.
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<uint64_t, 4> s_{};
};

// ---- formatting -------------------------------------------------------------

inline void AppendInt(std::string& out, int64_t value) {
  char buffer[24];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out.append(buffer, end);
}

// `value` / 10^places as a decimal with `places` places: (1234, 2) ->
// "12.34", (-740060, 4) -> "-74.0060".
inline void AppendFixed(std::string& out, int64_t value, int places) {
  if (value < 0) {
    out.push_back('-');
    value = -value;
  }
  int64_t scale = 1;
  for (int place = 0; place < places; ++place) scale *= 10;
  AppendInt(out, value / scale);
  out.push_back('.');
  int64_t rest = value % scale;
  for (int place = 0; place < places; ++place) {
    scale /= 10;
    out.push_back(static_cast<char>('0' + rest / scale));
    rest %= scale;
  }
}

// `cents` as a decimal with two places: 1234 -> "12.34".
inline void AppendCents(std::string& out, int64_t cents) {
  AppendFixed(out, cents, 2);
}

// Writes `value` as `width` decimal digits, zero-padded, ending before `end`.
inline void PutDigits(char* end, uint64_t value, int width) {
  for (int digit_idx = 0; digit_idx < width; ++digit_idx) {
    *--end = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// "4000-GGGG-DDDD-DDDD" for ordinary card `index` (< 9e7: the third group
// never starts with 9), "4000-GGGG-9DDD-DDDD" for planted fraud `index`.
// Fraud and ordinary cards never share a number.
inline std::array<char, 19> CardNumber(uint64_t index, bool fraud) {
  std::array<char, 19> card = {'4', '0', '0', '0', '-', '0', '0', '0', '0', '-',
                               '0', '0', '0', '0', '-', '0', '0', '0', '0'};
  const uint64_t low = fraud ? index % 10'000'000 : index % 100'000'000;
  const uint64_t group = fraud ? index / 10'000'000 : 0;
  PutDigits(card.data() + 9, group, 4);
  PutDigits(card.data() + 19, low % 10'000, 4);
  PutDigits(card.data() + 14, low / 10'000, 4);
  if (fraud) card[10] = '9';
  return card;
}

// ---- card traffic -----------------------------------------------------------

inline constexpr std::array<std::string_view, 8> kMerchants = {
    "grocery", "fuel",   "coffee",     "pharmacy",
    "travel",  "online", "restaurant", "electronics"};
inline constexpr std::array<std::string_view, 3> kResults = {
    "approved", "declined", "refund"};

// Start of every stream: 2025-12-01T00:00:00Z.
inline constexpr int64_t kEpochMs = 1'764'547'200'000;
inline constexpr uint64_t kDefaultCards = 10'000;
// Ordinary card indexes stay below this (see CardNumber).
inline constexpr uint64_t kMaxCards = 90'000'000;

// Ordinary amounts: kAmountSteps + 1 log-spaced cent amounts from 5.00 to
// 500.00. Built with sqrt and multiplication only, which IEEE 754 rounds
// exactly, so the table is the same everywhere (std::exp and std::pow are
// not).
inline constexpr size_t kAmountSteps = 4096;

inline const std::array<int64_t, kAmountSteps + 1>& AmountCents() {
  static const auto* const table = [] {
    double ratio = 100.0;  // ratio^4096 == 100
    for (int halving = 0; halving < 12; ++halving) ratio = std::sqrt(ratio);
    auto* cents = new std::array<int64_t, kAmountSteps + 1>();
    double amount = 500.0;
    for (size_t step_idx = 0; step_idx <= kAmountSteps; ++step_idx) {
      (*cents)[step_idx] =
          std::clamp<int64_t>(static_cast<int64_t>(amount + 0.5), 500, 50'000);
      amount *= ratio;
    }
    return cents;
  }();
  return *table;
}

// An ordinary amount in cents: a triangular exponent over AmountCents(),
// 5.00..500.00, median 50.00. Two draws.
inline int64_t OrdinaryCents(Rng& rng) {
  const uint64_t first = rng.Below(kAmountSteps / 2 + 1);
  return AmountCents()[first + rng.Below(kAmountSteps / 2 + 1)];
}

}  // namespace cep::workload_internal
