// cep/internal/run_dag.hpp — the shared DAG of partial matches that a
// SharedRunsEvaluator (shared_runs_evaluator.hpp) keeps per key.
//
// Every partial match ("run") of a key is a path in this DAG, read from its
// newest node back to the node where it started. A node is one step that a
// whole set of runs made on one event (kTake: the runs took the event into a
// stage; kSkip: they skipped it along one of several branches), pointing to
// the set of runs it extended, or a union of sets (kUnion) that reached the
// same NFA state. Each step node records its position among the successors
// its runs had on that event (`digit`): the per-run evaluator keeps runs
// with the same first event in exactly the order of these positions, so the
// digits along a path, oldest first, are the run's order key.
//
// Nodes point only to older nodes and are addressed by index (no pointers),
// so the DAG is plain data: it can be compacted by renumbering and
// serialized (AppendTo / ReadFrom, which checks every reference).
//
// Example (what the evaluator does on a TAKE of event 7 by stage 1 from the
// runs in `head`, the successor at position 0):
//   uint32_t node = dag.AddStep(RunNode::Kind::kTake, 0, 1, 7, head);
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

#include "cep/codec.hpp"

namespace cep::internal {

inline constexpr uint32_t kNoRunNode = std::numeric_limits<uint32_t>::max();

struct RunNode {
  enum class Kind : uint8_t { kTake, kSkip, kUnion };
  Kind kind = Kind::kTake;
  // kTake / kSkip: position among the successors of its runs on its event.
  uint32_t digit = 0;
  // kTake: the stage that took the event, and the event (an index into the
  // owner's event list).
  uint32_t stage = 0;
  uint32_t event = 0;
  // kTake / kSkip: the set of runs this step extends; kNoRunNode when the
  // runs start here (a kTake from the start state).
  uint32_t previous = kNoRunNode;
  // kUnion: its member nodes are members[first_member, +member_count).
  uint32_t first_member = 0;
  uint32_t member_count = 0;
  // Timestamps of the first events of the runs through this node (bounds:
  // after compaction some may have expired).
  int64_t min_start = 0;
  int64_t max_start = 0;
  // The sequence number of the newest first event (by timestamp, then
  // sequence number) of the runs through this node: with max_start, the
  // newest start, which after-match skipping compares against.
  uint64_t max_start_seq = 0;
  // The runs through this node (paths back to their first step), modulo
  // 2^64: derived from the older nodes when the node is made, compacted or
  // read, never serialized. Runs whose window passed count until a
  // compaction drops their nodes.
  uint64_t runs = 1;
};

// Whether (ts_a, seq_a) comes after (ts_b, seq_b).
inline bool StartsAfter(int64_t ts_a, uint64_t seq_a, int64_t ts_b,
                        uint64_t seq_b) {
  return ts_a != ts_b ? ts_a > ts_b : seq_a > seq_b;
}

// Raises the newest start of `n` to that of `other` if later.
inline void TakeNewestStart(RunNode& n, const RunNode& other) {
  if (StartsAfter(other.max_start, other.max_start_seq, n.max_start,
                  n.max_start_seq)) {
    n.max_start = other.max_start;
    n.max_start_seq = other.max_start_seq;
  }
}

class RunDag {
 public:
  const RunNode& node(uint32_t index) const { return nodes_[index]; }
  size_t size() const { return nodes_.size(); }
  const std::vector<RunNode>& nodes() const { return nodes_; }
  const std::vector<uint32_t>& members() const { return members_; }
  uint32_t member(uint32_t index) const { return members_[index]; }

  // A step from the runs in `previous` (kNoRunNode: runs starting here on
  // the event with timestamp `start_ts` and sequence number `start_seq`).
  uint32_t AddStep(RunNode::Kind kind, uint32_t digit, uint32_t stage,
                   uint32_t event, uint32_t previous, int64_t start_ts,
                   uint64_t start_seq = 0) {
    RunNode n;
    n.kind = kind;
    n.digit = digit;
    n.stage = stage;
    n.event = event;
    n.previous = previous;
    if (previous == kNoRunNode) {
      n.min_start = n.max_start = start_ts;
      n.max_start_seq = start_seq;
    } else {
      n.min_start = nodes_[previous].min_start;
      n.max_start = nodes_[previous].max_start;
      n.max_start_seq = nodes_[previous].max_start_seq;
      n.runs = nodes_[previous].runs;
    }
    nodes_.push_back(n);
    return static_cast<uint32_t>(nodes_.size() - 1);
  }

  // The union of `count` nodes starting at `first` (at least two).
  uint32_t AddUnion(const uint32_t* first, size_t count) {
    RunNode n;
    n.kind = RunNode::Kind::kUnion;
    n.first_member = static_cast<uint32_t>(members_.size());
    n.member_count = static_cast<uint32_t>(count);
    n.min_start = std::numeric_limits<int64_t>::max();
    n.max_start = std::numeric_limits<int64_t>::min();
    n.max_start_seq = 0;
    n.runs = 0;
    for (size_t i = 0; i < count; ++i) {
      members_.push_back(first[i]);
      n.min_start = std::min(n.min_start, nodes_[first[i]].min_start);
      TakeNewestStart(n, nodes_[first[i]]);
      n.runs += nodes_[first[i]].runs;
    }
    nodes_.push_back(n);
    return static_cast<uint32_t>(nodes_.size() - 1);
  }

  // Keeps only the nodes reachable from `roots` through nodes for which
  // `alive(node)` holds (their runs have not all expired), renumbering them
  // in their old order; `roots` are updated in place, union members that
  // are not kept are dropped and start bounds recomputed. Sets
  // `event_used[e]` for every event a kept kTake refers to (events are not
  // renumbered here: call RenumberEvents). Returns the number of nodes
  // reclaimed. O(nodes), in two sequential passes.
  template <typename Alive>
  size_t Compact(std::vector<uint32_t>& roots, Alive&& alive,
                 std::vector<bool>& event_used) {
    // Nodes point only to older ones: one sweep from the newest marks
    // everything reachable, reading the nodes in order.
    std::vector<uint32_t>& renumber = renumber_;
    renumber.assign(nodes_.size(), kNoRunNode);
    constexpr uint32_t kSeen = kNoRunNode - 1;
    for (uint32_t root : roots) {
      if (root != kNoRunNode && alive(nodes_[root])) renumber[root] = kSeen;
    }
    for (size_t index = nodes_.size(); index-- > 0;) {
      if (renumber[index] != kSeen) continue;
      const RunNode& n = nodes_[index];
      if (n.kind == RunNode::Kind::kUnion) {
        for (uint32_t m = 0; m < n.member_count; ++m) {
          uint32_t member = members_[n.first_member + m];
          if (alive(nodes_[member])) renumber[member] = kSeen;
        }
      } else if (n.previous != kNoRunNode) {
        renumber[n.previous] = kSeen;
      }
    }
    // Built in the buffers of the previous compaction, then swapped: a key
    // in steady state compacts without allocating.
    std::vector<RunNode>& kept = spare_nodes_;
    std::vector<uint32_t>& kept_members = spare_members_;
    kept.clear();
    kept_members.clear();
    for (uint32_t index = 0; index < nodes_.size(); ++index) {
      if (renumber[index] == kNoRunNode) continue;
      renumber[index] = static_cast<uint32_t>(kept.size());
      RunNode n = nodes_[index];
      if (n.kind == RunNode::Kind::kUnion) {
        const uint32_t first = static_cast<uint32_t>(kept_members.size());
        n.min_start = std::numeric_limits<int64_t>::max();
        n.max_start = std::numeric_limits<int64_t>::min();
        n.max_start_seq = 0;
        n.runs = 0;
        for (uint32_t m = 0; m < n.member_count; ++m) {
          uint32_t member = members_[n.first_member + m];
          if (renumber[member] == kNoRunNode || renumber[member] == kSeen) {
            continue;
          }
          const uint32_t moved = renumber[member];
          kept_members.push_back(moved);
          n.min_start = std::min(n.min_start, kept[moved].min_start);
          TakeNewestStart(n, kept[moved]);
          n.runs += kept[moved].runs;
        }
        n.first_member = first;
        n.member_count = static_cast<uint32_t>(kept_members.size() - first);
      } else {
        if (n.kind == RunNode::Kind::kTake) {
          if (event_used.size() <= n.event) event_used.resize(n.event + 1);
          event_used[n.event] = true;
        }
        if (n.previous != kNoRunNode) {
          n.previous = renumber[n.previous];
          n.min_start = kept[n.previous].min_start;
          n.max_start = kept[n.previous].max_start;
          n.max_start_seq = kept[n.previous].max_start_seq;
          n.runs = kept[n.previous].runs;
        }
      }
      kept.push_back(n);
    }
    for (uint32_t& root : roots) {
      if (root == kNoRunNode) continue;
      const uint32_t moved = renumber[root];
      root = moved == kNoRunNode || moved == kSeen ? kNoRunNode : moved;
    }
    const size_t reclaimed = nodes_.size() - kept.size();
    nodes_.swap(kept);
    members_.swap(kept_members);
    return reclaimed;
  }

  // Applies an event renumbering (kNoRunNode: dropped) to every kTake.
  void RenumberEvents(const std::vector<uint32_t>& renumber) {
    for (RunNode& n : nodes_) {
      if (n.kind == RunNode::Kind::kTake) n.event = renumber[n.event];
    }
  }

  void Clear() {
    nodes_.clear();
    members_.clear();
  }

  // Appends the nodes: their count, then per node its kind, its fields and
  // the start bounds (with the newest start's sequence number); references as
  // distances back (1: the node before).
  void AppendTo(std::string& out) const {
    PutVarint(out, nodes_.size());
    for (uint32_t index = 0; index < nodes_.size(); ++index) {
      const RunNode& n = nodes_[index];
      out.push_back(static_cast<char>(n.kind));
      if (n.kind == RunNode::Kind::kUnion) {
        PutVarint(out, n.member_count);
        for (uint32_t m = 0; m < n.member_count; ++m) {
          PutVarint(out, index - members_[n.first_member + m]);
        }
      } else {
        PutVarint(out, n.digit);
        if (n.kind == RunNode::Kind::kTake) {
          PutVarint(out, n.stage);
          PutVarint(out, n.event);
        }
        PutVarint(out, n.previous == kNoRunNode ? 0 : index - n.previous);
      }
      PutSignedVarint(out, n.min_start);
      PutSignedVarint(out, n.max_start);
      PutVarint(out, n.max_start_seq);
    }
  }

  // Replaces the nodes with those AppendTo() wrote at the front of `in`,
  // consuming it. kTake nodes must refer to events below `event_count`, and
  // every reference to an older node. kDataLoss saying what is wrong.
  [[nodiscard]] absl::Status ReadFrom(std::string_view& in,
                                      uint32_t event_count) {
    Clear();
    uint32_t count = 0;
    if (!GetVarint32(in, count)) return Cut(in, "the node count");
    // A node takes at least 4 bytes: storage grows only as nodes are read.
    nodes_.reserve(std::min<size_t>(count, in.size() / 4));
    for (uint32_t index = 0; index < count; ++index) {
      auto node_error = [&](absl::string_view what) {
        return absl::DataLossError(
            absl::StrCat("node ", index, " of ", count, " ", what));
      };
      if (in.empty())
        return Cut(in, absl::StrCat("node ", index, " of ", count));
      const auto kind = static_cast<uint8_t>(in.front());
      in.remove_prefix(1);
      if (kind > static_cast<uint8_t>(RunNode::Kind::kUnion)) {
        return node_error(absl::StrCat("has the unknown kind ", kind));
      }
      RunNode n;
      n.kind = static_cast<RunNode::Kind>(kind);
      bool ok = true;
      if (n.kind == RunNode::Kind::kUnion) {
        ok = GetVarint32(in, n.member_count);
        n.first_member = static_cast<uint32_t>(members_.size());
        for (uint32_t m = 0; ok && m < n.member_count; ++m) {
          uint32_t back = 0;
          ok = GetVarint32(in, back);
          if (ok && (back == 0 || back > index)) {
            return node_error(absl::StrCat("refers to ", back, " nodes back"));
          }
          if (ok) members_.push_back(index - back);
        }
      } else {
        uint32_t back = 0;
        ok = GetVarint32(in, n.digit);
        if (ok && n.kind == RunNode::Kind::kTake) {
          ok = GetVarint32(in, n.stage) && GetVarint32(in, n.event);
          if (ok && n.event >= event_count) {
            return node_error(
                absl::StrCat("refers to event ", n.event, " of ", event_count));
          }
        }
        ok = ok && GetVarint32(in, back);
        if (ok && back > index) {
          return node_error(absl::StrCat("refers to ", back, " nodes back"));
        }
        n.previous = back == 0 ? kNoRunNode : index - back;
      }
      if (!ok || !GetSignedVarint(in, n.min_start) ||
          !GetSignedVarint(in, n.max_start) ||
          !GetVarint(in, n.max_start_seq)) {
        return Cut(in, absl::StrCat("node ", index, " of ", count));
      }
      n.runs = RunsOf(n);
      nodes_.push_back(n);
    }
    return absl::OkStatus();
  }

 private:
  // RunNode::runs of `n`, from the older nodes it refers to.
  uint64_t RunsOf(const RunNode& n) const {
    if (n.kind != RunNode::Kind::kUnion) {
      return n.previous == kNoRunNode ? 1 : nodes_[n.previous].runs;
    }
    uint64_t runs = 0;
    for (uint32_t m = 0; m < n.member_count; ++m) {
      runs += nodes_[members_[n.first_member + m]].runs;
    }
    return runs;
  }

  static absl::Status Cut(std::string_view in, absl::string_view what) {
    return absl::DataLossError(
        absl::StrCat(in.empty() ? "truncated" : "corrupt", " in ", what));
  }

  std::vector<RunNode> nodes_;
  std::vector<uint32_t> members_;
  // Scratch of Compact(), kept for reuse (not part of the state's value).
  std::vector<RunNode> spare_nodes_;
  std::vector<uint32_t> spare_members_;
  std::vector<uint32_t> renumber_;
};

}  // namespace cep::internal
