// The Spirit X3 grammar of .cep files: declarations only. The rules are
// defined in grammar_def.hpp and instantiated once, in grammar.cpp, with the
// iterator and context of config.hpp. Parse() (parser.hpp) is the only
// caller.
#pragma once

#include <boost/spirit/home/x3.hpp>

#include "ast.hpp"
#include "ast_adapted.hpp"
#include "config.hpp"

namespace cep::dsl::grammar {

namespace x3 = boost::spirit::x3;

// A whole file: declarations up to the end of the text. Its on_error turns
// the first expectation failure into the Diagnostic of the context.
struct file_class;
using file_type = x3::rule<file_class, ast::File>;
BOOST_SPIRIT_DECLARE(file_type);

// The top rule, for x3::phrase_parse with `skipper` and `context_type`.
file_type const& file();

}  // namespace cep::dsl::grammar
