// MATCH_RECOGNIZE -> .cep. Errors are thrown as ImportError inside this file
// and become one kInvalidArgument status at the two entry points.

#include "to_cep.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

#include "cep/dsl.hpp"

namespace cep::sql {
namespace {

struct ImportError {
  Pos pos;
  std::string message;
};

[[noreturn]] void Fail(Pos pos, std::string message) {
  throw ImportError{pos, std::move(message)};
}

constexpr std::string_view kReserved[] = {
    "and",    "or",          "not",         "in",    "true",
    "false",  "prev",        "begin",       "next",  "followed",
    "by",     "any",         "where",       "until", "within",
    "greedy", "consecutive", "combination", "event", "pattern"};

// -- Names
// ----------------------------------------------------------------------

std::string CepName(const Ident& ident, const std::string& what) {
  const std::string& name = ident.text;
  bool valid = !name.empty() &&
               (absl::ascii_isalpha(static_cast<unsigned char>(name[0])) ||
                name[0] == '_');
  for (char c : name) {
    valid = valid &&
            (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_');
  }
  if (!valid) {
    Fail(ident.pos,
         absl::StrCat("cannot import ", what, " '", name,
                      "': names in the pattern language are letters, digits "
                      "and '_', not starting with a digit"));
  }
  for (std::string_view word : kReserved) {
    if (name == word) {
      Fail(ident.pos, absl::StrCat("cannot import ", what, " '", name,
                                   "': it is a reserved word of the pattern "
                                   "language"));
    }
  }
  return name;
}

std::string Quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string DurationText(int64_t ms) {
  struct Unit {
    int64_t ms;
    const char* name;
  };
  static constexpr Unit kUnits[] = {{24 * 60 * 60 * 1000, "d"},
                                    {60 * 60 * 1000, "h"},
                                    {60 * 1000, "m"},
                                    {1000, "s"},
                                    {1, "ms"}};
  for (const Unit& unit : kUnits) {
    if (ms % unit.ms == 0) return absl::StrCat(ms / unit.ms, unit.name);
  }
  return absl::StrCat(ms, "ms");
}

// SQL's type names -> the language's field types; "" when none fits.
std::string CepType(const std::string& sql_type) {
  static const std::map<std::string, std::string> kTypes = {
      {"TINYINT", "int"},
      {"SMALLINT", "int"},
      {"INT", "int"},
      {"INTEGER", "int"},
      {"BIGINT", "int"},
      {"FLOAT", "double"},
      {"REAL", "double"},
      {"DOUBLE", "double"},
      {"DECIMAL", "double"},
      {"DEC", "double"},
      {"NUMERIC", "double"},
      {"CHAR", "string"},
      {"VARCHAR", "string"},
      {"STRING", "string"},
      {"TEXT", "string"},
      {"NCHAR", "string"},
      {"NVARCHAR", "string"},
      {"CHARACTER", "string"},
      {"BOOLEAN", "bool"},
      {"BOOL", "bool"},
      {"TIMESTAMP", "timestamp"},
      {"TIMESTAMP_LTZ", "timestamp"},
      {"DATETIME", "timestamp"}};
  auto it = kTypes.find(sql_type);
  return it == kTypes.end() ? "" : it->second;
}

}  // namespace

bool IsCepName(std::string_view name);

namespace {

// -- Conditions as text
// ---------------------------------------------------------

// Precedence of the language's operators, lowest first; kPrimary binds
// tightest.
enum Prec : int {
  kOr = 1,
  kAnd = 2,
  kNot = 3,
  kCompare = 4,
  kAdd = 5,
  kMul = 6,
  kUnary = 7,
  kPrimary = 8,
};

// A translated value. `null_if` says when it is null: any of its clauses,
// each clause "all these stages took no event yet". Fields of the current
// event are never null (input decoding requires them).
struct Val {
  std::string text;
  int prec = kPrimary;
  std::vector<std::vector<std::string>> null_if;
};

std::string Wrap(const Val& v, int min_prec) {
  return v.prec < min_prec ? absl::StrCat("(", v.text, ")") : v.text;
}

void AddNull(std::vector<std::vector<std::string>>& into,
             const std::vector<std::vector<std::string>>& from) {
  for (const auto& clause : from) {
    if (std::find(into.begin(), into.end(), clause) == into.end()) {
      into.push_back(clause);
    }
  }
}

// -- The pattern
// ----------------------------------------------------------------

struct Var {
  std::string name;  // as written in PATTERN
  std::string key;   // Ident::Key()
  Pos pos;
  Quantifier quantifier;
  bool in_repeated_group = false;  // inside a group whose max is not 1
  bool in_optional_group = false;  // inside a group whose min is 0
  const Define* define = nullptr;

  // Takes at most one row per match.
  bool Single() const {
    return !in_repeated_group && (!quantifier.present || quantifier.max == 1);
  }
  // Has taken a row before any later stage's condition runs.
  bool Mandatory() const {
    return !in_optional_group && (!quantifier.present || quantifier.min >= 1);
  }
};

// A stage of the generated pattern: a variable, or a group of them.
struct Element {
  int var = -1;  // index in vars_; -1 for a group
  Quantifier quantifier;
  Pos pos;
  std::vector<Element> members;
};

class Translator {
 public:
  Translator(const Query& query, const ImportOptions& options)
      : query_(query), options_(options) {}

  // Where DEFINE of the stage on `line` (1-based, of the output) is, for
  // errors the generated file's check reports.
  std::optional<std::pair<std::string, Pos>> StageAtLine(size_t line) const {
    auto it = stage_lines_.find(line);
    if (it == stage_lines_.end()) return std::nullopt;
    const Var& var = vars_[it->second];
    const Pos pos = var.define != nullptr ? var.define->condition_pos : var.pos;
    return std::make_pair(var.name, pos);
  }

 private:
  // -- PATTERN
  // ------------------------------------------------------------------

  void BuildPattern() {
    elements_ = Elements(query_.pattern, false, false);
    bool empty = true;
    for (const Element& element : elements_)
      empty = empty && CanBeEmpty(element);
    if (empty) {
      Fail(query_.pattern_pos,
           "cannot import PATTERN: it can match no rows at all; every "
           "variable is optional (Flink SQL refuses such patterns too)");
    }
    CheckGreedyThenOptional(elements_);
  }

  static bool CanBeEmpty(const Element& element) {
    if (element.quantifier.present && element.quantifier.min == 0) return true;
    if (element.var >= 0) return false;
    for (const Element& member : element.members) {
      if (!CanBeEmpty(member)) return false;
    }
    return true;
  }

  std::vector<Element> Elements(const PatternNode& sequence, bool repeated,
                                bool optional) {
    std::vector<Element> out;
    for (const PatternNode& node : sequence.items) {
      CheckQuantifier(node);
      const Quantifier& q = node.quantifier;
      switch (node.kind) {
        case PatternNode::Kind::kVariable: {
          Element element;
          element.var = AddVar(node, repeated, optional);
          element.quantifier = q;
          element.pos = node.pos;
          out.push_back(std::move(element));
          break;
        }
        case PatternNode::Kind::kSequence: {
          if (!q.present || (q.min == 1 && q.max == 1)) {
            // Parentheses that only group: the stages go in line.
            for (Element& e : Elements(node, repeated, optional)) {
              out.push_back(std::move(e));
            }
            break;
          }
          if (!q.reluctant && q.min != q.max && !(q.min == 0 && q.max == 1)) {
            Fail(q.pos,
                 absl::StrCat("cannot import PATTERN: the greedy quantifier '",
                              q.text,
                              "' on a group; the pattern language has no "
                              "greedy groups (FlinkCEP neither); make it "
                              "reluctant ('",
                              q.text, "?') to import a non-greedy group"));
          }
          Element group;
          group.quantifier = q;
          group.pos = node.pos;
          group.members =
              Elements(node, repeated || q.max != 1, optional || q.min == 0);
          CheckGreedyThenOptional(group.members);
          out.push_back(std::move(group));
          break;
        }
        case PatternNode::Kind::kAlternation:
          Fail(node.pos,
               "cannot import PATTERN: alternation '|' has no equivalent; a "
               "pattern of the language is one sequence of stages, without "
               "branches (FlinkCEP and Flink SQL have no branching patterns "
               "either); write one query per alternative");
        case PatternNode::Kind::kPermute:
          Fail(node.pos,
               "cannot import PATTERN: PERMUTE has no equivalent; the stages "
               "of a pattern match in one order (write one query per order)");
        case PatternNode::Kind::kAnchor:
          Fail(
              node.pos,
              absl::StrCat("cannot import PATTERN: the anchor '", node.var.text,
                           "' has no equivalent; matches start and end "
                           "anywhere in a key's stream"));
        case PatternNode::Kind::kExclusion:
          Fail(node.pos,
               "cannot import PATTERN: the exclusion '{- ... -}' has no "
               "equivalent; every row a match takes is in its output");
      }
    }
    return out;
  }

  void CheckQuantifier(const PatternNode& node) {
    const Quantifier& q = node.quantifier;
    if (!q.present) return;
    if (q.max == 0) {
      Fail(q.pos, absl::StrCat("cannot import PATTERN: the quantifier '",
                               q.text, "' takes no rows"));
    }
    if (q.max != -1 && q.min > q.max) {
      Fail(q.pos, absl::StrCat("cannot import PATTERN: the quantifier '",
                               q.text, "' has a minimum above its maximum"));
    }
    if (q.min > 10000 || q.max > 10000) {
      Fail(q.pos,
           absl::StrCat("cannot import PATTERN: the quantifier '", q.text,
                        "' counts past 10000, the language's limit"));
    }
    if (q.reluctant && q.min == 0 && q.max == 1) {
      Fail(q.pos, absl::StrCat(
                      "cannot import PATTERN: the reluctant optional '", q.text,
                      "'; FlinkCEP has no reluctant optional stage (Flink "
                      "SQL refuses it too); use '?'"));
    }
  }

  // The language (like FlinkCEP) refuses an optional stage right after a
  // greedy one.
  void CheckGreedyThenOptional(const std::vector<Element>& elements) {
    for (size_t idx = 1; idx < elements.size(); ++idx) {
      const Element& before = elements[idx - 1];
      const Element& element = elements[idx];
      if (IsGreedy(before) && element.quantifier.present &&
          element.quantifier.min == 0) {
        Fail(element.quantifier.pos,
             absl::StrCat("cannot import PATTERN: '", ElementName(element),
                          element.quantifier.text,
                          "' is optional right after the greedy '",
                          ElementName(before), before.quantifier.text,
                          "', which the pattern language (like FlinkCEP) "
                          "does not allow; make the first one reluctant ('",
                          before.quantifier.text, "?')"));
      }
    }
  }

  std::string ElementName(const Element& element) const {
    return element.var >= 0 ? vars_[element.var].name : "(...)";
  }

  static bool TakesSeveral(const Quantifier& q) {
    return q.present && (q.max == -1 || q.max > 1);
  }

  static bool IsGreedy(const Element& element) {
    const Quantifier& q = element.quantifier;
    return element.var >= 0 && TakesSeveral(q) && q.min != q.max &&
           !q.reluctant;
  }

  int AddVar(const PatternNode& node, bool repeated, bool optional) {
    const std::string key = node.var.Key();
    for (const Var& var : vars_) {
      if (var.key == key) {
        Fail(node.pos,
             absl::StrCat("cannot import PATTERN: variable '", node.var.text,
                          "' appears twice; each variable is one stage of "
                          "the pattern (as in Flink SQL)"));
      }
    }
    Var var;
    var.name = CepName(node.var, "variable");
    var.key = key;
    var.pos = node.pos;
    var.quantifier = node.quantifier;
    var.in_repeated_group = repeated;
    var.in_optional_group = optional;
    vars_.push_back(std::move(var));
    return static_cast<int>(vars_.size() - 1);
  }

  int FindVar(const Ident& ident) const {
    const std::string key = ident.Key();
    for (size_t idx = 0; idx < vars_.size(); ++idx) {
      if (vars_[idx].key == key) return static_cast<int>(idx);
    }
    return -1;
  }

  void BindDefines() {
    for (const Define& define : query_.defines) {
      const int idx = FindVar(define.var);
      if (idx < 0) {
        Fail(define.var.pos,
             absl::StrCat("cannot import DEFINE: '", define.var.text,
                          "' is not a variable of PATTERN"));
      }
      if (vars_[idx].define != nullptr) {
        Fail(define.var.pos,
             absl::StrCat("cannot import DEFINE: '", define.var.text,
                          "' is defined twice"));
      }
      vars_[idx].define = &define;
    }
  }

  // -- Event type
  // -----------------------------------------------------------------

  struct Column {
    std::string name;
    std::string type;  // the language's; "" while unknown
    // Its CREATE TABLE declaration, or nullptr. A declared column whose
    // type or name the language cannot hold is an error only when the query
    // reads it; otherwise it is left out of the event.
    const ColumnDef* def = nullptr;
  };

  Column* FindColumn(const Ident& ident) {
    const std::string key = ident.Key();
    for (auto& [column_key, column] : columns_) {
      if (column_key == key) return &column;
    }
    return nullptr;
  }

  Column& UseColumn(const Ident& ident) {
    if (Column* column = FindColumn(ident)) {
      if (column->def != nullptr) {
        if (column->type.empty()) {
          Fail(column->def->type_pos,
               absl::StrCat("cannot import CREATE TABLE: column '",
                            column->def->name.text, "' has type ",
                            column->def->type,
                            "; the pattern language has int, double, "
                            "string, bool and timestamp fields"));
        }
        CepName(column->def->name, "column");
      }
      return *column;
    }
    if (table_ != nullptr) {
      Fail(ident.pos, absl::StrCat("cannot import: table ", table_->name.text,
                                   " has no column '", ident.text, "'"));
    }
    columns_.emplace_back(ident.Key(),
                          Column{CepName(ident, "column"), std::string()});
    return columns_.back().second;
  }

  void BuildSchema() {
    for (const TableDef& table : query_.tables) {
      if (table.name.Key() == query_.table.Key()) table_ = &table;
    }
    event_name_ = CepName(query_.table, "table");
    if (table_ != nullptr) {
      for (const ColumnDef& def : table_->columns) {
        if (FindColumn(def.name) != nullptr) {
          Fail(def.name.pos,
               absl::StrCat("cannot import CREATE TABLE: column '",
                            def.name.text, "' is declared twice"));
        }
        columns_.emplace_back(def.name.Key(),
                              Column{def.name.text, CepType(def.type), &def});
      }
    }
    // PARTITION BY: the key.
    if (query_.partition_by.size() > 1) {
      Fail(query_.partition_by[1].pos,
           "cannot import PARTITION BY: one column only; a pattern is keyed "
           "by one field");
    }
    if (!query_.partition_by.empty()) {
      key_ = UseColumn(query_.partition_by[0]).name;
    }
    // ORDER BY: the time field.
    if (query_.order_by.empty()) {
      Fail(query_.order_by_pos,
           "cannot import MATCH_RECOGNIZE: ORDER BY the time column is "
           "missing; the pattern language matches events in the order of "
           "their time field");
    }
    if (query_.order_by.size() > 1) {
      Fail(query_.order_by[1].column.pos,
           "cannot import ORDER BY: one column only, the time column; events "
           "are ordered by their time field alone");
    }
    const Query::OrderItem& order = query_.order_by[0];
    if (order.descending) {
      Fail(order.direction_pos,
           "cannot import ORDER BY ... DESC: events are matched in ascending "
           "time order");
    }
    Column& time = UseColumn(order.column);
    if (!key_.empty() && time.name == key_) {
      Fail(order.column.pos,
           "cannot import ORDER BY: it names the PARTITION BY column; the "
           "time field cannot be the key");
    }
    if (!time.type.empty() && time.type != "timestamp") {
      Fail(order.column.pos,
           absl::StrCat("cannot import ORDER BY: column '", order.column.text,
                        "' is ", time.type,
                        " in CREATE TABLE; the time column must be a "
                        "TIMESTAMP"));
    }
    time.type = "timestamp";
    time_ = time.name;
    // Every column the conditions read; types from how they are used.
    for (const Define& define : query_.defines) Collect(define.condition);
    for (int round = 0; round < 8; ++round) {
      for (auto& [a, b] : same_type_) {
        Column* x = FindColumn(a);
        Column* y = FindColumn(b);
        if (x->type.empty() && !y->type.empty()) x->type = y->type;
        if (y->type.empty() && !x->type.empty()) y->type = x->type;
      }
    }
    for (auto& [key, column] : columns_) {
      if (!column.type.empty() || column.def != nullptr) continue;
      column.type = column.name == key_ ? "string" : "double";
    }
  }

  // The column an operand reads: a column, or one reached through
  // PREV / NEXT / FIRST / LAST.
  static const Ident* ColumnOf(const Expr& e) {
    if (e.kind == Expr::Kind::kColumn && e.name.text != "*") return &e.name;
    if (e.kind == Expr::Kind::kCall && !e.args.empty() &&
        (e.text == "PREV" || e.text == "NEXT" || e.text == "FIRST" ||
         e.text == "LAST")) {
      return ColumnOf(e.args[0]);
    }
    return nullptr;
  }

  static std::string LiteralType(const Expr& e) {
    if (e.kind == Expr::Kind::kString) return "string";
    if (e.kind == Expr::Kind::kBool) return "bool";
    return "";
  }

  void Collect(const Expr& e) {
    if (e.kind == Expr::Kind::kColumn && e.name.text != "*") {
      if (!e.qualifier.text.empty() && FindVar(e.qualifier) < 0) {
        Fail(e.qualifier.pos,
             absl::StrCat("cannot import DEFINE: '", e.qualifier.text, "' in '",
                          e.qualifier.text, ".", e.name.text,
                          "' is not a variable of PATTERN"));
      }
      UseColumn(e.name);
    }
    for (const Expr& arg : e.args) Collect(arg);
    const bool compares =
        (e.kind == Expr::Kind::kBinary &&
         (e.op == "=" || e.op == "<>" || e.op == "<" || e.op == "<=" ||
          e.op == ">" || e.op == ">=" || e.op == "LIKE")) ||
        e.kind == Expr::Kind::kBetween || e.kind == Expr::Kind::kIn;
    if (!compares) return;
    std::vector<const Ident*> cols;
    std::string literal = e.op == "LIKE" ? "string" : "";
    for (const Expr& arg : e.args) {
      if (const Ident* col = ColumnOf(arg)) cols.push_back(col);
      if (literal.empty()) literal = LiteralType(arg);
    }
    for (const Ident* col : cols) {
      Column& column = UseColumn(*col);
      if (!literal.empty() && column.type.empty()) column.type = literal;
    }
    for (size_t idx = 1; idx < cols.size(); ++idx) {
      same_type_.emplace_back(*cols[0], *cols[idx]);
    }
  }

  const std::string& FieldName(const Ident& ident) {
    return UseColumn(ident).name;
  }

  // -- Conditions
  // -----------------------------------------------------------------

  // The variable a qualified reference names, checked against the variable
  // whose DEFINE it is in (`current_`).
  int RefVar(const Ident& qualifier, const std::string& what) {
    if (qualifier.text.empty()) return current_;
    const int idx = FindVar(qualifier);
    if (idx < 0) {
      Fail(qualifier.pos,
           absl::StrCat("cannot import DEFINE: '", qualifier.text,
                        "' is not a variable of PATTERN"));
    }
    if (idx > current_) {
      Fail(qualifier.pos,
           absl::StrCat("cannot import '", what, "' in the DEFINE of '",
                        vars_[current_].name, "': it refers to '",
                        vars_[idx].name,
                        "', which comes later in PATTERN; a "
                        "condition sees only rows matched before it"));
    }
    return idx;
  }

  // "A.price", "LAST(A.price)": a reference as written, for messages.
  static std::string RefText(const Expr& e) {
    if (e.kind == Expr::Kind::kCall) {
      return e.args.empty()
                 ? e.text + "()"
                 : absl::StrCat(e.text, "(", RefText(e.args[0]),
                                e.args.size() > 1 ? ", ..." : "", ")");
    }
    if (e.kind != Expr::Kind::kColumn) return "...";
    return e.qualifier.text.empty()
               ? e.name.text
               : absl::StrCat(e.qualifier.text, ".", e.name.text);
  }

  std::vector<std::vector<std::string>> NullUnlessMandatory(int var) const {
    if (vars_[var].Mandatory()) return {};
    return {{vars_[var].name}};
  }

  // The argument of a navigation or aggregate: a column, maybe qualified.
  const Expr& ColumnArg(const Expr& call, bool star_ok) {
    if (call.args.empty() || call.args[0].kind != Expr::Kind::kColumn ||
        (!star_ok && call.args[0].name.text == "*")) {
      Fail(call.pos, absl::StrCat("cannot import ", call.text,
                                  ": its argument must be a column, such as ",
                                  call.text, "(A.price)"));
    }
    return call.args[0];
  }

  int64_t Offset(const Expr& call, int64_t default_offset) {
    if (call.args.size() < 2) return default_offset;
    if (call.args.size() > 2 || call.args[1].kind != Expr::Kind::kNumber) {
      Fail(call.pos, absl::StrCat("cannot import ", call.text,
                                  ": the offset must be a whole number"));
    }
    int64_t offset = 0;
    if (!absl::SimpleAtoi(call.args[1].text, &offset)) {
      Fail(call.args[1].pos, absl::StrCat("cannot import ", call.text,
                                          ": the offset must be a whole "
                                          "number"));
    }
    return offset;
  }

  std::string CurrentWhere() const {
    return absl::StrCat("the DEFINE of '", vars_[current_].name, "'");
  }

  // The row before the first row of `var` (when `include_self`, before the
  // current row of `var`): the last event of the stages before it, newest
  // first, up to the first one that surely took one.
  Val RowBefore(int var, bool include_self, const std::string& field,
                const Expr& call) {
    std::vector<std::string> stages;
    bool sure = false;
    if (include_self && !vars_[var].Single()) {
      if (vars_[var].in_repeated_group) {
        Fail(call.pos,
             absl::StrCat("cannot import PREV in ", CurrentWhere(),
                          ": the variable is in a repeated group, where the "
                          "row before may be an earlier repetition's"));
      }
      stages.push_back(vars_[var].name);
    }
    for (int idx = var - 1; idx >= 0 && !sure; --idx) {
      const Var& before = vars_[idx];
      if (before.in_repeated_group && !before.Mandatory()) {
        Fail(call.pos,
             absl::StrCat("cannot import PREV in ", CurrentWhere(),
                          ": the row before may be in an earlier repetition "
                          "of the group of '",
                          before.name, "'"));
      }
      stages.push_back(before.name);
      sure = before.Mandatory();
    }
    if (stages.empty()) {
      Fail(call.pos,
           absl::StrCat("cannot import PREV in ", CurrentWhere(),
                        ": the row before is not part of the match, and "
                        "conditions see only rows of the match (Flink SQL "
                        "gives NULL there)"));
    }
    Val v;
    v.text = absl::StrCat(stages.back(), ".", field);
    for (size_t idx = stages.size() - 1; idx-- > 0;) {
      v.text =
          absl::StrCat("coalesce(", stages[idx], ".", field, ", ", v.text, ")");
    }
    if (!sure) v.null_if.push_back(stages);
    return v;
  }

  Val Navigation(const Expr& call) {
    const Expr& arg = ColumnArg(call, false);
    const std::string& field = FieldName(arg.name);
    const std::string fn = call.text;
    if (fn == "NEXT") {
      Fail(call.pos,
           "cannot import NEXT: it reads rows after the current one, and "
           "conditions see only rows up to the current one");
    }
    const bool universal = arg.qualifier.text.empty();
    const int var = RefVar(arg.qualifier, RefText(call));
    const bool self = var == current_;
    if (fn == "PREV") {
      const int64_t offset = Offset(call, 1);
      if (offset == 0) return Val{field, kPrimary, {}};
      if (offset != 1) {
        Fail(call.pos, absl::StrCat("cannot import PREV with offset ", offset,
                                    ": only the row just before is reached"));
      }
      if (self) return RowBefore(var, true, field, call);
      if (!vars_[var].Single()) {
        Fail(call.pos,
             absl::StrCat("cannot import PREV(", vars_[var].name, ".", field,
                          ") in ", CurrentWhere(), ": '", vars_[var].name,
                          "' takes several rows, and only its first and last "
                          "are reached"));
      }
      return RowBefore(var, false, field, call);
    }
    const int64_t offset = Offset(call, 0);
    if (fn == "LAST") {
      if (offset == 0) {
        if (self) return Val{field, kPrimary, {}};
        return Val{absl::StrCat(vars_[var].name, ".", field), kPrimary,
                   NullUnlessMandatory(var)};
      }
      if (offset == 1 && self) {
        if (universal) return RowBefore(var, true, field, call);
        return Val{absl::StrCat("last(", vars_[var].name, ").", field),
                   kPrimary,
                   {{vars_[var].name}}};
      }
      Fail(call.pos,
           absl::StrCat("cannot import LAST(", arg.qualifier.text,
                        arg.qualifier.text.empty() ? "" : ".", arg.name.text,
                        ", ", offset, ") in ", CurrentWhere(),
                        ": the pattern language reaches the first and the "
                        "last row of a variable (and, in its own DEFINE, the "
                        "row before the current one), not the rows between"));
    }
    // FIRST
    if (offset != 0) {
      Fail(call.pos,
           absl::StrCat("cannot import FIRST with offset ", offset,
                        ": the pattern language reaches only the first and "
                        "the last row of a variable"));
    }
    int first_var = var;
    if (universal) {
      first_var = 0;
      if (!vars_[0].Mandatory() && current_ != 0) {
        Fail(
            call.pos,
            absl::StrCat("cannot import FIRST(", field, ") in ", CurrentWhere(),
                         ": the first row of the match may belong to any "
                         "of several optional variables"));
      }
    }
    if (first_var == current_) {
      if (vars_[current_].Single()) return Val{field, kPrimary, {}};
      return Val{absl::StrCat("coalesce(first(", vars_[current_].name, ").",
                              field, ", ", field, ")"),
                 kPrimary,
                 {}};
    }
    return Val{absl::StrCat("first(", vars_[first_var].name, ").", field),
               kPrimary, NullUnlessMandatory(first_var)};
  }

  Val Aggregate(const Expr& call) {
    const std::string& fn = call.text;
    if (call.distinct) {
      Fail(call.pos, absl::StrCat("cannot import ", fn,
                                  "(DISTINCT ...): the language's aggregates "
                                  "count every row"));
    }
    if (call.args.size() != 1) {
      Fail(call.pos,
           absl::StrCat("cannot import ", fn, ": it takes one argument"));
    }
    const Expr& arg = ColumnArg(call, fn == "COUNT");
    const bool star = arg.name.text == "*";
    const std::string field = star ? "" : FieldName(arg.name);
    // The stages the aggregate covers, and whether the current row is in.
    std::vector<int> stages;
    bool with_current = true;
    if (arg.qualifier.text.empty()) {
      if (vars_[current_].in_repeated_group) {
        Fail(call.pos, absl::StrCat("cannot import ", fn, " over every row in ",
                                    CurrentWhere(),
                                    ": the variable is in a repeated group"));
      }
      if (fn == "MIN" || fn == "MAX") {
        Fail(call.pos, absl::StrCat("cannot import ", fn, "(", field,
                                    ") over every row of the match: name "
                                    "one variable, as ",
                                    fn, "(A.", field, ")"));
      }
      for (int idx = 0; idx <= current_; ++idx) stages.push_back(idx);
    } else {
      const int var = RefVar(arg.qualifier, RefText(call));
      stages.push_back(var);
      with_current = var == current_;
    }
    auto join = [&](const std::string& inner_fn) {
      std::vector<std::string> parts;
      for (int idx : stages) {
        parts.push_back(inner_fn == "count"
                            ? absl::StrCat("count(", vars_[idx].name, ")")
                            : absl::StrCat(inner_fn, "(", vars_[idx].name, ".",
                                           field, ")"));
      }
      if (with_current) parts.push_back(inner_fn == "count" ? "1" : field);
      return absl::StrJoin(parts, " + ");
    };
    const bool one = stages.size() == 1 && !with_current;
    if (fn == "COUNT") return Val{join("count"), one ? kPrimary : kAdd, {}};
    if (fn == "SUM") return Val{join("sum"), one ? kPrimary : kAdd, {}};
    if (fn == "AVG") {
      if (one) {
        return Val{absl::StrCat("avg(", vars_[stages[0]].name, ".", field, ")"),
                   kPrimary, NullUnlessMandatory(stages[0])};
      }
      return Val{absl::StrCat("(", join("sum"), ") / (", join("count"), ")"),
                 kMul,
                 {}};
    }
    // MIN, MAX of one variable.
    const std::string lower = absl::AsciiStrToLower(fn);
    if (!with_current) {
      return Val{
          absl::StrCat(lower, "(", vars_[stages[0]].name, ".", field, ")"),
          kPrimary, NullUnlessMandatory(stages[0])};
    }
    if (vars_[current_].Single()) return Val{field, kPrimary, {}};
    Fail(call.pos, absl::StrCat("cannot import ", fn, "(", vars_[current_].name,
                                ".", field, ") in ", CurrentWhere(),
                                ": in SQL it includes the current row, and the "
                                "language's ",
                                lower, "(", vars_[current_].name, ".", field,
                                ") covers only the rows taken before"));
  }

  Val Call(const Expr& call) {
    const std::string& fn = call.text;
    if (fn == "PREV" || fn == "NEXT" || fn == "FIRST" || fn == "LAST") {
      return Navigation(call);
    }
    if (fn == "SUM" || fn == "AVG" || fn == "MIN" || fn == "MAX" ||
        fn == "COUNT") {
      return Aggregate(call);
    }
    if (fn == "ABS" && call.args.size() == 1) {
      Val inner = Translate(call.args[0]);
      return Val{absl::StrCat("abs(", inner.text, ")"), kPrimary,
                 std::move(inner.null_if)};
    }
    if (fn == "CLASSIFIER" || fn == "MATCH_NUMBER") {
      Fail(call.pos, absl::StrCat("cannot import ", fn,
                                  "(): the pattern language has no "
                                  "equivalent in conditions"));
    }
    Fail(call.pos, absl::StrCat("cannot import DEFINE: the function ", fn,
                                " has no equivalent in the pattern language "
                                "(it has PREV, FIRST, LAST, SUM, AVG, MIN, "
                                "MAX, COUNT and ABS)"));
  }

  static std::string NumberText(const std::string& text) {
    std::string out = text;
    if (out.front() == '.') out = "0" + out;
    const size_t dot = out.find('.');
    if (dot != std::string::npos &&
        (dot + 1 == out.size() ||
         !absl::ascii_isdigit(static_cast<unsigned char>(out[dot + 1])))) {
      out.insert(dot + 1, "0");
    }
    return out;
  }

  Val Like(const Expr& e) {
    const Expr& pattern = e.args[1];
    if (pattern.kind != Expr::Kind::kString) {
      Fail(e.pos, "cannot import LIKE: the pattern must be a string literal");
    }
    const std::string& p = pattern.text;
    if (p.find('_') != std::string::npos) {
      Fail(pattern.pos,
           "cannot import LIKE with '_': only '%' at the start or the end of "
           "the pattern is imported (as starts_with, ends_with, contains)");
    }
    const bool lead = !p.empty() && p.front() == '%';
    const bool trail = p.size() > (lead ? 1u : 0u) && p.back() == '%';
    const std::string inner =
        p.substr(lead ? 1 : 0, p.size() - (lead ? 1 : 0) - (trail ? 1 : 0));
    if (inner.find('%') != std::string::npos) {
      Fail(pattern.pos,
           "cannot import LIKE with '%' inside the pattern: only '%' at the "
           "start or the end is imported (as starts_with, ends_with, "
           "contains)");
    }
    Val subject = Translate(e.args[0]);
    Val v;
    v.null_if = subject.null_if;
    if (!lead && !trail) {
      v.text = absl::StrCat(Wrap(subject, kAdd), " == ", Quoted(inner));
      v.prec = kCompare;
      return v;
    }
    const char* fn = lead && trail ? "contains"
                     : lead        ? "ends_with"
                                   : "starts_with";
    v.text = absl::StrCat(fn, "(", subject.text, ", ", Quoted(inner), ")");
    return v;
  }

  static std::string IsNullText(
      const std::vector<std::vector<std::string>>& null_if, int& prec) {
    if (null_if.empty()) {
      prec = kPrimary;
      return "false";
    }
    std::vector<std::string> clauses;
    for (const auto& stages : null_if) {
      std::vector<std::string> parts;
      for (const std::string& stage : stages) {
        parts.push_back(absl::StrCat("count(", stage, ") == 0"));
      }
      std::string clause = absl::StrJoin(parts, " and ");
      if (null_if.size() > 1 && parts.size() > 1) {
        clause = absl::StrCat("(", clause, ")");
      }
      clauses.push_back(std::move(clause));
    }
    if (clauses.size() > 1) {
      prec = kOr;
    } else {
      prec = null_if[0].size() > 1 ? kAnd : kCompare;
    }
    return absl::StrJoin(clauses, " or ");
  }

  static std::string IsNotNullText(
      const std::vector<std::vector<std::string>>& null_if, int& prec) {
    if (null_if.empty()) {
      prec = kPrimary;
      return "true";
    }
    std::vector<std::string> clauses;
    for (const auto& stages : null_if) {
      std::vector<std::string> parts;
      for (const std::string& stage : stages) {
        parts.push_back(absl::StrCat("count(", stage, ") > 0"));
      }
      std::string clause = absl::StrJoin(parts, " or ");
      if (null_if.size() > 1 && parts.size() > 1) {
        clause = absl::StrCat("(", clause, ")");
      }
      clauses.push_back(std::move(clause));
    }
    if (clauses.size() > 1) {
      prec = kAnd;
    } else {
      prec = null_if[0].size() > 1 ? kOr : kCompare;
    }
    return absl::StrJoin(clauses, " and ");
  }

  Val Binary(const Expr& e) {
    const std::string& op = e.op;
    if (op == "LIKE") return Like(e);
    if (op == "%" || op == "||") {
      Fail(e.pos, absl::StrCat("cannot import the operator '", op,
                               "': the pattern language has no equivalent"));
    }
    for (const Expr& arg : e.args) {
      if (arg.kind == Expr::Kind::kNull) {
        Fail(arg.pos,
             "cannot import a comparison with NULL: it is never true in SQL; "
             "write IS NULL");
      }
    }
    Val lhs = Translate(e.args[0]);
    Val rhs = Translate(e.args[1]);
    Val v;
    AddNull(v.null_if, lhs.null_if);
    AddNull(v.null_if, rhs.null_if);
    if (op == "OR" || op == "AND") {
      const int prec = op == "OR" ? kOr : kAnd;
      // `and` inside `or` gets parentheses it does not need, for the reader.
      const int min_prec = op == "OR" ? kNot : kAnd;
      v.text =
          absl::StrCat(Wrap(lhs, min_prec), op == "OR" ? " or " : " and ",
                       Wrap(rhs, prec + 1 > min_prec ? prec + 1 : min_prec));
      v.prec = prec;
      return v;
    }
    if (op == "+" || op == "-" || op == "*" || op == "/") {
      const int prec = op == "+" || op == "-" ? kAdd : kMul;
      v.text = absl::StrCat(Wrap(lhs, prec), " ", op, " ", Wrap(rhs, prec + 1));
      v.prec = prec;
      return v;
    }
    const std::string cep_op = op == "=" ? "==" : op == "<>" ? "!=" : op;
    v.text = absl::StrCat(Wrap(lhs, kAdd), " ", cep_op, " ", Wrap(rhs, kAdd));
    v.prec = kCompare;
    return v;
  }

  Val Translate(const Expr& e) {
    switch (e.kind) {
      case Expr::Kind::kNumber:
        return Val{NumberText(e.text), kPrimary, {}};
      case Expr::Kind::kString:
        return Val{Quoted(e.text), kPrimary, {}};
      case Expr::Kind::kBool:
        return Val{e.text == "TRUE" ? "true" : "false", kPrimary, {}};
      case Expr::Kind::kNull:
        Fail(e.pos, "cannot import NULL here: only IS [NOT] NULL is imported");
      case Expr::Kind::kInterval:
        return Val{DurationText(e.interval_ms), kPrimary, {}};
      case Expr::Kind::kColumn: {
        if (e.name.text == "*") {
          Fail(e.pos, "cannot import '*' here: only COUNT(*) takes it");
        }
        const std::string& field = FieldName(e.name);
        const int var = RefVar(e.qualifier, RefText(e));
        if (var == current_) return Val{field, kPrimary, {}};
        return Val{absl::StrCat(vars_[var].name, ".", field), kPrimary,
                   NullUnlessMandatory(var)};
      }
      case Expr::Kind::kCall:
        return Call(e);
      case Expr::Kind::kUnary: {
        Val inner = Translate(e.args[0]);
        if (e.op == "+") return inner;
        Val v;
        v.null_if = inner.null_if;
        if (e.op == "-") {
          v.text = absl::StrCat("-", Wrap(inner, kUnary));
          v.prec = kUnary;
          return v;
        }
        v.text = inner.prec < kPrimary ? absl::StrCat("not (", inner.text, ")")
                                       : absl::StrCat("not ", inner.text);
        v.prec = kNot;
        return v;
      }
      case Expr::Kind::kBinary:
        return Binary(e);
      case Expr::Kind::kIsNull: {
        Val inner = Translate(e.args[0]);
        Val v;
        v.text = e.negated ? IsNotNullText(inner.null_if, v.prec)
                           : IsNullText(inner.null_if, v.prec);
        return v;
      }
      case Expr::Kind::kBetween: {
        Val x = Translate(e.args[0]);
        Val low = Translate(e.args[1]);
        Val high = Translate(e.args[2]);
        Val v;
        AddNull(v.null_if, x.null_if);
        AddNull(v.null_if, low.null_if);
        AddNull(v.null_if, high.null_if);
        const std::string s = Wrap(x, kAdd);
        if (e.negated) {
          v.text = absl::StrCat(s, " < ", Wrap(low, kAdd), " or ", s, " > ",
                                Wrap(high, kAdd));
          v.prec = kOr;
        } else {
          v.text = absl::StrCat(s, " >= ", Wrap(low, kAdd), " and ", s,
                                " <= ", Wrap(high, kAdd));
          v.prec = kAnd;
        }
        return v;
      }
      case Expr::Kind::kIn: {
        Val x = Translate(e.args[0]);
        Val v;
        v.null_if = x.null_if;
        std::vector<std::string> items;
        for (size_t idx = 1; idx < e.args.size(); ++idx) {
          Val item = Translate(e.args[idx]);
          AddNull(v.null_if, item.null_if);
          items.push_back(Wrap(item, kAdd));
        }
        v.text = absl::StrCat(Wrap(x, kAdd), e.negated ? " not in (" : " in (",
                              absl::StrJoin(items, ", "), ")");
        v.prec = kCompare;
        return v;
      }
    }
    Fail(e.pos, "cannot import this expression");
  }

  // -- Output
  // -----------------------------------------------------------------------

  std::string Header() const {
    std::string out = absl::StrCat("// Imported from ", options_.source_name,
                                   " by `cep import-sql`:\n//\n");
    for (absl::string_view line : absl::StrSplit(query_.text, '\n')) {
      std::string text(line);
      while (!text.empty() && (text.back() == ' ' || text.back() == '\t' ||
                               text.back() == '\r')) {
        text.pop_back();
      }
      absl::StrAppend(&out, text.empty() ? "//" : "//   ", text, "\n");
    }
    absl::StrAppend(&out, "//\n// Rows are ", event_name_, " events");
    if (!key_.empty()) absl::StrAppend(&out, ", keyed by ", key_, ",");
    absl::StrAppend(
        &out, " in the order of ", time_,
        ".\n"
        "// Variables follow each other with 'next' (the rows of a SQL match "
        "are\n"
        "// consecutive); quantifiers are consecutive, and greedy unless "
        "reluctant,\n"
        "// as Flink SQL translates them.\n"
        "// A match is one output line with the rows of each variable");
    if (query_.measures.empty()) {
      absl::StrAppend(&out, ".\n");
    } else {
      absl::StrAppend(&out, "; MEASURES\n// are not computed:\n");
      for (const Measure& measure : query_.measures) {
        absl::StrAppend(&out, "//   ", measure.text, "\n");
      }
    }
    if (query_.skip == Query::Skip::kDefault) {
      absl::StrAppend(&out,
                      "// No AFTER MATCH SKIP: SQL's default, PAST LAST ROW "
                      "(Flink SQL's is TO NEXT ROW).\n");
    }
    return out;
  }

  std::string EventDecl() const {
    size_t name_width = 0;
    auto declared = [](const Column& column) {
      return !column.type.empty() && IsCepName(column.name);
    };
    for (const auto& [key, column] : columns_) {
      if (declared(column)) {
        name_width = std::max(name_width, column.name.size());
      }
    }
    std::string out = absl::StrCat("event ", event_name_, " {\n");
    for (const auto& [key, column] : columns_) {
      if (!declared(column)) continue;
      std::string line = absl::StrCat("  ", column.name);
      line.append(name_width + 2 - column.name.size(), ' ');
      line += column.type;
      std::string marker = column.name == key_    ? "key"
                           : column.name == time_ ? "time"
                                                  : "";
      if (!marker.empty()) {
        line.append(11 - column.type.size(), ' ');
        line += marker;
      }
      absl::StrAppend(&out, line, "\n");
    }
    return out + "}\n";
  }

  std::string SkipText() {
    switch (query_.skip) {
      case Query::Skip::kDefault:
      case Query::Skip::kPastLastRow:
        return "skip past last event";
      case Query::Skip::kToNextRow:
        return "skip to next";
      case Query::Skip::kToFirst:
      case Query::Skip::kToLast: {
        const bool first = query_.skip == Query::Skip::kToFirst;
        const int var = FindVar(query_.skip_var);
        if (var < 0) {
          Fail(query_.skip_var.pos,
               absl::StrCat("cannot import AFTER MATCH SKIP: '",
                            query_.skip_var.text,
                            "' is not a variable of PATTERN"));
        }
        const bool starts = !elements_.empty() && elements_[0].var == var &&
                            vars_[var].Mandatory() &&
                            (first || vars_[var].Single());
        if (starts) {
          Fail(query_.skip_var.pos,
               absl::StrCat("cannot import AFTER MATCH SKIP TO ",
                            first ? "FIRST " : "LAST ", vars_[var].name, ": '",
                            vars_[var].name,
                            "' starts every match there, so the next match "
                            "would start at the same row again (Flink SQL "
                            "fails at run time)"));
        }
        return absl::StrCat(first ? "skip to first " : "skip to last ",
                            vars_[var].name);
      }
    }
    return "skip past last event";
  }

  static std::string QuantifierText(const Element& element) {
    const Quantifier& q = element.quantifier;
    if (!q.present || (q.min == 1 && q.max == 1)) return "";
    if (q.min == 0 && q.max == 1) return "?";
    std::string out;
    if (q.min == 1 && q.max == -1) {
      out = "+";
    } else if (q.min == 0 && q.max == -1) {
      out = "*";
    } else if (q.max == -1) {
      out = absl::StrCat(" {", q.min, ",}");
    } else if (q.min == q.max) {
      out = absl::StrCat(" {", q.min, "}");
    } else {
      out = absl::StrCat(" {", q.min, ",", q.max, "}");
    }
    out += " consecutive";
    if (IsGreedy(element)) out += " greedy";
    return out;
  }

  std::string PatternDecl() {
    std::string out = absl::StrCat("pattern ", options_.pattern_name, " on ",
                                   event_name_, "\n");
    if (query_.within) {
      absl::StrAppend(&out, "  within ",
                      DurationText(query_.within->interval_ms), "\n");
    }
    absl::StrAppend(&out, "  after match ", SkipText(), " {\n");
    return out;
  }

 public:
  // The whole file; stage_lines_ filled for StageAtLine.
  std::string Build() {
    BuildPattern();
    BindDefines();
    BuildSchema();
    if (query_.subset_pos) {
      Fail(*query_.subset_pos,
           "cannot import SUBSET: union variables have no equivalent; refer "
           "to each variable");
    }
    if (!query_.rows_extra.empty()) {
      Fail(query_.rows_pos,
           absl::StrCat("cannot import ALL ROWS PER MATCH ", query_.rows_extra,
                        ": only matches are reported, never unmatched or "
                        "empty ones"));
    }
    std::string out = Header();
    out += EventDecl();
    out += "\n";
    out += PatternDecl();
    line_ = static_cast<size_t>(std::count(out.begin(), out.end(), '\n'));
    std::string body;
    StagesCounted(elements_, "  ", body);
    body += GreedyEnd();
    out += body;
    out += "}\n";
    return out;
  }

 private:
  // SQL's greedy quantifier on the last variable takes rows until one does
  // not fit; FlinkCEP's would release the match at the first row (nothing
  // after it waits), which is why Flink SQL refuses it. A trailing `not next`
  // with the variable's own condition waits for the row that does not
  // continue it: that condition, read there, sees all the variable's rows
  // as earlier rows, just as it would for one more row of the variable.
  std::string GreedyEnd() {
    const Element& last = elements_.back();
    if (!IsGreedy(last)) return "";
    const Var& var = vars_[last.var];
    const Quantifier& q = last.quantifier;
    if (q.min == 0) {
      Fail(q.pos,
           absl::StrCat("cannot import PATTERN: the greedy '", var.name, q.text,
                        "' ends the pattern and may take no rows; a match "
                        "would be reported before the rows it should take "
                        "(Flink SQL refuses greedy quantifiers at the end); "
                        "make it reluctant ('",
                        var.name, q.text, "?') or follow it with a variable"));
    }
    std::vector<std::string> parts;
    if (q.max != -1) {
      parts.push_back(absl::StrCat("count(", var.name, ") < ", q.max));
    }
    if (var.define != nullptr) {
      current_ = last.var;
      Val condition = Translate(var.define->condition);
      parts.push_back(parts.empty() ? condition.text : Wrap(condition, kNot));
    }
    if (parts.empty()) {
      Fail(q.pos,
           absl::StrCat("cannot import PATTERN: the greedy '", var.name, q.text,
                        "' without DEFINE ends the pattern: it takes every "
                        "row to the end of the partition, and a stream has "
                        "no end; make it reluctant ('",
                        var.name, q.text, "?') or give it a maximum"));
    }
    std::string name = var.name + "_end";
    auto taken = [&](const std::string& candidate) {
      for (const Var& other : vars_) {
        if (other.name == candidate) return true;
      }
      return false;
    };
    while (taken(name)) name += "_";
    line_ += 2;
    stage_lines_[line_] = last.var;
    return absl::StrCat("  // SQL's greedy ", var.name, q.text,
                        " ends before a row that would continue it\n",
                        "  not next ", name, " where ",
                        absl::StrJoin(parts, " and "), "\n");
  }

  // The stages, one line each (a group opens and closes on lines of its
  // own); line_ counts the lines written so far.
  void StagesCounted(const std::vector<Element>& elements,
                     const std::string& indent, std::string& out) {
    for (size_t idx = 0; idx < elements.size(); ++idx) {
      const Element& element = elements[idx];
      const char* connector = idx == 0 ? "begin " : "next ";
      if (element.var < 0) {
        absl::StrAppend(&out, indent, connector, "(\n");
        ++line_;
        StagesCounted(element.members, indent + "  ", out);
        absl::StrAppend(&out, indent, ")", QuantifierText(element), "\n");
        ++line_;
        continue;
      }
      current_ = element.var;
      const Var& var = vars_[element.var];
      std::string line =
          absl::StrCat(indent, connector, var.name, QuantifierText(element));
      if (var.define != nullptr) {
        Val condition = Translate(var.define->condition);
        absl::StrAppend(&line, " where ", condition.text);
      }
      absl::StrAppend(&out, line, "\n");
      ++line_;
      stage_lines_[line_] = element.var;
    }
  }

  const Query& query_;
  const ImportOptions& options_;
  const TableDef* table_ = nullptr;
  std::vector<Var> vars_;
  std::vector<Element> elements_;
  // Columns in the order of the event declaration, by Ident::Key().
  std::vector<std::pair<std::string, Column>> columns_;
  std::vector<std::pair<Ident, Ident>> same_type_;
  std::string event_name_;
  std::string key_;
  std::string time_;
  int current_ = 0;
  size_t line_ = 0;
  std::map<size_t, int> stage_lines_;
};

absl::Status ToStatus(const ImportOptions& options, const ImportError& error) {
  return absl::InvalidArgumentError(
      absl::StrCat(options.source_name, ":", error.pos.line, ":", error.pos.col,
                   ": error: ", error.message));
}

}  // namespace

bool IsCepName(std::string_view name) {
  if (name.empty() ||
      !(absl::ascii_isalpha(static_cast<unsigned char>(name[0])) ||
        name[0] == '_')) {
    return false;
  }
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') {
      return false;
    }
  }
  for (std::string_view word : kReserved) {
    if (name == word) return false;
  }
  return true;
}

std::string PatternNameFromPath(std::string_view path) {
  const size_t slash = path.find_last_of('/');
  std::string_view base =
      slash == std::string_view::npos ? path : path.substr(slash + 1);
  const size_t dot = base.find('.');
  if (dot != std::string_view::npos) base = base.substr(0, dot);
  std::string name;
  for (char c : base) {
    name += absl::ascii_isalnum(static_cast<unsigned char>(c)) ? c : '_';
  }
  if (!name.empty() &&
      absl::ascii_isdigit(static_cast<unsigned char>(name[0]))) {
    name = "q_" + name;
  }
  return IsCepName(name) ? name : "imported";
}

absl::StatusOr<std::string> TranslateMatchRecognize(
    const Query& query, const ImportOptions& options) {
  try {
    Translator translator(query, options);
    return translator.Build();
  } catch (const ImportError& error) {
    return ToStatus(options, error);
  }
}

absl::StatusOr<std::string> ImportMatchRecognize(std::string_view sql,
                                                 const ImportOptions& options) {
  absl::StatusOr<Query> query = ParseMatchRecognize(sql, options.source_name);
  if (!query.ok()) return query.status();
  try {
    Translator translator(*query, options);
    std::string text = translator.Build();
    const std::string generated = "<generated>";
    absl::StatusOr<PatternFile> file = ParsePatternFile(text, generated);
    if (file.ok()) return text;
    // "<generated>:LINE:COL: error: MESSAGE\n  ...": back to the SQL.
    absl::string_view message = file.status().message();
    message = message.substr(0, message.find('\n'));
    size_t line = 0;
    absl::string_view rest = message;
    if (rest.substr(0, generated.size() + 1) == generated + ":") {
      rest.remove_prefix(generated.size() + 1);
      const size_t colon = rest.find(':');
      if (!absl::SimpleAtoi(rest.substr(0, colon), &line)) line = 0;
    }
    const size_t at = message.find(": error: ");
    const std::string why(
        at == absl::string_view::npos ? message : message.substr(at + 9));
    if (auto stage = translator.StageAtLine(line)) {
      return ToStatus(
          options,
          ImportError{stage->second,
                      absl::StrCat("cannot import DEFINE of '", stage->first,
                                   "': the translated condition "
                                   "does not check: ",
                                   why)});
    }
    return ToStatus(options,
                    ImportError{query->match_recognize_pos,
                                absl::StrCat("cannot import MATCH_RECOGNIZE: "
                                             "the translation does not "
                                             "check: ",
                                             why)});
  } catch (const ImportError& error) {
    return ToStatus(options, error);
  }
}

}  // namespace cep::sql
