// The rows of blk_bench's table: one workload each, kiln and QEMU figures (one value per run or
// pass, reduced to the median), the host's fio figure, and what went wrong where a value is missing.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace kiln::bench {

// One VMM's figures for one workload.
struct Measured {
  std::vector<double> values;  // one per run (probe) or dd pass (Linux)
  std::string note;            // why values are missing; "" when all went well
};

struct Row {
  std::string workload;  // e.g. "probe 4K randread qd=8"
  std::string unit;      // "IOPS" or "MB/s"
  Measured kiln;
  Measured qemu;
  std::optional<double> host;  // host fio on the same file
  std::string host_note;
};

// Median of `v`; nullopt when empty.
[[nodiscard]] std::optional<double> median(std::vector<double> v);

// The table (medians, kiln/QEMU ratio, host fio), then every run's values and the notes.
void print_table(const std::vector<Row>& rows, const std::string& title);

}  // namespace kiln::bench
