// cep/internal/dewey_number.hpp — version numbers of partial matches.
//
// Partial matches that share a prefix share shared-buffer nodes; each one is
// told apart by a Dewey number (e.g. 1.0.2), as in SASE and FlinkCEP's
// DeweyNumber: TAKE branches add a stage (append a digit), branching bumps the
// last digit. An edge of the buffer belongs to a partial match when the
// match's version is compatible with the edge's.
#pragma once

#include <cstdint>
#include <string>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_join.h"

namespace cep::internal {

class DeweyNumber {
 public:
  DeweyNumber() = default;
  explicit DeweyNumber(uint32_t start) { digits_.push_back(start); }

  // `*this` is compatible with `other` when `other` is a proper prefix of it,
  // or both have the same length and digits except that this one's last
  // digit is greater or equal.
  bool IsCompatibleWith(const DeweyNumber& other) const {
    size_t n = other.digits_.size();
    if (digits_.size() > n) {
      for (size_t i = 0; i < n; ++i) {
        if (digits_[i] != other.digits_[i]) return false;
      }
      return true;
    }
    if (digits_.size() != n || n == 0) return false;
    for (size_t i = 0; i + 1 < n; ++i) {
      if (digits_[i] != other.digits_[i]) return false;
    }
    return digits_[n - 1] >= other.digits_[n - 1];
  }

  // A copy with the last digit increased by `times`.
  DeweyNumber Increase(uint32_t times) const {
    DeweyNumber copy = *this;
    copy.digits_.back() += times;
    return copy;
  }

  // A copy with a new stage (digit 0) appended.
  DeweyNumber AddStage() const {
    DeweyNumber copy = *this;
    copy.digits_.push_back(0);
    return copy;
  }

  size_t length() const { return digits_.size(); }
  uint32_t digit(size_t i) const { return digits_[i]; }
  // Appends a digit (builds a version digit by digit).
  void Append(uint32_t digit) { digits_.push_back(digit); }

  std::string ToString() const { return absl::StrJoin(digits_, "."); }

  // Hash of the first `n` digits: MixHash folded over them from 0.
  uint64_t PrefixHash(size_t n) const {
    uint64_t h = 0;
    for (size_t i = 0; i < n; ++i) h = MixHash(h, digits_[i]);
    return h;
  }
  static uint64_t MixHash(uint64_t h, uint32_t digit) {
    return (h ^ (digit + 0x9e3779b97f4a7c15ULL)) * 0xff51afd7ed558ccdULL;
  }

  friend bool operator==(const DeweyNumber&, const DeweyNumber&) = default;

 private:
  absl::InlinedVector<uint32_t, 6> digits_;
};

}  // namespace cep::internal
