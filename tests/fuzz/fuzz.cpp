// tests/fuzz/fuzz.cpp — cep_fuzz, a seeded mutation fuzzer for pattern files
// and input lines, built from the project's own cases (no libFuzzer needed).
//
//   cep_fuzz pattern [FLAGS]   mutated pattern files: parsed; those that parse
//                              are compiled, explained and run over short
//                              generated event streams (cep::RunPatternFile,
//                              what `cep run` and tests/cases run)
//   cep_fuzz input [FLAGS]     mutated JSONL and CSV inputs for the seed
//                              pattern files: each line decoded on its own,
//                              then the whole input run with --on-error skip
//
// Flags:
//   --seconds N      run for N seconds of wall time (default: the
//                    CEP_FUZZ_SECONDS environment variable, else 60)
//   --cases N        stop after N cases (default: no limit)
//   --seed S         the run's seed (default 1); case I is generated from
//                    (S, I) alone, so `--seed S --case I` regenerates it
//   --case I         run only case I of seed S
//   --repro FILE     run the one case saved in FILE (a failure writes it)
//   --out DIR        where failures are written (default: the working dir)
//   --timeout N      a case taking more than N seconds of CPU (or 10 N of
//                    wall time) is a hang (default 5; 15 under a sanitizer)
//   --keep-going     report a failed invariant and go on (crashes and hangs
//                    still end the run)
//   --max-terms N    longest generated `or`/`and` chain (default 1000)
//   --max-depth N    deepest generated nesting (default 40)
//   --big-counts     also run cases whose quantifier counts multiply to 1000
//                    or more (issue #13: quadratic parse and compile)
//   --verbose        print every case
//
// Seeds: every tests/cases/*/pattern.cep, patterns/*.cep and bench/patterns/
// *.cep; every tests/cases/*/events.jsonl line; every *.csv under tests/ and
// examples/data/; *.cep in tests/fuzz/corpus/ if any. Mutations: byte flips,
// inserts and deletes (NUL, invalid and multi-byte UTF-8), tokens of the
// grammar spliced in (keywords, operators, quantifiers, skip strategies,
// durations, huge numbers), token ranges deleted, duplicated or crossed over
// from another seed, stages wrapped in groups, deep nesting and long `or`
// chains (bounded by --max-depth and --max-terms).
//
// Invariants: no crash, no hang, no sanitizer report; every error is a
// non-OK absl::Status with a message; a pattern error reads
// "fuzz.cep:LINE:COL: error: ..."; every output line is valid JSON (UTF-8)
// and the counts agree with the lines written; the event loop and the
// microbatch loop give the same bytes, and two workers the same sorted
// lines; an event that decodes re-encodes to JSON that decodes to the same
// event; with --on-error skip the run counts as errors exactly the lines
// that do not decode on their own, and with --on-error stop it fails on
// them, naming the input.
//
// A failure prints the seed, the case and the exact input, writes the input
// to OUT/fuzz-failure-MODE-SEED-CASE.txt and exits 1 (a crash or sanitizer
// report: the same file, written from the signal handler or the sanitizer's
// death callback). `cep_fuzz MODE --repro FILE` runs it again.
//
// Sizes are bounded on purpose (events per stream <= 30, quantifier counts
// multiplying to < 1000, chains <= --max-terms) so that known,
// separately tracked limits (issue #13: deep recursion on 100k-term chains,
// quadratic compile of {10000}, unbounded partial matches) do not fail it.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <simdjson.h>
#include <unistd.h>

#include "cep/compiler.hpp"
#include "cep/dsl.hpp"
#include "cep/record_csv.hpp"
#include "cep/record_json.hpp"
#include "cep/run.hpp"

#if defined(__SANITIZE_ADDRESS__)
#define CEP_FUZZ_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CEP_FUZZ_SANITIZED 1
#endif
#endif
#ifndef CEP_FUZZ_SANITIZED
#define CEP_FUZZ_SANITIZED 0
#endif
#if CEP_FUZZ_SANITIZED
#include <sanitizer/common_interface_defs.h>
#endif

namespace cep::fuzz {
namespace {

namespace fs = std::filesystem;

// Debian's Abseil has its own string_view: text helpers on std::string_view.
template <typename... Parts>
std::string Cat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

std::vector<std::string_view> Split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t end = text.find(sep, start);
    if (end == std::string_view::npos) {
      parts.push_back(text.substr(start));
      return parts;
    }
    parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
}

std::string JoinWith(const std::vector<std::string>& parts,
                     std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += sep;
    out += parts[i];
  }
  return out;
}

std::string Message(const absl::Status& status) {
  return std::string(status.message());
}

constexpr std::string_view kPatternName = "fuzz.cep";
constexpr std::string_view kInputName = "events";
// Separates the pattern file from the input in an input-mode repro file.
constexpr std::string_view kInputMarkerJsonl =
    "\n//----- cep_fuzz input (jsonl) -----\n";
constexpr std::string_view kInputMarkerCsv =
    "\n//----- cep_fuzz input (csv) -----\n";

// ---- the case being run, for the crash and hang reports ---------------------

// Written before each case; read by the signal handler, the sanitizer's death
// callback and the watchdog. Fixed buffers: nothing to allocate when dying.
constexpr size_t kMaxDump = 8 << 20;
char g_dump[kMaxDump];
std::atomic<size_t> g_dump_size{0};
char g_dump_path[4096];
char g_dump_header[512];
std::atomic<int64_t> g_case_started_ns{0};  // 0: no case running
// CPU time of the main thread when the case started: the watchdog compares
// CPU time, so that a loaded machine does not make a slow case a hang.
std::atomic<int64_t> g_case_started_cpu_ns{0};
clockid_t g_main_cpu_clock;
std::atomic<bool> g_dumped{false};

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n <= 0) return;
    data += n;
    size -= static_cast<size_t>(n);
  }
}

void WriteStr(int fd, const char* text) { WriteAll(fd, text, strlen(text)); }

// Async-signal-safe: writes the current case to stderr and to g_dump_path.
void DumpCurrent(const char* why) {
  if (g_dumped.exchange(true)) return;
  const size_t size = g_dump_size.load();
  WriteStr(2, "\ncep_fuzz: ");
  WriteStr(2, why);
  WriteStr(2, " ");
  WriteStr(2, g_dump_header);
  WriteStr(2, "\ncep_fuzz: input written to ");
  WriteStr(2, g_dump_path);
  WriteStr(2, "\n----- input -----\n");
  WriteAll(2, g_dump, std::min<size_t>(size, 64 << 10));
  if (size > (64 << 10)) WriteStr(2, "\n[... truncated; see the file]");
  WriteStr(2, "\n----- end of input -----\n");
  const int fd = ::open(g_dump_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) {
    WriteAll(fd, g_dump, size);
    ::close(fd);
  }
}

#if CEP_FUZZ_SANITIZED
void OnDeath() { DumpCurrent("crash or sanitizer report in"); }
#endif

void OnSignal(int sig) {
  DumpCurrent(sig == SIGABRT ? "abort (SIGABRT) in" : "fatal signal in");
  signal(sig, SIG_DFL);
  raise(sig);
}

void InstallCrashHandlers() {
  static std::vector<char> alt_stack(1 << 16);
  stack_t ss{};
  ss.ss_sp = alt_stack.data();
  ss.ss_size = alt_stack.size();
  sigaltstack(&ss, nullptr);
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sa.sa_flags = SA_ONSTACK | SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  // Under a sanitizer, SEGV and the like are its to report (then OnDeath).
  std::vector<int> signals = {SIGABRT};
  if (!CEP_FUZZ_SANITIZED) {
    signals.insert(signals.end(), {SIGSEGV, SIGBUS, SIGFPE, SIGILL});
  }
  for (int sig : signals) sigaction(sig, &sa, nullptr);
#if CEP_FUZZ_SANITIZED
  __sanitizer_set_death_callback(OnDeath);
#endif
  std::set_terminate([] {
    DumpCurrent("uncaught exception (std::terminate) in");
    signal(SIGABRT, SIG_DFL);
    std::abort();
  });
}

int64_t MainCpuNs() {
  timespec ts{};
  clock_gettime(g_main_cpu_clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// A case is a hang when the main thread spends more than `timeout_seconds`
// of CPU time in it, or ten times that of wall time.
void StartWatchdog(double timeout_seconds) {
  pthread_getcpuclockid(pthread_self(), &g_main_cpu_clock);
  const auto limit = static_cast<int64_t>(timeout_seconds * 1e9);
  std::thread([limit] {
    while (true) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      const int64_t started = g_case_started_ns.load();
      const int64_t started_cpu = g_case_started_cpu_ns.load();
      if (started != 0 && (NowNs() - started > 10 * limit ||
                           MainCpuNs() - started_cpu > limit)) {
        DumpCurrent("hang (case over the time limit) in");
        ::_exit(3);
      }
    }
  }).detach();
}

// ---- random numbers
// ----------------------------------------------------------

uint64_t SplitMix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t HashText(std::string_view text) {
  uint64_t h = 1469598103934665603ULL;
  for (char c : text)
    h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  return h;
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(SplitMix(seed)) {}
  // Uniform in [0, n); 0 when n is 0.
  size_t Below(size_t n) {
    if (n == 0) return 0;
    return static_cast<size_t>(engine_() % n);
  }
  bool OneIn(size_t n) { return Below(n) == 0; }
  size_t Between(size_t lo, size_t hi) { return lo + Below(hi - lo + 1); }
  // Small sizes much more often than large ones.
  size_t Skewed(size_t max) {
    const size_t bits = Below(64 - __builtin_clzll(max | 1) + 1);
    return std::min(max, Below((size_t{1} << bits)) + 1);
  }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Below(v.size())];
  }
  uint64_t Next() { return engine_(); }

 private:
  std::mt19937_64 engine_;
};

// ---- seeds
// -------------------------------------------------------------------

struct Seeds {
  std::vector<std::string> pattern_files;  // texts
  std::vector<std::string> pattern_paths;
  std::vector<std::string> jsonl_lines;
  // Per pattern file (same index), the lines of its case's events.jsonl.
  std::vector<std::vector<std::string>> case_events;
  std::vector<std::vector<std::string>> csv_files;  // lines of each
};

std::optional<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> Lines(std::string_view text) {
  std::vector<std::string> lines;
  for (std::string_view line : Split(text, '\n')) lines.emplace_back(line);
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

Seeds LoadSeeds(const fs::path& root) {
  Seeds seeds;
  auto add_pattern = [&](const fs::path& path,
                         std::vector<std::string> events) {
    std::optional<std::string> text = ReadFile(path);
    if (!text) return;
    seeds.pattern_files.push_back(std::move(*text));
    seeds.pattern_paths.push_back(path.lexically_relative(root).string());
    seeds.case_events.push_back(std::move(events));
  };
  std::vector<fs::path> dirs;
  for (const auto& entry : fs::directory_iterator(root / "tests" / "cases")) {
    if (entry.is_directory()) dirs.push_back(entry.path());
  }
  std::sort(dirs.begin(), dirs.end());
  for (const fs::path& dir : dirs) {
    std::vector<std::string> events;
    if (std::optional<std::string> text = ReadFile(dir / "events.jsonl")) {
      events = Lines(*text);
      for (const std::string& line : events) seeds.jsonl_lines.push_back(line);
    }
    if (fs::exists(dir / "pattern.cep")) {
      add_pattern(dir / "pattern.cep", std::move(events));
    }
  }
  for (const fs::path& dir : {root / "patterns", root / "bench" / "patterns",
                              root / "tests" / "fuzz" / "corpus"}) {
    if (!fs::is_directory(dir)) continue;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.path().extension() == ".cep") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& file : files) add_pattern(file, {});
  }
  std::vector<fs::path> csvs;
  for (const fs::path& dir : {root / "tests", root / "examples" / "data"}) {
    if (!fs::is_directory(dir)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
      if (entry.path().extension() == ".csv") csvs.push_back(entry.path());
    }
  }
  std::sort(csvs.begin(), csvs.end());
  for (const fs::path& csv : csvs) {
    std::optional<std::string> text = ReadFile(csv);
    if (!text) continue;
    std::vector<std::string> lines = Lines(*text);
    if (lines.size() > 200) lines.resize(200);  // the header and a sample
    seeds.csv_files.push_back(std::move(lines));
  }
  return seeds;
}

// ---- tokens and dictionaries ------------------------------------------------

// Splits pattern text into tokens: words, numbers (with a unit), strings,
// comments, runs of blanks, and single punctuation characters (`==` etc.
// as two). Concatenating the tokens gives the text back.
std::vector<std::string> Tokenize(std::string_view text) {
  std::vector<std::string> tokens;
  size_t i = 0;
  auto is_word = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
  };
  while (i < text.size()) {
    const size_t start = i;
    const char c = text[i];
    if (c == '"') {
      ++i;
      while (i < text.size() && text[i] != '"' && text[i] != '\n') {
        if (text[i] == '\\') ++i;
        ++i;
      }
      if (i < text.size()) ++i;
    } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      while (i < text.size() && (text[i] == ' ' || text[i] == '\t' ||
                                 text[i] == '\n' || text[i] == '\r')) {
        ++i;
      }
    } else if (is_word(c)) {
      while (i < text.size() && is_word(text[i])) ++i;
    } else {
      ++i;
    }
    i = std::min(i, text.size());
    tokens.emplace_back(text.substr(start, i - start));
  }
  return tokens;
}

std::string Join(const std::vector<std::string>& tokens) {
  std::string out;
  for (const std::string& t : tokens) out += t;
  return out;
}

bool IsBlankToken(const std::string& t) {
  return !t.empty() && (t[0] == ' ' || t[0] == '\t' || t[0] == '\n');
}

// Grammar words and fragments, spliced in with blanks around.
const std::vector<std::string> kPatternDictionary = {
    "begin",
    "next",
    "followed by",
    "followed by any",
    "not next",
    "not followed by",
    "any",
    "not",
    "where",
    "until",
    "within",
    "greedy",
    "consecutive",
    "any combination",
    "combination",
    "after match",
    "after match no skip",
    "after match skip to next",
    "after match skip past last event",
    "after match skip to first a",
    "after match skip to last b",
    "skip",
    "to",
    "past",
    "last",
    "first",
    "event",
    "pattern",
    "on",
    "key",
    "time",
    "int",
    "double",
    "string",
    "bool",
    "timestamp",
    "and",
    "or",
    "in",
    "true",
    "false",
    "prev",
    "prev.x",
    "count(a)",
    "sum(a.x)",
    "avg(a.amount)",
    "min(a.price)",
    "max(b.x)",
    "first(a).ts",
    "last(b).amount",
    "contains(name, \"a\")",
    "starts_with(x, y)",
    "ends_with(\"\", \"\")",
    "abs(-1)",
    "distance_km(1, 2, 3, 4)",
    "coalesce(a.x, 0)",
    "type == \"Auth\"",
    "{",
    "}",
    "(",
    ")",
    "{2}",
    "{0}",
    "{1,3}",
    "{0,2}",
    "{3,}",
    "{0,}",
    "{2,1}",
    "{199}",
    "{1,199}",
    "{,}",
    "+",
    "*",
    "?",
    "+?",
    "*?",
    "{2,3}?",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "-",
    "/",
    ",",
    ":",
    ".",
    ";",
    "\"",
    "\"\"",
    "\"\\\"\"",
    "\"\\n\\t\\\\\"",
    "0",
    "1",
    "-1",
    "2.5",
    "1e3",
    "1e309",
    "1e-400",
    "0.0",
    "-0",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "18446744073709551616",
    "2147483647",
    "2147483648",
    "99999999999999999999999999",
    "0ms",
    "1ms",
    "250ms",
    "10s",
    "5m",
    "2h",
    "1d",
    "9223372036854775807ms",
    "106752d",
    "99999999999999999999d",
    "1x",
    "1.5s",
    "( begin a where x > 1 )",
    "( begin a followed by b ) +",
    "( begin a ? )",
    "( begin a not next n )",
    "a : Auth",
    ": Auth",
    "x + greedy",
    "b * consecutive",
    "c {2,4} greedy",
    "d + any combination",
    "e {2,} until x > 3",
    "n where price > 3",
    "/* */",
    "/*",
    "*/",
    "//",
    "\n",
    "é",
    "\xe2\x82\xac",
    "\xf0\x9f\x98\x80",
    std::string("\0", 1),
    "\xff",
    "\xc3",
    "\xed\xa0\x80",
    "\t",
    "\r\n",
    "\xef\xbb\xbf"};

const std::vector<std::string> kQuantifiers = {
    "+",     "*",     "?",      "{1}",   "{2}",     "{3}",    "{0,1}",
    "{1,2}", "{2,5}", "{0,3}",  "{2,}",  "{0,}",    "{1,}",   "+?",
    "*?",    "{2}?",  "{1,3}?", "{150}", "{1,150}", "{180,}", "{7,7}"};

const std::vector<std::string> kHugeNumbers = {
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "18446744073709551615",
    "2147483647",
    "2147483648",
    "4294967296",
    "1e308",
    "1e309",
    "-1e309",
    "1e-400",
    "0",
    "-0",
    "-1",
    "00000000000000000001",
    "99999999999999999999999999999999999999"};

const std::vector<std::string> kJsonDictionary = {
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "\"",
    "\\",
    "\\u0000",
    "\\ud800",
    "\\udc00",
    "\\ud83d\\ude00",
    "\\u00e9",
    "\\n",
    "null",
    "true",
    "false",
    "0",
    "-0",
    "1e400",
    "-1e400",
    "1.5",
    "1e-400",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551616",
    "0.1e1",
    "1.",
    ".5",
    "01",
    "+1",
    "NaN",
    "Infinity",
    "\"2026-01-01T10:00:00Z\"",
    "\"2026-01-01T10:00:00.123456789+01:00\"",
    "\"0000-01-01T00:00:00Z\"",
    "\"9999-12-31T23:59:59.999-23:59\"",
    "\"2026-02-30T25:61:61Z\"",
    "\"2026-01-01 10:00:00z\"",
    "\"type\":\"Auth\"",
    "\"type\":\"Nope\"",
    "\"type\":1",
    "\"card\":\"c1\"",
    "\"ts\":0",
    "\"ts\":-1",
    "\"amount\":\"1\"",
    "[[[[[[[[[[]]]]]]]]]]",
    "{\"a\":{\"b\":{}}}",
    std::string("\0", 1),
    "\xff",
    "\xc3",
    "\xed\xa0\x80",
    "\xf0\x9f\x98\x80",
    "\r",
    "\t",
    " ",
    "\xef\xbb\xbf"};

const std::vector<std::string> kCsvDictionary = {",",
                                                 "\"",
                                                 "\"\"",
                                                 "\"a,b\"",
                                                 "\"\"\"\"",
                                                 "\r",
                                                 " ",
                                                 "\t",
                                                 "-",
                                                 "+",
                                                 "1e400",
                                                 "nan",
                                                 "inf",
                                                 "-0",
                                                 "0x10",
                                                 "1.5",
                                                 "true",
                                                 "false",
                                                 "TRUE",
                                                 "9223372036854775807",
                                                 "9223372036854775808",
                                                 "-9223372036854775809",
                                                 "2026-01-01T10:00:00Z",
                                                 "2026-13-01T10:00:00Z",
                                                 "type",
                                                 "Auth",
                                                 std::string("\0", 1),
                                                 "\xff",
                                                 "\xc3",
                                                 "\xed\xa0\x80",
                                                 "\xef\xbb\xbf",
                                                 "\xe2\x82\xac"};

// ---- generic byte mutations -----------------------------------------------

std::string RandomBytes(Rng& rng, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    switch (rng.Below(4)) {
      case 0:
        out += static_cast<char>(rng.Below(256));
        break;
      case 1:
        out += static_cast<char>(0x20 + rng.Below(95));
        break;
      case 2:
        out += "\x00\xff\x80\xc0\xe0\xf0\xf8\"\\{}()[],:;+*?"[rng.Below(22)];
        break;
      default:
        out += std::string_view("é€😀\xed\xa0\x80\xf4\x90\x80\x80")
                   .substr(rng.Below(4) * 2, 2 + rng.Below(3));
        break;
    }
  }
  return out;
}

void MutateBytes(Rng& rng, std::string& s) {
  switch (rng.Below(6)) {
    case 0:  // flip bits
      if (!s.empty()) {
        s[rng.Below(s.size())] ^= static_cast<char>(1 << rng.Below(8));
      }
      break;
    case 1:  // set a byte
      if (!s.empty())
        s[rng.Below(s.size())] = static_cast<char>(rng.Below(256));
      break;
    case 2:  // insert bytes
      s.insert(rng.Below(s.size() + 1), RandomBytes(rng, rng.Skewed(8)));
      break;
    case 3:  // delete a range
      if (!s.empty()) {
        const size_t at = rng.Below(s.size());
        s.erase(at, rng.Skewed(std::min<size_t>(s.size() - at, 64)));
      }
      break;
    case 4:  // duplicate a range
      if (!s.empty()) {
        const size_t at = rng.Below(s.size());
        const std::string piece = s.substr(at, rng.Skewed(32));
        s.insert(rng.Below(s.size() + 1), piece);
      }
      break;
    default:  // truncate
      s.resize(rng.Below(s.size() + 1));
      break;
  }
}

// ---- pattern mutations -----------------------------------------------------

struct PatternLimits {
  size_t max_terms = 1000;
  size_t max_depth = 40;
};

// Indices of tokens that are not blanks or comments.
std::vector<size_t> Solid(const std::vector<std::string>& tokens) {
  std::vector<size_t> solid;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (!IsBlankToken(tokens[i]) && tokens[i].rfind("//", 0) != 0) {
      solid.push_back(i);
    }
  }
  return solid;
}

// A field-ish word of the text (for conditions), or "x".
std::string SomeWord(Rng& rng, const std::vector<std::string>& tokens) {
  std::vector<std::string> words;
  for (const std::string& t : tokens) {
    if (!t.empty() && std::isalpha(static_cast<unsigned char>(t[0])) &&
        t.size() < 30) {
      words.push_back(t);
    }
  }
  return words.empty() ? "x" : rng.Pick(words);
}

const std::vector<std::string> kConnectors = {
    "next", "followed by", "followed by any", "not next", "not followed by"};

const std::vector<std::string> kModifiers = {"",
                                             "",
                                             "greedy",
                                             "consecutive",
                                             "any combination",
                                             "consecutive greedy",
                                             "greedy any combination",
                                             "any combination consecutive"};

// A stage line: "CONNECTOR NAME REST" with the connector, name and rest.
struct StageLine {
  std::string indent, connector, name, rest;
};

std::optional<StageLine> ParseStageLine(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  std::string_view body = line.substr(i);
  static const std::vector<std::string> kAll = {
      "begin",           "followed by any", "followed by",
      "not followed by", "not next",        "next"};
  for (const std::string& connector : kAll) {
    if (body.rfind(connector + " ", 0) != 0) continue;
    std::string_view after = body.substr(connector.size() + 1);
    size_t n = 0;
    while (n < after.size() &&
           (std::isalnum(static_cast<unsigned char>(after[n])) ||
            after[n] == '_')) {
      ++n;
    }
    return StageLine{std::string(line.substr(0, i)), connector,
                     std::string(after.substr(0, n)),
                     std::string(after.substr(n))};
  }
  return std::nullopt;
}

// Mutations that keep the file's shape: connectors, quantifiers, modifiers,
// groups around stage lines, windows, skip strategies. Returns false when
// the text has no stage line to work on.
bool MutateStages(Rng& rng, std::string& text) {
  std::vector<std::string> lines = Lines(text);
  std::vector<size_t> stages;
  std::vector<std::string> names;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (std::optional<StageLine> stage = ParseStageLine(lines[i])) {
      stages.push_back(i);
      names.push_back(stage->name);
    }
  }
  if (stages.empty()) return false;
  const size_t at = rng.Pick(stages);
  StageLine stage = *ParseStageLine(lines[at]);
  auto put = [&](size_t i, const StageLine& s) {
    lines[i] = s.indent + s.connector + " " + s.name + s.rest;
  };
  switch (rng.Below(7)) {
    case 0:  // another connector
      if (stage.connector != "begin") {
        stage.connector = rng.Pick(kConnectors);
        put(at, stage);
      }
      break;
    case 1:  // a quantifier and modifiers after the name
      stage.name += " " + rng.Pick(kQuantifiers) + " " + rng.Pick(kModifiers);
      put(at, stage);
      break;
    case 2: {  // a group around this stage line and up to 3 after it
      size_t last = at;
      while (last + 1 < lines.size() && ParseStageLine(lines[last + 1]) &&
             last - at < 3 && rng.OneIn(2)) {
        ++last;
      }
      stage.name = "( begin " + stage.name;
      put(at, stage);
      lines[last] += " ) " + (rng.OneIn(3) ? "" : rng.Pick(kQuantifiers)) +
                     " " + rng.Pick(kModifiers);
      break;
    }
    case 3: {  // a stage window, an until, a type
      static const std::vector<std::string> kTails = {
          " within 10s",
          " within 0ms",
          " within 1d",
          " until true",
          " until count(" + stage.name + ") > 2",
          " where true",
          " where prev." + stage.name + " == 1"};
      lines[at] += rng.Pick(kTails);
      break;
    }
    case 4: {  // a new stage line after this one
      static const std::vector<std::string> kConds = {
          "", " where true", " where false", " where count(x) >= 1"};
      StageLine added{stage.indent, rng.Pick(kConnectors),
                      "z" + std::to_string(rng.Below(4)),
                      " " + rng.Pick(kQuantifiers) + rng.Pick(kConds)};
      if (rng.OneIn(2)) added.rest = rng.Pick(kConds);
      lines.insert(
          lines.begin() + static_cast<long>(at + 1),
          added.indent + added.connector + " " + added.name + added.rest);
      break;
    }
    case 5: {  // a header clause on the line of `pattern`
      for (std::string& line : lines) {
        if (line.rfind("pattern ", 0) != 0) continue;
        static const std::vector<std::string> kSkips = {
            "no skip", "skip to next", "skip past last event", "skip to first",
            "skip to last"};
        std::string skip = rng.Pick(kSkips);
        if (skip.rfind("skip to ", 0) == 0 && skip != "skip to next") {
          skip += " " + rng.Pick(names);
        }
        static const std::vector<std::string> kWindows = {
            "within 1m", "within 30m", "within 1ms", "within 0ms"};
        const std::string clause =
            rng.OneIn(2) ? " after match " + skip : " " + rng.Pick(kWindows);
        const size_t brace = line.find('{');
        if (brace == std::string::npos) {
          line += clause;
        } else {
          line.insert(brace, clause + " ");
        }
        break;
      }
      break;
    }
    default: {  // swap two stage lines (not the first)
      const size_t other = rng.Pick(stages);
      const std::optional<StageLine> a = ParseStageLine(lines[at]);
      const std::optional<StageLine> b = ParseStageLine(lines[other]);
      if (a->connector == "begin" || b->connector == "begin") break;
      std::swap(lines[at], lines[other]);
      break;
    }
  }
  text = JoinWith(lines, "\n") + "\n";
  return true;
}

void MutatePattern(Rng& rng, const Seeds& seeds, const PatternLimits& limits,
                   std::string& text) {
  if (rng.OneIn(2) && MutateStages(rng, text)) return;
  std::vector<std::string> tokens = Tokenize(text);
  std::vector<size_t> solid = Solid(tokens);
  auto at_solid = [&]() -> size_t {
    return solid.empty() ? 0 : rng.Pick(solid);
  };
  switch (rng.Below(14)) {
    case 0:
    case 1:  // insert a grammar word
      tokens.insert(
          tokens.begin() + static_cast<long>(rng.Below(tokens.size() + 1)),
          " " + rng.Pick(kPatternDictionary) + " ");
      break;
    case 2:  // replace a token with a grammar word
      if (!solid.empty()) tokens[at_solid()] = rng.Pick(kPatternDictionary);
      break;
    case 3: {  // delete a range of tokens
      if (tokens.empty()) break;
      const size_t at = rng.Below(tokens.size());
      const size_t n = std::min(tokens.size() - at, rng.Skewed(12));
      tokens.erase(tokens.begin() + static_cast<long>(at),
                   tokens.begin() + static_cast<long>(at + n));
      break;
    }
    case 4: {  // duplicate a range of tokens
      if (tokens.empty()) break;
      const size_t at = rng.Below(tokens.size());
      const size_t n = std::min(tokens.size() - at, rng.Skewed(40));
      std::vector<std::string> piece(
          tokens.begin() + static_cast<long>(at),
          tokens.begin() + static_cast<long>(at + n));
      tokens.insert(
          tokens.begin() + static_cast<long>(rng.Below(tokens.size() + 1)),
          piece.begin(), piece.end());
      break;
    }
    case 5: {  // cross over: a range of another seed's tokens
      const std::vector<std::string> other =
          Tokenize(rng.Pick(seeds.pattern_files));
      if (other.empty()) break;
      const size_t at = rng.Below(other.size());
      const size_t n = std::min(other.size() - at, rng.Skewed(80));
      if (rng.OneIn(3)) {  // replace our tail from a point
        tokens.resize(rng.Below(tokens.size() + 1));
        tokens.insert(tokens.end(), other.begin() + static_cast<long>(at),
                      other.end());
      } else {
        tokens.insert(
            tokens.begin() + static_cast<long>(rng.Below(tokens.size() + 1)),
            other.begin() + static_cast<long>(at),
            other.begin() + static_cast<long>(at + n));
      }
      break;
    }
    case 6: {  // a number becomes a huge or odd one
      std::vector<size_t> numbers;
      for (size_t i : solid) {
        if (std::isdigit(static_cast<unsigned char>(tokens[i][0]))) {
          numbers.push_back(i);
        }
      }
      if (numbers.empty()) break;
      std::string& t = tokens[rng.Pick(numbers)];
      std::string unit;
      while (!t.empty() && std::isalpha(static_cast<unsigned char>(t.back()))) {
        unit.insert(unit.begin(), t.back());
        t.pop_back();
      }
      t = rng.Pick(kHugeNumbers) + (rng.OneIn(2) ? unit : "");
      break;
    }
    case 7: {  // a quantifier after a word
      if (solid.empty()) break;
      const size_t at = at_solid();
      tokens.insert(tokens.begin() + static_cast<long>(at + 1),
                    " " + rng.Pick(kQuantifiers) +
                        (rng.OneIn(3) ? " greedy" : "") +
                        (rng.OneIn(4) ? " consecutive" : "") +
                        (rng.OneIn(5) ? " any combination" : "") + " ");
      break;
    }
    case 8: {  // wrap a token range in a group
      if (solid.size() < 2) break;
      size_t a = rng.Pick(solid);
      size_t b = rng.Pick(solid);
      if (a > b) std::swap(a, b);
      tokens.insert(tokens.begin() + static_cast<long>(b + 1),
                    " ) " + (rng.OneIn(2) ? rng.Pick(kQuantifiers) : "") + " ");
      tokens.insert(tokens.begin() + static_cast<long>(a),
                    rng.OneIn(4) ? " ( " : " ( begin ");
      break;
    }
    case 9: {  // deep nesting around a token
      if (solid.empty()) break;
      const size_t depth = rng.Skewed(limits.max_depth);
      const size_t at = at_solid();
      std::string open;
      std::string close;
      switch (rng.Below(4)) {
        case 0:
          open = std::string(depth, '(');
          close = std::string(depth, ')');
          break;
        case 1:
          for (size_t i = 0; i < depth; ++i) open += "not ";
          break;
        case 2:
          for (size_t i = 0; i < depth; ++i) open += "- ";
          break;
        default:  // nested groups
          for (size_t i = 0; i < depth; ++i) open += "( begin ";
          for (size_t i = 0; i < depth; ++i) close += " )";
          break;
      }
      tokens[at] = open + tokens[at] + close;
      break;
    }
    case 10: {  // a long `or` / `and` chain after a `where`
      std::vector<size_t> wheres;
      for (size_t i : solid) {
        if (tokens[i] == "where" || tokens[i] == "until") wheres.push_back(i);
      }
      const size_t terms = rng.Skewed(limits.max_terms);
      const std::string word = SomeWord(rng, tokens);
      const char* op = rng.OneIn(2) ? " or " : " and ";
      std::string chain;
      for (size_t i = 0; i < terms; ++i) {
        chain += rng.OneIn(2) ? word + " == " + std::to_string(i)
                              : word + " != \"" + std::to_string(i) + "\"";
        chain += op;
      }
      if (wheres.empty()) {
        tokens.insert(tokens.begin() + static_cast<long>(at_solid()),
                      " where " + chain + " true ");
      } else {
        tokens.insert(tokens.begin() + static_cast<long>(rng.Pick(wheres) + 1),
                      " " + chain + " ");
      }
      break;
    }
    case 11: {  // a stage sequence: repeat a whole line
      std::vector<std::string> lines = Lines(Join(tokens));
      if (lines.empty()) break;
      const std::string line = rng.Pick(lines);
      const size_t copies = rng.Skewed(50);
      auto at = lines.begin() + static_cast<long>(rng.Below(lines.size() + 1));
      lines.insert(at, copies, line);
      text = JoinWith(lines, "\n");
      return;
    }
    case 12: {  // swap two tokens
      if (solid.size() < 2) break;
      std::swap(tokens[rng.Pick(solid)], tokens[rng.Pick(solid)]);
      break;
    }
    default:
      text = Join(tokens);
      MutateBytes(rng, text);
      return;
  }
  text = Join(tokens);
}

// How many states the quantifiers of `text` may ask for: the product of the
// largest number in each `{n}`, `{n,m}`, `{n,}` (nested groups multiply;
// capped at 10^9). Issue #13: parsing (which compiles) takes time quadratic
// in the count, so a case asking for kSkipCount or more is not run (unless
// --big-counts), and one asking for kRunCount or more is parsed but not run
// over events (partial matches of a looping group grow exponentially).
constexpr uint64_t kRunCount = 20;
constexpr uint64_t kSkipCount = 1000;

uint64_t CountLoad(std::string_view text) {
  constexpr uint64_t kCap = 1000000000;
  uint64_t load = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '{') continue;
    uint64_t largest = 0;
    size_t j = i + 1;
    while (j < text.size() && j - i < 64 && text[j] != '}') {
      if (!std::isdigit(static_cast<unsigned char>(text[j]))) {
        ++j;
        continue;
      }
      uint64_t value = 0;
      while (j < text.size() &&
             std::isdigit(static_cast<unsigned char>(text[j]))) {
        value = std::min<uint64_t>(
            value * 10 + static_cast<uint64_t>(text[j] - '0'), kCap);
        ++j;
      }
      largest = std::max(largest, value);
    }
    load = std::min<uint64_t>(load * std::max<uint64_t>(largest, 1), kCap);
  }
  return load;
}

// ---- failures -------------------------------------------------------------

// How far cases got, for the summary line.
struct Progress {
  uint64_t parsed = 0;    // pattern files that parsed / inputs run
  uint64_t compiled = 0;  // patterns that compiled
  uint64_t ran = 0;       // runs that succeeded
  uint64_t matches = 0;   // matches of those runs
  uint64_t decoded = 0;   // input lines that decoded
  uint64_t rejected = 0;  // input lines that did not
};
Progress g_progress;

struct Failure {
  std::string what;
};

struct Context {
  std::string mode;
  uint64_t seed = 1;
  uint64_t case_index = 0;
  fs::path out_dir = ".";
  bool keep_going = false;
  bool verbose = false;
  bool big_counts = false;
  size_t failures = 0;
};

fs::path FailurePath(const Context& ctx) {
  return ctx.out_dir / Cat("fuzz-failure-", ctx.mode, "-", ctx.seed, "-",
                           ctx.case_index, ".txt");
}

void SetCurrent(const Context& ctx, std::string_view input) {
  const size_t n = std::min(input.size(), kMaxDump);
  memcpy(g_dump, input.data(), n);
  g_dump_size = n;
  snprintf(g_dump_header, sizeof(g_dump_header), "mode %s seed %llu case %llu",
           ctx.mode.c_str(), static_cast<unsigned long long>(ctx.seed),
           static_cast<unsigned long long>(ctx.case_index));
  snprintf(g_dump_path, sizeof(g_dump_path), "%s",
           FailurePath(ctx).string().c_str());
}

// ---- checks -----------------------------------------------------------------

void Check(bool ok, std::vector<Failure>& failures, std::string what) {
  if (!ok) failures.push_back({std::move(what)});
}

void CheckStatus(const absl::Status& status, std::vector<Failure>& failures,
                 std::string_view where) {
  Check(!status.ok(), failures, Cat(where, ": error status is OK"));
  Check(!status.message().empty(), failures,
        Cat(where, ": error without a message (code ",
            absl::StatusCodeToString(status.code()), ")"));
}

bool IsValidJson(simdjson::dom::parser& parser, std::string_view line) {
  simdjson::padded_string padded(line);
  simdjson::dom::element doc;
  return parser.parse(padded).get(doc) == simdjson::SUCCESS;
}

void CheckJsonLines(simdjson::dom::parser& parser, const std::string& text,
                    uint64_t expected_lines, std::string_view what,
                    std::vector<Failure>& failures) {
  uint64_t lines = 0;
  for (std::string_view line : Split(text, '\n')) {
    if (line.empty()) continue;
    ++lines;
    if (!IsValidJson(parser, line)) {
      failures.push_back(
          {Cat(what, " line ", lines, " is not valid JSON: ", line)});
      return;
    }
  }
  if (expected_lines != UINT64_MAX) {
    Check(
        lines == expected_lines, failures,
        Cat(what, ": ", lines, " lines but the stats count ", expected_lines));
  }
}

// ---- event streams for a parsed file -------------------------------------

std::vector<std::string> StringLiterals(std::string_view text) {
  std::vector<std::string> out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '"') continue;
    size_t j = i + 1;
    while (j < text.size() && text[j] != '"' && text[j] != '\n' && j - i < 40) {
      if (text[j] == '\\') ++j;
      ++j;
    }
    if (j < text.size() && text[j] == '"') {
      std::string literal(text.substr(i + 1, j - i - 1));
      if (literal.find('\\') == std::string::npos) out.push_back(literal);
      i = j;
    }
  }
  return out;
}

// One JSON line of `schema`, with values drawn from small pools (and the
// string literals of the pattern text), at time `ts` ms.
std::string GenerateEvent(Rng& rng, const Schema& schema, bool with_type,
                          const std::vector<std::string>& strings, int64_t ts) {
  std::string line = "{";
  bool first = true;
  auto member = [&](std::string_view name) {
    if (!first) line += ",";
    first = false;
    AppendJsonString(line, name);
    line += ":";
  };
  if (with_type) {
    member("type");
    AppendJsonString(line, schema.name());
  }
  static const std::vector<std::string> kStrings = {
      "a", "b", "c", "k1", "k2", "approved", "declined", "refund", ""};
  for (size_t f = 0; f < schema.fields().size(); ++f) {
    const FieldDef& field = schema.fields()[f];
    member(field.name);
    const bool is_key = schema.key_field() == f;
    switch (field.type) {
      case FieldType::kInt: {
        static const int64_t kInts[] = {0, 1, 2, 3, 5, -1, 10, 100, 1000};
        line += std::to_string(is_key ? static_cast<int64_t>(rng.Below(2))
                                      : kInts[rng.Below(9)]);
        break;
      }
      case FieldType::kDouble: {
        static const char* kDoubles[] = {"0.5", "1.0",    "2",  "3.5",
                                         "500", "600.25", "-1", "1e3"};
        line += kDoubles[rng.Below(8)];
        break;
      }
      case FieldType::kString:
        if (is_key) {
          AppendJsonString(line, rng.OneIn(2) ? "k1" : "k2");
        } else if (!strings.empty() && rng.OneIn(2)) {
          AppendJsonString(line, rng.Pick(strings));
        } else {
          AppendJsonString(line, rng.Pick(kStrings));
        }
        break;
      case FieldType::kBool:
        line += rng.OneIn(2) ? "true" : "false";
        break;
      case FieldType::kTimestamp:
        line +=
            std::to_string(schema.time_field() == f
                               ? ts
                               : ts - static_cast<int64_t>(rng.Below(5000)));
        break;
    }
  }
  line += "}";
  return line;
}

std::string GenerateStream(Rng& rng, const PatternFile& file,
                           const std::vector<std::string>& strings,
                           size_t events) {
  std::string input;
  int64_t ts = 1767261600000;  // 2026-01-01T10:00:00Z
  const bool with_type = file.schemas().size() > 1;
  for (size_t i = 0; i < events; ++i) {
    switch (rng.Below(5)) {
      case 0:
        break;  // same time
      case 1:
        ts -= static_cast<int64_t>(rng.Below(3000));  // a little back: late
        break;
      default:
        ts += static_cast<int64_t>(rng.Below(120000));
        break;
    }
    const Schema& schema = *rng.Pick(file.schemas());
    input += GenerateEvent(rng, schema, with_type, strings, ts);
    input += "\n";
  }
  return input;
}

struct RunResult {
  absl::StatusOr<RunStats> stats;
  std::string matches, timeouts, late, dead;
};

RunResult Run(const PatternFile& file, std::string_view input,
              std::string_view input_name,
              const std::vector<std::string>& flags) {
  RunOptions options;
  RunResult result{absl::UnknownError("not run"), "", "", "", ""};
  if (absl::Status status = ParseRunOptions(flags, options); !status.ok()) {
    result.stats = status;
    return result;
  }
  std::istringstream in{std::string(input)};
  std::ostringstream matches, timeouts, late, dead;
  RunOutputs outputs{.matches = &matches,
                     .timeouts = &timeouts,
                     .late = &late,
                     .dead_letter = &dead};
  result.stats = RunPatternFile(file, in, input_name, options, outputs);
  result.matches = matches.str();
  result.timeouts = timeouts.str();
  result.late = late.str();
  result.dead = dead.str();
  return result;
}

void CheckRun(simdjson::dom::parser& parser, const RunResult& r,
              std::string_view what, std::vector<Failure>& failures) {
  if (!r.stats.ok()) {
    CheckStatus(r.stats.status(), failures, what);
    return;
  }
  ++g_progress.ran;
  g_progress.matches += r.stats->matches;
  CheckJsonLines(parser, r.matches, r.stats->matches, Cat(what, ": matches"),
                 failures);
  CheckJsonLines(parser, r.timeouts, r.stats->timeouts, Cat(what, ": timeouts"),
                 failures);
  CheckJsonLines(parser, r.late, r.stats->late, Cat(what, ": late"), failures);
}

// ---- pattern mode
// -------------------------------------------------------------

// Parses, compiles, explains and runs one pattern file text.
std::vector<Failure> RunPatternCase(std::string_view text,
                                    simdjson::dom::parser& parser, bool verbose,
                                    bool big_counts) {
  std::vector<Failure> failures;
  if (!big_counts && CountLoad(text) >= kSkipCount) return failures;
  absl::StatusOr<PatternFile> file = ParsePatternFile(text, kPatternName);
  if (!file.ok()) {
    CheckStatus(file.status(), failures, "ParsePatternFile");
    const std::string message = Message(file.status());
    // "fuzz.cep:LINE:COL: error: "
    bool located = message.rfind(Cat(kPatternName, ":"), 0) == 0;
    if (located) {
      size_t i = kPatternName.size() + 1;
      for (int part = 0; part < 2 && located; ++part) {
        const size_t digits_start = i;
        while (i < message.size() &&
               std::isdigit(static_cast<unsigned char>(message[i]))) {
          ++i;
        }
        located = i > digits_start && i < message.size() && message[i] == ':' &&
                  message[digits_start] != '0';
        ++i;
      }
      located = located && message.substr(i).rfind(" error: ", 0) == 0;
    }
    Check(located, failures,
          Cat("pattern error without FILE:LINE:COL: ", message));
    Check(file.status().code() == absl::StatusCode::kInvalidArgument, failures,
          Cat("pattern error is not kInvalidArgument: ",
              file.status().ToString()));
    if (verbose) std::cerr << "  parse error: " << message << "\n";
    return failures;
  }
  ++g_progress.parsed;
  for (const FilePattern& pattern : file->patterns()) {
    absl::StatusOr<Nfa<Record>> nfa = CompilePattern(pattern.pattern);
    if (!nfa.ok()) {
      CheckStatus(nfa.status(), failures, "CompilePattern");
      if (verbose) std::cerr << "  compile error: " << nfa.status() << "\n";
      continue;
    }
    ++g_progress.compiled;
    Check(!nfa->ToString().empty(), failures, "Nfa::ToString() is empty");
    Check(!nfa->ToDot(pattern.name).empty(), failures, "Nfa::ToDot() is empty");
  }
  if (file->patterns().empty() || file->schemas().empty()) return failures;
  // Large counts on groups with optional or combined members make runs
  // exponential: compile only.
  if (CountLoad(text) >= kRunCount) return failures;
  // The events: from the text's hash, so that the text alone reproduces.
  Rng rng(HashText(text));
  const std::vector<std::string> strings = StringLiterals(text);
  // Partial matches can grow exponentially with the events (`followed by
  // any`, `any combination`, loops in groups; no memory cap yet, issue #13):
  // short streams, a little longer for windowed patterns without `any`.
  const bool windowed = text.find("within") != std::string_view::npos &&
                        text.find("any") == std::string_view::npos;
  const std::vector<std::vector<std::string>> configs = {
      {"--on-error", "skip"},
      {"--max-out-of-orderness", "5s", "--loop", "microbatch", "--trigger",
       "3events"}};
  for (int stream = 0; stream < 2; ++stream) {
    const size_t events = rng.Between(1, windowed ? 30 : 12);
    const std::string input = GenerateStream(rng, *file, strings, events);
    const RunResult event_loop = Run(*file, input, kInputName, configs[0]);
    CheckRun(parser, event_loop, "RunPatternFile (event loop)", failures);
    if (verbose && !event_loop.stats.ok()) {
      std::cerr << "  run error: " << event_loop.stats.status() << "\n";
    }
    // The same events in a microbatch loop: the same bytes.
    const RunResult batch = Run(
        *file, input, kInputName,
        {"--loop", "microbatch", "--trigger", "3events", "--on-error", "skip"});
    CheckRun(parser, batch, "RunPatternFile (microbatch)", failures);
    if (event_loop.stats.ok() && batch.stats.ok()) {
      Check(event_loop.matches == batch.matches &&
                event_loop.timeouts == batch.timeouts,
            failures,
            Cat("event loop and microbatch loop differ on\n", input,
                "event loop matches:\n", event_loop.matches, "timeouts:\n",
                event_loop.timeouts, "microbatch matches:\n", batch.matches,
                "timeouts:\n", batch.timeouts));
    } else {
      Check(event_loop.stats.ok() == batch.stats.ok(), failures,
            "one loop failed, the other did not");
    }
    const RunResult late = Run(*file, input, kInputName, configs[1]);
    CheckRun(parser, late, "RunPatternFile (out of orderness)", failures);
    if (stream == 0 && event_loop.stats.ok() && rng.OneIn(3)) {
      // Two workers: the same lines (sorted), event loop and microbatch.
      const RunResult sorted = Run(*file, input, kInputName,
                                   {"--sort-output", "--on-error", "skip"});
      const bool batch = rng.OneIn(2);
      std::vector<std::string> flags = {"--sort-output", "--parallelism", "2",
                                        "--on-error", "skip"};
      if (batch)
        flags.insert(flags.end(),
                     {"--loop", "microbatch", "--trigger", "2events"});
      const RunResult parallel = Run(*file, input, kInputName, flags);
      CheckRun(parser, parallel, "RunPatternFile (--parallelism 2)", failures);
      if (sorted.stats.ok() && parallel.stats.ok()) {
        Check(sorted.matches == parallel.matches &&
                  sorted.timeouts == parallel.timeouts &&
                  sorted.late == parallel.late,
              failures,
              Cat("--parallelism 2", batch ? " --loop microbatch" : "",
                  " differs from one worker on\n", input, "one worker:\n",
                  sorted.matches, sorted.timeouts, "two workers:\n",
                  parallel.matches, parallel.timeouts));
      }
    }
  }
  return failures;
}

// ---- input mode -------------------------------------------------------------

struct SeedFile {
  PatternFile file;
  std::string text;
  std::vector<std::string> events;  // its case's events.jsonl lines
};

// A CSV value for `value` of a field (the inverse of the CSV decoder).
std::string CsvValue(const Value& value) {
  std::string out;
  if (std::holds_alternative<std::string>(value)) {
    const std::string& s = std::get<std::string>(value);
    out = "\"";
    for (char c : s) {
      out += c;
      if (c == '"') out += '"';
    }
    return out + "\"";
  }
  AppendValueJson(out, value);
  if (out == "null") out.clear();
  return out;
}

std::string MutateLine(Rng& rng, std::string line, bool csv) {
  const size_t rounds = rng.Skewed(4);
  for (size_t r = 0; r < rounds; ++r) {
    const std::vector<std::string>& dict =
        csv ? kCsvDictionary : kJsonDictionary;
    switch (rng.Below(5)) {
      case 0:
      case 1:
        line.insert(rng.Below(line.size() + 1), rng.Pick(dict));
        break;
      case 2: {  // replace a value: between ':' or ',' and the next ',' or '}'
        if (line.empty()) break;
        const size_t at = rng.Below(line.size());
        const size_t end = line.find_first_of(",}", at);
        line.replace(at, (end == std::string::npos ? line.size() : end) - at,
                     rng.Pick(dict));
        break;
      }
      case 3: {  // deep nesting
        const size_t depth = rng.Skewed(csv ? 8 : 3000);
        const size_t at = rng.Below(line.size() + 1);
        const bool arrays = rng.OneIn(2);
        std::string nest;
        for (size_t i = 0; i < depth; ++i) nest += arrays ? "[" : "{\"a\":";
        nest += "1";
        for (size_t i = 0; i < depth; ++i) nest += arrays ? "]" : "}";
        line.insert(at, nest);
        break;
      }
      default:
        MutateBytes(rng, line);
        break;
    }
  }
  // A line never holds a newline.
  std::replace(line.begin(), line.end(), '\n', ' ');
  return line;
}

struct InputCase {
  std::string pattern_text;
  bool csv = false;
  std::string input;
};

std::string EncodeInputCase(const InputCase& c) {
  return Cat(c.pattern_text, c.csv ? kInputMarkerCsv : kInputMarkerJsonl,
             c.input);
}

std::optional<InputCase> DecodeInputCase(std::string_view text) {
  for (bool csv : {false, true}) {
    const std::string_view marker = csv ? kInputMarkerCsv : kInputMarkerJsonl;
    const size_t at = text.find(marker);
    if (at == std::string_view::npos) continue;
    return InputCase{std::string(text.substr(0, at)), csv,
                     std::string(text.substr(at + marker.size()))};
  }
  return std::nullopt;
}

InputCase GenerateInputCase(Rng& rng, const std::vector<SeedFile>& files,
                            const Seeds& seeds) {
  const SeedFile& seed = rng.Pick(files);
  InputCase c{seed.text, rng.OneIn(3), ""};
  const PatternFile& file = seed.file;
  const bool with_type = file.schemas().size() > 1;
  const std::vector<std::string> strings = StringLiterals(seed.text);
  // Base lines: the case's events, other seeds' lines, generated ones.
  std::vector<std::string> lines;
  const size_t n = rng.Between(1, 30);
  int64_t ts = 1767261600000;
  for (size_t i = 0; i < n; ++i) {
    ts += static_cast<int64_t>(rng.Below(60000));
    if (!seed.events.empty() && rng.OneIn(2)) {
      lines.push_back(rng.Pick(seed.events));
    } else if (rng.OneIn(6)) {
      lines.push_back(rng.Pick(seeds.jsonl_lines));
    } else {
      lines.push_back(GenerateEvent(rng, *rng.Pick(file.schemas()), with_type,
                                    strings, ts));
    }
  }
  if (c.csv) {
    // CSV of the same events: decode each JSON line, write its columns.
    RecordDecoder decoder(file);
    std::vector<std::string> columns;
    if (with_type) columns.push_back("type");
    for (const auto& schema : file.schemas()) {
      for (const FieldDef& field : schema->fields()) {
        if (std::find(columns.begin(), columns.end(), field.name) ==
            columns.end()) {
          columns.push_back(field.name);
        }
      }
    }
    if (rng.OneIn(4)) columns.push_back("extra");
    std::shuffle(columns.begin(), columns.end(), std::mt19937_64(rng.Next()));
    std::vector<std::string> rows;
    for (const std::string& line : lines) {
      absl::StatusOr<Record> record = decoder.Decode(line);
      if (!record.ok()) continue;
      std::string row;
      for (size_t i = 0; i < columns.size(); ++i) {
        if (i > 0) row += ",";
        if (columns[i] == "type") {
          row += record->schema().name();
          continue;
        }
        const std::optional<size_t> f = record->schema().FieldIndex(columns[i]);
        if (f) row += CsvValue((*record)[*f]);
      }
      rows.push_back(row);
    }
    // Sometimes the rows of a seed CSV file instead.
    if (!seeds.csv_files.empty() && rng.OneIn(4)) {
      const std::vector<std::string>& csv_seed = rng.Pick(seeds.csv_files);
      if (!csv_seed.empty()) {
        columns.clear();
        for (std::string_view col : Split(csv_seed[0], ',')) {
          columns.emplace_back(col);
        }
        rows.assign(csv_seed.begin() + 1,
                    csv_seed.begin() + static_cast<long>(std::min<size_t>(
                                           csv_seed.size(), 30)));
      }
    }
    lines.clear();
    lines.push_back(JoinWith(columns, ","));
    lines.insert(lines.end(), rows.begin(), rows.end());
  }
  // Mutate some lines (the header too, sometimes).
  const size_t mutations = rng.Skewed(lines.size());
  for (size_t i = 0; i < mutations; ++i) {
    std::string& line = lines[rng.Below(lines.size())];
    line = MutateLine(rng, line, c.csv);
  }
  if (rng.OneIn(8))
    lines.insert(lines.begin() + static_cast<long>(rng.Below(lines.size() + 1)),
                 "");
  if (rng.OneIn(8)) {  // a line spliced from two
    const std::string& a = rng.Pick(lines);
    const std::string& b = rng.Pick(lines);
    lines.push_back(a.substr(0, rng.Below(a.size() + 1)) +
                    b.substr(rng.Below(b.size() + 1)));
  }
  c.input = JoinWith(lines, "\n");
  if (!rng.OneIn(4)) c.input += "\n";
  return c;
}

// Encodes `record` as a JSON event line (what a match's events look like).
std::string EventJson(const Record& record, bool with_type) {
  std::string out;
  AppendEventJson(out, record, 0, with_type);
  return out;
}

std::vector<Failure> RunInputCase(const InputCase& c,
                                  simdjson::dom::parser& parser, bool verbose) {
  std::vector<Failure> failures;
  absl::StatusOr<PatternFile> file =
      ParsePatternFile(c.pattern_text, kPatternName);
  if (!file.ok()) {
    failures.push_back({Cat("the seed pattern file does not parse: ",
                            Message(file.status()))});
    return failures;
  }
  const bool with_type = file->schemas().size() > 1;
  std::vector<std::string_view> lines = Split(c.input, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  // Each line on its own.
  RecordDecoder json(*file);
  RecordCsvDecoder csv(*file);
  uint64_t bad_lines = 0;
  bool header_ok = true;  // CSV input without a header row is empty: fine
  bool saw_header = !c.csv;
  for (size_t i = 0; i < lines.size(); ++i) {
    // As RunPatternFile reads: one CR before the end dropped, blank lines
    // skipped (before the header too), then the header.
    std::string_view line = lines[i];
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    // A line with a NUL byte is not text: the run refuses it before
    // decoding (a dead letter under --on-error skip, except the header).
    const bool nul = line.find('\0') != std::string_view::npos;
    if (!nul && IsBlankLine(line)) continue;
    if (!saw_header) {
      saw_header = true;
      absl::Status status = csv.ReadHeader(line);
      header_ok = status.ok() && !nul;
      if (!status.ok()) CheckStatus(status, failures, "ReadHeader");
      continue;
    }
    if (c.csv && !header_ok) break;
    if (nul) {
      ++bad_lines;
      continue;
    }
    absl::StatusOr<Record> record =
        c.csv ? csv.Decode(line) : json.Decode(line);
    if (!record.ok()) {
      ++bad_lines;
      ++g_progress.rejected;
      CheckStatus(record.status(), failures,
                  c.csv ? "RecordCsvDecoder::Decode" : "RecordDecoder::Decode");
      Check(record.status().code() == absl::StatusCode::kInvalidArgument,
            failures,
            Cat("decode error is not kInvalidArgument: ",
                record.status().ToString()));
      continue;
    }
    ++g_progress.decoded;
    // Round trip: the event as JSON decodes to the same event.
    const std::string once = EventJson(*record, with_type);
    if (!IsValidJson(parser, once)) {
      failures.push_back({Cat("line ", i + 1, " (", line,
                              ") decodes to an event whose JSON is "
                              "not valid: ",
                              once)});
      continue;
    }
    // AppendEventJson puts "seq" first; the decoder ignores it.
    absl::StatusOr<Record> again = json.Decode(once);
    if (!again.ok()) {
      failures.push_back(
          {Cat("line ", i + 1, " (", line, ") re-encoded as ", once,
               " does not decode: ", Message(again.status()))});
      continue;
    }
    const std::string twice = EventJson(*again, with_type);
    Check(once == twice, failures,
          Cat("line ", i + 1, " (", line, ") round trip differs: ", once,
              " vs ", twice));
  }
  // The whole input, as `cep run` reads it.
  const std::string format = c.csv ? "csv" : "jsonl";
  const RunResult skip = Run(*file, c.input, kInputName,
                             {"--format", format, "--on-error", "skip"});
  if (verbose && !skip.stats.ok()) {
    std::cerr << "  run error: " << skip.stats.status() << "\n";
  }
  CheckRun(parser, skip, "RunPatternFile (--on-error skip)", failures);
  if (skip.stats.ok()) {
    uint64_t dead_lines = 0;
    for (std::string_view l : Split(skip.dead, '\n')) {
      dead_lines += !l.empty();
    }
    Check(skip.stats->errors == bad_lines, failures,
          Cat("--on-error skip counted ", skip.stats->errors, " errors; ",
              bad_lines, " lines do not decode"));
    Check(header_ok, failures, "a run over a bad CSV header succeeded");
    (void)dead_lines;
  } else if (header_ok) {
    // With a good header a skipping run only fails in the patterns (a
    // condition that threw) or at the file level.
    const std::string message = Message(skip.stats.status());
    Check(skip.stats.status().code() == absl::StatusCode::kUnknown ||
              message.rfind(Cat(kPatternName, ":"), 0) == 0,
          failures,
          Cat("a run with --on-error skip failed: ",
              skip.stats.status().ToString()));
  }
  const RunResult stop = Run(*file, c.input, kInputName, {"--format", format});
  CheckRun(parser, stop, "RunPatternFile (--on-error stop)", failures);
  if (stop.stats.ok()) {
    Check(bad_lines == 0 && header_ok, failures,
          "a run with --on-error stop succeeded over lines that do not decode");
  } else {
    const std::string message = Message(stop.stats.status());
    Check(message.rfind(Cat(kInputName, ":"), 0) == 0 ||
              message.rfind(Cat(kPatternName, ":"), 0) == 0,
          failures,
          Cat("a run error names neither the input nor the file: ", message));
  }
  return failures;
}

// ---- driver -----------------------------------------------------------------

struct Flags {
  std::string mode;
  double seconds = 60;
  uint64_t cases = UINT64_MAX;
  uint64_t seed = 1;
  std::optional<uint64_t> only_case;
  std::string repro;
  std::string out_dir = ".";
  double timeout = CEP_FUZZ_SANITIZED ? 15 : 5;
  bool keep_going = false;
  bool verbose = false;
  bool big_counts = false;
  PatternLimits limits;
};

[[noreturn]] void Usage(const std::string& error) {
  std::cerr << "cep_fuzz: error: " << error
            << "\nUsage: cep_fuzz pattern|input [--seconds N] [--cases N] "
               "[--seed S] [--case I] [--repro FILE] [--out DIR] "
               "[--timeout N] [--keep-going] [--max-terms N] [--max-depth N] "
               "[--big-counts] [--verbose]\n";
  std::exit(2);
}

Flags ParseFlags(int argc, char** argv) {
  Flags flags;
  if (const char* env = std::getenv("CEP_FUZZ_SECONDS")) {
    flags.seconds = std::atof(env);
  }
  if (argc < 2) Usage("missing mode");
  flags.mode = argv[1];
  if (flags.mode == "--help" || flags.mode == "-h") {
    std::cout << "Usage: cep_fuzz pattern|input [FLAGS]: see the banner of "
                 "tests/fuzz/fuzz.cpp\n"
                 "  --seconds N  --cases N  --seed S  --case I  --repro FILE\n"
                 "  --out DIR  --timeout N  --keep-going  --max-terms N\n"
                 "  --max-depth N  --big-counts  --verbose\n"
                 "Default time: CEP_FUZZ_SECONDS, else 60 s.\n";
    std::exit(0);
  }
  if (flags.mode != "pattern" && flags.mode != "input") {
    Usage("mode must be pattern or input, not '" + flags.mode + "'");
  }
  for (int i = 2; i < argc; ++i) {
    const std::string flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Usage(flag + " needs a value");
      return argv[++i];
    };
    auto number = [&]() -> uint64_t {
      const std::string v = value();
      char* end = nullptr;
      const unsigned long long n = std::strtoull(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0')
        Usage(flag + ": '" + v + "' is not a number");
      return n;
    };
    if (flag == "--seconds") {
      flags.seconds = static_cast<double>(number());
    } else if (flag == "--cases") {
      flags.cases = number();
    } else if (flag == "--seed") {
      flags.seed = number();
    } else if (flag == "--case") {
      flags.only_case = number();
    } else if (flag == "--repro") {
      flags.repro = value();
    } else if (flag == "--out") {
      flags.out_dir = value();
    } else if (flag == "--timeout") {
      flags.timeout = static_cast<double>(number());
    } else if (flag == "--keep-going") {
      flags.keep_going = true;
    } else if (flag == "--big-counts") {
      flags.big_counts = true;
    } else if (flag == "--verbose") {
      flags.verbose = true;
    } else if (flag == "--max-terms") {
      flags.limits.max_terms = number();
    } else if (flag == "--max-depth") {
      flags.limits.max_depth = number();
    } else {
      Usage("unknown flag " + flag);
    }
  }
  return flags;
}

// Runs one case (its input is `text`: a pattern file, or an encoded
// InputCase); reports and records failures.
void RunOne(Context& ctx, const std::string& text,
            simdjson::dom::parser& parser) {
  SetCurrent(ctx, text);
  if (ctx.verbose) {
    std::cerr << "case " << ctx.case_index << " (" << text.size()
              << " bytes)\n";
  }
  g_case_started_cpu_ns = MainCpuNs();
  g_case_started_ns = NowNs();
  std::vector<Failure> failures;
  try {
    if (ctx.mode == "pattern") {
      failures = RunPatternCase(text, parser, ctx.verbose, ctx.big_counts);
    } else {
      std::optional<InputCase> c = DecodeInputCase(text);
      if (!c) {
        failures.push_back({"not an input case (no input marker line)"});
      } else {
        failures = RunInputCase(*c, parser, ctx.verbose);
      }
    }
  } catch (const std::exception& e) {
    failures.push_back({Cat("exception escaped: ", e.what())});
  }
  g_case_started_ns = 0;
  if (failures.empty()) return;
  ++ctx.failures;
  const fs::path path = FailurePath(ctx);
  std::ofstream(path, std::ios::binary) << text;
  std::cerr << "\ncep_fuzz: FAILURE in mode " << ctx.mode << " seed "
            << ctx.seed << " case " << ctx.case_index << "\n";
  for (const Failure& f : failures) std::cerr << "  - " << f.what << "\n";
  std::cerr << "cep_fuzz: input written to " << path.string()
            << "; reproduce with: cep_fuzz " << ctx.mode << " --repro "
            << path.string() << "\n----- input -----\n"
            << text.substr(0, 64 << 10) << "\n----- end of input -----\n";
  if (!ctx.keep_going) std::exit(1);
}

int Main(int argc, char** argv) {
  const Flags flags = ParseFlags(argc, argv);
  InstallCrashHandlers();
  StartWatchdog(flags.timeout);
  Context ctx{.mode = flags.mode,
              .seed = flags.seed,
              .out_dir = flags.out_dir,
              .keep_going = flags.keep_going,
              .verbose = flags.verbose,
              .big_counts = flags.big_counts};
  simdjson::dom::parser parser;

  if (!flags.repro.empty()) {
    std::optional<std::string> text = ReadFile(flags.repro);
    if (!text) Usage("cannot read '" + flags.repro + "'");
    ctx.case_index = 0;
    ctx.out_dir = fs::temp_directory_path();
    ctx.keep_going = true;
    RunOne(ctx, *text, parser);
    std::cerr << "cep_fuzz: " << flags.repro << ": "
              << (ctx.failures ? "FAILED" : "passed") << "\n";
    return ctx.failures ? 1 : 0;
  }

  const Seeds seeds = LoadSeeds(CEP_SOURCE_DIR);
  if (seeds.pattern_files.empty()) Usage("no seed pattern files found");
  // Input mode: the seed files that parse, with their events.
  std::vector<SeedFile> seed_files;
  if (flags.mode == "input") {
    for (size_t i = 0; i < seeds.pattern_files.size(); ++i) {
      absl::StatusOr<PatternFile> file =
          ParsePatternFile(seeds.pattern_files[i], kPatternName);
      if (!file.ok() || file->schemas().empty()) continue;
      seed_files.push_back(
          {std::move(*file), seeds.pattern_files[i], seeds.case_events[i]});
    }
    if (seed_files.empty()) Usage("no seed pattern file parses");
  }

  const auto start = std::chrono::steady_clock::now();
  const auto deadline =
      start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                  std::chrono::duration<double>(flags.seconds));
  uint64_t ran = 0;
  for (uint64_t index = flags.only_case.value_or(0);; ++index) {
    if (ran >= flags.cases) break;
    if (!flags.only_case && std::chrono::steady_clock::now() >= deadline) break;
    ctx.case_index = index;
    Rng rng(flags.seed * 0x100000001b3ULL ^ SplitMix(index));
    std::string text;
    if (flags.mode == "pattern") {
      text = rng.Pick(seeds.pattern_files);
      const size_t rounds = rng.OneIn(2) ? 1 : rng.Skewed(6);
      for (size_t r = 0; r < rounds; ++r) {
        MutatePattern(rng, seeds, flags.limits, text);
      }
    } else {
      text = EncodeInputCase(GenerateInputCase(rng, seed_files, seeds));
    }
    RunOne(ctx, text, parser);
    ++ran;
    if (flags.only_case) break;
  }
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::cerr << "cep_fuzz " << flags.mode << ": " << ran << " cases, seed "
            << flags.seed << ", " << ctx.failures << " failures in " << elapsed
            << "s (";
  if (flags.mode == "pattern") {
    std::cerr << g_progress.parsed << " parsed, " << g_progress.compiled
              << " patterns compiled, ";
  } else {
    std::cerr << g_progress.decoded << " lines decoded, " << g_progress.rejected
              << " rejected, ";
  }
  std::cerr << g_progress.ran << " runs, " << g_progress.matches
            << " matches)\n";
  return ctx.failures ? 1 : 0;
}

}  // namespace
}  // namespace cep::fuzz

int main(int argc, char** argv) { return cep::fuzz::Main(argc, argv); }
