// src/sql/to_cep.hpp — a MATCH_RECOGNIZE query (match_recognize.hpp) as a
// pattern file of the language (.cep): what `cep import-sql` prints.
//
// The translation follows Flink SQL's own (StreamExecMatch's PatternVisitor):
// consecutive variables are `next` (SQL rows of a match are consecutive in
// their partition), quantifiers are `consecutive` and `greedy` unless
// reluctant, PARTITION BY is the key, ORDER BY the time field, WITHIN the
// pattern's window. DEFINE conditions become `where` conditions; SQL's
// running semantics (the current row is part of its variable) are rewritten
// to the language's (a condition sees only rows taken before), for example
// SUM(A.x) in A's DEFINE is `sum(A.x) + x`. What has no equivalent is
// refused with the clause and place: see README "Importing MATCH_RECOGNIZE".
//
// Example:
//   absl::StatusOr<std::string> cep_text = sql::ImportMatchRecognize(
//       sql_text, {.source_name = "drop.sql", .pattern_name = "drop"});
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

#include "match_recognize.hpp"

namespace cep::sql {

struct ImportOptions {
  // The SQL file's name: named in the generated file's opening comment and
  // in error messages ("drop.sql:3:7: error: ...").
  std::string source_name = "<input>";
  // The name of the generated pattern. Default: "imported".
  std::string pattern_name = "imported";
};

// Translates a parsed query. Errors: kInvalidArgument, one line
// "FILE:LINE:COL: error: cannot import CLAUSE: WHY".
[[nodiscard]] absl::StatusOr<std::string> TranslateMatchRecognize(
    const Query& query, const ImportOptions& options);

// Parses `sql`, translates it and checks the result with the pattern
// language's own parser (ParsePatternFile), so what it returns passes
// `cep check`. Errors: those of ParseMatchRecognize and
// TranslateMatchRecognize, and "cannot import DEFINE of 'V': ..." when a
// generated condition does not check (a type error in the SQL condition).
[[nodiscard]] absl::StatusOr<std::string> ImportMatchRecognize(
    std::string_view sql, const ImportOptions& options);

// A pattern name from a file path: its stem with characters that cannot be
// in a name turned into '_' ("price-drop.sql" -> "price_drop"); "imported"
// when nothing usable remains or the stem is a reserved word.
std::string PatternNameFromPath(std::string_view path);

// Whether `name` can name an event, field, stage or pattern in a .cep file.
bool IsCepName(std::string_view name);

}  // namespace cep::sql
