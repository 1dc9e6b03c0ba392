// RocksDbStore (cep/rocksdb_state.hpp): the only file that talks to RocksDB,
// with rocksdb_status.cpp for its statuses.
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

struct RocksDbStore::Impl {
  ~Impl() {
    if (db == nullptr) return;
    for (rocksdb::ColumnFamilyHandle* handle : handles) {
      // Only fails for the default family's handle, which is not ours to
      // destroy; nothing to do about it either way.
      db->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
    }
    // Close() flushes nothing we rely on: committed data is in the WAL.
    db->Close().PermitUncheckedError();
  }

  // "rocksdb state at '<path>': <what>", for messages.
  std::string What(absl::string_view what) const {
    return absl::StrCat("rocksdb state at '", options.path, "': ", what);
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

  absl::StatusOr<std::optional<std::string>> Read(
      rocksdb::ColumnFamilyHandle* family, const rocksdb::Slice& key) {
    rocksdb::PinnableSlice value;
    rocksdb::Status s = batch.GetFromBatchAndDB(
        db.get(), rocksdb::ReadOptions(), family, key, &value);
    if (s.IsNotFound()) return std::nullopt;
    if (!s.ok()) return internal::FromRocksDbStatus(s, What("read"));
    return std::string(value.data(), value.size());
  }

  absl::Status Scan(
      const rocksdb::Slice* prefix,
      absl::FunctionRef<absl::Status(std::string_view, std::string_view)> fn) {
    std::unique_ptr<rocksdb::Iterator> it(batch.NewIteratorWithBase(
        state, db->NewIterator(rocksdb::ReadOptions(), state)));
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

  RocksDbStoreOptions options;
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // as opened
  rocksdb::ColumnFamilyHandle* state = nullptr;
  rocksdb::ColumnFamilyHandle* meta = nullptr;
  // overwrite_key: reads through the batch see the last write of a key.
  rocksdb::WriteBatchWithIndex batch{rocksdb::BytewiseComparator(), 0,
                                     /*overwrite_key=*/true};
  rocksdb::WriteOptions write_options;
  std::string scratch_key;
};

RocksDbStore::RocksDbStore(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}

RocksDbStore::~RocksDbStore() = default;

absl::StatusOr<std::unique_ptr<RocksDbStore>> RocksDbStore::Open(
    const RocksDbStoreOptions& options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError("rocksdb state: no path given");
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  if (options.create_if_missing) {
    std::error_code error;
    std::filesystem::create_directories(options.path, error);
    if (error) {
      return absl::UnavailableError(impl->What(
          absl::StrCat("cannot create directory: ", error.message())));
    }
  }

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = options.create_if_missing;
  db_options.create_missing_column_families = true;

  rocksdb::BlockBasedTableOptions table_options;
  table_options.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  // A fresh key's first Get() is a miss; the filter answers it without
  // reading data blocks.
  table_options.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::ColumnFamilyOptions state_options;
  state_options.write_buffer_size = options.write_buffer_bytes;
  state_options.table_factory.reset(
      rocksdb::NewBlockBasedTableFactory(table_options));
  rocksdb::ColumnFamilyOptions meta_options;

  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
      {kStateFamily, state_options},
      {kMetaFamily, meta_options},
  };
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, options.path, families,
                                        &impl->handles, &db);
  if (!s.ok()) return internal::FromRocksDbStatus(s, impl->What("open"));
  impl->db.reset(db);
  impl->state = impl->handles[1];
  impl->meta = impl->handles[2];
  impl->write_options.sync = options.sync;
  impl->write_options.disableWAL = false;
  return std::unique_ptr<RocksDbStore>(new RocksDbStore(std::move(impl)));
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
  impl_->batch.Put(impl_->state, impl_->StateKey(key), ToSlice(value))
      .PermitUncheckedError();
}

void RocksDbStore::Delete(std::string_view key) {
  // As in Put(): cannot fail for keys under 4 GiB.
  impl_->batch.Delete(impl_->state, impl_->StateKey(key))
      .PermitUncheckedError();
}

absl::StatusOr<std::optional<std::string>> RocksDbStore::GetMeta(
    std::string_view name) {
  return impl_->Read(impl_->meta, ToSlice(name));
}

void RocksDbStore::PutMeta(std::string_view name, std::string_view value) {
  // As in Put(): cannot fail for keys under 4 GiB.
  impl_->batch.Put(impl_->meta, ToSlice(name), ToSlice(value))
      .PermitUncheckedError();
}

absl::Status RocksDbStore::Commit() {
  rocksdb::WriteBatch* batch = impl_->batch.GetWriteBatch();
  if (batch->Count() == 0) return absl::OkStatus();
  rocksdb::Status s = impl_->db->Write(impl_->write_options, batch);
  if (!s.ok()) return internal::FromRocksDbStatus(s, impl_->What("commit"));
  impl_->batch.Clear();
  return absl::OkStatus();
}

bool RocksDbStore::has_pending() const {
  return impl_->batch.GetWriteBatch()->Count() > 0;
}

size_t RocksDbStore::pending_bytes() const {
  return impl_->batch.GetDataSize();
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
  rocksdb::Status s = rocksdb::Checkpoint::Create(impl_->db.get(), &raw);
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  if (s.ok()) s = checkpoint->CreateCheckpoint(dir);
  return internal::FromRocksDbStatus(
      s, impl_->What(absl::StrCat("checkpoint to '", dir, "'")));
}

uint64_t RocksDbStore::EstimateKeyCount() const {
  uint64_t keys = 0;
  if (!impl_->db->GetIntProperty(impl_->state, "rocksdb.estimate-num-keys",
                                 &keys)) {
    return 0;
  }
  return keys;
}

const std::string& RocksDbStore::path() const { return impl_->options.path; }

namespace internal {

absl::StatusOr<uint64_t> CheckStateMeta(RocksDbStore& store,
                                        std::string_view format_version,
                                        std::string_view pattern_hash) {
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
  if (*stored_version != format_version) {
    return absl::FailedPreconditionError(absl::StrCat(
        where, ": states have format version ", *stored_version,
        ", this build reads version ", internal::ToAbsl(format_version)));
  }
  const std::string stored = stored_hash.value_or("");
  if (stored != pattern_hash) {
    return absl::FailedPreconditionError(absl::StrCat(
        where, ": states belong to pattern hash '", stored,
        "', the pattern now has hash '", internal::ToAbsl(pattern_hash), "'"));
  }
  CEP_ASSIGN_OR_RETURN(std::optional<std::string> count,
                       store.GetMeta(kMetaKeyCount));
  uint64_t keys = 0;
  if (count.has_value() && !absl::SimpleAtoi(*count, &keys)) {
    return absl::DataLossError(
        absl::StrCat(where, ": key count '", *count, "' is not a number"));
  }
  return keys;
}

}  // namespace internal

}  // namespace cep
