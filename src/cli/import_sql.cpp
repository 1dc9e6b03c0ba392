// `cep import-sql FILE.sql [-o OUT.cep] [--name NAME]`: a SQL
// MATCH_RECOGNIZE query as a pattern file (src/sql/to_cep.hpp). The result
// is checked with the pattern language's parser before it is written, so it
// passes `cep check`.

#include <fstream>
#include <iostream>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

#include "../dsl/source.hpp"
#include "../sql/to_cep.hpp"
#include "args.hpp"
#include "commands.hpp"

namespace cep::cli {
namespace {

int RunImportSql(const CommandContext& context) {
  const std::string& path = context.args.positionals.front();
  sql::ImportOptions options;
  options.source_name = path;
  options.pattern_name = sql::PatternNameFromPath(path);
  if (std::optional<std::string> name = context.args.Get("name")) {
    if (!sql::IsCepName(*name)) {
      return UsageError(context.program, context.err,
                        "--name: " + Quote(*name) +
                            " is not a pattern name (letters, digits, '_'; "
                            "not a reserved word)");
    }
    options.pattern_name = *name;
  }
  const std::optional<std::string> output = context.args.Get("output");
  if (output && *output == path) {
    return UsageError(context.program, context.err,
                      "--output " + Quote(*output) + " is the input file");
  }
  absl::StatusOr<std::string> text = dsl::ReadPatternText(path);
  if (!text.ok()) {
    context.err << "cep: error: " << text.status().message() << "\n";
    return kExitFailure;
  }
  absl::StatusOr<std::string> cep_text =
      sql::ImportMatchRecognize(*text, options);
  if (!cep_text.ok()) {
    context.err << cep_text.status().message() << "\n";
    return kExitFailure;
  }
  if (!output || *output == "-") {
    context.out << *cep_text;
    return kExitOk;
  }
  std::ofstream file(*output, std::ios::binary | std::ios::trunc);
  file << *cep_text;
  file.close();
  if (!file) {
    context.err << "cep: error: cannot write " << Quote(*output) << "\n";
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace

CommandSpec ImportSqlCommand() {
  return CommandSpec{
      .name = "import-sql",
      .summary = "Translate a SQL MATCH_RECOGNIZE query into a pattern file",
      .positionals = {{.name = "FILE",
                       .help = "the .sql file: optional CREATE TABLE "
                               "statements, then one SELECT ... "
                               "MATCH_RECOGNIZE (...) query"}},
      .flags =
          {
              {.name = "output",
               .short_name = 'o',
               .value_name = "FILE",
               .help = "write the .cep file there instead of to stdout"},
              {.name = "name",
               .value_name = "NAME",
               .help = "name of the generated pattern (default: the SQL "
                       "file's name without its extension)"},
          },
      .run = RunImportSql,
  };
}

}  // namespace cep::cli
