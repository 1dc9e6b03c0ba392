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
// Everything is addressed by index, so the buffer serializes as plain data.
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

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"

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

  const EventEntry& event(uint32_t slot) const {
    return event_chunks_[slot / kChunk][slot % kChunk];
  }
  const Node& node(uint32_t index) const { return nodes_[index]; }
  // Events and nodes alive.
  size_t event_count() const { return live_events_; }
  size_t node_count() const { return live_nodes_; }
  bool empty() const { return live_events_ == 0 && live_nodes_ == 0; }

 private:
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
