// Parses what kiln's boot-check test guest prints on COM1.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kiln::test {

struct E820Line {
  uint64_t start = 0;
  uint64_t size = 0;
  uint32_t type = 0;
};

struct GuestReport {
  std::string boot;      // pvh | elf64 | bzimage
  std::string cmdline;
  std::vector<E820Line> e820;
  uint64_t ram = 0;
  bool has_initrd = false;
  uint64_t initrd_addr = 0;
  uint64_t initrd_size = 0;
  uint64_t initrd_fnv = 0;
  std::string result;    // "ok" or "fail <reason>"
};

std::optional<GuestReport> parse_guest_report(const std::string& out);
uint64_t fnv1a64(const std::vector<uint8_t>& bytes);

}  // namespace kiln::test
