// The running VM: run() until the guest or kiln stops it, and the vCPUs' end (builder.cpp builds
// it; vm_control.cpp, vm_snapshot.cpp and vm_profile.cpp hold its controls).
#include "vmm/vm.h"

#include <poll.h>

#include "common/log.h"
#include "vmm/stop_signals.h"

namespace kiln {

Vm::~Vm() { stop_vcpus(); }

StopReason Vm::run(bool start_paused) {
  // SIGINT/SIGTERM/SIGHUP arrive through a signalfd in this thread only: blocked before any vCPU
  // thread starts.
  auto signals = StopSignals::block();
  if (!signals) return {StopKind::kVmmError, signals.error().message};
  if (auto ok = Vcpu::install_kick_handler(); !ok) return {StopKind::kVmmError, ok.error().message};

  if (boot_) {
    log("booting {} with {} vCPU(s), {} MiB", boot_->kind, vcpus_.size(), mem_.total_size() / MiB);
  } else {
    log("{} the restored VM ({} vCPU(s), {} MiB)", start_paused ? "holding" : "resuming", vcpus_.size(),
        mem_.total_size() / MiB);
  }
  Console::InputSink sink = [serial = serial_](std::span<const uint8_t> in) { return serial->enqueue_input(in); };
  if (console_kind_ == ConsoleKind::kVirtio && virtio_.console_input()) sink = virtio_.console_input();
  auto console = Console::start(std::move(sink), &stop_);
  if (!console) return {StopKind::kVmmError, console.error().message};
  console_ = std::move(*console);
  {
    std::lock_guard lock(control_mu_);
    if (start_paused) {
      pause_gate_.request_pause();
      for (auto& vcpu : vcpus_) vcpu->kick();  // not started yet: sets immediate_exit only
      console_->pause();
      if (!devices_paused_) pause_devices();
      paused_ = true;
    } else if (devices_paused_) {
      resume_devices();  // a restored VM's devices
    }
    for (auto& vcpu : vcpus_) {
      if (auto ok = vcpu->start(); !ok) stop_.request({StopKind::kVmmError, ok.error().message});
    }
    running_ = true;
  }
  start_profiler();

  while (!stop_.requested()) {
    pollfd fds[2] = {{signals->fd(), POLLIN, 0}, {stop_.event_fd(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) {
      stop_.request({StopKind::kVmmError, "poll failed"});
      break;
    }
    if ((fds[0].revents & POLLIN) != 0) {
      if (auto signo = signals->take()) stop_.request(signal_stop(*signo));
    }
  }
  if (profiler_) profiler_->stop();  // its thread kicks vCPUs: stopped before they are joined
  stop_vcpus();
  virtio_.shutdown();
  console_output_->flush();  // the guest's last words before kiln's
  console_.reset();  // restores the terminal
  finish_profile();
  log("vCPU exits to kiln: {}", exit_summary(exit_counters()));
  if (emulated_.total() > 0) log("instructions kiln emulated for KVM: {}", emulated_.summary());
  if (const size_t unread = i8042_->unread(); unread > 0) {
    log("i8042: {} byte(s) the guest never read (keys sent with SendCtrlAltDel wait there)", unread);
  }
  for (const auto& [id, c] : virtio_.net_counters()) {
    log("virtio-net {}: rx {} frames, {} dropped, {} filtered out; tx {} frames, {} dropped", id, c.rx_frames,
        c.rx_drops, c.rx_filtered, c.tx_frames, c.tx_drops);
  }
  // Every malformed request is counted, though only a few are logged (guest_errors.h).
  std::string errors;
  for (const auto& [label, count] : virtio_.guest_error_counts()) {
    if (count > 0) errors += fmt::format("{}{} {}", errors.empty() ? "" : ", ", label, count);
  }
  if (!errors.empty()) log("guest errors counted: {}", errors);
  return *stop_.reason();
}

void Vm::stop_vcpus() {
  std::lock_guard lock(control_mu_);
  pause_gate_.wake_all();  // parked vCPUs see the stop request
  for (auto& vcpu : vcpus_) vcpu->kick();
  for (auto& vcpu : vcpus_) vcpu->join();
  running_ = false;
}

}  // namespace kiln
