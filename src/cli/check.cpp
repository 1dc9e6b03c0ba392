// `cep check FILE... [--bounds]`: validates pattern files and describes each
// pattern in the language's words:
//
//   patterns/card_testing.cep: 1 event type, 1 pattern
//     pattern card_testing on Auth, key card, within 30m, after match skip past
//     last event
//       begin probe {3,} consecutive greedy
//       not followed by refund
//       followed by cashout
//
// Each pattern's worst case of partial matches per key (pattern_bounds.hpp)
// is printed with --bounds, and the dangerous ones (exponential, polynomial
// of degree 2 or more, no window) are warned about on stderr either way,
// unless the pattern's header caps them (`max partial matches N`):
//
//   f.cep:3:15: warning: pattern 'p': partial matches per key can double
//   with each event (exponential): `any combination` on 'b+'

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cep/compiler.hpp"
#include "cep/dsl.hpp"
#include "cep/nfa.hpp"
#include "cep/pattern.hpp"
#include "cep/pattern_bounds.hpp"
#include "cep/time.hpp"

#include "args.hpp"
#include "commands.hpp"

namespace cep::cli {
namespace {

std::string ContiguityWords(Contiguity contiguity, bool first) {
  if (first) return "begin";
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

// " {3,} consecutive greedy", " *", " {2,3}?", "" for a single event.
std::string QuantifierWords(const Quantifier& q) {
  std::string out;
  const std::string from = std::to_string(q.from);
  switch (q.kind) {
    case Quantifier::Kind::kSingle:
      out = q.optional ? " ?" : "";
      break;
    case Quantifier::Kind::kTimes:
      out = q.from == q.to ? " {" + from + "}"
                           : " {" + from + "," + std::to_string(q.to) + "}";
      if (q.optional) out += "?";
      break;
    case Quantifier::Kind::kLooping:
      if (q.from == 1) {
        out = q.optional ? " *" : " +";
      } else {
        out = " {" + from + ",}";
        if (q.optional) out += "?";
      }
      break;
  }
  if (q.inner == Contiguity::kStrict) out += " consecutive";
  if (q.inner == Contiguity::kNonDeterministicRelaxed) {
    out += " any combination";
  }
  if (q.greedy) out += " greedy";
  return out;
}

void DescribeStages(const std::vector<Stage<Record>>& stages,
                    const std::string& indent, std::string& out) {
  for (size_t stage_idx = 0; stage_idx < stages.size(); ++stage_idx) {
    const Stage<Record>& stage = stages[stage_idx];
    out += indent + ContiguityWords(stage.contiguity, stage_idx == 0) + " ";
    out += stage.is_group() ? std::string("(...)") : stage.name;
    out += QuantifierWords(stage.quantifier);
    if (stage.within_previous) {
      out += " within " + FormatDuration(*stage.within_previous);
    }
    out += "\n";
    if (stage.is_group()) DescribeStages(stage.group, indent + "  ", out);
  }
}

// The smallest first-to-last window of any stage (groups included).
std::optional<Duration> Window(const std::vector<Stage<Record>>& stages) {
  std::optional<Duration> window;
  for (const Stage<Record>& stage : stages) {
    std::optional<Duration> inner = stage.within;
    if (stage.is_group()) {
      if (std::optional<Duration> g = Window(stage.group)) {
        inner = inner ? std::min(*inner, *g) : *g;
      }
    }
    if (inner) window = window ? std::min(*window, *inner) : *inner;
  }
  return window;
}

std::string Plural(size_t count, const std::string& word) {
  return std::to_string(count) + " " + word + (count == 1 ? "" : "s");
}

// ---- bounds ---------------------------------------------------------------

struct Position {
  size_t line = 0;
  size_t column = 0;
};

bool IsWordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

// Where each stage of `pattern` is declared in its file: the stage's name
// after its connector (`begin`, `next`, `by`, `any`), and for a group the
// `(` before its first stage (keyed by that stage's name, with a "(" in
// front). Comments and strings are skipped. Empty for a pattern without
// source (added in C++).
std::map<std::string, Position> StagePositions(const FilePattern& pattern) {
  std::map<std::string, Position> positions;
  const std::string_view text = pattern.source.view();
  if (text.empty() || pattern.line == 0) return positions;
  size_t offset = 0;
  Position at{1, 1};
  auto advance = [&](size_t to) {
    for (; offset < to && offset < text.size(); ++offset) {
      if (text[offset] == '\n') {
        ++at.line;
        at.column = 1;
      } else {
        ++at.column;
      }
    }
  };
  while (offset < text.size() && at.line < pattern.line) advance(offset + 1);
  int depth = 0;
  bool in_body = false;
  std::string previous;  // the last word, or "(" for an opening parenthesis
  std::optional<Position> paren;
  while (offset < text.size()) {
    const char c = text[offset];
    if (c == '/' && offset + 1 < text.size() && text[offset + 1] == '/') {
      const size_t end = text.find('\n', offset);
      advance(end == std::string_view::npos ? text.size() : end);
      continue;
    }
    if (c == '"') {
      size_t end = offset + 1;
      while (end < text.size() && text[end] != '"' && text[end] != '\n') {
        end += text[end] == '\\' ? 2 : 1;
      }
      advance(end + 1);
      previous.clear();
      continue;
    }
    if (c == '{') {
      ++depth;
      in_body = true;
    } else if (c == '}') {
      if (--depth == 0 && in_body) break;
    }
    if (!in_body) {
      advance(offset + 1);
      continue;
    }
    if (IsWordChar(c)) {
      const Position start = at;
      size_t end = offset;
      while (end < text.size() && IsWordChar(text[end])) ++end;
      const std::string word(text.substr(offset, end - offset));
      advance(end);
      if ((previous == "begin" || previous == "next" || previous == "by" ||
           previous == "any") &&
          word != "any" && word != "combination" &&
          positions.count(word) == 0) {
        positions[word] = start;
        if (previous == "begin" && paren) positions["(" + word] = *paren;
      }
      if (word != "begin") paren.reset();
      previous = word;
      continue;
    }
    if (c == '(') {
      paren = at;
      previous = "(";
    } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
      previous.clear();
      paren.reset();
    }
    advance(offset + 1);
  }
  return positions;
}

// The stage called `name` (groups: "(a b)"), searched through groups.
const Stage<Record>* FindStage(const std::vector<Stage<Record>>& stages,
                               const std::string& name) {
  for (const Stage<Record>& stage : stages) {
    if (stage.name == name) return &stage;
    if (stage.is_group()) {
      if (const Stage<Record>* inner = FindStage(stage.group, name)) {
        return inner;
      }
    }
  }
  return nullptr;
}

// The first stage that is not a group, inside `stage` (or itself).
const Stage<Record>& FirstLeaf(const Stage<Record>& stage) {
  return stage.is_group() ? FirstLeaf(stage.group.front()) : stage;
}

class BoundsWriter {
 public:
  BoundsWriter(const std::string& path, const FilePattern& pattern,
               const PatternBounds& bounds)
      : path_(path),
        pattern_(pattern),
        bounds_(bounds),
        positions_(StagePositions(pattern)) {}

  // The lines `cep check --bounds` prints under the pattern.
  std::string Lines() const {
    std::string out = "    bounds: " + Growth() + "\n";
    if (bounds_.growth == BoundGrowth::kExponential) {
      out += "      doubles: " + Factor(bounds_.factors.front(), true) + "\n";
    } else {
      for (const auto& [factor, count] : Distinct()) {
        out += "      " +
               (count == 1 ? std::string("n") : "n^" + std::to_string(count)) +
               ": " + Factor(factor, true) + "\n";
      }
    }
    if (bounds_.unbounded && bounds_.growth != BoundGrowth::kConstant) {
      out += "      " + Unbounded(true) + "\n";
    }
    if (bounds_.growth != BoundGrowth::kConstant && Capped()) {
      out += "      capped at " +
             std::to_string(*pattern_.max_partial_matches) +
             " by the header's `max partial matches` (not warned about): "
             "past it some are evicted\n";
    }
    if (bounds_.growth != BoundGrowth::kConstant &&
        bounds_.skip.kind() != AfterMatchSkip::Kind::kNoSkip) {
      out += "      after match " + SkipWords(bounds_.skip) +
             " discards partial matches only when a match completes\n";
    }
    // A header cap keeps the pattern per run (`cep run`, `cep explain`).
    if (bounds_.shared_runs && !pattern_.max_partial_matches &&
        bounds_.skip.kind() == AfterMatchSkip::Kind::kNoSkip) {
      out +=
          "      memory stays linear: shared partial matches (the shared-runs "
          "strategy, see `cep explain`)\n";
    } else {
      out +=
          "      per-run strategy (see `cep explain`): each event visits every "
          "partial match\n";
    }
    return out;
  }

  // The `FILE:LINE:COL: warning: ...` line `cep check` prints for a
  // dangerous pattern, or "".
  std::string Warnings() const {
    if (!bounds_.Dangerous() || Capped()) return "";
    const std::string head =
        "warning: pattern '" + pattern_.name + "': partial matches per key ";
    // The constructs behind the growth, the first stage's left out.
    std::string causes;
    for (const auto& [factor, count] : Distinct()) {
      if (factor.kind == BoundFactor::Kind::kStart) continue;
      if (!causes.empty()) causes += ", ";
      causes += Factor(factor, false);
      if (count > 1) causes += " (" + std::to_string(count) + " times)";
    }
    if (bounds_.growth == BoundGrowth::kExponential) {
      const BoundFactor& factor = bounds_.factors.front();
      return Where(factor.stage) + head +
             "can double with each event (exponential): " +
             Factor(factor, false) + "\n";
    }
    if (bounds_.unbounded) {
      return Where(bounds_.unbounded->stage) + head +
             "grow with the stream, not a window (" + GrowthWords(bounds_) +
             " in the key's events so far): " + Unbounded(false) +
             (causes.empty() ? "" : ", " + causes) + "\n";
    }
    return Where(bounds_.factors.back().stage) + head + "can grow as n^" +
           std::to_string(bounds_.degree) + ", n = " + NWords() + ": " +
           causes + "\n";
  }

 private:
  // The factors in order, a run of equal ones once with its length (a
  // `{3} any combination` stage is a factor n per optional repetition).
  std::vector<std::pair<BoundFactor, int>> Distinct() const {
    std::vector<std::pair<BoundFactor, int>> distinct;
    for (const BoundFactor& factor : bounds_.factors) {
      if (!distinct.empty() && distinct.back().first == factor) {
        ++distinct.back().second;
      } else {
        distinct.emplace_back(factor, 1);
      }
    }
    return distinct;
  }

  // The pattern's header caps its partial matches per key.
  bool Capped() const { return pattern_.max_partial_matches.value_or(0) > 0; }

  std::optional<Position> PositionOf(const std::string& stage) const {
    const Stage<Record>* found = FindStage(pattern_.pattern.stages(), stage);
    if (found == nullptr) return std::nullopt;
    const std::string key =
        found->is_group() ? "(" + FirstLeaf(*found).name : found->name;
    auto it = positions_.find(key);
    if (it == positions_.end()) return std::nullopt;
    return it->second;
  }

  // "FILE:LINE:COL: " of `stage`, or "FILE:LINE: " of the pattern.
  std::string Where(const std::string& stage) const {
    if (std::optional<Position> at = PositionOf(stage)) {
      return path_ + ":" + std::to_string(at->line) + ":" +
             std::to_string(at->column) + ": ";
    }
    return path_ + ":" + std::to_string(pattern_.line) + ": ";
  }

  // " (line 3)", or "" where the position is not known.
  std::string Line(const std::string& stage) const {
    std::optional<Position> at = PositionOf(stage);
    return at ? " (line " + std::to_string(at->line) + ")" : "";
  }

  // "'b+'", "'(b c) {2,}'": the stage's name and quantifier.
  std::string Words(const std::string& stage) const {
    const Stage<Record>* found = FindStage(pattern_.pattern.stages(), stage);
    if (found == nullptr) return "'" + stage + "'";
    Quantifier count = found->quantifier;  // the count, not the modifiers
    count.inner = Contiguity::kRelaxed;
    count.greedy = false;
    std::string quantifier = QuantifierWords(count);
    // `b+`, `b*`, `b?` as written; `b {3,}` with its space.
    if (quantifier.size() >= 2 &&
        (quantifier[1] == '+' || quantifier[1] == '*' ||
         quantifier[1] == '?')) {
      quantifier.erase(0, 1);
    }
    return "'" + found->name + quantifier + "'";
  }

  std::string NWords() const {
    if (bounds_.window > Duration::zero()) {
      return "the events of a key within " + FormatDuration(bounds_.window);
    }
    if (bounds_.unbounded) return "the events of a key so far (no window)";
    if (bounds_.stage_windows.empty()) return "the events of a key";
    std::string words = "the events of a key within the stage windows (";
    for (size_t i = 0; i < bounds_.stage_windows.size(); ++i) {
      if (i > 0) words += ", ";
      words += bounds_.stage_windows[i].first + " " +
               FormatDuration(bounds_.stage_windows[i].second);
    }
    return words + ")";
  }

  std::string Growth() const {
    switch (bounds_.growth) {
      case BoundGrowth::kConstant:
        return "constant: every partial match lives a bounded number of "
               "events";
      case BoundGrowth::kPolynomial:
        return (bounds_.degree == 1
                    ? std::string("linear")
                    : GrowthWords(bounds_) + " (n^" +
                          std::to_string(bounds_.degree) + ")") +
               " in n, " + NWords();
      case BoundGrowth::kExponential:
        return "exponential (2^n) in n, " + NWords();
    }
    return "?";
  }

  // The construct `factor` names, with its line and what it does when
  // `explain`: "loop 'b+' (line 4): at each event ...".
  std::string Factor(const BoundFactor& factor, bool explain) const {
    const std::string line = explain ? Line(factor.stage) : "";
    const bool doubles = bounds_.growth == BoundGrowth::kExponential;
    std::string what;
    std::string does;
    switch (factor.kind) {
      case BoundFactor::Kind::kStart:
        what = "`begin " + factor.stage + "`";
        does = "every event may start a partial match";
        break;
      case BoundFactor::Kind::kFollowedByAny: {
        const Stage<Record>* found =
            FindStage(pattern_.pattern.stages(), factor.stage);
        const bool loops = found != nullptr &&
                           found->quantifier.kind == Quantifier::Kind::kLooping;
        what = "`followed by any` into " +
               std::string(loops ? "the looping stage " : "") +
               Words(factor.stage);
        does = "a partial match both takes and skips each event";
        break;
      }
      case BoundFactor::Kind::kLoop:
        what = "loop " + Words(factor.stage);
        does =
            "at each event a partial match both stays in the loop and "
            "goes on";
        break;
      case BoundFactor::Kind::kAnyCombination:
        what = "`any combination` on " + Words(factor.stage);
        does = doubles ? "every subset of the events is a partial match"
                       : "a partial match both takes and skips each event";
        break;
      case BoundFactor::Kind::kGroupLoop: {
        const Stage<Record>* found =
            FindStage(pattern_.pattern.stages(), factor.stage);
        const bool any =
            found != nullptr &&
            found->quantifier.inner == Contiguity::kNonDeterministicRelaxed;
        what = (any ? "`any combination` on the group " : "group ") +
               Words(factor.stage);
        does = doubles ? "every event doubles the repetitions"
                       : "at each event a partial match both waits for "
                         "another repetition and goes on";
        break;
      }
      case BoundFactor::Kind::kStage:
        what = "stage " + Words(factor.stage);
        does = doubles ? "every event doubles its partial matches"
                       : "a partial match both waits there and goes on";
        break;
    }
    return explain ? what + line + ": " + does : what;
  }

  // Where partial matches wait without a window; with its line and what
  // follows when `explain`.
  std::string Unbounded(bool explain) const {
    const UnboundedWait& wait = *bounds_.unbounded;
    const std::string line = explain ? Line(wait.stage) : "";
    std::string what;
    if (wait.kind == UnboundedWait::Kind::kLoop) {
      what = "loop " + Words(wait.stage) + line +
             (wait.has_until ? " with `until` but without `within`"
                             : " without `within` or `until`");
    } else {
      // The connector of a stage the pattern or a group begins with says
      // nothing about how it waits: left out.
      const Stage<Record>* found =
          FindStage(pattern_.pattern.stages(), wait.stage);
      const bool first = found == nullptr || found->is_group() ||
                         found == &pattern_.pattern.stages().front() ||
                         found->contiguity == Contiguity::kStrict;
      const std::string connector =
          first ? "" : ContiguityWords(found->contiguity, false);
      what = Words(wait.stage) + line + " waiting" +
             (connector.empty() ? "" : " under `" + connector + "`") +
             " without `within`";
    }
    if (!explain) return what;
    return what +
           (wait.has_until
                ? ": grows with the stream until an event meets the until "
                  "condition"
                : ": grows with the stream, not a window");
  }

  const std::string& path_;
  const FilePattern& pattern_;
  const PatternBounds& bounds_;
  std::map<std::string, Position> positions_;
};

int RunCheck(const CommandContext& context) {
  int status = kExitOk;
  const bool print_bounds = context.args.Has("bounds");
  for (const std::string& path : context.args.positionals) {
    std::optional<PatternFile> file = LoadOrReport(path, context.err);
    if (!file) {
      status = kExitFailure;
      continue;
    }
    context.out << path << ": " << Plural(file->schemas().size(), "event type")
                << ", " << Plural(file->patterns().size(), "pattern") << "\n";
    for (const FilePattern& pattern : file->patterns()) {
      context.out << DescribePattern(pattern);
      absl::StatusOr<Nfa<Record>> nfa = CompilePattern(pattern.pattern);
      if (!nfa.ok()) {
        // ParsePatternFile compiles every pattern: not expected.
        context.err << path << ":" << pattern.line << ": error: pattern '"
                    << pattern.name << "': " << nfa.status().message() << "\n";
        status = kExitFailure;
        continue;
      }
      const PatternBounds bounds = AnalyzeBounds(pattern.pattern, *nfa);
      const BoundsWriter writer(path, pattern, bounds);
      if (print_bounds) context.out << writer.Lines();
      context.err << writer.Warnings();
    }
  }
  return status;
}

}  // namespace

std::string SkipWords(const AfterMatchSkip& skip) {
  switch (skip.kind()) {
    case AfterMatchSkip::Kind::kNoSkip:
      return "no skip";
    case AfterMatchSkip::Kind::kSkipToNext:
      return "skip to next";
    case AfterMatchSkip::Kind::kSkipPastLastEvent:
      return "skip past last event";
    case AfterMatchSkip::Kind::kSkipToFirst:
      return "skip to first " + skip.stage();
    case AfterMatchSkip::Kind::kSkipToLast:
      return "skip to last " + skip.stage();
  }
  return "?";
}

std::string DescribePattern(const FilePattern& pattern) {
  std::string out = "  pattern " + pattern.name + " on ";
  for (size_t type_idx = 0; type_idx < pattern.types.size(); ++type_idx) {
    if (type_idx > 0) out += ", ";
    out += pattern.types[type_idx]->name();
  }
  out += pattern.key_field.empty() ? ", no key" : ", key " + pattern.key_field;
  if (std::optional<Duration> window = Window(pattern.pattern.stages())) {
    out += ", within " + FormatDuration(*window);
  }
  out += ", after match " + SkipWords(pattern.pattern.skip());
  if (pattern.max_partial_matches) {
    out +=
        ", max partial matches " + std::to_string(*pattern.max_partial_matches);
  }
  if (pattern.overflow_policy) {
    out += *pattern.overflow_policy == OverflowPolicy::kDropOldest
               ? " drop oldest"
               : " refuse new";
  }
  out += "\n";
  DescribeStages(pattern.pattern.stages(), "    ", out);
  return out;
}

std::optional<PatternFile> LoadOrReport(const std::string& path,
                                        std::ostream& err) {
  absl::StatusOr<PatternFile> file = LoadPatternFile(path);
  if (file.ok()) return *std::move(file);
  const std::string message(file.status().message());
  // The parser's text starts with the file name and ends without a newline;
  // a file that cannot be read is one line, said by cep.
  if (message.rfind("cannot read ", 0) == 0) {
    err << "cep: error: " << message << "\n";
  } else {
    err << message << "\n";
  }
  return std::nullopt;
}

CommandSpec CheckCommand() {
  return CommandSpec{
      .name = "check",
      .summary =
          "Check pattern files, describe their patterns and warn "
          "about partial matches that can blow up",
      .positionals = {{.name = "FILE",
                       .help = "pattern files (.cep), one or more",
                       .repeated = true}},
      .flags = {{.name = "bounds",
                 .help = "also print each pattern's worst case of partial "
                         "matches per key as n grows, n = the key's events in "
                         "its window: constant, linear, polynomial of degree "
                         "d or exponential, and the constructs responsible. "
                         "With or without it, patterns that are exponential, "
                         "of degree 2 or more, or growing with the stream for "
                         "lack of a window get a FILE:LINE:COL warning on "
                         "stderr (not when their header sets max partial "
                         "matches); warnings leave the exit status 0"}},
      .run = RunCheck,
  };
}

}  // namespace cep::cli
