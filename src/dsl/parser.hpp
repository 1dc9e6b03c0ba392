// Parses the text of a .cep file into its syntax tree (ast.hpp). The only
// entry point to the Spirit X3 grammar (grammar.hpp); syntax errors come
// back as Source::Error text (FILE:LINE:COL: error: ..., line, caret).
#pragma once

#include <cstddef>
#include <vector>

#include "absl/status/statusor.h"

#include "ast.hpp"
#include "source.hpp"

namespace cep::dsl {

class ParsedFile {
 public:
  ParsedFile(ast::File file, std::vector<size_t> offsets)
      : file_(std::move(file)), offsets_(std::move(offsets)) {}

  const ast::File& file() const { return file_; }

  // Byte offset in the source of the first character of `node` (after
  // leading blanks and comments). 0 for a node the grammar did not tag.
  size_t OffsetOf(const ast::Node& node) const {
    if (node.id_first < 0 ||
        static_cast<size_t>(node.id_first) >= offsets_.size()) {
      return 0;
    }
    return offsets_[static_cast<size_t>(node.id_first)];
  }

 private:
  ast::File file_;
  // Position id (x3::position_tagged::id_first) -> byte offset.
  std::vector<size_t> offsets_;
};

// kInvalidArgument with Source::Error text on a syntax error.
[[nodiscard]] absl::StatusOr<ParsedFile> Parse(const Source& source);

}  // namespace cep::dsl
