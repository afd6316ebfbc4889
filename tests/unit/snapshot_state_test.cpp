// VcpuState / VmState encoding, the MSR selection and the CPU compatibility check (no KVM needed).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <set>

#include "snapshot/cpu_compat.h"
#include "snapshot/msr_list.h"
#include "snapshot_test_util.h"

namespace kiln::snapshot {
namespace {

using test::cpuid_entry;
using test::same_bytes;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::string vcpu_error(const VcpuState& s) {
  auto d = decode_vcpu_state(encode_vcpu_state(s), 3);
  return d ? std::string("decoded") : d.error().message;
}

std::string vm_error(const VmState& s) {
  auto d = decode_vm_state(encode_vm_state(s));
  return d ? std::string("decoded") : d.error().message;
}

TEST(SnapshotVcpuState, RoundTrip) {
  const VcpuState s = test::sample_vcpu_state();
  const auto bytes = encode_vcpu_state(s);
  auto d = decode_vcpu_state(bytes, 0);
  ASSERT_TRUE(d) << d.error().message;
  ASSERT_EQ(d->cpuid.size(), s.cpuid.size());
  for (size_t i = 0; i < s.cpuid.size(); ++i) EXPECT_TRUE(same_bytes(d->cpuid[i], s.cpuid[i]));
  EXPECT_EQ(d->tsc_khz, s.tsc_khz);
  EXPECT_TRUE(same_bytes(d->mp_state, s.mp_state));
  EXPECT_TRUE(same_bytes(d->regs, s.regs));
  EXPECT_TRUE(same_bytes(d->sregs, s.sregs));
  EXPECT_TRUE(same_bytes(d->fpu, s.fpu));
  EXPECT_EQ(d->xsave, s.xsave);
  EXPECT_TRUE(same_bytes(d->xcrs, s.xcrs));
  EXPECT_TRUE(same_bytes(d->debugregs, s.debugregs));
  EXPECT_TRUE(same_bytes(d->lapic, s.lapic));
  ASSERT_EQ(d->msrs.size(), s.msrs.size());
  for (size_t i = 0; i < s.msrs.size(); ++i) {
    EXPECT_EQ(d->msrs[i].index, s.msrs[i].index);
    EXPECT_EQ(d->msrs[i].data, s.msrs[i].data);
  }
  EXPECT_TRUE(same_bytes(d->events, s.events));
  // The encoding is canonical.
  EXPECT_EQ(encode_vcpu_state(*d), bytes);
}

TEST(SnapshotVcpuState, EveryTruncationAndTrailingByteIsRefused) {
  const auto bytes = encode_vcpu_state(test::sample_vcpu_state());
  for (size_t len = 0; len < bytes.size(); ++len) {
    auto d = decode_vcpu_state(std::span(bytes).first(len), 1);
    ASSERT_FALSE(d) << len;
    EXPECT_TRUE(contains(d.error().message, "vCPU 1 state")) << d.error().message;
  }
  auto longer = bytes;
  longer.push_back(0);
  auto d = decode_vcpu_state(longer, 1);
  ASSERT_FALSE(d);
  EXPECT_TRUE(contains(d.error().message, "trailing")) << d.error().message;
}

TEST(SnapshotVcpuState, GarbageIsRefused) {
  std::mt19937 rng(42);
  const auto good = encode_vcpu_state(test::sample_vcpu_state());
  for (int i = 0; i < 3000; ++i) {
    std::vector<uint8_t> bytes;
    if (i % 2 == 0) {
      bytes.resize(rng() % 8000);
      for (auto& b : bytes) b = static_cast<uint8_t>(rng());
    } else {
      bytes = good;
      for (int c = 0; c < 4; ++c) bytes[rng() % bytes.size()] = static_cast<uint8_t>(rng());
    }
    auto d = decode_vcpu_state(bytes, 0);
    if (d) {
      EXPECT_EQ(encode_vcpu_state(*d), bytes);  // whatever decodes re-encodes identically
    }
  }
}

TEST(SnapshotVcpuState, InvalidFieldsAreNamed) {
  auto s = test::sample_vcpu_state();
  s.mp_state.mp_state = 77;
  EXPECT_TRUE(contains(vcpu_error(s), "MP state 77 is not an x86 MP state")) << vcpu_error(s);

  s = test::sample_vcpu_state();
  s.msrs.push_back({0x10, 0, 1});
  EXPECT_TRUE(contains(vcpu_error(s), "MSR 0x10 appears twice")) << vcpu_error(s);

  s = test::sample_vcpu_state();
  s.cpuid.push_back(s.cpuid[1]);
  EXPECT_TRUE(contains(vcpu_error(s), "CPUID leaf 0x1.0x0 appears twice")) << vcpu_error(s);

  s = test::sample_vcpu_state();
  s.cpuid.clear();
  EXPECT_TRUE(contains(vcpu_error(s), "no CPUID entries")) << vcpu_error(s);

  s = test::sample_vcpu_state();
  s.cpuid.resize(kMaxCpuidEntries + 1, test::intel_leaf0());
  EXPECT_TRUE(contains(vcpu_error(s), "257 CPUID entries")) << vcpu_error(s);

  s = test::sample_vcpu_state();
  s.cpuid[0].flags = 0x80;
  EXPECT_TRUE(contains(vcpu_error(s), "unknown flags")) << vcpu_error(s);

  s = test::sample_vcpu_state();
  s.xsave.resize(1024);
  EXPECT_TRUE(contains(vcpu_error(s), "XSAVE area of 1024 bytes")) << vcpu_error(s);

  s = test::sample_vcpu_state();
  s.xsave.resize(kMaxXsaveBytes + 4);
  EXPECT_TRUE(contains(vcpu_error(s), "exceeds its limit")) << vcpu_error(s);

  s = test::sample_vcpu_state();
  s.xcrs.nr_xcrs = 17;
  EXPECT_TRUE(contains(vcpu_error(s), "17 XCRs")) << vcpu_error(s);

  s = test::sample_vcpu_state();
  s.debugregs.dr7 = 1ull << 40;
  EXPECT_TRUE(contains(vcpu_error(s), "DR6/DR7")) << vcpu_error(s);

  s = test::sample_vcpu_state();
  s.events.flags = 0x100;
  EXPECT_TRUE(contains(vcpu_error(s), "vCPU event flags 0x100 unknown")) << vcpu_error(s);

  s = test::sample_vcpu_state();
  s.events.exception.pending = 1;
  s.events.exception.nr = 40;
  EXPECT_TRUE(contains(vcpu_error(s), "vector 40")) << vcpu_error(s);

  s = test::sample_vcpu_state();
  s.events.nmi.masked = 2;
  EXPECT_TRUE(contains(vcpu_error(s), "other than 0 or 1")) << vcpu_error(s);

  s = test::sample_vcpu_state();
  s.tsc_khz = kMaxTscKhz + 1;
  EXPECT_TRUE(contains(vcpu_error(s), "TSC frequency")) << vcpu_error(s);

  s = test::sample_vcpu_state();
  s.msrs.resize(kMaxMsrs + 1);
  for (uint32_t i = 0; i < s.msrs.size(); ++i) s.msrs[i].index = i;
  EXPECT_TRUE(contains(vcpu_error(s), "1025 MSRs")) << vcpu_error(s);
}

TEST(SnapshotVcpuState, MsrCountBeyondTheDataIsNotAnAllocation) {
  auto s = test::sample_vcpu_state();
  s.msrs.clear();
  auto bytes = encode_vcpu_state(s);
  // The MSR count sits just before the events (u32 size + 64 bytes).
  const size_t count_at = bytes.size() - 4 - sizeof(kvm_vcpu_events) - 4;
  const uint32_t count = 1000;
  std::memcpy(bytes.data() + count_at, &count, 4);
  auto d = decode_vcpu_state(bytes, 0);
  ASSERT_FALSE(d);
  EXPECT_TRUE(contains(d.error().message, "1000 MSRs do not fit")) << d.error().message;
}

TEST(SnapshotVmState, RoundTrip) {
  const VmState s = test::sample_vm_state();
  const auto bytes = encode_vm_state(s);
  auto d = decode_vm_state(bytes);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_TRUE(same_bytes(d->pic_master, s.pic_master));
  EXPECT_TRUE(same_bytes(d->pic_slave, s.pic_slave));
  EXPECT_TRUE(same_bytes(d->ioapic, s.ioapic));
  EXPECT_TRUE(same_bytes(d->pit, s.pit));
  EXPECT_TRUE(same_bytes(d->clock, s.clock));
  EXPECT_EQ(encode_vm_state(*d), bytes);
  for (size_t len = 0; len < bytes.size(); ++len) ASSERT_FALSE(decode_vm_state(std::span(bytes).first(len)));
}

TEST(SnapshotVmState, InvalidFieldsAreNamed) {
  auto s = test::sample_vm_state();
  s.pic_slave.chip_id = 0;
  EXPECT_TRUE(contains(vm_error(s), "irqchip 0 where chip 1 belongs")) << vm_error(s);

  s = test::sample_vm_state();
  s.ioapic.chip.ioapic.base_address = 0xfee00000;
  EXPECT_TRUE(contains(vm_error(s), "IOAPIC at 0xfee00000")) << vm_error(s);

  s = test::sample_vm_state();
  s.pit.channels[1].mode = 9;
  EXPECT_TRUE(contains(vm_error(s), "PIT channel 1 mode is 9, at most 7")) << vm_error(s);

  s = test::sample_vm_state();
  s.pit.channels[2].count = 0x10001;
  EXPECT_TRUE(contains(vm_error(s), "PIT channel 2")) << vm_error(s);

  s = test::sample_vm_state();
  s.pit.flags = 0x10;
  EXPECT_TRUE(contains(vm_error(s), "PIT flags")) << vm_error(s);

  s = test::sample_vm_state();
  s.clock.flags = 1;
  EXPECT_TRUE(contains(vm_error(s), "clock flags 0x1")) << vm_error(s);
}

TEST(SnapshotMsrList, EssentialsAlwaysOthersWhenListedInRestoreOrder) {
  const std::vector<uint32_t> kvm_list{0x10, 0x3b, 0x38f /* PMU: never */, 0x4b564d02, 0x4b564d06, 0x480 /* VMX */};
  const auto out = msrs_to_save(kvm_list);
  auto has = [&](uint32_t i) { return std::find(out.begin(), out.end(), i) != out.end(); };
  auto pos = [&](uint32_t i) { return std::find(out.begin(), out.end(), i) - out.begin(); };
  for (uint32_t essential : {msr::kTsc, msr::kSysenterCs, msr::kSysenterEsp, msr::kSysenterEip, msr::kStar, msr::kLstar,
                             msr::kCstar, msr::kSyscallMask, msr::kKernelGsBase, msr::kPat, msr::kMiscEnable,
                             msr::kTscDeadline, msr::kKvmWallClockNew, msr::kKvmSystemTimeNew, msr::kKvmAsyncPfEn,
                             msr::kKvmStealTime, msr::kKvmPvEoiEn}) {
    EXPECT_TRUE(has(essential)) << std::hex << essential;
    EXPECT_TRUE(msr_is_essential(essential)) << std::hex << essential;
  }
  EXPECT_TRUE(has(msr::kTscAdjust));
  EXPECT_TRUE(has(msr::kMtrrDefType));
  EXPECT_TRUE(has(0x200));
  EXPECT_FALSE(has(0x38f));
  EXPECT_FALSE(has(0x480));
  EXPECT_FALSE(has(msr::kTscAux));  // not listed by this KVM
  EXPECT_LT(pos(msr::kTsc), pos(msr::kTscDeadline));
  EXPECT_EQ(pos(msr::kKvmAsyncPfInt) + 1, pos(msr::kKvmAsyncPfEn));
  EXPECT_EQ(std::set<uint32_t>(out.begin(), out.end()).size(), out.size());
  EXPECT_EQ(msr_name(msr::kLstar), "MSR 0xc0000082 (LSTAR)");
  EXPECT_EQ(msr_name(0x1234), "MSR 0x1234");
}

std::vector<kvm_cpuid_entry2> host_cpuid() {
  return {test::intel_leaf0(), cpuid_entry(1, 0, 0x50657, 0, 0x7ffafbbf, 0xbfebfbff),
          cpuid_entry(7, 0, 0, 0xd19f47ab, 0x0, 0xbc000400, true), cpuid_entry(0xd, 0, 0x7, 0x340, 0x340, 0, true),
          cpuid_entry(0xd, 2, 0x100, 0x240, 0, 0, true), cpuid_entry(0x40000001, 0, 0x01007afb, 0, 0, 0)};
}

TEST(SnapshotCpuCompat, SameCpuIsCompatible) {
  auto guest = host_cpuid();
  // Bits kiln sets itself are not compared: hypervisor, TSC deadline, HTT.
  guest[1].ecx |= (1u << 31) | (1u << 24);
  guest[1].edx |= 1u << 28;
  auto r = check_cpu_compatible(guest, host_cpuid());
  EXPECT_TRUE(r) << r.error().message;
}

TEST(SnapshotCpuCompat, OtherVendorIsRefused) {
  auto host = host_cpuid();
  host[0] = cpuid_entry(0, 0, 0x10, 0x68747541, 0x444d4163, 0x69746e65);  // AuthenticAMD
  auto r = check_cpu_compatible(host_cpuid(), host);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "the snapshot was taken on a GenuineIntel CPU and this host's is AuthenticAMD: a snapshot restores only "
            "on the CPU vendor it was taken on");
}

TEST(SnapshotCpuCompat, MissingFeaturesAreNamed) {
  auto host = host_cpuid();
  host[2].ebx &= ~(1u << 5);   // avx2
  host[5].eax &= ~(1u << 3);   // kvmclock2
  auto r = check_cpu_compatible(host_cpuid(), host);
  ASSERT_FALSE(r);
  EXPECT_TRUE(contains(r.error().message, "avx2 (CPUID 0x7.0 EBX[5])")) << r.error().message;
  EXPECT_TRUE(contains(r.error().message, "kvmclock2 (CPUID 0x40000001.0 EAX[3])")) << r.error().message;

  host = host_cpuid();
  host.erase(host.begin() + 2);  // no leaf 7 at all
  EXPECT_FALSE(check_cpu_compatible(host_cpuid(), host));
}

TEST(SnapshotCpuCompat, XsaveLayoutMustMatch) {
  auto host = host_cpuid();
  host[4].ebx = 0x280;  // AVX state at another offset
  auto r = check_cpu_compatible(host_cpuid(), host);
  ASSERT_FALSE(r);
  EXPECT_TRUE(contains(r.error().message, "XSAVE component 2: 256 bytes at offset 576 in the snapshot, 256 bytes at offset 640"))
      << r.error().message;
}

}  // namespace
}  // namespace kiln::snapshot
