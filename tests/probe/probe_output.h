// Parses what kiln-probe prints on COM1 (guests/probe/README.md, "Output") and decides whether a
// run passed: the summary line is the source of truth, cross-checked against the check lines.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kiln::test {

// One "PROBE <kind> ..." line.
struct ProbeLine {
  std::string kind;    // start | scenario | ok | fail | result | info | summary
  std::string name;    // first word after the kind (check, result or info name); "" for summary
  std::string detail;  // the rest of the line after the name
  std::map<std::string, std::string> fields;  // key=value words of the line after the kind
};

struct ProbeSummary {
  uint64_t passed = 0;
  uint64_t failed = 0;
};

struct ProbeOutput {
  std::vector<ProbeLine> lines;
  std::optional<ProbeSummary> summary;  // the first summary line, if any
  int summary_count = 0;

  [[nodiscard]] std::vector<std::string> passed() const;  // names of "ok" lines, in order
  [[nodiscard]] std::vector<std::string> failed() const;  // names of "fail" lines, in order
  // The first line of `kind` named `name`, or nullptr.
  [[nodiscard]] const ProbeLine* find(const std::string& kind, const std::string& name) const;
  // All lines of `kind` named `name`.
  [[nodiscard]] std::vector<const ProbeLine*> find_all(const std::string& kind, const std::string& name) const;
};

// Lines not starting with "PROBE " (firmware, VMM noise) are skipped; '\r' is ignored.
[[nodiscard]] ProbeOutput parse_probe_output(const std::string& text);

// What a harness knows about one run besides the output.
struct ProbeRunStatus {
  int exit_status = -1;
  bool timed_out = false;
};

// Problems with a run, empty if it passed: a time-out, an exit status other than 0, no summary
// line or more than one, a summary that disagrees with the ok/fail lines, or fail lines other
// than exactly `expected_failures` (names of checks that are meant to fail, in order).
[[nodiscard]] std::vector<std::string> probe_run_problems(const ProbeOutput& output, const ProbeRunStatus& status,
                                                          const std::vector<std::string>& expected_failures = {});

// Parses a decimal with an optional fraction ("53584.9") from a field; nullopt if absent or bad.
[[nodiscard]] std::optional<double> field_number(const ProbeLine& line, const std::string& key);

}  // namespace kiln::test
