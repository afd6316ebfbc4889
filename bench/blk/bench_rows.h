// blk_bench's rows: which workload each one measures, over which transport, and which row its kiln
// figure is also compared with (the same workload over virtio-mmio: the table's kiln/mmio).
#pragma once

#include <cstddef>
#include <vector>

#include "bench_options.h"
#include "bench_table.h"
#include "linux_rows.h"
#include "probe_rows.h"

namespace kiln::bench {

struct ProbeRow {
  ProbeWorkload workload;
  size_t row;    // index in the table
  size_t first;  // the row of the same workload over the first transport (== row there): one fio job
};

struct LinuxRow {
  LinuxBus bus;
  size_t row;
};

[[nodiscard]] bool wants(const Options& o, Transport t);

// Probe rows: 4K randread, then --seq-bs seqread (halved where qd buffers do not fit the probe's
// arena), each at qd 1, 8, 64, each over mmio then PCI (those --transports names). Linux rows:
// mmio; PCI with MSI-X; PCI with pci=nomsi. Rows are named "<workload>, <transport>" unless
// mmio alone is measured (then as before PCI rows existed).
void make_rows(const Options& o, std::vector<Row>& rows, std::vector<ProbeRow>& probe,
               std::vector<LinuxRow>& linux_rows);

}  // namespace kiln::bench
