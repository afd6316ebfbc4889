#include "smaps.h"

#include <fstream>
#include <sstream>
#include <string>

namespace kiln::bench {

std::optional<MemoryUsage> read_memory_usage(pid_t pid, uint64_t guest_bytes) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/smaps");
  if (!in) return std::nullopt;
  MemoryUsage usage;
  uint64_t mapping_size = 0;
  uint64_t largest_guest = 0;
  std::string line;
  while (std::getline(in, line)) {
    // A mapping header: "start-end perms offset dev inode [path]".
    const auto dash = line.find('-');
    const auto space = line.find(' ');
    if (dash != std::string::npos && space != std::string::npos && dash < space && line.find(':') > space) {
      const uint64_t start = std::stoull(line.substr(0, dash), nullptr, 16);
      const uint64_t end = std::stoull(line.substr(dash + 1, space - dash - 1), nullptr, 16);
      mapping_size = end - start;
      continue;
    }
    std::istringstream fields(line);
    std::string key;
    uint64_t kib = 0;
    fields >> key >> kib;
    if (key == "Pss:") {
      usage.total_pss_kib += kib;
      if (mapping_size >= guest_bytes && mapping_size >= largest_guest) {
        largest_guest = mapping_size;
        usage.guest_pss_kib = kib;
      }
    } else if (key == "Rss:") {
      usage.total_rss_kib += kib;
    }
  }
  return usage;
}

}  // namespace kiln::bench
