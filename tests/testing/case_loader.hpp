// testing/case_loader.hpp — finds and reads the data-driven cases under
// tests/cases/ (format: see the top of tests/case_runner_test.cpp).
#pragma once

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace cep::testing {

// The files a case may hold, and which output each one is compared with.
inline constexpr std::string_view kPatternFile = "pattern.cep";
inline constexpr std::string_view kEventsFile = "events.jsonl";
inline constexpr std::string_view kExpectedMatches = "expected.jsonl";
inline constexpr std::string_view kExpectedTimeouts = "expected_timeouts.jsonl";
inline constexpr std::string_view kExpectedLate = "expected_late.jsonl";
inline constexpr std::string_view kExpectedDeadLetter =
    "expected_dead_letter.jsonl";
inline constexpr std::string_view kExpectedError = "expected_error.txt";

inline constexpr std::string_view kExpectedFiles[] = {
    kExpectedMatches, kExpectedTimeouts, kExpectedLate, kExpectedDeadLetter,
    kExpectedError};

struct Case {
  std::string name;           // the directory's name
  std::filesystem::path dir;  // absolute
  std::string pattern_text;   // pattern.cep
  std::string events;         // events.jsonl; empty when absent
  // Words of every `// options:` line of pattern.cep, in order.
  std::vector<std::string> options;
};

// The whole file, or "" when it does not exist.
inline std::string ReadFileOrEmpty(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Words after "// options:" on lines of `text` that start with it (leading
// blanks allowed).
inline std::vector<std::string> OptionWords(std::string_view text) {
  constexpr std::string_view kPrefix = "// options:";
  std::vector<std::string> words;
  std::istringstream lines{std::string(text)};
  std::string line;
  while (std::getline(lines, line)) {
    const size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos ||
        line.compare(start, kPrefix.size(), kPrefix) != 0) {
      continue;
    }
    std::istringstream rest(line.substr(start + kPrefix.size()));
    std::string word;
    while (rest >> word) words.push_back(word);
  }
  return words;
}

inline Case LoadCase(const std::filesystem::path& dir) {
  Case c;
  c.name = dir.filename().string();
  c.dir = dir;
  c.pattern_text = ReadFileOrEmpty(dir / kPatternFile);
  c.events = ReadFileOrEmpty(dir / kEventsFile);
  c.options = OptionWords(c.pattern_text);
  return c;
}

// Every directory under `root` that holds a pattern.cep, sorted by name.
inline std::vector<std::filesystem::path> DiscoverCases(
    const std::filesystem::path& root) {
  std::vector<std::filesystem::path> dirs;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(root, error)) {
    if (entry.is_directory() &&
        std::filesystem::exists(entry.path() / kPatternFile)) {
      dirs.push_back(entry.path());
    }
  }
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

}  // namespace cep::testing
