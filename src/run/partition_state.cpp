// PartitionStates: see partition_state.hpp.

#include "partition_state.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "cep/codec.hpp"
#include "cep/internal/status_macros.hpp"
#include "cep/key_state_codec.hpp"

#include "../io/io_util.hpp"

namespace cep::run {
namespace {

using io::Cat;

constexpr uint64_t kMarkerVersion = 1;

std::vector<const Schema*> SchemasOf(const PatternFile& file) {
  std::vector<const Schema*> schemas;
  for (const auto& schema : file.schemas()) schemas.push_back(schema.get());
  return schemas;
}

// A hash of a record's value that is never 0 (0: must be written again).
uint64_t ValueHash(std::string_view bytes) { return absl::HashOf(bytes) | 1; }

bool Contains(const std::vector<uint32_t>& partitions, uint32_t partition) {
  return std::find(partitions.begin(), partitions.end(), partition) !=
         partitions.end();
}

}  // namespace

std::optional<uint32_t> PartitionOfState(const KeyState<Record>& state) {
  if (const SharedRunsState<Record>* shared = state.shared_runs()) {
    if (!shared->events().empty()) {
      return KafkaSeqPartition(shared->events().front().seq);
    }
    if (!shared->held().empty()) {
      return KafkaSeqPartition(shared->held().front().start_seq);
    }
    return std::nullopt;
  }
  for (const auto* branches : {&state.partial(), &state.completed()}) {
    for (const Computation& computation : *branches) {
      if (computation.has_start) {
        return KafkaSeqPartition(computation.start_seq);
      }
    }
  }
  return std::nullopt;
}

PartitionStates::PartitionStates(PartitionLog& log, const PatternFile& file)
    : log_(log), record_codec_(SchemasOf(file)) {}

std::string PartitionStates::RecordKey(const std::string& pattern,
                                       const Value& key) {
  std::string out = Cat("k", pattern);
  out += '\0';
  value_codec_.Encode(key, out);
  return out;
}

absl::Status PartitionStates::Write(
    const std::vector<PartitionPosition>& positions,
    const std::vector<NamedBackend>& backends,
    const RuntimeSnapshot<Record>& snapshot) {
  absl::flat_hash_map<uint32_t, absl::flat_hash_set<std::string>> seen;
  for (const PartitionPosition& position : positions) {
    seen[position.partition];
    written_[position.partition];
  }
  for (const NamedBackend& named : backends) {
    CEP_RETURN_IF_ERROR(named.backend->ForEach(
        [&](const Value& key, KeyState<Record>& state) -> absl::Status {
          if (state.IsIdle()) return absl::OkStatus();
          const std::optional<uint32_t> partition = PartitionOfState(state);
          if (!partition.has_value()) return absl::OkStatus();
          auto owned = seen.find(*partition);
          if (owned == seen.end()) return absl::OkStatus();
          std::string record_key = RecordKey(named.name, key);
          bytes_.clear();
          EncodeKeyState(state, record_codec_, bytes_);
          const uint64_t hash = ValueHash(bytes_);
          uint64_t& logged = written_[*partition][record_key];
          if (logged != hash) {
            CEP_RETURN_IF_ERROR(
                log_.Put(static_cast<int32_t>(*partition), record_key, bytes_));
            logged = hash;
          }
          owned->second.insert(std::move(record_key));
          return absl::OkStatus();
        }));
  }
  std::string marker;
  for (const PartitionPosition& position : positions) {
    const uint32_t partition = position.partition;
    const int32_t number = static_cast<int32_t>(partition);
    absl::flat_hash_map<std::string, uint64_t>& logged = written_[partition];
    const absl::flat_hash_set<std::string>& live = seen[partition];
    for (auto it = logged.begin(); it != logged.end();) {
      if (live.contains(it->first)) {
        ++it;
        continue;
      }
      CEP_RETURN_IF_ERROR(log_.Put(number, it->first, std::nullopt));
      logged.erase(it++);
    }
    marker.clear();
    internal::PutVarint(marker, kMarkerVersion);
    internal::PutVarint(marker, position.position.offset);
    internal::PutVarint(marker, position.position.line_no);
    internal::PutSignedVarint(marker, ToMillis(snapshot.max_ts));
    internal::PutSignedVarint(marker, ToMillis(snapshot.source_watermark));
    internal::PutSignedVarint(marker, ToMillis(snapshot.operator_watermark));
    std::vector<const HeldEvent<Record>*> pending;
    for (const HeldEvent<Record>& held : snapshot.pending) {
      if (KafkaSeqPartition(held.seq) == partition) pending.push_back(&held);
    }
    internal::PutVarint(marker, pending.size());
    for (const HeldEvent<Record>* held : pending) {
      internal::PutSignedVarint(marker, ToMillis(held->ts));
      internal::PutVarint(marker, held->seq);
      bytes_.clear();
      record_codec_.Encode(held->event, bytes_);
      internal::PutLengthPrefixed(marker, bytes_);
    }
    CEP_RETURN_IF_ERROR(log_.Put(number, kChangelogMarkerKey, marker));
  }
  return log_.Flush();
}

absl::StatusOr<RestoredPartition> PartitionStates::Read(uint32_t partition) {
  CEP_ASSIGN_OR_RETURN(ChangelogContents contents,
                       log_.Read(static_cast<int32_t>(partition)));
  RestoredPartition restored;
  restored.partition = partition;
  restored.unfinished = std::move(contents.unfinished);
  if (!contents.marker.has_value()) {
    // No checkpoint finished: nothing before the unfinished records counts.
    return restored;
  }
  restored.keys = std::move(contents.values);
  std::string_view in = *contents.marker;
  auto corrupt = [&] {
    return absl::DataLossError(Cat(log_.name(), ": error: partition ",
                                   partition, ": the marker does not decode"));
  };
  uint64_t version = 0;
  SourcePosition position;
  int64_t max_ts = 0;
  int64_t source_watermark = 0;
  int64_t operator_watermark = 0;
  uint64_t count = 0;
  if (!internal::GetVarint(in, version) || version != kMarkerVersion ||
      !internal::GetVarint(in, position.offset) ||
      !internal::GetVarint(in, position.line_no) ||
      !internal::GetSignedVarint(in, max_ts) ||
      !internal::GetSignedVarint(in, source_watermark) ||
      !internal::GetSignedVarint(in, operator_watermark) ||
      !internal::GetVarint(in, count) || count > in.size()) {
    return corrupt();
  }
  restored.position = position;
  restored.max_ts = FromMillis(max_ts);
  restored.source_watermark = FromMillis(source_watermark);
  restored.operator_watermark = FromMillis(operator_watermark);
  for (uint64_t idx = 0; idx < count; ++idx) {
    HeldEvent<Record>& held = restored.pending.emplace_back();
    int64_t ts = 0;
    std::string_view bytes;
    if (!internal::GetSignedVarint(in, ts) ||
        !internal::GetVarint(in, held.seq) ||
        !internal::GetLengthPrefixed(in, bytes) ||
        !record_codec_.Decode(bytes, held.event).ok()) {
      return corrupt();
    }
    held.ts = FromMillis(ts);
  }
  return restored;
}

absl::Status PartitionStates::Apply(const std::vector<uint32_t>& keep,
                                    std::vector<RestoredPartition> restored,
                                    const std::vector<NamedBackend>& backends,
                                    RuntimeSnapshot<Record>& snapshot) {
  // What goes: the keys and waiting events of partitions not kept.
  for (const NamedBackend& named : backends) {
    std::vector<Value> dropped;
    CEP_RETURN_IF_ERROR(named.backend->ForEach(
        [&](const Value& key, KeyState<Record>& state) -> absl::Status {
          const std::optional<uint32_t> partition = PartitionOfState(state);
          if (!partition.has_value() || !Contains(keep, *partition)) {
            dropped.push_back(key);
          }
          return absl::OkStatus();
        }));
    for (const Value& key : dropped) {
      CEP_RETURN_IF_ERROR(named.backend->Erase(key));
    }
  }
  std::erase_if(snapshot.pending, [&keep](const HeldEvent<Record>& held) {
    return !Contains(keep, KafkaSeqPartition(held.seq));
  });
  for (auto it = written_.begin(); it != written_.end();) {
    if (Contains(keep, it->first)) {
      ++it;
    } else {
      written_.erase(it++);
    }
  }
  // What comes: the restored partitions.
  for (RestoredPartition& partition : restored) {
    absl::flat_hash_map<std::string, uint64_t>& logged =
        written_[partition.partition];
    for (const auto& [record_key, bytes] : partition.keys) {
      logged[record_key] = ValueHash(bytes);
      const size_t end = record_key.find('\0');
      if (record_key.empty() || record_key[0] != 'k' ||
          end == std::string::npos) {
        return absl::DataLossError(
            Cat(log_.name(), ": error: partition ", partition.partition,
                ": a record key is not k<pattern>\\0<key>"));
      }
      const std::string_view name =
          std::string_view(record_key).substr(1, end - 1);
      auto named = std::find_if(
          backends.begin(), backends.end(),
          [name](const NamedBackend& b) { return b.name == name; });
      if (named == backends.end()) continue;
      std::string_view key_bytes = std::string_view(record_key).substr(end + 1);
      Value key;
      absl::Status decoded = value_codec_.Decode(key_bytes, key);
      CEP_ASSIGN_OR_RETURN(KeyState<Record> * state, named->backend->Get(key));
      if (decoded.ok()) {
        decoded = DecodeKeyState(bytes, record_codec_, *state);
      }
      if (!decoded.ok()) {
        return absl::DataLossError(Cat(log_.name(), ": error: partition ",
                                       partition.partition, ": ",
                                       std::string(decoded.message())));
      }
      CEP_RETURN_IF_ERROR(named->backend->Put(key, *state));
    }
    // Written again (or tombstoned) by the next Write.
    for (const std::string& record_key : partition.unfinished) {
      logged[record_key] = 0;
    }
    if (!partition.position.has_value()) continue;
    snapshot.max_ts = std::min(snapshot.max_ts, partition.max_ts);
    snapshot.source_watermark =
        std::min(snapshot.source_watermark, partition.source_watermark);
    snapshot.operator_watermark =
        std::min(snapshot.operator_watermark, partition.operator_watermark);
    for (HeldEvent<Record>& held : partition.pending) {
      snapshot.pending.push_back(std::move(held));
    }
  }
  std::sort(snapshot.pending.begin(), snapshot.pending.end(),
            [](const HeldEvent<Record>& a, const HeldEvent<Record>& b) {
              return a.ts != b.ts ? a.ts < b.ts : a.seq < b.seq;
            });
  return absl::OkStatus();
}

}  // namespace cep::run
