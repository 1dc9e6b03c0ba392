// PlanReload: see reload_plan.hpp.

#include "reload_plan.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../io/io_util.hpp"

namespace cep::run {

using io::Cat;

namespace {

std::string Keys(size_t count) {
  return Cat(count, count == 1 ? " key" : " keys");
}

}  // namespace

ReloadPlan PlanReload(const std::vector<HeldVersion>& held,
                      const std::vector<std::string>& next_structures,
                      const PatternFile& next,
                      const std::vector<std::string>& changed, bool waiting) {
  ReloadPlan plan;
  const std::vector<FilePattern>& patterns = next.patterns();
  std::vector<bool> taken(held.size(), false);
  for (size_t idx = 0; idx < patterns.size(); ++idx) {
    std::optional<size_t> from;
    for (size_t h = 0; h < held.size(); ++h) {
      if (taken[h] || held[h].structure != next_structures[idx]) continue;
      // A current version first (a draining one has the same structure
      // only when a pattern went back to it).
      if (!from || (held[h].current && !held[*from].current)) from = h;
    }
    if (from) taken[*from] = true;
    plan.takes_over.push_back(from);
  }
  for (size_t h = 0; h < held.size(); ++h) {
    if (!taken[h] && (held[h].live_keys > 0 || waiting)) {
      plan.drains.push_back(h);
    }
  }
  // What changed, with the file that says so.
  std::vector<std::pair<std::string, std::string>> changes;  // file, text
  auto current_named = [&](const std::string& name) -> std::optional<size_t> {
    for (size_t h = 0; h < held.size(); ++h) {
      if (held[h].current && held[h].name == name) return h;
    }
    return std::nullopt;
  };
  for (size_t idx = 0; idx < patterns.size(); ++idx) {
    const FilePattern& pattern = patterns[idx];
    const std::optional<size_t> current = current_named(pattern.name);
    if (!current) {
      changes.emplace_back(pattern.filename,
                           Cat("pattern '", pattern.name, "' added"));
    } else if (plan.takes_over[idx] != current) {
      changes.emplace_back(
          pattern.filename,
          Cat("pattern '", pattern.name, "' changed (old version drains ",
              Keys(held[*current].live_keys), ")"));
    }
  }
  for (const HeldVersion& version : held) {
    if (version.current && next.FindPattern(version.name) == nullptr) {
      changes.emplace_back(version.filename,
                           Cat("pattern '", version.name, "' removed (drains ",
                               Keys(version.live_keys), ")"));
    }
  }
  std::vector<std::string> lines(changed.size());
  for (const auto& [file, text] : changes) {
    size_t at = 0;  // a file not among the changed: the first one's line
    for (size_t idx = 0; idx < changed.size(); ++idx) {
      if (changed[idx] == file) at = idx;
    }
    if (at < lines.size()) {
      lines[at] += lines[at].empty() ? text : Cat(", ", text);
    }
  }
  for (size_t idx = 0; idx < changed.size(); ++idx) {
    plan.messages.push_back(
        Cat("reloaded ", changed[idx], ": ",
            lines[idx].empty() ? "no pattern changed" : lines[idx]));
  }
  return plan;
}

}  // namespace cep::run
