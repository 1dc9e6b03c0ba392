// The worst-case partial-match analysis of pattern_bounds.hpp: one run's
// successors per state and per assignment of the conditions, then the
// strongly connected components of the state graph and the longest path,
// counted in factors n, from the start state to a component where runs wait.

#include "cep/pattern_bounds.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace cep {

std::string GrowthWords(const PatternBounds& bounds) {
  switch (bounds.growth) {
    case BoundGrowth::kConstant:
      return "constant";
    case BoundGrowth::kExponential:
      return "exponential";
    case BoundGrowth::kPolynomial:
      return bounds.degree == 1
                 ? "linear"
                 : absl::StrCat("polynomial of degree ", bounds.degree);
  }
  return "?";
}

namespace internal {
namespace {

// Conditions reached from one state beyond this many are not enumerated:
// every condition is then taken to hold (an overstatement, never an
// understatement).
constexpr size_t kMaxEnumeratedConditions = 12;
// A PROCEED closure longer than this is cut (the compiler refuses loops of
// PROCEED edges that can all hold; this only guards the analysis).
constexpr size_t kMaxClosureSteps = 4096;
// Transitions the analysis of one pattern visits before it stops
// enumerating: past it every condition is taken to hold, and every stay-and-
// leave counts as a factor n (overstatements at worst), so that `cep check`
// stays fast on the largest automata the compiler builds.
constexpr size_t kWorkBudget = size_t{1} << 25;

enum class Truth : uint8_t { kFalse, kTrue, kUnknown };

// The states one run moves to on one event, for one assignment: final
// states left out (a completed match is no longer partial).
struct Step {
  std::vector<uint32_t> targets;  // sorted; repeated when two edges lead there
  bool operator==(const Step&) const = default;
};

class Analyzer {
 public:
  Analyzer(const BoundsAutomaton& automaton,
           const std::vector<BoundsStage>& stages)
      : a_(automaton),
        states_(*automaton.states),
        stages_(stages),
        values_(automaton.user_conditions, Truth::kUnknown) {}

  PatternBounds Run() {
    ComputeSteps();
    ComputeComponents();
    return Classify();
  }

 private:
  // ---- one event from one state -------------------------------------------

  Truth Eval(ConditionIndex index) const {
    const ConditionNode& node = (*a_.conditions)[static_cast<size_t>(index)];
    switch (node.op) {
      case ConditionNode::Op::kTrue:
        return Truth::kTrue;
      case ConditionNode::Op::kUser:
        return values_[static_cast<size_t>(node.a)];
      case ConditionNode::Op::kNot: {
        const Truth v = Eval(node.a);
        if (v == Truth::kUnknown) return v;
        return v == Truth::kTrue ? Truth::kFalse : Truth::kTrue;
      }
      case ConditionNode::Op::kAnd: {
        const Truth x = Eval(node.a);
        if (x == Truth::kFalse) return x;
        const Truth y = Eval(node.b);
        if (y == Truth::kFalse) return y;
        return x == Truth::kTrue && y == Truth::kTrue ? Truth::kTrue
                                                      : Truth::kUnknown;
      }
      case ConditionNode::Op::kOr: {
        const Truth x = Eval(node.a);
        if (x == Truth::kTrue) return x;
        const Truth y = Eval(node.b);
        if (y == Truth::kTrue) return y;
        return x == Truth::kFalse && y == Truth::kFalse ? Truth::kFalse
                                                        : Truth::kUnknown;
      }
    }
    return Truth::kUnknown;
  }

  void CollectUsers(ConditionIndex index, std::vector<int32_t>& users) const {
    const ConditionNode& node = (*a_.conditions)[static_cast<size_t>(index)];
    switch (node.op) {
      case ConditionNode::Op::kTrue:
        return;
      case ConditionNode::Op::kUser:
        if (std::find(users.begin(), users.end(), node.a) == users.end()) {
          users.push_back(node.a);
        }
        return;
      case ConditionNode::Op::kNot:
        CollectUsers(node.a, users);
        return;
      case ConditionNode::Op::kAnd:
      case ConditionNode::Op::kOr:
        CollectUsers(node.a, users);
        CollectUsers(node.b, users);
        return;
    }
  }

  // The user conditions on the transitions of `from` and of every state
  // its PROCEED edges reach.
  std::vector<int32_t> ReachedUsers(uint32_t from) {
    std::vector<int32_t> users;
    std::vector<uint32_t> open = {from};
    absl::flat_hash_set<uint32_t> seen;
    while (!open.empty()) {
      const uint32_t s = open.back();
      open.pop_back();
      if (!seen.insert(s).second) continue;
      work_ += states_[s].transitions.size() + 1;
      for (const Transition& t : states_[s].transitions) {
        CollectUsers(t.condition, users);
        if (t.action == Action::kProceed) open.push_back(t.target);
      }
    }
    return users;
  }

  // The walk of internal/nfa_walk.hpp and Evaluator::AdvanceBranch: PROCEED
  // edges whose condition may hold are followed, TAKE and IGNORE edges that
  // may hold fire; the start computation ignores nothing; a fired edge into
  // a stop state discards the whole branch (nullopt).
  std::optional<Step> Walk(uint32_t from) {
    const bool from_start = from == a_.start_state;
    Step step;
    bool stop = false;
    std::vector<uint32_t> open = {from};
    size_t visits = 0;
    while (!open.empty() && visits++ < kMaxClosureSteps) {
      const uint32_t s = open.back();
      open.pop_back();
      work_ += states_[s].transitions.size() + 1;
      for (const Transition& t : states_[s].transitions) {
        if (from_start && t.action == Action::kIgnore) continue;
        if (Eval(t.condition) == Truth::kFalse) continue;
        if (t.action == Action::kProceed) {
          open.push_back(t.target);
          continue;
        }
        switch (states_[t.target].type) {
          case StateType::kStop:
            stop = true;
            break;
          case StateType::kFinal:
            break;
          case StateType::kNormal:
          case StateType::kPending:
            step.targets.push_back(t.target);
            break;
        }
      }
    }
    if (stop) return std::nullopt;
    std::sort(step.targets.begin(), step.targets.end());
    return step;
  }

  void ComputeSteps() {
    steps_.resize(states_.size());
    for (uint32_t s = 0; s < states_.size(); ++s) {
      const StateType type = states_[s].type;
      if (type == StateType::kFinal || type == StateType::kStop) continue;
      std::vector<int32_t> users;
      if (work_ < kWorkBudget) users = ReachedUsers(s);
      if (users.size() > kMaxEnumeratedConditions || work_ >= kWorkBudget) {
        users.clear();  // all unknown: every edge fires
      }
      const uint64_t assignments = uint64_t{1} << users.size();
      for (uint64_t bits = 0; bits < assignments; ++bits) {
        for (size_t u = 0; u < users.size(); ++u) {
          values_[static_cast<size_t>(users[u])] =
              (bits >> u) & 1 ? Truth::kTrue : Truth::kFalse;
        }
        std::optional<Step> step = Walk(s);
        if (step && !step->targets.empty() &&
            std::find(steps_[s].begin(), steps_[s].end(), *step) ==
                steps_[s].end()) {
          steps_[s].push_back(*std::move(step));
        }
      }
      for (const int32_t user : users) {
        values_[static_cast<size_t>(user)] = Truth::kUnknown;
      }
    }
  }

  // ---- components (Tarjan, iterative: automata reach 200000 states) ---------

  void ComputeComponents() {
    const size_t n = states_.size();
    successors_.assign(n, {});
    for (uint32_t s = 0; s < n; ++s) {
      for (const Step& step : steps_[s]) {
        for (const uint32_t t : step.targets) {
          if (std::find(successors_[s].begin(), successors_[s].end(), t) ==
              successors_[s].end()) {
            successors_[s].push_back(t);
          }
        }
      }
    }
    predecessors_.assign(n, {});
    for (uint32_t s = 0; s < n; ++s) {
      for (const uint32_t t : successors_[s]) predecessors_[t].push_back(s);
    }
    constexpr uint32_t kUnvisited = std::numeric_limits<uint32_t>::max();
    std::vector<uint32_t> index(n, kUnvisited), low(n, 0);
    std::vector<bool> on_stack(n, false);
    std::vector<uint32_t> stack;
    component_.assign(n, kUnvisited);
    uint32_t next_index = 0;
    struct Frame {
      uint32_t state;
      size_t edge;
    };
    for (uint32_t root = 0; root < n; ++root) {
      if (index[root] != kUnvisited) continue;
      std::vector<Frame> frames = {{root, 0}};
      index[root] = low[root] = next_index++;
      stack.push_back(root);
      on_stack[root] = true;
      while (!frames.empty()) {
        Frame& f = frames.back();
        if (f.edge < successors_[f.state].size()) {
          const uint32_t t = successors_[f.state][f.edge++];
          if (index[t] == kUnvisited) {
            index[t] = low[t] = next_index++;
            stack.push_back(t);
            on_stack[t] = true;
            frames.push_back({t, 0});
          } else if (on_stack[t]) {
            low[f.state] = std::min(low[f.state], index[t]);
          }
          continue;
        }
        const uint32_t s = f.state;
        frames.pop_back();
        if (!frames.empty()) {
          low[frames.back().state] = std::min(low[frames.back().state], low[s]);
        }
        if (low[s] == index[s]) {
          const uint32_t id = static_cast<uint32_t>(members_.size());
          members_.emplace_back();
          uint32_t member;
          do {
            member = stack.back();
            stack.pop_back();
            on_stack[member] = false;
            component_[member] = id;
            members_.back().push_back(member);
          } while (member != s);
        }
      }
    }
    // Tarjan completes a component after every component it leads to: ids
    // decrease along edges.
    cyclic_.assign(members_.size(), false);
    for (uint32_t c = 0; c < members_.size(); ++c) {
      for (const uint32_t s : members_[c]) {
        for (const uint32_t t : successors_[s]) {
          if (component_[t] == c) cyclic_[c] = true;
        }
      }
    }
  }

  // ---- classification ---------------------------------------------------

  struct Pred {
    uint32_t component = 0;
    uint32_t witness = 0;  // the state that branched, when `factor`
    bool factor = false;
  };

  PatternBounds Classify() {
    PatternBounds bounds;
    bounds.window = a_.window;
    constexpr int kUnreached = -1;
    const size_t count = members_.size();
    std::vector<int> best(count, kUnreached);
    std::vector<std::optional<Pred>> pred(count);
    const uint32_t start = component_[a_.start_state];
    best[start] = 0;
    std::optional<std::pair<uint32_t, uint32_t>> doubling;  // component, state
    for (uint32_t c = static_cast<uint32_t>(count); c-- > 0;) {
      if (best[c] == kUnreached) continue;
      for (const uint32_t s : members_[c]) {
        for (const Step& step : steps_[s]) {
          size_t inside = 0;
          for (const uint32_t t : step.targets) inside += component_[t] == c;
          if (inside >= 2 && !doubling) doubling = {c, s};
          const bool stays = s == a_.start_state || inside > 0;
          for (const uint32_t t : step.targets) {
            const uint32_t d = component_[t];
            if (d == c) continue;
            const bool factor = stays && FactorHolds(c, s, t);
            const int w = best[c] + (factor ? 1 : 0);
            if (w > best[d]) {
              best[d] = w;
              pred[d] = Pred{c, s, factor};
            }
          }
        }
      }
    }
    // Components that hold runs across events, nearest the start first.
    std::vector<uint32_t> waiting;
    for (uint32_t c = static_cast<uint32_t>(count); c-- > 0;) {
      if (best[c] == kUnreached || !cyclic_[c]) continue;
      if (members_[c].size() == 1 && members_[c][0] == a_.start_state) {
        continue;
      }
      waiting.push_back(c);
    }
    if (doubling) {
      bounds.growth = BoundGrowth::kExponential;
      bounds.factors.push_back(Describe(doubling->first, doubling->second));
      std::vector<BoundFactor> path = PathFactors(pred, doubling->first);
      bounds.factors.insert(bounds.factors.end(), path.begin(), path.end());
    }
    // Where the most partial matches wait.
    std::optional<uint32_t> worst;
    for (const uint32_t c : waiting) {
      if (!worst || best[c] > best[*worst]) worst = c;
    }
    if (!doubling) {
      if (worst && best[*worst] > 0) {
        bounds.growth = BoundGrowth::kPolynomial;
        bounds.degree = best[*worst];
        bounds.factors = PathFactors(pred, *worst);
      }
    }
    if (a_.window == Duration::zero()) {
      auto windowed = [&](uint32_t c) {
        for (const uint32_t s : members_[c]) {
          if (states_[s].window == Duration::zero()) return false;
        }
        return true;
      };
      // Named where the most wait, else nearest the start.
      if (worst && !windowed(*worst)) {
        bounds.unbounded = Waiting(*worst);
      }
      for (const uint32_t c : waiting) {
        if (!windowed(c) && !bounds.unbounded) bounds.unbounded = Waiting(c);
      }
      for (const BoundsStage& stage : stages_) {
        for (const uint32_t c : waiting) {
          for (const uint32_t s : members_[c]) {
            if (states_[s].window > Duration::zero() &&
                StageName(s) == stage.name &&
                (bounds.stage_windows.empty() ||
                 bounds.stage_windows.back().first != stage.name)) {
              bounds.stage_windows.emplace_back(stage.name, states_[s].window);
            }
          }
        }
      }
    }
    return bounds;
  }

  // Whether runs that `s` (in component `c`) sends to `target` while it
  // stays can pile up: `s` must send them again later, on a cycle of `c`
  // taken only on events under which some run downstream of `target` lives.
  // Not so after a greedy loop: the loop goes on only on events its next
  // stage's runs cannot survive. When the conditions are too many to
  // enumerate, the factor counts (an overstatement at worst).
  bool FactorHolds(uint32_t c, uint32_t s, uint32_t target) {
    if (s == a_.start_state || work_ >= kWorkBudget) return true;
    const auto key = std::make_pair(s, target);
    if (auto it = factor_cache_.find(key); it != factor_cache_.end()) {
      return it->second;
    }
    std::vector<uint32_t> downstream = {target};
    absl::flat_hash_set<uint32_t> seen = {target};
    for (size_t i = 0; i < downstream.size(); ++i) {
      work_ += successors_[downstream[i]].size() + 1;
      for (const uint32_t t : successors_[downstream[i]]) {
        if (seen.insert(t).second) downstream.push_back(t);
      }
    }
    std::vector<int32_t> users;
    for (const auto* list : {&members_[c], &downstream}) {
      for (const uint32_t x : *list) {
        for (const int32_t u : ReachedUsers(x)) {
          if (std::find(users.begin(), users.end(), u) == users.end()) {
            users.push_back(u);
          }
        }
      }
    }
    const size_t work = (members_[c].size() + downstream.size())
                        << std::min<size_t>(users.size(), 40);
    if (users.size() > kMaxEnumeratedConditions || work > (size_t{1} << 22) ||
        work_ + work >= kWorkBudget) {
      return factor_cache_[key] = true;
    }
    // Edges of `c` on events some downstream run survives, and whether `s`
    // stays and sends a run out on such an event.
    absl::flat_hash_map<uint32_t, std::vector<uint32_t>> edges;
    std::vector<uint32_t> restarts;  // where `s` stays when it sends
    const uint64_t assignments = uint64_t{1} << users.size();
    for (uint64_t bits = 0; bits < assignments; ++bits) {
      for (size_t u = 0; u < users.size(); ++u) {
        values_[static_cast<size_t>(users[u])] =
            (bits >> u) & 1 ? Truth::kTrue : Truth::kFalse;
      }
      bool alive = false;
      for (const uint32_t w : downstream) {
        std::optional<Step> step = Walk(w);
        if (step && !step->targets.empty()) {
          alive = true;
          break;
        }
      }
      if (!alive) continue;
      for (const uint32_t x : members_[c]) {
        std::optional<Step> step = Walk(x);
        if (!step) continue;
        bool leaves = false;
        for (const uint32_t y : step->targets) {
          if (component_[y] == c) {
            edges[x].push_back(y);
          } else {
            leaves = true;
          }
        }
        if (x == s && leaves) {
          for (const uint32_t y : step->targets) {
            if (component_[y] == c) restarts.push_back(y);
          }
        }
      }
    }
    for (const int32_t u : users) {
      values_[static_cast<size_t>(u)] = Truth::kUnknown;
    }
    std::vector<uint32_t> open = restarts;
    absl::flat_hash_set<uint32_t> reached;
    while (!open.empty()) {
      const uint32_t x = open.back();
      open.pop_back();
      if (!reached.insert(x).second) continue;
      if (x == s) return factor_cache_[key] = true;
      for (const uint32_t y : edges[x]) open.push_back(y);
    }
    return factor_cache_[key] = false;
  }

  std::vector<BoundFactor> PathFactors(
      const std::vector<std::optional<Pred>>& pred, uint32_t to) const {
    std::vector<BoundFactor> factors;
    for (uint32_t c = to; pred[c].has_value(); c = pred[c]->component) {
      if (pred[c]->factor) {
        factors.push_back(Describe(pred[c]->component, pred[c]->witness));
      }
    }
    std::reverse(factors.begin(), factors.end());
    return factors;
  }

  // ---- the pattern's words --------------------------------------------

  std::string StageName(uint32_t state) const {
    const uint32_t stage = states_[state].stage;
    return stage == kNoStage ? std::string() : (*a_.stage_names)[stage];
  }

  const BoundsStage* FindStage(const std::string& name) const {
    for (const BoundsStage& stage : stages_) {
      if (stage.leaves.empty() && stage.name == name) return &stage;
    }
    return nullptr;
  }

  bool FirstOfParent(const BoundsStage& stage) const {
    if (stage.parent < 0) return false;
    for (const BoundsStage& other : stages_) {
      if (other.parent == stage.parent) return &other == &stage;
    }
    return false;
  }

  // The stage whose outer contiguity applies to `stage`'s first event: its
  // own, or an enclosing group's when it heads the group.
  const BoundsStage& OuterOf(const BoundsStage& stage) const {
    const BoundsStage* s = &stage;
    while (FirstOfParent(*s)) s = &stages_[static_cast<size_t>(s->parent)];
    return *s;
  }

  // Whether `stage` is the first stage of `group` (nested groups included).
  bool Heads(const BoundsStage& stage, const BoundsStage& group) const {
    for (const BoundsStage* s = &stage; FirstOfParent(*s);) {
      s = &stages_[static_cast<size_t>(s->parent)];
      if (s == &group) return true;
    }
    return false;
  }

  // Whether a run reaches `state` (of component `c`) from inside `group`
  // (a later repetition) rather than from before it.
  bool EnteredFromGroup(uint32_t c, uint32_t state,
                        const BoundsStage& group) const {
    for (const uint32_t p : predecessors_[state]) {
      if (component_[p] == c) continue;
      const std::string name = StageName(p);
      if (name.empty() || std::find(group.leaves.begin(), group.leaves.end(),
                                    name) != group.leaves.end()) {
        return true;
      }
    }
    return false;
  }

  // The innermost looping or ranged group around `stage`, or nullptr.
  const BoundsStage* QuantifiedGroup(const BoundsStage& stage) const {
    for (int p = stage.parent; p >= 0;
         p = stages_[static_cast<size_t>(p)].parent) {
      const BoundsStage& group = stages_[static_cast<size_t>(p)];
      if (group.quantifier.kind != Quantifier::Kind::kSingle) return &group;
    }
    return nullptr;
  }

  // Whether component `c` repeats by taking events (a loop), not only by
  // ignoring them (a wait).
  bool TakesInside(uint32_t c) const {
    for (const uint32_t s : members_[c]) {
      for (const Transition& t : states_[s].transitions) {
        if (t.action == Action::kTake && component_[t.target] == c) return true;
      }
    }
    return false;
  }

  bool SpansStages(uint32_t c) const {
    for (const uint32_t s : members_[c]) {
      if (states_[s].stage != states_[members_[c][0]].stage) return true;
    }
    return false;
  }

  // A state of component `c` that belongs to a stage (a group's loop has a
  // state of its own, of no stage), else `state`.
  uint32_t StagedMember(uint32_t c, uint32_t state) const {
    if (states_[state].stage != kNoStage) return state;
    for (const uint32_t s : members_[c]) {
      if (states_[s].stage != kNoStage) return s;
    }
    return state;
  }

  BoundFactor Describe(uint32_t c, uint32_t witness) const {
    BoundFactor factor;
    factor.stage = StageName(StagedMember(c, witness));
    if (witness == a_.start_state) {
      factor.kind = BoundFactor::Kind::kStart;
      return factor;
    }
    const BoundsStage* stage = FindStage(factor.stage);
    if (stage == nullptr) return factor;  // kStage
    const BoundsStage* group = QuantifiedGroup(*stage);
    if (TakesInside(c)) {
      if (SpansStages(c) ||
          (stage->quantifier.kind == Quantifier::Kind::kSingle && group)) {
        if (group != nullptr) {
          factor.kind = BoundFactor::Kind::kGroupLoop;
          factor.stage = group->name;
        }
        return factor;
      }
      factor.kind =
          stage->quantifier.inner == Contiguity::kNonDeterministicRelaxed
              ? BoundFactor::Kind::kAnyCombination
              : BoundFactor::Kind::kLoop;
      return factor;
    }
    if (group != nullptr && Heads(*stage, *group) &&
        EnteredFromGroup(c, witness, *group)) {
      // The group's head waiting for a later repetition: the group's inner
      // contiguity applies.
      factor.kind =
          group->quantifier.inner == Contiguity::kNonDeterministicRelaxed
              ? BoundFactor::Kind::kAnyCombination
              : BoundFactor::Kind::kGroupLoop;
      factor.stage = group->name;
      return factor;
    }
    const BoundsStage& outer = OuterOf(*stage);
    const bool outer_any =
        outer.contiguity == Contiguity::kNonDeterministicRelaxed;
    const bool inner_any =
        stage->quantifier.kind != Quantifier::Kind::kSingle &&
        stage->quantifier.inner == Contiguity::kNonDeterministicRelaxed;
    if (outer_any && !inner_any) {
      factor.kind = BoundFactor::Kind::kFollowedByAny;
      factor.stage = outer.name;
    } else if (inner_any) {
      factor.kind = BoundFactor::Kind::kAnyCombination;
    } else if (group != nullptr && group->quantifier.inner ==
                                       Contiguity::kNonDeterministicRelaxed) {
      factor.kind = BoundFactor::Kind::kAnyCombination;
      factor.stage = group->name;
    }
    return factor;
  }

  UnboundedWait Waiting(uint32_t c) const {
    UnboundedWait wait;
    wait.stage = StageName(StagedMember(c, members_[c][0]));
    if (TakesInside(c)) {
      const BoundsStage* stage = FindStage(wait.stage);
      if (stage != nullptr) {
        const BoundsStage* group = QuantifiedGroup(*stage);
        if (SpansStages(c) ||
            (stage->quantifier.kind == Quantifier::Kind::kSingle && group)) {
          if (group != nullptr) wait.stage = group->name;
        } else {
          wait.has_until = stage->has_until;
        }
      }
      wait.kind = UnboundedWait::Kind::kLoop;
    } else if (const BoundsStage* stage = FindStage(wait.stage)) {
      wait.stage = OuterOf(*stage).name;  // a group's first stage: the group
    }
    return wait;
  }

  const BoundsAutomaton& a_;
  const std::vector<NfaState>& states_;
  const std::vector<BoundsStage>& stages_;
  std::vector<Truth> values_;
  std::vector<std::vector<Step>> steps_;
  std::vector<std::vector<uint32_t>> successors_;
  std::vector<std::vector<uint32_t>> predecessors_;
  std::vector<uint32_t> component_;
  std::vector<std::vector<uint32_t>> members_;
  std::vector<bool> cyclic_;
  absl::flat_hash_map<std::pair<uint32_t, uint32_t>, bool> factor_cache_;
  size_t work_ = 0;  // transitions visited, against kWorkBudget
};

}  // namespace

PatternBounds AnalyzeBoundsImpl(const BoundsAutomaton& automaton,
                                const std::vector<BoundsStage>& stages,
                                const AfterMatchSkip& skip, bool shared_runs) {
  PatternBounds bounds = Analyzer(automaton, stages).Run();
  bounds.skip = skip;
  bounds.shared_runs = shared_runs;
  return bounds;
}

}  // namespace internal
}  // namespace cep
