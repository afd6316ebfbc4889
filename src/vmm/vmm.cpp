#include "vmm/vmm.h"

#include <poll.h>

#include <chrono>

#include "vmm/builder.h"

namespace kiln {

Result<std::unique_ptr<Vmm>> Vmm::create() {
  auto wake = KILN_TRY_VALUE(EventFd::create());
  return std::unique_ptr<Vmm>(new Vmm(std::move(wake)));
}

Status Vmm::adopt(std::unique_ptr<Vm> vm, bool start_paused) { return hand_over(std::move(vm), start_paused); }

Status Vmm::hand_over(std::unique_ptr<Vm> vm, bool start_paused) {
  {
    std::lock_guard lock(mu_);
    if (vm_) return fail("a VM already exists in this kiln process");
    vm_ = std::move(vm);
    start_paused_ = start_paused;
  }
  wake_.signal();
  return {};
}

StopReason Vmm::run(const StopSignals& signals) {
  Vm* vm = nullptr;
  bool paused = false;
  while (vm == nullptr) {
    {
      std::lock_guard lock(mu_);
      if (vm_) {
        vm = vm_.get();
        paused = start_paused_;
        running_ = true;
        break;
      }
    }
    pollfd fds[2] = {{signals.fd(), POLLIN, 0}, {wake_.fd(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) return {StopKind::kVmmError, "poll failed"};
    if ((fds[0].revents & POLLIN) != 0) {
      if (auto signo = signals.take()) return signal_stop(*signo);
    }
    if ((fds[1].revents & POLLIN) != 0) wake_.consume();
  }
  return vm->run(paused);
}

VmState Vmm::state() const {
  std::lock_guard lock(mu_);
  if (!vm_) return VmState::kNotStarted;
  if (!running_) return start_paused_ ? VmState::kPaused : VmState::kRunning;
  return vm_->paused() ? VmState::kPaused : VmState::kRunning;
}

Result<Vm*> Vmm::running_vm(std::string_view action) const {
  std::lock_guard lock(mu_);
  if (!vm_) return fail("cannot {}: the VM is not started", action);
  return vm_.get();
}

Status Vmm::start(const VmConfig& config) {
  {
    std::lock_guard lock(mu_);
    if (vm_ || starting_) return fail("the VM is already started");
    starting_ = true;
  }
  auto vm = VmBuilder::build(config);
  std::lock_guard lock(mu_);
  starting_ = false;
  if (!vm) return tl::unexpected(vm.error());
  vm_ = std::move(*vm);
  start_paused_ = false;
  wake_.signal();
  return {};
}

Result<VmConfig> Vmm::load_snapshot(const SnapshotLoadParams& params) {
  {
    std::lock_guard lock(mu_);
    if (vm_ || starting_) return fail("a snapshot can only be loaded before the VM is started");
    starting_ = true;
  }
  RestoreOptions options;
  options.net_taps = params.network_overrides;
  options.vsock_uds_path = params.vsock_uds_path;
  auto vm = VmBuilder::restore(params.snapshot_path, params.mem_file_path, options);
  std::lock_guard lock(mu_);
  starting_ = false;
  if (!vm) return tl::unexpected(vm.error());
  VmConfig config = (*vm)->config();
  vm_ = std::move(*vm);
  start_paused_ = !params.resume_vm;
  wake_.signal();
  return config;
}

Status Vmm::pause() {
  auto vm = KILN_TRY_VALUE(running_vm("pause"));
  return vm->pause();
}

Status Vmm::resume() {
  auto vm = KILN_TRY_VALUE(running_vm("resume"));
  return vm->resume();
}

Status Vmm::send_ctrl_alt_del() {
  auto vm = KILN_TRY_VALUE(running_vm("send Ctrl-Alt-Del"));
  return vm->send_ctrl_alt_del();
}

Status Vmm::create_snapshot(const SnapshotCreateParams& params) {
  auto vm = KILN_TRY_VALUE(running_vm("create a snapshot"));
  return vm->save_snapshot(params.snapshot_path, params.mem_file_path);
}

Status Vmm::update_drive(size_t index, const std::string& path) {
  auto vm = KILN_TRY_VALUE(running_vm("update a drive"));
  return vm->update_drive(index, path);
}

std::string Vmm::metrics_json() {
  auto vm = running_vm("read metrics");
  if (!vm) return "{}";
  return (*vm)->metrics_json();
}

}  // namespace kiln
