// Two-VM test harness for the snapshot KVM tests: a VM set up as kiln does (irqchip, PIT, one
// vCPU with kiln's CPUID), and the whole save and restore paths through the snapshot and memory
// files.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "kvm/kvm.h"
#include "memory/guest_memory.h"
#include "snapshot/vcpu_state.h"
#include "snapshot/vm_state.h"

namespace kiln::snapshot::test {

#define ASSERT_OK(expr)                                        \
  do {                                                         \
    const auto& ok_ = (expr);                                  \
    ASSERT_TRUE(ok_) << #expr << ": " << ok_.error().message;  \
  } while (0)

// As tests/kvm/kvm_test_env.h: the only reason to skip, said loudly.
#define KILN_REQUIRE_KVM()                                                                          \
  do {                                                                                              \
    if (::access("/dev/kvm", R_OK | W_OK) != 0) {                                                   \
      std::fprintf(stderr, "\n*** SKIPPED: /dev/kvm is not available on this host; this test "      \
                           "needs real KVM (scripts/dev test runs it inside the kvm-box) ***\n\n"); \
      GTEST_SKIP() << "/dev/kvm is not available";                                                  \
    }                                                                                               \
  } while (0)

struct TestVm {
  std::unique_ptr<Kvm> kvm;
  std::unique_ptr<VmFd> vm;
  GuestMemory mem;
  std::unique_ptr<VcpuFd> vcpu;
  std::vector<kvm_cpuid_entry2> cpuid;  // kiln's CPUID for vCPU 0 on this host
};

// A VM over `mem` (its one region in slot 0); the vCPU's CPUID is not set yet.
[[nodiscard]] Result<TestVm> make_vm(GuestMemory mem);
// A VM with `ram_size` bytes of anonymous RAM at 0, its vCPU's CPUID set.
[[nodiscard]] Result<TestVm> fresh_vm(uint64_t ram_size);

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// VM + vCPU state into dir/vm.snap, RAM into dir/vm.mem (gtest assertions on failure).
void take_snapshot(TestVm& t, const TempDir& dir);

struct Restored {
  TestVm vm;
  VcpuState vcpu;  // as decoded from the snapshot file
  VmState state;
};
// A new VM from dir/vm.snap and dir/vm.mem, after the CPU compatibility check.
void restore_snapshot(const TempDir& dir, Restored& out);

}  // namespace kiln::snapshot::test
