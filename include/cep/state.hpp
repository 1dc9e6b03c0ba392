// cep/state.hpp — where keys' states live: the StateBackend interface and
// the in-memory backend.
//
// A KeyedMatcher (matcher.hpp) asks the backend for a key's KeyState, lets
// the Evaluator advance it, and hands it back with Put(). The interface is
// made for stores that serialize: Get() may decode into a buffer it owns and
// Put() may encode and batch the write until Commit(). The in-memory backend
// keeps states as they are, so Put() and Commit() cost nothing.
//
// Example:
//   cep::InMemoryStateBackend<Txn, std::string> backend;
//   CEP_ASSIGN_OR_RETURN(cep::KeyState<Txn>* state, backend.Get("card-42"));
//   ... evaluator.Process(*state, ...) ...
//   CEP_RETURN_IF_ERROR(backend.Put("card-42", *state));
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "cep/key_state.hpp"

namespace cep {

template <typename Event, typename Key>
class StateBackend {
 public:
  virtual ~StateBackend() = default;

  // The state of `key`; an empty state (a fresh key) when none is stored.
  // The pointer stays valid until the next call on this backend.
  // Errors: kUnavailable (I/O), kDataLoss (a stored state does not decode).
  [[nodiscard]] virtual absl::StatusOr<KeyState<Event>*> Get(
      const Key& key) = 0;

  // Records that `state`, obtained from Get(key), changed. A serializing
  // backend writes it now or at Commit().
  [[nodiscard]] virtual absl::Status Put(const Key& key,
                                         KeyState<Event>& state) = 0;

  // Removes the state of `key` (nothing happens when there is none).
  [[nodiscard]] virtual absl::Status Erase(const Key& key) = 0;

  // Makes every Put() so far durable.
  [[nodiscard]] virtual absl::Status Commit() = 0;

  // Calls `fn` for every stored key; stops at the first error and returns it.
  // `fn` must not call other methods of this backend.
  [[nodiscard]] virtual absl::Status ForEach(
      absl::FunctionRef<absl::Status(const Key&, KeyState<Event>&)> fn) = 0;

  // Number of keys with stored state.
  virtual size_t key_count() const = 0;
};

// Keeps the states of keys with partial matches in memory: a hash map from
// key to a slot of a vector of states, so that the map's entries stay small
// and a lookup touches few cache lines. A key without state gets a scratch
// state, stored only if Put() finds it live: keys whose events start
// nothing cost no memory (a key stored once stays until Erase(), idle or
// not). Not thread-safe.
template <typename Event, typename Key>
class InMemoryStateBackend final : public StateBackend<Event, Key> {
 public:
  [[nodiscard]] absl::StatusOr<KeyState<Event>*> Get(const Key& key) override {
    if (auto it = slots_.find(key); it != slots_.end()) {
      return &states_[it->second];
    }
    scratch_ = KeyState<Event>();
    return &scratch_;
  }
  [[nodiscard]] absl::Status Put(const Key& key,
                                 KeyState<Event>& state) override {
    if (&state != &scratch_ || state.IsIdle()) return absl::OkStatus();
    slots_.emplace(key, static_cast<uint32_t>(states_.size()));
    states_.push_back(std::move(scratch_));
    keys_.push_back(key);
    return absl::OkStatus();
  }
  [[nodiscard]] absl::Status Erase(const Key& key) override {
    auto it = slots_.find(key);
    if (it == slots_.end()) return absl::OkStatus();
    // Move the last state into the freed slot.
    uint32_t slot = it->second;
    slots_.erase(it);
    if (slot + 1 != states_.size()) {
      states_[slot] = std::move(states_.back());
      keys_[slot] = std::move(keys_.back());
      slots_[keys_[slot]] = slot;
    }
    states_.pop_back();
    keys_.pop_back();
    return absl::OkStatus();
  }
  [[nodiscard]] absl::Status Commit() override { return absl::OkStatus(); }
  [[nodiscard]] absl::Status ForEach(
      absl::FunctionRef<absl::Status(const Key&, KeyState<Event>&)> fn)
      override {
    for (size_t i = 0; i < states_.size(); ++i) {
      if (absl::Status s = fn(keys_[i], states_[i]); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
  size_t key_count() const override { return states_.size(); }

 private:
  absl::flat_hash_map<Key, uint32_t> slots_;
  std::vector<KeyState<Event>> states_;
  std::vector<Key> keys_;    // keys_[i] owns states_[i]
  KeyState<Event> scratch_;  // what Get() gave a key without state
};

}  // namespace cep
