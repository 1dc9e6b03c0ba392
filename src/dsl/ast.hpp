// The syntax tree of a .cep file, as the grammar (grammar_def.hpp) builds it
// and lower.cpp turns it into Pattern<Record>s. Plain structs; every node
// that an error message can point at derives from Node (x3::position_tagged),
// and ParsedFile::OffsetOf() (parser.hpp) gives its byte offset in the file.
//
// Names follow the language's words: a file holds `event` and `pattern`
// declarations; a pattern holds stages; a stage may hold a `where`
// condition, which is an Expr.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/spirit/home/x3/support/ast/position_tagged.hpp>
#include <boost/spirit/home/x3/support/ast/variant.hpp>

namespace cep::dsl::ast {

namespace x3 = boost::spirit::x3;

// A node whose position errors can name.
struct Node : x3::position_tagged {};

// An identifier as written: a stage, field, type or function name.
struct Name : Node {
  std::string text;
};

// `10m`: an amount and a unit, one of "ms", "s", "m", "h", "d".
struct DurationLiteral : Node {
  int64_t amount = 0;
  std::string unit;
};

// -- Conditions
// ----------------------------------------------------------------

struct FieldRef;
struct Call;
struct Unary;
struct Chain;
struct InTest;

// A string literal, with escapes already decoded.
struct StringLiteral : Node {
  std::string value;
};
struct IntLiteral : Node {
  int64_t value = 0;
};
struct DoubleLiteral : Node {
  double value = 0;
};
struct BoolLiteral : Node {
  bool value = false;
};

struct Expr : x3::variant<IntLiteral, DoubleLiteral, BoolLiteral, StringLiteral,
                          DurationLiteral, x3::forward_ast<FieldRef>,
                          x3::forward_ast<Call>, x3::forward_ast<Unary>,
                          x3::forward_ast<Chain>, x3::forward_ast<InTest>> {
  using base_type::base_type;
  using base_type::operator=;
};

// `amount` (a field of the event under test; `type` is the event's type
// name), `prev.amount` (the previous event of this looping stage) or
// `probe.amount` (the last event of stage probe).
struct FieldRef : Node {
  Name first;                  // field, or "prev" / a stage name
  std::optional<Name> second;  // the field when `first` is a qualifier
};

// `count(probe)`, `sum(probe.amount)`, `contains(merchant, "x")`,
// `distance_km(a, b, c, d)`, `first(probe).merchant`: a function name, its
// arguments, and for first()/last() the field read from the event.
struct Call : Node {
  Name function;
  std::vector<Expr> args;
  std::optional<Name> member;
};

// `not x`, `-x`.
struct Unary : Node {
  std::string op;  // "not" or "-"
  Expr operand;
};

// One `op operand` step of a Chain; positioned at the operator.
struct Operation : Node {
  // "or", "and", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/"
  std::string op;
  Expr operand;
};

// `first op operand op operand ...` at one precedence level, left to right.
// The grammar builds one Chain per level that has at least one operation;
// all operations of a Chain have the same precedence.
struct Chain : Node {
  Expr first;
  std::vector<Operation> rest;
};

// `value in ("a", "b")` or `value not in (1, 2)`.
struct InTest : Node {
  Expr value;
  bool negated = false;
  std::vector<Expr> items;
};

// -- Patterns
// ------------------------------------------------------------------

// `{3}`, `{2,4}`, `{2,}`, `+`, `*`, `?`, and a trailing `?` that makes any of
// the first five optional (`{2,3}?`).
struct Quantifier : Node {
  // "times" ({n}: from = to = n), "range" ({n,m}), "at least" ({n,}: from),
  // "+", "*", "?"
  std::string kind;
  int64_t from = 0;
  int64_t to = 0;
  bool optional = false;  // trailing `?`
};

struct Group;

// One stage line: a connector, a name (or a parenthesised group), an
// optional type restriction (`login: Login`), quantifier, modifiers and
// clauses.
struct Stage : Node {
  // "begin", "next", "followed by", "followed by any", "not next",
  // "not followed by"
  std::string connector;
  x3::variant<Name, x3::forward_ast<Group>> target;
  std::optional<Name> type;
  std::optional<Quantifier> quantifier;
  // In order written: "greedy", "consecutive", "any combination".
  std::vector<Name> modifiers;
  std::optional<Expr> where;
  std::optional<Expr> until;
  std::optional<DurationLiteral> within;  // gap from the previous stage
};

// `( begin a ... next b ... )`: a sequence of stages used as one stage.
struct Group : Node {
  std::vector<Stage> stages;
};

// `key FIELD` in a pattern header.
struct KeyClause : Node {
  Name field;
};
// `within DURATION` in a pattern header.
struct WithinClause : Node {
  DurationLiteral duration;
};
// `after match ...` in a pattern header.
struct SkipClause : Node {
  // "no skip", "skip to next", "skip past last event", "skip to first",
  // "skip to last"
  std::string strategy;
  std::optional<Name> stage;  // skip to first/last STAGE
};

// `max partial matches N [drop oldest | refuse new]` in a pattern header.
struct CapClause : Node {
  int64_t limit = 0;   // 0: no limit
  std::string policy;  // "drop oldest", "refuse new"; empty: not written
};

struct HeaderClause
    : x3::variant<KeyClause, WithinClause, SkipClause, CapClause> {
  using base_type::base_type;
  using base_type::operator=;
};

// pattern NAME on TYPE[, TYPE...] CLAUSES { STAGES }
struct PatternDecl : Node {
  Name name;
  std::vector<Name> types;
  std::vector<HeaderClause> clauses;
  std::vector<Stage> stages;
};

// One field line of an event declaration: `card string key`.
struct FieldDecl : Node {
  Name name;
  Name type;                  // "int", "double", "string", "bool", "timestamp"
  std::vector<Name> markers;  // "key", "time"
};

// event NAME { FIELDS }
struct EventDecl : Node {
  Name name;
  std::vector<FieldDecl> fields;
};

struct Declaration : x3::variant<EventDecl, PatternDecl> {
  using base_type::base_type;
  using base_type::operator=;
};

struct File {
  std::vector<Declaration> declarations;
};

}  // namespace cep::dsl::ast
