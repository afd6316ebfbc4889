#include "virtio/transports/legacy/legacy_transport.h"

#include "common/log.h"
#include "virtio/spec.h"

namespace kiln::virtio {
Result<std::vector<EventFd>> LegacyTransport::make_notify_events(const VirtioDevice& device) {
  std::vector<EventFd> notify;
  for (uint16_t i = 0; i < device.num_queues(); ++i) {
    notify.push_back(KILN_TRY_VALUE(EventFd::create()));
  }
  return notify;
}

LegacyTransport::LegacyTransport(const GuestMemory& mem, std::shared_ptr<VirtioDevice> device,
                                 std::shared_ptr<IrqTrigger> irq, std::vector<EventFd> notify, std::string transport)
    : mem_(mem),
      device_(std::move(device)),
      irq_(std::move(irq)),
      notify_(std::move(notify)),
      transport_(std::move(transport)) {
  queues_.resize(device_->num_queues());
}

LegacyTransport::~LegacyTransport() { shutdown(); }

void LegacyTransport::shutdown() {
  std::lock_guard lock(mu_);
  if (activated_) device_->reset();
  activated_ = false;
}

void LegacyTransport::guest_error(const std::string& what) const {
  device_->guest_errors().report("{}: {}", transport_, what);
}

uint32_t LegacyTransport::device_features() {
  std::lock_guard lock(mu_);
  // Bits 32..63 in window 1 (virtio 1.0 features are not offered on the legacy transports).
  return host_features_sel_ < 2 ? static_cast<uint32_t>(device_->features() >> (32 * host_features_sel_)) : 0;
}

void LegacyTransport::select_device_features(uint32_t window) {
  std::lock_guard lock(mu_);
  host_features_sel_ = window;
}

uint32_t LegacyTransport::driver_features() {
  std::lock_guard lock(mu_);
  return guest_features_sel_ < 2 ? static_cast<uint32_t>(acked_features_ >> (32 * guest_features_sel_)) : 0;
}

void LegacyTransport::select_driver_features(uint32_t window) {
  std::lock_guard lock(mu_);
  guest_features_sel_ = window;
}

void LegacyTransport::set_driver_features(uint32_t value) {
  std::lock_guard lock(mu_);
  if (guest_features_sel_ >= 2 || activated_) return;  // the device runs with what it was given
  const unsigned shift = 32 * guest_features_sel_;
  acked_features_ = (acked_features_ & ~(uint64_t{0xffffffff} << shift)) | (uint64_t{value} << shift);
  // Never use a feature the device did not offer, whatever the driver claims.
  acked_features_ &= device_->features();
}

void LegacyTransport::set_page_size(uint32_t value) {
  std::lock_guard lock(mu_);
  if (!activated_) page_size_ = value;
}

void LegacyTransport::select_queue(uint32_t index) {
  std::lock_guard lock(mu_);
  queue_sel_ = index;
}

uint32_t LegacyTransport::selected_queue() {
  std::lock_guard lock(mu_);
  return queue_sel_;
}

uint32_t LegacyTransport::queue_max() {
  std::lock_guard lock(mu_);
  return queue_sel_ < queues_.size() ? device_->queue_max_size(static_cast<uint16_t>(queue_sel_)) : 0;
}

uint32_t LegacyTransport::queue_pfn() {
  std::lock_guard lock(mu_);
  return queue_sel_ < queues_.size() ? queues_[queue_sel_].pfn : 0;
}

void LegacyTransport::set_queue_num(uint32_t value) { set_queue_reg(&QueueRegs::num, value, "size"); }
void LegacyTransport::set_queue_align(uint32_t value) { set_queue_reg(&QueueRegs::align, value, "alignment"); }
void LegacyTransport::set_queue_pfn(uint32_t value) { set_queue_reg(&QueueRegs::pfn, value, "address"); }

void LegacyTransport::set_queue_reg(uint32_t QueueRegs::*field, uint32_t value, const char* name) {
  std::lock_guard lock(mu_);
  if (queue_sel_ >= queues_.size()) {
    guest_error(fmt::format("queue {} {:#x} written for missing queue {}", name, value, queue_sel_));
    return;
  }
  if (activated_) {  // the device owns the queues until reset
    guest_error(fmt::format("queue {} written while the device runs: ignored", name));
    return;
  }
  queues_[queue_sel_].*field = value;
}

void LegacyTransport::notify(uint32_t index) {
  // Without an ioeventfd (or with a value KVM did not match) the notify lands here.
  if (index < notify_.size()) {
    notify_[index].signal();
  } else {
    guest_error(fmt::format("notify for missing queue {}", index));
  }
}

uint32_t LegacyTransport::status() {
  std::lock_guard lock(mu_);
  return status_;
}

void LegacyTransport::set_status(uint32_t value) {
  std::lock_guard lock(mu_);
  if (value == 0) {  // 2.2.1: writing 0 resets the device
    reset_locked();
    return;
  }
  const bool was_ok = driver_ok();
  status_ = value & 0xff;
  if (!was_ok && driver_ok()) activate_locked();
}

uint32_t LegacyTransport::interrupt_status() const { return interrupt_status_.load(std::memory_order_acquire); }

void LegacyTransport::ack_interrupt(uint32_t bits) { interrupt_status_.fetch_and(~bits, std::memory_order_acq_rel); }

uint32_t LegacyTransport::take_interrupt_status() { return interrupt_status_.exchange(0, std::memory_order_acq_rel); }

void LegacyTransport::read_config(uint64_t offset, std::span<uint8_t> data) {
  std::lock_guard lock(mu_);
  device_->read_config(offset, data);
}

void LegacyTransport::write_config(uint64_t offset, std::span<const uint8_t> data) {
  std::lock_guard lock(mu_);
  device_->write_config(offset, data);
}

Result<SplitQueue> LegacyTransport::build_queue(uint16_t index, const QueueRegs& q, uint32_t page_size,
                                                uint64_t features) const {
  const uint16_t max = device_->queue_max_size(index);
  if (q.num == 0 || q.num > max) return fail("size {} (maximum {})", q.num, max);
  auto layout = KILN_TRY_VALUE(legacy_layout(static_cast<uint16_t>(q.num), q.pfn, page_size, q.align));
  return SplitQueue::create(mem_, layout, features);
}

Activation LegacyTransport::activation_locked(std::vector<ActiveQueue> queues) {
  Activation a;
  a.mem = &mem_;
  a.features = acked_features_;
  a.interrupt = this;
  a.start_paused = paused_;
  a.queues = std::move(queues);
  return a;
}

void LegacyTransport::activate_locked() {
  std::vector<ActiveQueue> queues(queues_.size());
  for (size_t i = 0; i < queues_.size(); ++i) {
    queues[i].notify_fd = notify_[i].fd();
    if (queues_[i].pfn == 0) continue;  // not used by this driver
    auto queue = build_queue(static_cast<uint16_t>(i), queues_[i], page_size_, acked_features_);
    if (!queue) {
      guest_error(fmt::format("queue {}: {}", i, queue.error().message));
      status_ |= kStatusNeedsReset;
      return;
    }
    queues[i].queue.emplace(std::move(*queue));
  }
  if (auto ok = device_->activate(activation_locked(std::move(queues))); !ok) {
    // Counted and rate-limited like any guest mistake: a driver can set DRIVER_OK in a loop.
    guest_error(fmt::format("activation failed: {}", ok.error().message));
    status_ |= kStatusNeedsReset;
    return;
  }
  activated_ = true;
}

void LegacyTransport::reset() {
  std::lock_guard lock(mu_);
  reset_locked();
}

void LegacyTransport::reset_locked() {
  if (activated_) device_->reset();
  activated_ = false;
  config_change_pending_ = false;
  status_ = 0;
  host_features_sel_ = guest_features_sel_ = queue_sel_ = 0;
  acked_features_ = 0;
  // GuestPageSize survives: Linux writes it once at probe time, before its first reset.
  for (auto& q : queues_) q = QueueRegs{};
  interrupt_status_.store(0, std::memory_order_release);
  for (auto& n : notify_) n.consume();
  reset_transport_locked();
}

Status LegacyTransport::change_device(const std::function<Result<bool>()>& change) {
  std::lock_guard lock(mu_);  // no register access (status 0, DRIVER_OK, config reads) meanwhile
  const bool running = activated_ && !paused_;
  Status paused = running ? device_->pause() : Status{};
  Result<bool> changed = paused ? change() : tl::unexpected(paused.error());
  if (running) device_->resume();
  if (!changed) return tl::unexpected(changed.error());
  if (*changed && activated_) {
    if (paused_) {
      config_change_pending_ = true;  // resume() announces it
    } else {
      config_changed();
    }
  }
  return {};
}

void LegacyTransport::used_buffer(uint16_t) {
  interrupt_status_.fetch_or(kInterruptVring, std::memory_order_acq_rel);
  if (line_enabled()) irq_->trigger();
}

void LegacyTransport::config_changed() {
  interrupt_status_.fetch_or(kInterruptConfig, std::memory_order_acq_rel);
  if (line_enabled()) irq_->trigger();
}

void LegacyTransport::reassert_if_pending() {
  if (interrupt_status_.load(std::memory_order_acquire) != 0 && line_enabled()) irq_->trigger();
}

}  // namespace kiln::virtio
