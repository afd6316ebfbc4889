// The DSDT's AML: the devices ACPI enumerates for the guest (ACPI 6.5 section 5.2.11.1).
//
//   Scope (\_SB) {
//     Device (COM1) { _HID EISAID("PNP0501"), _UID 1, _CRS { IO 0x3f8 len 8, IRQNoFlags {4} } }
//     Device (PS2K) { _HID EISAID("PNP0303"), _UID 0, _CRS { IO 0x60 len 1, IO 0x64 len 1, IRQNoFlags {1} } }
//     Device (V000) { _HID "LNRO0005", _UID 0, _CCA 1,
//                     _CRS { Memory32Fixed (ReadWrite, base, size), Interrupt (Edge, ActiveHigh) {gsi} } }
//     ...one Vxxx (hex index) per AcpiConfig::mmio_devices entry
//     Device (PCI0) { _HID EISAID("PNP0A03"), _UID 0, _SEG 0, _BBN 0,       with AcpiConfig::pci_root
//                     _CRS { WordBusNumber 0-0, IO 0xcf8 len 8, WordIO window, DWordMemory window },
//                     _PRT { Package {slot << 16 | 0xffff, 0 (INTA#), 0, gsi}, ... } }
//   }
//   Name (_S5, Package {5, 0, 0, 0})   when AcpiConfig::sleep_port != 0
#pragma once

#include <cstdint>
#include <vector>

#include "arch/x86_64/platform/acpi.h"
#include "common/result.h"

namespace kiln::x86 {

// MMIO devices must sit in kiln's MMIO hole (layout.h), clear of the IOAPIC and local APIC pages
// and of each other, with distinct GSIs below kIoapicPins other than 0 (PIT), 2 (cascade) and
// kCom1Irq, and 1 (keyboard).
[[nodiscard]] Result<std::vector<uint8_t>> dsdt_aml(const AcpiConfig& config);

}  // namespace kiln::x86
