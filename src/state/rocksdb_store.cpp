// RocksDbStore (cep/rocksdb_state.hpp): the only file that talks to RocksDB,
// with rocksdb_status.cpp for its statuses.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/slice.h"
#include "rocksdb/statistics.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/checkpoint.h"
#include "rocksdb/utilities/write_batch_with_index.h"

#include "cep/internal/status_macros.hpp"
#include "cep/rocksdb_state.hpp"

#include "rocksdb_status.hpp"

namespace cep {

namespace {

constexpr char kStateFamily[] = "state";
constexpr char kMetaFamily[] = "meta";
constexpr size_t kKeyGroupBytes = 2;

rocksdb::Slice ToSlice(std::string_view s) {
  return rocksdb::Slice(s.data(), s.size());
}

std::string_view ToView(const rocksdb::Slice& s) {
  return std::string_view(s.data(), s.size());
}

}  // namespace

// Writes staged for one atomic commit; shared by the stores of one
// OpenShared() (or one Fork()).
struct PendingBatch {
  // overwrite_key: reads through the batch see the last write of a key.
  rocksdb::WriteBatchWithIndex batch{rocksdb::BytewiseComparator(), 0,
                                     /*overwrite_key=*/true};
};

// The database that one or several stores (namespaces) share.
struct SharedDatabase {
  ~SharedDatabase() {
    if (db == nullptr) return;
    for (rocksdb::ColumnFamilyHandle* handle : handles) {
      // Only fails for the default family's handle, which is not ours to
      // destroy; nothing to do about it either way.
      db->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
    }
    // Close() flushes nothing we rely on: committed data is in the WAL.
    db->Close().PermitUncheckedError();
  }

  RocksDbStoreOptions options;
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // as opened
  rocksdb::ColumnFamilyHandle* meta = nullptr;
  rocksdb::WriteOptions write_options;
  std::shared_ptr<rocksdb::Statistics> statistics;  // or null
};

struct RocksDbStore::Impl {
  // "rocksdb state at '<path>': <what>", for messages.
  std::string What(absl::string_view what) const {
    return absl::StrCat("rocksdb state at '", path, "': ", what);
  }

  // Fills scratch_key with the state key of `key` and returns it.
  rocksdb::Slice StateKey(std::string_view key) {
    scratch_key.clear();
    const uint16_t group = RocksDbStore::KeyGroup(key);
    scratch_key.push_back(static_cast<char>(group >> 8));
    scratch_key.push_back(static_cast<char>(group & 0xff));
    scratch_key.append(key);
    return ToSlice(scratch_key);
  }

  // Fills scratch_meta with the meta key of `name` and returns it.
  rocksdb::Slice MetaKey(std::string_view name) {
    scratch_meta.assign(meta_prefix);
    scratch_meta.append(name);
    return ToSlice(scratch_meta);
  }

  absl::StatusOr<std::optional<std::string>> Read(
      rocksdb::ColumnFamilyHandle* family, const rocksdb::Slice& key) {
    rocksdb::PinnableSlice value;
    rocksdb::Status s = batch().GetFromBatchAndDB(
        shared->db.get(), rocksdb::ReadOptions(), family, key, &value);
    if (s.IsNotFound()) return std::nullopt;
    if (!s.ok()) return internal::FromRocksDbStatus(s, What("read"));
    return std::string(value.data(), value.size());
  }

  absl::Status Scan(
      const rocksdb::Slice* prefix,
      absl::FunctionRef<absl::Status(std::string_view, std::string_view)> fn) {
    std::unique_ptr<rocksdb::Iterator> it(batch().NewIteratorWithBase(
        state, shared->db->NewIterator(rocksdb::ReadOptions(), state)));
    if (prefix != nullptr) {
      it->Seek(*prefix);
    } else {
      it->SeekToFirst();
    }
    for (; it->Valid(); it->Next()) {
      rocksdb::Slice key = it->key();
      if (prefix != nullptr && !key.starts_with(*prefix)) break;
      if (key.size() < kKeyGroupBytes) {
        return absl::DataLossError(What(absl::StrCat(
            "state key of ", key.size(), " bytes has no key group")));
      }
      key.remove_prefix(kKeyGroupBytes);
      CEP_RETURN_IF_ERROR(fn(ToView(key), ToView(it->value())));
    }
    return internal::FromRocksDbStatus(it->status(), What("scan"));
  }

  rocksdb::WriteBatchWithIndex& batch() { return pending->batch; }

  std::shared_ptr<SharedDatabase> shared;
  std::shared_ptr<PendingBatch> pending;
  rocksdb::ColumnFamilyHandle* state = nullptr;
  std::string meta_prefix;  // "" or "NAME/"
  std::string path;         // for messages: the directory, or DIR[NAME]
  std::string scratch_key;
  std::string scratch_meta;
};

RocksDbStore::RocksDbStore(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}

RocksDbStore::~RocksDbStore() = default;

namespace {

// Opens the database at options.path with column families "meta" and
// `state_families` (plus any other it already holds, returned in
// `others`); `handles` gets the state families' handles in order.
absl::StatusOr<std::shared_ptr<SharedDatabase>> OpenDatabase(
    const RocksDbStoreOptions& options,
    const std::vector<std::string>& state_families,
    std::vector<rocksdb::ColumnFamilyHandle*>& handles,
    std::vector<std::string>& others) {
  auto what = [&](absl::string_view text) {
    return absl::StrCat("rocksdb state at '", options.path, "': ", text);
  };
  if (options.path.empty()) {
    return absl::InvalidArgumentError("rocksdb state: no path given");
  }
  if (options.create_if_missing) {
    std::error_code error;
    std::filesystem::create_directories(options.path, error);
    if (error) {
      return absl::UnavailableError(
          what(absl::StrCat("cannot create directory: ", error.message())));
    }
  }
  auto shared = std::make_shared<SharedDatabase>();
  shared->options = options;

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = options.create_if_missing;
  db_options.create_missing_column_families = true;
  if (options.statistics) {
    db_options.statistics = rocksdb::CreateDBStatistics();
    db_options.statistics->set_stats_level(rocksdb::StatsLevel::kExceptTimers);
  }

  rocksdb::BlockBasedTableOptions table_options;
  table_options.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  // A fresh key's first Get() is a miss; the filter answers it without
  // reading data blocks.
  table_options.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::ColumnFamilyOptions state_options;
  state_options.write_buffer_size = options.write_buffer_bytes;
  state_options.table_factory.reset(
      rocksdb::NewBlockBasedTableFactory(table_options));

  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
      {kMetaFamily, rocksdb::ColumnFamilyOptions()},
  };
  for (const std::string& name : state_families) {
    families.emplace_back(name, state_options);
  }
  // RocksDB opens a database only with all its column families.
  std::vector<std::string> existing;
  if (rocksdb::DB::ListColumnFamilies(db_options, options.path, &existing)
          .ok()) {
    for (const std::string& name : existing) {
      bool known = false;
      for (const auto& family : families) known |= family.name == name;
      if (!known) {
        others.push_back(name);
        families.emplace_back(name, state_options);
      }
    }
  }
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, options.path, families,
                                        &shared->handles, &db);
  if (!s.ok()) return internal::FromRocksDbStatus(s, what("open"));
  shared->db.reset(db);
  shared->meta = shared->handles[1];
  for (size_t idx = 0; idx < state_families.size(); ++idx) {
    handles.push_back(shared->handles[2 + idx]);
  }
  shared->write_options.sync = options.sync;
  shared->statistics = db_options.statistics;
  shared->write_options.disableWAL = false;
  return shared;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RocksDbStore>> RocksDbStore::Open(
    const RocksDbStoreOptions& options) {
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  std::vector<std::string> others;
  CEP_ASSIGN_OR_RETURN(std::shared_ptr<SharedDatabase> shared,
                       OpenDatabase(options, {kStateFamily}, handles, others));
  auto impl = std::make_unique<Impl>();
  impl->shared = std::move(shared);
  impl->pending = std::make_shared<PendingBatch>();
  impl->state = handles[0];
  impl->path = options.path;
  return std::unique_ptr<RocksDbStore>(new RocksDbStore(std::move(impl)));
}

absl::StatusOr<RocksDbStore::Shared> RocksDbStore::OpenShared(
    const RocksDbStoreOptions& options, const std::vector<std::string>& names) {
  std::vector<std::string> families;
  for (const std::string& name : names) {
    if (name.empty() || name.find('/') != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("rocksdb state at '", options.path, "': bad namespace '",
                       internal::Printable(name), "' (empty or with '/')"));
    }
    families.push_back(absl::StrCat(kStateFamily, ".", name));
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  Shared result;
  CEP_ASSIGN_OR_RETURN(
      std::shared_ptr<SharedDatabase> shared,
      OpenDatabase(options, families, handles, result.other_namespaces));
  for (std::string& other : result.other_namespaces) {
    const std::string prefix = absl::StrCat(kStateFamily, ".");
    if (other.rfind(prefix, 0) == 0) other.erase(0, prefix.size());
  }
  auto pending = std::make_shared<PendingBatch>();
  for (size_t idx = 0; idx < names.size(); ++idx) {
    auto impl = std::make_unique<Impl>();
    impl->shared = shared;
    impl->pending = pending;
    impl->state = handles[idx];
    impl->meta_prefix = absl::StrCat(names[idx], "/");
    impl->path =
        absl::StrCat(options.path, "[", internal::Printable(names[idx]), "]");
    result.stores.push_back(
        std::unique_ptr<RocksDbStore>(new RocksDbStore(std::move(impl))));
  }
  return result;
}

uint16_t RocksDbStore::KeyGroup(std::string_view key) {
  // FNV-1a, 32 bits: fixed by its definition, unlike std::hash or
  // absl::Hash, which may change between builds.
  uint32_t hash = 2166136261u;
  for (char c : key) {
    hash ^= static_cast<uint8_t>(c);
    hash *= 16777619u;
  }
  return static_cast<uint16_t>(hash % kKeyGroups);
}

std::string RocksDbStore::StateKey(std::string_view key) {
  const uint16_t group = KeyGroup(key);
  std::string out;
  out.reserve(kKeyGroupBytes + key.size());
  out.push_back(static_cast<char>(group >> 8));
  out.push_back(static_cast<char>(group & 0xff));
  out.append(key);
  return out;
}

absl::StatusOr<std::optional<std::string>> RocksDbStore::Get(
    std::string_view key) {
  return impl_->Read(impl_->state, impl_->StateKey(key));
}

void RocksDbStore::Put(std::string_view key, std::string_view value) {
  // WriteBatchWithIndex only fails on a key or value over 4 GiB.
  impl_->batch()
      .Put(impl_->state, impl_->StateKey(key), ToSlice(value))
      .PermitUncheckedError();
}

void RocksDbStore::Delete(std::string_view key) {
  // As in Put(): cannot fail for keys under 4 GiB.
  impl_->batch()
      .Delete(impl_->state, impl_->StateKey(key))
      .PermitUncheckedError();
}

absl::StatusOr<std::optional<std::string>> RocksDbStore::GetMeta(
    std::string_view name) {
  return impl_->Read(impl_->shared->meta, impl_->MetaKey(name));
}

void RocksDbStore::PutMeta(std::string_view name, std::string_view value) {
  // As in Put(): cannot fail for keys under 4 GiB.
  impl_->batch()
      .Put(impl_->shared->meta, impl_->MetaKey(name), ToSlice(value))
      .PermitUncheckedError();
}

void RocksDbStore::DeleteMeta(std::string_view name) {
  // As in Put(): cannot fail for keys under 4 GiB.
  impl_->batch()
      .Delete(impl_->shared->meta, impl_->MetaKey(name))
      .PermitUncheckedError();
}

absl::StatusOr<std::optional<std::string>> RocksDbStore::GetSharedMeta(
    std::string_view name) {
  return impl_->Read(impl_->shared->meta, ToSlice(name));
}

void RocksDbStore::PutSharedMeta(std::string_view name,
                                 std::string_view value) {
  // As in Put(): cannot fail for keys under 4 GiB.
  impl_->batch()
      .Put(impl_->shared->meta, ToSlice(name), ToSlice(value))
      .PermitUncheckedError();
}

absl::Status RocksDbStore::Drop() {
  std::vector<std::string> names;
  CEP_RETURN_IF_ERROR(
      ForEachMeta("", [&](std::string_view name, std::string_view) {
        names.emplace_back(name);
        return absl::OkStatus();
      }));
  for (const std::string& name : names) DeleteMeta(name);
  CEP_RETURN_IF_ERROR(Commit());
  rocksdb::Status s = impl_->shared->db->DropColumnFamily(impl_->state);
  return internal::FromRocksDbStatus(s, impl_->What("drop"));
}

absl::Status RocksDbStore::ForEachMeta(
    std::string_view prefix,
    absl::FunctionRef<absl::Status(std::string_view, std::string_view)> fn) {
  SharedDatabase& shared = *impl_->shared;
  const std::string start = impl_->MetaKey(prefix).ToString();
  std::unique_ptr<rocksdb::Iterator> it(impl_->batch().NewIteratorWithBase(
      shared.meta,
      shared.db->NewIterator(rocksdb::ReadOptions(), shared.meta)));
  for (it->Seek(ToSlice(start)); it->Valid(); it->Next()) {
    rocksdb::Slice name = it->key();
    if (!name.starts_with(ToSlice(start))) break;
    name.remove_prefix(start.size());
    CEP_RETURN_IF_ERROR(fn(ToView(name), ToView(it->value())));
  }
  return internal::FromRocksDbStatus(it->status(), impl_->What("meta scan"));
}

absl::Status RocksDbStore::Commit() {
  SharedDatabase& shared = *impl_->shared;
  rocksdb::WriteBatch* batch = impl_->batch().GetWriteBatch();
  if (batch->Count() == 0) return absl::OkStatus();
  rocksdb::Status s = shared.db->Write(shared.write_options, batch);
  if (!s.ok()) return internal::FromRocksDbStatus(s, impl_->What("commit"));
  impl_->batch().Clear();
  return absl::OkStatus();
}

std::vector<std::unique_ptr<RocksDbStore>> RocksDbStore::Fork(
    const std::vector<RocksDbStore*>& stores) {
  auto pending = std::make_shared<PendingBatch>();
  std::vector<std::unique_ptr<RocksDbStore>> forks;
  for (const RocksDbStore* store : stores) {
    auto impl = std::make_unique<Impl>();
    impl->shared = store->impl_->shared;
    impl->pending = pending;
    impl->state = store->impl_->state;
    impl->meta_prefix = store->impl_->meta_prefix;
    impl->path = store->impl_->path;
    forks.push_back(
        std::unique_ptr<RocksDbStore>(new RocksDbStore(std::move(impl))));
  }
  return forks;
}

namespace {

// Copies the writes of batches into one, by column family id.
class BatchCopier final : public rocksdb::WriteBatch::Handler {
 public:
  BatchCopier(const SharedDatabase& shared, rocksdb::WriteBatch& out)
      : shared_(shared), out_(out) {}
  rocksdb::Status PutCF(uint32_t family, const rocksdb::Slice& key,
                        const rocksdb::Slice& value) override {
    rocksdb::ColumnFamilyHandle* handle = Find(family);
    if (handle == nullptr) return Unknown(family);
    return out_.Put(handle, key, value);
  }
  rocksdb::Status DeleteCF(uint32_t family,
                           const rocksdb::Slice& key) override {
    rocksdb::ColumnFamilyHandle* handle = Find(family);
    if (handle == nullptr) return Unknown(family);
    return out_.Delete(handle, key);
  }

 private:
  rocksdb::ColumnFamilyHandle* Find(uint32_t family) const {
    for (rocksdb::ColumnFamilyHandle* handle : shared_.handles) {
      if (handle->GetID() == family) return handle;
    }
    return nullptr;
  }
  static rocksdb::Status Unknown(uint32_t family) {
    return rocksdb::Status::Corruption(
        absl::StrCat("pending write to unknown column family ", family));
  }

  const SharedDatabase& shared_;
  rocksdb::WriteBatch& out_;
};

}  // namespace

absl::Status RocksDbStore::CommitTogether(
    const std::vector<RocksDbStore*>& stores) {
  std::vector<PendingBatch*> batches;
  for (RocksDbStore* store : stores) {
    PendingBatch* pending = store->impl_->pending.get();
    if (std::find(batches.begin(), batches.end(), pending) == batches.end() &&
        pending->batch.GetWriteBatch()->Count() > 0) {
      batches.push_back(pending);
    }
  }
  if (batches.empty()) return absl::OkStatus();
  RocksDbStore& first = *stores.front();
  SharedDatabase& shared = *first.impl_->shared;
  rocksdb::WriteBatch combined;
  rocksdb::WriteBatch* write = batches.front()->batch.GetWriteBatch();
  if (batches.size() > 1) {
    BatchCopier copier(shared, combined);
    for (PendingBatch* pending : batches) {
      rocksdb::Status s = pending->batch.GetWriteBatch()->Iterate(&copier);
      if (!s.ok())
        return internal::FromRocksDbStatus(s, first.impl_->What("commit"));
    }
    write = &combined;
  }
  rocksdb::Status s = shared.db->Write(shared.write_options, write);
  if (!s.ok())
    return internal::FromRocksDbStatus(s, first.impl_->What("commit"));
  for (PendingBatch* pending : batches) pending->batch.Clear();
  return absl::OkStatus();
}

bool RocksDbStore::has_pending() const {
  return impl_->pending->batch.GetWriteBatch()->Count() > 0;
}

size_t RocksDbStore::pending_bytes() const {
  return impl_->pending->batch.GetDataSize();
}

absl::Status RocksDbStore::ForEach(
    absl::FunctionRef<absl::Status(std::string_view, std::string_view)> fn) {
  return impl_->Scan(nullptr, fn);
}

absl::Status RocksDbStore::ForEachInKeyGroup(
    uint32_t group,
    absl::FunctionRef<absl::Status(std::string_view, std::string_view)> fn) {
  if (group >= kKeyGroups) {
    return absl::InvalidArgumentError(
        absl::StrCat("key group ", group, " is not below ", kKeyGroups));
  }
  const char prefix_bytes[kKeyGroupBytes] = {static_cast<char>(group >> 8),
                                             static_cast<char>(group & 0xff)};
  const rocksdb::Slice prefix(prefix_bytes, kKeyGroupBytes);
  return impl_->Scan(&prefix, fn);
}

absl::Status RocksDbStore::Checkpoint(const std::string& dir) {
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status s =
      rocksdb::Checkpoint::Create(impl_->shared->db.get(), &raw);
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  if (s.ok()) s = checkpoint->CreateCheckpoint(dir);
  return internal::FromRocksDbStatus(
      s, impl_->What(absl::StrCat("checkpoint to '", dir, "'")));
}

RocksDbStore::BlockCacheStats RocksDbStore::block_cache_stats() const {
  BlockCacheStats stats;
  const std::shared_ptr<rocksdb::Statistics>& statistics =
      impl_->shared->statistics;
  if (statistics == nullptr) return stats;
  stats.hits = statistics->getTickerCount(rocksdb::BLOCK_CACHE_HIT);
  stats.misses = statistics->getTickerCount(rocksdb::BLOCK_CACHE_MISS);
  return stats;
}

uint64_t RocksDbStore::EstimateKeyCount() const {
  uint64_t keys = 0;
  if (!impl_->shared->db->GetIntProperty(impl_->state,
                                         "rocksdb.estimate-num-keys", &keys)) {
    return 0;
  }
  return keys;
}

const std::string& RocksDbStore::path() const { return impl_->path; }

namespace internal {

std::string Printable(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size());
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f && c != '\\') {
      out += c;
    } else {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    }
  }
  return out;
}

absl::StatusOr<uint64_t> CheckStateMeta(RocksDbStore& store,
                                        std::string_view format_version,
                                        std::string_view pattern_hash,
                                        std::string_view older_version) {
  CEP_ASSIGN_OR_RETURN(std::optional<std::string> stored_version,
                       store.GetMeta(kMetaFormatVersion));
  CEP_ASSIGN_OR_RETURN(std::optional<std::string> stored_hash,
                       store.GetMeta(kMetaPatternHash));
  const std::string where =
      absl::StrCat("rocksdb state at '", store.path(), "'");
  if (!stored_version.has_value()) {
    // A new database: stamp it before any state goes in.
    if (stored_hash.has_value()) {
      return absl::DataLossError(
          absl::StrCat(where, ": has a pattern hash but no format version"));
    }
    store.PutMeta(kMetaFormatVersion, format_version);
    store.PutMeta(kMetaPatternHash, pattern_hash);
    store.PutMeta(kMetaKeyCount, "0");
    CEP_RETURN_IF_ERROR(store.Commit());
    return 0;
  }
  const bool older = !older_version.empty() && *stored_version == older_version;
  if (*stored_version != format_version && !older) {
    return absl::FailedPreconditionError(absl::StrCat(
        where, ": states have format version ", Printable(*stored_version),
        ", this build reads version ", internal::ToAbsl(format_version)));
  }
  const std::string stored = stored_hash.value_or("");
  if (stored != pattern_hash) {
    return absl::FailedPreconditionError(absl::StrCat(
        where, ": states belong to pattern hash '", Printable(stored),
        "', the pattern now has hash '", Printable(pattern_hash), "'"));
  }
  if (older) {
    // States of both versions decode; new ones are written in this one.
    store.PutMeta(kMetaFormatVersion, format_version);
    CEP_RETURN_IF_ERROR(store.Commit());
  }
  CEP_ASSIGN_OR_RETURN(std::optional<std::string> count,
                       store.GetMeta(kMetaKeyCount));
  uint64_t keys = 0;
  if (count.has_value() && !absl::SimpleAtoi(*count, &keys)) {
    return absl::DataLossError(absl::StrCat(
        where, ": key count '", Printable(*count), "' is not a number"));
  }
  return keys;
}

}  // namespace internal

}  // namespace cep
