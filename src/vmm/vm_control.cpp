// Vm's controls while it runs (from the API thread): pause and resume, Ctrl-Alt-Del, drive
// updates, metrics (and the exit counters they read).
#include <fmt/format.h>

#include <chrono>

#include "common/log.h"
#include "vmm/vm.h"

namespace kiln {

Status Vm::pause() {
  std::lock_guard lock(control_mu_);
  return pause_locked();
}

Status Vm::pause_locked() {
  if (!running_ || stop_.requested()) return fail("the VM is not running");
  if (paused_) return {};
  using Clock = std::chrono::steady_clock;
  const auto ms = [](Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double, std::milli>(to - from).count();
  };
  const auto start = Clock::now();
  pause_gate_.request_pause();
  for (auto& vcpu : vcpus_) vcpu->kick();
  if (!pause_gate_.wait_parked(static_cast<uint32_t>(vcpus_.size()), [this] { return stop_.requested(); })) {
    pause_gate_.resume();
    return fail("the VM stopped while pausing");
  }
  const auto parked = Clock::now();
  if (console_) console_->pause();
  pause_devices();
  paused_ = true;
  log("paused in {:.2f} ms (vCPUs parked in {:.2f} ms, devices quiesced in {:.2f} ms)", ms(start, Clock::now()),
      ms(start, parked), ms(parked, Clock::now()));
  return {};
}

void Vm::pause_devices() {
  devices_.pause_all();
  devices_paused_ = true;
}

void Vm::resume_devices() {
  devices_.resume_all();
  devices_paused_ = false;
  if (announce_on_resume_) {
    // The network may have moved (another host, another tap): the guest tells its peers
    // (VIRTIO_NET_S_ANNOUNCE; drivers without GUEST_ANNOUNCE are not asked).
    announce_on_resume_ = false;
    if (const size_t n = virtio_.announce_nets(); n > 0) log("asked {} network interface(s) to announce the guest", n);
  }
}

Status Vm::resume() {
  std::lock_guard lock(control_mu_);
  if (!running_ || stop_.requested()) return fail("the VM is not running");
  if (!paused_) return {};
  // PVCLOCK_GUEST_STOPPED (msr.txt): the guest's watchdogs then forgive the time it was stopped.
  for (auto& vcpu : vcpus_) {
    // false: the guest uses no kvmclock, so there is nothing to tell.
    if (auto told = vcpu->fd().kvmclock_ctrl(); !told) log("KVM_KVMCLOCK_CTRL: {}", told.error().message);
  }
  resume_devices();
  if (console_) console_->resume();
  pause_gate_.resume();
  paused_ = false;
  return {};
}

bool Vm::paused() const {
  std::lock_guard lock(control_mu_);
  return paused_;
}

Status Vm::send_ctrl_alt_del() {
  std::lock_guard lock(control_mu_);
  if (!running_ || stop_.requested()) return fail("the VM is not running");
  return i8042_->queue_ctrl_alt_del();
}

Status Vm::update_drive(size_t index, const std::string& path) {
  std::lock_guard lock(control_mu_);
  if (index >= config_.disks.size()) return fail("no drive {}", index);
  KILN_TRY(virtio_.replace_disk(index, path));
  config_.disks[index].path = path;
  return {};
}

std::vector<const ExitCounters*> Vm::exit_counters() const {
  std::vector<const ExitCounters*> out;
  for (const auto& vcpu : vcpus_) out.push_back(&vcpu->exits());
  return out;
}

std::string Vm::metrics_json() const {
  std::lock_guard lock(control_mu_);
  uint64_t exits = 0;
  for (const ExitCounters* c : exit_counters()) exits += c->total();
  std::string guest_errors;
  for (const auto& [label, count] : virtio_.guest_error_counts()) {
    guest_errors += fmt::format("{}\"{}\":{}", guest_errors.empty() ? "" : ",", label, count);
  }
  std::string net;
  for (const auto& [id, c] : virtio_.net_counters()) {
    net += fmt::format(
        R"({}"{}":{{"rx_frames":{},"rx_bytes":{},"rx_drops":{},"rx_filtered":{},"tx_frames":{},"tx_bytes":{},"tx_drops":{}}})",
        net.empty() ? "" : ",", id, c.rx_frames, c.rx_bytes, c.rx_drops, c.rx_filtered, c.tx_frames, c.tx_bytes,
        c.tx_drops);
  }
  return fmt::format(
      R"({{"vcpus":{},"memory_mib":{},"paused":{},"emulated_instructions":{},"vcpu_exits":{},"guest_errors":{{{}}},"net":{{{}}}}})",
      vcpus_.size(), mem_.total_size() / MiB, paused_ ? "true" : "false", emulated_.total(), exits, guest_errors, net);
}

}  // namespace kiln
