#include "vmm/vm.h"

#include <poll.h>
#include <signal.h>
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
#include "devices/i8042.h"
#include "devices/quiet_ports.h"
#include "devices/sleep_control.h"
#include "pci/config_io.h"
#include "pci/pci_bus.h"
#include "vmm/kvm_irq_line.h"
#include "vmm/stop_signals.h"

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

Vm::~Vm() { stop_vcpus(); }

Result<std::unique_ptr<Vm>> Vm::create(const VmConfig& config) {
  auto kvm = Kvm::open();
  if (!kvm) return tl::unexpected(kvm.error());
  auto mem = GuestMemory::create(x86::ram_ranges(config.memory_bytes));
  if (!mem) return tl::unexpected(mem.error());
  auto vm = assemble(config, std::move(*kvm), std::move(*mem));
  if (!vm) return tl::unexpected(vm.error());
  KILN_TRY((*vm)->load_kernel(config));
  KILN_TRY((*vm)->set_boot_vcpu_registers());
  return vm;
}

Result<std::unique_ptr<Vm>> Vm::assemble(const VmConfig& config, Kvm kvm, GuestMemory mem) {
  KILN_TRY(kvm.check_required_capabilities());
  if (config.vcpus > static_cast<uint32_t>(kvm.max_vcpus())) {
    return fail("--cpus {}: this KVM allows at most {} vCPUs", config.vcpus, kvm.max_vcpus());
  }
  auto vm_fd = kvm.create_vm();
  if (!vm_fd) return tl::unexpected(vm_fd.error());
  std::unique_ptr<Vm> vm(new Vm(std::move(kvm), std::move(*vm_fd), std::move(mem), config));
  KILN_TRY(vm->setup_irqchip());
  KILN_TRY(vm->register_memory());
  KILN_TRY(vm->setup_devices(config));
  KILN_TRY(vm->create_vcpus(config));
  return vm;
}

Status Vm::setup_irqchip() {
  KILN_TRY(vm_.set_identity_map_addr(kIdentityMapAddr));
  KILN_TRY(vm_.set_tss_addr(kTssAddr));
  KILN_TRY(vm_.create_irqchip());
  KILN_TRY(vm_.create_pit2(KVM_PIT_SPEAKER_DUMMY));
  // Emulation failures then carry the instruction bytes (kvm/api.txt 7.x EXIT_ON_EMULATION_FAILURE).
  if (kvm_.check_extension(KVM_CAP_EXIT_ON_EMULATION_FAILURE) > 0) {
    KILN_TRY(vm_.enable_cap(KVM_CAP_EXIT_ON_EMULATION_FAILURE, 1));
  }
  return {};
}

Status Vm::register_memory() {
  uint32_t slot = 0;
  for (const auto& region : mem_.regions()) {
    KILN_TRY(vm_.set_user_memory_region(slot++, region.start, region.size, region.mapping.data()));
  }
  return {};
}

Status Vm::setup_devices(const VmConfig& config) {
  serial_ = std::make_shared<Serial>(std::make_shared<KvmIrqLine>(vm_, x86::kCom1Irq), write_stdout);
  KILN_TRY(pio_.add(x86::kCom1Port, 8, serial_, "COM1"));
  i8042_ = std::make_shared<I8042>([this] { stop_.request({StopKind::kGuestReset, "guest reset (i8042)"}); },
                                   std::make_shared<KvmIrqPulse>(vm_, x86::kKeyboardIrq));
  KILN_TRY(pio_.add(I8042::kBase, I8042::kLength, i8042_, "i8042"));
  // PCI bus 0 only for virtio-PCI devices; otherwise configuration mechanism #1 finds nothing.
  if (config.virtio_transport == VirtioTransport::kPci) {
    pci_bus_ = std::make_shared<pci::PciBus>(kPciIoWindow, kPciMemWindow);
    KILN_TRY(pio_.add(kPciIoWindow.base, kPciIoWindow.size, pci::PciBus::window_device(pci_bus_, pci::BarKind::kIo),
                      "PCI I/O window"));
    KILN_TRY(mmio_.add(kPciMemWindow.base, kPciMemWindow.size,
                       pci::PciBus::window_device(pci_bus_, pci::BarKind::kMemory32), "PCI memory window"));
  }
  // 0xcf9 is also the ACPI FADT reset register.
  auto pci_config = std::make_shared<pci::ConfigIo>(
      [this] { stop_.request({StopKind::kGuestReset, "guest reset (0xcf9)"}); }, pci_bus_);
  KILN_TRY(pio_.add(pci::ConfigIo::kBase, pci::ConfigIo::kLength, pci_config, "PCI config"));
  auto sleep = std::make_shared<SleepControl>(x86::kSleepValueS5, [this] {
    stop_.request({StopKind::kGuestShutdown, "guest powered off (ACPI S5)"});
  });
  KILN_TRY(pio_.add(x86::kDefaultSleepPort, 1, sleep, "ACPI sleep control"));
  KILN_TRY(add_quiet_ports(pio_));
  auto virtio = VirtioDevices::create(config, vm_, mem_, mmio_, pci_bus_.get(), write_stdout);
  if (!virtio) return tl::unexpected(virtio.error());
  virtio_ = std::move(*virtio);
  console_kind_ = config.console;
  return {};
}

Status Vm::load_kernel(const VmConfig& config) {
  auto kernel = read_file(config.kernel_path, kMaxKernelBytes);
  if (!kernel) return wrap("--kernel", kernel.error());
  std::vector<uint8_t> initrd;
  if (config.initrd_path) {
    auto data = read_file(*config.initrd_path, kMaxInitrdBytes);
    if (!data) return wrap("--initrd", data.error());
    initrd = std::move(*data);
  }
  // Platform tables first: the boot protocol hands the kernel the RSDP address.
  KILN_TRY(x86::write_mptable(mem_, config.vcpus, cpu_signature_));
  auto rsdp = x86::write_acpi_tables(
      mem_, x86::AcpiConfig{config.vcpus, virtio_.acpi_devices(), x86::kDefaultSleepPort, virtio_.acpi_pci_root()});
  if (!rsdp) return wrap("ACPI tables", rsdp.error());
  // Both discovery paths: the command line (kiln's kernel, the probe) and ACPI (stock kernels).
  const std::string cmdline = config.cmdline + virtio_.cmdline_entries();
  auto entry = x86::load_kernel(mem_, x86::BootSpec{*kernel, initrd, cmdline, *rsdp});
  if (!entry) return wrap(fmt::format("--kernel {}", config.kernel_path), entry.error());
  boot_ = *entry;
  return {};
}

Status Vm::create_vcpus(const VmConfig& config) {
  auto supported = kvm_.supported_cpuid();
  if (!supported) return tl::unexpected(supported.error());
  x86::CpuidConfig cpuid_config;
  cpuid_config.vcpus = config.vcpus;
  const bool pvm = x86::host_is_kvm_pvm();
  cpuid_config.template_name = config.cpu_template.value_or(std::string(x86::default_cpu_template(pvm)));
  if (pvm && !config.cpu_template) {
    log("host KVM is kvm_pvm: CPU template '{}' hides what its instruction emulator lacks", cpuid_config.template_name);
  }
  cpuid_config.overrides = config.cpu_features;
  cpuid_config.tsc_deadline_timer = kvm_.check_extension(KVM_CAP_TSC_DEADLINE_TIMER) > 0;

  const VcpuContext ctx{&pio_, &mmio_, &stop_, &unhandled_, &mem_, &emulated_, &pause_gate_};
  for (uint32_t id = 0; id < config.vcpus; ++id) {
    auto fd = vm_.create_vcpu(id);
    if (!fd) return tl::unexpected(fd.error());
    auto cpuid = x86::build_cpuid(*supported, cpuid_config, id);
    if (!cpuid) return wrap("CPUID", cpuid.error());
    if (id == 0) {
      for (const auto& e : *cpuid) {
        if (e.function == 1) cpu_signature_ = x86::MpCpuSignature{e.eax, e.edx};
      }
    }
    KILN_TRY(fd->set_cpuid(*cpuid));
    cpuid_.push_back(*cpuid);
    KILN_TRY(fd->set_msrs(x86::boot_msrs()));
    vcpus_.push_back(std::make_unique<Vcpu>(id, std::move(*fd), ctx));
  }
  return {};
}

Status Vm::set_boot_vcpu_registers() {
  // The boot vCPU starts at the kernel entry; the others wait for INIT/SIPI in the in-kernel LAPIC.
  VcpuFd& fd = vcpus_.front()->fd();
  auto regs = fd.get_regs();
  auto sregs = fd.get_sregs();
  if (!regs) return tl::unexpected(regs.error());
  if (!sregs) return tl::unexpected(sregs.error());
  x86::set_boot_registers(*boot_, *regs, *sregs);
  KILN_TRY(fd.set_sregs(*sregs));
  KILN_TRY(fd.set_regs(*regs));
  return fd.set_fpu(x86::boot_fpu());
}

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
  console_.reset();  // restores the terminal
  finish_profile();
  log("vCPU exits to kiln: {}", exit_summary(exit_counters()));
  if (emulated_.total() > 0) log("instructions kiln emulated for KVM: {}", emulated_.summary());
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
