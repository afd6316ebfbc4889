// PciLegacyTransport: MSI-X (PCI Local Bus 3.0, 6.8.2; virtio 0.9.5 2.2.2 "Configuration/Queue
// Vectors"), INTx Disable and Interrupt Status (6.2.2/6.2.3), and the snapshot record of both.
#include <array>

#include "virtio/transports/pci/pci_legacy_regs.h"
#include "virtio/transports/pci/pci_legacy_transport.h"

namespace kiln::virtio {
namespace {

constexpr uint32_t kStateFormat = 1;

// Little-endian bytes of a 16- and 32-bit field.
void put16(uint8_t* at, uint16_t v) {
  at[0] = static_cast<uint8_t>(v);
  at[1] = static_cast<uint8_t>(v >> 8);
}
void put32(uint8_t* at, uint32_t v) {
  put16(at, static_cast<uint16_t>(v));
  put16(at + 2, static_cast<uint16_t>(v >> 16));
}

}  // namespace

Status PciLegacyTransport::add_msix(std::shared_ptr<pci::MsiSink> msi) {
  const uint32_t vectors = num_queues() + 1u;
  if (vectors > pci_legacy::kMaxVectors) return fail("{} MSI-X vectors do not fit BAR 1", vectors);
  KILN_TRY(config_.add_bar(pci_legacy::kMsixBar, pci::BarKind::kMemory32, pci_legacy::kMsixBarSize));
  // 6.8.2: Message Control (table size N-1; enable and function mask writable), Table
  // Offset/BIR, PBA Offset/BIR.
  std::array<uint8_t, 10> body{};
  std::array<uint8_t, 10> writable{};
  put16(&body[0], static_cast<uint16_t>(vectors - 1));
  put16(&writable[0], pci::kMsixEnable | pci::kMsixFunctionMask);
  put32(&body[2], pci_legacy::kMsixBar);  // table at offset 0
  put32(&body[6], static_cast<uint32_t>(pci_legacy::kMsixPbaOffset) | pci_legacy::kMsixBar);
  msix_cap_ = KILN_TRY_VALUE(config_.add_capability(pci::kCapabilityMsix, body, writable));
  msix_ = std::make_unique<pci::MsixTable>(static_cast<uint16_t>(vectors), std::move(msi));
  return {};
}

uint16_t PciLegacyTransport::accept_vector(uint32_t value) const {
  return value < msix_vectors() ? static_cast<uint16_t>(value) : pci_legacy::kNoVector;
}

bool PciLegacyTransport::line_enabled() const {
  // 6.8.2: a function with MSI-X enabled does not use INTx; 6.2.2: nor with INTx Disable set.
  return !intx_disabled_.load(std::memory_order_acquire) && !msix_enabled();
}

void PciLegacyTransport::config_read(uint32_t offset, std::span<uint8_t> data) {
  config_.read(offset, data);
  // Status bit 3 (6.2.3): the function has an INTx interrupt to signal, whatever INTx Disable says.
  if (offset <= pci::kStatus && pci::kStatus - offset < data.size() && interrupt_status() != 0 && !msix_enabled()) {
    data[pci::kStatus - offset] |= pci::kStatusInterrupt;
  }
}

void PciLegacyTransport::config_write(uint32_t offset, std::span<const uint8_t> data) {
  config_.write(offset, data);
  sync_config();
}

void PciLegacyTransport::config_restored() {
  sync_config();
  reassert_if_pending();  // a line lowered by the guest's EOI just before the snapshot
}

void PciLegacyTransport::sync_config() {
  const bool was_enabled = line_enabled();
  intx_disabled_.store((config_.command() & pci::kCommandIntxDisable) != 0, std::memory_order_release);
  if (msix_) {
    const uint16_t control = config_.read_u16(msix_cap_ + 2);
    // Turning the vectors on or unmasking the function delivers what is pending (6.8.3.4).
    msix_->set_control((control & pci::kMsixEnable) != 0, (control & pci::kMsixFunctionMask) != 0);
  }
  if (!was_enabled && line_enabled()) reassert_if_pending();
}

void PciLegacyTransport::used_buffer(uint16_t queue) {
  if (!msix_enabled()) {
    LegacyTransport::used_buffer(queue);
    return;
  }
  if (queue >= num_queues()) return;
  const uint16_t vector = queue_vectors_[queue].load(std::memory_order_acquire);
  if (vector != pci_legacy::kNoVector) msix_->fire(vector);
}

void PciLegacyTransport::config_changed() {
  if (!msix_enabled()) {
    LegacyTransport::config_changed();
    return;
  }
  const uint16_t vector = config_vector_.load(std::memory_order_acquire);
  if (vector != pci_legacy::kNoVector) msix_->fire(vector);
}

void PciLegacyTransport::reset_transport_locked() {
  // A device reset forgets the vector assignments (the driver assigns them again); the MSI-X
  // table belongs to the PCI function and stays.
  config_vector_.store(pci_legacy::kNoVector);
  for (uint16_t q = 0; q < num_queues(); ++q) queue_vectors_[q].store(pci_legacy::kNoVector);
}

void PciLegacyTransport::save_transport_locked(snapshot::Encoder& out) {
  out.u32(kStateFormat);
  out.u16(config_vector_.load());
  out.u32(num_queues());
  for (uint16_t q = 0; q < num_queues(); ++q) out.u16(queue_vectors_[q].load());
  out.boolean(msix_ != nullptr);
  if (msix_) msix_->save_state(out);
}

Status PciLegacyTransport::restore_transport_locked(snapshot::Decoder& in) {
  auto format = KILN_TRY_VALUE(in.u32());
  if (format != kStateFormat) {
    return in.invalid(fmt::format("virtio-pci state format {} (kiln reads {})", format, kStateFormat));
  }
  auto check = [&](Result<uint16_t> v) -> Result<uint16_t> {
    if (!v) return v;
    if (*v != pci_legacy::kNoVector && *v >= msix_vectors()) return in.invalid(fmt::format("MSI-X vector {}", *v));
    return v;
  };
  auto config_vector = KILN_TRY_VALUE(check(in.u16()));
  auto queues = KILN_TRY_VALUE(in.u32());
  if (queues != num_queues()) return in.invalid(fmt::format("{} queue vectors saved for {} queues", queues, num_queues()));
  std::vector<uint16_t> vectors;
  for (uint32_t q = 0; q < queues; ++q) {
    vectors.push_back(KILN_TRY_VALUE(check(in.u16())));
  }
  auto has_msix = KILN_TRY_VALUE(in.boolean());
  if (has_msix != (msix_ != nullptr)) return in.invalid("MSI-X in the snapshot and on this function differ");
  if (msix_) KILN_TRY(msix_->restore_state(in));
  // The control bits come with configuration space (config_restored()).
  config_vector_.store(config_vector);
  for (uint16_t q = 0; q < num_queues(); ++q) queue_vectors_[q].store(vectors[q]);
  return {};
}

}  // namespace kiln::virtio
