// cep/dsl.hpp — pattern files: parse a .cep file into event types (Schema)
// and patterns (Pattern<Record>) ready to compile.
//
// The language is described in README.md ("The pattern language"). Parsing
// checks everything that can be checked before the first event: syntax,
// names of types, fields and stages, and the types of every condition.
// Conditions are compiled once, with field indices resolved; nothing is
// looked up by name per event. Errors are kInvalidArgument whose message is
// the whole text to print:
//
//   card.cep:14:27: error: unknown field 'amout' of event Auth
//     begin probe where amout < 2
//                       ^
//
// Example:
//   CEP_ASSIGN_OR_RETURN(cep::PatternFile file,
//                        cep::LoadPatternFile("patterns/card_testing.cep"));
//   const cep::FilePattern& p = file.patterns().front();
//   CEP_ASSIGN_OR_RETURN(cep::Nfa<cep::Record> nfa,
//                        cep::CompilePattern(p.pattern));
//   cep::Value key = p.KeyOf(record);
//
// Several files run together with MergePatternFiles; PatternFile::AddPattern
// adds a pattern written in C++ (iterative conditions in C++, for example).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "cep/evaluator.hpp"
#include "cep/event.hpp"
#include "cep/pattern.hpp"

namespace cep {

// Immutable text that copies share: every pattern of a file points at one
// copy of the file's text, so a file of many patterns holds its text once.
class SharedText {
 public:
  SharedText() = default;
  explicit SharedText(std::string text)
      : text_(std::make_shared<const std::string>(std::move(text))) {}

  // Valid while any copy of this SharedText lives.
  const std::string& str() const {
    static const std::string* const kEmpty = new std::string();
    return text_ ? *text_ : *kEmpty;
  }
  std::string_view view() const { return str(); }
  operator std::string_view() const { return view(); }  // NOLINT: implicit
  bool empty() const { return view().empty(); }
  size_t size() const { return view().size(); }

 private:
  std::shared_ptr<const std::string> text_;
};

// One `pattern` declaration of a file.
struct FilePattern {
  std::string name;
  // The file that declares it (for messages), and the line of the `pattern`
  // keyword there (1-based; 0 for a pattern added with AddPattern).
  std::string filename;
  size_t line = 0;
  // The text of that file (empty for a pattern added with AddPattern): what
  // durable state keeps, so that an old version can be parsed again. The
  // patterns of one file share one copy.
  SharedText source;
  // The event types it runs on (`on Auth, Refund`), in the order written.
  // Events of other types in the stream are not given to it.
  std::vector<const Schema*> types;
  // The key field's name (`key card`, or the field marked `key`); empty for
  // a pattern without a key, which sees the whole stream as one key.
  std::string key_field;
  // Index of the key field per schema id of the file; -1 where the type has
  // none or is not one of `types`.
  std::vector<int> key_index;
  // Whether events of the schema with this id go to this pattern.
  std::vector<bool> accepts;
  Pattern<Record> pattern;
  // The header's `max partial matches N [drop oldest | refuse new]`: this
  // pattern's EvaluatorOptions::max_partial_matches (0: no limit) and
  // overflow_policy, which win over the run's (RunOptions::evaluator);
  // nullopt where the header does not say.
  std::optional<size_t> max_partial_matches;
  std::optional<OverflowPolicy> overflow_policy;

  // Whether `record` is of one of `types`.
  bool Accepts(const Record& record) const {
    return accepts[record.schema().id()];
  }
  // The key of `record`: its key field, or null for a pattern without a key.
  // REQUIRES: Accepts(record).
  Value KeyOf(const Record& record) const {
    const int index = key_index[record.schema().id()];
    return index < 0 ? Value() : record[static_cast<size_t>(index)];
  }
};

// The event types and patterns of one file. Move-only; schemas keep their
// addresses when the file is moved, so Records built from them stay valid
// for as long as the PatternFile lives.
class PatternFile {
 public:
  PatternFile() = default;
  PatternFile(std::string filename,
              std::vector<std::unique_ptr<const Schema>> schemas,
              std::vector<FilePattern> patterns)
      : filename_(std::move(filename)),
        schemas_(std::move(schemas)),
        patterns_(std::move(patterns)) {}
  PatternFile(PatternFile&&) = default;
  PatternFile& operator=(PatternFile&&) = default;

  const std::string& filename() const { return filename_; }
  // In declaration order; schemas()[i]->id() == i.
  const std::vector<std::unique_ptr<const Schema>>& schemas() const {
    return schemas_;
  }
  // In declaration order.
  const std::vector<FilePattern>& patterns() const { return patterns_; }

  // The schema or pattern called `name`, or nullptr.
  const Schema* FindSchema(std::string_view name) const {
    for (const auto& schema : schemas_) {
      if (schema->name() == name) return schema.get();
    }
    return nullptr;
  }
  const FilePattern* FindPattern(std::string_view name) const {
    for (const FilePattern& pattern : patterns_) {
      if (pattern.name == name) return &pattern;
    }
    return nullptr;
  }

  // Adds a pattern built with the C++ API (pattern.hpp) over this file's
  // Records: it runs on the event types named in `types` (every type of the
  // file when empty) and is keyed by the field `key_field` of each ("": no
  // key, the whole stream is one key). Conditions may read fields by index
  // (Record::GetDouble(schema->FieldIndex(...))).
  // Errors: kInvalidArgument naming an unknown type, a type without the key
  // field, key fields of different types, or a name another pattern has.
  [[nodiscard]] absl::Status AddPattern(std::string name,
                                        Pattern<Record> pattern,
                                        const std::vector<std::string>& types,
                                        const std::string& key_field);

 private:
  friend absl::StatusOr<PatternFile> MergePatternFiles(
      std::vector<PatternFile> files);

  std::string filename_;
  std::vector<std::unique_ptr<const Schema>> schemas_;
  std::vector<FilePattern> patterns_;
  // Schemas of files merged into this one, which their patterns' conditions
  // still point at (MergePatternFiles).
  std::vector<std::unique_ptr<const Schema>> merged_schemas_;
};

// Parses and checks `text`; `filename` is used in error messages.
// Errors: kInvalidArgument with the FILE:LINE:COL text described above.
[[nodiscard]] absl::StatusOr<PatternFile> ParsePatternFile(
    std::string_view text, std::string_view filename = "<input>");

// Several pattern files as one, so that one run feeds every pattern from
// one pass over the input: the patterns of all files, in order, over the
// event types of the first. Every file must declare the same event types in
// the same order, field for field (name, type, key and time marks), since
// compiled conditions address types and fields by position; pattern names
// must differ. The result's filename is the first file's.
// Errors: kInvalidArgument "B.cep: error: ..." naming the file, the type and
// the difference, or the repeated pattern name; no files.
[[nodiscard]] absl::StatusOr<PatternFile> MergePatternFiles(
    std::vector<PatternFile> files);

// OK when `b` declares the event types of `a`, in the same order, field for
// field (name, type, key and time marks): then Records of one serve the
// patterns of the other. Errors: kInvalidArgument "B: error: ..." naming
// the difference.
[[nodiscard]] absl::Status CheckSameEventTypes(const PatternFile& a,
                                               const PatternFile& b);

// The largest pattern file LoadPatternFile reads: 4 MiB.
inline constexpr size_t kMaxPatternFileBytes = size_t{4} << 20;

// Reads the file at `path`, then ParsePatternFile(). A file that cannot be
// read is kNotFound (missing) or kInvalidArgument, naming the path and the
// reason: "cannot read 'x.cep': No such file or directory". Only regular
// files of at most kMaxPatternFileBytes are read: "cannot read '/dev/zero':
// a character device, not a regular file", "cannot read 'big.cep': larger
// than 4194304 bytes, the limit for a pattern file".
[[nodiscard]] absl::StatusOr<PatternFile> LoadPatternFile(
    const std::string& path);

}  // namespace cep
