#include "vmm/gsi_routes.h"

#include <vector>

namespace kiln {
namespace {

kvm_irq_routing_entry irqchip_entry(uint32_t gsi, uint32_t chip, uint32_t pin) {
  kvm_irq_routing_entry e{};
  e.gsi = gsi;
  e.type = KVM_IRQ_ROUTING_IRQCHIP;
  e.u.irqchip.irqchip = chip;
  e.u.irqchip.pin = pin;
  return e;
}

}  // namespace

Result<uint32_t> GsiRoutes::allocate(uint32_t count) {
  std::lock_guard lock(mu_);
  if (count > kFirstMsiGsi + kMaxMsiGsis - next_) return fail("no GSIs left for {} MSI-X vectors", count);
  const uint32_t first = next_;
  next_ += count;
  return first;
}

Status GsiRoutes::set_msi(uint32_t gsi, const pci::MsiMessage& message) {
  std::lock_guard lock(mu_);
  if (gsi < kFirstMsiGsi || gsi >= next_) return fail("GSI {} is not an MSI GSI", gsi);
  msi_[gsi] = message;
  std::vector<kvm_irq_routing_entry> entries;
  // KVM's default table (virt/kvm/irqchip.c, arch/x86/kvm/irq_comm.c): IOAPIC for 0-23, PIC for 0-15.
  for (uint32_t i = 0; i < 24; ++i) {
    entries.push_back(irqchip_entry(i, KVM_IRQCHIP_IOAPIC, i));
    if (i < 16) entries.push_back(irqchip_entry(i, i < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE, i % 8));
  }
  for (const auto& [g, m] : msi_) {
    kvm_irq_routing_entry e{};
    e.gsi = g;
    e.type = KVM_IRQ_ROUTING_MSI;
    e.u.msi.address_lo = static_cast<uint32_t>(m.address);
    e.u.msi.address_hi = static_cast<uint32_t>(m.address >> 32);
    e.u.msi.data = m.data;
    entries.push_back(e);
  }
  return vm_.set_gsi_routing(entries);
}

}  // namespace kiln
