// `cep trace FILE --input EVENTS --key K [--pattern P]`: "why no match?".
// Replays the events of one key through the per-run Evaluator with an
// EvaluatorTracer (cep/evaluator_trace.hpp) and prints, per event, which
// stages' conditions held and what every partial match did, in the
// pattern's stage names; then a summary of matches and of the partial
// matches still open. Time advances as in `cep run`: events of every key
// move the bounded-out-of-orderness watermark, events at or behind it are
// late, the others wait for it and go to the pattern in (time, line) order,
// windows close in the same time order, and at the end of the input every
// window closes.

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

#include "cep/compiler.hpp"
#include "cep/dsl.hpp"
#include "cep/evaluator.hpp"
#include "cep/evaluator_trace.hpp"
#include "cep/event.hpp"
#include "cep/key_state.hpp"
#include "cep/match.hpp"
#include "cep/nfa.hpp"
#include "cep/operator.hpp"
#include "cep/record_csv.hpp"
#include "cep/record_json.hpp"
#include "cep/run.hpp"
#include "cep/run_files.hpp"
#include "cep/shared_runs_evaluator.hpp"

#include "../io/line_reader.hpp"
#include "args.hpp"
#include "commands.hpp"

namespace cep::cli {
namespace {

// One decoded input event; `line` is its line number, which the trace also
// uses as its seq (both order the events the same way).
struct InputEvent {
  size_t line = 0;
  Record record;
  Timestamp ts;
  bool late = false;      // at or behind the watermark when it came
  Timestamp watermark;    // the watermark after it came
  Timestamp late_behind;  // the watermark it was behind, when late
};

// "2026-01-01T10:00:00Z", with ".250" when there are milliseconds.
std::string FormatTime(Timestamp ts) {
  const int64_t ms = ToMillis(ts);
  int64_t days = ms / 86400000;
  int64_t rest = ms % 86400000;
  if (rest < 0) {
    rest += 86400000;
    --days;
  }
  // Howard Hinnant's civil_from_days.
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  std::string out =
      absl::StrFormat("%04d-%02d-%02dT%02d:%02d:%02d", year, month, day,
                      rest / 3600000, rest / 60000 % 60, rest / 1000 % 60);
  if (rest % 1000 != 0) absl::StrAppendFormat(&out, ".%03d", rest % 1000);
  return out + "Z";
}

// The key as the user types it: a string as is, other values as JSON.
std::string KeyText(const Value& key) {
  if (const auto* text = std::get_if<std::string>(&key)) return *text;
  std::string out;
  AppendValueJson(out, key);
  return out;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::string Plural(size_t count, const char* word) {
  return absl::StrCat(count, " ", word, count == 1 ? "" : "s");
}

// What the trace knows of one leaf stage of the pattern.
struct StageInfo {
  const Stage<Record>* stage = nullptr;
  // Contiguity words: "next", "followed by", "followed by any", ...
  std::string connector;
};

std::string ConnectorWords(Contiguity contiguity) {
  switch (contiguity) {
    case Contiguity::kStrict:
      return "next";
    case Contiguity::kRelaxed:
      return "followed by";
    case Contiguity::kNonDeterministicRelaxed:
      return "followed by any";
    case Contiguity::kNotNext:
      return "not next";
    case Contiguity::kNotFollowedBy:
      return "not followed by";
  }
  return "?";
}

void CollectStages(const std::vector<Stage<Record>>& stages,
                   std::map<std::string, const Stage<Record>*>& out) {
  for (const Stage<Record>& stage : stages) {
    if (stage.is_group()) {
      CollectStages(stage.group, out);
    } else {
      out[stage.name] = &stage;
    }
  }
}

// Counts and remembers what happens to the key's partial matches; prints
// each decision into `lines` (flushed by the driver per step).
class Printer final : public EvaluatorTracer<Record> {
 public:
  Printer(const Nfa<Record>& nfa, const FilePattern& pattern,
          const EvaluatorOptions& options)
      : nfa_(nfa), pattern_(pattern), options_(options) {
    std::map<std::string, const Stage<Record>*> by_name;
    CollectStages(pattern.pattern.stages(), by_name);
    for (const std::string& name : nfa.stage_names()) {
      StageInfo info;
      auto it = by_name.find(name);
      if (it != by_name.end()) {
        info.stage = it->second;
        info.connector = ConnectorWords(it->second->contiguity);
      }
      stages_.push_back(info);
    }
    skip_words_ = "after match " + SkipWords(nfa.skip());
  }

  // The lines said since the last call.
  std::vector<std::string> TakeLines() {
    std::vector<std::string> out;
    for (Line& line : lines_) out.push_back(std::move(line.text));
    lines_.clear();
    return out;
  }
  void NewStep() { stopped_.clear(); }

  // {probe 1,3,5; cashout 9}: the branch's events by stage, as line numbers.
  std::string Branch(const KeyState<Record>& state,
                     const Computation& comp) const {
    state.buffer().Extract(comp.node, comp.version, path_);
    return PathText(state, path_.size());
  }

  // Where `comp` waits, in stage words: "'probe' or 'cashout'".
  std::string Waits(const Computation& comp) const {
    const NfaState& s = nfa_.states()[comp.state];
    if (s.type == StateType::kPending) {
      return absl::StrCat("the window to pass with no '",
                          nfa_.stage_names()[s.stage], "'");
    }
    std::vector<std::string> names;
    std::vector<uint32_t> to_visit = {comp.state};
    std::set<uint32_t> seen;
    while (!to_visit.empty()) {
      const uint32_t at = to_visit.back();
      to_visit.pop_back();
      if (!seen.insert(at).second) continue;
      for (const Transition& t : nfa_.states()[at].transitions) {
        const NfaState& target = nfa_.states()[t.target];
        if (t.action == Action::kProceed) {
          if (target.type != StateType::kStop) to_visit.push_back(t.target);
        } else if (t.action == Action::kTake &&
                   target.type != StateType::kStop &&
                   nfa_.states()[at].stage != kNoStage) {
          const std::string name = absl::StrCat(
              "'", nfa_.stage_names()[nfa_.states()[at].stage], "'");
          if (std::find(names.begin(), names.end(), name) == names.end()) {
            names.push_back(name);
          }
        }
      }
    }
    std::string out = names.empty() ? "nothing" : absl::StrJoin(names, " or ");
    return out;
  }

  void OnTake(const KeyState<Record>& state, const Computation& from,
              uint32_t source, const Computation& to) override {
    const NfaState& target = nfa_.states()[to.state];
    if (target.type == StateType::kStop) return;  // OnStopped says it
    const uint32_t stage = nfa_.states()[source].stage;
    const std::string owner = Branch(state, from);
    std::string line = from.has_start ? absl::StrCat(owner, " ")
                                      : std::string("new partial match: ");
    absl::StrAppend(&line, Proceeds(state, from, source), "TAKE into '",
                    StageName(stage), "' -> ", Branch(state, to));
    if (target.type == StateType::kFinal) line += ": complete";
    Add(line, owner);
  }

  void OnIgnore(const KeyState<Record>& state, const Computation& from,
                uint32_t source, const Computation& to) override {
    const uint32_t stage = nfa_.states()[source].stage;
    const std::string owner = Branch(state, from);
    Add(absl::StrCat(owner, " ", Proceeds(state, from, source), "IGNORE at '",
                     StageName(stage), "' (", IgnoreReason(state, from, stage),
                     ") -> ", Branch(state, to)),
        owner);
  }

  void OnProceedToFinal(const KeyState<Record>& state,
                        const Computation& taken) override {
    Add(absl::StrCat(Branch(state, taken),
                     " PROCEED to the end (the stages left may take no "
                     "event): complete"));
  }

  void OnUnchanged(const KeyState<Record>& state,
                   const Computation& branch) override {
    const uint32_t stage = nfa_.states()[branch.state].stage;
    Add(absl::StrCat(Branch(state, branch), " waits for ", Waits(branch),
                     " (IGNORE: ", IgnoreReason(state, branch, stage), ")"));
  }

  void OnDead(const KeyState<Record>& state, const Computation& from) override {
    ++dead_;
    const uint32_t stage = nfa_.states()[from.state].stage;
    std::string why = "no transition for this event";
    if (stage != kNoStage && StrictAt(state, from, stage)) {
      why = absl::StrCat("'", StageName(stage),
                         "' needs the very next event (next / consecutive)");
      const Stage<Record>* s = stages_[stage].stage;
      const size_t taken = Taken(state, from, stage);
      if (s->quantifier.kind != Quantifier::Kind::kSingle && taken > 0 &&
          taken < static_cast<size_t>(s->quantifier.from)) {
        absl::StrAppend(&why, "; it has ", Plural(taken, "event"), " of '",
                        StageName(stage), "', ", s->quantifier.from, " needed");
      }
    }
    Add(absl::StrCat(Branch(state, from), " ends: ", why));
  }

  void OnStopped(const KeyState<Record>& state,
                 const Computation& stopped) override {
    state.buffer().Extract(stopped.node, stopped.version, path_);
    // The last step is the event the NOT stage took.
    const std::string branch =
        PathText(state, path_.empty() ? 0 : path_.size() - 1);
    if (std::find(stopped_.begin(), stopped_.end(), branch) != stopped_.end()) {
      return;
    }
    stopped_.push_back(branch);
    ++killed_;
    // Its other moves on this event are discarded with it.
    lines_.erase(std::remove_if(lines_.begin(), lines_.end(),
                                [&branch](const Line& line) {
                                  return line.owner == branch;
                                }),
                 lines_.end());
    const uint32_t stage = nfa_.states()[stopped.state].stage;
    Add(absl::StrCat(branch, " killed by NOT stage '", StageName(stage), "' (",
                     stages_[stage].connector, ")"));
  }

  void OnWindowPassed(const KeyState<Record>& state, const Computation& branch,
                      Timestamp at, bool pending) override {
    const std::string text = Branch(state, branch);
    if (pending) {
      Add(absl::StrCat(text, " window passed with no '",
                       StageName(nfa_.states()[branch.state].stage),
                       "': complete"));
      return;
    }
    ++timeouts_;
    const NfaState& s = nfa_.states()[branch.state];
    std::string window = absl::StrCat("within ", FormatDuration(nfa_.window()));
    if (s.window > Duration::zero() &&
        ToMillis(at) == branch.previous_ts + s.window.count()) {
      window = absl::StrCat("'", StageName(s.stage), "' within ",
                            FormatDuration(s.window), " of the previous event");
    }
    Add(absl::StrCat(text, " pruned by ", window, " at ", FormatTime(at),
                     " (it waited for ", Waits(branch), ")"));
  }

  void OnRelease(const KeyState<Record>& state,
                 const Computation& match) override {
    ++matches_;
    state.buffer().Extract(match.node, match.version, path_);
    std::vector<std::string> parts;
    for (uint32_t stage = 0; stage < nfa_.stage_names().size(); ++stage) {
      std::vector<std::string> lines;
      for (const auto& step : path_) {
        if (step.stage == stage) {
          lines.push_back(absl::StrCat(state.buffer().event(step.event).seq));
        }
      }
      if (lines.empty()) continue;
      parts.push_back(absl::StrCat(StageName(stage), " -> line",
                                   lines.size() == 1 ? " " : "s ",
                                   absl::StrJoin(lines, ", ")));
    }
    Add(absl::StrCat("MATCH released: ", absl::StrJoin(parts, "; ")));
    last_held_.clear();
  }

  void OnHeldBack(const KeyState<Record>& state,
                  const std::vector<Computation>& held,
                  const Computation& blocking) override {
    std::string line = absl::StrCat("held back by '", skip_words_,
                                    "': ", Branch(state, held.front()));
    if (held.size() > 1)
      absl::StrAppend(&line, " and ", held.size() - 1, " more");
    absl::StrAppend(&line, " wait", held.size() == 1 ? "s" : "", " for ",
                    Branch(state, blocking),
                    ", which started earlier, to complete or go");
    if (line == last_held_) return;
    last_held_ = line;
    Add(line);
  }

  void OnSkipDiscard(const KeyState<Record>& state, const Computation& branch,
                     bool completed) override {
    ++discarded_;
    Add(absl::StrCat(Branch(state, branch),
                     completed ? " (a completed match held back)" : "",
                     " discarded by '", skip_words_, "'"));
  }

  void OnEvict(const KeyState<Record>& state, const Computation& branch,
               bool completed) override {
    ++evicted_;
    Add(absl::StrCat(Branch(state, branch),
                     completed ? " (a completed match held back)" : "",
                     " evicted by the partial-match cap (max partial matches ",
                     options_.max_partial_matches, ", ",
                     options_.overflow_policy == OverflowPolicy::kDropOldest
                         ? "drop oldest"
                         : "refuse new",
                     ")"));
  }

  // "probe yes, refund no, cashout no (amount >= 500 failed)".
  std::string Conditions(const Record& event) const {
    std::vector<std::string> parts;
    for (uint32_t stage = 0; stage < stages_.size(); ++stage) {
      const Stage<Record>* s = stages_[stage].stage;
      if (s == nullptr) continue;
      std::string part = nfa_.stage_names()[stage];
      if (s->condition == nullptr) {
        parts.push_back(part + " yes");
        continue;
      }
      std::vector<std::string> failed;
      bool iterative = false;
      const bool held = Holds(*s->condition, event, failed, iterative);
      if (iterative) {
        parts.push_back(part + " depends on the partial match");
        continue;
      }
      part += held ? " yes" : " no";
      if (!held && Leaves(*s->condition) > 1) {
        absl::StrAppend(&part, " (", absl::StrJoin(failed, ", "), " failed)");
      }
      if (s->until != nullptr) {
        std::vector<std::string> ignored;
        bool until_iterative = false;
        if (Holds(*s->until, event, ignored, until_iterative) &&
            !until_iterative) {
          part += ", its 'until' held";
        }
      }
      parts.push_back(part);
    }
    return absl::StrJoin(parts, ", ");
  }

  uint64_t matches() const { return matches_; }
  uint64_t timeouts() const { return timeouts_; }
  uint64_t killed() const { return killed_; }
  uint64_t evicted() const { return evicted_; }
  uint64_t discarded() const { return discarded_; }
  uint64_t dead() const { return dead_; }

 private:
  struct Line {
    std::string text;
    std::string owner;  // the branch whose move it says, if any
  };

  void Add(std::string text, std::string owner = "") {
    lines_.push_back(Line{std::move(text), std::move(owner)});
  }

  const std::string& StageName(uint32_t stage) const {
    static const std::string* const kGroup = new std::string("(group)");
    return stage == kNoStage ? *kGroup : nfa_.stage_names()[stage];
  }

  // The first `steps` steps of path_ as {stage lines; stage lines}.
  std::string PathText(const KeyState<Record>& state, size_t steps) const {
    std::string out = "{";
    uint32_t current = kNoStage;
    for (size_t step_idx = 0; step_idx < steps; ++step_idx) {
      const auto& step = path_[step_idx];
      const uint64_t line = state.buffer().event(step.event).seq;
      if (step.stage != current) {
        if (current != kNoStage) out += "; ";
        absl::StrAppend(&out, StageName(step.stage), " ", line);
        current = step.stage;
      } else {
        absl::StrAppend(&out, ",", line);
      }
    }
    return out + "}";
  }

  // Events of `stage` the branch took.
  size_t Taken(const KeyState<Record>& state, const Computation& comp,
               uint32_t stage) const {
    state.buffer().Extract(comp.node, comp.version, path_);
    return static_cast<size_t>(std::count_if(
        path_.begin(), path_.end(),
        [stage](const auto& step) { return step.stage == stage; }));
  }

  // "PROCEED past 'b' (optional), " for the stages between where `from`
  // waited and the state `source` whose transition fired.
  std::string Proceeds(const KeyState<Record>& state, const Computation& from,
                       uint32_t source) const {
    if (!from.has_start || from.state == source) return "";
    const uint32_t begin = nfa_.states()[from.state].stage;
    const uint32_t end = nfa_.states()[source].stage;
    if (begin == end) return "";
    if (begin == kNoStage || end == kNoStage || begin > end) {
      return absl::StrCat("PROCEED to '", StageName(end), "', ");
    }
    std::string out;
    for (uint32_t stage = begin; stage < end; ++stage) {
      const Stage<Record>* s = stages_[stage].stage;
      if (s != nullptr && s->is_not()) continue;
      const size_t taken = Taken(state, from, stage);
      absl::StrAppend(&out, "PROCEED past '", StageName(stage), "' (",
                      taken == 0
                          ? std::string("optional")
                          : absl::StrCat(Plural(taken, "event"), ", enough"),
                      "), ");
    }
    return out;
  }

  // Why a branch at `stage` may skip the event.
  std::string IgnoreReason(const KeyState<Record>& state,
                           const Computation& from, uint32_t stage) const {
    if (stage == kNoStage) return "skips it";
    const Stage<Record>* s = stages_[stage].stage;
    if (s == nullptr) return "skips it";
    if (s->quantifier.kind != Quantifier::Kind::kSingle &&
        Taken(state, from, stage) > 0) {
      return s->quantifier.inner == Contiguity::kNonDeterministicRelaxed
                 ? "any combination: skips it and takes it"
                 : "between repetitions: '" + StageName(stage) +
                       "' does not hold";
    }
    if (s->contiguity == Contiguity::kNonDeterministicRelaxed) {
      return "followed by any: skips it and takes it";
    }
    return absl::StrCat(stages_[stage].connector, ": '", StageName(stage),
                        "' does not hold");
  }

  bool StrictAt(const KeyState<Record>& state, const Computation& from,
                uint32_t stage) const {
    const Stage<Record>* s = stages_[stage].stage;
    if (s == nullptr) return false;
    if (s->quantifier.kind != Quantifier::Kind::kSingle &&
        Taken(state, from, stage) > 0) {
      return s->quantifier.inner == Contiguity::kStrict;
    }
    return s->contiguity == Contiguity::kStrict;
  }

  static size_t Leaves(const ConditionExpr<Record>& expr) {
    using Op = ConditionExpr<Record>::Op;
    switch (expr.op) {
      case Op::kUser:
        return 1;
      case Op::kTrue:
        return 0;
      case Op::kNot:
        return Leaves(*expr.lhs);
      case Op::kAnd:
      case Op::kOr:
        return Leaves(*expr.lhs) + Leaves(*expr.rhs);
    }
    return 0;
  }

  // Evaluates `expr` on `event`; the failing conditions of an AND go to
  // `failed`. Iterative conditions cannot be evaluated without a partial
  // match: `iterative` is set.
  static bool Holds(const ConditionExpr<Record>& expr, const Record& event,
                    std::vector<std::string>& failed, bool& iterative) {
    using Op = ConditionExpr<Record>::Op;
    switch (expr.op) {
      case Op::kTrue:
        return true;
      case Op::kUser: {
        if (!expr.user->simple) {
          iterative = true;
          return false;
        }
        bool held = false;
        try {
          held = expr.user->simple(event);
        } catch (...) {
          failed.push_back(expr.user->description + " (threw)");
          return false;
        }
        if (!held) failed.push_back(expr.user->description);
        return held;
      }
      case Op::kNot: {
        std::vector<std::string> inner;
        const bool held = !Holds(*expr.lhs, event, inner, iterative);
        return held;
      }
      case Op::kAnd: {
        const bool a = Holds(*expr.lhs, event, failed, iterative);
        const bool b = Holds(*expr.rhs, event, failed, iterative);
        return a && b;
      }
      case Op::kOr: {
        std::vector<std::string> inner;
        const bool a = Holds(*expr.lhs, event, inner, iterative);
        const bool b = Holds(*expr.rhs, event, inner, iterative);
        if (!a && !b) failed.insert(failed.end(), inner.begin(), inner.end());
        return a || b;
      }
    }
    return false;
  }

  const Nfa<Record>& nfa_;
  const FilePattern& pattern_;
  const EvaluatorOptions& options_;
  std::vector<StageInfo> stages_;
  std::string skip_words_;
  std::vector<Line> lines_;
  std::vector<std::string> stopped_;  // branches killed on this event
  std::string last_held_;
  mutable std::vector<SharedBuffer<Record>::PathStep> path_;
  uint64_t matches_ = 0, timeouts_ = 0, killed_ = 0, evicted_ = 0,
           discarded_ = 0, dead_ = 0;
};

// Matches and timeouts are said by the Printer; the sink only takes them.
class NullSink final : public MatchSink<Record> {
 public:
  void OnMatch(Match<Record>) override {}
};

// The event without its key and time fields: Type field=value ...
std::string EventText(const PatternFile& file, const FilePattern& pattern,
                      const Record& record) {
  const Schema& schema = record.schema();
  std::vector<std::string> parts;
  if (file.schemas().size() > 1) parts.push_back(schema.name());
  const int key_index = pattern.key_index[schema.id()];
  for (size_t field_idx = 0; field_idx < schema.fields().size(); ++field_idx) {
    if (static_cast<int>(field_idx) == key_index ||
        schema.time_field() == field_idx) {
      continue;
    }
    std::string part = schema.fields()[field_idx].name + "=";
    AppendValueJson(part, record[field_idx]);
    parts.push_back(std::move(part));
  }
  return absl::StrJoin(parts, " ");
}

struct TraceSettings {
  std::string key;
  EvaluatorOptions evaluator;  // the run's, before a pattern's clause
};

// Traces `pattern` over `events`; returns kExitOk or kExitFailure (a
// condition threw, said on `err`).
int TracePattern(const PatternFile& file, const FilePattern& pattern,
                 const std::vector<InputEvent>& events,
                 const std::string& input_name, const TraceSettings& settings,
                 std::ostream& out, std::ostream& err) {
  absl::StatusOr<Nfa<Record>> nfa = CompilePattern(pattern.pattern);
  if (!nfa.ok()) {
    err << pattern.filename << ":" << pattern.line << ": error: pattern '"
        << pattern.name << "': " << nfa.status().message() << "\n";
    return kExitFailure;
  }
  EvaluatorOptions options = settings.evaluator;
  if (pattern.max_partial_matches) {
    options.max_partial_matches = *pattern.max_partial_matches;
    options.strategy = EvaluationStrategy::kPerRun;
  }
  if (pattern.overflow_policy)
    options.overflow_policy = *pattern.overflow_policy;
  // Shared partial matches have no cap: neither has their trace.
  const bool shared = ChooseSharedRuns(*nfa, options).ok();
  if (shared) options.max_partial_matches = 0;
  options.skip_irrelevant_events = false;
  options.report_timeouts = false;
  Evaluator<Record> evaluator(*nfa, options);
  Printer printer(*nfa, pattern, options);
  evaluator.SetTracer(&printer);
  KeyState<Record> state;
  NullSink sink;

  const bool keyed = !pattern.key_field.empty();
  out << "trace of ";
  if (keyed) {
    out << pattern.key_field << " = " << settings.key;
  } else {
    out << "every event (the pattern has no key)";
  }
  out << " in pattern " << pattern.name << " (" << pattern.filename << ":"
      << pattern.line << ")\n"
      << DescribePattern(pattern);
  // "strategy: shared runs (...)" -> "cep run's strategy: shared runs ...".
  out << "  cep run's " << StrategyDescription(pattern, *nfa)
      << "; the trace follows the per-run evaluator, whose matches are the "
         "same\n";
  if (!shared && options.max_partial_matches != kDefaultMaxPartialMatches) {
    out << "  max partial matches " << options.max_partial_matches << ", "
        << (options.overflow_policy == OverflowPolicy::kDropOldest
                ? "drop oldest"
                : "refuse new")
        << "\n";
  }
  out << "  partial matches are shown as {stage lines; ...}, by input line\n";

  // The key's events waiting for the watermark, earliest (time, line) first.
  auto later = [&events](size_t a, size_t b) {
    const InputEvent& x = events[a];
    const InputEvent& y = events[b];
    return x.ts != y.ts ? x.ts > y.ts : x.line > y.line;
  };
  std::priority_queue<size_t, std::vector<size_t>, decltype(later)> waiting(
      later);
  std::set<std::string> keys_seen;
  size_t traced = 0;
  int result = kExitOk;

  auto flush = [&](const std::string& header) {
    const std::vector<std::string> lines = printer.TakeLines();
    if (lines.empty()) return;
    out << header << "\n";
    for (const std::string& line : lines) out << "  " << line << "\n";
  };
  auto report = [&](const absl::Status& status, size_t line) {
    if (status.ok() || result != kExitOk) return;
    err << input_name << ":" << line << ": error: " << status.message() << "\n";
    result = kExitFailure;
  };
  // The partial matches open now, one line each, and the held-back matches.
  auto open_lines = [&]() {
    std::vector<std::string> lines;
    for (const Computation& comp : state.partial()) {
      if (!comp.has_start) continue;
      lines.push_back(absl::StrCat(printer.Branch(state, comp), " waits for ",
                                   printer.Waits(comp)));
    }
    for (const Computation& comp : state.completed()) {
      lines.push_back(absl::StrCat(printer.Branch(state, comp),
                                   " is complete, held back by the skip "
                                   "strategy"));
    }
    return lines;
  };
  std::optional<std::vector<std::string>> open_at_end;
  // Advances to `watermark` as the Operator does: the key's events and its
  // windows in one time order, a window closing at t before an event at t.
  auto advance = [&](Timestamp watermark, bool end) {
    while (true) {
      if (end && waiting.empty() && !open_at_end) {
        open_at_end = open_lines();
      }
      const std::optional<Timestamp> deadline = evaluator.NextDeadline(state);
      const bool has_event =
          !waiting.empty() && events[waiting.top()].ts <= watermark;
      if (deadline && *deadline <= watermark &&
          (!has_event || *deadline <= events[waiting.top()].ts)) {
        printer.NewStep();
        const absl::Status status =
            evaluator.AdvanceTime(state, *deadline, sink);
        flush(absl::StrCat("at ", FormatTime(*deadline),
                           end ? " (the end of the input closes every window)"
                               : " (the watermark passed it)"));
        report(status, 0);
      } else if (has_event) {
        const InputEvent& event = events[waiting.top()];
        waiting.pop();
        printer.NewStep();
        out << "line " << event.line << " at " << FormatTime(event.ts) << ": "
            << EventText(file, pattern, event.record) << "\n"
            << "  conditions: " << printer.Conditions(event.record) << "\n";
        const absl::Status status =
            evaluator.Process(state, event.record, event.ts, event.line, sink);
        const std::vector<std::string> lines = printer.TakeLines();
        if (lines.empty()) out << "  no partial match moves and none starts\n";
        for (const std::string& line : lines) out << "  " << line << "\n";
        report(status, event.line);
      } else {
        break;
      }
    }
  };

  for (size_t event_idx = 0; event_idx < events.size(); ++event_idx) {
    const InputEvent& event = events[event_idx];
    if (pattern.Accepts(event.record)) {
      const std::string key = KeyText(pattern.KeyOf(event.record));
      if (keyed) keys_seen.insert(key);
      if (!keyed || key == settings.key) {
        ++traced;
        if (event.late) {
          out << "line " << event.line << " at " << FormatTime(event.ts)
              << ": late (the watermark was at "
              << FormatTime(event.late_behind)
              << "): not given to the pattern\n";
        } else {
          waiting.push(event_idx);
        }
      }
    }
    advance(event.watermark, false);
  }
  advance(kEndOfTime, true);

  if (traced == 0) {
    out << "no event of this pattern's types has " << pattern.key_field << " = "
        << settings.key;
    if (keys_seen.empty()) {
      out << " (no event of its types at all)\n";
    } else {
      std::vector<std::pair<size_t, std::string>> ranked;
      for (const std::string& key : keys_seen) {
        ranked.emplace_back(EditDistance(key, settings.key), key);
      }
      std::stable_sort(
          ranked.begin(), ranked.end(),
          [](const auto& a, const auto& b) { return a.first < b.first; });
      std::vector<std::string> closest;
      for (size_t idx = 0; idx < ranked.size() && idx < 3; ++idx) {
        closest.push_back(ranked[idx].second);
      }
      out << "; " << Plural(keys_seen.size(), "distinct key")
          << " seen, the closest: " << absl::StrJoin(closest, ", ") << "\n";
    }
    return result;
  }

  out << "summary: " << printer.matches()
      << (printer.matches() == 1 ? " match" : " matches") << " released";
  std::vector<std::string> gone;
  if (printer.timeouts() > 0) {
    gone.push_back(absl::StrCat(printer.timeouts(), " pruned by within"));
  }
  if (printer.killed() > 0) {
    gone.push_back(absl::StrCat(printer.killed(), " killed by a NOT stage"));
  }
  if (printer.dead() > 0) {
    gone.push_back(absl::StrCat(printer.dead(), " ended by strict contiguity"));
  }
  if (printer.discarded() > 0) {
    gone.push_back(
        absl::StrCat(printer.discarded(), " discarded by the skip strategy"));
  }
  if (printer.evicted() > 0) {
    gone.push_back(
        absl::StrCat(printer.evicted(), " evicted by the partial-match cap"));
  }
  if (!gone.empty()) {
    out << "; partial matches: " << absl::StrJoin(gone, ", ");
  }
  out << "\n";
  if (!open_at_end) open_at_end = open_lines();
  if (open_at_end->empty()) {
    out << "  no partial match was open at the end of the input\n";
  } else {
    out << "  open at the end of the input: " << open_at_end->size() << "\n";
    for (const std::string& line : *open_at_end) {
      out << "    " << line << "\n";
    }
    if (evaluator.has_windows()) {
      out << "  (the end of the input then closed their windows)\n";
    }
  }
  return result;
}

int RunTrace(const CommandContext& context) {
  const std::string& path = context.args.positionals.front();
  RunOptions run_options;
  for (const char* flag : {"format", "max-out-of-orderness", "max-line-bytes",
                           "max-partial-matches", "overflow"}) {
    if (std::optional<std::string> value = context.args.Get(flag)) {
      if (absl::Status status = SetRunOption(flag, *value, run_options);
          !status.ok()) {
        return UsageError(context.program, context.err,
                          std::string(status.message()));
      }
    }
  }
  std::optional<PatternFile> file = LoadOrReport(path, context.err);
  if (!file) return kExitFailure;
  const std::optional<std::string> only = context.args.Get("pattern");
  if (only && file->FindPattern(*only) == nullptr) {
    std::vector<std::string> names;
    for (const FilePattern& pattern : file->patterns()) {
      names.push_back(pattern.name);
    }
    return UsageError(
        context.program, context.err,
        absl::StrCat("no pattern ", Quote(*only), " in ", Quote(path),
                     " (it has ", absl::StrJoin(names, ", "), ")"));
  }
  // A pattern without a key field sees the whole stream as one key: it
  // needs no --key.
  const std::optional<std::string> key = context.args.Get("key");
  for (const FilePattern& pattern : file->patterns()) {
    if (!key && !pattern.key_field.empty() &&
        (!only || pattern.name == *only)) {
      return UsageError(context.program, context.err,
                        "missing flag --key: the key to trace");
    }
  }
  for (const auto& schema : file->schemas()) {
    if (!schema->time_field().has_value()) {
      context.err << file->filename() << ": error: event type '"
                  << schema->name()
                  << "' has no time field; a trace orders events by event "
                     "time (mark a timestamp field with 'time')\n";
      return kExitFailure;
    }
  }

  // Every event is read first: the watermark depends on all keys, and each
  // pattern is traced over the same events.
  const std::string input_path = context.args.Get("input").value_or("-");
  std::unique_ptr<InputFile> file_input;
  std::istream* input = &std::cin;
  std::string input_name = "<stdin>";
  if (input_path != "-") {
    absl::StatusOr<std::unique_ptr<InputFile>> opened =
        InputFile::Open(input_path, nullptr);
    if (!opened.ok()) {
      context.err << "cep: error: " << opened.status().message() << "\n";
      return kExitFailure;
    }
    file_input = *std::move(opened);
    input = file_input.get();
    input_name = input_path;
  }
  RecordDecoder json(*file);
  RecordCsvDecoder csv(*file);
  const bool is_csv = run_options.format == InputFormat::kCsv;
  io::LineReader reader(run_options.max_line_bytes, /*drop_rest=*/false);
  BoundedOutOfOrderness watermarks(run_options.max_out_of_orderness);
  std::vector<InputEvent> events;
  std::string line;
  uint64_t consumed = 0;
  size_t line_no = 0;
  io::LineRead read;
  auto fail = [&](const std::string& what) {
    context.err << input_name << ":" << line_no << ": error: " << what << "\n";
    return kExitFailure;
  };
  while ((read = reader.Next(*input, line, consumed)) != io::LineRead::kEnd) {
    ++line_no;
    if (read == io::LineRead::kTooLong) {
      return fail(absl::StrCat("the line is longer than ",
                               run_options.max_line_bytes,
                               " bytes (--max-line-bytes)"));
    }
    std::string_view text = line;
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (IsBlankLine(text)) continue;
    if (is_csv && !csv.has_header()) {
      if (absl::Status status = csv.ReadHeader(text); !status.ok()) {
        return fail(absl::StrCat("header: ", status.message()));
      }
      continue;
    }
    absl::StatusOr<Record> record =
        is_csv ? csv.Decode(text) : json.Decode(text);
    if (!record.ok()) return fail(std::string(record.status().message()));
    InputEvent event;
    event.line = line_no;
    event.ts = FromMillis(record->GetInt(*record->schema().time_field()));
    event.record = *std::move(record);
    if (event.ts <= watermarks.watermark()) {
      event.late = true;
      event.late_behind = watermarks.watermark();
    } else {
      watermarks.Observe(event.ts);
    }
    event.watermark = watermarks.watermark();
    events.push_back(std::move(event));
  }
  if (input->bad()) {
    context.err << input_name << ": error: cannot read the input\n";
    return kExitFailure;
  }

  int status = kExitOk;
  bool first = true;
  for (const FilePattern& pattern : file->patterns()) {
    if (only && pattern.name != *only) continue;
    if (!first) context.out << "\n";
    first = false;
    TraceSettings settings{key.value_or(""), run_options.evaluator};
    if (TracePattern(*file, pattern, events, input_name, settings, context.out,
                     context.err) != kExitOk) {
      status = kExitFailure;
    }
  }
  return status;
}

}  // namespace

CommandSpec TraceCommand() {
  return CommandSpec{
      .name = "trace",
      .summary =
          "Replay one key's events and say what each pattern did with "
          "them: why a match came, or did not",
      .positionals = {{.name = "FILE", .help = "a pattern file (.cep)"}},
      .flags =
          {
              {.name = "input",
               .short_name = 'i',
               .value_name = "FILE",
               .default_value = "-",
               .help = "events: JSON lines, or CSV with --format csv; - is "
                       "stdin"},
              {.name = "key",
               .short_name = 'k',
               .value_name = "K",
               .help = "the key to trace: events whose key field has this "
                       "value (a string as is, a number as written); "
                       "required unless the pattern has no key; a key no "
                       "event has is said, with exit status 0"},
              {.name = "pattern",
               .value_name = "NAME",
               .help = "only the pattern called NAME (default: each pattern "
                       "of the file, one after the other)"},
              {.name = "format",
               .value_name = "jsonl|csv",
               .default_value = "jsonl",
               .help = "input encoding: JSON lines, or CSV with a header row"},
              {.name = "max-out-of-orderness",
               .value_name = "DURATION",
               .default_value = "0",
               .help = "as for cep run: how late an event may arrive and "
                       "still be in time; later ones are shown as late"},
              {.name = "max-line-bytes",
               .value_name = "N",
               .default_value = "16777216",
               .help = "the longest input line in bytes"},
              {.name = "max-partial-matches",
               .value_name = "N",
               .default_value = "10000",
               .help = "as for cep run: partial matches the key may hold (0: "
                       "no limit); a pattern's clause wins"},
              {.name = "overflow",
               .value_name = "drop-oldest|refuse-new",
               .default_value = "drop-oldest",
               .help = "as for cep run: which partial matches the cap drops"},
          },
      .run = RunTrace,
  };
}

}  // namespace cep::cli
