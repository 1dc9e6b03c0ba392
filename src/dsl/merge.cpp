// MergePatternFiles and PatternFile::AddPattern: several pattern files, or
// patterns written in C++, run as one file (cep/dsl.hpp).

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

#include "cep/dsl.hpp"
#include "cep/event.hpp"
#include "cep/internal/status_macros.hpp"

namespace cep {
namespace {

// How `theirs` differs from `ours`, or "" when they are the same type.
std::string SchemaDifference(const Schema& ours, const Schema& theirs) {
  if (ours.name() != theirs.name()) {
    return absl::StrCat("declares event ", theirs.name(), " where ",
                        "the first file declares ", ours.name());
  }
  const std::string prefix = absl::StrCat("event ", ours.name(), " ");
  if (ours.fields().size() != theirs.fields().size()) {
    return absl::StrCat(prefix, "has ", theirs.fields().size(), " fields, not ",
                        ours.fields().size());
  }
  for (size_t field = 0; field < ours.fields().size(); ++field) {
    const FieldDef& a = ours.fields()[field];
    const FieldDef& b = theirs.fields()[field];
    if (a.name != b.name || a.type != b.type) {
      return absl::StrCat(prefix, "differs at field ", field + 1, " ('", b.name,
                          "' where the first file has '", a.name,
                          "', or its type)");
    }
  }
  if (ours.key_field() != theirs.key_field()) {
    return absl::StrCat(prefix, "marks another key field");
  }
  if (ours.time_field() != theirs.time_field()) {
    return absl::StrCat(prefix, "marks another time field");
  }
  return "";
}

}  // namespace

absl::Status PatternFile::AddPattern(std::string name, Pattern<Record> pattern,
                                     const std::vector<std::string>& types,
                                     const std::string& key_field) {
  auto error = [&](const std::string& reason) {
    return absl::InvalidArgumentError(
        absl::StrCat("pattern '", name, "': ", reason));
  };
  if (FindPattern(name) != nullptr) return error("the name is taken");
  FilePattern added;
  if (types.empty()) {
    for (const auto& schema : schemas_) added.types.push_back(schema.get());
  }
  for (const std::string& type : types) {
    const Schema* schema = FindSchema(type);
    if (schema == nullptr) {
      return error(absl::StrCat("unknown event type '", type, "'"));
    }
    added.types.push_back(schema);
  }
  added.accepts.assign(schemas_.size(), false);
  added.key_index.assign(schemas_.size(), -1);
  const FieldDef* first_key = nullptr;
  for (const Schema* schema : added.types) {
    added.accepts[schema->id()] = true;
    if (key_field.empty()) continue;
    std::optional<size_t> index = schema->FieldIndex(key_field);
    if (!index) {
      return error(absl::StrCat("event ", schema->name(), " has no field '",
                                key_field, "'"));
    }
    const FieldDef& field = schema->fields()[*index];
    if (first_key != nullptr && first_key->type != field.type) {
      return error(absl::StrCat("key field '", key_field,
                                "' has different types in its event types"));
    }
    first_key = &field;
    added.key_index[schema->id()] = static_cast<int>(*index);
  }
  added.name = std::move(name);
  added.filename = filename_;
  added.key_field = key_field;
  added.pattern = std::move(pattern);
  patterns_.push_back(std::move(added));
  return absl::OkStatus();
}

absl::Status CheckSameEventTypes(const PatternFile& a, const PatternFile& b) {
  auto error = [&](const std::string& reason) {
    return absl::InvalidArgumentError(
        absl::StrCat(b.filename(), ": error: ", reason));
  };
  if (b.schemas().size() != a.schemas().size()) {
    return error(absl::StrCat("declares ", b.schemas().size(),
                              " event types where ", a.filename(), " declares ",
                              a.schemas().size(),
                              "; files that run together declare the same "
                              "event types"));
  }
  for (size_t schema = 0; schema < a.schemas().size(); ++schema) {
    std::string difference =
        SchemaDifference(*a.schemas()[schema], *b.schemas()[schema]);
    if (!difference.empty()) {
      return error(
          absl::StrCat(difference, " (first file: ", a.filename(), ")"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<PatternFile> MergePatternFiles(std::vector<PatternFile> files) {
  if (files.empty()) return absl::InvalidArgumentError("no pattern files");
  PatternFile merged = std::move(files.front());
  for (size_t file_idx = 1; file_idx < files.size(); ++file_idx) {
    PatternFile& other = files[file_idx];
    auto error = [&](const std::string& reason) {
      return absl::InvalidArgumentError(
          absl::StrCat(other.filename(), ": error: ", reason));
    };
    CEP_RETURN_IF_ERROR(CheckSameEventTypes(merged, other));
    for (FilePattern& pattern : other.patterns_) {
      if (merged.FindPattern(pattern.name) != nullptr) {
        return error(absl::StrCat("pattern '", pattern.name,
                                  "' is also declared in an earlier file"));
      }
      for (const Schema*& type : pattern.types) {
        type = merged.schemas()[type->id()].get();
      }
      merged.patterns_.push_back(std::move(pattern));
    }
    for (auto& schema : other.schemas_) {
      merged.merged_schemas_.push_back(std::move(schema));
    }
    for (auto& schema : other.merged_schemas_) {
      merged.merged_schemas_.push_back(std::move(schema));
    }
  }
  return merged;
}

}  // namespace cep
