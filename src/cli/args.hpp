// src/cli/args.hpp — the table-driven command line of the `cep` program.
// A ProgramSpec lists the commands; each CommandSpec has a name, a one-line
// summary, its positional arguments, its flags and the function that runs
// it. Parsing, `--help` text and usage errors all come from that table, so a
// new command is one more entry (see main.cpp) and the help stays true.
//
// Exit status (DESIGN.md): 0 success, 1 bad pattern or input, 2 bad
// command-line use. A usage error is ONE line on stderr:
//   cep: error: unknown flag '--bogus' (see 'cep --help')
//
// Example:
//   const cli::CommandSpec kVersion{
//       .name = "version", .summary = "Print the version", .run = RunVersion};
//   return cli::Main(cli::ProgramSpec{.name = "cep", .commands = {kVersion}},
//                    argc, argv, std::cout, std::cerr);

#pragma once

#include <functional>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <absl/status/statusor.h>

namespace cep::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // bad pattern or input
inline constexpr int kExitUsage = 2;    // bad command-line use

// The table structs give every field an initializer, so entries may use
// designated initializers and leave fields out without g++ warning
// (-Wmissing-field-initializers).

// A flag of a command: `--name`, `--name=VALUE` or `--name VALUE`.
struct FlagSpec {
  std::string_view name{};           // without the dashes: "input"
  char short_name = '\0';            // 'i' for `-i`; '\0' for none
  std::string_view value_name{};     // "FILE" if the flag takes a value; empty
                                     // for a switch
  std::string_view default_value{};  // shown in help; returned by Get()
  std::string_view help{};           // one line, no trailing period
  bool repeatable = false;           // may be given several times: Get()
                                     // returns the values joined by '\n'
};

// A positional argument of a command, in order.
struct PositionalSpec {
  std::string_view name{};  // upper case, shown in usage: "PATTERN_FILE"
  std::string_view help{};  // one line, no trailing period
  bool required = true;     // optional ones must come after required ones
  bool repeated = false;    // the last one only: takes every further argument
};

struct ProgramSpec;
struct CommandSpec;

// The parsed command line of one command.
struct Invocation {
  // Returns whether flag `name` (without dashes) was given.
  bool Has(std::string_view name) const;
  // Returns the flag's value if given, else its non-empty default_value,
  // else nullopt. A switch that was given has the value "".
  std::optional<std::string> Get(std::string_view name) const;

  const CommandSpec* command = nullptr;
  std::map<std::string, std::string, std::less<>> flags{};  // given flags
  std::vector<std::string> positionals{};                   // in order given
};

// What a command's run function gets. Output goes to `out`, diagnostics to
// `err`; both are std::cout/std::cerr in the real program.
struct CommandContext {
  const ProgramSpec& program;
  const Invocation& args;
  std::ostream& out;
  std::ostream& err;
};

struct CommandSpec {
  std::string_view name{};
  std::string_view summary{};  // one line, no trailing period
  std::vector<PositionalSpec> positionals{};
  std::vector<FlagSpec> flags{};  // --help/-h is added for every command
  // Returns the exit status: kExitOk, kExitFailure, or UsageError(...).
  int (*run)(const CommandContext& context) = nullptr;
};

struct ProgramSpec {
  std::string_view name{};     // "cep"
  std::string_view version{};  // printed by --version: "cep 0.1.0"
  std::string_view summary{};  // one line, shown at the top of --help
  std::vector<CommandSpec> commands{};
};

struct ParsedCommandLine {
  enum class Action {
    kRun,          // run invocation.command
    kProgramHelp,  // `cep --help`
    kCommandHelp,  // `cep COMMAND --help`
    kVersion,      // `cep --version`
  };
  Action action = Action::kRun;
  Invocation invocation;  // command set for kRun and kCommandHelp
};

// Parses `args` (without the program name). Returns kInvalidArgument with
// the one-line description of what is wrong ("unknown flag '--bogus'") for
// unknown flags or commands, missing or extra arguments and missing values.
[[nodiscard]] absl::StatusOr<ParsedCommandLine> Parse(
    const ProgramSpec& program, const std::vector<std::string>& args);

// Help text generated from the table; ends with a newline.
std::string ProgramHelp(const ProgramSpec& program);
std::string CommandHelp(const ProgramSpec& program, const CommandSpec& command);

// Returns the command called `name`, or nullptr.
const CommandSpec* FindCommand(const ProgramSpec& program,
                               std::string_view name);

// Returns `text` in single quotes with control characters escaped, so an
// error message that quotes user input stays on one line.
std::string Quote(std::string_view text);

// Writes "PROGRAM: error: WHAT (see 'PROGRAM --help')" to `err` as one line
// and returns kExitUsage.
int UsageError(const ProgramSpec& program, std::ostream& err,
               std::string_view what);

// Parses argv, prints help, version or a usage error, or runs the command.
// Returns the exit status.
int Main(const ProgramSpec& program, int argc, const char* const* argv,
         std::ostream& out, std::ostream& err);

}  // namespace cep::cli
