// Building a VM from its configuration, in one straight line (Firecracker's builder.rs): KVM, RAM
// and the VM fd; the interrupt controller; memory slots; devices (registered with the device
// manager in the one order pause and snapshots use); vCPUs; then the kernel and the boot vCPU's
// registers. Each step returns an error naming what failed; nothing runs until Vm::run().
#include "vmm/builder.h"

#include <unistd.h>

#include "arch/x86_64/boot.h"
#include "arch/x86_64/cpu_state.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/msrs.h"
#include "arch/x86_64/platform/acpi.h"
#include "arch/x86_64/platform/cpuid.h"
#include "arch/x86_64/platform/mptable.h"
#include "arch/x86_64/platform/platform_layout.h"
#include "common/file.h"
#include "common/log.h"
#include "config/virtio_placement.h"
#include "devices/i8042.h"
#include "devices/quiet_ports.h"
#include "devices/sleep_control.h"
#include "pci/config_io.h"
#include "pci/pci_bus.h"
#include "vmm/kvm_irq_line.h"

namespace kiln {
namespace {

// Where KVM keeps its real-mode TSS (3 pages) and EPT identity map page: inside the MMIO hole,
// clear of RAM and devices (kvm/api.txt 4.43, 4.39; same place as QEMU).
constexpr GuestAddress kIdentityMapAddr{0xfeffc000};
constexpr GuestAddress kTssAddr{0xfeffd000};
constexpr uint64_t kMaxKernelBytes = 512 * MiB;
constexpr uint64_t kMaxInitrdBytes = 2 * GiB;

void write_stdout(std::span<const uint8_t> bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(STDOUT_FILENO, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // stdout closed: the guest's output is dropped, the guest keeps running
    done += static_cast<size_t>(n);
  }
}

}  // namespace

Result<std::unique_ptr<Vm>> VmBuilder::build(const VmConfig& config) {
  auto kvm = KILN_TRY_VALUE(Kvm::open());
  auto mem = KILN_TRY_VALUE(GuestMemory::create(x86::ram_ranges(config.memory_bytes)));
  std::unique_ptr<Vm> vm = KILN_TRY_VALUE(assemble(config, std::move(kvm), std::move(mem)));
  KILN_TRY(load_kernel(*vm, config));
  KILN_TRY(set_boot_vcpu_registers(*vm));
  return vm;
}

Result<std::unique_ptr<Vm>> VmBuilder::assemble(const VmConfig& config, Kvm kvm, GuestMemory mem) {
  KILN_TRY(kvm.check_required_capabilities());
  if (config.vcpus > static_cast<uint32_t>(kvm.max_vcpus())) {
    return fail("--cpus {}: this KVM allows at most {} vCPUs", config.vcpus, kvm.max_vcpus());
  }
  auto vm_fd = KILN_TRY_VALUE(kvm.create_vm());
  std::unique_ptr<Vm> vm(new Vm(std::move(kvm), std::move(vm_fd), std::move(mem), config));
  KILN_TRY(setup_irqchip(*vm));
  KILN_TRY(register_memory(*vm));
  KILN_TRY(setup_devices(*vm, config));
  KILN_TRY(create_vcpus(*vm, config));
  return vm;
}

Status VmBuilder::setup_irqchip(Vm& vm) {
  KILN_TRY(vm.vm_.set_identity_map_addr(kIdentityMapAddr));
  KILN_TRY(vm.vm_.set_tss_addr(kTssAddr));
  KILN_TRY(vm.vm_.create_irqchip());
  KILN_TRY(vm.vm_.create_pit2(KVM_PIT_SPEAKER_DUMMY));
  // Emulation failures then carry the instruction bytes (kvm/api.txt 7.x EXIT_ON_EMULATION_FAILURE).
  if (vm.kvm_.check_extension(KVM_CAP_EXIT_ON_EMULATION_FAILURE) > 0) {
    KILN_TRY(vm.vm_.enable_cap(KVM_CAP_EXIT_ON_EMULATION_FAILURE, 1));
  }
  return {};
}

Status VmBuilder::register_memory(Vm& vm) {
  uint32_t slot = 0;
  for (const auto& region : vm.mem_.regions()) {
    KILN_TRY(vm.vm_.set_user_memory_region(slot++, region.start, region.size, region.mapping.data()));
  }
  return {};
}

Status VmBuilder::setup_devices(Vm& vm, const VmConfig& config) {
  vm.console_output_ = KILN_TRY_VALUE(ConsoleOutput::create(write_stdout));
  vm.serial_ =
      std::make_shared<Serial>(std::make_shared<KvmIrqLine>(vm.vm_, x86::kCom1Irq), vm.console_output_->stream());
  KILN_TRY(vm.pio_.add(x86::kCom1Port, 8, vm.serial_, "COM1"));
  vm.i8042_ = std::make_shared<I8042>([v = &vm] { v->stop_.request({StopKind::kGuestReset, "guest reset (i8042)"}); },
                                   std::make_shared<KvmIrqPulse>(vm.vm_, x86::kKeyboardIrq));
  KILN_TRY(vm.pio_.add(I8042::kBase, I8042::kLength, vm.i8042_, "i8042"));
  // PCI bus 0 only when some virtio device is on PCI; otherwise configuration mechanism #1 finds
  // nothing.
  if (needs_pci_bus(config)) {
    vm.pci_bus_ = std::make_shared<pci::PciBus>(kPciIoWindow, kPciMemWindow);
    KILN_TRY(vm.pio_.add(kPciIoWindow.base, kPciIoWindow.size, pci::PciBus::window_device(vm.pci_bus_, pci::BarKind::kIo),
                      "PCI I/O window"));
    KILN_TRY(vm.mmio_.add(kPciMemWindow.base, kPciMemWindow.size,
                       pci::PciBus::window_device(vm.pci_bus_, pci::BarKind::kMemory32), "PCI memory window"));
  }
  // 0xcf9 is also the ACPI FADT reset register.
  auto pci_config = std::make_shared<pci::ConfigIo>(
      [v = &vm] { v->stop_.request({StopKind::kGuestReset, "guest reset (0xcf9)"}); }, vm.pci_bus_);
  KILN_TRY(vm.pio_.add(pci::ConfigIo::kBase, pci::ConfigIo::kLength, pci_config, "PCI config"));
  auto sleep = std::make_shared<SleepControl>(x86::kSleepValueS5, [v = &vm] {
    v->stop_.request({StopKind::kGuestShutdown, "guest powered off (ACPI S5)"});
  });
  KILN_TRY(vm.pio_.add(x86::kDefaultSleepPort, 1, sleep, "ACPI sleep control"));
  KILN_TRY(add_quiet_ports(vm.pio_));
  vm.virtio_ = KILN_TRY_VALUE(
      VirtioDevices::create(config, vm.vm_, vm.mem_, vm.mmio_, vm.pci_bus_.get(), vm.console_output_->stream()));
  vm.console_kind_ = config.console;
  return register_devices(vm);
}

Status VmBuilder::register_devices(Vm& vm) {
  auto serial = vm.serial_;
  KILN_TRY(vm.devices_.add({"serial", 1,
                         [serial] {
                           serial->pause();
                           return Status{};
                         },
                         [serial] { serial->resume(); },
                         [serial](snapshot::Encoder& out) {
                           serial->save_state(out);
                           return Status{};
                         },
                         [serial](snapshot::Decoder& in) { return serial->restore_state(in); }, nullptr}));
  auto i8042 = vm.i8042_;
  KILN_TRY(vm.devices_.add({"i8042", 1, nullptr, nullptr,
                         [i8042](snapshot::Encoder& out) {
                           i8042->save_state(out);
                           return Status{};
                         },
                         [i8042](snapshot::Decoder& in) { return i8042->restore_state(in); }, nullptr}));
  for (auto& device : vm.virtio_.managed_devices()) KILN_TRY(vm.devices_.add(std::move(device)));
  if (vm.pci_bus_) {  // the configuration says whether it is there
    auto bus = vm.pci_bus_;
    KILN_TRY(vm.devices_.add({"pci-bus", 1, nullptr, nullptr,
                           [bus](snapshot::Encoder& out) {
                             bus->save_state(out);
                             return Status{};
                           },
                           [bus](snapshot::Decoder& in) { return bus->restore_state(in); }, nullptr}));
  }
  return {};
}

Status VmBuilder::load_kernel(Vm& vm, const VmConfig& config) {
  auto kernel = read_file(config.kernel_path, kMaxKernelBytes);
  if (!kernel) return wrap("--kernel", kernel.error());
  std::vector<uint8_t> initrd;
  if (config.initrd_path) {
    auto data = read_file(*config.initrd_path, kMaxInitrdBytes);
    if (!data) return wrap("--initrd", data.error());
    initrd = std::move(*data);
  }
  // Platform tables first: the boot protocol hands the kernel the RSDP address.
  KILN_TRY(x86::write_mptable(vm.mem_, config.vcpus, vm.cpu_signature_, vm.virtio_.mp_pci_interrupts()));
  auto rsdp = x86::write_acpi_tables(
      vm.mem_, x86::AcpiConfig{config.vcpus, vm.virtio_.acpi_devices(), x86::kDefaultSleepPort, vm.virtio_.acpi_pci_root()});
  if (!rsdp) return wrap("ACPI tables", rsdp.error());
  // Both discovery paths: the command line (kiln's kernel, the probe) and ACPI (stock kernels).
  std::string cmdline = config.cmdline + vm.virtio_.cmdline_entries();
  if (x86::host_is_kvm_pvm() && !vm.cpuid_.empty()) {
    if (auto extra = x86::pvm_kernel_parameters(vm.cpuid_.front(), cmdline); !extra.empty()) {
      log("host KVM is kvm_pvm, whose guests read CPUID natively: '{}' added to the kernel command line", extra);
      cmdline += " " + extra;
    }
  }
  auto entry = x86::load_kernel(vm.mem_, x86::BootSpec{*kernel, initrd, cmdline, *rsdp});
  if (!entry) return wrap(fmt::format("--kernel {}", config.kernel_path), entry.error());
  vm.boot_ = *entry;
  return {};
}

Status VmBuilder::create_vcpus(Vm& vm, const VmConfig& config) {
  const auto supported = KILN_TRY_VALUE(vm.kvm_.supported_cpuid());
  x86::CpuidConfig cpuid_config;
  cpuid_config.vcpus = config.vcpus;
  const bool pvm = x86::host_is_kvm_pvm();
  cpuid_config.template_name = config.cpu_template.value_or(std::string(x86::default_cpu_template(pvm)));
  if (pvm && !config.cpu_template) {
    log("host KVM is kvm_pvm: CPU template '{}' hides what its instruction emulator lacks", cpuid_config.template_name);
  }
  cpuid_config.overrides = config.cpu_features;
  cpuid_config.tsc_deadline_timer = vm.kvm_.check_extension(KVM_CAP_TSC_DEADLINE_TIMER) > 0;

  const VcpuContext ctx{&vm.pio_, &vm.mmio_, &vm.stop_, &vm.unhandled_, &vm.mem_, &vm.emulated_, &vm.pause_gate_};
  for (uint32_t id = 0; id < config.vcpus; ++id) {
    auto fd = KILN_TRY_VALUE(vm.vm_.create_vcpu(id));
    auto cpuid = x86::build_cpuid(supported, cpuid_config, id);
    if (!cpuid) return wrap("CPUID", cpuid.error());
    if (id == 0) {
      for (const auto& e : *cpuid) {
        if (e.function == 1) vm.cpu_signature_ = x86::MpCpuSignature{e.eax, e.edx};
      }
    }
    KILN_TRY(fd.set_cpuid(*cpuid));
    vm.cpuid_.push_back(*cpuid);
    KILN_TRY(fd.set_msrs(x86::boot_msrs()));
    vm.vcpus_.push_back(std::make_unique<Vcpu>(id, std::move(fd), ctx));
  }
  return {};
}

Status VmBuilder::set_boot_vcpu_registers(Vm& vm) {
  // The boot vCPU starts at the kernel entry; the others wait for INIT/SIPI in the in-kernel LAPIC.
  VcpuFd& fd = vm.vcpus_.front()->fd();
  auto regs = KILN_TRY_VALUE(fd.get_regs());
  auto sregs = KILN_TRY_VALUE(fd.get_sregs());
  x86::set_boot_registers(*vm.boot_, regs, sregs);
  KILN_TRY(fd.set_sregs(sregs));
  KILN_TRY(fd.set_regs(regs));
  return fd.set_fpu(x86::boot_fpu());
}

}  // namespace kiln
