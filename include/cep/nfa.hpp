// cep/nfa.hpp — the compiled automaton an Evaluator advances, per key, per
// event.
//
// Built by CompilePattern() (compiler.hpp), immutable, shared by all keys; a
// key's partial matches live in its KeyState (key_state.hpp). States have
// TAKE (consume the event, move), IGNORE (skip the event) and PROCEED
// (epsilon move on the same event) transitions, each guarded by a condition,
// as in FlinkCEP's NFACompiler. Const methods are thread-safe.
//
// Example:
//   CEP_ASSIGN_OR_RETURN(cep::Nfa<Order> nfa, cep::CompilePattern(pattern));
//   std::cout << nfa.ToString();   // states, transitions, windows
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

#include "cep/condition.hpp"
#include "cep/pattern.hpp"
#include "cep/time.hpp"

namespace cep {

enum class StateType : uint8_t {
  kNormal,
  kFinal,    // reaching it completes a match
  kStop,     // reaching it discards the branch (a NOT stage matched)
  kPending,  // trailing NotFollowedBy: a match once the window passes
};

enum class Action : uint8_t { kTake, kIgnore, kProceed };

// Index of a node in Nfa::conditions().
using ConditionIndex = int32_t;

// One node of a compiled condition tree.
struct ConditionNode {
  enum class Op : uint8_t { kTrue, kUser, kNot, kAnd, kOr };
  Op op = Op::kTrue;
  int32_t a = -1;  // kUser: index in user_conditions(); kNot/kAnd/kOr: node
  int32_t b = -1;  // kAnd/kOr: node
};

struct Transition {
  Action action = Action::kTake;
  uint32_t target = 0;
  ConditionIndex condition = 0;
};

inline constexpr uint32_t kNoStage = std::numeric_limits<uint32_t>::max();

struct NfaState {
  // Unique name: the stage name, with ":N" appended for further states of
  // the same stage (FlinkCEP's convention); "$end$" for the final state.
  std::string name;
  // Index in Nfa::stage_names() of the stage whose events this state takes;
  // kNoStage for the final state and group bookkeeping states.
  uint32_t stage = kNoStage;
  StateType type = StateType::kNormal;
  std::vector<Transition> transitions;
  // Window measured from the previous taken event (kPreviousAndCurrent);
  // zero when none.
  Duration window{0};
};

template <typename Event>
class Nfa {
 public:
  const std::vector<NfaState>& states() const { return states_; }
  uint32_t start_state() const { return start_state_; }
  // Leaf stage names in pattern order (groups flattened).
  const std::vector<std::string>& stage_names() const { return stage_names_; }
  // Window from a match's first event; zero when the pattern has none.
  Duration window() const { return window_; }
  const AfterMatchSkip& skip() const { return skip_; }
  // Stage index of SkipToFirst / SkipToLast; kNoStage otherwise.
  uint32_t skip_stage() const { return skip_stage_; }
  const std::vector<ConditionNode>& conditions() const { return conditions_; }
  const std::vector<std::shared_ptr<const UserCondition<Event>>>&
  user_conditions() const {
    return user_conditions_;
  }
  // Incremental aggregates, with their stage resolved to an index.
  struct Aggregate {
    uint32_t stage;
    std::function<double(const Event&)> value;
  };
  const std::vector<Aggregate>& aggregates() const { return aggregates_; }

  // Index of the stage called `name`, or kNoStage.
  uint32_t StageIndex(std::string_view name) const {
    for (uint32_t i = 0; i < stage_names_.size(); ++i) {
      if (stage_names_[i] == name) return i;
    }
    return kNoStage;
  }

  // The condition as text: "not(condition #1 of stage 'a') and true".
  std::string DescribeCondition(ConditionIndex index) const {
    const ConditionNode& node = conditions_[index];
    switch (node.op) {
      case ConditionNode::Op::kTrue:
        return "true";
      case ConditionNode::Op::kUser:
        return user_conditions_[node.a]->description;
      case ConditionNode::Op::kNot:
        return absl::StrCat("not(", DescribeCondition(node.a), ")");
      case ConditionNode::Op::kAnd:
        return absl::StrCat("(", DescribeCondition(node.a), " and ",
                            DescribeCondition(node.b), ")");
      case ConditionNode::Op::kOr:
        return absl::StrCat("(", DescribeCondition(node.a), " or ",
                            DescribeCondition(node.b), ")");
    }
    return "?";
  }

  // Every state with its transitions, one per line, the start state marked.
  std::string ToString() const {
    std::string out;
    if (window_ > Duration::zero()) {
      absl::StrAppend(&out, "window ", FormatDuration(window_), "\n");
    }
    for (uint32_t i = 0; i < states_.size(); ++i) {
      const NfaState& s = states_[i];
      absl::StrAppend(&out, "state ", s.name, TypeName(s.type),
                      i == start_state_ ? " (start)" : "");
      if (s.window > Duration::zero()) {
        absl::StrAppend(&out, " window ", FormatDuration(s.window));
      }
      out += '\n';
      for (const Transition& t : s.transitions) {
        absl::StrAppend(&out, "  ", ActionName(t.action), " -> ",
                        states_[t.target].name, " if ",
                        DescribeCondition(t.condition), "\n");
      }
    }
    return out;
  }

  // The automaton as a Graphviz digraph named `name`: one node per state
  // (normal: circle, final: doublecircle, stop: octagon, pending:
  // doubleoctagon; the start state has an arrow from a point), one edge per
  // transition labelled with its action and condition (TAKE solid, IGNORE
  // dashed, PROCEED dotted), the window in the graph's label.
  // Render with `dot -Tsvg`.
  std::string ToDot(const std::string& name) const {
    std::string label = name;
    if (window_ > Duration::zero()) {
      absl::StrAppend(&label, "\nwithin ", FormatDuration(window_));
    }
    std::string out = absl::StrCat("digraph ", DotQuote(name), " {\n");
    absl::StrAppend(&out, "  label=", DotQuote(label), ";\n",
                    "  labelloc=t;\n  rankdir=LR;\n",
                    "  start [shape=point];\n");
    for (uint32_t i = 0; i < states_.size(); ++i) {
      const NfaState& s = states_[i];
      std::string node_label = s.name;
      if (s.window > Duration::zero()) {
        absl::StrAppend(&node_label, "\nwithin ", FormatDuration(s.window));
      }
      absl::StrAppend(&out, "  s", i, " [label=", DotQuote(node_label),
                      ", shape=", DotShape(s.type), "];\n");
    }
    absl::StrAppend(&out, "  start -> s", start_state_, ";\n");
    for (uint32_t i = 0; i < states_.size(); ++i) {
      for (const Transition& t : states_[i].transitions) {
        absl::StrAppend(&out, "  s", i, " -> s", t.target, " [label=",
                        DotQuote(absl::StrCat(ActionName(t.action), "\n",
                                              DescribeCondition(t.condition))),
                        t.action == Action::kIgnore    ? ", style=dashed"
                        : t.action == Action::kProceed ? ", style=dotted"
                                                       : "",
                        "];\n");
      }
    }
    out += "}\n";
    return out;
  }

  static const char* ActionName(Action action) {
    switch (action) {
      case Action::kTake:
        return "TAKE";
      case Action::kIgnore:
        return "IGNORE";
      case Action::kProceed:
        return "PROCEED";
    }
    return "?";
  }

 private:
  template <typename E>
  friend class NfaCompiler;

  static const char* TypeName(StateType type) {
    switch (type) {
      case StateType::kNormal:
        return "";
      case StateType::kFinal:
        return " (final)";
      case StateType::kStop:
        return " (stop)";
      case StateType::kPending:
        return " (pending)";
    }
    return "";
  }

  static const char* DotShape(StateType type) {
    switch (type) {
      case StateType::kNormal:
        return "circle";
      case StateType::kFinal:
        return "doublecircle";
      case StateType::kStop:
        return "octagon";
      case StateType::kPending:
        return "doubleoctagon";
    }
    return "circle";
  }

  // `text` as a Graphviz quoted string; newlines become \n line breaks.
  static std::string DotQuote(const std::string& text) {
    std::string out = "\"";
    for (const char c : text) {
      if (c == '"' || c == '\\') {
        out += '\\';
        out += c;
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out += c;
      }
    }
    out += '"';
    return out;
  }

  std::vector<NfaState> states_;
  uint32_t start_state_ = 0;
  std::vector<std::string> stage_names_;
  Duration window_{0};
  AfterMatchSkip skip_ = AfterMatchSkip::NoSkip();
  uint32_t skip_stage_ = kNoStage;
  std::vector<ConditionNode> conditions_;
  std::vector<std::shared_ptr<const UserCondition<Event>>> user_conditions_;
  std::vector<Aggregate> aggregates_;
};

}  // namespace cep
