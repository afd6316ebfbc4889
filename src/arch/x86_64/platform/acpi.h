// ACPI tables for a hardware-reduced ACPI 6.x platform, the way the Debian cloud kernel (no MP
// table parser) finds the vCPUs, the IOAPIC, COM1, virtio-mmio devices and how to power off.
//
// Written in [kAcpiStart, kAcpiEnd) (platform_layout.h):
//   RSDP (revision 2) at kRsdpAddr -> XSDT (and RSDT for ACPI 1.0 readers) -> FADT, MADT
//   FADT -> DSDT (X_DSDT)
// FADT: revision 6, HW_REDUCED_ACPI; IAPC_BOOT_ARCH says legacy devices and an 8042 exist (kiln's
// i8042 serves reboot=k) and that there is no VGA, no MSI, no CMOS RTC; RESET_REG is the byte at
// I/O port kResetPort (value kResetValue); SLEEP_CONTROL_REG / SLEEP_STATUS_REG are the byte at
// AcpiConfig::sleep_port (kSleepValueS5 written there means power off).
// MADT: local APIC at kLapicAddr, PCAT_COMPAT (KVM emulates the dual 8259), one enabled local
// APIC per vCPU (APIC id = ACPI processor UID = vCPU index), the IOAPIC (id ioapic_id(vcpus),
// GSI base 0), no interrupt source overrides (ISA IRQ n = GSI n, see platform_layout.h) and a
// local APIC NMI on LINT1 of all processors.
// DSDT: \_SB.COM1 (PNP0501, I/O 0x3f8-0x3ff, IRQ 4), one \_SB.Vxxx device per MmioDeviceInfo,
// and \_S5 = Package {5, 0, 0, 0}.
#pragma once

#include <cstdint>
#include <string>
#include <optional>
#include <vector>

#include "arch/x86_64/platform/platform_layout.h"
#include "common/result.h"
#include "memory/guest_address.h"
#include "memory/guest_memory.h"

namespace kiln::x86 {

// Linux's virtio-mmio driver matches this ACPI id (drivers/virtio/virtio_mmio.c).
inline constexpr const char* kVirtioMmioHid = "LNRO0005";

// A memory-mapped device for the DSDT: _HID hid ("LNRO0005" or an EISA id such as "PNP0C0C"),
// _CRS Memory32Fixed(base, size) and one edge-triggered, active-high GSI (as Firecracker and
// Cloud Hypervisor describe virtio-mmio: KVM irqfd and KVM_IRQ_LINE pulses are edges).
struct MmioDeviceInfo {
  std::string hid = kVirtioMmioHid;
  GuestAddress base;
  uint64_t size = 0;
  uint32_t gsi = 0;
};

// PCI bus 0 for the DSDT's root bridge (PNP0A03): the windows its BARs live in and, per slot, the
// GSI its INTA# is wired to (level-triggered, active low, as _PRT entries with a GSI mean).
struct PciRootInfo {
  uint16_t io_min = 0;
  uint16_t io_max = 0;  // inclusive
  uint32_t mem_min = 0;
  uint32_t mem_max = 0;  // inclusive
  struct Route {
    uint32_t slot = 0;
    uint32_t gsi = 0;
  };
  std::vector<Route> intx;
};

struct AcpiConfig {
  uint32_t vcpus = 1;
  std::vector<MmioDeviceInfo> mmio_devices;
  // The I/O port of the ACPI sleep registers; 0 leaves them out (no ACPI power-off, no \_S5).
  uint16_t sleep_port = kDefaultSleepPort;
  std::optional<PciRootInfo> pci_root;  // none: no PCI bus in the DSDT
};

// Builds and writes all tables; returns the RSDP address (kRsdpAddr) for boot_params.acpi_rsdp_addr
// and hvm_start_info.rsdp_paddr. Fails for a bad vCPU count or device list, or when the tables do
// not fit the ACPI area or guest RAM.
[[nodiscard]] Result<GuestAddress> write_acpi_tables(const GuestMemory& mem, const AcpiConfig& config);

}  // namespace kiln::x86
