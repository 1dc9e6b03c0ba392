#include "parser.hpp"

#include <exception>
#include <functional>
#include <iterator>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include <boost/spirit/home/x3.hpp>

#include "ast.hpp"
#include "config.hpp"
#include "grammar.hpp"

namespace cep::dsl {
namespace {

namespace x3 = boost::spirit::x3;

// The header word of a clause, as the user wrote it.
struct ClauseWord {
  const char* operator()(const ast::KeyClause&) const { return "key"; }
  const char* operator()(const ast::WithinClause&) const { return "within"; }
  const char* operator()(const ast::SkipClause&) const { return "after match"; }
  const char* operator()(const ast::CapClause&) const {
    return "max partial matches";
  }
};

// Header clauses come in any order but each at most once; the grammar
// accepts any sequence, so repeats are found here.
absl::Status CheckHeaderClauses(const Source& source,
                                const ParsedFile& parsed) {
  for (const ast::Declaration& declaration : parsed.file().declarations) {
    const auto* pattern = boost::get<ast::PatternDecl>(&declaration.get());
    if (pattern == nullptr) continue;
    for (size_t clause_idx = 0; clause_idx < pattern->clauses.size();
         ++clause_idx) {
      const ast::HeaderClause& clause = pattern->clauses[clause_idx];
      for (size_t earlier_idx = 0; earlier_idx < clause_idx; ++earlier_idx) {
        if (pattern->clauses[earlier_idx].get().which() !=
            clause.get().which()) {
          continue;
        }
        const ast::Node& node = boost::apply_visitor(
            [](const auto& c) -> const ast::Node& { return c; }, clause.get());
        return source.Error(
            parsed.OffsetOf(node),
            absl::StrCat("the pattern header has a second '",
                         boost::apply_visitor(ClauseWord(), clause.get()),
                         "' clause"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ParsedFile> Parse(const Source& source) {
  const std::string& text = source.text();
  grammar::iterator_type first = text.begin();
  const grammar::iterator_type last = text.end();

  // x3::error_handler keeps the positions annotate_on_success records; its
  // own printed messages are not used (Diagnostic and Source::Error are).
  std::ostringstream unused_output;
  grammar::error_handler_type handler(first, last, unused_output,
                                      source.filename());
  grammar::Diagnostic diag;
  ast::File file;
  // The context these build is grammar::context_type, the one grammar.cpp
  // instantiates the top rule for.
  const auto with_handler =
      x3::with<x3::error_handler_tag>(std::ref(handler))[grammar::file()];
  const auto parser = x3::with<grammar::diag_tag>(std::ref(diag))[with_handler];

  bool parsed = false;
  try {
    parsed = x3::phrase_parse(first, last, parser, grammar::skipper, file);
  } catch (const x3::expectation_failure<grammar::iterator_type>& failure) {
    // The top rule's on_error takes every expectation failure from inside
    // the grammar; this is a safety net, not a path tests reach.
    return source.Error(
        static_cast<size_t>(std::distance(text.begin(), failure.where())),
        absl::StrCat("expected ", failure.which()));
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat(source.filename(), ": parser failed: ", e.what()));
  }
  if (diag.failed) return source.Error(diag.offset, diag.message);
  if (!parsed || first != last) {
    // The top rule ends with an expectation of the end of input, so this
    // does not happen; report it the same way if it does.
    return source.Error(static_cast<size_t>(std::distance(text.begin(), first)),
                        "expected 'event' or 'pattern'");
  }

  std::vector<size_t> offsets;
  const auto& positions = handler.get_position_cache().get_positions();
  offsets.reserve(positions.size());
  for (const grammar::iterator_type& position : positions) {
    offsets.push_back(
        static_cast<size_t>(std::distance(text.begin(), position)));
  }
  ParsedFile result(std::move(file), std::move(offsets));
  if (absl::Status status = CheckHeaderClauses(source, result); !status.ok()) {
    return status;
  }
  return result;
}

}  // namespace cep::dsl
