#include "probe_output.h"

#include <cstdlib>
#include <sstream>

namespace kiln::test {
namespace {

std::vector<std::string> words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

ProbeLine parse_line(const std::string& rest) {
  ProbeLine line;
  const auto all = words(rest);
  if (all.empty()) return line;
  line.kind = all[0];
  for (size_t i = 1; i < all.size(); ++i) {
    const auto eq = all[i].find('=');
    if (eq != std::string::npos && eq > 0) line.fields.emplace(all[i].substr(0, eq), all[i].substr(eq + 1));
  }
  if (line.kind == "summary") return line;
  // name = first word after the kind; detail = everything after it, as printed.
  const size_t kind_end = rest.find(' ');
  if (kind_end == std::string::npos) return line;
  const size_t name_start = rest.find_first_not_of(' ', kind_end);
  if (name_start == std::string::npos) return line;
  const size_t name_end = rest.find(' ', name_start);
  line.name = rest.substr(name_start, name_end == std::string::npos ? std::string::npos : name_end - name_start);
  if (name_end != std::string::npos) line.detail = rest.substr(name_end + 1);
  return line;
}

std::optional<uint64_t> parse_count(const std::map<std::string, std::string>& fields, const std::string& key) {
  const auto it = fields.find(key);
  if (it == fields.end() || it->second.empty()) return std::nullopt;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(it->second.c_str(), &end, 10);
  if (*end != '\0') return std::nullopt;
  return v;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return "[" + out + "]";
}

}  // namespace

std::vector<std::string> ProbeOutput::passed() const {
  std::vector<std::string> out;
  for (const auto& l : lines)
    if (l.kind == "ok") out.push_back(l.name);
  return out;
}

std::vector<std::string> ProbeOutput::failed() const {
  std::vector<std::string> out;
  for (const auto& l : lines)
    if (l.kind == "fail") out.push_back(l.name);
  return out;
}

const ProbeLine* ProbeOutput::find(const std::string& kind, const std::string& name) const {
  for (const auto& l : lines)
    if (l.kind == kind && l.name == name) return &l;
  return nullptr;
}

std::vector<const ProbeLine*> ProbeOutput::find_all(const std::string& kind, const std::string& name) const {
  std::vector<const ProbeLine*> out;
  for (const auto& l : lines)
    if (l.kind == kind && l.name == name) out.push_back(&l);
  return out;
}

ProbeOutput parse_probe_output(const std::string& text) {
  static const std::string kPrefix = "PROBE ";
  ProbeOutput out;
  std::istringstream in(text);
  for (std::string raw; std::getline(in, raw);) {
    std::string s;
    for (char c : raw)
      if (c != '\r') s += c;
    if (s.compare(0, kPrefix.size(), kPrefix) != 0) continue;
    ProbeLine line = parse_line(s.substr(kPrefix.size()));
    if (line.kind.empty()) continue;
    if (line.kind == "summary") {
      ++out.summary_count;
      const auto passed = parse_count(line.fields, "passed");
      const auto failed = parse_count(line.fields, "failed");
      if (!out.summary && passed && failed) out.summary = ProbeSummary{*passed, *failed};
    }
    out.lines.push_back(std::move(line));
  }
  return out;
}

std::vector<std::string> probe_run_problems(const ProbeOutput& output, const ProbeRunStatus& status,
                                            const std::vector<std::string>& expected_failures) {
  std::vector<std::string> problems;
  if (status.timed_out) problems.push_back("the VMM did not exit in time (probe hung?)");
  if (status.exit_status != 0) problems.push_back("VMM exit status " + std::to_string(status.exit_status) + ", expected 0");
  if (!output.summary) {
    problems.push_back("no valid 'PROBE summary' line");
  } else {
    if (output.summary_count != 1) problems.push_back(std::to_string(output.summary_count) + " summary lines");
    const auto passed = output.passed().size();
    const auto failed = output.failed().size();
    if (output.summary->passed != passed || output.summary->failed != failed) {
      std::ostringstream m;
      m << "summary says passed=" << output.summary->passed << " failed=" << output.summary->failed << " but there are "
        << passed << " ok and " << failed << " fail lines";
      problems.push_back(m.str());
    }
  }
  if (output.failed() != expected_failures) {
    problems.push_back("failed checks " + join(output.failed()) + ", expected " + join(expected_failures));
  }
  return problems;
}

std::optional<double> field_number(const ProbeLine& line, const std::string& key) {
  const auto it = line.fields.find(key);
  if (it == line.fields.end() || it->second.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(it->second.c_str(), &end);
  if (*end != '\0') return std::nullopt;
  return v;
}

}  // namespace kiln::test
