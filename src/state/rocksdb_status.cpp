#include "rocksdb_status.hpp"

#include <string>

#include "absl/strings/str_cat.h"

namespace cep::internal {

namespace {

absl::StatusCode CodeOf(const rocksdb::Status& status) {
  // Corruption first: RocksDB reports some corruption found while reading
  // files with an I/O-looking subcode, and data loss is the stronger claim.
  if (status.IsCorruption()) return absl::StatusCode::kDataLoss;
  if (status.IsIOError() || status.IsBusy() || status.IsTimedOut() ||
      status.IsTryAgain() || status.IsIncomplete() ||
      status.IsShutdownInProgress() || status.IsColumnFamilyDropped()) {
    return absl::StatusCode::kUnavailable;
  }
  if (status.IsNotFound()) return absl::StatusCode::kNotFound;
  if (status.IsInvalidArgument()) return absl::StatusCode::kInvalidArgument;
  if (status.IsNotSupported()) return absl::StatusCode::kUnimplemented;
  if (status.IsAborted()) return absl::StatusCode::kAborted;
  return absl::StatusCode::kUnknown;
}

}  // namespace

absl::Status FromRocksDbStatus(const rocksdb::Status& status,
                               absl::string_view what) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(CodeOf(status),
                      absl::StrCat(what, ": ", status.ToString()));
}

}  // namespace cep::internal
