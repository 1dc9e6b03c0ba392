// The `cep` command. Each command is one entry in the table in Program();
// parsing, --help text and usage errors come from that table (args.hpp).

#include <iostream>
#include <string>

#include "cep/version.hpp"

#include "args.hpp"
#include "commands.hpp"

namespace cep::cli {
namespace {

int RunVersion(const CommandContext& context) {
  context.out << context.program.name << " " << context.program.version << "\n";
  return kExitOk;
}

int RunHelp(const CommandContext& context) {
  if (context.args.positionals.empty()) {
    context.out << ProgramHelp(context.program);
    return kExitOk;
  }
  const std::string& topic = context.args.positionals.front();
  const CommandSpec* command = FindCommand(context.program, topic);
  if (command == nullptr) {
    return UsageError(context.program, context.err,
                      "unknown command " + Quote(topic));
  }
  context.out << CommandHelp(context.program, *command);
  return kExitOk;
}

const ProgramSpec& Program() {
  static const ProgramSpec* const program = new ProgramSpec{
      .name = "cep",
      .version = cep::Version(),
      .summary = "complex event processing on event streams",
      .commands =
          {
              {
                  .name = "help",
                  .summary = "Describe cep, or one command and its flags",
                  .positionals = {{.name = "COMMAND",
                                   .help = "the command to describe",
                                   .required = false}},
                  .run = RunHelp,
              },
              CheckCommand(),
              ExplainCommand(),
              GenCommand(),
              ImportSqlCommand(),
              RunCommand(),
              TraceCommand(),
              {
                  .name = "version",
                  .summary = "Print the version of cep and the library",
                  .run = RunVersion,
              },
          },
  };
  return *program;
}

}  // namespace
}  // namespace cep::cli

int main(int argc, char** argv) {
  return cep::cli::Main(cep::cli::Program(), argc, argv, std::cout, std::cerr);
}
