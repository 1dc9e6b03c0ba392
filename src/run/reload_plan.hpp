// ReloadPlan: what a live reload (`cep run --watch`) does with each version
// of each pattern, and what it says about it. Pure bookkeeping: the run
// (run.cpp) moves the state accordingly, in memory or through the durable
// state (checkpoint.hpp), which decides the same way by namespace.
// Internal to src/run/: not installed, not under include/.
//
// The rules, for the versions the run holds (current ones, and old ones
// still draining) and the patterns of the new files:
//   - a new pattern whose structure (StructureText: name, key, automaton)
//     is that of a version held goes on with that version's state (an
//     unchanged pattern keeps its state untouched; a version that was
//     draining becomes current again);
//   - any other new pattern starts fresh;
//   - a held version nothing goes on with drains (its old definition runs
//     on without starting partial matches with events read from then on)
//     when some key holds a partial match of it, or when events read before
//     the swap still wait for the watermark (they may start some); it is
//     dropped otherwise.
//
// Example:
//   ReloadPlan plan = PlanReload(held, next_structures, *next_file,
//                                {"fraud.cep"});
//   // plan.messages[0]: "reloaded fraud.cep: pattern 'p' changed (old
//   //                    version drains 3 keys), pattern 'q' added"
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "cep/dsl.hpp"

namespace cep::run {

// One version of a pattern the run holds before the reload.
struct HeldVersion {
  std::string name;
  std::string structure;  // StructureText
  std::string filename;   // the file that declared it
  bool current = true;    // false: an old version draining
  size_t live_keys = 0;   // keys holding a partial match of it
};

struct ReloadPlan {
  // Per pattern of the new file, in its order: the held version whose
  // state it goes on with, or nullopt (fresh).
  std::vector<std::optional<size_t>> takes_over;
  // Held versions that drain, in held order (the others not taken over are
  // dropped).
  std::vector<size_t> drains;
  // One line per changed file, without "cep: ": "reloaded FILE: pattern
  // 'p' changed (old version drains N keys), pattern 'q' added, pattern
  // 'r' removed (drains 1 key)", or "reloaded FILE: no pattern changed".
  // N: keys holding a partial match of the old version (0: it is dropped).
  std::vector<std::string> messages;
};

// `next_structures`: StructureText of each pattern of `next`, in order;
// `changed`: the paths whose content changed, in command-line order;
// `waiting`: whether events wait for the watermark at the swap.
ReloadPlan PlanReload(const std::vector<HeldVersion>& held,
                      const std::vector<std::string>& next_structures,
                      const PatternFile& next,
                      const std::vector<std::string>& changed,
                      bool waiting = false);

}  // namespace cep::run
