// What the probe needs from the PVH boot information (struct hvm_start_info, Xen's
// xen/include/public/arch-x86/hvm/start_info.h): that it is there, and the command line.
#pragma once

#include <cstdint>

#include "runtime/string_util.h"

namespace kiln::probe {

struct StartInfo {
  bool ok = false;
  const char* error = nullptr;  // why not ok
  uint64_t error_value = 0;
  guest::Text cmdline;          // empty if the VMM passed none
};

// `kind` and `info` as the runtime hands them to kiln_main. The probe supports only the PVH
// entry (the one both kiln and QEMU microvm use for an ELF with a PVH note).
[[nodiscard]] StartInfo read_start_info(uint32_t kind, uint64_t info);

}  // namespace kiln::probe
