// Conditions of a .cep file: type checking and compilation of a `where` or
// `until` expression (ast::Expr) into a tree of evaluation nodes.
//
// Checking resolves every name once: fields become per-schema-id index
// tables, stages become the names the Context looks them up by, aggregates
// become AggregateIds. Evaluation then reads Record values by index and
// compares strings as std::string_view into the Record: no lookup by field
// name and no allocation per event. A condition that reads only the event
// under test is simple (ctx is never used); one that refers to other events
// (`prev`, `probe.amount`, `count(probe)`, ...) is iterative.
//
// Null follows language.md: a missing event or an empty aggregate is null,
// arithmetic and comparisons with null are null, and/or/not are SQL's
// three-valued logic, and a condition that ends null is false.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

#include "cep/condition.hpp"
#include "cep/event.hpp"

#include "ast.hpp"
#include "parser.hpp"
#include "source.hpp"

namespace cep::dsl {

// The types of condition values.
enum class Type : uint8_t {
  kInt,
  kDouble,
  kString,
  kBool,
  kTimestamp,
  kDuration
};

// "int", "double", "string", "bool", "timestamp", "duration".
const char* TypeName(Type type);
Type TypeOf(FieldType type);

// A value during evaluation. Which member is meaningful follows from the
// static type of the node that produced it: kInt, kTimestamp and kDuration
// (milliseconds) use `i`, kDouble `d`, kBool `b`, kString `s` (a view into
// a Record, a Schema name or a constant of the condition).
struct Val {
  bool null = true;
  union {
    int64_t i = 0;
    double d;
    bool b;
  };
  std::string_view s;
};

// One node of a compiled condition. Immutable; shared by all keys and
// threads.
class ExprNode {
 public:
  virtual ~ExprNode() = default;
  // `ctx` is nullptr when the condition is simple (never read then).
  virtual Val Eval(const Record& event, const Context<Record>* ctx) const = 0;
};

// A stage as conditions see it: the flattened list of a pattern's stages
// (groups included), in pattern order.
struct StageInfo {
  std::string name;
  // "begin", "next", "followed by", ... as written.
  std::string connector;
  // The types of the events it takes: its `: TYPE`, or the pattern's types.
  std::vector<const Schema*> types;
  bool is_not = false;
  // Whether its quantifier can take more than one event (`prev` needs it).
  bool takes_several = false;
  // Whether it loops (`+`, `*`, `{n,}`): `until` needs it.
  bool loops = false;
};

// An aggregate a condition needs, declared with Pattern::Aggregate() once
// the pattern is built, in this order so the ids match.
struct AggregateRequest {
  std::string stage;
  std::string field;  // empty: only counted (its value is 0)
  // Field index per schema id; -1 where the schema lacks it.
  std::vector<int> field_index;
  FieldType type = FieldType::kInt;
};

// What the conditions of one pattern may see, and what they collect.
struct PatternScope {
  const Source* source = nullptr;
  const ParsedFile* parsed = nullptr;
  // All schemas of the file, by id.
  std::vector<const Schema*> schemas;
  // The pattern's types (`on ...`).
  std::vector<const Schema*> types;
  std::vector<StageInfo> stages;
  std::vector<AggregateRequest> aggregates;
};

struct CompiledCondition {
  std::shared_ptr<const ExprNode> root;
  // Whether it refers to other events (needs the Context).
  bool iterative = false;
  // The source text, whitespace normalised: what explain shows.
  std::string text;
};

// Type-checks and compiles `expr`, the `where` (or `until`) condition of
// scope.stages[stage_index]. Errors are Source::Error texts pointing at the
// offending node.
[[nodiscard]] absl::StatusOr<CompiledCondition> CompileCondition(
    const ast::Expr& expr, PatternScope& scope, size_t stage_index);

// The value an aggregate request reads from an event (0 when absent).
double AggregateInput(const AggregateRequest& request, const Record& event);

// Callables for Pattern::Where / Until: true when the condition is true
// (null and false are false).
struct SimpleConditionFn {
  std::shared_ptr<const ExprNode> root;
  bool operator()(const Record& event) const {
    const Val v = root->Eval(event, nullptr);
    return !v.null && v.b;
  }
};
struct IterativeConditionFn {
  std::shared_ptr<const ExprNode> root;
  bool operator()(const Record& event, const Context<Record>& ctx) const {
    const Val v = root->Eval(event, &ctx);
    return !v.null && v.b;
  }
};

// The text of the condition whose first token is at `start` in `text`, up to
// the clause or stage that follows it, with runs of blanks and comments
// outside strings turned into one space.
std::string ConditionText(std::string_view text, size_t start);

// A duration literal in milliseconds; errors for an unknown unit or one too
// long for int64 milliseconds.
[[nodiscard]] absl::StatusOr<int64_t> DurationMillis(
    const Source& source, const ParsedFile& parsed,
    const ast::DurationLiteral& duration);

// Byte offset of the first character of `expr` in the source.
size_t ExprOffset(const ParsedFile& parsed, const ast::Expr& expr);

}  // namespace cep::dsl
