// The types the grammar (grammar.hpp) is instantiated with: the iterator, the
// skipper (blanks and comments), and the parse context. grammar.cpp
// instantiates the top rule with exactly `context_type`, and parser.cpp must
// call it with exactly that context, or the link fails.
//
// The context carries, outermost first, the x3::error_handler (which
// annotate_on_success uses to record node positions) and the Diagnostic the
// top rule's on_error fills in.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <type_traits>

#include <boost/spirit/home/x3.hpp>
#include <boost/spirit/home/x3/support/utility/error_reporting.hpp>

namespace cep::dsl::grammar {

namespace x3 = boost::spirit::x3;

using iterator_type = std::string::const_iterator;

// Blanks, `// ...` to the end of the line and `/* ... */`. An unterminated
// `/*` is not skipped, so the next parser fails right at it and the error
// handler reports it (see on_error in grammar_def.hpp).
// clang-format off
inline auto const skipper =
    x3::ascii::space
  | (x3::lit("//") >> *(x3::char_ - x3::eol))
  | (x3::lit("/*") >> *(x3::char_ - x3::lit("*/")) >> x3::lit("*/"));
// clang-format on
using skipper_type = std::remove_const_t<decltype(skipper)>;

// A syntax error whose message is complete ("expected a condition after
// 'where'", "'next' is a reserved word ..."), thrown by the grammar's own
// expectation points. Plain x3::expectation_failure, if one escapes, carries
// only what was expected, and gets "expected " put in front.
template <typename Iterator>
struct syntax_error : x3::expectation_failure<Iterator> {
  syntax_error(Iterator where, std::string message)
      : x3::expectation_failure<Iterator>(where, std::move(message)) {}
};

// The first syntax error, as the top rule's on_error records it.
struct Diagnostic {
  bool failed = false;
  size_t offset = 0;  // byte offset, after blanks and comments
  std::string message;
  int depth = 0;  // nesting of parentheses, groups, calls, `not` and `-`
};

struct diag_tag;

using error_handler_type = x3::error_handler<iterator_type>;
using phrase_context_type = x3::phrase_parse_context<skipper_type>::type;
using context_type =
    x3::context<x3::error_handler_tag,
                std::reference_wrapper<error_handler_type>,
                x3::context<diag_tag, std::reference_wrapper<Diagnostic>,
                            phrase_context_type>>;

}  // namespace cep::dsl::grammar
