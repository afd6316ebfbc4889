// The host's own fio on the bench image: what the host's page cache and io_uring deliver without
// any VMM in the way, the limit for the rows of the table.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"

namespace kiln::bench {

struct FioJob {
  bool random = false;  // randread, else read (sequential, wrapping at the end of the file)
  uint32_t block_size = 4096;
  uint32_t iodepth = 1;
  int seconds = 3;
};

// The fio binary: $KILN_FIO if set, else "fio" on PATH; "" if there is none.
[[nodiscard]] std::string find_fio();

struct FioResult {
  double iops = 0;
  double mbps = 0;  // MB = 10^6 bytes
};

// One time-based job on `image`: io_uring, buffered (direct=0, like kiln without ,direct and QEMU
// with cache=writeback), the page cache left as it is (invalidate=0), read-only.
[[nodiscard]] Result<FioResult> run_fio(const std::string& fio, const std::string& image, const FioJob& job);

}  // namespace kiln::bench
