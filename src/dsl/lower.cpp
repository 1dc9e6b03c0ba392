// ParsePatternFile / LoadPatternFile: parse a .cep file (parser.hpp), then
// check its declarations and lower them into Schemas and Pattern<Record>s.
// Every error points at the most precise node through Source::Error and
// speaks the language's words, not the builder's.

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "cep/compiler.hpp"
#include "cep/dsl.hpp"
#include "cep/evaluator.hpp"
#include "cep/internal/status_macros.hpp"

#include "ast.hpp"
#include "expr.hpp"
#include "parser.hpp"
#include "source.hpp"

namespace cep {
namespace dsl {
namespace {

using RecordPattern = Pattern<Record>;

std::string Article(FieldType type) {
  const std::string_view name = FieldTypeName(type);
  return absl::StrCat(type == FieldType::kInt ? "an " : "a ",
                      absl::string_view(name.data(), name.size()));
}

std::string DurationText(const ast::DurationLiteral& d) {
  return absl::StrCat(d.amount, d.unit);
}

std::string QuantifierText(const ast::Quantifier& q) {
  std::string text;
  if (q.kind == "times") {
    text = absl::StrCat("{", q.from, "}");
  } else if (q.kind == "range") {
    text = absl::StrCat("{", q.from, ",", q.to, "}");
  } else if (q.kind == "at least") {
    text = absl::StrCat("{", q.from, ",}");
  } else {
    text = q.kind;
  }
  if (q.optional) text += "?";
  return text;
}

// Whether the quantifier can take more than one event.
bool TakesSeveral(const std::optional<ast::Quantifier>& q) {
  if (!q) return false;
  if (q->kind == "times") return q->from >= 2;
  if (q->kind == "range") return q->to >= 2;
  return q->kind == "at least" || q->kind == "+" || q->kind == "*";
}

bool Loops(const std::optional<ast::Quantifier>& q) {
  return q && (q->kind == "at least" || q->kind == "+" || q->kind == "*");
}

// Whether the quantifier makes the stage optional.
bool MakesOptional(const std::optional<ast::Quantifier>& q) {
  if (!q) return false;
  return q->optional || q->kind == "?" || q->kind == "*" ||
         (q->kind == "range" && q->from == 0) ||
         (q->kind == "at least" && q->from == 0);
}

bool IsNot(const ast::Stage& stage) {
  return stage.connector == "not next" || stage.connector == "not followed by";
}

const ast::Name* StageName(const ast::Stage& stage) {
  return boost::get<ast::Name>(&stage.target);
}
const ast::Group* StageGroup(const ast::Stage& stage) {
  if (const auto* group =
          boost::get<ast::x3::forward_ast<ast::Group>>(&stage.target)) {
    return &group->get();
  }
  return nullptr;
}

class Lowerer {
 public:
  Lowerer(const Source& source, const ParsedFile& parsed)
      : source_(source), parsed_(parsed) {}

  absl::StatusOr<PatternFile> Run() {
    size_t event_count = 0;
    for (const ast::Declaration& decl : parsed_.file().declarations) {
      if (boost::get<ast::EventDecl>(&decl) != nullptr) ++event_count;
    }
    for (const ast::Declaration& decl : parsed_.file().declarations) {
      if (const auto* event = boost::get<ast::EventDecl>(&decl)) {
        CEP_RETURN_IF_ERROR(LowerEvent(*event, event_count));
      }
    }
    for (const auto& schema : schemas_) schema_ptrs_.push_back(schema.get());
    std::vector<FilePattern> patterns;
    absl::flat_hash_set<std::string> pattern_names;
    for (const ast::Declaration& decl : parsed_.file().declarations) {
      if (const auto* pattern = boost::get<ast::PatternDecl>(&decl)) {
        if (!pattern_names.insert(pattern->name.text).second) {
          return Error(pattern->name, absl::StrCat("duplicate pattern '",
                                                   pattern->name.text, "'"));
        }
        CEP_ASSIGN_OR_RETURN(FilePattern lowered, LowerPattern(*pattern));
        patterns.push_back(std::move(lowered));
      }
    }
    return PatternFile(source_.filename(), std::move(schemas_),
                       std::move(patterns));
  }

 private:
  size_t Off(const ast::Node& node) const { return parsed_.OffsetOf(node); }
  // "unknown event type 'Auht' (declared: Auth, Refund)".
  std::string UnknownEventType(const std::string& name) const {
    std::vector<std::string> declared;
    for (const auto& schema : schemas_) declared.push_back(schema->name());
    if (declared.empty()) {
      return absl::StrCat("unknown event type '", name,
                          "' (the file declares no events)");
    }
    return absl::StrCat("unknown event type '", name,
                        "' (declared: ", absl::StrJoin(declared, ", "), ")");
  }

  absl::Status Error(const ast::Node& node, std::string_view message) const {
    return source_.Error(Off(node), message);
  }
  absl::Status Error(size_t offset, std::string_view message) const {
    return source_.Error(offset, message);
  }

  const Schema* FindSchema(std::string_view name) const {
    for (const auto& schema : schemas_) {
      if (schema->name() == name) return schema.get();
    }
    return nullptr;
  }

  // -- Events -----------------------------------------------------------------

  absl::Status LowerEvent(const ast::EventDecl& decl, size_t event_count) {
    if (FindSchema(decl.name.text) != nullptr) {
      return Error(decl.name,
                   absl::StrCat("duplicate event '", decl.name.text, "'"));
    }
    std::vector<FieldDef> fields;
    std::optional<size_t> key;
    std::optional<size_t> time;
    absl::flat_hash_set<std::string> field_names;
    for (const ast::FieldDecl& field : decl.fields) {
      if (!field_names.insert(field.name.text).second) {
        return Error(field.name,
                     absl::StrCat("duplicate field '", field.name.text, "'"));
      }
      if (field.name.text == "type" && event_count > 1) {
        return Error(field.name,
                     "a file with several event types cannot declare a field "
                     "called 'type': input lines name their type in it");
      }
      FieldDef def;
      def.name = field.name.text;
      const std::string& type = field.type.text;
      if (type == "int") {
        def.type = FieldType::kInt;
      } else if (type == "double") {
        def.type = FieldType::kDouble;
      } else if (type == "string") {
        def.type = FieldType::kString;
      } else if (type == "bool") {
        def.type = FieldType::kBool;
      } else if (type == "timestamp") {
        def.type = FieldType::kTimestamp;
      } else {
        return Error(field.type,
                     absl::StrCat("unknown type '", type,
                                  "'; a field is int, double, string, bool "
                                  "or timestamp"));
      }
      const size_t index = fields.size();
      for (const ast::Name& marker : field.markers) {
        if (marker.text == "key" || marker.text == "time") {
          std::optional<size_t>& slot = marker.text == "key" ? key : time;
          if (slot == index) {
            return Error(marker,
                         absl::StrCat("'", marker.text, "' is given twice"));
          }
          if (slot) {
            return Error(marker,
                         absl::StrCat("event ", decl.name.text,
                                      " already has a ", marker.text,
                                      " field, '", fields[*slot].name, "'"));
          }
          if (marker.text == "time" && def.type != FieldType::kTimestamp) {
            return Error(field.type,
                         absl::StrCat("the time field must be a timestamp; '",
                                      def.name, "' is ", Article(def.type)));
          }
          slot = index;
        } else {
          return Error(marker, absl::StrCat("unknown marker '", marker.text,
                                            "'; a field may be marked key or "
                                            "time"));
        }
      }
      fields.push_back(std::move(def));
    }
    schemas_.push_back(std::make_unique<const Schema>(
        decl.name.text, std::move(fields), key, time,
        static_cast<uint32_t>(schemas_.size())));
    return absl::OkStatus();
  }

  // -- Patterns ---------------------------------------------------------------

  absl::StatusOr<FilePattern> LowerPattern(const ast::PatternDecl& decl) {
    FilePattern out;
    out.name = decl.name.text;
    out.filename = source_.filename();
    out.source = source_.shared_text();
    out.line =
        source_.Locate(decl.id_first >= 0 ? Off(decl) : Off(decl.name)).line;
    scope_ = PatternScope();
    stage_names_.clear();
    scope_.source = &source_;
    scope_.parsed = &parsed_;
    scope_.schemas = schema_ptrs_;
    for (const ast::Name& type : decl.types) {
      const Schema* schema = FindSchema(type.text);
      if (schema == nullptr) {
        return Error(type, UnknownEventType(type.text));
      }
      for (const Schema* seen : scope_.types) {
        if (seen == schema) {
          return Error(type, absl::StrCat("duplicate type '", type.text, "'"));
        }
      }
      scope_.types.push_back(schema);
    }
    out.types = scope_.types;
    out.accepts.assign(schemas_.size(), false);
    for (const Schema* schema : scope_.types) out.accepts[schema->id()] = true;

    // Header clauses, each at most once.
    const ast::KeyClause* key = nullptr;
    const ast::WithinClause* within = nullptr;
    const ast::SkipClause* skip = nullptr;
    const ast::CapClause* cap = nullptr;
    for (const ast::HeaderClause& clause : decl.clauses) {
      if (const auto* k = boost::get<ast::KeyClause>(&clause)) {
        if (key != nullptr)
          return Error(*k, "the pattern header has a second 'key' clause");
        key = k;
      } else if (const auto* w = boost::get<ast::WithinClause>(&clause)) {
        if (within != nullptr)
          return Error(*w, "the pattern header has a second 'within' clause");
        within = w;
      } else if (const auto* s = boost::get<ast::SkipClause>(&clause)) {
        if (skip != nullptr) {
          return Error(*s,
                       "the pattern header has a second 'after match' clause");
        }
        skip = s;
      } else if (const auto* c = boost::get<ast::CapClause>(&clause)) {
        if (cap != nullptr) {
          return Error(*c,
                       "the pattern header has a second 'max partial matches' "
                       "clause");
        }
        cap = c;
      }
    }
    if (cap != nullptr) {
      out.max_partial_matches = static_cast<size_t>(cap->limit);
      if (cap->policy == "drop oldest") {
        out.overflow_policy = OverflowPolicy::kDropOldest;
      } else if (cap->policy == "refuse new") {
        out.overflow_policy = OverflowPolicy::kRejectNewStarts;
      }
    }
    CEP_RETURN_IF_ERROR(ResolveKey(decl, key, out));
    window_.reset();
    if (within != nullptr) {
      CEP_ASSIGN_OR_RETURN(window_, PositiveDuration(within->duration));
      window_text_ = DurationText(within->duration);
    }

    // Stages, flattened, so conditions know what they may refer to.
    CEP_RETURN_IF_ERROR(CollectStages(decl.stages));
    if (decl.stages.empty()) return Error(decl.name, "a pattern needs stages");

    AfterMatchSkip strategy = AfterMatchSkip::NoSkip();
    if (skip != nullptr) {
      CEP_ASSIGN_OR_RETURN(strategy, Strategy(*skip));
    }

    next_stage_ = 0;
    CEP_ASSIGN_OR_RETURN(
        RecordPattern pattern,
        BuildSequence(decl.stages, /*group=*/nullptr, std::move(strategy)));
    const ast::Stage& last = decl.stages.back();
    if (last.connector == "not followed by" && !window_) {
      return Error(last,
                   "a pattern cannot end with 'not followed by' unless its "
                   "header has 'within'");
    }
    if (window_) pattern.Within(*window_);
    for (const AggregateRequest& request : scope_.aggregates) {
      pattern.Aggregate(request.stage, [request](const Record& event) {
        return AggregateInput(request, event);
      });
    }
    if (!pattern.status().ok()) {
      return Error(decl.name, std::string(pattern.status().message()));
    }
    if (absl::StatusOr<Nfa<Record>> nfa = CompilePattern(pattern); !nfa.ok()) {
      return Error(decl.name, std::string(nfa.status().message()));
    }
    out.pattern = std::move(pattern);
    return out;
  }

  absl::Status ResolveKey(const ast::PatternDecl& decl,
                          const ast::KeyClause* clause, FilePattern& out) {
    out.key_index.assign(schemas_.size(), -1);
    if (clause != nullptr) {
      const Schema* first = nullptr;
      FieldType first_type = FieldType::kInt;
      for (const Schema* schema : scope_.types) {
        std::optional<size_t> index = schema->FieldIndex(clause->field.text);
        if (!index) {
          return Error(clause->field,
                       absl::StrCat("event ", schema->name(), " has no field '",
                                    clause->field.text, "'"));
        }
        const FieldType type = schema->fields()[*index].type;
        if (first != nullptr && type != first_type) {
          return Error(
              clause->field,
              absl::StrCat("key field '", clause->field.text, "' is ",
                           Article(first_type), " in ", first->name(), " but ",
                           Article(type), " in ", schema->name()));
        }
        if (first == nullptr) {
          first = schema;
          first_type = type;
        }
        out.key_index[schema->id()] = static_cast<int>(*index);
      }
      out.key_field = clause->field.text;
      return absl::OkStatus();
    }
    const Schema* with = nullptr;
    const Schema* without = nullptr;
    for (const Schema* schema : scope_.types) {
      const Schema*& slot = schema->key_field() ? with : without;
      if (slot == nullptr) slot = schema;
    }
    if (with == nullptr) return absl::OkStatus();
    const FieldDef& key = with->fields()[*with->key_field()];
    if (without != nullptr) {
      return Error(
          decl.name,
          absl::StrCat("event ", without->name(), " has no key field but ",
                       with->name(), " has one ('", key.name,
                       "'); name the key with 'key FIELD'"));
    }
    for (const Schema* schema : scope_.types) {
      const FieldDef& other = schema->fields()[*schema->key_field()];
      if (other.name != key.name) {
        return Error(decl.name,
                     absl::StrCat("the key fields of ", with->name(), " ('",
                                  key.name, "') and ", schema->name(), " ('",
                                  other.name, "') differ"));
      }
      if (other.type != key.type) {
        return Error(
            decl.name,
            absl::StrCat("key field '", key.name, "' is ", Article(key.type),
                         " in ", with->name(), " but ", Article(other.type),
                         " in ", schema->name()));
      }
      out.key_index[schema->id()] = static_cast<int>(*schema->key_field());
    }
    out.key_field = key.name;
    return absl::OkStatus();
  }

  absl::StatusOr<Duration> PositiveDuration(
      const ast::DurationLiteral& duration) {
    CEP_ASSIGN_OR_RETURN(int64_t ms,
                         DurationMillis(source_, parsed_, duration));
    if (ms <= 0) return Error(duration, "'within' needs a positive duration");
    return Duration(ms);
  }

  absl::StatusOr<AfterMatchSkip> Strategy(const ast::SkipClause& skip) {
    const std::string& s = skip.strategy;
    if (s == "no skip") return AfterMatchSkip::NoSkip();
    if (s == "skip to next") return AfterMatchSkip::SkipToNext();
    if (s == "skip past last event") {
      return AfterMatchSkip::SkipPastLastEvent();
    }
    if ((s == "skip to first" || s == "skip to last") && skip.stage) {
      bool found = false;
      for (const StageInfo& stage : scope_.stages) {
        found = found || stage.name == skip.stage->text;
      }
      if (!found) {
        return Error(*skip.stage,
                     absl::StrCat("unknown stage '", skip.stage->text, "'"));
      }
      return s == "skip to first"
                 ? AfterMatchSkip::SkipToFirst(skip.stage->text)
                 : AfterMatchSkip::SkipToLast(skip.stage->text);
    }
    return Error(skip, absl::StrCat("unknown strategy '", s, "'"));
  }

  absl::Status CollectStages(const std::vector<ast::Stage>& stages) {
    for (const ast::Stage& stage : stages) {
      if (const ast::Group* group = StageGroup(stage)) {
        CEP_RETURN_IF_ERROR(CollectStages(group->stages));
        continue;
      }
      const ast::Name* name = StageName(stage);
      if (!stage_names_.insert(name->text).second) {
        return Error(*name, absl::StrCat("duplicate stage '", name->text, "'"));
      }
      StageInfo info;
      info.name = name->text;
      info.connector = stage.connector;
      info.is_not = IsNot(stage);
      info.takes_several = TakesSeveral(stage.quantifier);
      info.loops = Loops(stage.quantifier);
      if (stage.type) {
        const Schema* schema = FindSchema(stage.type->text);
        if (schema == nullptr) {
          return Error(*stage.type, UnknownEventType(stage.type->text));
        }
        bool in_pattern = false;
        std::vector<std::string> names;
        for (const Schema* type : scope_.types) {
          in_pattern = in_pattern || type == schema;
          names.push_back(type->name());
        }
        if (!in_pattern) {
          return Error(*stage.type,
                       absl::StrCat("event ", schema->name(),
                                    " is not one of this pattern's types (",
                                    absl::StrJoin(names, ", "), ")"));
        }
        info.types = {schema};
      } else {
        info.types = scope_.types;
      }
      scope_.stages.push_back(std::move(info));
    }
    return absl::OkStatus();
  }

  // Builds the stages of a pattern (group == nullptr) or of a group.
  absl::StatusOr<RecordPattern> BuildSequence(
      const std::vector<ast::Stage>& stages, const ast::Group* group,
      AfterMatchSkip skip) {
    RecordPattern p;
    const char* what = group == nullptr ? "a pattern" : "a group";
    for (size_t stage_idx = 0; stage_idx < stages.size(); ++stage_idx) {
      const ast::Stage& stage = stages[stage_idx];
      const bool is_not = IsNot(stage);
      if (stage_idx == 0 && stage.connector != "begin") {
        return Error(stage, absl::StrCat(what, " starts with 'begin'"));
      }
      if (stage_idx > 0 && stage.connector == "begin") {
        return Error(stage, absl::StrCat("'begin' starts ", what,
                                         "; use 'next' or 'followed by'"));
      }
      if (is_not && stage_idx > 0 &&
          MakesOptional(stages[stage_idx - 1].quantifier)) {
        const ast::Stage& before = stages[stage_idx - 1];
        const ast::Name* before_name = StageName(before);
        const std::string before_text =
            before_name != nullptr ? absl::StrCat("'", before_name->text, "'")
                                   : std::string("group");
        return Error(
            stage,
            absl::StrCat("'", stage.connector,
                         "' cannot follow the optional stage ", before_text,
                         " (as in FlinkCEP; write two patterns, "
                         "one with it and one without)"));
      }
      if (is_not && group != nullptr && stage_idx + 1 == stages.size() &&
          stage.connector == "not followed by") {
        return Error(stage, "a group cannot end with 'not followed by'");
      }
      if (const ast::Group* inner = StageGroup(stage)) {
        if (is_not) {
          return Error(stage, absl::StrCat("'", stage.connector,
                                           "' takes a single stage, not a "
                                           "group"));
        }
        if (stage.type) {
          return Error(*stage.type,
                       "a group takes no type; give its stages types");
        }
        if (stage.where) {
          return Error(ExprOffset(parsed_, *stage.where),
                       "a group takes no 'where'; put conditions on its "
                       "stages");
        }
        if (stage.until) {
          return Error(ExprOffset(parsed_, *stage.until),
                       "a group takes no 'until'; put it on a looping stage "
                       "inside the group");
        }
        CEP_ASSIGN_OR_RETURN(
            RecordPattern inner_pattern,
            BuildSequence(inner->stages, inner, AfterMatchSkip::NoSkip()));
        if (stage.connector == "begin") {
          p = RecordPattern::Begin(inner_pattern, skip);
        } else if (stage.connector == "next") {
          p.Next(inner_pattern);
        } else if (stage.connector == "followed by") {
          p.FollowedBy(inner_pattern);
        } else if (stage.connector == "followed by any") {
          p.FollowedByAny(inner_pattern);
        } else {
          return Error(
              stage, absl::StrCat("unknown connector '", stage.connector, "'"));
        }
      } else {
        const std::string& name = StageName(stage)->text;
        const size_t info_idx = next_stage_++;
        if (stage.connector == "begin") {
          p = RecordPattern::Begin(name, skip);
        } else if (stage.connector == "next") {
          p.Next(name);
        } else if (stage.connector == "followed by") {
          p.FollowedBy(name);
        } else if (stage.connector == "followed by any") {
          p.FollowedByAny(name);
        } else if (stage.connector == "not next") {
          p.NotNext(name);
        } else if (stage.connector == "not followed by") {
          p.NotFollowedBy(name);
        } else {
          return Error(
              stage, absl::StrCat("unknown connector '", stage.connector, "'"));
        }
        if (stage.type && scope_.types.size() > 1) {
          const Schema* schema = scope_.stages[info_idx].types.front();
          const uint32_t id = schema->id();
          p.Where(
              [id](const Record& event) { return event.schema().id() == id; },
              absl::StrCat("type == \"", schema->name(), "\""));
        }
        CEP_RETURN_IF_ERROR(ApplyQuantifier(p, stages, stage_idx));
        if (stage.where) {
          CEP_ASSIGN_OR_RETURN(
              CompiledCondition where,
              CompileCondition(*stage.where, scope_, info_idx));
          if (where.iterative) {
            p.Where(IterativeConditionFn{where.root}, where.text);
          } else {
            p.Where(SimpleConditionFn{where.root}, where.text);
          }
        }
        if (stage.until) {
          if (!scope_.stages[info_idx].loops) {
            return Error(ExprOffset(parsed_, *stage.until),
                         "'until' needs a looping stage (+, * or {n,})");
          }
          CEP_ASSIGN_OR_RETURN(
              CompiledCondition until,
              CompileCondition(*stage.until, scope_, info_idx));
          if (until.iterative) {
            p.Until(IterativeConditionFn{until.root}, until.text);
          } else {
            p.Until(SimpleConditionFn{until.root}, until.text);
          }
        }
      }
      if (StageGroup(stage) != nullptr) {
        CEP_RETURN_IF_ERROR(ApplyQuantifier(p, stages, stage_idx));
      }
      if (stage.within) {
        CEP_ASSIGN_OR_RETURN(Duration gap, PositiveDuration(*stage.within));
        if (stage.quantifier || StageGroup(stage) != nullptr) {
          return Error(*stage.within,
                       "'within' on a stage needs a stage that takes one "
                       "event; bound the whole match with the pattern's "
                       "'within'");
        }
        if (window_ && gap > *window_) {
          return Error(
              *stage.within,
              absl::StrCat("this stage's window (", DurationText(*stage.within),
                           ") is longer than the pattern's (", window_text_,
                           ")"));
        }
        p.Within(gap, WithinType::kPreviousAndCurrent);
      }
      if (!p.status().ok())
        return Error(stage, std::string(p.status().message()));
    }
    return p;
  }

  // The quantifier and modifiers of stages[stage_idx], on p's last stage.
  absl::Status ApplyQuantifier(RecordPattern& p,
                               const std::vector<ast::Stage>& stages,
                               size_t stage_idx) {
    const ast::Stage& stage = stages[stage_idx];
    const std::optional<ast::Quantifier>& q = stage.quantifier;
    if (IsNot(stage)) {
      if (q) {
        return Error(*q, absl::StrCat("a '", stage.connector,
                                      "' stage takes no quantifier"));
      }
      if (!stage.modifiers.empty()) {
        return Error(
            stage.modifiers.front(),
            absl::StrCat("a '", stage.connector, "' stage takes no modifiers"));
      }
      return absl::OkStatus();
    }
    if (q) {
      const std::string text = QuantifierText(*q);
      if (q->from > kMaxQuantifierCount || q->to > kMaxQuantifierCount) {
        return Error(*q, absl::StrCat(text, ": a count is larger than the ",
                                      "limit of ", kMaxQuantifierCount));
      }
      const int from = static_cast<int>(q->from);
      const int to = static_cast<int>(q->to);
      if (q->kind == "times") {
        if (from < 1) {
          return Error(*q, absl::StrCat(text,
                                        " takes no events; the count "
                                        "must be at least 1"));
        }
        p.Times(from);
      } else if (q->kind == "range") {
        if (to < 1) {
          return Error(*q, absl::StrCat(text,
                                        " takes no events; the "
                                        "second count must be at "
                                        "least 1"));
        }
        if (from > to) {
          return Error(*q, absl::StrCat(text,
                                        ": the first count is larger "
                                        "than the second"));
        }
        p.Times(from, to);
      } else if (q->kind == "at least") {
        p.TimesOrMore(from);
      } else if (q->kind == "+") {
        p.OneOrMore();
      } else if (q->kind == "*") {
        p.OneOrMore();
      } else if (q->kind != "?") {
        return Error(*q, absl::StrCat("unknown quantifier '", q->kind, "'"));
      }
      if (MakesOptional(q)) {
        if (stage_idx > 0 && IsGreedy(stages[stage_idx - 1])) {
          const ast::Name* before = StageName(stages[stage_idx - 1]);
          return Error(
              *q, absl::StrCat("an optional stage cannot follow the "
                               "greedy stage '",
                               before != nullptr ? before->text : "", "'"));
        }
        // {0,m} and {0,} are optional already: the builder made them so.
        const bool already = (q->kind == "range" && q->from == 0) ||
                             (q->kind == "at least" && q->from == 0);
        if (!already) p.Optional();
      }
    }
    bool greedy = false;
    bool consecutive = false;
    bool combinations = false;
    for (const ast::Name& modifier : stage.modifiers) {
      const std::string& m = modifier.text;
      bool* flag = m == "greedy"            ? &greedy
                   : m == "consecutive"     ? &consecutive
                   : m == "any combination" ? &combinations
                                            : nullptr;
      if (flag == nullptr) {
        return Error(modifier, absl::StrCat("unknown modifier '", m, "'"));
      }
      if (*flag)
        return Error(modifier, absl::StrCat("'", m, "' is given twice"));
      if (!TakesSeveral(q)) {
        return Error(modifier,
                     absl::StrCat("'", m,
                                  "' needs a quantifier that takes several "
                                  "events"));
      }
      if (m == "greedy" && StageGroup(stage) != nullptr) {
        return Error(modifier, "'greedy' does not apply to a group");
      }
      if ((m == "consecutive" && combinations) ||
          (m == "any combination" && consecutive)) {
        return Error(modifier,
                     "'consecutive' and 'any combination' exclude each other");
      }
      *flag = true;
    }
    // Greedy before AllowCombinations: the order FlinkCEP accepts.
    if (greedy) p.Greedy();
    if (consecutive) p.Consecutive();
    if (combinations) p.AllowCombinations();
    return absl::OkStatus();
  }

  static bool IsGreedy(const ast::Stage& stage) {
    for (const ast::Name& modifier : stage.modifiers) {
      if (modifier.text == "greedy") return true;
    }
    return false;
  }

  const Source& source_;
  const ParsedFile& parsed_;
  std::vector<std::unique_ptr<const Schema>> schemas_;
  std::vector<const Schema*> schema_ptrs_;
  PatternScope scope_;
  // Names in scope_.stages, to find duplicates in O(1).
  absl::flat_hash_set<std::string> stage_names_;
  std::optional<Duration> window_;
  std::string window_text_;
  size_t next_stage_ = 0;
};

}  // namespace
}  // namespace dsl

absl::StatusOr<PatternFile> ParsePatternFile(std::string_view text,
                                             std::string_view filename) {
  dsl::Source source{std::string(filename), std::string(text)};
  CEP_ASSIGN_OR_RETURN(dsl::ParsedFile parsed, dsl::Parse(source));
  return dsl::Lowerer(source, parsed).Run();
}

absl::StatusOr<PatternFile> LoadPatternFile(const std::string& path) {
  CEP_ASSIGN_OR_RETURN(std::string text, dsl::ReadPatternText(path));
  return ParsePatternFile(text, path);
}

}  // namespace cep
