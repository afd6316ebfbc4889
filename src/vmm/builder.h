// Where a VM is built, from a configuration or from a snapshot (builder.cpp, builder_restore.cpp);
// Vm (vm.h) is only the running VM. Both paths share one assembly: KVM, RAM, VM fd, interrupt
// controller, memory slots, devices and their registration with the device manager, vCPUs.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "vmm/restore_overrides.h"
#include "vmm/vm.h"
#include "config/vm_config.h"

namespace kiln {

class VmBuilder {
 public:
  // A VM ready to boot `config`'s kernel; nothing runs until run().
  [[nodiscard]] static Result<std::unique_ptr<Vm>> build(const VmConfig& config);
  // A VM rebuilt from a snapshot, RAM mapped privately from `mem_path` (pages read on first
  // touch); every field is validated first and nothing runs until run(). Its devices wait paused
  // for run() (or resume()). `options` may move its disks to other files.
  [[nodiscard]] static Result<std::unique_ptr<Vm>> restore(const std::string& snapshot_path,
                                                           const std::string& mem_path,
                                                           const RestoreOptions& options = {});

 private:
  // Everything but the guest's initial state (shared by build and restore).
  [[nodiscard]] static Result<std::unique_ptr<Vm>> assemble(const VmConfig& config, Kvm kvm, GuestMemory mem);
  [[nodiscard]] static Status setup_irqchip(Vm& vm);
  [[nodiscard]] static Status register_memory(Vm& vm);
  [[nodiscard]] static Status setup_devices(Vm& vm, const VmConfig& config);
  // The one order of devices: pause, resume and snapshot sections follow it.
  [[nodiscard]] static Status register_devices(Vm& vm);
  [[nodiscard]] static Status create_vcpus(Vm& vm, const VmConfig& config);
  [[nodiscard]] static Status load_kernel(Vm& vm, const VmConfig& config);
  [[nodiscard]] static Status set_boot_vcpu_registers(Vm& vm);
};

}  // namespace kiln
