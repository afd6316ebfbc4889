#include "kvm/vm_fd.h"

#include <sys/ioctl.h>
#include <sys/mman.h>

#include <cstring>
#include <vector>

#include "kvm/kvm_error.h"

namespace kiln {

Status VmFd::ioctl_status(unsigned long request, const void* arg, const char* name) const {
  if (::ioctl(fd_.get(), request, arg) < 0) return kvm_errno(name);
  return {};
}

Status VmFd::set_user_memory_region(uint32_t slot, GuestAddress guest, uint64_t size, void* host) {
  const kvm_userspace_memory_region region{
      .slot = slot,
      .flags = 0,
      .guest_phys_addr = guest.raw(),
      .memory_size = size,
      .userspace_addr = reinterpret_cast<uint64_t>(host),
  };
  return ioctl_status(KVM_SET_USER_MEMORY_REGION, &region, "KVM_SET_USER_MEMORY_REGION");
}

Status VmFd::set_tss_addr(GuestAddress addr) {
  if (::ioctl(fd_.get(), KVM_SET_TSS_ADDR, static_cast<unsigned long>(addr.raw())) < 0) {
    return kvm_errno("KVM_SET_TSS_ADDR");
  }
  return {};
}

Status VmFd::set_identity_map_addr(GuestAddress addr) {
  const uint64_t raw = addr.raw();
  return ioctl_status(KVM_SET_IDENTITY_MAP_ADDR, &raw, "KVM_SET_IDENTITY_MAP_ADDR");
}

Status VmFd::create_irqchip() {
  if (::ioctl(fd_.get(), KVM_CREATE_IRQCHIP, 0) < 0) return kvm_errno("KVM_CREATE_IRQCHIP");
  return {};
}

Status VmFd::create_pit2(uint32_t flags) {
  kvm_pit_config config{};
  config.flags = flags;
  return ioctl_status(KVM_CREATE_PIT2, &config, "KVM_CREATE_PIT2");
}

Status VmFd::irq_line(uint32_t gsi, bool high) const {
  kvm_irq_level level{};
  level.irq = gsi;
  level.level = high ? 1 : 0;
  return ioctl_status(KVM_IRQ_LINE, &level, "KVM_IRQ_LINE");
}

Status VmFd::irqfd(int event_fd, uint32_t gsi) {
  kvm_irqfd request{};
  request.fd = static_cast<uint32_t>(event_fd);
  request.gsi = gsi;
  return ioctl_status(KVM_IRQFD, &request, "KVM_IRQFD");
}

Status VmFd::irqfd_resample(int event_fd, int resample_fd, uint32_t gsi) {
  kvm_irqfd request{};
  request.fd = static_cast<uint32_t>(event_fd);
  request.resamplefd = static_cast<uint32_t>(resample_fd);
  request.gsi = gsi;
  request.flags = KVM_IRQFD_FLAG_RESAMPLE;
  return ioctl_status(KVM_IRQFD, &request, "KVM_IRQFD (resample)");
}

Status VmFd::set_gsi_routing(std::span<const kvm_irq_routing_entry> entries) {
  // kvm_irq_routing ends in a flexible array: one buffer of header and entries.
  std::vector<uint8_t> buffer(sizeof(kvm_irq_routing) + entries.size_bytes());
  kvm_irq_routing header{};
  header.nr = static_cast<uint32_t>(entries.size());
  std::memcpy(buffer.data(), &header, sizeof(header));
  if (!entries.empty()) std::memcpy(buffer.data() + sizeof(header), entries.data(), entries.size_bytes());
  return ioctl_status(KVM_SET_GSI_ROUTING, buffer.data(), "KVM_SET_GSI_ROUTING");
}

Result<bool> VmFd::signal_msi(uint64_t address, uint32_t data) {
  kvm_msi msi{};
  msi.address_lo = static_cast<uint32_t>(address);
  msi.address_hi = static_cast<uint32_t>(address >> 32);
  msi.data = data;
  const int r = ::ioctl(fd_.get(), KVM_SIGNAL_MSI, &msi);
  if (r < 0) return kvm_errno("KVM_SIGNAL_MSI");
  return r > 0;
}

Status VmFd::ioeventfd_pio(int event_fd, uint16_t port, uint32_t len, uint64_t datamatch, bool assign) {
  kvm_ioeventfd request{};
  request.datamatch = datamatch;
  request.addr = port;
  request.len = len;
  request.fd = event_fd;
  request.flags = KVM_IOEVENTFD_FLAG_DATAMATCH | KVM_IOEVENTFD_FLAG_PIO | (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN);
  return ioctl_status(KVM_IOEVENTFD, &request, assign ? "KVM_IOEVENTFD" : "KVM_IOEVENTFD (deassign)");
}

Status VmFd::ioeventfd_mmio(int event_fd, GuestAddress addr, uint32_t len, uint64_t datamatch) {
  kvm_ioeventfd request{};
  request.datamatch = datamatch;
  request.addr = addr.raw();
  request.len = len;
  request.fd = event_fd;
  request.flags = KVM_IOEVENTFD_FLAG_DATAMATCH;
  return ioctl_status(KVM_IOEVENTFD, &request, "KVM_IOEVENTFD");
}

Status VmFd::enable_cap(uint32_t cap, uint64_t arg0) {
  kvm_enable_cap enable{};
  enable.cap = cap;
  enable.args[0] = arg0;
  return ioctl_status(KVM_ENABLE_CAP, &enable, "KVM_ENABLE_CAP");
}

int VmFd::check_extension(long cap) const {
  const int r = ::ioctl(fd_.get(), KVM_CHECK_EXTENSION, cap);
  return r < 0 ? 0 : r;
}

Result<VcpuFd> VmFd::create_vcpu(uint32_t id) {
  const int fd = ::ioctl(fd_.get(), KVM_CREATE_VCPU, static_cast<unsigned long>(id));
  if (fd < 0) return kvm_errno(fmt::format("KVM_CREATE_VCPU {}", id));
  UniqueFd owner(fd);
  auto run = MmapRegion::map(nullptr, vcpu_mmap_size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (!run) return wrap(fmt::format("mapping kvm_run of vCPU {}", id), run.error());
  // KVM_CAP_XSAVE2 (4.42): the XSAVE area size for this VM; 0 on kernels without it (4096 then).
  const int xsave2 = check_extension(KVM_CAP_XSAVE2);
  return VcpuFd(std::move(owner), std::move(*run), xsave2 > 0 ? static_cast<size_t>(xsave2) : sizeof(kvm_xsave));
}

Result<kvm_irqchip> VmFd::get_irqchip(uint32_t chip_id) const {
  kvm_irqchip chip{};
  chip.chip_id = chip_id;
  if (::ioctl(fd_.get(), KVM_GET_IRQCHIP, &chip) < 0) return kvm_errno(fmt::format("KVM_GET_IRQCHIP {}", chip_id));
  return chip;
}

Status VmFd::set_irqchip(const kvm_irqchip& irqchip) {
  if (::ioctl(fd_.get(), KVM_SET_IRQCHIP, &irqchip) < 0) {
    return kvm_errno(fmt::format("KVM_SET_IRQCHIP {}", irqchip.chip_id));
  }
  return {};
}

Result<kvm_pit_state2> VmFd::get_pit2() const {
  kvm_pit_state2 pit{};
  if (::ioctl(fd_.get(), KVM_GET_PIT2, &pit) < 0) return kvm_errno("KVM_GET_PIT2");
  return pit;
}

Status VmFd::set_pit2(const kvm_pit_state2& pit) { return ioctl_status(KVM_SET_PIT2, &pit, "KVM_SET_PIT2"); }

Result<kvm_clock_data> VmFd::get_clock() const {
  kvm_clock_data clock{};
  if (::ioctl(fd_.get(), KVM_GET_CLOCK, &clock) < 0) return kvm_errno("KVM_GET_CLOCK");
  return clock;
}

Status VmFd::set_clock(const kvm_clock_data& clock) { return ioctl_status(KVM_SET_CLOCK, &clock, "KVM_SET_CLOCK"); }

}  // namespace kiln
