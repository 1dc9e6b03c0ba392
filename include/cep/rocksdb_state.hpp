// cep/rocksdb_state.hpp — the RocksDB StateBackend: keys' states on disk,
// hot keys decoded in memory.
//
// Two layers. RocksDbStore is a byte store (compiled in src/state/, no
// RocksDB type in this header): column family "state" maps
// [key group: 2 bytes big-endian][encoded key] to an encoded KeyState, "meta"
// maps names to small values (format version, pattern hash, key count, and
// whatever the runtime needs to commit with the state: input position,
// watermark). Writes gather in one pending batch that Commit() applies
// atomically, with the write-ahead log on. The key group (a stable hash of
// the encoded key, mod kKeyGroups) puts each group in one contiguous key
// range, as Flink's key groups do, so a group can later move between
// workers with one range scan.
//
// RocksDbStateBackend<Event, Key> implements StateBackend over the store with
// a Codec<Key> and a Codec<Event> (codec.hpp, key_state_codec.hpp). An LRU
// cache holds the decoded KeyStates of hot keys, so a hot key costs neither
// a read nor a decode per event. Put() only marks the cached state dirty;
// dirty states are encoded into the pending batch at Commit() or when they
// are evicted. A state that went idle (KeyState::IsIdle()) is deleted rather
// than stored.
//
// Example:
//   cep::RocksDbStateOptions options;
//   options.path = "/var/lib/cep/orders";
//   options.pattern_hash = PatternFingerprint(pattern);
//   cep::StringCodec key_codec;
//   cep::RecordCodec event_codec(schemas);
//   CEP_ASSIGN_OR_RETURN(
//       auto backend, (cep::RocksDbStateBackend<cep::Record,
//       std::string>::Open(
//                         options, key_codec, event_codec)));
//   cep::KeyedMatcher<cep::Record, std::string> matcher(nfa, key_of,
//                                                       *backend);
//   ... matcher.Process(...) per event, backend->Commit() per batch ...
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

#include "cep/codec.hpp"
#include "cep/internal/status_macros.hpp"
#include "cep/key_state.hpp"
#include "cep/key_state_codec.hpp"
#include "cep/state.hpp"

namespace cep {

// Number of key groups. Part of the on-disk format: changing it (or the hash
// of RocksDbStore::KeyGroup) makes existing databases unreadable.
inline constexpr uint32_t kKeyGroups = 128;

// The worker, of `workers`, that owns key group `group` when a run spreads
// the key groups over several: contiguous ranges, as Flink's key-group
// ranges, so that a different number of workers re-divides them.
inline size_t KeyGroupWorker(uint32_t group, size_t workers) {
  return static_cast<size_t>(uint64_t{group} * workers / kKeyGroups);
}
// The first key group KeyGroupWorker() gives to `worker` (the groups of
// `worker` are [KeyGroupStart(worker), KeyGroupStart(worker + 1))).
inline uint32_t KeyGroupStart(size_t worker, size_t workers) {
  return static_cast<uint32_t>((uint64_t{worker} * kKeyGroups + workers - 1) /
                               workers);
}

// A RuntimePattern::key_hash for a key in key group `group`: the runtime
// (Runtime::WorkerOfHash, the hash's high 32 bits scaled to the workers)
// then picks KeyGroupWorker(group, workers).
inline uint64_t KeyGroupRouteHash(uint32_t group) {
  static_assert(kKeyGroups == 128, "the shift is 64 - log2(kKeyGroups)");
  return uint64_t{group} << 57;
}

struct RocksDbStoreOptions {
  // -- Behaviour --

  // Directory of the database. Default: none (required).
  std::string path;
  // Creates the directory and database when missing; otherwise opening a
  // missing database fails with kInvalidArgument. Default: true.
  bool create_if_missing = true;
  // fsync the write-ahead log at every Commit(). Without it a commit
  // survives a crash of the process but not of the machine. Default: false.
  bool sync = false;
  // Collect RocksDB's statistics (BlockCacheStats()), at a small cost per
  // read. Default: false.
  bool statistics = false;

  // -- Performance --

  // RocksDB block cache for the state column family, in bytes (encoded
  // states; the decoded-state cache is RocksDbStateOptions::cache_capacity).
  // Default: 32 MiB.
  size_t block_cache_bytes = size_t{32} << 20;
  // Memtable size per column family, in bytes. Default: 64 MiB.
  size_t write_buffer_bytes = size_t{64} << 20;
};

// A byte store over one RocksDB database with column families "state" and
// "meta" (see the top of this file), or over one namespace of a database
// shared by several (OpenShared). Put, Delete and PutMeta go into one
// pending batch; Get, GetMeta and ForEach see the pending batch over the
// committed data; Commit() applies the batch atomically. Not thread-safe
// (stores that share a database included).
class RocksDbStore {
 public:
  // Opens (or creates) the database at options.path. Errors: kInvalidArgument
  // (no path; missing and !create_if_missing; unknown column families),
  // kUnavailable (I/O, or another process holds the database), kDataLoss
  // (corrupt files). Messages name the path.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<RocksDbStore>> Open(
      const RocksDbStoreOptions& options);

  // One database for the states of several patterns: a store per name, in
  // order, each with its own column family ("state.NAME") and meta names
  // (stored as "NAME/name"). The stores share the database and ONE pending
  // batch, so a Commit() of any of them writes what all of them staged,
  // atomically. `other_namespaces` lists namespaces the database holds
  // that `names` does not (opened, untouched). Stores' path() is
  // "DIR[NAME]". Errors: as Open; kInvalidArgument for an empty name or
  // one with '/'.
  struct Shared {
    std::vector<std::unique_ptr<RocksDbStore>> stores;
    std::vector<std::string> other_namespaces;
  };
  [[nodiscard]] static absl::StatusOr<Shared> OpenShared(
      const RocksDbStoreOptions& options,
      const std::vector<std::string>& names);

  // Closes the database. The pending batch is dropped, not committed.
  ~RocksDbStore();
  RocksDbStore(const RocksDbStore&) = delete;
  RocksDbStore& operator=(const RocksDbStore&) = delete;

  // The key group of an encoded key: a stable 32-bit FNV-1a hash of the
  // bytes, mod kKeyGroups. The same on every platform and build.
  static uint16_t KeyGroup(std::string_view key);
  // The "state" key of an encoded key: [KeyGroup(key), big-endian][key].
  static std::string StateKey(std::string_view key);

  // The value stored under `key` (an encoded key, without key group), or
  // nullopt. Sees the pending batch. Errors: kUnavailable, kDataLoss.
  [[nodiscard]] absl::StatusOr<std::optional<std::string>> Get(
      std::string_view key);
  // Adds to the pending batch: `key` -> `value`, or removal of `key`.
  void Put(std::string_view key, std::string_view value);
  void Delete(std::string_view key);

  // Reads and writes the "meta" column family, through the same batch: a
  // PutMeta() commits atomically with the state writes around it.
  [[nodiscard]] absl::StatusOr<std::optional<std::string>> GetMeta(
      std::string_view name);
  void PutMeta(std::string_view name, std::string_view value);
  void DeleteMeta(std::string_view name);
  // Meta shared by every store of the database, outside any namespace (what
  // belongs to the run, not to one pattern); names without '/'.
  [[nodiscard]] absl::StatusOr<std::optional<std::string>> GetSharedMeta(
      std::string_view name);
  void PutSharedMeta(std::string_view name, std::string_view value);
  // Removes this store's namespace for good: its column family and its meta
  // entries (through a Commit(), which writes anything else pending too).
  // The store must not be used afterwards. Errors: kUnavailable.
  [[nodiscard]] absl::Status Drop();
  // Calls fn(name, value) for every meta entry whose name starts with
  // `prefix` (the name without the prefix), pending batch included, in name
  // order; stops at fn's first error and returns it.
  [[nodiscard]] absl::Status ForEachMeta(
      std::string_view prefix,
      absl::FunctionRef<absl::Status(std::string_view name,
                                     std::string_view value)>
          fn);

  // Stores over the database and namespaces of `stores` (from one Open or
  // OpenShared) that share a NEW pending batch: what they stage stays apart
  // from the batch of `stores` until CommitTogether(). Reads see the
  // committed data and their own batch. For threads that each own some key
  // groups of the same namespaces (one fork each; the database itself is
  // thread-safe, a store is not). A fork keeps the database open while it
  // lives.
  [[nodiscard]] static std::vector<std::unique_ptr<RocksDbStore>> Fork(
      const std::vector<RocksDbStore*>& stores);
  // Writes the pending batches of `stores` (each distinct batch once) in ONE
  // atomic write, then empties them. REQUIRES: the stores share one
  // database (forks of each other). On error the batches are kept.
  // Errors: as Commit().
  [[nodiscard]] static absl::Status CommitTogether(
      const std::vector<RocksDbStore*>& stores);

  // Writes the pending batch (WAL on, fsync if options.sync) and empties it.
  // Does nothing when the batch is empty. On error the batch is kept, so a
  // retry writes it again. Errors: kUnavailable, kDataLoss.
  [[nodiscard]] absl::Status Commit();
  // True when the pending batch holds writes.
  bool has_pending() const;
  // Bytes in the pending batch.
  size_t pending_bytes() const;

  // Calls fn(key, value) for every stored key (encoded, without key group),
  // pending batch included, in key-group order; stops at fn's first error
  // and returns it. `fn` must not write to the store.
  [[nodiscard]] absl::Status ForEach(
      absl::FunctionRef<absl::Status(std::string_view key,
                                     std::string_view value)>
          fn);
  // As ForEach, for the keys of one key group only (one range scan).
  // REQUIRES: group < kKeyGroups (checked: kInvalidArgument).
  [[nodiscard]] absl::Status ForEachInKeyGroup(
      uint32_t group, absl::FunctionRef<absl::Status(std::string_view key,
                                                     std::string_view value)>
                          fn);

  // Writes a consistent copy of the committed data (not the pending batch)
  // to `dir`, which must not exist: hard links to the immutable files plus a
  // copy of the rest (rocksdb::Checkpoint). The copy opens like any
  // database. Errors: kInvalidArgument (dir exists), kUnavailable.
  [[nodiscard]] absl::Status Checkpoint(const std::string& dir);

  // Reads of the database's block cache so far (all its stores together);
  // zeros unless opened with RocksDbStoreOptions::statistics.
  struct BlockCacheStats {
    uint64_t hits = 0;
    uint64_t misses = 0;
  };
  BlockCacheStats block_cache_stats() const;

  // RocksDB's estimate of the keys in "state" (committed data only).
  uint64_t EstimateKeyCount() const;
  const std::string& path() const;

 private:
  struct Impl;
  explicit RocksDbStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

namespace internal {

// Meta names the backend owns.
inline constexpr std::string_view kMetaFormatVersion = "format_version";
inline constexpr std::string_view kMetaPatternHash = "pattern_hash";
inline constexpr std::string_view kMetaKeyCount = "key_count";

// Checks (or, in a new database, writes and commits) the meta entries
// "format_version" and "pattern_hash"; returns the committed key count. A
// database stamped `older_version` (when not empty) is still read and is
// restamped `format_version`. Errors: kFailedPrecondition naming the path
// and both values on a mismatch; kDataLoss for an unreadable key count;
// store errors.
[[nodiscard]] absl::StatusOr<uint64_t> CheckStateMeta(
    RocksDbStore& store, std::string_view format_version,
    std::string_view pattern_hash, std::string_view older_version = {});

// `bytes` read from a database (a hash, a version, a namespace), for an
// error message: printable ASCII as is, every other byte and '\\' as \xNN,
// so that corrupted bytes cannot garble a terminal or a log line.
std::string Printable(std::string_view bytes);

// Debian's abseil has its own string_view; StrCat and friends take that one.
inline absl::string_view ToAbsl(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

// `key` for messages: its text (escaped) when it converts to a string,
// else its encoding in hex.
template <typename Key>
std::string PrintableKey(const Key& key, std::string_view encoded) {
  if constexpr (std::is_convertible_v<const Key&, absl::AlphaNum>) {
    return absl::StrCat("'", absl::CHexEscape(absl::StrCat(key)), "'");
  } else {
    return absl::StrCat("0x", absl::BytesToHexString(ToAbsl(encoded)));
  }
}

}  // namespace internal

struct RocksDbStateOptions {
  // -- Behaviour --

  // Directory of the database. Default: none (required).
  std::string path;
  // Identifies the pattern the states belong to (e.g. a hash of its
  // compiled form). Stored when the database is created; opening it with a
  // different value fails with kFailedPrecondition, since states of one NFA
  // mean nothing to another. Default: "" (no pattern named).
  std::string pattern_hash;
  // The key groups this backend holds states of, [first, end): a worker of
  // a run with several owns a range (KeyGroupStart) and never sees a key of
  // another. With part of the groups, Open() counts their keys with a scan,
  // and Commit()/Stage() leave the namespace's "key_count" to the caller
  // (the sum over the workers). Defaults: all groups.
  uint32_t first_key_group = 0;
  uint32_t end_key_group = kKeyGroups;
  // See RocksDbStoreOptions. Defaults: true, false.
  bool create_if_missing = true;
  bool sync = false;

  // -- Performance --

  // Decoded KeyStates kept in memory, in keys (LRU). A hit costs a hash
  // lookup; a miss costs a RocksDB read and a decode. At least 1 is used.
  // Default: 10000.
  size_t cache_capacity = 10000;
  // See RocksDbStoreOptions. Defaults: 32 MiB, 64 MiB.
  size_t block_cache_bytes = size_t{32} << 20;
  size_t write_buffer_bytes = size_t{64} << 20;
};

// Counters since Open().
struct RocksDbStateMetrics {
  uint64_t cache_hits = 0;     // Get() served from the cache
  uint64_t cache_misses = 0;   // Get() that read the store
  uint64_t reads = 0;          // store reads (misses, Erase of uncached keys)
  uint64_t writes = 0;         // states encoded into the batch
  uint64_t deletes = 0;        // states removed (went idle, or Erase)
  uint64_t bytes_written = 0;  // encoded state bytes (keys not counted)
  uint64_t evictions = 0;      // cache entries evicted
  uint64_t commits = 0;        // Commit() calls that wrote a batch
};

template <typename Event, typename Key>
class RocksDbStateBackend final : public StateBackend<Event, Key> {
 public:
  // Opens (or creates) the database at options.path and checks its format
  // version (kKeyStateFormatVersion) and pattern hash. `key_codec` and
  // `event_codec` must outlive the backend. Errors: those of
  // RocksDbStore::Open; kFailedPrecondition on a version or pattern-hash
  // mismatch, naming the path and both values.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<RocksDbStateBackend>>
  Open(const RocksDbStateOptions& options, const Codec<Key>& key_codec,
       const Codec<Event>& event_codec) {
    RocksDbStoreOptions store_options;
    store_options.path = options.path;
    store_options.create_if_missing = options.create_if_missing;
    store_options.sync = options.sync;
    store_options.block_cache_bytes = options.block_cache_bytes;
    store_options.write_buffer_bytes = options.write_buffer_bytes;
    CEP_ASSIGN_OR_RETURN(std::unique_ptr<RocksDbStore> store,
                         RocksDbStore::Open(store_options));
    return Open(std::move(store), options, key_codec, event_codec);
  }

  // The same over a store already open, e.g. one namespace of
  // RocksDbStore::OpenShared (options.path and the store options are then
  // not used).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<RocksDbStateBackend>>
  Open(std::unique_ptr<RocksDbStore> store, const RocksDbStateOptions& options,
       const Codec<Key>& key_codec, const Codec<Event>& event_codec) {
    CEP_ASSIGN_OR_RETURN(
        uint64_t key_count,
        internal::CheckStateMeta(*store, absl::StrCat(kKeyStateFormatVersion),
                                 options.pattern_hash,
                                 absl::StrCat(kOldestKeyStateFormatVersion)));
    const bool all_groups =
        options.first_key_group == 0 && options.end_key_group >= kKeyGroups;
    if (!all_groups) {
      key_count = 0;
      for (uint32_t group = options.first_key_group;
           group < options.end_key_group && group < kKeyGroups; ++group) {
        CEP_RETURN_IF_ERROR(store->ForEachInKeyGroup(
            group, [&](std::string_view, std::string_view) {
              ++key_count;
              return absl::OkStatus();
            }));
      }
    }
    auto backend = std::unique_ptr<RocksDbStateBackend>(
        new RocksDbStateBackend(std::move(store), options.cache_capacity,
                                key_count, key_codec, event_codec));
    backend->all_groups_ = all_groups;
    return backend;
  }

  // Drops what was not committed.
  ~RocksDbStateBackend() override = default;

  // The key's state: from the cache, else read and decoded (and cached),
  // else a fresh state. The pointer stays valid until the next call on this
  // backend (the entry just returned is never the one evicted). Errors:
  // kUnavailable, kDataLoss naming the key and why its state does not
  // decode (the key is then not cached; a later Get fails the same way).
  [[nodiscard]] absl::StatusOr<KeyState<Event>*> Get(const Key& key) override {
    if (auto it = index_.find(key); it != index_.end()) {
      ++metrics_.cache_hits;
      cache_.splice(cache_.begin(), cache_, it->second);
      last_ = &*it->second;
      return &last_->state;
    }
    ++metrics_.cache_misses;
    ++metrics_.reads;
    std::string encoded_key;
    key_codec_.Encode(key, encoded_key);
    CEP_ASSIGN_OR_RETURN(std::optional<std::string> value,
                         store_->Get(encoded_key));
    if (!value.has_value()) {
      // A key without state (most keys, most of the time): a fresh state in
      // the scratch entry, cached only if Put() makes it live, so that idle
      // keys neither allocate an entry nor evict a live one.
      scratch_.key = key;
      scratch_.key_bytes = std::move(encoded_key);
      scratch_.state = KeyState<Event>();
      last_ = &scratch_;
      return &scratch_.state;
    }
    cache_.emplace_front(key, std::move(encoded_key));
    Entry& entry = cache_.front();
    if (value.has_value()) {
      if (absl::Status s = DecodeKeyState(*value, event_codec_, entry.state);
          !s.ok()) {
        absl::Status error = absl::DataLossError(
            absl::StrCat("rocksdb state at '", store_->path(), "': key ",
                         internal::PrintableKey(key, entry.key_bytes),
                         ": cannot decode state: ", s.message()));
        cache_.pop_front();
        return error;
      }
      entry.stored = true;
      entry.live = true;
    }
    index_.emplace(key, cache_.begin());
    last_ = &entry;
    EvictOverCapacity();
    return &entry.state;
  }

  // Marks the key's cached state dirty; it is encoded at Commit() or when
  // evicted, or deleted then if it is idle. REQUIRES: `state` is what Get(key)
  // returned, with no call in between (checked: kFailedPrecondition).
  [[nodiscard]] absl::Status Put(const Key& key,
                                 KeyState<Event>& state) override {
    Entry* entry = last_;
    const bool from_scratch =
        entry == &scratch_ && &state == &scratch_.state && scratch_.key == key;
    if (from_scratch) {
      last_ = nullptr;
      if (state.IsIdle()) return absl::OkStatus();  // nothing stored
      entry = &Cache(std::move(scratch_));
    } else if (entry == nullptr || entry == &scratch_ ||
               &entry->state != &state) {
      auto it = index_.find(key);
      entry = it == index_.end() ? nullptr : &*it->second;
      if (entry == nullptr || &entry->state != &state) {
        return absl::FailedPreconditionError(
            absl::StrCat("rocksdb state at '", store_->path(), "': put of key ",
                         internal::PrintableKey(key, ""),
                         " with a state its Get() did not return"));
      }
    }
    const bool live = !entry->state.IsIdle();
    live_keys_ +=
        static_cast<int64_t>(live) - static_cast<int64_t>(entry->live);
    entry->live = live;
    if (entry->dirty_slot == kClean) {
      entry->dirty_slot = dirty_.size();
      dirty_.push_back(entry);
    }
    if (from_scratch) {
      last_ = entry;
      EvictOverCapacity();
    }
    return absl::OkStatus();
  }

  // Removes the key's state (cached or stored); committed by Commit().
  [[nodiscard]] absl::Status Erase(const Key& key) override {
    if (auto it = index_.find(key); it != index_.end()) {
      Entry& entry = *it->second;
      MarkClean(entry);
      live_keys_ -= static_cast<int64_t>(entry.live);
      if (entry.stored) {
        store_->Delete(entry.key_bytes);
        ++metrics_.deletes;
      }
      if (last_ == &entry) last_ = nullptr;
      cache_.erase(it->second);
      index_.erase(it);
      return absl::OkStatus();
    }
    std::string encoded_key;
    key_codec_.Encode(key, encoded_key);
    ++metrics_.reads;
    CEP_ASSIGN_OR_RETURN(std::optional<std::string> value,
                         store_->Get(encoded_key));
    if (value.has_value()) {
      store_->Delete(encoded_key);
      ++metrics_.deletes;
      --live_keys_;
    }
    return absl::OkStatus();
  }

  // Encodes every dirty state into the pending batch, adds the key count
  // and writes the batch (with any SetMeta() since the last commit)
  // atomically. Cached states stay cached. Errors: kUnavailable, kDataLoss.
  [[nodiscard]] absl::Status Commit() override {
    Stage();
    if (!store_->has_pending()) return absl::OkStatus();
    CEP_RETURN_IF_ERROR(store_->Commit());
    ++metrics_.commits;
    return absl::OkStatus();
  }

  // Commit() without the write: encodes every dirty state and the key
  // count (when the backend holds every key group) into the store's
  // pending batch. Backends over one shared
  // database (RocksDbStore::OpenShared) each Stage(), then one store
  // Commit() writes them all atomically.
  void Stage() {
    FlushDirty();
    if (all_groups_ && store_->has_pending()) {
      store_->PutMeta(internal::kMetaKeyCount, absl::StrCat(live_keys_));
    }
  }

  // Calls fn for every key with a non-idle state (as of its last Put()),
  // uncommitted changes included, in key-group order. Dirty states are
  // encoded into the pending batch first (not committed). Cached keys get
  // their cached state; others a decoded copy.
  // NOTE: changes fn makes to an uncached key's state are not kept.
  // Errors: kDataLoss (a key or state does not decode), kUnavailable.
  [[nodiscard]] absl::Status ForEach(
      absl::FunctionRef<absl::Status(const Key&, KeyState<Event>&)> fn)
      override {
    FlushDirty();
    return store_->ForEach([&](std::string_view key_bytes,
                               std::string_view value) -> absl::Status {
      Key key{};
      std::string_view in = key_bytes;
      if (absl::Status s = key_codec_.Decode(in, key); !s.ok() || !in.empty()) {
        return absl::DataLossError(absl::StrCat(
            "rocksdb state at '", store_->path(), "': key 0x",
            absl::BytesToHexString(internal::ToAbsl(key_bytes)),
            ": cannot decode key: ", s.ok() ? "trailing bytes" : s.message()));
      }
      if (auto it = index_.find(key); it != index_.end()) {
        return fn(key, it->second->state);
      }
      KeyState<Event> state;
      if (absl::Status s = DecodeKeyState(value, event_codec_, state);
          !s.ok()) {
        return absl::DataLossError(
            absl::StrCat("rocksdb state at '", store_->path(), "': key ",
                         internal::PrintableKey(key, key_bytes),
                         ": cannot decode state: ", s.message()));
      }
      return fn(key, state);
    });
  }

  // Keys with a non-idle state, counting uncommitted Put()s and Erase()s.
  size_t key_count() const override {
    return live_keys_ < 0 ? 0 : static_cast<size_t>(live_keys_);
  }

  // Stages `value` under meta `name`, committed atomically with the states
  // by the next Commit() (input position, watermark). The names
  // "format_version", "pattern_hash" and "key_count" are the backend's
  // (checked: kInvalidArgument).
  [[nodiscard]] absl::Status SetMeta(std::string_view name,
                                     std::string_view value) {
    CEP_RETURN_IF_ERROR(CheckMetaName(name));
    store_->PutMeta(name, value);
    return absl::OkStatus();
  }
  // Stages the removal of meta `name` (not one of the backend's).
  [[nodiscard]] absl::Status DeleteMeta(std::string_view name) {
    CEP_RETURN_IF_ERROR(CheckMetaName(name));
    store_->DeleteMeta(name);
    return absl::OkStatus();
  }
  // See RocksDbStore::ForEachMeta.
  [[nodiscard]] absl::Status ForEachMeta(
      std::string_view prefix,
      absl::FunctionRef<absl::Status(std::string_view, std::string_view)> fn) {
    return store_->ForEachMeta(prefix, fn);
  }
  // The meta value under `name` (staged or committed), or nullopt.
  [[nodiscard]] absl::StatusOr<std::optional<std::string>> GetMeta(
      std::string_view name) {
    return store_->GetMeta(name);
  }

  // Commits, then writes a checkpoint of the database to `dir` (which must
  // not exist); RocksDbStateBackend::Open(dir) reads it back.
  [[nodiscard]] absl::Status Checkpoint(const std::string& dir) {
    CEP_RETURN_IF_ERROR(Commit());
    return store_->Checkpoint(dir);
  }

  const RocksDbStateMetrics& metrics() const { return metrics_; }
  // Keys whose decoded state is cached.
  size_t cached_keys() const { return cache_.size(); }
  // The byte store underneath (tools and tests); writing to it directly
  // bypasses the cache.
  RocksDbStore& store() { return *store_; }

 private:
  static constexpr size_t kClean = static_cast<size_t>(-1);

  struct Entry {
    Entry(const Key& k, std::string bytes)
        : key(k), key_bytes(std::move(bytes)) {}
    Key key;
    std::string key_bytes;  // key_codec_'s encoding, without key group
    KeyState<Event> state;
    bool stored = false;         // the store (pending batch included) holds it
    bool live = false;           // non-idle as of the last Put(), or as loaded
    size_t dirty_slot = kClean;  // position in dirty_, or kClean
  };

  RocksDbStateBackend(std::unique_ptr<RocksDbStore> store, size_t capacity,
                      uint64_t key_count, const Codec<Key>& key_codec,
                      const Codec<Event>& event_codec)
      : store_(std::move(store)),
        capacity_(capacity == 0 ? 1 : capacity),
        live_keys_(static_cast<int64_t>(key_count)),
        key_codec_(key_codec),
        event_codec_(event_codec) {}

  static absl::Status CheckMetaName(std::string_view name) {
    if (name == internal::kMetaFormatVersion ||
        name == internal::kMetaPatternHash || name == internal::kMetaKeyCount) {
      return absl::InvalidArgumentError(
          absl::StrCat("meta name '", internal::ToAbsl(name), "' is reserved"));
    }
    return absl::OkStatus();
  }

  // Writes the entry's state to the pending batch: encoded if live, a
  // delete if it went idle and was stored.
  void Flush(Entry& entry) {
    if (entry.live) {
      buffer_.clear();
      EncodeKeyState(entry.state, event_codec_, buffer_);
      store_->Put(entry.key_bytes, buffer_);
      entry.stored = true;
      ++metrics_.writes;
      metrics_.bytes_written += buffer_.size();
    } else if (entry.stored) {
      store_->Delete(entry.key_bytes);
      entry.stored = false;
      ++metrics_.deletes;
    }
  }

  void FlushDirty() {
    for (Entry* entry : dirty_) {
      Flush(*entry);
      entry->dirty_slot = kClean;
    }
    dirty_.clear();
  }

  // Puts a scratch entry's key and state in the cache, most recent.
  Entry& Cache(Entry&& scratch) {
    cache_.emplace_front(std::move(scratch.key), std::move(scratch.key_bytes));
    Entry& entry = cache_.front();
    entry.state = std::move(scratch.state);
    index_.emplace(entry.key, cache_.begin());
    return entry;
  }

  // Takes the entry off dirty_ (swap with the last).
  void MarkClean(Entry& entry) {
    if (entry.dirty_slot == kClean) return;
    Entry* moved = dirty_.back();
    dirty_[entry.dirty_slot] = moved;
    moved->dirty_slot = entry.dirty_slot;
    dirty_.pop_back();
    entry.dirty_slot = kClean;
  }

  // Evicts least recently used entries down to capacity_, writing dirty ones
  // into the pending batch. The front entry (just returned) stays.
  void EvictOverCapacity() {
    while (cache_.size() > capacity_) {
      Entry& victim = cache_.back();
      if (victim.dirty_slot != kClean) {
        Flush(victim);
        MarkClean(victim);
      }
      if (last_ == &victim) last_ = nullptr;
      index_.erase(victim.key);
      cache_.pop_back();
      ++metrics_.evictions;
    }
  }

  std::unique_ptr<RocksDbStore> store_;
  size_t capacity_;
  // Keys whose state is non-idle: stored keys not cached, plus cached keys
  // that are live. Signed so a corrupt stored count cannot wrap.
  int64_t live_keys_;
  bool all_groups_ = true;  // see RocksDbStateOptions::first_key_group
  const Codec<Key>& key_codec_;
  const Codec<Event>& event_codec_;
  std::list<Entry> cache_;  // most recently used first; nodes never move
  absl::flat_hash_map<Key, typename std::list<Entry>::iterator> index_;
  std::vector<Entry*> dirty_;  // entries Put() since their last flush
  Entry* last_ = nullptr;      // what the last Get() returned
  Entry scratch_{Key{}, {}};   // a key without state, not cached
  std::string buffer_;         // encoding scratch
  RocksDbStateMetrics metrics_;
};

}  // namespace cep
