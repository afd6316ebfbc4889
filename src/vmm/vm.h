// A VM assembled in a straight line: memory, VM, irqchip, devices, kernel, vCPUs (as Firecracker's builder).
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
#include "vmm/guest_profiler.h"
#include "vmm/pause_gate.h"
#include "vmm/restore_overrides.h"
#include "vmm/stop_controller.h"
#include "vmm/vcpu.h"
#include "vmm/virtio_devices.h"
#include "vmm/vm_config.h"

namespace kiln {

class Vm {
 public:
  // Builds everything; nothing runs until run().
  [[nodiscard]] static Result<std::unique_ptr<Vm>> create(const VmConfig& config);
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
  // A VM rebuilt from a snapshot, RAM mapped privately from `mem_path` (pages read on first
  // touch); every field is validated first and nothing runs until run(). Its devices wait paused
  // for run() (or resume()). `options` may move its disks to other files.
  [[nodiscard]] static Result<std::unique_ptr<Vm>> restore(const std::string& snapshot_path,
                                                           const std::string& mem_path,
                                                           const RestoreOptions& options = {});
  // What the VM was built from (for a restored VM: the snapshot's configuration).
  [[nodiscard]] const VmConfig& config() const { return config_; }

  // The i8042 Ctrl-Alt-Del key sequence (the guest decides what it means).
  [[nodiscard]] Status send_ctrl_alt_del();
  // A new backing file for disk `index` (PATCH /drives): the guest sees the new capacity.
  [[nodiscard]] Status update_drive(size_t index, const std::string& path);
  // Counters as one JSON object (FlushMetrics).
  [[nodiscard]] std::string metrics_json() const;

 private:
  Vm(Kvm kvm, VmFd vm, GuestMemory mem, VmConfig config)
      : kvm_(std::move(kvm)), vm_(std::move(vm)), mem_(std::move(mem)), config_(std::move(config)) {}
  // KVM, RAM and the VM fd, then everything but the guest's initial state (shared by create and restore).
  [[nodiscard]] static Result<std::unique_ptr<Vm>> assemble(const VmConfig& config, Kvm kvm, GuestMemory mem);
  [[nodiscard]] Status setup_irqchip();
  [[nodiscard]] Status register_memory();
  [[nodiscard]] Status setup_devices(const VmConfig& config);
  [[nodiscard]] Status load_kernel(const VmConfig& config);
  [[nodiscard]] Status create_vcpus(const VmConfig& config);
  [[nodiscard]] Status set_boot_vcpu_registers();
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
  bool devices_paused_ = false;  // restored devices wait for run()
  Bus pio_;
  Bus mmio_;
  std::shared_ptr<pci::PciBus> pci_bus_;  // with --transport pci only
  std::shared_ptr<Serial> serial_;
  VirtioDevices virtio_;  // after mem_: device threads stop before guest RAM is unmapped
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
