// The running VM: its vCPU threads, devices and controls (pause, resume, snapshot, Ctrl-Alt-Del,
// drive updates, metrics). VmBuilder (builder.h) builds it, from a configuration or a snapshot.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "arch/x86_64/boot.h"
#include "arch/x86_64/emulator/emulation_counters.h"
#include "arch/x86_64/platform/mptable.h"
#include "common/result.h"
#include "devices/bus.h"
#include "devices/i8042.h"
#include "devices/serial.h"
#include "kvm/kvm.h"
#include "memory/guest_memory.h"
#include "pci/pci_bus.h"
#include "vmm/access_log.h"
#include "vmm/console.h"
#include "vmm/console_output.h"
#include "vmm/device_manager.h"
#include "vmm/guest_profiler.h"
#include "vmm/pause_gate.h"
#include "vmm/stop_controller.h"
#include "vmm/vcpu.h"
#include "vmm/virtio_devices.h"
#include "config/vm_config.h"

namespace kiln {

class Vm {
 public:
  Vm(const Vm&) = delete;
  Vm& operator=(const Vm&) = delete;
  ~Vm();

  // Runs the guest until it resets or shuts down, kiln gets SIGINT/SIGTERM/SIGHUP, or an error.
  // `start_paused`: every vCPU parks before its first instruction until resume().
  [[nodiscard]] StopReason run(bool start_paused = false);
  // The guest profiler (vm_profile.cpp) for the next run(): samples while it runs, prints the
  // histogram after. Call before run().
  void enable_profiler(ProfileSettings settings);
  // The kernel the VM booted (also for a restored VM: as the snapshot records it).
  [[nodiscard]] const std::string& kernel_path() const { return config_.kernel_path; }
  // Asks run() to end with `reason` (thread-safe; the first request wins).
  void request_stop(StopReason reason) { stop_.request(std::move(reason)); }

  // Pause and resume, thread-safe (e.g. from the API thread while run() runs). Pausing parks every
  // vCPU outside KVM_RUN, then quiesces the devices (in-flight requests completed) and holds
  // console input; resuming tells each vCPU's kvmclock that it was stopped (kvm/api.txt 4.70)
  // so the guest's watchdogs do not fire, then lets everything go.
  [[nodiscard]] Status pause();
  [[nodiscard]] Status resume();
  [[nodiscard]] bool paused() const;

  // Snapshot (vm_snapshot.cpp): the paused VM's whole state to `snapshot_path` (versioned,
  // checksummed) and its RAM to `mem_path` (sparse).
  [[nodiscard]] Status save_snapshot(const std::string& snapshot_path, const std::string& mem_path);
  // What the VM was built from (for a restored VM: the snapshot's configuration).
  [[nodiscard]] const VmConfig& config() const { return config_; }

  // The i8042 Ctrl-Alt-Del key sequence (the guest decides what it means).
  [[nodiscard]] Status send_ctrl_alt_del();
  // A new backing file for disk `index` (PATCH /drives): the guest sees the new capacity.
  [[nodiscard]] Status update_drive(size_t index, const std::string& path);
  // Counters as one JSON object (FlushMetrics).
  [[nodiscard]] std::string metrics_json() const;

 private:
  friend class VmBuilder;  // fills in the members below, in a straight line
  Vm(Kvm kvm, VmFd vm, GuestMemory mem, VmConfig config)
      : kvm_(std::move(kvm)), vm_(std::move(vm)), mem_(std::move(mem)), config_(std::move(config)) {}
  void stop_vcpus();
  void start_profiler();
  void finish_profile();
  [[nodiscard]] std::vector<const ExitCounters*> exit_counters() const;
  [[nodiscard]] Status pause_locked();
  void pause_devices();
  void resume_devices();

  Kvm kvm_;
  VmFd vm_;
  GuestMemory mem_;
  VmConfig config_;
  std::vector<std::vector<kvm_cpuid_entry2>> cpuid_;  // what each vCPU was given (KVM cannot read it back)
  std::shared_ptr<I8042> i8042_;
  // kiln's stdout, shared by the UART and the virtio console without splitting their lines.
  std::shared_ptr<ConsoleOutput> console_output_;
  bool devices_paused_ = false;  // restored devices wait for run()
  bool announce_on_resume_ = false;  // restored: network interfaces announce themselves once running
  Bus pio_;
  Bus mmio_;
  std::shared_ptr<pci::PciBus> pci_bus_;  // with --transport pci only
  std::shared_ptr<Serial> serial_;
  VirtioDevices virtio_;  // after mem_: device threads stop before guest RAM is unmapped
  DeviceManager devices_;  // every device above, in the one order pause and snapshots use
  ConsoleKind console_kind_ = ConsoleKind::kSerial;
  StopController stop_;
  PauseGate pause_gate_;
  mutable std::mutex control_mu_;  // serialises pause, resume, snapshot and stop_vcpus
  bool running_ = false;          // vCPU threads started and not yet joined
  bool paused_ = false;
  UnhandledAccessLog unhandled_;
  x86::EmulationCounters emulated_;
  x86::MpCpuSignature cpu_signature_;
  std::optional<x86::BootEntry> boot_;
  std::unique_ptr<Console> console_;
  std::unique_ptr<GuestProfiler> profiler_;   // before vcpus_: their threads write its samples
  std::vector<std::unique_ptr<Vcpu>> vcpus_;  // last: threads end before what they use
};

}  // namespace kiln
