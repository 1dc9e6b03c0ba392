// cep/shared_buffer.hpp — one key's events and partial-match paths, shared.
//
// Partial matches that share a prefix share its nodes: a node is one event
// taken by one stage, with edges back to the nodes it extended, each edge
// labelled with the Dewey number of the branch that made it (FlinkCEP's
// SharedBuffer, after SASE). A branch is just (node, version): nothing is
// copied when a Kleene closure branches. Nodes, edges and events are
// reference counted; releasing a branch frees the edges, nodes and events
// only it used, as FlinkCEP does since FLINK-32701. A node shared by many
// branches (a hot key under FollowedByAny) indexes its edges by version, so
// locking and releasing one branch does not scan every edge.
// Everything is addressed by index, so the buffer serializes as plain data:
// AppendTo / ReadFrom, used by EncodeKeyState (key_state_codec.hpp).
//
// Example (what the Evaluator does on a TAKE):
//   uint32_t e = buffer.AddEvent(event, ts, seq);  // once per event
//   uint32_t node = buffer.Put(stage, e, previous_node, version);
//   buffer.Lock(node, next_version);   // the new partial match's reference
//   ...
//   buffer.Extract(node, next_version, path);  // (stage, event) from the start
//   buffer.Release(node, next_version);
//   buffer.ReleaseEvent(e);                   // when the event is done
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

#include "cep/codec.hpp"
#include "cep/internal/dewey_number.hpp"

namespace cep {

inline constexpr uint32_t kNoNode = std::numeric_limits<uint32_t>::max();

template <typename Event>
class SharedBuffer {
 public:
  struct EventEntry {
    std::optional<Event> event;  // empty while the slot is free
    int64_t timestamp = 0;       // milliseconds
    uint64_t seq = 0;
    uint32_t refs = 0;  // nodes of this event, +1 while being processed
    // The nodes made for this event, by stage: (stage, node).
    absl::InlinedVector<std::pair<uint32_t, uint32_t>, 2> nodes;
  };
  struct Edge {
    uint32_t previous = kNoNode;  // kNoNode: the path starts here
    internal::DeweyNumber version;
    uint32_t refs = 0;     // branches that may continue through this edge
    bool removed = false;  // released by every branch; kept until compaction
  };
  // Finds a node's edges compatible with a version without scanning them
  // all: a hot key's shared node can have one edge per branch.
  struct EdgeIndex {
    // Edge positions by the hash of the whole version / all but its last
    // digit (DeweyNumber::PrefixHash).
    absl::flat_hash_map<uint64_t, absl::InlinedVector<uint32_t, 1>> by_version;
    absl::flat_hash_map<uint64_t, absl::InlinedVector<uint32_t, 1>> by_prefix;
  };
  struct Node {
    uint32_t stage = 0;
    uint32_t event = 0;
    uint32_t refs = 0;  // branches ending here + edges pointing here
    uint32_t removed_edges = 0;
    absl::InlinedVector<Edge, 1> edges;
    std::unique_ptr<EdgeIndex> index;  // only for nodes with many edges
  };
  // One step of an extracted path.
  struct PathStep {
    uint32_t stage;
    uint32_t event;
  };

  // Stores a copy of `event`, holding one reference for the caller (the
  // event being processed): ReleaseEvent() drops it. The slot is freed when
  // neither the caller nor any node refers to it.
  uint32_t AddEvent(const Event& event, int64_t timestamp, uint64_t seq) {
    uint32_t slot;
    if (free_event_ != kNoNode) {
      slot = free_event_;
      free_event_ = static_cast<uint32_t>(Entry(slot).seq);
    } else {
      if (event_slots_ % kChunk == 0) {
        event_chunks_.push_back(std::make_unique<EventEntry[]>(kChunk));
      }
      slot = event_slots_++;
    }
    EventEntry& entry = Entry(slot);
    entry.event.emplace(event);
    entry.timestamp = timestamp;
    entry.seq = seq;
    entry.refs = 1;
    ++live_events_;
    return slot;
  }

  // Drops the caller's reference taken by AddEvent().
  void ReleaseEvent(uint32_t slot) { UnrefEvent(slot); }

  // Records that `stage` took event `event` after `previous` on the branch
  // `version`: finds or makes the node for (stage, event) and adds an edge,
  // which references (previous, version). The node starts unreferenced:
  // Lock() it for the partial match.
  uint32_t Put(uint32_t stage, uint32_t event, uint32_t previous,
               const internal::DeweyNumber& version) {
    Lock(previous, version);
    EventEntry& entry = Entry(event);
    uint32_t node = kNoNode;
    for (const auto& [node_stage, index] : entry.nodes) {
      if (node_stage == stage) node = index;
    }
    if (node == kNoNode) {
      node = NewNode(stage, event);
      entry.nodes.emplace_back(stage, node);
      ++entry.refs;
    }
    Node& n = nodes_[node];
    n.edges.push_back(Edge{previous, version, 0, false});
    if (n.index != nullptr) {
      IndexEdge(n, static_cast<uint32_t>(n.edges.size() - 1));
    } else if (n.edges.size() > kIndexAbove) {
      BuildIndex(n);
    }
    return node;
  }

  // Adds a reference to the branch (node, version): to the node and to every
  // edge of it the branch may continue through (FlinkCEP's lockNode).
  void Lock(uint32_t node, const internal::DeweyNumber& version) {
    if (node == kNoNode) return;
    Node& n = nodes_[node];
    ++n.refs;
    ForEachCompatibleEdge(n, version, [](Edge& edge) { ++edge.refs; });
  }

  // Drops the reference of the branch (node, version); edges no branch
  // continues through any more are removed, releasing what they referenced,
  // and unreferenced nodes and events are freed (FlinkCEP's releaseNode).
  void Release(uint32_t node, const internal::DeweyNumber& version) {
    if (node == kNoNode) return;
    // What to release next: a branch's (node, version).
    absl::InlinedVector<std::pair<uint32_t, internal::DeweyNumber>, 4> stack;
    stack.push_back({node, version});
    while (!stack.empty()) {
      auto [n, v] = std::move(stack.back());
      stack.pop_back();
      Node& current = nodes_[n];
      ForEachCompatibleEdge(current, v, [&](Edge& edge) {
        if (!ReleaseCount(edge.refs)) return;
        if (edge.previous != kNoNode) {
          stack.push_back({edge.previous, edge.version});
        }
        edge.removed = true;
        ++current.removed_edges;
      });
      if (ReleaseCount(current.refs)) {
        // Edges still here hold references nobody released: let them go.
        for (Edge& edge : current.edges) {
          if (!edge.removed && edge.previous != kNoNode) {
            stack.push_back({edge.previous, edge.version});
          }
        }
        FreeNode(n);
      } else {
        CompactEdges(current);
      }
    }
  }

  // Writes into `path` the events of the branch `version` that ends at
  // `node`, from its first event on. Returns false if no path exists.
  bool Extract(uint32_t node, const internal::DeweyNumber& version,
               std::vector<PathStep>& path) const {
    path.clear();
    if (node == kNoNode) return true;
    struct Frame {
      uint32_t node;
      const internal::DeweyNumber* version;
      uint32_t depth;
    };
    std::vector<Frame> stack;
    std::vector<uint32_t> reversed;
    stack.push_back({node, &version, 0});
    while (!stack.empty()) {
      Frame f = stack.back();
      stack.pop_back();
      if (f.node == kNoNode) {
        reversed.resize(f.depth);
        for (size_t i = reversed.size(); i-- > 0;) {
          path.push_back(
              {nodes_[reversed[i]].stage, nodes_[reversed[i]].event});
        }
        return true;
      }
      reversed.resize(f.depth);
      reversed.push_back(f.node);
      for (const Edge& edge : nodes_[f.node].edges) {
        if (!edge.removed && f.version->IsCompatibleWith(edge.version)) {
          stack.push_back({edge.previous, &edge.version, f.depth + 1});
        }
      }
    }
    return false;
  }

  // ---- serialization -------------------------------------------------------

  // Appends the live events and nodes to `out` in a canonical order: events
  // by (timestamp, seq), nodes by (their event's position, stage). Equal
  // contents give equal bytes whatever slots they occupy, and free slots and
  // removed edges take no space. Sets `node_ids[i]` to the number node i has
  // in the encoding (kNoNode for a free slot): whoever holds node indices
  // from outside the buffer writes them through it. O(n log n) in the
  // events held, plus the size of the nodes and edges.
  //
  // Format (varints unless said; "zigzag" for signed, deltas wrap mod 2^64):
  //   event count; per event: zigzag timestamp - previous event's timestamp,
  //     zigzag seq - previous event's seq (the first event's deltas are from
  //     0), refs, the event (`events`)
  //   node count; per node: event number - previous node's (from 0), stage,
  //     refs, edge count; per edge: previous node's number + 1 (0: the path
  //     starts here), version (length, digits), refs
  void AppendTo(std::string& out, const Codec<Event>& events,
                std::vector<uint32_t>& node_ids) const {
    std::vector<uint32_t> order;  // live event slots, in canonical order
    order.reserve(live_events_);
    for (uint32_t slot = 0; slot < event_slots_; ++slot) {
      if (event(slot).event.has_value()) order.push_back(slot);
    }
    std::sort(order.begin(), order.end(), [this](uint32_t a, uint32_t b) {
      const EventEntry& x = event(a);
      const EventEntry& y = event(b);
      if (x.timestamp != y.timestamp) return x.timestamp < y.timestamp;
      if (x.seq != y.seq) return x.seq < y.seq;
      return a < b;
    });
    internal::PutVarint(out, order.size());
    uint64_t previous_ts = 0, previous_seq = 0;
    for (uint32_t slot : order) {
      const EventEntry& entry = event(slot);
      const auto ts = static_cast<uint64_t>(entry.timestamp);
      internal::PutSignedVarint(out, static_cast<int64_t>(ts - previous_ts));
      internal::PutSignedVarint(out,
                                static_cast<int64_t>(entry.seq - previous_seq));
      internal::PutVarint(out, entry.refs);
      events.Encode(*entry.event, out);
      previous_ts = ts;
      previous_seq = entry.seq;
    }
    // Live nodes are exactly those listed by live events (FreeNode unlists).
    std::vector<std::pair<uint32_t, uint32_t>> stage_nodes;  // (stage, node)
    std::vector<std::pair<uint32_t, uint32_t>> nodes;  // (event number, node)
    nodes.reserve(live_nodes_);
    for (uint32_t event_number = 0; event_number < order.size();
         ++event_number) {
      const EventEntry& entry = event(order[event_number]);
      stage_nodes.assign(entry.nodes.begin(), entry.nodes.end());
      std::sort(stage_nodes.begin(), stage_nodes.end());
      for (const auto& [stage, node] : stage_nodes) {
        nodes.emplace_back(event_number, node);
      }
    }
    node_ids.assign(nodes_.size(), kNoNode);
    for (uint32_t id = 0; id < nodes.size(); ++id) {
      node_ids[nodes[id].second] = id;
    }
    internal::PutVarint(out, nodes.size());
    uint32_t previous_event = 0;
    for (const auto& [event_number, index] : nodes) {
      const Node& n = nodes_[index];
      internal::PutVarint(out, event_number - previous_event);
      previous_event = event_number;
      internal::PutVarint(out, n.stage);
      internal::PutVarint(out, n.refs);
      internal::PutVarint(
          out, std::count_if(n.edges.begin(), n.edges.end(),
                             [](const Edge& edge) { return !edge.removed; }));
      for (const Edge& edge : n.edges) {
        if (edge.removed) continue;
        internal::PutVarint(out, edge.previous == kNoNode
                                     ? 0
                                     : uint64_t{node_ids[edge.previous]} + 1);
        internal::PutDeweyNumber(out, edge.version);
        internal::PutVarint(out, edge.refs);
      }
    }
  }

  // Replaces the contents with what AppendTo wrote at the front of `in`,
  // consuming it; node i of the encoding becomes node i. The result has no
  // free slots, and edge indexes are rebuilt where AppendTo's buffer would
  // have them, so it behaves as the encoded buffer did.
  // kDataLoss, with a message naming the part ("truncated in node 12 of 40",
  // counting from 0), when `in` is truncated or does not describe a
  // consistent buffer: out-of-range references, events or nodes out of
  // canonical order, a cycle of edges, event references fewer than the
  // event's nodes. Node reference counts are not checked here: they include
  // references from outside (the KeyState's computations). On error the
  // buffer is empty. REQUIRES: Event is default-constructible.
  [[nodiscard]] absl::Status ReadFrom(std::string_view& in,
                                      const Codec<Event>& events) {
    SharedBuffer fresh;
    absl::Status status = fresh.ReadFromImpl(in, events);
    *this = status.ok() ? std::move(fresh) : SharedBuffer();
    return status;
  }

  const EventEntry& event(uint32_t slot) const {
    return event_chunks_[slot / kChunk][slot % kChunk];
  }
  const Node& node(uint32_t index) const { return nodes_[index]; }
  // Events and nodes alive.
  size_t event_count() const { return live_events_; }
  size_t node_count() const { return live_nodes_; }
  bool empty() const { return live_events_ == 0 && live_nodes_ == 0; }

 private:
  absl::Status ReadFromImpl(std::string_view& in, const Codec<Event>& events) {
    using internal::GetVarint32;
    // A varint fails to read when the input ends inside it or it is too
    // long: call the first "truncated", the second "corrupt".
    auto truncated = [&in](absl::string_view what, uint32_t i, uint32_t count) {
      return absl::DataLossError(
          absl::StrCat(in.empty() ? "truncated" : "corrupt", " in ", what, " ",
                       i, " of ", count));
    };
    // Counts are not trusted: slots are allocated as their contents are
    // read, so a corrupt count fails when the input runs out.
    uint32_t event_count = 0;
    if (!GetVarint32(in, event_count)) {
      return absl::DataLossError(absl::StrCat(
          in.empty() ? "truncated" : "corrupt", " in the event count"));
    }
    uint64_t ts = 0, seq = 0;
    for (uint32_t slot = 0; slot < event_count; ++slot) {
      int64_t ts_delta = 0, seq_delta = 0;
      uint32_t refs = 0;
      if (!internal::GetSignedVarint(in, ts_delta) ||
          !internal::GetSignedVarint(in, seq_delta) || !GetVarint32(in, refs)) {
        return truncated("event", slot, event_count);
      }
      const uint64_t previous_ts = ts, previous_seq = seq;
      ts += static_cast<uint64_t>(ts_delta);
      seq += static_cast<uint64_t>(seq_delta);
      if (slot > 0 &&
          (static_cast<int64_t>(ts) < static_cast<int64_t>(previous_ts) ||
           (ts == previous_ts && seq < previous_seq))) {
        return absl::DataLossError(absl::StrCat(
            "event ", slot, " of ", event_count, " is out of order (timestamp ",
            static_cast<int64_t>(ts), ", seq ", seq, " after ",
            static_cast<int64_t>(previous_ts), ", ", previous_seq, ")"));
      }
      if (refs == 0) {
        return absl::DataLossError(absl::StrCat(
            "event ", slot, " of ", event_count, " has no references"));
      }
      if (event_slots_ % kChunk == 0) {
        event_chunks_.push_back(std::make_unique<EventEntry[]>(kChunk));
      }
      ++event_slots_;
      EventEntry& entry = Entry(slot);
      entry.event.emplace();
      if (absl::Status status = events.Decode(in, *entry.event); !status.ok()) {
        return absl::DataLossError(absl::StrCat(
            "event ", slot, " of ", event_count, ": ", status.message()));
      }
      entry.timestamp = static_cast<int64_t>(ts);
      entry.seq = seq;
      entry.refs = refs;
      ++live_events_;
    }
    uint32_t node_count = 0;
    if (!GetVarint32(in, node_count)) {
      return absl::DataLossError(absl::StrCat(
          in.empty() ? "truncated" : "corrupt", " in the node count"));
    }
    // A node takes at least 4 bytes.
    nodes_.reserve(std::min<size_t>(node_count, in.size() / 4));
    uint32_t event_number = 0;
    for (uint32_t index = 0; index < node_count; ++index) {
      uint32_t event_delta = 0, stage = 0, refs = 0, edge_count = 0;
      if (!GetVarint32(in, event_delta) || !GetVarint32(in, stage) ||
          !GetVarint32(in, refs) || !GetVarint32(in, edge_count)) {
        return truncated("node", index, node_count);
      }
      const uint32_t previous_event = event_number;
      if (event_delta >= event_count - event_number) {
        return absl::DataLossError(absl::StrCat(
            "node ", index, " of ", node_count, " refers to event ",
            uint64_t{event_number} + event_delta, " of ", event_count));
      }
      event_number += event_delta;
      Node& n = nodes_.emplace_back();
      n.stage = stage;
      n.event = event_number;
      n.refs = refs;
      if (index > 0 && event_number == previous_event &&
          stage <= nodes_[index - 1].stage) {
        return absl::DataLossError(
            absl::StrCat("node ", index, " of ", node_count, " (stage ", stage,
                         " of event ", event_number, ") is out of order"));
      }
      for (uint32_t edge_idx = 0; edge_idx < edge_count; ++edge_idx) {
        uint64_t previous_plus_one = 0;
        Edge& edge = n.edges.emplace_back();
        if (!internal::GetVarint(in, previous_plus_one) ||
            !internal::GetDeweyNumber(in, edge.version) ||
            !GetVarint32(in, edge.refs)) {
          return absl::DataLossError(absl::StrCat(
              in.empty() ? "truncated" : "corrupt", " in edge ", edge_idx,
              " of ", edge_count, " of node ", index, " of ", node_count));
        }
        if (previous_plus_one > node_count) {
          return absl::DataLossError(absl::StrCat(
              "edge ", edge_idx, " of node ", index, " of ", node_count,
              " refers to node ", previous_plus_one - 1));
        }
        edge.previous = previous_plus_one == 0
                            ? kNoNode
                            : static_cast<uint32_t>(previous_plus_one - 1);
      }
      EventEntry& entry = Entry(event_number);
      entry.nodes.emplace_back(stage, index);
      if (entry.nodes.size() > entry.refs) {
        return absl::DataLossError(
            absl::StrCat("event ", event_number, " of ", event_count, " has ",
                         entry.refs, " references but more nodes"));
      }
      if (n.edges.size() > kIndexAbove) BuildIndex(n);
      ++live_nodes_;
    }
    return CheckAcyclic();
  }

  // Extract and Release follow edges back to the start of a path: a cycle
  // (only possible in corrupt input) would make them loop forever.
  absl::Status CheckAcyclic() const {
    enum : uint8_t { kUnvisited, kOnPath, kDone };
    std::vector<uint8_t> mark(nodes_.size(), kUnvisited);
    std::vector<std::pair<uint32_t, uint32_t>> stack;  // (node, next edge)
    for (uint32_t root = 0; root < nodes_.size(); ++root) {
      if (mark[root] != kUnvisited) continue;
      mark[root] = kOnPath;
      stack.emplace_back(root, 0);
      while (!stack.empty()) {
        auto& [index, next_edge] = stack.back();
        const Node& n = nodes_[index];
        if (next_edge == n.edges.size()) {
          mark[index] = kDone;
          stack.pop_back();
          continue;
        }
        const uint32_t previous = n.edges[next_edge++].previous;
        if (previous == kNoNode || mark[previous] == kDone) continue;
        if (mark[previous] == kOnPath) {
          return absl::DataLossError(absl::StrCat("node ", previous, " of ",
                                                  nodes_.size(),
                                                  " is on a cycle of edges"));
        }
        mark[previous] = kOnPath;
        stack.emplace_back(previous, 0);
      }
    }
    return absl::OkStatus();
  }

  uint32_t NewNode(uint32_t stage, uint32_t event) {
    uint32_t index;
    if (free_node_ != kNoNode) {
      index = free_node_;
      free_node_ = nodes_[index].event;
    } else {
      index = static_cast<uint32_t>(nodes_.size());
      nodes_.emplace_back();
    }
    Node& n = nodes_[index];
    n.stage = stage;
    n.event = event;
    n.refs = 0;
    n.edges.clear();
    ++live_nodes_;
    return index;
  }

  EventEntry& Entry(uint32_t slot) {
    return event_chunks_[slot / kChunk][slot % kChunk];
  }

  void UnrefEvent(uint32_t slot) {
    EventEntry& entry = Entry(slot);
    if (--entry.refs > 0) return;
    entry.event.reset();
    entry.seq = free_event_;  // free slots form a list through `seq`
    free_event_ = slot;
    --live_events_;
  }

  // Calls fn(edge) for every live edge of `n` that `version` is compatible
  // with: by scanning, or through the node's index.
  template <typename Fn>
  static void ForEachCompatibleEdge(Node& n,
                                    const internal::DeweyNumber& version,
                                    Fn&& fn) {
    if (n.index == nullptr) {
      for (Edge& edge : n.edges) {
        if (!edge.removed && version.IsCompatibleWith(edge.version)) fn(edge);
      }
      return;
    }
    // Compatible: a proper prefix of `version` (looked up by the hash of
    // each prefix), or the same length with the same digits but a last
    // digit not larger (looked up by the hash of all but the last digit).
    // Hash hits are checked exactly.
    const size_t length = version.length();
    uint64_t prefix = 0;  // hash of the first m - 1 digits
    for (size_t m = 1; m <= length; ++m) {
      const uint64_t whole =
          internal::DeweyNumber::MixHash(prefix, version.digit(m - 1));
      const auto& map = m < length ? n.index->by_version : n.index->by_prefix;
      auto it = map.find(m < length ? whole : prefix);
      if (it != map.end()) {
        for (uint32_t position : it->second) {
          Edge& edge = n.edges[position];
          if (!edge.removed && edge.version.length() == m &&
              version.IsCompatibleWith(edge.version)) {
            fn(edge);
          }
        }
      }
      prefix = whole;
    }
  }

  static void IndexEdge(Node& n, uint32_t position) {
    const internal::DeweyNumber& v = n.edges[position].version;
    const size_t length = v.length();
    n.index->by_version[v.PrefixHash(length)].push_back(position);
    n.index->by_prefix[v.PrefixHash(length - 1)].push_back(position);
  }

  static void BuildIndex(Node& n) {
    n.index = std::make_unique<EdgeIndex>();
    for (uint32_t i = 0; i < n.edges.size(); ++i) {
      if (!n.edges[i].removed) IndexEdge(n, i);
    }
  }

  // Drops removed edges once they are half of the node's edges.
  static void CompactEdges(Node& n) {
    if (n.removed_edges == 0 || n.removed_edges * 2 < n.edges.size()) return;
    size_t kept = 0;
    for (size_t i = 0; i < n.edges.size(); ++i) {
      if (n.edges[i].removed) continue;
      if (kept != i) n.edges[kept] = std::move(n.edges[i]);
      ++kept;
    }
    n.edges.resize(kept);
    n.removed_edges = 0;
    if (n.edges.size() > kIndexAbove) {
      BuildIndex(n);
    } else {
      n.index.reset();
    }
  }

  // Lockable.release(): true when the count reaches (or was already) zero.
  static bool ReleaseCount(uint32_t& refs) {
    if (refs == 0) return true;
    return --refs == 0;
  }

  void FreeNode(uint32_t index) {
    Node& n = nodes_[index];
    EventEntry& entry = Entry(n.event);
    for (size_t i = 0; i < entry.nodes.size(); ++i) {
      if (entry.nodes[i].second == index) {
        entry.nodes.erase(entry.nodes.begin() + i);
        break;
      }
    }
    UnrefEvent(n.event);
    n.edges.clear();
    n.index.reset();
    n.removed_edges = 0;
    n.event = free_node_;  // free nodes form a list through `event`
    free_node_ = index;
    --live_nodes_;
  }

  // Events live in fixed-size chunks, so references to them stay valid while
  // new ones are added (a condition's view of matched events survives a TAKE
  // in the same step), and a key that never took an event allocates none.
  static constexpr uint32_t kChunk = 16;
  // Nodes with more edges than this get an EdgeIndex.
  static constexpr size_t kIndexAbove = 16;
  std::vector<std::unique_ptr<EventEntry[]>> event_chunks_;
  uint32_t event_slots_ = 0;
  uint32_t free_event_ = kNoNode;  // head of the free slot list
  uint32_t free_node_ = kNoNode;   // head of the free node list
  std::vector<Node> nodes_;
  uint32_t live_events_ = 0;
  uint32_t live_nodes_ = 0;
};

}  // namespace cep
