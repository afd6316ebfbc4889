// HostIdentity of the machine kiln runs on (CPUID instruction, Intel SDM vol. 2A "CPUID").
#include <cpuid.h>

#include <cstring>

#include <fmt/format.h>

#include "snapshot/snapshot_file.h"

#ifndef KILN_VERSION
#define KILN_VERSION "unknown"
#endif

namespace kiln::snapshot {

HostIdentity current_host_identity() {
  HostIdentity id;
  id.kiln_version = KILN_VERSION;
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(0, &eax, &ebx, &ecx, &edx) == 0) return id;
  char vendor[12];
  std::memcpy(vendor, &ebx, 4);
  std::memcpy(vendor + 4, &edx, 4);
  std::memcpy(vendor + 8, &ecx, 4);
  id.cpu_vendor.assign(vendor, strnlen(vendor, sizeof(vendor)));
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return id;
  const uint32_t base_family = (eax >> 8) & 0xf;
  const uint32_t base_model = (eax >> 4) & 0xf;
  id.family = base_family == 0xf ? base_family + ((eax >> 20) & 0xff) : base_family;
  id.model = base_family == 0x6 || base_family == 0xf ? base_model | (((eax >> 16) & 0xf) << 4) : base_model;
  id.stepping = eax & 0xf;
  return id;
}

std::string describe(const HostIdentity& id) {
  return fmt::format("{} family {} model {} stepping {}, kiln {}", id.cpu_vendor.empty() ? "unknown CPU" : id.cpu_vendor,
                     id.family, id.model, id.stepping, id.kiln_version);
}

}  // namespace kiln::snapshot
