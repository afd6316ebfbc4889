// A benchmark's table, kiln next to QEMU: one row per figure, min / median / max over the runs for
// each VMM, and the ratio of the medians; a note per cell says why runs are missing.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "stats.h"  // median, ratio

namespace kiln::bench {

struct Cell {
  std::vector<double> values;  // one per run
  std::string note;            // why some are missing
};

struct Row {
  std::string name;
  std::string unit;
  Cell kiln;
  Cell qemu;
};

// Nearest-rank percentile (p in 0..100) of a non-empty `v`.
[[nodiscard]] double percentile(std::vector<double> v, double p);
// "12.3 / 14.0 / 20.1", or "n/a".
[[nodiscard]] std::string min_med_max(std::vector<double> v);

void add(Cell& cell, const std::optional<double>& v);

// The table, then the notes.
void print_table(const std::vector<Row>& rows, const std::string& title);
// "failures and oddities:" and one line each; nothing when there are none.
void print_failures(const std::vector<std::string>& failures);

}  // namespace kiln::bench
