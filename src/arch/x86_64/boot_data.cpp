#include "arch/x86_64/boot_data.h"

#include <algorithm>
#include <string>

#include "arch/x86_64/layout.h"

namespace kiln::x86 {

namespace {
constexpr uint64_t kPage = 4 * KiB;
}  // namespace

Status write_cmdline(const GuestMemory& mem, std::string_view cmdline, uint64_t max_len,
                     std::string_view limit_name) {
  if (cmdline.size() > max_len) {
    return fail("command line of {} bytes exceeds {} {}", cmdline.size(), limit_name, max_len);
  }
  if (cmdline.size() + 1 > kCmdlineMaxBytes) {
    return fail("command line of {} bytes exceeds kiln's limit of {}", cmdline.size(), kCmdlineMaxBytes - 1);
  }
  if (cmdline.find('\0') != std::string_view::npos) return fail("command line contains a NUL byte");
  std::string buf(cmdline);
  auto bytes = std::span(reinterpret_cast<const uint8_t*>(buf.c_str()), buf.size() + 1);
  auto st = mem.write(kCmdlineAddr, bytes);
  if (!st) return wrap("writing the command line", st.error());
  return {};
}

std::optional<uint64_t> place_initrd(uint64_t size, uint64_t floor, uint64_t limit) {
  if (size > limit) return std::nullopt;
  const uint64_t start = (limit - size) & ~(kPage - 1);
  if (start < floor) return std::nullopt;
  return start;
}

Result<MemoryRange> load_initrd(const GuestMemory& mem, std::span<const uint8_t> initrd, uint64_t floor,
                                uint64_t addr_max) {
  const uint64_t limit = std::min(uint64_t{addr_max} + 1, low_ram_end(mem).raw());
  const auto start = place_initrd(initrd.size(), floor, limit);
  if (!start) {
    return fail("initrd of {} MiB does not fit below initrd_addr_max {:#x} (free RAM for it is [{:#x}, {:#x}))",
                (initrd.size() + MiB - 1) / MiB, addr_max, floor, limit);
  }
  auto st = mem.write(GuestAddress(*start), initrd);
  if (!st) return wrap("writing the initrd", st.error());
  return MemoryRange{GuestAddress(*start), initrd.size()};
}

}  // namespace kiln::x86
