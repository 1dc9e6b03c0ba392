// Instantiates the grammar (grammar_def.hpp) once, for the iterator and
// context of config.hpp. Nothing else belongs here.
#include "grammar.hpp"

#include "config.hpp"
#include "grammar_def.hpp"

namespace cep::dsl::grammar {

BOOST_SPIRIT_INSTANTIATE(file_type, iterator_type, context_type);

}  // namespace cep::dsl::grammar
