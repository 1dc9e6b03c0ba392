// testing/prometheus_text.hpp — for tests of the live metrics
// (`cep run --metrics-port`): a plain HTTP/1.1 GET over a POSIX socket, and
// a checker of the Prometheus text exposition format (0.0.4).
#pragma once

#include <cmath>
#include <cstdlib>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace cep::testing {

// GET http://127.0.0.1:PORT`path` with a 5 s socket timeout; the whole
// response (status line, headers, body), or "" when the connection failed.
inline std::string HttpGet(int port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  const timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address),
                sizeof(address)) != 0) {
    ::close(fd);
    return "";
  }
  const std::string request = "GET " + path +
                              " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              "Connection: close\r\n\r\n";
  if (::send(fd, request.data(), request.size(), 0) !=
      static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return "";
  }
  std::string response;
  char buffer[4096];
  for (ssize_t n; (n = ::recv(fd, buffer, sizeof(buffer), 0)) > 0;) {
    response.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return response;
}

// The body of an HTTP response ("" when there is none).
inline std::string HttpBody(const std::string& response) {
  const size_t end = response.find("\r\n\r\n");
  return end == std::string::npos ? "" : response.substr(end + 4);
}

// The value of the sample `name_and_labels` (the text before the value,
// e.g. `cep_matches_total{pattern="p"}`) in an exposition; "" when absent.
inline std::string SampleValue(const std::string& text,
                               const std::string& name_and_labels) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.size() > name_and_labels.size() + 1 &&
        line.compare(0, name_and_labels.size(), name_and_labels) == 0 &&
        line[name_and_labels.size()] == ' ') {
      return line.substr(name_and_labels.size() + 1);
    }
  }
  return "";
}

// Checks `text` against the text exposition format: every line is
// `# HELP NAME TEXT`, `# TYPE NAME counter|gauge|histogram` (once per name,
// before its samples) or `NAME[{LABEL="VALUE",...}] VALUE`; a histogram's
// `_bucket` series rise with `le` to `le="+Inf"`, which equals `_count`.
// The problems found, one per entry; empty when the text is valid.
inline std::vector<std::string> CheckExposition(const std::string& text) {
  static const std::regex kHelp(R"(# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*)");
  static const std::regex kType(
      R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram))");
  static const std::regex kSample(
      R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*)\})? (\S+))");
  static const std::regex kLabel(
      R"(([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)\")");
  std::vector<std::string> problems;
  if (text.empty() || text.back() != '\n') {
    problems.push_back("the text does not end with a newline");
  }
  std::map<std::string, std::string> types;
  // Histogram series (name + labels without le) -> (le, count) in order;
  // and their _count.
  std::map<std::string, std::vector<std::pair<double, double>>> buckets;
  std::map<std::string, double> counts;
  std::istringstream lines(text);
  int line_no = 0;
  for (std::string line; std::getline(lines, line);) {
    ++line_no;
    const std::string where = "line " + std::to_string(line_no) + ": ";
    std::smatch match;
    if (line.rfind("# HELP ", 0) == 0) {
      if (!std::regex_match(line, kHelp)) problems.push_back(where + line);
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      if (!std::regex_match(line, match, kType)) {
        problems.push_back(where + line);
      } else if (!types.emplace(match[1], match[2]).second) {
        problems.push_back(where + "a second TYPE for " + match[1].str());
      }
      continue;
    }
    if (!std::regex_match(line, match, kSample)) {
      problems.push_back(where + "not a sample: " + line);
      continue;
    }
    const std::string name = match[1];
    const std::string value_text = match[4];
    char* end = nullptr;
    const double value = std::strtod(value_text.c_str(), &end);
    if (end == value_text.c_str() || *end != '\0') {
      problems.push_back(where + "bad value: " + line);
      continue;
    }
    std::string family = name;
    std::string suffix;
    for (const char* s : {"_bucket", "_sum", "_count"}) {
      const std::string candidate(s);
      if (name.size() > candidate.size() &&
          name.compare(name.size() - candidate.size(), candidate.size(),
                       candidate) == 0 &&
          types.count(name.substr(0, name.size() - candidate.size())) > 0 &&
          types[name.substr(0, name.size() - candidate.size())] ==
              "histogram") {
        family = name.substr(0, name.size() - candidate.size());
        suffix = candidate;
      }
    }
    if (types.count(family) == 0) {
      problems.push_back(where + "no TYPE before " + name);
      continue;
    }
    if (types[family] != "histogram") continue;
    if (suffix.empty()) {
      problems.push_back(where + "a histogram sample without a suffix");
      continue;
    }
    // The series: labels other than le.
    std::string series = family + "{";
    std::string le;
    const std::string labels = match[3];
    for (std::sregex_iterator it(labels.begin(), labels.end(), kLabel), done;
         it != done; ++it) {
      if ((*it)[1] == "le") {
        le = (*it)[2];
      } else {
        series += (*it)[0].str() + ",";
      }
    }
    series += "}";
    if (suffix == "_bucket") {
      if (le.empty()) {
        problems.push_back(where + "a bucket without le");
        continue;
      }
      const double bound =
          le == "+Inf" ? HUGE_VAL : std::strtod(le.c_str(), nullptr);
      auto& list = buckets[series];
      if (!list.empty() &&
          (bound <= list.back().first || value < list.back().second)) {
        problems.push_back(where + "buckets do not rise: " + line);
      }
      list.emplace_back(bound, value);
    } else if (suffix == "_count") {
      counts[series] = value;
    }
  }
  for (const auto& [series, list] : buckets) {
    if (list.empty() || list.back().first != HUGE_VAL) {
      problems.push_back(series + ": no le=\"+Inf\" bucket");
    } else if (counts.count(series) == 0 ||
               counts[series] != list.back().second) {
      problems.push_back(series + ": le=\"+Inf\" is not _count");
    }
  }
  return problems;
}

}  // namespace cep::testing
