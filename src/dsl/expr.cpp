#include "expr.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "cep/internal/status_macros.hpp"

namespace cep::dsl {

const char* TypeName(Type type) {
  switch (type) {
    case Type::kInt:
      return "int";
    case Type::kDouble:
      return "double";
    case Type::kString:
      return "string";
    case Type::kBool:
      return "bool";
    case Type::kTimestamp:
      return "timestamp";
    case Type::kDuration:
      return "duration";
  }
  return "?";
}

Type TypeOf(FieldType type) {
  switch (type) {
    case FieldType::kInt:
      return Type::kInt;
    case FieldType::kDouble:
      return Type::kDouble;
    case FieldType::kString:
      return Type::kString;
    case FieldType::kBool:
      return Type::kBool;
    case FieldType::kTimestamp:
      return Type::kTimestamp;
  }
  return Type::kInt;
}

namespace {

using Ctx = Context<Record>;
using NodePtr = std::unique_ptr<const ExprNode>;

// The most operations one arithmetic chain (`a + b - c ...`) may have: each
// one nests the evaluation one level deeper. `and` / `or` chains have no
// limit (one node evaluates them all).
constexpr size_t kMaxOperations = 1000;

// "an int", "a string": for messages.
std::string Article(Type type) {
  return absl::StrCat(type == Type::kInt ? "an " : "a ", TypeName(type));
}

// Levenshtein distance between `a` and `b`.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// "; did you mean 'amount'?" when exactly one of `candidates` is closest to
// `name`, at most 2 edits away and fewer edits than `name` has characters
// (so `x` suggests nothing); otherwise empty.
std::string DidYouMean(std::string_view name,
                       const std::vector<std::string>& candidates) {
  constexpr size_t kMaxEdits = 2;
  const std::string* best = nullptr;
  size_t best_distance = kMaxEdits + 1;
  bool tie = false;
  for (const std::string& candidate : candidates) {
    if (candidate == name) continue;
    const size_t distance = EditDistance(name, candidate);
    if (distance < best_distance) {
      best = &candidate;
      best_distance = distance;
      tie = false;
    } else if (distance == best_distance && best != nullptr &&
               *best != candidate) {
      tie = true;
    }
  }
  if (best == nullptr || tie || best_distance >= name.size()) return "";
  return absl::StrCat("; did you mean '", *best, "'?");
}

bool IsNumeric(Type type) {
  return type == Type::kInt || type == Type::kDouble;
}

Val Null() { return Val{}; }
Val MakeInt(int64_t v) {
  Val r;
  r.null = false;
  r.i = v;
  return r;
}
Val MakeDouble(double v) {
  Val r;
  r.null = false;
  r.d = v;
  return r;
}
Val MakeBool(bool v) {
  Val r;
  r.null = false;
  r.b = v;
  return r;
}
Val MakeString(std::string_view v) {
  Val r;
  r.null = false;
  r.s = v;
  return r;
}

// Reads the field `table[schema id]` of `event` as `type`; null when the
// event's schema lacks the field or the value is absent.
inline Val ReadField(const Record& event, const std::vector<int>& table,
                     Type type) {
  const uint32_t id = event.schema().id();
  if (id >= table.size() || table[id] < 0) return Null();
  const Value& value = event[static_cast<size_t>(table[id])];
  switch (type) {
    case Type::kInt:
    case Type::kTimestamp:
    case Type::kDuration:
      if (const auto* v = std::get_if<int64_t>(&value)) return MakeInt(*v);
      return Null();
    case Type::kDouble:
      if (const auto* v = std::get_if<double>(&value)) return MakeDouble(*v);
      if (const auto* v = std::get_if<int64_t>(&value)) {
        return MakeDouble(static_cast<double>(*v));
      }
      return Null();
    case Type::kBool:
      if (const auto* v = std::get_if<bool>(&value)) return MakeBool(*v);
      return Null();
    case Type::kString:
      if (const auto* v = std::get_if<std::string>(&value)) {
        return MakeString(*v);
      }
      return Null();
  }
  return Null();
}

// -- Nodes --------------------------------------------------------------------

class ConstNode final : public ExprNode {
 public:
  explicit ConstNode(Val value) : value_(value) {}
  explicit ConstNode(std::string text) : storage_(std::move(text)) {
    value_.null = false;
    value_.s = storage_;
  }
  ConstNode(const ConstNode&) = delete;
  ConstNode& operator=(const ConstNode&) = delete;
  Val Eval(const Record&, const Ctx*) const override { return value_; }

 private:
  std::string storage_;
  Val value_;
};

// A field of the event under test.
class FieldNode final : public ExprNode {
 public:
  FieldNode(std::vector<int> table, Type type)
      : table_(std::move(table)), type_(type) {}
  Val Eval(const Record& event, const Ctx*) const override {
    return ReadField(event, table_, type_);
  }

 private:
  std::vector<int> table_;
  Type type_;
};

// `type`: the event's type name.
class TypeNameNode final : public ExprNode {
 public:
  Val Eval(const Record& event, const Ctx*) const override {
    return MakeString(event.schema().name());
  }
};

// A field (or the type name) of the first or last event of a stage.
class RefFieldNode final : public ExprNode {
 public:
  RefFieldNode(std::string stage, bool first, std::vector<int> table, Type type,
               bool type_name)
      : stage_(std::move(stage)),
        first_(first),
        type_name_(type_name),
        table_(std::move(table)),
        type_(type) {}
  Val Eval(const Record&, const Ctx* ctx) const override {
    const Record* event =
        first_ ? ctx->FirstEvent(stage_) : ctx->LastEvent(stage_);
    if (event == nullptr) return Null();
    if (type_name_) return MakeString(event->schema().name());
    return ReadField(*event, table_, type_);
  }

 private:
  std::string stage_;
  bool first_;
  bool type_name_;
  std::vector<int> table_;
  Type type_;
};

class AggregateNode final : public ExprNode {
 public:
  enum class Kind : uint8_t { kCount, kSum, kAvg, kMin, kMax };
  AggregateNode(AggregateId id, Kind kind) : id_(id), kind_(kind) {}
  Val Eval(const Record&, const Ctx* ctx) const override {
    const AggregateValue& agg = ctx->Aggregate(id_);
    switch (kind_) {
      case Kind::kCount:
        return MakeInt(agg.count);
      case Kind::kSum:
        return MakeDouble(agg.sum);
      case Kind::kAvg:
        return agg.empty() ? Null() : MakeDouble(agg.avg());
      case Kind::kMin:
        return agg.empty() ? Null() : MakeDouble(agg.min);
      case Kind::kMax:
        return agg.empty() ? Null() : MakeDouble(agg.max);
    }
    return Null();
  }

 private:
  AggregateId id_;
  Kind kind_;
};

// Applies `f` to the operand's value; null stays null.
template <typename F>
class UnaryNode final : public ExprNode {
 public:
  UnaryNode(NodePtr a, F f) : a_(std::move(a)), f_(f) {}
  Val Eval(const Record& event, const Ctx* ctx) const override {
    const Val x = a_->Eval(event, ctx);
    if (x.null) return x;
    return f_(x);
  }

 private:
  NodePtr a_;
  F f_;
};

// Applies `f` to both operands' values; null if either is null.
template <typename F>
class BinaryNode final : public ExprNode {
 public:
  BinaryNode(NodePtr a, NodePtr b, F f)
      : a_(std::move(a)), b_(std::move(b)), f_(f) {}
  Val Eval(const Record& event, const Ctx* ctx) const override {
    const Val x = a_->Eval(event, ctx);
    if (x.null) return x;
    const Val y = b_->Eval(event, ctx);
    if (y.null) return y;
    return f_(x, y);
  }

 private:
  NodePtr a_;
  NodePtr b_;
  F f_;
};

template <typename F>
NodePtr Unary(NodePtr a, F f) {
  return std::make_unique<UnaryNode<F>>(std::move(a), f);
}
template <typename F>
NodePtr Binary(NodePtr a, NodePtr b, F f) {
  return std::make_unique<BinaryNode<F>>(std::move(a), std::move(b), f);
}

// SQL's three-valued `and` (false wins over null) or `or` (true wins over
// null) of any number of operands, evaluated left to right until one
// decides. One node per chain, so that `a or b or ... ` with many terms needs
// no deep recursion to evaluate or destroy.
class LogicalNode final : public ExprNode {
 public:
  LogicalNode(bool is_and, std::vector<NodePtr> operands)
      : is_and_(is_and), operands_(std::move(operands)) {}
  Val Eval(const Record& event, const Ctx* ctx) const override {
    Val result = MakeBool(is_and_);
    for (const NodePtr& operand : operands_) {
      const Val x = operand->Eval(event, ctx);
      if (x.null) {
        result = x;
      } else if (x.b != is_and_) {
        return x;
      }
    }
    return result;
  }

 private:
  bool is_and_;
  std::vector<NodePtr> operands_;
};

// `a` unless it is null, else `b`.
class CoalesceNode final : public ExprNode {
 public:
  CoalesceNode(NodePtr a, NodePtr b) : a_(std::move(a)), b_(std::move(b)) {}
  Val Eval(const Record& event, const Ctx* ctx) const override {
    const Val x = a_->Eval(event, ctx);
    return x.null ? b_->Eval(event, ctx) : x;
  }

 private:
  NodePtr a_;
  NodePtr b_;
};

// Great-circle distance in km (haversine, Earth radius 6371 km).
double HaversineKm(double lat1, double lon1, double lat2, double lon2) {
  constexpr double kRadians = 3.14159265358979323846 / 180.0;
  const double dlat = (lat2 - lat1) * kRadians;
  const double dlon = (lon2 - lon1) * kRadians;
  const double h = std::sin(dlat / 2) * std::sin(dlat / 2) +
                   std::cos(lat1 * kRadians) * std::cos(lat2 * kRadians) *
                       std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * 6371.0 * std::atan2(std::sqrt(h), std::sqrt(1 - h));
}

class DistanceNode final : public ExprNode {
 public:
  explicit DistanceNode(std::vector<NodePtr> args) : args_(std::move(args)) {}
  Val Eval(const Record& event, const Ctx* ctx) const override {
    double v[4];
    for (size_t arg_idx = 0; arg_idx < 4; ++arg_idx) {
      const Val x = args_[arg_idx]->Eval(event, ctx);
      if (x.null) return x;
      v[arg_idx] = x.d;
    }
    return MakeDouble(HaversineKm(v[0], v[1], v[2], v[3]));
  }

 private:
  std::vector<NodePtr> args_;  // doubles
};

// `value [not] in (...)` over constants of the value's type (numbers as
// doubles when either side is a double).
class InNode final : public ExprNode {
 public:
  InNode(NodePtr value, Type type, std::vector<Val> items,
         std::vector<std::string> strings, bool negated, bool has_null)
      : value_(std::move(value)),
        type_(type),
        items_(std::move(items)),
        strings_(std::move(strings)),
        negated_(negated),
        has_null_(has_null) {}
  Val Eval(const Record& event, const Ctx* ctx) const override {
    const Val x = value_->Eval(event, ctx);
    if (x.null) return x;
    bool found = false;
    switch (type_) {
      case Type::kString:
        found =
            std::find(strings_.begin(), strings_.end(), x.s) != strings_.end();
        break;
      case Type::kDouble:
        for (const Val& item : items_) found = found || item.d == x.d;
        break;
      case Type::kBool:
        for (const Val& item : items_) found = found || item.b == x.b;
        break;
      default:
        for (const Val& item : items_) found = found || item.i == x.i;
        break;
    }
    if (!found && has_null_) return Null();
    return MakeBool(found != negated_);
  }

 private:
  NodePtr value_;
  Type type_;
  std::vector<Val> items_;
  std::vector<std::string> strings_;
  bool negated_;
  bool has_null_;
};

// -- Checking -----------------------------------------------------------------

// A checked subexpression.
struct Typed {
  NodePtr node;
  Type type = Type::kBool;
  bool constant = false;   // no field or event reference: foldable
  bool iterative = false;  // reads the Context
  bool type_name = false;  // the `type` pseudo-field
  size_t offset = 0;
};

// How a name reads the events of a stage.
struct FieldAccess {
  std::vector<int> table;
  Type type = Type::kInt;
  FieldType field_type = FieldType::kInt;
  bool type_name = false;
};

bool IsComparison(std::string_view op) {
  return op == "==" || op == "!=" || op == "<" || op == "<=" || op == ">" ||
         op == ">=";
}

// Builds a comparison node for the values `get` reads from Val.
template <typename Get>
NodePtr CompareNode(std::string_view op, NodePtr a, NodePtr b, Get get) {
  if (op == "==") {
    return Binary(std::move(a), std::move(b),
                  [get](Val x, Val y) { return MakeBool(get(x) == get(y)); });
  }
  if (op == "!=") {
    return Binary(std::move(a), std::move(b),
                  [get](Val x, Val y) { return MakeBool(get(x) != get(y)); });
  }
  if (op == "<") {
    return Binary(std::move(a), std::move(b),
                  [get](Val x, Val y) { return MakeBool(get(x) < get(y)); });
  }
  if (op == "<=") {
    return Binary(std::move(a), std::move(b),
                  [get](Val x, Val y) { return MakeBool(get(x) <= get(y)); });
  }
  if (op == ">") {
    return Binary(std::move(a), std::move(b),
                  [get](Val x, Val y) { return MakeBool(get(x) > get(y)); });
  }
  return Binary(std::move(a), std::move(b),
                [get](Val x, Val y) { return MakeBool(get(x) >= get(y)); });
}

constexpr auto kGetInt = [](const Val& v) { return v.i; };
constexpr auto kGetDouble = [](const Val& v) { return v.d; };
constexpr auto kGetBool = [](const Val& v) { return v.b; };
constexpr auto kGetString = [](const Val& v) { return v.s; };

class Checker {
 public:
  Checker(PatternScope& scope, size_t stage_index)
      : scope_(scope), stage_index_(stage_index) {}

  absl::StatusOr<Typed> Check(const ast::Expr& expr) {
    Visitor visitor{this};
    return expr.apply_visitor(visitor);
  }

 private:
  struct Visitor {
    using result_type = absl::StatusOr<Typed>;
    Checker* checker;
    template <typename T>
    result_type operator()(const ast::x3::forward_ast<T>& node) const {
      return checker->CheckNode(node.get());
    }
    template <typename T>
    result_type operator()(const T& node) const {
      return checker->CheckNode(node);
    }
  };

  const Source& source() const { return *scope_.source; }
  const StageInfo& own() const { return scope_.stages[stage_index_]; }

  size_t Off(const ast::Node& node) const {
    return scope_.parsed->OffsetOf(node);
  }
  // The node's offset, or `fallback` when the grammar did not tag it.
  size_t OffOr(const ast::Node& node, size_t fallback) const {
    return node.id_first < 0 ? fallback : Off(node);
  }
  size_t Off(const ast::Expr& expr) const {
    return ExprOffset(*scope_.parsed, expr);
  }
  absl::Status Error(size_t offset, std::string_view message) const {
    return source().Error(offset, message);
  }

  static Typed Constant(Val value, Type type, size_t offset) {
    Typed t;
    t.node = std::make_unique<ConstNode>(value);
    t.type = type;
    t.constant = true;
    t.offset = offset;
    return t;
  }

  // Replaces a constant subtree by its value (strings are left alone: their
  // views would point into the discarded nodes).
  static Typed Fold(Typed t) {
    if (!t.constant || t.type == Type::kString) return t;
    if (dynamic_cast<const ConstNode*>(t.node.get()) != nullptr) return t;
    const Record empty;
    t.node = std::make_unique<ConstNode>(t.node->Eval(empty, nullptr));
    return t;
  }

  static Typed ToDouble(Typed t) {
    if (t.type != Type::kInt) return t;
    t.node = Unary(std::move(t.node),
                   [](Val x) { return MakeDouble(static_cast<double>(x.i)); });
    t.type = Type::kDouble;
    return Fold(std::move(t));
  }

  static Typed Combine(Typed a, Typed b, NodePtr node, Type type) {
    Typed t;
    t.node = std::move(node);
    t.type = type;
    t.constant = a.constant && b.constant;
    t.iterative = a.iterative || b.iterative;
    t.offset = a.offset;
    return Fold(std::move(t));
  }

  // -- Literals ---------------------------------------------------------------

  absl::StatusOr<Typed> CheckNode(const ast::IntLiteral& lit) {
    return Constant(MakeInt(lit.value), Type::kInt, Off(lit));
  }
  absl::StatusOr<Typed> CheckNode(const ast::DoubleLiteral& lit) {
    return Constant(MakeDouble(lit.value), Type::kDouble, Off(lit));
  }
  absl::StatusOr<Typed> CheckNode(const ast::BoolLiteral& lit) {
    return Constant(MakeBool(lit.value), Type::kBool, Off(lit));
  }
  absl::StatusOr<Typed> CheckNode(const ast::StringLiteral& lit) {
    Typed t;
    t.node = std::make_unique<ConstNode>(lit.value);
    t.type = Type::kString;
    t.constant = true;
    t.offset = Off(lit);
    return t;
  }
  absl::StatusOr<Typed> CheckNode(const ast::DurationLiteral& lit) {
    CEP_ASSIGN_OR_RETURN(int64_t ms,
                         DurationMillis(*scope_.source, *scope_.parsed, lit));
    return Constant(MakeInt(ms), Type::kDuration, Off(lit));
  }

  // -- Names ------------------------------------------------------------------

  // Resolves `field` on events of `types` (a stage's types).
  absl::StatusOr<FieldAccess> ResolveField(
      const ast::Name& field, const std::vector<const Schema*>& types,
      const StageInfo& stage) {
    FieldAccess access;
    access.table.assign(scope_.schemas.size(), -1);
    const Schema* with = nullptr;     // a type that has it
    const Schema* without = nullptr;  // a type that lacks it
    for (const Schema* schema : types) {
      std::optional<size_t> index = schema->FieldIndex(field.text);
      if (!index) {
        if (without == nullptr) without = schema;
        continue;
      }
      const FieldType type = schema->fields()[*index].type;
      if (with != nullptr && type != access.field_type) {
        return Error(Off(field),
                     absl::StrCat("field '", field.text, "' is ",
                                  Article(TypeOf(access.field_type)), " in ",
                                  with->name(), " but ", Article(TypeOf(type)),
                                  " in ", schema->name()));
      }
      if (with == nullptr) with = schema;
      access.field_type = type;
      access.table[schema->id()] = static_cast<int>(*index);
    }
    if (with == nullptr) {
      if (field.text == "type") {
        access.type_name = true;
        access.type = Type::kString;
        return access;
      }
      std::vector<std::string> names;
      std::vector<std::string> fields;
      for (const Schema* schema : types) {
        names.push_back(schema->name());
        for (const FieldDef& def : schema->fields()) fields.push_back(def.name);
      }
      return Error(Off(field),
                   absl::StrCat("unknown field '", field.text, "' of event",
                                names.size() > 1 ? "s " : " ",
                                absl::StrJoin(names, ", "),
                                DidYouMean(field.text, fields)));
    }
    if (without != nullptr) {
      return Error(
          Off(field),
          absl::StrCat("event ", without->name(), " has no field '", field.text,
                       "'; restrict stage '", stage.name, "' to one type ('",
                       stage.name, ": ", with->name(), "') to read it"));
    }
    access.type = TypeOf(access.field_type);
    return access;
  }

  // The stage a condition refers to by `name`.
  absl::StatusOr<size_t> ResolveStage(const ast::Name& name) {
    for (size_t stage_idx = 0; stage_idx < scope_.stages.size(); ++stage_idx) {
      const StageInfo& stage = scope_.stages[stage_idx];
      if (stage.name != name.text) continue;
      if (stage_idx > stage_index_) {
        return Error(
            Off(name),
            absl::StrCat("stage '", stage.name, "' comes after '", own().name,
                         "'; a condition can refer only to its own "
                         "stage and earlier ones"));
      }
      if (stage.is_not) {
        return Error(
            Off(name),
            absl::StrCat("stage '", stage.name, "' is a '", stage.connector,
                         "' stage; it takes no events to refer to"));
      }
      return stage_idx;
    }
    std::vector<std::string> stages;
    for (const StageInfo& stage : scope_.stages) stages.push_back(stage.name);
    return Error(Off(name), absl::StrCat("unknown stage '", name.text, "'",
                                         DidYouMean(name.text, stages)));
  }

  // A field of the first or last event of a stage.
  absl::StatusOr<Typed> StageField(size_t stage_idx, bool first,
                                   const ast::Name& field, size_t offset) {
    const StageInfo& stage = scope_.stages[stage_idx];
    CEP_ASSIGN_OR_RETURN(FieldAccess access,
                         ResolveField(field, stage.types, stage));
    Typed t;
    t.node = std::make_unique<RefFieldNode>(stage.name, first,
                                            std::move(access.table),
                                            access.type, access.type_name);
    t.type = access.type;
    t.iterative = true;
    t.type_name = access.type_name;
    t.offset = offset;
    return t;
  }

  absl::StatusOr<Typed> CheckNode(const ast::FieldRef& ref) {
    const size_t offset = OffOr(ref, Off(ref.first));
    if (!ref.second) {
      if (ref.first.text == "prev") {
        return Error(Off(ref.first), "'prev' needs a field: prev.FIELD");
      }
      CEP_ASSIGN_OR_RETURN(FieldAccess access,
                           ResolveField(ref.first, own().types, own()));
      Typed t;
      if (access.type_name) {
        t.node = std::make_unique<TypeNameNode>();
      } else {
        t.node =
            std::make_unique<FieldNode>(std::move(access.table), access.type);
      }
      t.type = access.type;
      t.type_name = access.type_name;
      t.offset = offset;
      return t;
    }
    if (ref.first.text == "prev") {
      if (!own().takes_several) {
        return Error(Off(ref.first),
                     absl::StrCat("'prev' needs a stage that takes several "
                                  "events; '",
                                  own().name, "' takes one"));
      }
      return StageField(stage_index_, /*first=*/false, *ref.second, offset);
    }
    CEP_ASSIGN_OR_RETURN(size_t stage_idx, ResolveStage(ref.first));
    return StageField(stage_idx, /*first=*/false, *ref.second, offset);
  }

  // -- Calls ------------------------------------------------------------------

  absl::Status ArgCount(const ast::Call& call, size_t want) {
    if (call.args.size() == want) return absl::OkStatus();
    return Error(Off(call.function),
                 absl::StrCat(call.function.text, " takes ", want,
                              want == 1 ? " argument" : " arguments", ", not ",
                              call.args.size()));
  }

  // The bare stage name of `arg` (`count(probe)`), or nullptr.
  static const ast::FieldRef* AsRef(const ast::Expr& arg) {
    if (const auto* ref =
            boost::get<ast::x3::forward_ast<ast::FieldRef>>(&arg)) {
      return &ref->get();
    }
    return nullptr;
  }

  absl::StatusOr<Typed> CheckNode(const ast::Call& call) {
    const std::string& fn = call.function.text;
    const size_t offset = OffOr(call, Off(call.function));
    const bool first = fn == "first";
    if (call.member && !first && fn != "last") {
      return Error(Off(*call.member),
                   absl::StrCat("only first(...) and last(...) take a field "
                                "after them, not ",
                                fn, "(...)"));
    }
    if (first || fn == "last") {
      CEP_RETURN_IF_ERROR(ArgCount(call, 1));
      const ast::FieldRef* ref = AsRef(call.args[0]);
      if (ref == nullptr || ref->second || ref->first.text == "prev") {
        return Error(
            Off(call.args[0]),
            absl::StrCat(fn, " takes a stage name: ", fn, "(STAGE).FIELD"));
      }
      CEP_ASSIGN_OR_RETURN(size_t stage_idx, ResolveStage(ref->first));
      if (!call.member) {
        return Error(Off(call.function),
                     absl::StrCat(fn, "(", ref->first.text, ") needs a field: ",
                                  fn, "(", ref->first.text, ").FIELD"));
      }
      return StageField(stage_idx, first, *call.member, offset);
    }
    if (fn == "count") {
      CEP_RETURN_IF_ERROR(ArgCount(call, 1));
      const ast::FieldRef* ref = AsRef(call.args[0]);
      if (ref == nullptr || ref->second || ref->first.text == "prev") {
        return Error(Off(call.args[0]),
                     "count takes a stage name: count(STAGE)");
      }
      CEP_ASSIGN_OR_RETURN(size_t stage_idx, ResolveStage(ref->first));
      Typed t;
      t.node = std::make_unique<AggregateNode>(CountAggregate(stage_idx),
                                               AggregateNode::Kind::kCount);
      t.type = Type::kInt;
      t.iterative = true;
      t.offset = offset;
      return t;
    }
    if (fn == "sum" || fn == "avg" || fn == "min" || fn == "max") {
      CEP_RETURN_IF_ERROR(ArgCount(call, 1));
      const ast::FieldRef* ref = AsRef(call.args[0]);
      if (ref == nullptr || !ref->second || ref->first.text == "prev") {
        return Error(Off(call.args[0]),
                     absl::StrCat(fn, " takes a field of a stage: ", fn,
                                  "(STAGE.FIELD)"));
      }
      CEP_ASSIGN_OR_RETURN(size_t stage_idx, ResolveStage(ref->first));
      const StageInfo& stage = scope_.stages[stage_idx];
      CEP_ASSIGN_OR_RETURN(FieldAccess access,
                           ResolveField(*ref->second, stage.types, stage));
      if (!IsNumeric(access.type)) {
        return Error(
            Off(*ref->second),
            absl::StrCat(fn, " needs a numeric field; '", ref->second->text,
                         "' is ", Article(access.type)));
      }
      const AggregateNode::Kind kind = fn == "sum"   ? AggregateNode::Kind::kSum
                                       : fn == "avg" ? AggregateNode::Kind::kAvg
                                       : fn == "min"
                                           ? AggregateNode::Kind::kMin
                                           : AggregateNode::Kind::kMax;
      Typed t;
      t.node = std::make_unique<AggregateNode>(
          FieldAggregate(stage, ref->second->text, std::move(access)), kind);
      t.type = Type::kDouble;
      t.iterative = true;
      t.offset = offset;
      return t;
    }
    std::vector<Typed> args;
    auto check_args = [&]() -> absl::Status {
      for (const ast::Expr& arg : call.args) {
        CEP_ASSIGN_OR_RETURN(Typed t, Check(arg));
        t.offset = Off(arg);
        args.push_back(std::move(t));
      }
      return absl::OkStatus();
    };
    auto finish = [&](NodePtr node, Type type) {
      Typed t;
      t.node = std::move(node);
      t.type = type;
      t.constant = true;
      for (const Typed& arg : args) {
        t.constant = t.constant && arg.constant;
        t.iterative = t.iterative || arg.iterative;
      }
      t.offset = offset;
      return Fold(std::move(t));
    };
    if (fn == "contains" || fn == "starts_with" || fn == "ends_with") {
      CEP_RETURN_IF_ERROR(ArgCount(call, 2));
      CEP_RETURN_IF_ERROR(check_args());
      for (size_t arg_idx = 0; arg_idx < 2; ++arg_idx) {
        if (args[arg_idx].type != Type::kString) {
          return Error(
              args[arg_idx].offset,
              absl::StrCat(fn, " needs strings; argument ", arg_idx + 1, " is ",
                           Article(args[arg_idx].type)));
        }
      }
      NodePtr a = std::move(args[0].node);
      NodePtr b = std::move(args[1].node);
      NodePtr node;
      if (fn == "contains") {
        node = Binary(std::move(a), std::move(b), [](Val x, Val y) {
          return MakeBool(x.s.find(y.s) != std::string_view::npos);
        });
      } else if (fn == "starts_with") {
        node = Binary(std::move(a), std::move(b), [](Val x, Val y) {
          return MakeBool(x.s.substr(0, y.s.size()) == y.s);
        });
      } else {
        node = Binary(std::move(a), std::move(b), [](Val x, Val y) {
          return MakeBool(x.s.size() >= y.s.size() &&
                          x.s.substr(x.s.size() - y.s.size()) == y.s);
        });
      }
      return finish(std::move(node), Type::kBool);
    }
    if (fn == "abs") {
      CEP_RETURN_IF_ERROR(ArgCount(call, 1));
      CEP_RETURN_IF_ERROR(check_args());
      const Type type = args[0].type;
      NodePtr a = std::move(args[0].node);
      if (type == Type::kDouble) {
        return finish(Unary(std::move(a),
                            [](Val x) { return MakeDouble(std::fabs(x.d)); }),
                      type);
      }
      if (type == Type::kInt || type == Type::kDuration) {
        return finish(Unary(std::move(a),
                            [](Val x) {
                              if (x.i == std::numeric_limits<int64_t>::min()) {
                                return Null();
                              }
                              return MakeInt(x.i < 0 ? -x.i : x.i);
                            }),
                      type);
      }
      return Error(args[0].offset,
                   absl::StrCat("abs needs a number or a duration, not ",
                                Article(type)));
    }
    if (fn == "distance_km") {
      CEP_RETURN_IF_ERROR(ArgCount(call, 4));
      CEP_RETURN_IF_ERROR(check_args());
      std::vector<NodePtr> nodes;
      for (size_t arg_idx = 0; arg_idx < 4; ++arg_idx) {
        if (!IsNumeric(args[arg_idx].type)) {
          return Error(
              args[arg_idx].offset,
              absl::StrCat("distance_km needs numbers; argument ", arg_idx + 1,
                           " is ", Article(args[arg_idx].type)));
        }
        nodes.push_back(ToDouble(std::move(args[arg_idx])).node);
      }
      return finish(std::make_unique<DistanceNode>(std::move(nodes)),
                    Type::kDouble);
    }
    if (fn == "coalesce") {
      CEP_RETURN_IF_ERROR(ArgCount(call, 2));
      CEP_RETURN_IF_ERROR(check_args());
      Type type = args[0].type;
      if (type != args[1].type) {
        if (!IsNumeric(type) || !IsNumeric(args[1].type)) {
          return Error(args[1].offset,
                       absl::StrCat("coalesce needs two values of one type, "
                                    "not ",
                                    Article(args[0].type), " and ",
                                    Article(args[1].type)));
        }
        type = Type::kDouble;
        args[0] = ToDouble(std::move(args[0]));
        args[1] = ToDouble(std::move(args[1]));
      }
      const bool type_name = args[0].type_name && args[1].type_name;
      if (type == Type::kString) {
        // Not folded (views into its arguments), so keep it as is.
        Typed t;
        t.node = std::make_unique<CoalesceNode>(std::move(args[0].node),
                                                std::move(args[1].node));
        t.type = type;
        t.iterative = args[0].iterative || args[1].iterative;
        t.type_name = type_name;
        t.offset = offset;
        return t;
      }
      NodePtr node = std::make_unique<CoalesceNode>(std::move(args[0].node),
                                                    std::move(args[1].node));
      return finish(std::move(node), type);
    }
    return Error(Off(call.function),
                 absl::StrCat("unknown function '", fn, "'"));
  }

  // -- Aggregates -------------------------------------------------------------

  AggregateId CountAggregate(size_t stage_idx) {
    const std::string& stage = scope_.stages[stage_idx].name;
    for (size_t agg_idx = 0; agg_idx < scope_.aggregates.size(); ++agg_idx) {
      if (scope_.aggregates[agg_idx].stage == stage) {
        return AggregateId{static_cast<uint32_t>(agg_idx)};
      }
    }
    AggregateRequest request;
    request.stage = stage;
    scope_.aggregates.push_back(std::move(request));
    return AggregateId{static_cast<uint32_t>(scope_.aggregates.size() - 1)};
  }

  AggregateId FieldAggregate(const StageInfo& stage, const std::string& field,
                             FieldAccess access) {
    for (size_t agg_idx = 0; agg_idx < scope_.aggregates.size(); ++agg_idx) {
      const AggregateRequest& request = scope_.aggregates[agg_idx];
      if (request.stage == stage.name && request.field == field) {
        return AggregateId{static_cast<uint32_t>(agg_idx)};
      }
    }
    AggregateRequest request;
    request.stage = stage.name;
    request.field = field;
    request.field_index = std::move(access.table);
    request.type = access.field_type;
    scope_.aggregates.push_back(std::move(request));
    return AggregateId{static_cast<uint32_t>(scope_.aggregates.size() - 1)};
  }

  // -- Operators --------------------------------------------------------------

  absl::StatusOr<Typed> CheckNode(const ast::Unary& unary) {
    CEP_ASSIGN_OR_RETURN(Typed a, Check(unary.operand));
    const size_t offset = OffOr(unary, a.offset);
    if (unary.op == "not") {
      if (a.type != Type::kBool) {
        return Error(a.offset, absl::StrCat("'not' needs a boolean, not ",
                                            Article(a.type)));
      }
      a.node = Unary(std::move(a.node), [](Val x) { return MakeBool(!x.b); });
    } else if (a.type == Type::kDouble) {
      a.node = Unary(std::move(a.node), [](Val x) { return MakeDouble(-x.d); });
    } else if (a.type == Type::kInt || a.type == Type::kDuration) {
      a.node = Unary(std::move(a.node), [](Val x) {
        if (x.i == std::numeric_limits<int64_t>::min()) return Null();
        return MakeInt(-x.i);
      });
    } else {
      return Error(offset, absl::StrCat("cannot negate ", Article(a.type)));
    }
    a.offset = offset;
    a.type_name = false;
    return Fold(std::move(a));
  }

  absl::StatusOr<Typed> CheckNode(const ast::Chain& chain) {
    if (!chain.rest.empty() &&
        (chain.rest.front().op == "and" || chain.rest.front().op == "or")) {
      return CheckLogical(chain);
    }
    if (chain.rest.size() > kMaxOperations) {
      const ast::Operation& extra = chain.rest[kMaxOperations];
      return Error(OffOr(extra, ExprOffset(*scope_.parsed, extra.operand)),
                   absl::StrCat("more than ", kMaxOperations,
                                " operations in a row; split the expression"));
    }
    CEP_ASSIGN_OR_RETURN(Typed acc, Check(chain.first));
    for (size_t op_idx = 0; op_idx < chain.rest.size(); ++op_idx) {
      const ast::Operation& operation = chain.rest[op_idx];
      CEP_ASSIGN_OR_RETURN(Typed rhs, Check(operation.operand));
      const size_t op_offset = OffOr(operation, rhs.offset);
      if (IsComparison(operation.op) && op_idx > 0) {
        return Error(op_offset,
                     "comparisons do not chain; join them with 'and'");
      }
      CEP_ASSIGN_OR_RETURN(
          acc, Apply(operation.op, op_offset, std::move(acc), std::move(rhs)));
    }
    return acc;
  }

  // `a and b and ...` or `a or b or ...` (a chain has one operator): one
  // LogicalNode over all operands.
  absl::StatusOr<Typed> CheckLogical(const ast::Chain& chain) {
    const std::string& op = chain.rest.front().op;
    auto needs_bool = [&](const Typed& side) -> absl::Status {
      if (side.type == Type::kBool) return absl::OkStatus();
      return Error(side.offset, absl::StrCat("'", op, "' needs a boolean, not ",
                                             Article(side.type)));
    };
    CEP_ASSIGN_OR_RETURN(Typed first, Check(chain.first));
    Typed acc;
    acc.type = Type::kBool;
    acc.constant = first.constant;
    acc.iterative = first.iterative;
    acc.offset = first.offset;
    std::vector<NodePtr> operands;
    operands.reserve(chain.rest.size() + 1);
    for (size_t op_idx = 0; op_idx < chain.rest.size(); ++op_idx) {
      CEP_ASSIGN_OR_RETURN(Typed rhs, Check(chain.rest[op_idx].operand));
      if (op_idx == 0) {
        CEP_RETURN_IF_ERROR(needs_bool(first));
        operands.push_back(std::move(first.node));
      }
      CEP_RETURN_IF_ERROR(needs_bool(rhs));
      acc.constant = acc.constant && rhs.constant;
      acc.iterative = acc.iterative || rhs.iterative;
      operands.push_back(std::move(rhs.node));
    }
    acc.node = std::make_unique<LogicalNode>(op == "and", std::move(operands));
    return Fold(std::move(acc));
  }

  absl::StatusOr<Typed> Apply(const std::string& op, size_t op_offset, Typed a,
                              Typed b) {
    if (IsComparison(op))
      return Comparison(op, op_offset, std::move(a), std::move(b));
    return Arithmetic(op, op_offset, std::move(a), std::move(b));
  }

  // `type == "Login"`: the literal must name one of the pattern's types.
  absl::Status CheckTypeName(const Typed& value, const Typed& literal) {
    if (!value.type_name || !literal.constant ||
        literal.type != Type::kString) {
      return absl::OkStatus();
    }
    const Val name = literal.node->Eval(Record(), nullptr);
    std::vector<std::string> names;
    for (const Schema* schema : scope_.types) {
      if (schema->name() == name.s) return absl::OkStatus();
      names.push_back(schema->name());
    }
    return Error(
        literal.offset,
        absl::StrCat("'", absl::string_view(name.s.data(), name.s.size()),
                     "' is not a type of this pattern (",
                     absl::StrJoin(names, ", "), ")"));
  }

  absl::StatusOr<Typed> Comparison(const std::string& op, size_t op_offset,
                                   Typed a, Typed b) {
    const Type ta = a.type;
    const Type tb = b.type;
    NodePtr node;
    if (IsNumeric(ta) && IsNumeric(tb)) {
      if (ta == Type::kInt && tb == Type::kInt) {
        node = CompareNode(op, std::move(a.node), std::move(b.node), kGetInt);
      } else {
        a = ToDouble(std::move(a));
        b = ToDouble(std::move(b));
        node =
            CompareNode(op, std::move(a.node), std::move(b.node), kGetDouble);
      }
    } else if (ta != tb) {
      return Error(op_offset, absl::StrCat("cannot compare ", Article(ta),
                                           " with ", Article(tb)));
    } else if (ta == Type::kString) {
      CEP_RETURN_IF_ERROR(CheckTypeName(a, b));
      CEP_RETURN_IF_ERROR(CheckTypeName(b, a));
      node = CompareNode(op, std::move(a.node), std::move(b.node), kGetString);
    } else if (ta == Type::kBool) {
      if (op != "==" && op != "!=") {
        return Error(op_offset, absl::StrCat("cannot order booleans with '", op,
                                             "'; they compare with == and !="));
      }
      node = CompareNode(op, std::move(a.node), std::move(b.node), kGetBool);
    } else {
      // timestamps with timestamps, durations with durations
      node = CompareNode(op, std::move(a.node), std::move(b.node), kGetInt);
    }
    return Combine(std::move(a), std::move(b), std::move(node), Type::kBool);
  }

  absl::StatusOr<Typed> Arithmetic(const std::string& op, size_t op_offset,
                                   Typed a, Typed b) {
    const Type ta = a.type;
    const Type tb = b.type;
    auto error = [&]() {
      return Error(op_offset, absl::StrCat("cannot apply '", op, "' to ",
                                           Article(ta), " and ", Article(tb)));
    };
    // Integer-valued results (int, timestamp, duration) that overflow are
    // null rather than undefined.
    auto add = [](Val x, Val y) {
      int64_t r;
      return __builtin_add_overflow(x.i, y.i, &r) ? Null() : MakeInt(r);
    };
    auto sub = [](Val x, Val y) {
      int64_t r;
      return __builtin_sub_overflow(x.i, y.i, &r) ? Null() : MakeInt(r);
    };
    auto mul = [](Val x, Val y) {
      int64_t r;
      return __builtin_mul_overflow(x.i, y.i, &r) ? Null() : MakeInt(r);
    };
    NodePtr node;
    Type type = Type::kInt;
    if (IsNumeric(ta) && IsNumeric(tb)) {
      if (op == "/") {
        a = ToDouble(std::move(a));
        b = ToDouble(std::move(b));
        node = Binary(std::move(a.node), std::move(b.node), [](Val x, Val y) {
          return y.d == 0 ? Null() : MakeDouble(x.d / y.d);
        });
        type = Type::kDouble;
      } else if (ta == Type::kInt && tb == Type::kInt) {
        if (op == "+") node = Binary(std::move(a.node), std::move(b.node), add);
        if (op == "-") node = Binary(std::move(a.node), std::move(b.node), sub);
        if (op == "*") node = Binary(std::move(a.node), std::move(b.node), mul);
        type = Type::kInt;
      } else {
        a = ToDouble(std::move(a));
        b = ToDouble(std::move(b));
        if (op == "+") {
          node = Binary(std::move(a.node), std::move(b.node),
                        [](Val x, Val y) { return MakeDouble(x.d + y.d); });
        } else if (op == "-") {
          node = Binary(std::move(a.node), std::move(b.node),
                        [](Val x, Val y) { return MakeDouble(x.d - y.d); });
        } else {
          node = Binary(std::move(a.node), std::move(b.node),
                        [](Val x, Val y) { return MakeDouble(x.d * y.d); });
        }
        type = Type::kDouble;
      }
    } else if (op == "+" || op == "-") {
      // timestamp ± duration, duration ± duration, duration + timestamp,
      // timestamp - timestamp.
      if (ta == Type::kTimestamp && tb == Type::kDuration) {
        type = Type::kTimestamp;
      } else if (ta == Type::kDuration && tb == Type::kDuration) {
        type = Type::kDuration;
      } else if (op == "+" && ta == Type::kDuration && tb == Type::kTimestamp) {
        type = Type::kTimestamp;
      } else if (op == "-" && ta == Type::kTimestamp &&
                 tb == Type::kTimestamp) {
        type = Type::kDuration;
      } else {
        return error();
      }
      node = op == "+" ? Binary(std::move(a.node), std::move(b.node), add)
                       : Binary(std::move(a.node), std::move(b.node), sub);
    } else if (op == "*") {
      // duration * number, number * duration
      Typed* duration = ta == Type::kDuration ? &a : &b;
      Typed* number = ta == Type::kDuration ? &b : &a;
      if (duration->type != Type::kDuration || !IsNumeric(number->type)) {
        return error();
      }
      if (number->type == Type::kInt) {
        node = Binary(std::move(duration->node), std::move(number->node), mul);
      } else {
        node = Binary(std::move(duration->node), std::move(number->node),
                      [](Val x, Val y) {
                        const double r = static_cast<double>(x.i) * y.d;
                        if (!(std::fabs(r) < 9.2e18)) return Null();
                        return MakeInt(std::llround(r));
                      });
      }
      type = Type::kDuration;
    } else if (op == "/" && ta == Type::kDuration && tb == Type::kDuration) {
      node = Binary(std::move(a.node), std::move(b.node), [](Val x, Val y) {
        return y.i == 0 ? Null()
                        : MakeDouble(static_cast<double>(x.i) /
                                     static_cast<double>(y.i));
      });
      type = Type::kDouble;
    } else {
      return error();
    }
    return Combine(std::move(a), std::move(b), std::move(node), type);
  }

  absl::StatusOr<Typed> CheckNode(const ast::InTest& test) {
    CEP_ASSIGN_OR_RETURN(Typed value, Check(test.value));
    const size_t offset = OffOr(test, value.offset);
    std::vector<Typed> items;
    bool any_double = value.type == Type::kDouble;
    for (const ast::Expr& item_expr : test.items) {
      CEP_ASSIGN_OR_RETURN(Typed item, Check(item_expr));
      item.offset = Off(item_expr);
      if (!item.constant) {
        return Error(item.offset, "'in' takes a list of literals");
      }
      const bool numeric = IsNumeric(value.type) && IsNumeric(item.type);
      if (!numeric && item.type != value.type) {
        return Error(item.offset,
                     absl::StrCat("cannot compare ", Article(value.type),
                                  " with ", Article(item.type)));
      }
      CEP_RETURN_IF_ERROR(CheckTypeName(value, item));
      any_double = any_double || item.type == Type::kDouble;
      items.push_back(std::move(item));
    }
    Type type = value.type;
    if (IsNumeric(type) && any_double) {
      type = Type::kDouble;
      value = ToDouble(std::move(value));
    }
    std::vector<Val> vals;
    std::vector<std::string> strings;
    bool has_null = false;
    const Record empty;
    for (Typed& item : items) {
      if (type == Type::kDouble) item = ToDouble(std::move(item));
      const Val v = item.node->Eval(empty, nullptr);
      if (v.null) {
        has_null = true;
      } else if (type == Type::kString) {
        strings.emplace_back(v.s);
      } else {
        vals.push_back(v);
      }
    }
    Typed t;
    t.node =
        std::make_unique<InNode>(std::move(value.node), type, std::move(vals),
                                 std::move(strings), test.negated, has_null);
    t.type = Type::kBool;
    t.constant = value.constant;
    t.iterative = value.iterative;
    t.offset = offset;
    return Fold(std::move(t));
  }

  PatternScope& scope_;
  size_t stage_index_;
};

struct OffsetVisitor {
  using result_type = size_t;
  const ParsedFile* parsed;
  template <typename T>
  size_t operator()(const ast::x3::forward_ast<T>& node) const {
    return Of(node.get());
  }
  template <typename T>
  size_t operator()(const T& node) const {
    return parsed->OffsetOf(node);
  }
  size_t Of(const ast::Chain& chain) const {
    return chain.id_first >= 0 ? parsed->OffsetOf(chain)
                               : chain.first.apply_visitor(*this);
  }
  size_t Of(const ast::InTest& test) const {
    return test.id_first >= 0 ? parsed->OffsetOf(test)
                              : test.value.apply_visitor(*this);
  }
  size_t Of(const ast::FieldRef& ref) const {
    return ref.id_first >= 0 ? parsed->OffsetOf(ref)
                             : parsed->OffsetOf(ref.first);
  }
  size_t Of(const ast::Call& call) const {
    return call.id_first >= 0 ? parsed->OffsetOf(call)
                              : parsed->OffsetOf(call.function);
  }
  size_t Of(const ast::Unary& unary) const { return parsed->OffsetOf(unary); }
};

bool IsIdentStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_';
}
bool IsIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}
bool IsBlank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
         c == '\v';
}

}  // namespace

size_t ExprOffset(const ParsedFile& parsed, const ast::Expr& expr) {
  return expr.apply_visitor(OffsetVisitor{&parsed});
}

absl::StatusOr<int64_t> DurationMillis(const Source& source,
                                       const ParsedFile& parsed,
                                       const ast::DurationLiteral& duration) {
  int64_t unit = 0;
  if (duration.unit == "ms") unit = 1;
  if (duration.unit == "s") unit = 1000;
  if (duration.unit == "m") unit = 60 * 1000;
  if (duration.unit == "h") unit = 60 * 60 * 1000;
  if (duration.unit == "d") unit = 24 * 60 * 60 * 1000;
  if (unit == 0) {
    return source.Error(parsed.OffsetOf(duration),
                        absl::StrCat("unknown duration unit '", duration.unit,
                                     "'; use ms, s, m, h or d"));
  }
  int64_t ms = 0;
  if (__builtin_mul_overflow(duration.amount, unit, &ms)) {
    return source.Error(parsed.OffsetOf(duration), "duration is too long");
  }
  return ms;
}

absl::StatusOr<CompiledCondition> CompileCondition(const ast::Expr& expr,
                                                   PatternScope& scope,
                                                   size_t stage_index) {
  Checker checker(scope, stage_index);
  CEP_ASSIGN_OR_RETURN(Typed t, checker.Check(expr));
  const size_t offset = ExprOffset(*scope.parsed, expr);
  if (t.type != Type::kBool) {
    return scope.source->Error(
        offset,
        absl::StrCat("condition must be a boolean, not ", Article(t.type)));
  }
  CompiledCondition compiled;
  compiled.root = std::shared_ptr<const ExprNode>(std::move(t.node));
  compiled.iterative = t.iterative;
  compiled.text = ConditionText(scope.source->text(), offset);
  return compiled;
}

double AggregateInput(const AggregateRequest& request, const Record& event) {
  if (request.field_index.empty()) return 0;
  const Val v = ReadField(event, request.field_index, Type::kDouble);
  return v.null ? 0 : v.d;
}

std::string ConditionText(std::string_view text, size_t start) {
  start = std::min(start, text.size());
  // The grammar may place a parenthesised condition at its first token
  // inside the parentheses: include the opening ones.
  size_t begin = start;
  for (size_t pos = start; pos > 0;) {
    --pos;
    if (text[pos] == '(') {
      begin = pos;
    } else if (!IsBlank(text[pos])) {
      break;
    }
  }
  // Scan tokens up to what ends a condition: a clause or connector keyword,
  // a `}`, or a `)` closing a group.
  auto word_at = [&](size_t pos) {
    size_t end = pos;
    while (end < text.size() && IsIdentChar(text[end])) ++end;
    return text.substr(pos, end - pos);
  };
  auto skip_blanks = [&](size_t pos) {
    while (pos < text.size()) {
      if (IsBlank(text[pos])) {
        ++pos;
      } else if (text.substr(pos, 2) == "//") {
        while (pos < text.size() && text[pos] != '\n') ++pos;
      } else if (text.substr(pos, 2) == "/*") {
        const size_t close = text.find("*/", pos + 2);
        pos = close == std::string_view::npos ? text.size() : close + 2;
      } else {
        break;
      }
    }
    return pos;
  };
  std::string out;
  bool pending_space = false;
  int depth = 0;
  size_t pos = begin;
  while (true) {
    const size_t next = skip_blanks(pos);
    if (next != pos) pending_space = true;
    pos = next;
    if (pos >= text.size()) break;
    const char c = text[pos];
    size_t end = pos + 1;
    if (c == '}') break;
    if (c == '(') ++depth;
    if (c == ')') {
      if (depth == 0) break;
      --depth;
    }
    if (c == '"') {
      while (end < text.size() && text[end] != '"') {
        end += text[end] == '\\' ? 2 : 1;
      }
      end = std::min(end + 1, text.size());
    } else if (IsIdentStart(c)) {
      const std::string_view word = word_at(pos);
      if (depth == 0) {
        if (word == "until" || word == "within" || word == "begin" ||
            word == "next" || word == "followed") {
          break;
        }
        if (word == "not") {
          const std::string_view after =
              word_at(skip_blanks(pos + word.size()));
          if (after == "next" || after == "followed") break;
        }
      }
      end = pos + word.size();
    } else if (std::isdigit(static_cast<unsigned char>(c)) != 0) {
      while (end < text.size() &&
             (IsIdentChar(text[end]) || text[end] == '.' ||
              ((text[end] == '+' || text[end] == '-') &&
               (text[end - 1] == 'e' || text[end - 1] == 'E')))) {
        ++end;
      }
    }
    if (pending_space && !out.empty()) out += ' ';
    pending_space = false;
    out.append(text.substr(pos, end - pos));
    pos = end;
  }
  return out;
}

}  // namespace cep::dsl
