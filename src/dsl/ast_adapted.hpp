// What X3 needs to fill the syntax tree (ast.hpp): Fusion adaptations of the
// structs with several members, attribute transforms for the structs with
// one member (so that, say, a rule producing std::string fills Name::text;
// adapting a one-member struct makes X3 collapse it in surprising ways), and
// std::optional support, which Boost 1.74's X3 only has for boost::optional.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/fusion/include/adapt_struct.hpp>
#include <boost/mpl/bool.hpp>
#include <boost/mpl/identity.hpp>
#include <boost/spirit/home/x3/nonterminal/detail/transform_attribute.hpp>
#include <boost/spirit/home/x3/support/traits/optional_traits.hpp>

#include "ast.hpp"

// clang-format off
BOOST_FUSION_ADAPT_STRUCT(cep::dsl::ast::DurationLiteral, amount, unit)
BOOST_FUSION_ADAPT_STRUCT(cep::dsl::ast::FieldRef, first, second)
BOOST_FUSION_ADAPT_STRUCT(cep::dsl::ast::Call, function, args, member)
BOOST_FUSION_ADAPT_STRUCT(cep::dsl::ast::Unary, op, operand)
BOOST_FUSION_ADAPT_STRUCT(cep::dsl::ast::Operation, op, operand)
BOOST_FUSION_ADAPT_STRUCT(cep::dsl::ast::Chain, first, rest)
BOOST_FUSION_ADAPT_STRUCT(cep::dsl::ast::Stage, connector, target, type,
                          quantifier, modifiers, where, until, within)
BOOST_FUSION_ADAPT_STRUCT(cep::dsl::ast::FieldDecl, name, type, markers)
BOOST_FUSION_ADAPT_STRUCT(cep::dsl::ast::EventDecl, name, fields)
BOOST_FUSION_ADAPT_STRUCT(cep::dsl::ast::PatternDecl, name, types, clauses,
                          stages)
// clang-format on

namespace boost::spirit::x3 {

// A rule whose attribute is TYPE, used where NODE is wanted, fills
// NODE::MEMBER.
#define CEP_DSL_FILL_MEMBER(NODE, TYPE, MEMBER)  \
  template <>                                    \
  struct transform_attribute<NODE, TYPE> {       \
    using type = TYPE;                           \
    static TYPE pre(NODE&) { return TYPE(); }    \
    static void post(NODE& node, TYPE&& value) { \
      node.MEMBER = std::move(value);            \
    }                                            \
  };

CEP_DSL_FILL_MEMBER(cep::dsl::ast::Name, std::string, text)
CEP_DSL_FILL_MEMBER(cep::dsl::ast::StringLiteral, std::string, value)
CEP_DSL_FILL_MEMBER(cep::dsl::ast::IntLiteral, int64_t, value)
CEP_DSL_FILL_MEMBER(cep::dsl::ast::DoubleLiteral, double, value)
CEP_DSL_FILL_MEMBER(cep::dsl::ast::BoolLiteral, bool, value)
CEP_DSL_FILL_MEMBER(cep::dsl::ast::KeyClause, cep::dsl::ast::Name, field)
CEP_DSL_FILL_MEMBER(cep::dsl::ast::WithinClause, cep::dsl::ast::DurationLiteral,
                    duration)
CEP_DSL_FILL_MEMBER(cep::dsl::ast::Group, std::vector<cep::dsl::ast::Stage>,
                    stages)
CEP_DSL_FILL_MEMBER(cep::dsl::ast::File,
                    std::vector<cep::dsl::ast::Declaration>, declarations)

#undef CEP_DSL_FILL_MEMBER

// A precedence level parsed as a Chain becomes its only operand when it has
// no operation, so a Chain always has at least one operation.
template <>
struct transform_attribute<cep::dsl::ast::Expr, cep::dsl::ast::Chain> {
  using type = cep::dsl::ast::Chain;
  static cep::dsl::ast::Chain pre(cep::dsl::ast::Expr&) { return {}; }
  static void post(cep::dsl::ast::Expr& expr, cep::dsl::ast::Chain&& chain) {
    if (chain.rest.empty()) {
      expr = std::move(chain.first);
    } else {
      expr = cep::dsl::ast::Expr(std::move(chain));
    }
  }
};

namespace traits {

template <typename T>
struct is_optional<std::optional<T>> : mpl::true_ {};

template <typename T>
struct optional_value<std::optional<T>> : mpl::identity<T> {};

template <typename T>
struct build_optional<std::optional<T>> {
  using type = std::optional<T>;
};

}  // namespace traits
}  // namespace boost::spirit::x3
