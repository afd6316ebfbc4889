// What a VMM hands to the guest at boot, read from either protocol into one view:
// PVH struct hvm_start_info (xen/include/public/arch-x86/hvm/start_info.h) or Linux
// struct boot_params (arch/x86/include/uapi/asm/bootparam.h).
#pragma once

#include <cstdint>

#include "runtime/string_util.h"

namespace kiln::guest {

// The first problem found; printed as "result fail <reason>[ <value>]".
struct Failure {
  const char* reason = nullptr;
  bool has_value = false;
  uint64_t value = 0;

  [[nodiscard]] bool failed() const { return reason != nullptr; }
  // Records a problem unless an earlier one is already recorded.
  void note(const char* why) {
    if (reason == nullptr) reason = why;
  }
  void note(const char* why, uint64_t v) {
    if (reason == nullptr) {
      reason = why;
      has_value = true;
      value = v;
    }
  }
};

// An e820 table in guest memory. Both protocols use {u64 addr; u64 size; u32 type} at the start
// of each entry; boot_params packs entries at 20 bytes, PVH pads them to 24.
struct E820Table {
  uint64_t address = 0;
  uint32_t count = 0;
  uint32_t stride = 0;
};

struct E820Entry {
  uint64_t start;
  uint64_t size;
  uint32_t type;
};

inline constexpr uint32_t kE820Ram = 1;
// E820_MAX_ENTRIES_ZEROPAGE: the size of boot_params.e820_table, also applied to PVH.
inline constexpr uint32_t kMaxE820Entries = 128;
// Longest command line accepted, including the NUL (the bzImage header says cmdline_size 4095).
inline constexpr uint64_t kMaxCmdline = 4096;

struct BootInfo {
  Failure failure;
  bool fatal = false;  // nothing but the failure can be reported (bad magic, null pointer)
  bool has_cmdline = false;
  Text cmdline;  // valid if has_cmdline
  bool has_e820 = false;
  E820Table e820;  // valid if has_e820
  bool has_initrd = false;
  uint64_t initrd_address = 0;
  uint64_t initrd_size = 0;
};

[[nodiscard]] BootInfo read_pvh_start_info(uint64_t address);
[[nodiscard]] BootInfo read_boot_params(uint64_t address);

[[nodiscard]] E820Entry e820_entry(const E820Table& table, uint32_t index);

}  // namespace kiln::guest
