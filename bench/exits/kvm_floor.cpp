#include "kvm_floor.h"

#include <fcntl.h>
#include "kvm/uapi.h"
#include <sys/ioctl.h>

#include <chrono>
#include <cstring>

#include "common/mmap_region.h"
#include "common/unique_fd.h"

namespace kiln::bench {
namespace {

constexpr uint64_t kMemSize = 0x1000;     // one page of guest RAM at 0
constexpr uint64_t kTssAddr = 0xfffbd000;  // KVM_SET_TSS_ADDR: 3 pages, outside RAM (kvm/api.txt 4.43)
constexpr uint16_t kPort = 0x510;
constexpr uint64_t kMmioAddr = 0x8000;    // no memory slot there: every store is a KVM_EXIT_MMIO

// 16-bit real-mode code, CS = DS = 0:
//   0x00: mov dx, 0x510 ; 0x03: out dx, al ; 0x04: jmp 0x03
//   0x10: mov byte [0x8000], 0 ; 0x15: jmp 0x10
constexpr uint8_t kCode[] = {0xba, 0x10, 0x05, 0xee, 0xeb, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                             0xc6, 0x06, 0x00, 0x80, 0x00, 0xeb, 0xf9};
constexpr uint64_t kPioEntry = 0x00;
constexpr uint64_t kMmioEntry = 0x10;

Result<int> checked_ioctl(int fd, unsigned long request, unsigned long arg, const char* what) {
  const int r = ::ioctl(fd, request, arg);
  if (r < 0) return fail_errno(what);
  return r;
}

template <class T>
unsigned long arg(T* p) {
  return reinterpret_cast<unsigned long>(p);
}

}  // namespace

Result<double> kvm_floor_ns_per_exit(FloorExit kind, uint64_t count, uint64_t warmup) {
  UniqueFd kvm(::open("/dev/kvm", O_RDWR | O_CLOEXEC));
  if (!kvm) return fail_errno("opening /dev/kvm");
  const auto vm_fd = checked_ioctl(kvm.get(), KVM_CREATE_VM, 0, "KVM_CREATE_VM");
  if (!vm_fd) return tl::unexpected(vm_fd.error());
  UniqueFd vm(*vm_fd);
  KILN_TRY(checked_ioctl(vm.get(), KVM_SET_TSS_ADDR, kTssAddr, "KVM_SET_TSS_ADDR"));

  auto mem = MmapRegion::anonymous(kMemSize);
  if (!mem) return tl::unexpected(mem.error());
  std::memcpy(mem->data(), kCode, sizeof(kCode));
  kvm_userspace_memory_region region{};
  region.slot = 0;
  region.guest_phys_addr = 0;
  region.memory_size = kMemSize;
  region.userspace_addr = reinterpret_cast<uint64_t>(mem->data());
  KILN_TRY(checked_ioctl(vm.get(), KVM_SET_USER_MEMORY_REGION, arg(&region), "KVM_SET_USER_MEMORY_REGION"));

  const auto vcpu_fd = checked_ioctl(vm.get(), KVM_CREATE_VCPU, 0, "KVM_CREATE_VCPU");
  if (!vcpu_fd) return tl::unexpected(vcpu_fd.error());
  UniqueFd vcpu(*vcpu_fd);
  const auto run_size = checked_ioctl(kvm.get(), KVM_GET_VCPU_MMAP_SIZE, 0, "KVM_GET_VCPU_MMAP_SIZE");
  if (!run_size) return tl::unexpected(run_size.error());
  auto run_map = MmapRegion::map(nullptr, static_cast<size_t>(*run_size), PROT_READ | PROT_WRITE, MAP_SHARED,
                                 vcpu.get(), 0);
  if (!run_map) return tl::unexpected(run_map.error());
  auto* run = reinterpret_cast<kvm_run*>(run_map->data());

  kvm_sregs sregs{};
  KILN_TRY(checked_ioctl(vcpu.get(), KVM_GET_SREGS, arg(&sregs), "KVM_GET_SREGS"));
  sregs.cs.base = 0;
  sregs.cs.selector = 0;
  sregs.ds.base = 0;
  sregs.ds.selector = 0;
  KILN_TRY(checked_ioctl(vcpu.get(), KVM_SET_SREGS, arg(&sregs), "KVM_SET_SREGS"));
  kvm_regs regs{};
  regs.rip = kind == FloorExit::pio_write ? kPioEntry : kMmioEntry;
  regs.rflags = 0x2;
  KILN_TRY(checked_ioctl(vcpu.get(), KVM_SET_REGS, arg(&regs), "KVM_SET_REGS"));

  const uint32_t expected = kind == FloorExit::pio_write ? KVM_EXIT_IO : KVM_EXIT_MMIO;
  std::chrono::steady_clock::time_point start;
  for (uint64_t i = 0; i < warmup + count; ++i) {
    if (i == warmup) start = std::chrono::steady_clock::now();
    if (::ioctl(vcpu.get(), KVM_RUN, 0) < 0) {
      if (errno == EINTR) continue;
      return fail_errno("KVM_RUN");
    }
    if (run->exit_reason != expected) return fail("KVM_RUN: exit reason {}, expected {}", run->exit_reason, expected);
    if (expected == KVM_EXIT_IO && run->io.port != kPort) return fail("KVM_EXIT_IO on port {:#x}", run->io.port);
    if (expected == KVM_EXIT_MMIO && run->mmio.phys_addr != kMmioAddr) {
      return fail("KVM_EXIT_MMIO at {:#x}", run->mmio.phys_addr);
    }
  }
  const auto ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
  return ns / static_cast<double>(count);
}

}  // namespace kiln::bench
