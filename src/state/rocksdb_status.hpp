// state/rocksdb_status.hpp — the one place rocksdb::Status becomes
// absl::Status (private to src/state/).
#pragma once

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "rocksdb/status.h"

namespace cep::internal {

// `status` as an absl::Status whose message starts with `what` (what was
// being done, and where: "rocksdb state at '/data/x': open"). Codes:
// corruption -> kDataLoss; I/O errors, busy, timed out, try again,
// incomplete, shutdown in progress -> kUnavailable; not found -> kNotFound;
// invalid argument -> kInvalidArgument; not supported -> kUnimplemented;
// aborted -> kAborted; anything else -> kUnknown. OK stays OK.
absl::Status FromRocksDbStatus(const rocksdb::Status& status,
                               absl::string_view what);

}  // namespace cep::internal
