// Reads a process's memory use from /proc/PID/smaps: total PSS/RSS and the PSS of its guest RAM.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace kiln::bench {

struct MemoryUsage {
  uint64_t total_pss_kib = 0;
  uint64_t total_rss_kib = 0;
  uint64_t guest_pss_kib = 0;  // the largest mapping of at least guest_bytes: the guest's RAM
};

std::optional<MemoryUsage> read_memory_usage(pid_t pid, uint64_t guest_bytes);

}  // namespace kiln::bench
