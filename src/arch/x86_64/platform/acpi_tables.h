// Binary layouts of the ACPI tables kiln writes (ACPI 6.5 chapter 5) and their builders.
// Each builder returns the finished table bytes, checksum included.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "arch/x86_64/platform/acpi.h"

namespace kiln::x86::acpi {

// Section 5.2.5.3 Root System Description Pointer, revision 2.
struct __attribute__((packed)) Rsdp {
  char signature[8];  // "RSD PTR "
  uint8_t checksum;   // over the first 20 bytes (the ACPI 1.0 structure)
  char oem_id[6];
  uint8_t revision;  // 2
  uint32_t rsdt_addr;
  uint32_t length;  // 36
  uint64_t xsdt_addr;
  uint8_t extended_checksum;  // over all 36 bytes
  uint8_t reserved[3];
};
static_assert(sizeof(Rsdp) == 36);
inline constexpr size_t kRsdpV1Length = 20;

// Section 5.2.6 System Description Table Header.
struct __attribute__((packed)) SdtHeader {
  char signature[4];
  uint32_t length;
  uint8_t revision;
  uint8_t checksum;
  char oem_id[6];
  char oem_table_id[8];
  uint32_t oem_revision;
  char creator_id[4];
  uint32_t creator_revision;
};
static_assert(sizeof(SdtHeader) == 36);

// Section 5.2.3.2 Generic Address Structure.
struct __attribute__((packed)) Gas {
  uint8_t space_id;  // 1: system I/O
  uint8_t bit_width;
  uint8_t bit_offset;
  uint8_t access_size;  // 1: byte
  uint64_t address;
};
static_assert(sizeof(Gas) == 12);

// Section 5.2.9 Fixed ACPI Description Table, revision 6 (276 bytes).
struct __attribute__((packed)) Fadt {
  SdtHeader header;
  uint32_t firmware_ctrl;
  uint32_t dsdt;
  uint8_t reserved0;
  uint8_t preferred_pm_profile;
  uint16_t sci_int;
  uint32_t smi_cmd;
  uint8_t acpi_enable;
  uint8_t acpi_disable;
  uint8_t s4bios_req;
  uint8_t pstate_cnt;
  uint32_t pm1_blocks[4];  // PM1a/PM1b event and control: unused when hardware-reduced
  uint32_t pm2_cnt_blk;
  uint32_t pm_tmr_blk;
  uint32_t gpe0_blk;
  uint32_t gpe1_blk;
  uint8_t block_lengths[6];  // PM1_EVT_LEN .. GPE1_BLK_LEN
  uint8_t gpe1_base;
  uint8_t cst_cnt;
  uint16_t p_lvl2_lat;
  uint16_t p_lvl3_lat;
  uint16_t flush_size;
  uint16_t flush_stride;
  uint8_t duty_offset;
  uint8_t duty_width;
  uint8_t day_alrm;
  uint8_t mon_alrm;
  uint8_t century;
  uint16_t iapc_boot_arch;
  uint8_t reserved1;
  uint32_t flags;
  Gas reset_reg;
  uint8_t reset_value;
  uint16_t arm_boot_arch;
  uint8_t minor_version;
  uint64_t x_firmware_ctrl;
  uint64_t x_dsdt;
  Gas x_blocks[8];  // X_PM1a_EVT_BLK .. X_GPE1_BLK: unused when hardware-reduced
  Gas sleep_control_reg;
  Gas sleep_status_reg;
  uint64_t hypervisor_vendor_id;
};
static_assert(sizeof(Fadt) == 276);
static_assert(offsetof(Fadt, iapc_boot_arch) == 109);
static_assert(offsetof(Fadt, flags) == 112);
static_assert(offsetof(Fadt, reset_reg) == 116);
static_assert(offsetof(Fadt, x_dsdt) == 140);
static_assert(offsetof(Fadt, sleep_control_reg) == 244);

// FADT flags (Table 5.10) and IA-PC boot architecture flags (Table 5.11).
inline constexpr uint32_t kFadtWbinvd = 1u << 0;
inline constexpr uint32_t kFadtPowerButton = 1u << 4;  // set: no fixed-feature power button
inline constexpr uint32_t kFadtSleepButton = 1u << 5;  // set: no fixed-feature sleep button
inline constexpr uint32_t kFadtResetRegSupported = 1u << 10;
inline constexpr uint32_t kFadtHwReducedAcpi = 1u << 20;
inline constexpr uint16_t kBootArchLegacyDevices = 1u << 0;
inline constexpr uint16_t kBootArch8042 = 1u << 1;
inline constexpr uint16_t kBootArchVgaNotPresent = 1u << 2;
inline constexpr uint16_t kBootArchMsiNotSupported = 1u << 3;
inline constexpr uint16_t kBootArchCmosRtcNotPresent = 1u << 5;

// Section 5.2.12 Multiple APIC Description Table and its interrupt controller structures.
struct __attribute__((packed)) MadtHeader {
  SdtHeader header;
  uint32_t lapic_addr;
  uint32_t flags;  // bit 0 PCAT_COMPAT
};
static_assert(sizeof(MadtHeader) == 44);
inline constexpr uint32_t kMadtPcatCompat = 1u << 0;

enum MadtType : uint8_t { kMadtLocalApic = 0, kMadtIoapic = 1, kMadtSourceOverride = 2, kMadtLocalApicNmi = 4 };

struct __attribute__((packed)) MadtLocalApic {
  uint8_t type;
  uint8_t length;  // 8
  uint8_t processor_uid;
  uint8_t apic_id;
  uint32_t flags;  // bit 0 enabled
};
static_assert(sizeof(MadtLocalApic) == 8);

struct __attribute__((packed)) MadtIoapic {
  uint8_t type;
  uint8_t length;  // 12
  uint8_t ioapic_id;
  uint8_t reserved;
  uint32_t address;
  uint32_t gsi_base;
};
static_assert(sizeof(MadtIoapic) == 12);

struct __attribute__((packed)) MadtLocalApicNmi {
  uint8_t type;
  uint8_t length;         // 6
  uint8_t processor_uid;  // 0xff: all processors
  uint16_t flags;         // 0: conforms to the bus
  uint8_t lint;
};
static_assert(sizeof(MadtLocalApicNmi) == 6);

// Table builders (acpi_tables.cpp). The FADT says MSI Not Supported unless `msi` (PCI with MSI-X).
[[nodiscard]] std::vector<uint8_t> build_fadt(GuestAddress dsdt, uint16_t sleep_port, bool msi);
[[nodiscard]] std::vector<uint8_t> build_madt(uint32_t vcpus);
[[nodiscard]] std::vector<uint8_t> build_xsdt(std::span<const GuestAddress> tables);
[[nodiscard]] std::vector<uint8_t> build_rsdt(std::span<const GuestAddress> tables);  // addresses < 4 GiB
[[nodiscard]] std::vector<uint8_t> build_rsdp(GuestAddress rsdt, GuestAddress xsdt);
// The DSDT around an AML body (dsdt.h builds the body).
[[nodiscard]] std::vector<uint8_t> build_dsdt(std::span<const uint8_t> aml);

}  // namespace kiln::x86::acpi
