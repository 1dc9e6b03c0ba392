// The patterns of a run, compiled: what the outputs (pattern names, "type"
// in events), the checkpoints (structure hashes) and the runtime share.
// Internal to src/run/: not installed, not under include/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <variant>

#include "absl/hash/hash.h"

#include "cep/codec.hpp"
#include "cep/dsl.hpp"
#include "cep/evaluator.hpp"
#include "cep/event.hpp"
#include "cep/nfa.hpp"
#include "cep/rocksdb_state.hpp"

namespace cep::run {

// 64-bit FNV-1a, stable across builds and platforms (structure hashes,
// match ids).
inline constexpr uint64_t kFnvOffset = 14695981039346656037ull;
inline uint64_t Fnv1a(uint64_t hash, std::string_view bytes) {
  for (const char c : bytes) {
    hash ^= static_cast<uint8_t>(c);
    hash *= 1099511628211ull;
  }
  return hash;
}

// One pattern of the file, compiled. Not movable: the runtime points at the
// NFA.
struct CompiledPattern {
  const FilePattern* file_pattern;
  Nfa<Record> nfa;
  bool with_types;  // events carry "type" in the output
};

// What makes two versions of a pattern the same for its state: its name,
// key field and compiled automaton (states, transitions, conditions,
// windows). Durable state hashes it, with the event types, into the
// namespace NAME@HASH (checkpoint.hpp).
inline std::string StructureText(const CompiledPattern& pattern) {
  return std::string("pattern ") + pattern.file_pattern->name + " key " +
         pattern.file_pattern->key_field + "\n" + pattern.nfa.ToString();
}

// How a run routes events to workers (RuntimePattern::key_hash): by a hash
// of the key (in memory), or, with durable state and several workers, by
// the key group of its encoding (RocksDbStore::KeyGroup; KeyGroupWorker),
// so that every worker's state is a range of key groups, whatever the
// number of workers that wrote it.
enum class KeyRouting : uint8_t { kHash, kKeyGroup };

// A hash of `bytes` for routing, eight bytes at a time, each step
// multiplied and shifted (splitmix64's constants), so that the high bits
// (Runtime::WorkerOfHash) depend on every byte: a short key in a few
// nanoseconds, a third of what absl::Hash takes for a card number.
inline uint64_t RouteHashOfBytes(std::string_view bytes) {
  uint64_t hash = 0x9E3779B97F4A7C15ull ^ bytes.size();
  auto mix = [&hash](uint64_t word) {
    hash = (hash ^ word) * 0xBF58476D1CE4E5B9ull;
    hash ^= hash >> 31;
  };
  size_t pos = 0;
  for (; pos + sizeof(uint64_t) <= bytes.size(); pos += sizeof(uint64_t)) {
    uint64_t word = 0;
    std::memcpy(&word, bytes.data() + pos, sizeof(word));
    mix(word);
  }
  uint64_t tail = 0;
  std::memcpy(&tail, bytes.data() + pos, bytes.size() - pos);
  mix(tail);
  hash = (hash ^ (hash >> 32)) * 0x94D049BB133111EBull;
  return hash ^ (hash >> 29);
}

// The route hash of a string key given by its bytes: what RouteHashOfKey
// gives for a Value holding that string, without building it (the reading
// thread of `cep run --parallelism N` hashes a view into the line).
inline uint64_t KeyGroupRouteHashOfString(std::string_view key) {
  // As ValueCodec encodes a string: tag 4, the length as a varint, the
  // bytes.
  thread_local std::string encoded;
  encoded.clear();
  encoded.push_back(4);
  internal::PutLengthPrefixed(encoded, key);
  return KeyGroupRouteHash(RocksDbStore::KeyGroup(encoded));
}
inline uint64_t RouteHashOfStringKey(KeyRouting routing, std::string_view key) {
  if (routing == KeyRouting::kHash) return RouteHashOfBytes(key);
  return KeyGroupRouteHashOfString(key);
}

// The route hash of `key`. Stable within a process only (absl::Hash for
// keys other than strings).
inline uint64_t RouteHashOfKey(KeyRouting routing, const Value& key) {
  if (const auto* text = std::get_if<std::string>(&key)) {
    return RouteHashOfStringKey(routing, *text);
  }
  if (routing == KeyRouting::kHash) return absl::Hash<Value>{}(key);
  thread_local std::string encoded;
  encoded.clear();
  static const ValueCodec codec;
  codec.Encode(key, encoded);
  return KeyGroupRouteHash(RocksDbStore::KeyGroup(encoded));
}

// The route hash of pattern.KeyOf(record), hashed in place: routing an
// event to a worker copies no key.
inline std::function<uint64_t(const Record&)> RouteHashOf(
    const FilePattern& pattern, KeyRouting routing) {
  return [&pattern, routing](const Record& record) -> uint64_t {
    const int index = pattern.key_index[record.schema().id()];
    if (index < 0) return RouteHashOfKey(routing, Value());
    return RouteHashOfKey(routing, record[static_cast<size_t>(index)]);
  };
}

// In memory: RouteHashOf(pattern, KeyRouting::kHash).
inline std::function<uint64_t(const Record&)> KeyHashOf(
    const FilePattern& pattern) {
  return RouteHashOf(pattern, KeyRouting::kHash);
}

// With durable state and several workers: RouteHashOf(pattern,
// KeyRouting::kKeyGroup).
inline std::function<uint64_t(const Record&)> KeyGroupHashOf(
    const FilePattern& pattern) {
  return RouteHashOf(pattern, KeyRouting::kKeyGroup);
}

// The evaluator options of `pattern`: the run's (`options`), with its
// header's `max partial matches` clause winning (and keeping it per run:
// only runs of their own can be capped); timed-out partial matches are
// built only when some output takes them (`report_timeouts`).
inline EvaluatorOptions EvaluatorFor(const FilePattern& pattern,
                                     EvaluatorOptions options,
                                     bool report_timeouts) {
  if (pattern.max_partial_matches) {
    options.max_partial_matches = *pattern.max_partial_matches;
    options.strategy = EvaluationStrategy::kPerRun;
  }
  if (pattern.overflow_policy)
    options.overflow_policy = *pattern.overflow_policy;
  options.report_timeouts = report_timeouts;
  return options;
}

}  // namespace cep::run
