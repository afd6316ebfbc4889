// The PC platform kiln describes to the guest firmware-style: interrupt controllers, where the
// MP table and ACPI tables live, and the I/O ports the ACPI tables point at.
//
// Both tables sit in the BIOS area [0xe0000, 0x100000), which e820.cpp already reports as
// reserved (with the EBDA from 0x9fc00), and where guests scan for them:
//   [0xe0000, 0xf0000)  ACPI: the RSDP at 0xe0000 (Linux's legacy scan covers 0xe0000..0xfffff),
//                       then DSDT, FADT, MADT, XSDT, RSDT.
//   [0xf0000, 0x100000) MP table: the "_MP_" floating pointer at 0xf0000 (scanned by Linux in
//                       0xf0000..0xfffff), the "PCMP" configuration table right after it.
#pragma once

#include <cstdint>

#include "memory/guest_address.h"

namespace kiln::x86 {

inline constexpr GuestAddress kAcpiStart{0xe0000};
inline constexpr GuestAddress kAcpiEnd{0xf0000};
inline constexpr GuestAddress kRsdpAddr = kAcpiStart;

inline constexpr GuestAddress kMpTableStart{0xf0000};
inline constexpr GuestAddress kMpTableEnd{0x100000};
inline constexpr GuestAddress kMpFloatingPointerAddr = kMpTableStart;

// KVM's in-kernel irqchip (KVM_CREATE_IRQCHIP): one IOAPIC with 24 pins and a local APIC per vCPU
// at the architectural default addresses (Linux arch/x86/include/asm/apicdef.h).
inline constexpr uint32_t kIoapicAddr = 0xfec00000;
inline constexpr uint32_t kLapicAddr = 0xfee00000;
inline constexpr uint32_t kIoapicPins = 24;
inline constexpr uint8_t kIoapicVersion = 0x11;  // KVM's IOAPIC version register
inline constexpr uint8_t kLapicVersion = 0x14;   // KVM's local APIC version (an xAPIC)

// Local APIC ids are the vCPU indexes 0..N-1; the IOAPIC takes the next id, N, so every APIC id
// is unique as MP spec 1.4 section 4.3.3 asks. xAPIC ids are 8 bits and 0xff is the broadcast id,
// which leaves 254 vCPUs plus the IOAPIC.
inline constexpr uint32_t kMaxVcpus = 254;
[[nodiscard]] constexpr uint8_t ioapic_id(uint32_t vcpus) { return static_cast<uint8_t>(vcpus); }

// Interrupt wiring: KVM's default GSI routing (default_routing in arch/x86/kvm/irq_comm.c) sends GSI n to
// IOAPIC pin n (and to the PIC for n < 16), so ISA IRQ n is IOAPIC pin n with no overrides.
// (QEMU's IRQ0 -> GSI2 override matches the routing QEMU installs with KVM_SET_GSI_ROUTING;
// kiln keeps KVM's default, as Firecracker does.)
inline constexpr uint32_t kCom1Irq = 4;
inline constexpr uint16_t kCom1Port = 0x3f8;
// The i8042 keyboard controller: data port 0x60, command/status port 0x64, keyboard on ISA IRQ 1.
inline constexpr uint32_t kKeyboardIrq = 1;
inline constexpr uint16_t kI8042DataPort = 0x60;
inline constexpr uint16_t kI8042CommandPort = 0x64;

// ACPI sleep registers (hardware-reduced ACPI, ACPI 6.5 section 4.8.3.7): one byte-wide I/O port
// serves as SLEEP_CONTROL_REG and SLEEP_STATUS_REG. A guest `poweroff` writes
// (SLP_TYP << 2) | SLP_EN = (5 << 2) | 0x20 = 0x34 there; the VMM stops the VM on that value.
// Other writes (the OS first writes WAK_STS = 0x80 to clear it) must be ignored; reads may return 0.
inline constexpr uint16_t kDefaultSleepPort = 0x600;
inline constexpr uint8_t kSleepTypeS5 = 5;  // the \_S5 package's SLP_TYPa
inline constexpr uint8_t kSleepEnable = 0x20;
inline constexpr uint8_t kSleepValueS5 = static_cast<uint8_t>((kSleepTypeS5 << 2) | kSleepEnable);

// ACPI reset register: the reset control register at 0xcf9 that pci/config_io.h emulates;
// ACPI reboot writes 0x06 there (bit 2 requests the CPU reset).
inline constexpr uint16_t kResetPort = 0xcf9;
inline constexpr uint8_t kResetValue = 0x06;

}  // namespace kiln::x86
