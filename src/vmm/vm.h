// A VM assembled in a straight line: memory, VM, irqchip, devices, kernel, vCPUs (as Firecracker's builder).
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "arch/x86_64/boot.h"
#include "arch/x86_64/emulator/emulation_counters.h"
#include "arch/x86_64/platform/mptable.h"
#include "common/result.h"
#include "devices/bus.h"
#include "devices/serial.h"
#include "kvm/kvm.h"
#include "memory/guest_memory.h"
#include "vmm/access_log.h"
#include "vmm/console.h"
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
  [[nodiscard]] StopReason run();

 private:
  Vm(Kvm kvm, VmFd vm, GuestMemory mem) : kvm_(std::move(kvm)), vm_(std::move(vm)), mem_(std::move(mem)) {}
  [[nodiscard]] Status setup_irqchip();
  [[nodiscard]] Status register_memory();
  [[nodiscard]] Status setup_devices(const VmConfig& config);
  [[nodiscard]] Status load_kernel(const VmConfig& config);
  [[nodiscard]] Status create_vcpus(const VmConfig& config);
  [[nodiscard]] Status set_boot_vcpu_registers();
  void stop_vcpus();

  Kvm kvm_;
  VmFd vm_;
  GuestMemory mem_;
  Bus pio_;
  Bus mmio_;
  std::shared_ptr<Serial> serial_;
  VirtioDevices virtio_;  // after mem_: device threads stop before guest RAM is unmapped
  ConsoleKind console_kind_ = ConsoleKind::kSerial;
  StopController stop_;
  UnhandledAccessLog unhandled_;
  x86::EmulationCounters emulated_;
  x86::MpCpuSignature cpu_signature_;
  std::optional<x86::BootEntry> boot_;
  std::unique_ptr<Console> console_;
  std::vector<std::unique_ptr<Vcpu>> vcpus_;  // last: threads end before what they use
};

}  // namespace kiln
