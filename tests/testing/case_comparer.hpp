// testing/case_comparer.hpp — compares a case's outputs with its expected
// files line by line, or rewrites the files (CEP_UPDATE_EXPECTED=1).
#pragma once

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "testing/case_executor.hpp"
#include "testing/case_loader.hpp"

namespace cep::testing {

inline std::vector<std::string> SplitLines(std::string_view text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// nullopt when `actual` equals `expected` line for line; otherwise the
// report: the file, the first differing line, both versions and a few lines
// of context of the actual output.
inline std::optional<std::string> CompareOutput(
    const std::filesystem::path& expected_path, std::string_view expected,
    std::string_view actual) {
  const std::vector<std::string> want = SplitLines(expected);
  const std::vector<std::string> got = SplitLines(actual);
  size_t line_idx = 0;
  while (line_idx < want.size() && line_idx < got.size() &&
         want[line_idx] == got[line_idx]) {
    ++line_idx;
  }
  if (line_idx == want.size() && line_idx == got.size()) return std::nullopt;
  constexpr std::string_view kEnd = "<end of output>";
  std::ostringstream report;
  report << expected_path.string() << ":" << line_idx + 1
         << ": first difference (expected " << want.size() << " lines, got "
         << got.size() << ")\n"
         << "  expected: "
         << (line_idx < want.size() ? std::string_view(want[line_idx]) : kEnd)
         << "\n"
         << "  actual:   "
         << (line_idx < got.size() ? std::string_view(got[line_idx]) : kEnd)
         << "\n";
  if (!got.empty()) {
    const size_t from = line_idx < 3 ? 0 : line_idx - 3;
    const size_t to = std::min(got.size(), line_idx + 3);
    report << "  actual output around it:\n";
    for (size_t ctx_idx = from; ctx_idx < to; ++ctx_idx) {
      report << (ctx_idx == line_idx ? "  > " : "    ") << ctx_idx + 1 << ": "
             << got[ctx_idx] << "\n";
    }
  }
  report << "  (CEP_UPDATE_EXPECTED=1 rewrites expected files; read the diff "
            "before committing)\n";
  return report.str();
}

inline bool UpdateExpectedRequested() {
  const char* value = std::getenv("CEP_UPDATE_EXPECTED");
  return value != nullptr && std::string_view(value) == "1";
}

// Writes every non-empty output to its expected file (files that already
// hold it are left untouched) and deletes the expected files of empty
// outputs.
inline void WriteExpected(const Case& c, const CaseOutputs& outputs) {
  for (const auto& [file, text] : outputs) {
    const std::filesystem::path path = c.dir / file;
    if (!text.empty() && ReadFileOrEmpty(path) == text) continue;
    if (text.empty()) {
      std::error_code ignored;  // absent already is fine
      std::filesystem::remove(path, ignored);
      continue;
    }
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
  }
}

// Every difference between `outputs` and the case's expected files (a
// missing file expects an empty output), one report per file.
inline std::vector<std::string> CompareCase(const Case& c,
                                            const CaseOutputs& outputs) {
  std::vector<std::string> failures;
  for (const auto& [file, text] : outputs) {
    const std::filesystem::path path = c.dir / file;
    if (auto failure = CompareOutput(path, ReadFileOrEmpty(path), text)) {
      failures.push_back(*failure);
    }
  }
  return failures;
}

}  // namespace cep::testing
