// src/sql/match_recognize.hpp — SQL:2016 row pattern recognition
// (MATCH_RECOGNIZE) as a syntax tree, and a hand-written parser for it.
//
// What `cep import-sql` reads: optional `CREATE TABLE` statements (their
// column types become the event's field types), then one query
//   [INSERT INTO sink] SELECT ... FROM table MATCH_RECOGNIZE ( ... ) [AS] [t]
// Keywords are case-insensitive; identifiers unquoted (case-insensitive, as
// SQL compares them) or in double quotes or backquotes (case-sensitive);
// strings in single quotes ('' is a quote); comments `--` and `/* */`.
// The parser keeps every clause it reads, also those the translation
// (to_cep.hpp) refuses, so that the refusal names the clause.
//
// Example:
//   absl::StatusOr<sql::Query> query =
//       sql::ParseMatchRecognize(text, "price_drop.sql");
//   // error: "price_drop.sql:7:5: error: expected 'PATTERN'"
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace cep::sql {

// A place in the SQL text, 1-based.
struct Pos {
  size_t line = 1;
  size_t col = 1;
};

// An identifier as written. SQL compares unquoted identifiers without case.
struct Ident {
  std::string text;
  bool quoted = false;
  Pos pos;

  // The name to compare with: upper case unless quoted.
  std::string Key() const;
};

// A value expression of DEFINE.
struct Expr {
  enum class Kind {
    kNumber,    // text: as written ("2.5")
    kString,    // text: the value, quotes removed
    kBool,      // text: "TRUE" or "FALSE"
    kNull,      // NULL
    kInterval,  // INTERVAL '10' MINUTE; interval_ms
    kColumn,    // [qualifier.]name; qualifier.text empty when none;
                // name.text "*" for `A.*` and `*` (COUNT only)
    kCall,      // function (upper case) (args); distinct for SUM(DISTINCT..)
    kUnary,     // op: "-", "+", "NOT"; args[0]
    kBinary,    // op: "OR" "AND" "=" "<>" "<" "<=" ">" ">=" "+" "-" "*"
                // "/" "%" "||" "LIKE"; args[0], args[1]
    kIsNull,    // args[0] IS [NOT] NULL
    kBetween,   // args[0] [NOT] BETWEEN args[1] AND args[2]
    kIn,        // args[0] [NOT] IN (args[1..])
  };
  Kind kind = Kind::kNumber;
  Pos pos;
  std::string text;
  std::string op;
  Ident qualifier;
  Ident name;
  bool negated = false;
  bool distinct = false;
  int64_t interval_ms = 0;
  std::vector<Expr> args;
  // Levels of the tree from here down (1 for a leaf); the parser refuses
  // conditions deeper than 1000, so walking one recursively is safe.
  int depth = 1;
};

// A quantifier of PATTERN: {min, max}; max -1 is unbounded.
struct Quantifier {
  bool present = false;
  int64_t min = 1;
  int64_t max = 1;
  bool reluctant = false;
  Pos pos;
  std::string text;  // as written: "+", "{2,}?"
};

// A node of PATTERN.
struct PatternNode {
  enum class Kind {
    kVariable,     // var
    kSequence,     // items, in order (a parenthesised group, or the whole)
    kAlternation,  // items are the alternatives (each a kSequence)
    kPermute,      // PERMUTE(...)
    kAnchor,       // ^ or $
    kExclusion,    // {- ... -}
  };
  Kind kind = Kind::kVariable;
  Pos pos;
  Ident var;
  std::vector<PatternNode> items;
  Quantifier quantifier;
  bool parenthesised = false;  // a kSequence written in parentheses
};

struct Measure {
  std::string text;  // the expression and its alias, as written
  Pos pos;
};

struct Define {
  Ident var;
  Expr condition;
  Pos condition_pos;  // where the condition starts
};

struct ColumnDef {
  Ident name;
  std::string type;  // upper case first word: "DOUBLE", "TIMESTAMP"
  Pos type_pos;
};

struct TableDef {
  Ident name;
  std::vector<ColumnDef> columns;
};

struct Query {
  std::vector<TableDef> tables;  // CREATE TABLE statements before the query
  std::string text;              // the query, from SELECT to its end
  Pos select_pos;
  Ident table;  // FROM table (the last part of a dotted name)
  Pos match_recognize_pos;
  std::vector<Ident> partition_by;
  Pos partition_by_pos;
  struct OrderItem {
    Ident column;
    bool descending = false;
    Pos direction_pos;
  };
  std::vector<OrderItem> order_by;
  Pos order_by_pos;
  std::vector<Measure> measures;
  enum class Rows { kDefault, kOneRow, kAllRows };
  Rows rows = Rows::kDefault;
  Pos rows_pos;
  std::string rows_extra;  // "SHOW EMPTY MATCHES" and the like after ALL ROWS
  enum class Skip {
    kDefault,
    kPastLastRow,
    kToNextRow,
    kToFirst,
    kToLast,
  };
  Skip skip = Skip::kDefault;
  Ident skip_var;
  Pos skip_pos;
  PatternNode pattern;  // kSequence
  Pos pattern_pos;
  std::optional<Expr> within;  // kInterval
  std::optional<Pos> subset_pos;
  std::vector<Define> defines;
  Pos define_pos;
  Ident alias;  // `) AS t`; empty text when none
};

// Parses `text`. Errors: kInvalidArgument "FILE:LINE:COL: error: MESSAGE"
// (one line) for text that is not such a query.
[[nodiscard]] absl::StatusOr<Query> ParseMatchRecognize(
    std::string_view text, std::string_view filename);

}  // namespace cep::sql
