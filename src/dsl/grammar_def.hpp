// The Spirit X3 grammar of .cep files: definitions. Included only by
// grammar.cpp. The language is /work/spec/language.md; the tree it builds is
// ast.hpp.
//
// Sections: helpers (keywords, expectation points with whole messages),
// rule IDs, rule declarations, rule definitions (lexical, conditions,
// stages, declarations), then the top rule's error handling.
//
// Every expectation point is `must(MESSAGE)[parser]`: once a keyword or
// separator has been read, the thing after it must follow, and if it does
// not, the error names it at the column where it should start.
#pragma once

#include <cctype>
#include <cstdint>
#include <iterator>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/spirit/home/x3.hpp>
#include <boost/spirit/home/x3/support/utility/annotate_on_success.hpp>
#include <boost/spirit/home/x3/support/utility/lambda_visitor.hpp>

#include "ast.hpp"
#include "ast_adapted.hpp"
#include "config.hpp"
#include "grammar.hpp"

namespace cep::dsl::grammar {

namespace x3 = boost::spirit::x3;

// -- Helpers ------------------------------------------------------------------

// A character that may continue an identifier. ASCII classes: the standard
// ones assert on bytes above 127.
inline auto const ident_char = x3::ascii::alnum | x3::lit('_');

// A word of the language: `and` but not the start of `android`.
inline auto kw(char const* word) {
  return x3::lexeme[x3::lit(word) >> !ident_char];
}

// The reserved words of the language; none of them is an identifier.
struct reserved_words_table : x3::symbols<x3::unused_type> {
  reserved_words_table() {
    for (char const* word :
         {"and",    "or",          "not",         "in",    "true",
          "false",  "prev",        "begin",       "next",  "followed",
          "by",     "any",         "where",       "until", "within",
          "greedy", "consecutive", "combination", "event", "pattern"}) {
      add(word);
    }
  }
};
inline reserved_words_table const reserved_words;
inline auto const reserved_word = x3::lexeme[reserved_words >> !ident_char];

// must(MESSAGE)[p]: p, or a syntax_error "expected MESSAGE" at the (skipped)
// position where p should have started. MESSAGE is a string, or a callable
// taking the attribute of the enclosing rule as parsed so far (so a message
// can quote an earlier word: "expected a field type after 'card'").
template <typename Subject, typename Message>
struct must_directive
    : x3::unary_parser<Subject, must_directive<Subject, Message>> {
  using base_type = x3::unary_parser<Subject, must_directive<Subject, Message>>;
  static bool const is_pass_through_unary = true;

  constexpr must_directive(Subject const& subject, Message message)
      : base_type(subject), message(std::move(message)) {}

  template <typename Iterator, typename Context, typename RContext,
            typename Attribute>
  bool parse(Iterator& first, Iterator const& last, Context const& context,
             RContext& rcontext, Attribute& attr) const {
    if (this->subject.parse(first, last, context, rcontext, attr)) {
      return true;
    }
    Iterator where = first;
    x3::skip_over(where, last, context);
    if constexpr (std::is_invocable_v<Message const&, RContext const&>) {
      throw syntax_error<Iterator>(where, "expected " + message(rcontext));
    } else {
      throw syntax_error<Iterator>(where, std::string("expected ") + message);
    }
  }

  Message message;
};

template <typename Message>
struct must_gen {
  template <typename Subject>
  constexpr must_directive<
      typename x3::extension::as_parser<Subject>::value_type, Message>
  operator[](Subject const& subject) const {
    return {x3::as_parser(subject), message};
  }
  Message message;
};

template <typename Message>
constexpr must_gen<Message> must(Message message) {
  return {std::move(message)};
}

// nested[p]: p, one level deeper. Parentheses, groups, calls, `not` and
// unary `-` recurse; past kMaxNesting levels the parse stops with an error
// instead of running out of stack.
inline constexpr int kMaxNesting = 32;

template <typename Subject>
struct nested_directive : x3::unary_parser<Subject, nested_directive<Subject>> {
  using base_type = x3::unary_parser<Subject, nested_directive<Subject>>;
  static bool const is_pass_through_unary = true;

  constexpr explicit nested_directive(Subject const& subject)
      : base_type(subject) {}

  template <typename Iterator, typename Context, typename RContext,
            typename Attribute>
  bool parse(Iterator& first, Iterator const& last, Context const& context,
             RContext& rcontext, Attribute& attr) const {
    int& depth = x3::get<diag_tag>(context).get().depth;
    if (depth >= kMaxNesting) {
      Iterator where = first;
      x3::skip_over(where, last, context);
      throw syntax_error<Iterator>(where, "nesting is too deep (more than " +
                                              std::to_string(kMaxNesting) +
                                              " levels)");
    }
    struct Leave {
      int& depth;
      ~Leave() { --depth; }
    } leave{++depth};
    return this->subject.parse(first, last, context, rcontext, attr);
  }
};

struct nested_gen {
  template <typename Subject>
  constexpr nested_directive<
      typename x3::extension::as_parser<Subject>::value_type>
  operator[](Subject const& subject) const {
    return nested_directive<
        typename x3::extension::as_parser<Subject>::value_type>(
        x3::as_parser(subject));
  }
};
inline constexpr nested_gen nested;

// raise(MESSAGE): always a syntax_error with MESSAGE, at the next token.
struct raise_parser : x3::parser<raise_parser> {
  using attribute_type = x3::unused_type;
  static bool const has_attribute = false;

  constexpr explicit raise_parser(char const* message) : message(message) {}

  template <typename Iterator, typename Context, typename RContext,
            typename Attribute>
  bool parse(Iterator& first, Iterator const& last, Context const& context,
             RContext&, Attribute&) const {
    Iterator where = first;
    x3::skip_over(where, last, context);
    throw syntax_error<Iterator>(where, message);
  }

  char const* message;
};

constexpr raise_parser raise(char const* message) {
  return raise_parser(message);
}

// not_reserved(WHAT): matches nothing; throws "'next' is a reserved word and
// cannot name WHAT" when the next token is a reserved word. Used only where
// a name must follow, so a reserved word there is always a mistake.
struct not_reserved_parser : x3::parser<not_reserved_parser> {
  using attribute_type = x3::unused_type;
  static bool const has_attribute = false;

  constexpr explicit not_reserved_parser(char const* what) : what(what) {}

  template <typename Iterator, typename Context, typename RContext,
            typename Attribute>
  bool parse(Iterator& first, Iterator const& last, Context const& context,
             RContext&, Attribute&) const {
    Iterator where = first;
    x3::skip_over(where, last, context);
    Iterator end = where;
    if (reserved_word.parse(end, last, x3::unused, x3::unused, x3::unused)) {
      throw syntax_error<Iterator>(
          where, "'" + std::string(where, end) +
                     "' is a reserved word and cannot name " + what);
    }
    return true;
  }

  char const* what;
};

constexpr not_reserved_parser not_reserved(char const* what) {
  return not_reserved_parser(what);
}

// duration_unit_check: matches nothing; throws "unknown duration unit 'min'
// in '30min'; use ms, s, m, h or d", at the digits, when the next token is
// digits directly followed by a word that is not a unit. Put before the
// duration parser, so `30min` is not read as `30` and a stray word.
struct duration_unit_check_parser : x3::parser<duration_unit_check_parser> {
  using attribute_type = x3::unused_type;
  static bool const has_attribute = false;

  template <typename Iterator, typename Context, typename RContext,
            typename Attribute>
  bool parse(Iterator& first, Iterator const& last, Context const& context,
             RContext&, Attribute&) const {
    Iterator where = first;
    x3::skip_over(where, last, context);
    Iterator it = where;
    while (it != last && *it >= '0' && *it <= '9') ++it;
    if (it == where) return true;
    Iterator const unit_begin = it;
    while (it != last && IsIdentChar(*it)) ++it;
    std::string const unit(unit_begin, it);
    if (unit.empty() || unit == "ms" || unit == "s" || unit == "m" ||
        unit == "h" || unit == "d") {
      return true;
    }
    throw syntax_error<Iterator>(where, "unknown duration unit '" + unit +
                                            "' in '" + std::string(where, it) +
                                            "'; use ms, s, m, h or d");
  }

  static bool IsIdentChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_';
  }
};
inline constexpr duration_unit_check_parser duration_unit_check;

// connector_check(EXPECTED): matches nothing; throws "unknown connector
// 'then'; expected EXPECTED" when the next token is a word, not a reserved
// one, that starts its line: there a stage was meant. Put where a stage
// list may end, before the expectation of its closing bracket.
struct connector_check_parser : x3::parser<connector_check_parser> {
  using attribute_type = x3::unused_type;
  static bool const has_attribute = false;

  constexpr explicit connector_check_parser(char const* expected)
      : expected(expected) {}

  template <typename Iterator, typename Context, typename RContext,
            typename Attribute>
  bool parse(Iterator& first, Iterator const& last, Context const& context,
             RContext&, Attribute&) const {
    Iterator where = first;
    x3::skip_over(where, last, context);
    Iterator end = where;
    if (reserved_word.parse(end, last, x3::unused, x3::unused, x3::unused)) {
      return true;
    }
    std::string word;
    Iterator it = where;
    if (it == last ||
        !(std::isalpha(static_cast<unsigned char>(*it)) || *it == '_')) {
      return true;
    }
    while (it != last &&
           (std::isalnum(static_cast<unsigned char>(*it)) || *it == '_')) {
      word.push_back(*it++);
    }
    // Only blanks between the start of the line and the word.
    auto const& handler = x3::get<x3::error_handler_tag>(context).get();
    Iterator const text_begin = handler.get_position_cache().first();
    for (Iterator back = where; back != text_begin;) {
      --back;
      if (*back == '\n') break;
      if (*back != ' ' && *back != '\t' && *back != '\r') return true;
    }
    throw syntax_error<Iterator>(
        where, "unknown connector '" + word + "'; expected " + expected);
  }

  char const* expected;
};

constexpr connector_check_parser connector_check(char const* expected) {
  return connector_check_parser(expected);
}

// The text of a string literal between double quotes, escapes decoded. An
// unterminated string (end of line or file first) is an error at its
// opening quote; an unknown escape, at its backslash.
struct string_text_parser : x3::parser<string_text_parser> {
  using attribute_type = std::string;
  static bool const has_attribute = true;

  template <typename Iterator, typename Context, typename RContext,
            typename Attribute>
  bool parse(Iterator& first, Iterator const& last, Context const& context,
             RContext&, Attribute& attr) const {
    Iterator it = first;
    x3::skip_over(it, last, context);
    if (it == last || *it != '"') return false;
    Iterator const open = it++;
    std::string value;
    for (;;) {
      if (it == last || *it == '\n') {
        throw syntax_error<Iterator>(open, "unterminated string");
      }
      char const c = *it;
      if (c == '"') {
        ++it;
        break;
      }
      if (c != '\\') {
        value.push_back(c);
        ++it;
        continue;
      }
      Iterator const backslash = it++;
      if (it == last || *it == '\n') {
        throw syntax_error<Iterator>(open, "unterminated string");
      }
      switch (*it) {
        case '"':
          value.push_back('"');
          break;
        case '\\':
          value.push_back('\\');
          break;
        case 'n':
          value.push_back('\n');
          break;
        case 't':
          value.push_back('\t');
          break;
        default:
          throw syntax_error<Iterator>(
              backslash, "unknown escape '\\" + std::string(1, *it) +
                             "' in a string (use \\\" \\\\ \\n or \\t)");
      }
      ++it;
    }
    x3::traits::move_to(value, attr);
    first = it;
    return true;
  }
};
inline string_text_parser const string_text;

// Semantic actions.
inline auto set_val(char const* text) {
  return [text](auto& ctx) { x3::_val(ctx) = text; };
}

// on_success for rules whose attribute is an Expr: tags the node the rule
// built itself (a Chain or InTest made by an action or a transform), at the
// rule's first token. Nodes their own rules tagged keep their position.
struct annotate_expr {
  template <typename Iterator, typename Context>
  void on_success(Iterator const& first, Iterator const& last, ast::Expr& expr,
                  Context const& context) const {
    auto& handler = x3::get<x3::error_handler_tag>(context).get();
    expr.apply_visitor(x3::make_lambda_visitor<void>([&](auto& alternative) {
      auto& node = Unwrap(alternative);
      if (node.id_first < 0) handler.tag(node, first, last);
    }));
  }

 private:
  template <typename T>
  static T& Unwrap(x3::forward_ast<T>& node) {
    return node.get();
  }
  template <typename T>
  static T& Unwrap(T& node) {
    return node;
  }
};

// -- Rule IDs -----------------------------------------------------------------

// Lexical.
struct identifier_class;
struct name_class : x3::annotate_on_success {};
struct stage_name_class : x3::annotate_on_success {};
struct field_name_class : x3::annotate_on_success {};
struct event_name_class : x3::annotate_on_success {};
struct pattern_name_class : x3::annotate_on_success {};
struct field_type_class : x3::annotate_on_success {};
struct duration_class : x3::annotate_on_success {};
struct string_value_class;
struct string_literal_class : x3::annotate_on_success {};
struct int_value_class;
struct int_literal_class : x3::annotate_on_success {};
struct double_value_class;
struct double_literal_class : x3::annotate_on_success {};
struct bool_value_class;
struct bool_literal_class : x3::annotate_on_success {};

// Conditions.
struct condition_class : annotate_expr {};
struct or_chain_class;
struct or_step_class : x3::annotate_on_success {};
struct and_expr_class : annotate_expr {};
struct and_chain_class;
struct and_step_class : x3::annotate_on_success {};
struct not_expr_class : annotate_expr {};
struct negation_class : x3::annotate_on_success {};
struct comparison_class : annotate_expr {};
struct comparison_body_class;
struct comparison_step_class : x3::annotate_on_success {};
struct in_list_class;
struct in_items_class;
struct additive_class : annotate_expr {};
struct additive_chain_class;
struct additive_step_class : x3::annotate_on_success {};
struct multiplicative_class : annotate_expr {};
struct multiplicative_chain_class;
struct multiplicative_step_class : x3::annotate_on_success {};
struct unary_class : annotate_expr {};
struct minus_class : x3::annotate_on_success {};
struct primary_class : annotate_expr {};
struct number_class : annotate_expr {};
struct parenthesised_class;
struct call_class : x3::annotate_on_success {};
struct arguments_class;
struct argument_list_class;
struct function_name_class : x3::annotate_on_success {};
struct field_ref_class : x3::annotate_on_success {};
struct qualifier_class;
struct prev_class : x3::annotate_on_success {};
struct prev_text_class;

// Stages.
struct connector_class;
struct target_class;
struct group_class : x3::annotate_on_success {};
struct group_stages_class;
struct quantifier_class : x3::annotate_on_success {};
struct quantifier_body_class;
struct modifier_class : x3::annotate_on_success {};
struct modifier_text_class;
struct stage_class : x3::annotate_on_success {};
struct later_stage_class;
struct stage_list_class;

// Declarations.
struct marker_class : x3::annotate_on_success {};
struct marker_text_class;
struct field_decl_class : x3::annotate_on_success {};
struct event_decl_class : x3::annotate_on_success {};
struct type_list_class;
struct key_clause_class : x3::annotate_on_success {};
struct key_clause_body_class;
struct within_clause_class : x3::annotate_on_success {};
struct within_clause_body_class;
struct skip_clause_class : x3::annotate_on_success {};
struct skip_clause_body_class;
struct cap_clause_class : x3::annotate_on_success {};
struct cap_clause_body_class;
struct header_clause_class;
struct pattern_decl_class : x3::annotate_on_success {};
struct declaration_class;
struct declarations_class;

// -- Rules --------------------------------------------------------------------

// Names are user words: an x3::expectation_failure that escapes a must()
// quotes them.

using StageTarget = decltype(ast::Stage::target);

// clang-format off
x3::rule<identifier_class, std::string> const identifier = "identifier";
x3::rule<name_class, ast::Name> const name = "name";
x3::rule<stage_name_class, ast::Name> const stage_name = "stage name";
x3::rule<field_name_class, ast::Name> const field_name = "field name";
x3::rule<event_name_class, ast::Name> const event_name = "event type";
x3::rule<pattern_name_class, ast::Name> const pattern_name = "pattern name";
x3::rule<field_type_class, ast::Name> const field_type = "field type";
x3::rule<duration_class, ast::DurationLiteral> const duration = "duration";
x3::rule<string_value_class, std::string> const string_value = "string";
x3::rule<string_literal_class, ast::StringLiteral> const string_literal =
    "string";
x3::rule<int_value_class, int64_t> const int_value = "integer";
x3::rule<int_literal_class, ast::IntLiteral> const int_literal = "integer";
x3::rule<double_value_class, double> const double_value = "number";
x3::rule<double_literal_class, ast::DoubleLiteral> const double_literal =
    "number";
x3::rule<bool_value_class, bool> const bool_value = "true or false";
x3::rule<bool_literal_class, ast::BoolLiteral> const bool_literal =
    "true or false";

x3::rule<condition_class, ast::Expr> const condition = "condition";
x3::rule<or_chain_class, ast::Chain> const or_chain = "condition";
x3::rule<or_step_class, ast::Operation> const or_step = "'or'";
x3::rule<and_expr_class, ast::Expr> const and_expr = "condition";
x3::rule<and_chain_class, ast::Chain> const and_chain = "condition";
x3::rule<and_step_class, ast::Operation> const and_step = "'and'";
x3::rule<not_expr_class, ast::Expr> const not_expr = "condition";
x3::rule<negation_class, ast::Unary> const negation = "'not'";
x3::rule<comparison_class, ast::Expr> const comparison = "comparison";
x3::rule<comparison_body_class, ast::Expr> const comparison_body = "comparison";
x3::rule<comparison_step_class, ast::Operation> const comparison_step =
    "comparison";
x3::rule<in_list_class, ast::InTest> const in_list = "'in' list";
x3::rule<in_items_class, std::vector<ast::Expr>> const in_items = "values";
x3::rule<additive_class, ast::Expr> const additive = "value";
x3::rule<additive_chain_class, ast::Chain> const additive_chain = "value";
x3::rule<additive_step_class, ast::Operation> const additive_step =
    "'+' or '-'";
x3::rule<multiplicative_class, ast::Expr> const multiplicative = "value";
x3::rule<multiplicative_chain_class, ast::Chain> const multiplicative_chain =
    "value";
x3::rule<multiplicative_step_class, ast::Operation> const multiplicative_step =
    "'*' or '/'";
x3::rule<unary_class, ast::Expr> const unary = "value";
x3::rule<minus_class, ast::Unary> const minus = "'-'";
x3::rule<primary_class, ast::Expr> const primary = "value";
x3::rule<number_class, ast::Expr> const number = "number";
x3::rule<parenthesised_class, ast::Expr> const parenthesised = "'('";
x3::rule<call_class, ast::Call> const call = "function call";
x3::rule<arguments_class, std::vector<ast::Expr>> const arguments = "arguments";
x3::rule<argument_list_class, std::vector<ast::Expr>> const argument_list =
    "arguments";
x3::rule<function_name_class, ast::Name> const function_name = "function name";
x3::rule<field_ref_class, ast::FieldRef> const field_ref = "field";
x3::rule<qualifier_class, ast::Name> const qualifier = "field";
x3::rule<prev_class, ast::Name> const prev = "'prev'";
x3::rule<prev_text_class, std::string> const prev_text = "'prev'";

x3::rule<connector_class, std::string> const connector = "connector";
x3::rule<target_class, StageTarget> const target = "stage name";
x3::rule<group_class, ast::Group> const group = "group";
x3::rule<group_stages_class, std::vector<ast::Stage>> const group_stages =
    "group";
x3::rule<quantifier_class, ast::Quantifier> const quantifier = "quantifier";
x3::rule<quantifier_body_class, ast::Quantifier> const quantifier_body =
    "quantifier";
x3::rule<modifier_class, ast::Name> const modifier = "modifier";
x3::rule<modifier_text_class, std::string> const modifier_text = "modifier";
x3::rule<stage_class, ast::Stage> const stage = "stage";
x3::rule<later_stage_class, ast::Stage> const later_stage = "stage";
x3::rule<stage_list_class, std::vector<ast::Stage>> const stage_list = "stages";

x3::rule<marker_class, ast::Name> const marker = "'key' or 'time'";
x3::rule<marker_text_class, std::string> const marker_text = "'key' or 'time'";
x3::rule<field_decl_class, ast::FieldDecl> const field_decl = "field";
x3::rule<event_decl_class, ast::EventDecl> const event_decl =
    "event declaration";
x3::rule<type_list_class, std::vector<ast::Name>> const type_list =
    "event types";
x3::rule<key_clause_class, ast::KeyClause> const key_clause = "'key' clause";
x3::rule<key_clause_body_class, ast::Name> const key_clause_body =
    "'key' clause";
x3::rule<within_clause_class, ast::WithinClause> const within_clause =
    "'within' clause";
x3::rule<within_clause_body_class, ast::DurationLiteral> const
    within_clause_body = "'within' clause";
x3::rule<skip_clause_class, ast::SkipClause> const skip_clause =
    "'after match' clause";
x3::rule<skip_clause_body_class, ast::SkipClause> const skip_clause_body =
    "'after match' clause";
x3::rule<cap_clause_class, ast::CapClause> const cap_clause =
    "'max partial matches' clause";
x3::rule<cap_clause_body_class, ast::CapClause> const cap_clause_body =
    "'max partial matches' clause";
x3::rule<header_clause_class, ast::HeaderClause> const header_clause =
    "header clause";
x3::rule<pattern_decl_class, ast::PatternDecl> const pattern_decl =
    "pattern declaration";
x3::rule<declaration_class, ast::Declaration> const declaration = "declaration";
x3::rule<declarations_class, std::vector<ast::Declaration>> const declarations =
    "declarations";
file_type const file_rule = "file";

// -- Definitions: lexical -----------------------------------------------------

auto const identifier_def = x3::raw[x3::lexeme[
    !reserved_word >> (x3::ascii::alpha | '_') >> *ident_char]];

auto const name_def = identifier;
auto const stage_name_def = not_reserved("a stage") >> identifier;
auto const field_name_def = not_reserved("a field") >> identifier;
auto const event_name_def = not_reserved("an event") >> identifier;
auto const pattern_name_def = not_reserved("a pattern") >> identifier;
auto const field_type_def = identifier;

inline x3::uint_parser<int64_t> const count_value;

struct duration_units_table : x3::symbols<std::string> {
  duration_units_table() {
    add("ms", "ms")("s", "s")("m", "m")("h", "h")("d", "d");
  }
};
inline duration_units_table const duration_units;

// `10m`: digits, then a unit (the longest: `ms` before `m`), then no
// identifier character (`5min` is an unknown unit, an error).
auto const duration_def =
    duration_unit_check
    >> x3::lexeme[count_value >> duration_units >> !ident_char];

auto const string_value_def = string_text;
auto const string_literal_def = string_value;

auto const int_value_def = x3::lexeme[count_value];
auto const int_literal_def = int_value;

// `2.5`, `1e3`, `2.5e-3`: digits with a fraction or an exponent. `2` is an
// integer, `2.` is not a number.
auto const digits = +x3::ascii::digit;
auto const exponent = (x3::lit('e') | 'E') >> -(x3::lit('+') | '-') >> digits;
auto const double_value_def = x3::lexeme[
    &(digits >> (('.' >> digits) | exponent)) >> x3::double_];
auto const double_literal_def = double_value;

auto const bool_value_def =
    (kw("true") >> x3::attr(true)) | (kw("false") >> x3::attr(false));
auto const bool_literal_def = bool_value;

// -- Definitions: conditions --------------------------------------------------
// Lowest precedence first: or, and, not, comparison and in, + -, * /,
// unary -. Each binary level is a Chain (first op operand op operand ...),
// which the Expr <- Chain transform (ast_adapted.hpp) unwraps when it has no
// operation.

inline auto value_after(char const* noun) {
  return must([noun](ast::Operation const& operation) {
    return std::string(noun) + " after '" + operation.op + "'";
  });
}
inline auto op(char const* word) { return x3::attr(std::string(word)); }

auto const condition_def = or_chain;
auto const or_chain_def = and_expr >> *or_step;
auto const or_step_def =
    kw("or") >> op("or") >> value_after("a condition")[and_expr];

auto const and_expr_def = and_chain;
auto const and_chain_def = not_expr >> *and_step;
auto const and_step_def =
    kw("and") >> op("and") >> value_after("a condition")[not_expr];

auto const not_expr_def = negation | comparison;
auto const negation_def =
    kw("not") >> op("not")
    >> must("a condition after 'not'")[nested[not_expr]];

struct comparison_operators_table : x3::symbols<std::string> {
  comparison_operators_table() {
    add("==", "==")("!=", "!=")("<", "<")("<=", "<=")(">", ">")(">=", ">=");
  }
};
inline comparison_operators_table const comparison_operators;

auto const in_start = kw("in") | (kw("not") >> kw("in"));

auto const assign_operand = [](auto& ctx) {
  x3::_val(ctx) = std::move(x3::_attr(ctx));
};
auto const make_comparison = [](auto& ctx) {
  ast::Chain chain;
  chain.first = std::move(x3::_val(ctx));
  chain.rest.push_back(std::move(x3::_attr(ctx)));
  x3::_val(ctx) = ast::Expr(std::move(chain));
};
auto const make_in_test = [](auto& ctx) {
  ast::InTest test = std::move(x3::_attr(ctx));
  test.value = std::move(x3::_val(ctx));
  x3::_val(ctx) = ast::Expr(std::move(test));
};
auto const set_negated = [](auto& ctx) { x3::_val(ctx).negated = true; };
auto const set_items = [](auto& ctx) {
  x3::_val(ctx).items = std::move(x3::_attr(ctx));
};

// `a < b`, `a in (...)`, `a not in (...)`, or just `a`. A second comparison
// after the first is an error here rather than a puzzling one later.
auto const comparison_def = comparison_body;
auto const comparison_body_def =
    additive[assign_operand]
    >> -(&x3::lit('=') >> !x3::lit("==")
         >> raise("use '==' to compare values"))
    >> -((comparison_step[make_comparison] | in_list[make_in_test])
         >> ((!(comparison_operators | in_start))
             | raise("comparisons do not chain; join them with 'and'")));
auto const comparison_step_def =
    comparison_operators >> value_after("a value")[additive];

auto const in_list_def =
    ((kw("not") >> kw("in"))[set_negated] | kw("in"))
    >> must("'(' after 'in'")[x3::lit('(')]
    >> must("a value after '('")[in_items[set_items]]
    >> must("',' or ')' in the 'in' list")[x3::lit(')')];
auto const in_items_def =
    additive >> *(',' >> must("a value after ','")[additive]);

auto const additive_def = additive_chain;
auto const additive_chain_def = multiplicative >> *additive_step;
auto const additive_step_def =
    (x3::string("+") | x3::string("-"))
    >> value_after("a value")[multiplicative];

auto const multiplicative_def = multiplicative_chain;
auto const multiplicative_chain_def = unary >> *multiplicative_step;
// `/*` opens a comment (an unterminated one, since the skipper did not take
// it), not a division.
auto const multiplicative_step_def =
    (x3::string("*") | x3::lexeme[x3::string("/") >> !x3::lit('*')])
    >> value_after("a value")[unary];

auto const unary_def = minus | primary;
auto const minus_def =
    x3::string("-") >> must("a value after '-'")[nested[unary]];

auto const primary_def =
    number | string_literal | bool_literal | call | field_ref | parenthesised;

// Durations before integers (`10m`), doubles before both (`1e3`). Digits
// that none of them takes are an integer too large for 64 bits.
// A number with a fraction or exponent that double_literal does not take
// overflows a double (`1e309`).
auto const number_def =
    double_literal
    | (x3::lexeme[&(digits >> (('.' >> digits) | exponent))]
       >> raise("number is too large for a double"))
    | duration | int_literal
    | (&x3::ascii::digit >> raise("number is too large"));

auto const parenthesised_def =
    '(' >> must("a condition after '('")[nested[condition]]
        >> must("')' to close '('")[x3::lit(')')];

// `count(probe)`, `first(probe).amount`: `.member` is accepted after any
// call; the lowering decides where it means something.
auto const call_def =
    function_name >> '('
    >> arguments
    >> must([](ast::Call const& c) {
         return "',' or ')' in the arguments of '" + c.function.text + "'";
       })[x3::lit(')')]
    >> -('.' >> must("a field name after '.'")[field_name]);
auto const arguments_def = -nested[argument_list];
auto const argument_list_def =
    condition >> *(',' >> must("a value after ','")[condition]);
auto const function_name_def = identifier;

// `amount`, `probe.amount`, `prev.amount`.
auto const field_ref_def =
    qualifier >> -('.' >> must("a field name after '.'")[field_name]);
auto const qualifier_def = prev | name;
auto const prev_def = prev_text;
auto const prev_text_def =
    x3::lexeme[x3::string("prev") >> !ident_char]
    >> must("'.' and a field name after 'prev'")[&x3::lit('.')];

// -- Definitions: stages ------------------------------------------------------

auto const connector_def =
    kw("begin")[set_val("begin")]
  | kw("next")[set_val("next")]
  | (kw("followed") >> must("'by' after 'followed'")[kw("by")]
     >> (kw("any")[set_val("followed by any")]
         | x3::eps[set_val("followed by")]))
  | (kw("not") >> must("'next' or 'followed by' after 'not'")[
        kw("next")[set_val("not next")]
      | (kw("followed")
         >> must("'by' after 'not followed'")[kw("by")])[
           set_val("not followed by")]]);

auto const target_def = group | stage_name;

inline constexpr char kAfterStageInGroup[] =
    "'next', 'followed by', 'followed by any', 'not next', 'not followed by' "
    "or ')'";
auto const group_def = group_stages;
auto const group_stages_def =
    '(' >> nested[stage_list] >> connector_check(kAfterStageInGroup)
    >> must(kAfterStageInGroup)[x3::lit(')')];

auto const set_kind = [](char const* kind) {
  return [kind](auto& ctx) { x3::_val(ctx).kind = kind; };
};
auto const set_from = [](auto& ctx) { x3::_val(ctx).from = x3::_attr(ctx); };
auto const set_to = [](auto& ctx) { x3::_val(ctx).to = x3::_attr(ctx); };
auto const set_times = [](auto& ctx) {
  x3::_val(ctx).kind = "times";
  x3::_val(ctx).to = x3::_val(ctx).from;
};
// A trailing `?` makes any quantifier but `?` itself optional.
auto const set_optional = [](auto& ctx) {
  x3::_pass(ctx) = x3::_val(ctx).kind != "?";
  x3::_val(ctx).optional = true;
};

// `{n}`, `{n,}`, `{n,m}` after their `{`.
auto const braces =
    must("a repetition count after '{'")[count_value[set_from]]
    >> must("',' or '}' after the count")[
         x3::lit('}')[set_times]
       | (',' >> must("a count or '}' after ','")[
             x3::lit('}')[set_kind("at least")]
           | (count_value[set_to]
              >> must("'}' to close the quantifier")[x3::lit('}')])[
               set_kind("range")]])];

auto const quantifier_def = quantifier_body;
auto const quantifier_body_def =
    (('{' >> braces)
     | x3::lit('+')[set_kind("+")]
     | x3::lit('*')[set_kind("*")]
     | x3::lit('?')[set_kind("?")])
    >> -x3::lit('?')[set_optional];

auto const modifier_def = modifier_text;
auto const modifier_text_def =
    kw("greedy")[set_val("greedy")]
  | kw("consecutive")[set_val("consecutive")]
  | (kw("any") >> must("'combination' after 'any'")[kw("combination")])[
      set_val("any combination")];

// NAME [: TYPE] [QUANTIFIER] [MODIFIERS] [where COND] [until COND]
// [within DURATION], after its connector; a group in place of NAME.
inline constexpr char kDurationAfterWithin[] =
    "a duration such as 10m after 'within'";
auto const stage_def =
    connector
    >> must([](ast::Stage const& s) {
         return "a stage name after '" + s.connector + "'";
       })[target]
    >> -(':' >> must("an event type after ':'")[event_name])
    >> -quantifier
    >> *modifier
    >> -(kw("where") >> must("a condition after 'where'")[condition])
    >> -(kw("until") >> must("a condition after 'until'")[condition])
    >> -(kw("within") >> must(kDurationAfterWithin)[duration]);

auto const later_stage_def =
    ((!kw("begin"))
     | raise("'begin' starts only the first stage; "
             "use 'next' or 'followed by'"))
    >> stage;

auto const stage_list_def =
    must("'begin' to start the first stage")[&kw("begin")]
    >> stage >> *later_stage;

// -- Definitions: declarations ------------------------------------------------

// `key` and `time` after a field's type, unless a type follows: then the
// word starts the next field (`a int key int` declares `a` and `key`).
auto const type_word =
    kw("int") | kw("double") | kw("string") | kw("bool") | kw("timestamp");
auto const marker_def = marker_text;
auto const marker_text_def =
    (kw("key")[set_val("key")] | kw("time")[set_val("time")]) >> !type_word;

auto const field_decl_def =
    field_name
    >> must([](ast::FieldDecl const& f) {
         return "a field type after '" + f.name.text + "'";
       })[field_type]
    >> *marker;

auto const event_decl_def =
    kw("event") >> must("an event name after 'event'")[event_name]
    >> must("'{' to open the event body")[x3::lit('{')]
    >> *field_decl
    >> must("a field or '}' to close the event body")[x3::lit('}')];

auto const type_list_def =
    event_name >> *(',' >> must("an event type after ','")[event_name]);

auto const key_clause_def = key_clause_body;
auto const key_clause_body_def =
    kw("key") >> must("a field name after 'key'")[field_name];

auto const within_clause_def = within_clause_body;
auto const within_clause_body_def =
    kw("within") >> must(kDurationAfterWithin)[duration];

auto const set_strategy = [](char const* strategy) {
  return [strategy](auto& ctx) { x3::_val(ctx).strategy = strategy; };
};
auto const set_stage = [](auto& ctx) {
  x3::_val(ctx).stage = std::move(x3::_attr(ctx));
};

// no skip | skip to next | skip past last event | skip to first STAGE |
// skip to last STAGE
auto const skip_to =
    kw("to") >> must("'next', 'first' or 'last' after 'skip to'")[
        kw("next")[set_strategy("skip to next")]
      | (kw("first")[set_strategy("skip to first")]
         >> must("a stage name after 'skip to first'")[stage_name[set_stage]])
      | (kw("last")[set_strategy("skip to last")]
         >> must("a stage name after 'skip to last'")[stage_name[set_stage]])];
auto const skip_past =
    (kw("past") >> must("'last event' after 'skip past'")[kw("last")]
     >> must("'event' after 'skip past last'")[kw("event")])[
      set_strategy("skip past last event")];
auto const strategy =
    (kw("no") >> must("'skip' after 'no'")[kw("skip")])[
      set_strategy("no skip")]
  | (kw("skip") >> must("'to' or 'past' after 'skip'")[skip_to | skip_past]);

auto const skip_clause_def = skip_clause_body;
auto const skip_clause_body_def =
    kw("after") >> must("'match' after 'after'")[kw("match")]
    >> must("'no skip' or 'skip' after 'after match'")[strategy];

auto const set_limit = [](auto& ctx) { x3::_val(ctx).limit = x3::_attr(ctx); };
auto const set_policy = [](char const* policy) {
  return [policy](auto& ctx) { x3::_val(ctx).policy = policy; };
};

// max partial matches N [drop oldest | refuse new]
auto const overflow_policy =
    (kw("drop") >> must("'oldest' after 'drop'")[kw("oldest")])[
      set_policy("drop oldest")]
  | (kw("refuse") >> must("'new' after 'refuse'")[kw("new")])[
      set_policy("refuse new")];

auto const cap_clause_def = cap_clause_body;
auto const cap_clause_body_def =
    kw("max") >> must("'partial matches' after 'max'")[kw("partial")]
    >> must("'matches' after 'max partial'")[kw("matches")]
    >> must("a count (0: no limit) after 'max partial matches'")[
         x3::omit[x3::lexeme[count_value >> !ident_char][set_limit]]]
    >> -overflow_policy;

auto const header_clause_def =
    key_clause | within_clause | skip_clause | cap_clause;

inline constexpr char kAfterStage[] =
    "'next', 'followed by', 'followed by any', 'not next', 'not followed by' "
    "or '}'";
auto const pattern_decl_def =
    kw("pattern") >> must("a pattern name after 'pattern'")[pattern_name]
    >> must("'on' and an event type after the pattern name")[kw("on")]
    >> must("an event type after 'on'")[type_list]
    >> *header_clause
    >> must("'{' to open the pattern body")[x3::lit('{')]
    >> stage_list
    >> connector_check(kAfterStage)
    >> must(kAfterStage)[x3::lit('}')];

auto const declaration_def = event_decl | pattern_decl;
auto const declarations_def = *declaration;
auto const file_rule_def =
    declarations >> must("'event' or 'pattern'")[x3::eoi];
// clang-format on

BOOST_SPIRIT_DEFINE(identifier, name, stage_name, field_name, event_name,
                    pattern_name, field_type, duration, string_value,
                    string_literal, int_value, int_literal, double_value,
                    double_literal, bool_value, bool_literal);
BOOST_SPIRIT_DEFINE(condition, or_chain, or_step, and_expr, and_chain, and_step,
                    not_expr, negation, comparison, comparison_body,
                    comparison_step, in_list, in_items, additive,
                    additive_chain, additive_step, multiplicative,
                    multiplicative_chain, multiplicative_step, unary, minus,
                    primary, number, parenthesised, call, arguments,
                    argument_list, function_name, field_ref, qualifier, prev,
                    prev_text);
BOOST_SPIRIT_DEFINE(connector, target, group, group_stages, quantifier,
                    quantifier_body, modifier, modifier_text, stage,
                    later_stage, stage_list);
BOOST_SPIRIT_DEFINE(marker, marker_text, field_decl, event_decl, type_list,
                    key_clause, key_clause_body, within_clause,
                    within_clause_body, skip_clause, skip_clause_body,
                    cap_clause, cap_clause_body, header_clause, pattern_decl,
                    declaration, declarations);
BOOST_SPIRIT_DEFINE(file_rule);

// -- Annotation and errors ----------------------------------------------------

// The only error handler: records the first syntax error in the context's
// Diagnostic, at the first token after where the failure was found (an
// unterminated `/*` stops the skipper, so an error there is about it).
struct file_class {
  template <typename Iterator, typename Exception, typename Context>
  x3::error_handler_result on_error(Iterator&, Iterator const& last,
                                    Exception const& failure,
                                    Context const& context) const {
    Diagnostic& diag = x3::get<diag_tag>(context).get();
    auto& handler = x3::get<x3::error_handler_tag>(context).get();
    Iterator where = failure.where();
    x3::skip_over(where, last, context);
    diag.failed = true;
    diag.offset = static_cast<size_t>(
        std::distance(handler.get_position_cache().first(), where));
    if (last - where >= 2 && where[0] == '/' && where[1] == '*') {
      diag.message = "unterminated comment (no '*/' closes this '/*')";
    } else if (dynamic_cast<syntax_error<Iterator> const*>(&failure)) {
      diag.message = failure.which();
    } else {
      diag.message = "expected " + failure.which();
    }
    return x3::error_handler_result::fail;
  }
};

file_type const& file() { return file_rule; }

}  // namespace cep::dsl::grammar
