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
  std::vector<double> host_clock;  // Linux: MB/s per pass by the host's clock (a cross-check)
};

struct Row {
  std::string workload;  // e.g. "probe 4K randread qd=8"
  std::string unit;      // "IOPS" or "MB/s"
  Measured kiln;
  Measured qemu;
  std::optional<double> host;  // host fio on the same file
  std::string host_note;
  std::optional<size_t> baseline;  // the row (same workload over virtio-mmio) kiln is also compared with
};

// The table (medians, kiln/QEMU ratio, host fio and, where a row has a baseline, kiln over the
// baseline row's kiln: the "kiln/mmio" column), then every run's values and the notes.
void print_table(const std::vector<Row>& rows, const std::string& title);

}  // namespace kiln::bench
