#include "args.hpp"

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <absl/status/status.h>
#include <absl/status/statusor.h>
#include <absl/strings/escaping.h>

namespace cep::cli {
namespace {

// absl::StrCat takes absl::string_view, which in Debian's abseil is not
// std::string_view, so the table's std::string_view fields need these.
template <typename... Parts>
void Append(std::string& out, const Parts&... parts) {
  (out.append(std::string_view(parts)), ...);
}

template <typename... Parts>
std::string Cat(const Parts&... parts) {
  std::string out;
  Append(out, parts...);
  return out;
}

// Built into every program and every command, so not in the tables.
constexpr FlagSpec kHelpFlag{
    .name = "help", .short_name = 'h', .help = "Show this help and exit"};
constexpr FlagSpec kVersionFlag{.name = "version",
                                .help = "Print the version and exit"};

bool IsFlag(std::string_view arg) {
  return arg.size() > 1 && arg.front() == '-';
}

const FlagSpec* FindFlag(const CommandSpec& command, std::string_view name) {
  for (const FlagSpec& flag : command.flags) {
    if (flag.name == name) return &flag;
  }
  return nullptr;
}

const FlagSpec* FindShortFlag(const CommandSpec& command, char short_name) {
  for (const FlagSpec& flag : command.flags) {
    if (flag.short_name != '\0' && flag.short_name == short_name) return &flag;
  }
  return nullptr;
}

std::string ForCommand(const CommandSpec& command) {
  return Cat(" for command ", Quote(command.name));
}

// "-h, --help", "    --input=FILE".
std::string FlagLabel(const FlagSpec& flag) {
  std::string label = flag.short_name != '\0'
                          ? Cat("-", std::string(1, flag.short_name), ", ")
                          : std::string(4, ' ');
  Append(label, "--", flag.name);
  if (!flag.value_name.empty()) Append(label, "=", flag.value_name);
  return label;
}

// Appends "  LABEL   HELP" rows with the help column aligned.
void AppendTable(std::string& text,
                 const std::vector<std::pair<std::string, std::string>>& rows) {
  std::size_t width = 0;
  for (const auto& [label, help] : rows) width = std::max(width, label.size());
  for (const auto& [label, help] : rows) {
    Append(text, "  ", label, std::string(width - label.size() + 2, ' '), help,
           "\n");
  }
}

}  // namespace

std::string Quote(std::string_view text) {
  return Cat("'", absl::CHexEscape(std::string(text)), "'");
}

bool Invocation::Has(std::string_view name) const {
  return flags.find(name) != flags.end();
}

std::optional<std::string> Invocation::Get(std::string_view name) const {
  if (auto it = flags.find(name); it != flags.end()) return it->second;
  if (command != nullptr) {
    const FlagSpec* flag = FindFlag(*command, name);
    if (flag != nullptr && !flag->default_value.empty()) {
      return std::string(flag->default_value);
    }
  }
  return std::nullopt;
}

const CommandSpec* FindCommand(const ProgramSpec& program,
                               std::string_view name) {
  for (const CommandSpec& command : program.commands) {
    if (command.name == name) return &command;
  }
  return nullptr;
}

absl::StatusOr<ParsedCommandLine> Parse(const ProgramSpec& program,
                                        const std::vector<std::string>& args) {
  using Action = ParsedCommandLine::Action;
  ParsedCommandLine parsed;
  std::size_t arg_idx = 0;

  // Program flags come before the command.
  for (; arg_idx < args.size() && IsFlag(args[arg_idx]); ++arg_idx) {
    const std::string& arg = args[arg_idx];
    if (arg == "--help" || arg == "-h") {
      parsed.action = Action::kProgramHelp;
      return parsed;
    }
    if (arg == "--version") {
      parsed.action = Action::kVersion;
      return parsed;
    }
    return absl::InvalidArgumentError(Cat("unknown flag ", Quote(arg)));
  }
  if (arg_idx == args.size()) {
    return absl::InvalidArgumentError("missing command");
  }
  const CommandSpec* command = FindCommand(program, args[arg_idx]);
  if (command == nullptr) {
    return absl::InvalidArgumentError(
        Cat("unknown command ", Quote(args[arg_idx])));
  }
  ++arg_idx;

  Invocation& invocation = parsed.invocation;
  invocation.command = command;
  bool only_positionals = false;  // after "--"
  for (; arg_idx < args.size(); ++arg_idx) {
    const std::string& arg = args[arg_idx];
    if (only_positionals || !IsFlag(arg)) {
      invocation.positionals.push_back(arg);
      continue;
    }
    if (arg == "--") {
      only_positionals = true;
      continue;
    }
    if (arg == "--help" || arg == "-h") {
      parsed.action = Action::kCommandHelp;
      return parsed;
    }

    // --name, --name=value, --name value, -n, -n value.
    const FlagSpec* flag = nullptr;
    std::string_view given = arg;
    std::optional<std::string> value;
    if (given.substr(0, 2) == "--") {
      std::string_view name = given.substr(2);
      if (const std::size_t eq = name.find('='); eq != std::string_view::npos) {
        value = std::string(name.substr(eq + 1));
        name = name.substr(0, eq);
        given = given.substr(0, eq + 2);
      }
      flag = FindFlag(*command, name);
    } else if (given.size() == 2) {
      flag = FindShortFlag(*command, given[1]);
    }
    if (flag == nullptr) {
      return absl::InvalidArgumentError(
          Cat("unknown flag ", Quote(given), ForCommand(*command)));
    }
    if (flag->value_name.empty()) {
      if (value.has_value()) {
        return absl::InvalidArgumentError(Cat(
            "flag ", Quote(given), " takes no value", ForCommand(*command)));
      }
      value = "";
    } else if (!value.has_value()) {
      if (arg_idx + 1 == args.size()) {
        return absl::InvalidArgumentError(
            Cat("flag ", Quote(given), " needs a value ", flag->value_name,
                ForCommand(*command)));
      }
      value = args[++arg_idx];
    }
    auto given_before = invocation.flags.find(flag->name);
    if (flag->repeatable && given_before != invocation.flags.end()) {
      given_before->second += '\n';
      given_before->second += *value;
      continue;
    }
    invocation.flags.insert_or_assign(std::string(flag->name),
                                      *std::move(value));
  }

  std::size_t required = 0;
  for (const PositionalSpec& positional : command->positionals) {
    if (positional.required) ++required;
  }
  if (invocation.positionals.size() < required) {
    return absl::InvalidArgumentError(
        Cat("missing argument ",
            command->positionals[invocation.positionals.size()].name,
            ForCommand(*command)));
  }
  const bool repeats =
      !command->positionals.empty() && command->positionals.back().repeated;
  if (!repeats && invocation.positionals.size() > command->positionals.size()) {
    return absl::InvalidArgumentError(
        Cat("unexpected argument ",
            Quote(invocation.positionals[command->positionals.size()]),
            ForCommand(*command)));
  }
  parsed.action = Action::kRun;
  return parsed;
}

std::string ProgramHelp(const ProgramSpec& program) {
  std::string text =
      Cat(program.name, ": ", program.summary, "\n\n", "Usage: ", program.name,
          " [--help] [--version] COMMAND [ARGS]\n\n", "Commands:\n");
  std::vector<std::pair<std::string, std::string>> rows;
  for (const CommandSpec& command : program.commands) {
    rows.emplace_back(command.name, command.summary);
  }
  AppendTable(text, rows);

  Append(text, "\nFlags:\n");
  rows.clear();
  for (const FlagSpec* flag : {&kHelpFlag, &kVersionFlag}) {
    rows.emplace_back(FlagLabel(*flag), flag->help);
  }
  AppendTable(text, rows);

  Append(text, "\nRun '", program.name,
         " COMMAND --help' for the arguments and flags of a command.\n",
         "Exit status: 0 success, 1 bad pattern or input, "
         "2 bad command-line use.\n");
  return text;
}

std::string CommandHelp(const ProgramSpec& program,
                        const CommandSpec& command) {
  std::string text =
      Cat("Usage: ", program.name, " ", command.name, " [FLAGS]");
  for (const PositionalSpec& positional : command.positionals) {
    Append(text, positional.required ? " " : " [", positional.name,
           positional.repeated ? "..." : "", positional.required ? "" : "]");
  }
  Append(text, "\n\n", command.summary, "\n");

  std::vector<std::pair<std::string, std::string>> rows;
  if (!command.positionals.empty()) {
    Append(text, "\nArguments:\n");
    for (const PositionalSpec& positional : command.positionals) {
      rows.emplace_back(
          positional.name,
          Cat(positional.help, positional.required ? "" : " (optional)"));
    }
    AppendTable(text, rows);
  }

  Append(text, "\nFlags:\n");
  rows.clear();
  for (const FlagSpec& flag : command.flags) {
    std::string help(flag.help);
    if (!flag.default_value.empty()) {
      Append(help, " (default: ", flag.default_value, ")");
    }
    rows.emplace_back(FlagLabel(flag), std::move(help));
  }
  rows.emplace_back(FlagLabel(kHelpFlag), kHelpFlag.help);
  AppendTable(text, rows);
  return text;
}

int UsageError(const ProgramSpec& program, std::ostream& err,
               std::string_view what) {
  err << program.name << ": error: " << what << " (see '" << program.name
      << " --help')\n";
  return kExitUsage;
}

int Main(const ProgramSpec& program, int argc, const char* const* argv,
         std::ostream& out, std::ostream& err) {
  std::vector<std::string> args;
  for (int arg_idx = 1; arg_idx < argc; ++arg_idx) {
    args.emplace_back(argv[arg_idx]);
  }

  absl::StatusOr<ParsedCommandLine> parsed = Parse(program, args);
  if (!parsed.ok()) {
    return UsageError(program, err, std::string(parsed.status().message()));
  }
  switch (parsed->action) {
    case ParsedCommandLine::Action::kProgramHelp:
      out << ProgramHelp(program);
      return kExitOk;
    case ParsedCommandLine::Action::kCommandHelp:
      out << CommandHelp(program, *parsed->invocation.command);
      return kExitOk;
    case ParsedCommandLine::Action::kVersion:
      out << program.name << " " << program.version << "\n";
      return kExitOk;
    case ParsedCommandLine::Action::kRun:
      break;
  }
  const CommandContext context{
      .program = program, .args = parsed->invocation, .out = out, .err = err};
  // A table entry without a run function is a bug in the table.
  assert(parsed->invocation.command->run != nullptr);
  return parsed->invocation.command->run(context);
}

}  // namespace cep::cli
