#include "arch/x86_64/platform/acpi_tables.h"

#include <cstring>

#include "arch/x86_64/platform/checksum.h"

namespace kiln::x86::acpi {

namespace {

constexpr char kOemId[6] = {'K', 'I', 'L', 'N', ' ', ' '};
constexpr uint32_t kOemRevision = 1;
constexpr uint32_t kCreatorRevision = 1;
constexpr uint8_t kSystemIo = 1;
constexpr uint8_t kByteAccess = 1;

// Revisions kiln's tables follow (ACPI 6.5 sections 5.2.7-5.2.12).
constexpr uint8_t kFadtRevision = 6;
constexpr uint8_t kFadtMinorVersion = 5;
constexpr uint8_t kMadtRevision = 5;
constexpr uint8_t kDsdtRevision = 2;  // 2 and up: AML integers are 64 bits wide
constexpr uint8_t kRootTableRevision = 1;

SdtHeader header(const char (&signature)[5], const char (&table_id)[9], uint32_t length, uint8_t revision) {
  SdtHeader h{};
  std::memcpy(h.signature, signature, 4);
  h.length = length;
  h.revision = revision;
  std::memcpy(h.oem_id, kOemId, sizeof(h.oem_id));
  std::memcpy(h.oem_table_id, table_id, 8);
  h.oem_revision = kOemRevision;
  std::memcpy(h.creator_id, "KILN", 4);
  h.creator_revision = kCreatorRevision;
  return h;
}

// A table starts as the bytes of its fixed part, allocated at that size. (Inserting them into an
// empty vector let g++ 12 at -O3 report the reallocation path as an overflow.)
template <typename T>
std::vector<uint8_t> bytes_of(const T& value) {
  const auto* p = reinterpret_cast<const uint8_t*>(&value);
  return std::vector<uint8_t>(p, p + sizeof(T));
}

template <typename T>
void append(std::vector<uint8_t>& out, const T& value) {
  const auto* p = reinterpret_cast<const uint8_t*>(&value);
  out.insert(out.end(), p, p + sizeof(T));
}

// Fixes the header's length and checksum once the table is complete.
std::vector<uint8_t> finish(std::vector<uint8_t> table) {
  const auto length = static_cast<uint32_t>(table.size());
  std::memcpy(table.data() + offsetof(SdtHeader, length), &length, sizeof(length));
  set_checksum(table, offsetof(SdtHeader, checksum));
  return table;
}

Gas io_byte(uint16_t port) { return Gas{kSystemIo, 8, 0, kByteAccess, port}; }

}  // namespace

std::vector<uint8_t> build_fadt(GuestAddress dsdt, uint16_t sleep_port, bool msi) {
  Fadt f{};
  f.header = header("FACP", "KILNFACP", sizeof(Fadt), kFadtRevision);
  // MSI Not Supported unless kiln's PCI functions offer MSI-X (Linux's pci_acpi_init turns MSI
  // off for the whole system when the flag is set).
  f.iapc_boot_arch = kBootArchLegacyDevices | kBootArch8042 | kBootArchVgaNotPresent | kBootArchCmosRtcNotPresent |
                     (msi ? 0 : kBootArchMsiNotSupported);
  f.flags = kFadtWbinvd | kFadtPowerButton | kFadtSleepButton | kFadtResetRegSupported | kFadtHwReducedAcpi;
  f.reset_reg = io_byte(kResetPort);
  f.reset_value = kResetValue;
  f.minor_version = kFadtMinorVersion;
  f.x_dsdt = dsdt.raw();  // DSDT (32-bit) stays 0: OSPM uses X_DSDT when it is set
  if (sleep_port != 0) {
    f.sleep_control_reg = io_byte(sleep_port);
    f.sleep_status_reg = io_byte(sleep_port);
  }
  std::memcpy(&f.hypervisor_vendor_id, "KILNVMM ", sizeof(f.hypervisor_vendor_id));
  return finish(bytes_of(f));
}

std::vector<uint8_t> build_madt(uint32_t vcpus) {
  std::vector<uint8_t> out =
      bytes_of(MadtHeader{header("APIC", "KILNAPIC", 0, kMadtRevision), kLapicAddr, kMadtPcatCompat});
  constexpr uint32_t kEnabled = 1;
  for (uint32_t id = 0; id < vcpus; ++id) {
    const auto apic_id = static_cast<uint8_t>(id);
    append(out, MadtLocalApic{kMadtLocalApic, sizeof(MadtLocalApic), apic_id, apic_id, kEnabled});
  }
  append(out, MadtIoapic{kMadtIoapic, sizeof(MadtIoapic), ioapic_id(vcpus), 0, kIoapicAddr, 0});
  constexpr uint8_t kAllProcessors = 0xff;
  constexpr uint8_t kLint1 = 1;
  append(out, MadtLocalApicNmi{kMadtLocalApicNmi, sizeof(MadtLocalApicNmi), kAllProcessors, 0, kLint1});
  return finish(std::move(out));
}

std::vector<uint8_t> build_xsdt(std::span<const GuestAddress> tables) {
  std::vector<uint8_t> out = bytes_of(header("XSDT", "KILNXSDT", 0, kRootTableRevision));
  for (GuestAddress a : tables) append(out, a.raw());
  return finish(std::move(out));
}

std::vector<uint8_t> build_rsdt(std::span<const GuestAddress> tables) {
  std::vector<uint8_t> out = bytes_of(header("RSDT", "KILNRSDT", 0, kRootTableRevision));
  for (GuestAddress a : tables) append(out, static_cast<uint32_t>(a.raw()));
  return finish(std::move(out));
}

std::vector<uint8_t> build_dsdt(std::span<const uint8_t> aml) {
  std::vector<uint8_t> out = bytes_of(header("DSDT", "KILNDSDT", 0, kDsdtRevision));
  out.insert(out.end(), aml.begin(), aml.end());
  return finish(std::move(out));
}

std::vector<uint8_t> build_rsdp(GuestAddress rsdt, GuestAddress xsdt) {
  Rsdp r{};
  std::memcpy(r.signature, "RSD PTR ", sizeof(r.signature));
  std::memcpy(r.oem_id, kOemId, sizeof(r.oem_id));
  r.revision = 2;
  r.rsdt_addr = static_cast<uint32_t>(rsdt.raw());
  r.length = sizeof(Rsdp);
  r.xsdt_addr = xsdt.raw();
  std::vector<uint8_t> out = bytes_of(r);
  set_checksum(std::span(out).first(kRsdpV1Length), offsetof(Rsdp, checksum));
  set_checksum(out, offsetof(Rsdp, extended_checksum));
  return out;
}

}  // namespace kiln::x86::acpi
