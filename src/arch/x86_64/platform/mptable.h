// Intel MultiProcessor Specification 1.4 tables: how a kernel without ACPI (or with acpi=off)
// finds the vCPUs and the IOAPIC. Written at kMpTableStart (platform_layout.h):
//   floating pointer "_MP_" (16 bytes, section 4.1) -> configuration table "PCMP" (section 4.2)
//   with one processor entry per vCPU, one ISA bus, the IOAPIC, an I/O interrupt entry per
//   IOAPIC pin (ISA IRQ n -> pin n, KVM's default routing) and the two local interrupt entries
//   of virtual wire mode (LINT0 ExtINT, LINT1 NMI). With PCI functions: a PCI bus (id 1 = PCI bus
//   0) and, per function, its INTA# on its IOAPIC pin (level, active low) in place of that pin's
//   ISA entry, so that a kernel booted with acpi=off routes PCI INTx without the DSDT's _PRT.
#pragma once

#include <cstdint>
#include <span>

#include "arch/x86_64/platform/platform_layout.h"
#include "common/result.h"
#include "memory/guest_memory.h"

namespace kiln::x86 {

// Structures of MP spec 1.4 chapter 4 (Linux arch/x86/include/asm/mpspec_def.h).
struct __attribute__((packed)) MpFloatingPointer {
  char signature[4];  // "_MP_"
  uint32_t config_table_addr;
  uint8_t length_paragraphs;  // 1: 16 bytes
  uint8_t spec_rev;           // 4: version 1.4
  uint8_t checksum;
  uint8_t features1;  // 0: a configuration table is present
  uint8_t features2;  // bit 7 IMCRP clear: virtual wire mode
  uint8_t features3_5[3];
};
static_assert(sizeof(MpFloatingPointer) == 16);

struct __attribute__((packed)) MpConfigHeader {
  char signature[4];      // "PCMP"
  uint16_t base_length;   // header plus all base entries
  uint8_t spec_rev;
  uint8_t checksum;
  char oem_id[8];
  char product_id[12];
  uint32_t oem_table_addr;
  uint16_t oem_table_size;
  uint16_t entry_count;
  uint32_t lapic_addr;
  uint16_t ext_table_length;
  uint8_t ext_table_checksum;
  uint8_t reserved;
};
static_assert(sizeof(MpConfigHeader) == 44);

enum MpEntryType : uint8_t { kMpProcessor = 0, kMpBus = 1, kMpIoapic = 2, kMpIoInterrupt = 3, kMpLocalInterrupt = 4 };

struct __attribute__((packed)) MpProcessorEntry {
  uint8_t type;
  uint8_t lapic_id;
  uint8_t lapic_version;
  uint8_t cpu_flags;  // bit 0 enabled, bit 1 bootstrap processor
  uint32_t cpu_signature;
  uint32_t feature_flags;
  uint32_t reserved[2];
};
static_assert(sizeof(MpProcessorEntry) == 20);

struct __attribute__((packed)) MpBusEntry {
  uint8_t type;
  uint8_t bus_id;
  char bus_type[6];  // "ISA   "
};
static_assert(sizeof(MpBusEntry) == 8);

struct __attribute__((packed)) MpIoapicEntry {
  uint8_t type;
  uint8_t ioapic_id;
  uint8_t ioapic_version;
  uint8_t flags;  // bit 0 usable
  uint32_t ioapic_addr;
};
static_assert(sizeof(MpIoapicEntry) == 8);

// Both interrupt entry types share this layout (sections 4.3.4 and 4.3.5).
struct __attribute__((packed)) MpInterruptEntry {
  uint8_t type;
  uint8_t interrupt_type;  // MpInterruptType
  uint16_t flags;          // polarity bits 1:0, trigger bits 3:2; 0 conforms to the bus (ISA: edge, high)
  uint8_t source_bus;
  uint8_t source_irq;
  uint8_t dest_apic_id;  // IOAPIC id, or 0xff for all local APICs
  uint8_t dest_pin;      // IOAPIC pin, or LINT0/LINT1
};
static_assert(sizeof(MpInterruptEntry) == 8);

enum MpInterruptType : uint8_t { kMpInt = 0, kMpNmi = 1, kMpSmi = 2, kMpExtInt = 3 };

// What processor entries report: CPUID leaf 1 EAX[11:0] (stepping, model, family) and EDX.
// The default (family 6, FPU and APIC) is what a guest needs when the VMM has nothing better.
struct MpCpuSignature {
  uint32_t signature = 0x600;
  uint32_t features = (1u << 0) | (1u << 9);
};

// A PCI function's INTA# (bus 0) and the IOAPIC pin it is wired to.
struct MpPciInterrupt {
  uint8_t slot = 0;
  uint8_t ioapic_pin = 0;
};

// Bytes the tables take for `vcpus` processors (floating pointer included), with or without a PCI
// bus (each PCI entry replaces the ISA entry of its pin).
[[nodiscard]] constexpr uint64_t mptable_size(uint32_t vcpus, bool pci = false) {
  return sizeof(MpFloatingPointer) + sizeof(MpConfigHeader) + uint64_t{vcpus} * sizeof(MpProcessorEntry) +
         sizeof(MpBusEntry) * (pci ? 2 : 1) + sizeof(MpIoapicEntry) + (kIoapicPins + 2) * sizeof(MpInterruptEntry);
}
static_assert(mptable_size(kMaxVcpus, true) <= kMpTableEnd.raw() - kMpTableStart.raw(), "MP area too small");

// Writes the floating pointer at kMpFloatingPointerAddr and the configuration table after it.
// Fails for 0 or more than kMaxVcpus vCPUs, a PCI slot or pin out of range or used twice, or when
// guest RAM does not cover the MP area.
[[nodiscard]] Status write_mptable(const GuestMemory& mem, uint32_t vcpus, const MpCpuSignature& cpu = {},
                                   std::span<const MpPciInterrupt> pci = {});

}  // namespace kiln::x86
