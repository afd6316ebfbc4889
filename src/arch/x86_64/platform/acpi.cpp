#include "arch/x86_64/platform/acpi.h"

#include <utility>

#include "arch/x86_64/platform/acpi_tables.h"
#include "arch/x86_64/platform/dsdt.h"

namespace kiln::x86 {

namespace {

constexpr uint64_t kTableAlignment = 16;

// Lays tables out one after another in [kAcpiStart, kAcpiEnd), after the RSDP.
class TableArea {
 public:
  TableArea() : next_(align(kRsdpAddr.raw() + sizeof(acpi::Rsdp))) {}

  GuestAddress place(std::vector<uint8_t> table) {
    const GuestAddress at(next_);
    next_ = align(next_ + table.size());
    tables_.emplace_back(at, std::move(table));
    return at;
  }

  [[nodiscard]] Status write(const GuestMemory& mem) const {
    if (next_ > kAcpiEnd.raw()) {
      return fail("the ACPI tables need {} bytes, more than the {} reserved at {:#x}", next_ - kAcpiStart.raw(),
                  kAcpiEnd.raw() - kAcpiStart.raw(), kAcpiStart.raw());
    }
    for (const auto& [addr, bytes] : tables_) {
      if (auto st = mem.write(addr, bytes); !st) return wrap("writing ACPI tables", st.error());
    }
    return {};
  }

 private:
  static uint64_t align(uint64_t v) { return (v + kTableAlignment - 1) & ~(kTableAlignment - 1); }

  uint64_t next_;
  std::vector<std::pair<GuestAddress, std::vector<uint8_t>>> tables_;
};

}  // namespace

Result<GuestAddress> write_acpi_tables(const GuestMemory& mem, const AcpiConfig& config) {
  if (config.vcpus == 0 || config.vcpus > kMaxVcpus) {
    return fail("the MADT describes 1 to {} vCPUs, not {}", kMaxVcpus, config.vcpus);
  }
  auto aml = dsdt_aml(config);
  if (!aml) return wrap("building the DSDT", aml.error());

  TableArea area;
  const GuestAddress dsdt = area.place(acpi::build_dsdt(*aml));
  const GuestAddress fadt = area.place(acpi::build_fadt(dsdt, config.sleep_port, config.pci_root.has_value()));
  const GuestAddress madt = area.place(acpi::build_madt(config.vcpus));
  const GuestAddress tables[] = {fadt, madt};
  const GuestAddress xsdt = area.place(acpi::build_xsdt(tables));
  const GuestAddress rsdt = area.place(acpi::build_rsdt(tables));
  KILN_TRY(area.write(mem));

  if (auto st = mem.write(kRsdpAddr, acpi::build_rsdp(rsdt, xsdt)); !st) return wrap("writing the RSDP", st.error());
  return kRsdpAddr;
}

}  // namespace kiln::x86
