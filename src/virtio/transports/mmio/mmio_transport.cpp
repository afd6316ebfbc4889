#include "virtio/transports/mmio/mmio_transport.h"

#include <cstring>

#include "common/log.h"
#include "virtio/spec.h"
#include "virtio/transports/mmio/mmio_regs.h"

namespace kiln::virtio {
namespace {

// A guest may hammer bad registers; the first few are worth a line each.
void log_guest_error(std::atomic<int>& budget, std::string_view device, const std::string& what) {
  if (budget.fetch_sub(1) > 0) log("virtio-mmio {}: {}", device, what);
}
std::atomic<int> g_log_budget{32};

}  // namespace

Result<std::shared_ptr<MmioTransport>> MmioTransport::create(const GuestMemory& mem,
                                                             std::shared_ptr<VirtioDevice> device,
                                                             std::shared_ptr<IrqTrigger> irq) {
  std::vector<EventFd> notify;
  for (uint16_t i = 0; i < device->num_queues(); ++i) {
    auto fd = EventFd::create();
    if (!fd) return tl::unexpected(fd.error());
    notify.push_back(std::move(*fd));
  }
  return std::shared_ptr<MmioTransport>(new MmioTransport(mem, std::move(device), std::move(irq), std::move(notify)));
}

MmioTransport::MmioTransport(const GuestMemory& mem, std::shared_ptr<VirtioDevice> device,
                             std::shared_ptr<IrqTrigger> irq, std::vector<EventFd> notify)
    : mem_(mem), device_(std::move(device)), irq_(std::move(irq)), notify_(std::move(notify)) {
  queues_.resize(device_->num_queues());
}

MmioTransport::~MmioTransport() { shutdown(); }

void MmioTransport::shutdown() {
  std::lock_guard lock(mu_);
  if (activated_) device_->reset();
  activated_ = false;
}

void MmioTransport::read(uint64_t offset, std::span<uint8_t> data) {
  std::memset(data.data(), 0, data.size());
  if (offset >= mmio::kConfig) {
    std::lock_guard lock(mu_);
    device_->read_config(offset - mmio::kConfig, data);
    return;
  }
  // Appendix X: registers are 32 bits wide and read as whole words.
  if (data.size() != 4 || offset % 4 != 0) {
    log_guest_error(g_log_budget, device_->name(), fmt::format("{}-byte read at {:#x} ignored", data.size(), offset));
    return;
  }
  const uint32_t value = read_register(offset);
  std::memcpy(data.data(), &value, 4);
}

void MmioTransport::write(uint64_t offset, std::span<const uint8_t> data) {
  if (offset >= mmio::kConfig) {
    std::lock_guard lock(mu_);
    device_->write_config(offset - mmio::kConfig, data);
    return;
  }
  if (data.size() != 4 || offset % 4 != 0) {
    log_guest_error(g_log_budget, device_->name(), fmt::format("{}-byte write at {:#x} ignored", data.size(), offset));
    return;
  }
  uint32_t value = 0;
  std::memcpy(&value, data.data(), 4);
  write_register(offset, value);
}

uint32_t MmioTransport::read_register(uint64_t offset) {
  std::lock_guard lock(mu_);
  switch (offset) {
    case mmio::kMagicValue: return mmio::kMagic;
    case mmio::kVersion: return mmio::kLegacyVersion;
    case mmio::kDeviceId: return device_->device_id();
    case mmio::kVendorId: return mmio::kVendor;
    case mmio::kHostFeatures:
      // Bits 32..63 in window 1 (virtio 1.0 features are not offered on this legacy transport).
      return host_features_sel_ < 2 ? static_cast<uint32_t>(device_->features() >> (32 * host_features_sel_)) : 0;
    case mmio::kQueueNumMax:
      return queue_sel_ < queues_.size() ? device_->queue_max_size(static_cast<uint16_t>(queue_sel_)) : 0;
    case mmio::kQueuePfn: return queue_sel_ < queues_.size() ? queues_[queue_sel_].pfn : 0;
    case mmio::kInterruptStatus: return interrupt_status_.load(std::memory_order_acquire);
    case mmio::kStatus: return status_;
    default: return 0;  // write-only and reserved registers read as 0
  }
}

void MmioTransport::write_register(uint64_t offset, uint32_t value) {
  if (offset == mmio::kQueueNotify) {
    // Without an ioeventfd (or with a value KVM did not match) the notify lands here.
    if (value < notify_.size()) {
      notify_[value].signal();
    } else {
      log_guest_error(g_log_budget, device_->name(), fmt::format("notify for missing queue {}", value));
    }
    return;
  }
  if (offset == mmio::kInterruptAck) {
    interrupt_status_.fetch_and(~value, std::memory_order_acq_rel);
    return;
  }
  std::lock_guard lock(mu_);
  const bool queue_regs_frozen = activated_;  // the device owns the queues until reset
  switch (offset) {
    case mmio::kHostFeaturesSel: host_features_sel_ = value; return;
    case mmio::kGuestFeaturesSel: guest_features_sel_ = value; return;
    case mmio::kGuestFeatures:
      if (guest_features_sel_ < 2 && !queue_regs_frozen) {
        const unsigned shift = 32 * guest_features_sel_;
        acked_features_ = (acked_features_ & ~(uint64_t{0xffffffff} << shift)) | (uint64_t{value} << shift);
        // Never use a feature the device did not offer, whatever the driver claims.
        acked_features_ &= device_->features();
      }
      return;
    case mmio::kGuestPageSize:
      if (!queue_regs_frozen) page_size_ = value;
      return;
    case mmio::kQueueSel: queue_sel_ = value; return;
    case mmio::kStatus: set_status(value); return;
    default: break;
  }
  if (offset != mmio::kQueueNum && offset != mmio::kQueueAlign && offset != mmio::kQueuePfn) {
    log_guest_error(g_log_budget, device_->name(), fmt::format("write {:#x} to read-only or reserved {:#x} ignored", value, offset));
    return;
  }
  if (queue_sel_ >= queues_.size()) {
    log_guest_error(g_log_budget, device_->name(), fmt::format("queue register {:#x} for missing queue {}", offset, queue_sel_));
    return;
  }
  if (queue_regs_frozen) {
    log_guest_error(g_log_budget, device_->name(), "queue register written while the device runs: ignored");
    return;
  }
  QueueRegs& q = queues_[queue_sel_];
  if (offset == mmio::kQueueNum) q.num = value;
  if (offset == mmio::kQueueAlign) q.align = value;
  if (offset == mmio::kQueuePfn) q.pfn = value;
}

void MmioTransport::set_status(uint32_t value) {
  if (value == 0) {  // 2.2.1: writing 0 resets the device
    reset_locked();
    return;
  }
  const bool was_ok = active();
  status_ = value & 0xff;
  if (!was_ok && active()) activate();
}

void MmioTransport::activate() {
  Activation a;
  a.mem = &mem_;
  a.features = acked_features_;
  a.interrupt = this;
  a.start_paused = paused_;
  for (size_t i = 0; i < queues_.size(); ++i) {
    ActiveQueue aq;
    aq.notify_fd = notify_[i].fd();
    const QueueRegs& q = queues_[i];
    if (q.pfn != 0) {
      const uint16_t max = device_->queue_max_size(static_cast<uint16_t>(i));
      if (q.num == 0 || q.num > max) {
        log_guest_error(g_log_budget, device_->name(), fmt::format("queue {}: size {} (maximum {})", i, q.num, max));
        status_ |= kStatusNeedsReset;
        return;
      }
      auto layout = legacy_layout(static_cast<uint16_t>(q.num), q.pfn, page_size_, q.align);
      auto queue = layout ? SplitQueue::create(mem_, *layout, acked_features_) : tl::unexpected(layout.error());
      if (!queue) {
        log_guest_error(g_log_budget, device_->name(), fmt::format("queue {}: {}", i, queue.error().message));
        status_ |= kStatusNeedsReset;
        return;
      }
      aq.queue.emplace(std::move(*queue));
    }
    a.queues.push_back(std::move(aq));
  }
  if (auto ok = device_->activate(std::move(a)); !ok) {
    log("virtio-mmio {}: activation failed: {}", device_->name(), ok.error().message);
    status_ |= kStatusNeedsReset;
    return;
  }
  activated_ = true;
}

void MmioTransport::reset() {
  std::lock_guard lock(mu_);
  reset_locked();
}

void MmioTransport::reset_locked() {
  if (activated_) device_->reset();
  activated_ = false;
  status_ = 0;
  host_features_sel_ = guest_features_sel_ = queue_sel_ = 0;
  acked_features_ = 0;
  // GuestPageSize survives: Linux writes it once at probe time, before its first reset.
  for (auto& q : queues_) q = QueueRegs{};
  interrupt_status_.store(0, std::memory_order_release);
  for (auto& n : notify_) n.consume();
}

void MmioTransport::used_buffer() {
  interrupt_status_.fetch_or(kInterruptVring, std::memory_order_acq_rel);
  irq_->trigger();
}

void MmioTransport::config_changed() {
  interrupt_status_.fetch_or(kInterruptConfig, std::memory_order_acq_rel);
  irq_->trigger();
}

}  // namespace kiln::virtio
