// LegacyTransport: pause/resume and snapshot state (the legacy registers of virtio 0.9.5 2.2.2 and
// Appendix X, the queues' positions, and the device's own state as a nested record). The record is
// the same for both transports (PCI's page size and alignment are always 4096).
#include "virtio/spec.h"
#include "virtio/transports/legacy/legacy_transport.h"

namespace kiln::virtio {
namespace {

// The registers (fixed-width fields, no padding).
struct TransportRecord {
  uint32_t device_id;
  uint32_t host_features_sel;
  uint32_t guest_features_sel;
  uint32_t page_size;
  uint64_t acked_features;
  uint32_t queue_sel;
  uint32_t status;
  uint32_t interrupt_status;
  uint32_t activated;  // 0 or 1: the device runs on the queues below
  uint32_t num_queues;
  uint32_t reserved;  // 0
};
static_assert(sizeof(TransportRecord) == 48);

struct QueueRecord {
  uint32_t num;
  uint32_t align;
  uint32_t pfn;
  uint32_t has_position;  // 0 or 1: a SplitQueue position follows
};
static_assert(sizeof(QueueRecord) == 16);

// The device's record: a console's buffered input (64 KiB) is the largest.
constexpr size_t kMaxDeviceState = 1 << 20;

bool power_of_two(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

}  // namespace

Status LegacyTransport::pause() {
  std::lock_guard lock(mu_);
  if (paused_) return {};
  paused_ = true;
  if (!activated_) return {};
  if (auto ok = device_->pause(); !ok) return wrap(fmt::format("virtio-{}: pause", device_->name()), ok.error());
  return {};
}

void LegacyTransport::resume() {
  std::lock_guard lock(mu_);
  if (!paused_) return;
  paused_ = false;
  if (activated_) device_->resume();
  if (config_change_pending_ && activated_) config_changed();
  config_change_pending_ = false;
}

Status LegacyTransport::save_state(snapshot::Encoder& out) {
  std::lock_guard lock(mu_);
  if (!paused_) {
    return fail_kind(ErrorKind::kState, "virtio-{}: state saved while the device runs (pause it first)", device_->name());
  }
  out.pod(TransportRecord{device_->device_id(), host_features_sel_, guest_features_sel_, page_size_, acked_features_,
                          queue_sel_, status_, interrupt_status_.load(std::memory_order_acquire),
                          activated_ ? 1u : 0u, static_cast<uint32_t>(queues_.size()), 0});
  for (size_t i = 0; i < queues_.size(); ++i) {
    const QueueRegs& q = queues_[i];
    const SplitQueue* active = activated_ ? device_->active_queue(static_cast<uint16_t>(i)) : nullptr;
    if (active != nullptr && active->in_flight() != 0) {
      // pause() completes every request; a device that kept some would lose them here.
      return fail("virtio-{}: queue {} still has {} requests in flight after pause", device_->name(), i,
                  active->in_flight());
    }
    out.pod(QueueRecord{q.num, q.align, q.pfn, active != nullptr ? 1u : 0u});
    if (active != nullptr) active->save_state(out);
  }
  snapshot::Encoder device_state;
  device_->save_state(device_state);
  out.bytes(device_state.data());
  save_transport_locked(out);
  return {};
}

Status LegacyTransport::restore_state(snapshot::Decoder& in) {
  std::lock_guard lock(mu_);
  reset_locked();
  paused_ = true;  // until resume(), whatever happens: nothing runs before the VM does
  auto ok = restore_locked(in);
  if (!ok) reset_locked();  // nothing half-restored stays behind
  return ok;
}

Status LegacyTransport::restore_locked(snapshot::Decoder& in) {
  TransportRecord r{};
  KILN_TRY(in.pod(r));
  if (r.device_id != device_->device_id()) {
    return in.invalid(fmt::format("saved virtio device ID {}, this device is {} (ID {})", r.device_id,
                                  device_->name(), device_->device_id()));
  }
  if (r.num_queues != queues_.size()) {
    return in.invalid(fmt::format("{} queues saved, the device has {}", r.num_queues, queues_.size()));
  }
  if ((r.acked_features & ~device_->features()) != 0) {
    return in.invalid(fmt::format("acknowledged features {:#x} include some the device does not offer ({:#x})",
                                  r.acked_features, device_->features()));
  }
  if (!power_of_two(r.page_size)) return in.invalid(fmt::format("GuestPageSize {:#x} is not a power of two", r.page_size));
  if (r.status > 0xff) return in.invalid(fmt::format("Status {:#x} is wider than 8 bits", r.status));
  if ((r.interrupt_status & ~(kInterruptVring | kInterruptConfig)) != 0) {
    return in.invalid(fmt::format("InterruptStatus {:#x} has undefined bits", r.interrupt_status));
  }
  if (r.activated > 1 || r.reserved != 0) return in.invalid("transport flags are not 0 or 1");
  const bool activated = r.activated == 1;
  if (activated && (r.status & kStatusDriverOk) == 0) {
    return in.invalid(fmt::format("device active without DRIVER_OK in Status {:#x}", r.status));
  }

  std::vector<QueueRegs> regs(queues_.size());
  std::vector<ActiveQueue> active(queues_.size());
  for (size_t i = 0; i < queues_.size(); ++i) {
    QueueRecord q{};
    KILN_TRY(in.pod(q));
    const uint16_t max = device_->queue_max_size(static_cast<uint16_t>(i));
    if (q.num != 0 && (!power_of_two(q.num) || q.num > max)) {
      return in.invalid(fmt::format("queue {}: QueueNum {} is not a power of two up to {}", i, q.num, max));
    }
    if (!power_of_two(q.align)) return in.invalid(fmt::format("queue {}: QueueAlign {:#x} is not a power of two", i, q.align));
    if (q.has_position > 1) return in.invalid(fmt::format("queue {}: position flag holds {}", i, q.has_position));
    const bool in_use = activated && q.pfn != 0;  // what activate() builds a queue for
    if (in_use && q.num == 0) return in.invalid(fmt::format("queue {}: in use with QueueNum 0", i));
    if ((q.has_position == 1) != in_use) {
      return in.invalid(fmt::format("queue {}: {} position for a queue {}", i, q.has_position == 1 ? "a" : "no",
                                    in_use ? "in use" : "not in use"));
    }
    if (q.pfn != 0 && q.num != 0) {
      // The rings must lie in this VM's RAM (the checks activate() makes).
      auto queue = build_queue(static_cast<uint16_t>(i), QueueRegs{q.num, q.align, q.pfn}, r.page_size, r.acked_features);
      if (!queue) return in.invalid(fmt::format("queue {}: {}", i, queue.error().message));
      if (in_use) {
        KILN_TRY(queue->restore_state(in));
        if (queue->in_flight() != 0) {
          return in.invalid(fmt::format("queue {}: {} requests in flight (a device completes them before a snapshot)",
                                        i, queue->in_flight()));
        }
        active[i].queue.emplace(std::move(*queue));
      }
    }
    active[i].notify_fd = notify_[i].fd();
    regs[i] = QueueRegs{q.num, q.align, q.pfn};
  }

  auto device_state = KILN_TRY_VALUE(in.bytes(kMaxDeviceState));
  snapshot::Decoder device_in(device_state, fmt::format("virtio-{} device state", device_->name()));
  KILN_TRY(device_->restore_state(device_in));
  KILN_TRY(device_in.finish());
  KILN_TRY(restore_transport_locked(in));

  // The selectors take any value, as from a guest: reads through them check the range.
  host_features_sel_ = r.host_features_sel;
  guest_features_sel_ = r.guest_features_sel;
  acked_features_ = r.acked_features;
  page_size_ = r.page_size;
  queue_sel_ = r.queue_sel;
  queues_ = std::move(regs);
  status_ = r.status;
  interrupt_status_.store(r.interrupt_status, std::memory_order_release);
  if (activated) {
    Activation a = activation_locked(std::move(active));  // paused: restore_state() set paused_
    a.restored = true;
    if (auto ok = device_->activate(std::move(a)); !ok) {
      return wrap(fmt::format("virtio-{}: activating the restored device", device_->name()), ok.error());
    }
    activated_ = true;
  }
  return {};
}

}  // namespace kiln::virtio
