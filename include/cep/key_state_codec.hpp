// cep/key_state_codec.hpp — one key's state (key_state.hpp) as bytes.
//
// A serializing StateBackend (state.hpp) stores each key's KeyState as the
// bytes EncodeKeyState writes and rebuilds it with DecodeKeyState; events go
// through the backend's Codec<Event> (codec.hpp). The encoding is compact
// (varints, only live events and nodes), deterministic (the same state gives
// the same bytes, whichever buffer slots it happens to occupy) and versioned.
// A decoded state continues exactly as the encoded one would have: same
// matches, same timeouts, in the same order. Decoding checks what it reads
// (lengths against the input left, every reference, reference counts,
// cycles), so corrupt bytes give kDataLoss, never a crash or an unbounded
// allocation.
//
// NOTE: the NFA is not part of the state: decode with the pattern the state
// was written for. NFA state and stage numbers are not checked against it.
//
// Format, version 2 (varints unless said; "zigzag" marks signed ones):
//   format version (kKeyStateFormatVersion)
//   a form byte: 0 per run, 1 shared (KeyState::shared_runs())
//   per run, the body of version 1:
//     shared buffer (SharedBuffer::AppendTo: events, then nodes with edges)
//     partial count, then each computation; completed count, then each:
//       NFA state; node number + 1 (0: none); version (length, digits);
//       a flags byte (1: has a start, 2: start fields follow; 0, 2 or 3);
//       if flag 2: zigzag start timestamp, start seq;
//       zigzag previous timestamp - start timestamp (0 without flag 2);
//       aggregate count, then each: a byte 0 (empty: AggregateValue{}) or 1,
//         then zigzag count and sum, min, max, first, last as 8 bytes each.
//   shared: SharedRunsState::AppendTo (heads, window, events, DAG).
// Version 1 (the per-run body without the form byte) is still read.
//
// Example:
//   std::string bytes;
//   cep::EncodeKeyState(state, event_codec, bytes);
//   cep::KeyState<Txn> back;
//   CEP_RETURN_IF_ERROR(cep::DecodeKeyState(bytes, event_codec, back));
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

#include "cep/codec.hpp"
#include "cep/condition.hpp"
#include "cep/event.hpp"
#include "cep/key_state.hpp"
#include "cep/shared_buffer.hpp"

namespace cep {

// The format EncodeKeyState writes. DecodeKeyState also reads
// kOldestKeyStateFormatVersion.
inline constexpr uint32_t kKeyStateFormatVersion = 2;
inline constexpr uint32_t kOldestKeyStateFormatVersion = 1;

// The form byte of version 2.
inline constexpr char kPerRunForm = 0;
inline constexpr char kSharedRunsForm = 1;

namespace internal {

inline bool IsEmptyAggregate(const AggregateValue& value) {
  // Bitwise, so that -0.0 or a NaN is not mistaken for the default.
  const AggregateValue empty;
  return value.count == 0 &&
         std::bit_cast<uint64_t>(value.sum) ==
             std::bit_cast<uint64_t>(empty.sum) &&
         std::bit_cast<uint64_t>(value.min) ==
             std::bit_cast<uint64_t>(empty.min) &&
         std::bit_cast<uint64_t>(value.max) ==
             std::bit_cast<uint64_t>(empty.max) &&
         std::bit_cast<uint64_t>(value.first) ==
             std::bit_cast<uint64_t>(empty.first) &&
         std::bit_cast<uint64_t>(value.last) ==
             std::bit_cast<uint64_t>(empty.last);
}

inline void PutComputation(std::string& out, const Computation& comp,
                           const std::vector<uint32_t>& node_ids) {
  PutVarint(out, comp.state);
  // A computation's node is live (it holds a reference to it).
  PutVarint(out, comp.node == kNoNode || comp.node >= node_ids.size()
                     ? 0
                     : uint64_t{node_ids[comp.node]} + 1);
  PutDeweyNumber(out, comp.version);
  const bool start_fields =
      comp.has_start || comp.start_ts != 0 || comp.start_seq != 0;
  out.push_back(
      static_cast<char>((comp.has_start ? 1 : 0) | (start_fields ? 2 : 0)));
  if (start_fields) {
    PutSignedVarint(out, comp.start_ts);
    PutVarint(out, comp.start_seq);
  }
  PutSignedVarint(out,
                  static_cast<int64_t>(static_cast<uint64_t>(comp.previous_ts) -
                                       static_cast<uint64_t>(comp.start_ts)));
  PutVarint(out, comp.aggregates.size());
  for (const AggregateValue& value : comp.aggregates) {
    if (IsEmptyAggregate(value)) {
      out.push_back(0);
      continue;
    }
    out.push_back(1);
    PutSignedVarint(out, value.count);
    PutDouble(out, value.sum);
    PutDouble(out, value.min);
    PutDouble(out, value.max);
    PutDouble(out, value.first);
    PutDouble(out, value.last);
  }
}

// Reads a computation into `comp`. On failure returns what went wrong, to be
// placed after "in <list> computation i of n: ".
inline absl::Status GetComputation(std::string_view& in, uint32_t node_count,
                                   Computation& comp) {
  auto fail = [&in](absl::string_view what) {
    return absl::DataLossError(
        absl::StrCat(in.empty() ? "truncated" : "corrupt", " ", what));
  };
  uint64_t node_plus_one = 0;
  if (!GetVarint32(in, comp.state)) return fail("NFA state");
  if (!GetVarint(in, node_plus_one)) return fail("node");
  if (node_plus_one > node_count) {
    return absl::DataLossError(
        absl::StrCat("refers to node ", node_plus_one - 1, " of ", node_count));
  }
  comp.node =
      node_plus_one == 0 ? kNoNode : static_cast<uint32_t>(node_plus_one - 1);
  if (!GetDeweyNumber(in, comp.version)) return fail("version");
  if (in.empty()) return fail("flags");
  const auto flags = static_cast<uint8_t>(in.front());
  in.remove_prefix(1);
  if (flags != 0 && flags != 2 && flags != 3) {
    return absl::DataLossError(absl::StrCat("unknown flags ", flags));
  }
  comp.has_start = (flags & 1) != 0;
  comp.start_ts = 0;
  comp.start_seq = 0;
  if ((flags & 2) != 0 &&
      (!GetSignedVarint(in, comp.start_ts) || !GetVarint(in, comp.start_seq))) {
    return fail("start");
  }
  int64_t previous_delta = 0;
  if (!GetSignedVarint(in, previous_delta)) return fail("previous timestamp");
  comp.previous_ts =
      static_cast<int64_t>(static_cast<uint64_t>(comp.start_ts) +
                           static_cast<uint64_t>(previous_delta));
  uint32_t aggregate_count = 0;
  if (!GetVarint32(in, aggregate_count)) return fail("aggregate count");
  comp.aggregates.clear();
  // Grown as read, so a corrupt count cannot allocate beyond the input.
  comp.aggregates.reserve(std::min<size_t>(aggregate_count, in.size()));
  for (uint32_t agg_idx = 0; agg_idx < aggregate_count; ++agg_idx) {
    AggregateValue& value = comp.aggregates.emplace_back();
    const std::string what = absl::StrCat("aggregate ", agg_idx);
    if (in.empty()) return fail(what);
    const auto tag = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    if (tag == 0) continue;
    if (tag != 1) {
      return absl::DataLossError(
          absl::StrCat("unknown tag ", tag, " of aggregate ", agg_idx));
    }
    if (!GetSignedVarint(in, value.count) || !GetDouble(in, value.sum) ||
        !GetDouble(in, value.min) || !GetDouble(in, value.max) ||
        !GetDouble(in, value.first) || !GetDouble(in, value.last)) {
      return fail(what);
    }
  }
  return absl::OkStatus();
}

// A computation takes at least 7 bytes.
inline constexpr size_t kMinComputationBytes = 7;

}  // namespace internal

// Appends the encoding of `state` to `out`; it starts with
// kKeyStateFormatVersion. Events are written with `events`. O(size of the
// state), plus sorting its events.
template <typename Event>
void EncodeKeyState(const KeyState<Event>& state, const Codec<Event>& events,
                    std::string& out) {
  internal::PutVarint(out, kKeyStateFormatVersion);
  if (const SharedRunsState<Event>* shared = state.shared_runs()) {
    out.push_back(kSharedRunsForm);
    shared->AppendTo(out, events);
    return;
  }
  out.push_back(kPerRunForm);
  std::vector<uint32_t> node_ids;
  state.buffer().AppendTo(out, events, node_ids);
  for (const std::vector<Computation>* list :
       {&state.partial(), &state.completed()}) {
    internal::PutVarint(out, list->size());
    for (const Computation& comp : *list) {
      internal::PutComputation(out, comp, node_ids);
    }
  }
}

// Replaces `state` with the one encoded in `in`, which must be exactly what
// EncodeKeyState wrote (nothing may follow). kDataLoss naming what failed
// ("key state: truncated in node 12 of 40", counting from 0; "key state:
// format version 7, this build reads 1"); `state` is then a fresh state.
// REQUIRES: Event is default-constructible.
template <typename Event>
[[nodiscard]] absl::Status DecodeKeyState(std::string_view in,
                                          const Codec<Event>& events,
                                          KeyState<Event>& state) {
  auto fail = [&state](absl::string_view what) {
    state = KeyState<Event>();
    return absl::DataLossError(absl::StrCat("key state: ", what));
  };
  uint64_t version = 0;
  if (!internal::GetVarint(in, version)) {
    return fail(in.empty() ? "truncated in the format version"
                           : "corrupt format version");
  }
  if (version != kKeyStateFormatVersion &&
      version != kOldestKeyStateFormatVersion) {
    return fail(absl::StrCat("format version ", version, ", this build reads ",
                             kOldestKeyStateFormatVersion, " to ",
                             kKeyStateFormatVersion));
  }
  char form = kPerRunForm;
  if (version == kKeyStateFormatVersion) {
    if (in.empty()) return fail("truncated in the form");
    form = in.front();
    in.remove_prefix(1);
    if (form != kPerRunForm && form != kSharedRunsForm) {
      return fail(absl::StrCat("unknown form ", static_cast<int>(form)));
    }
  }
  if (form == kSharedRunsForm) {
    if (absl::Status status = state.UseSharedRuns().ReadFrom(in, events);
        !status.ok()) {
      return fail(status.message());
    }
    if (!in.empty()) {
      return fail(absl::StrCat(in.size(), " bytes after the end"));
    }
    return absl::OkStatus();
  }
  state.UsePerRun();
  if (absl::Status status = state.buffer().ReadFrom(in, events); !status.ok()) {
    return fail(status.message());
  }
  const SharedBuffer<Event>& buffer = state.buffer();
  const auto node_count = static_cast<uint32_t>(buffer.node_count());
  // References each node should have: computations ending there and edges
  // leading back to it.
  std::vector<uint32_t> expected_refs(node_count, 0);
  for (uint32_t index = 0; index < node_count; ++index) {
    for (const auto& edge : buffer.node(index).edges) {
      if (edge.previous != kNoNode) ++expected_refs[edge.previous];
    }
  }
  for (std::vector<Computation>* list :
       {&state.partial(), &state.completed()}) {
    const char* name = list == &state.partial() ? "partial" : "completed";
    uint32_t count = 0;
    if (!internal::GetVarint32(in, count)) {
      return fail(absl::StrCat(in.empty() ? "truncated" : "corrupt", " in the ",
                               name, " count"));
    }
    list->clear();
    // Grown as read, so a corrupt count cannot allocate beyond the input.
    list->reserve(
        std::min<size_t>(count, in.size() / internal::kMinComputationBytes));
    for (uint32_t comp_idx = 0; comp_idx < count; ++comp_idx) {
      Computation& comp = list->emplace_back();
      if (absl::Status status = internal::GetComputation(in, node_count, comp);
          !status.ok()) {
        return fail(absl::StrCat("in ", name, " computation ", comp_idx, " of ",
                                 count, ": ", status.message()));
      }
      if (comp.node != kNoNode) ++expected_refs[comp.node];
    }
  }
  if (!in.empty()) {
    return fail(absl::StrCat(in.size(), " bytes after the end"));
  }
  for (uint32_t index = 0; index < node_count; ++index) {
    const uint32_t refs = buffer.node(index).refs;
    if (refs != expected_refs[index] || refs == 0) {
      return fail(absl::StrCat("node ", index, " of ", node_count, " has ",
                               refs, " references, ", expected_refs[index],
                               " lead to it"));
    }
  }
  return absl::OkStatus();
}

// Instantiated once in src/state/record_codec.cpp.
extern template void EncodeKeyState<Record>(const KeyState<Record>&,
                                            const Codec<Record>&, std::string&);
extern template absl::Status DecodeKeyState<Record>(std::string_view,
                                                    const Codec<Record>&,
                                                    KeyState<Record>&);

}  // namespace cep
