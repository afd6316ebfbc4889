// Snapshot and restore of KVM state between two VMs in one process (src/snapshot): distinctive
// vCPU and VM state survives the whole path (save, snapshot file, memory file, restore), and a
// running guest continues in the restored VM where it stopped.
#include <algorithm>
#include <array>
#include <cstring>

#include "snapshot/msr_list.h"
#include "snapshot_kvm_vm.h"

namespace kiln::snapshot::test {
namespace {

constexpr uint64_t kRamSize = 2 * MiB;
constexpr uint32_t kIoPort = 0x10;
constexpr uint64_t kCounterAddr = 0x500;
constexpr uint64_t kCodeAddr = 0x1000;

bool has_cpuid_bit(const std::vector<kvm_cpuid_entry2>& cpuid, uint32_t leaf, int bit) {
  for (const auto& e : cpuid) {
    if (e.function == leaf && e.index == 0) return (e.ecx >> bit) & 1;
  }
  return false;
}

void set_lapic_reg(kvm_lapic_state& l, size_t offset, uint32_t v) { std::memcpy(l.regs + offset, &v, 4); }
uint32_t lapic_reg(const kvm_lapic_state& l, size_t offset) {
  uint32_t v;
  std::memcpy(&v, l.regs + offset, 4);
  return v;
}

uint64_t msr_value(const VcpuState& s, uint32_t index) {
  for (const auto& m : s.msrs) {
    if (m.index == index) return m.data;
  }
  ADD_FAILURE() << msr_name(index) << " is not in the snapshot";
  return 0;
}

// Distinctive state on every part of the vCPU and VM that a snapshot carries.
void set_distinctive_state(TestVm& t) {
  auto regs = t.vcpu->get_regs();
  ASSERT_OK(regs);
  regs->rax = 0x1111222233334444;
  regs->r15 = 0x5555666677778888;
  regs->rip = 0x2345;
  regs->rflags = 0x2 | (1u << 11);  // OF
  ASSERT_OK(t.vcpu->set_regs(*regs));
  auto sregs = t.vcpu->get_sregs();
  ASSERT_OK(sregs);
  sregs->cr2 = 0xdeadb000;
  sregs->idt.limit = 0x3ff;
  sregs->ds.base = 0x12340;
  sregs->ds.selector = 0x1234;
  ASSERT_OK(t.vcpu->set_sregs(*sregs));
  auto fpu = t.vcpu->get_fpu();
  ASSERT_OK(fpu);
  fpu->fcw = 0x27f;
  fpu->mxcsr = 0x1f00;
  for (int i = 0; i < 16; ++i) fpu->xmm[3][i] = static_cast<uint8_t>(0xa0 + i);
  ASSERT_OK(t.vcpu->set_fpu(*fpu));
  if (has_cpuid_bit(t.cpuid, 1, 26)) {  // XSAVE: XCR0 = x87 | SSE
    auto xcrs = t.vcpu->get_xcrs();
    ASSERT_OK(xcrs);
    ASSERT_GE(xcrs->nr_xcrs, 1u);
    xcrs->xcrs[0].value = 3;
    ASSERT_OK(t.vcpu->set_xcrs(*xcrs));
  }
  kvm_debugregs dbg{};
  dbg.db[0] = 0x1000;
  dbg.db[1] = 0x2000;
  dbg.db[3] = 0x4000;
  dbg.dr6 = 0xffff0ff0;
  dbg.dr7 = 0x400 | 0x3;
  ASSERT_OK(t.vcpu->set_debugregs(dbg));
  auto lapic = t.vcpu->get_lapic();
  ASSERT_OK(lapic);
  set_lapic_reg(*lapic, 0x80, 0x20);               // TPR
  set_lapic_reg(*lapic, 0xf0, 0x1ff);              // SVR: enabled, spurious vector 0xff
  set_lapic_reg(*lapic, 0x320, 0xef | (2u << 17));  // LVT timer: TSC-deadline mode, vector 0xef
  set_lapic_reg(*lapic, 0x350, 0x700);             // LINT0 ExtINT
  ASSERT_OK(t.vcpu->set_lapic(*lapic));
  ASSERT_OK(t.vcpu->set_msrs({
      {msr::kTsc, 0, 1'000'000'000'000ull},
      {msr::kTscDeadline, 0, 9'000'000'000'000ull},
      {msr::kLstar, 0, 0xffffffff81234560},
      {msr::kStar, 0, 0x0023001000000000},
      {msr::kSysenterEip, 0, 0xffffffff81000abc},
      {msr::kKernelGsBase, 0, 0xffff888000001000},
      {msr::kPat, 0, 0x0007010600070106},
      {msr::kKvmSystemTimeNew, 0, 0x5000 | 1},
      {msr::kKvmWallClockNew, 0, 0x5800},
      {msr::kKvmStealTime, 0, 0x6000 | 1},
      {msr::kKvmPvEoiEn, 0, 0x7000 | 1},
      {msr::kKvmAsyncPfInt, 0, 0xec},
      {msr::kKvmAsyncPfEn, 0, 0x8000 | 1 | (1u << 3)},  // enabled, delivered as interrupt 0xec
      {msr::kMtrrDefType, 0, 0xc06},
  }));
  kvm_mp_state mp{KVM_MP_STATE_HALTED};
  ASSERT_OK(t.vcpu->set_mp_state(mp));
  auto events = t.vcpu->get_vcpu_events();
  ASSERT_OK(events);
  events->nmi.pending = 1;
  events->nmi.masked = 1;
  events->flags |= KVM_VCPUEVENT_VALID_NMI_PENDING;
  ASSERT_OK(t.vcpu->set_vcpu_events(*events));

  auto pic = t.vm->get_irqchip(VmFd::kPicMaster);
  ASSERT_OK(pic);
  pic->chip.pic.imr = 0xfa;
  pic->chip.pic.irq_base = 0x30;
  ASSERT_OK(t.vm->set_irqchip(*pic));
  auto ioapic = t.vm->get_irqchip(VmFd::kIoapic);
  ASSERT_OK(ioapic);
  ioapic->chip.ioapic.redirtbl[5].bits = 0x10035;  // masked, vector 0x35
  ASSERT_OK(t.vm->set_irqchip(*ioapic));
  auto pit = t.vm->get_pit2();
  ASSERT_OK(pit);
  pit->channels[2].count = 0x1234;
  ASSERT_OK(t.vm->set_pit2(*pit));
  kvm_clock_data clock{};
  clock.clock = 5'000'000'000'000ull;  // 5000 s of guest time
  ASSERT_OK(t.vm->set_clock(clock));
}

TEST(SnapshotKvm, StateRoundTripsIntoASecondVm) {
  KILN_REQUIRE_KVM();
  auto a = fresh_vm(kRamSize);
  ASSERT_OK(a);
  ASSERT_NO_FATAL_FAILURE(set_distinctive_state(*a));
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(take_snapshot(*a, dir));

  Restored r;
  ASSERT_NO_FATAL_FAILURE(restore_snapshot(dir, r));
  TestVm& b = r.vm;
  const VcpuState& saved = r.vcpu;
  const VmState& saved_vm = r.state;
  auto again = save_vcpu(*b.vcpu, msrs_to_save(*b.kvm->msr_index_list()), b.cpuid);
  ASSERT_OK(again);
  auto again_vm = save_vm(*b.vm);
  ASSERT_OK(again_vm);

  // What A had is what the snapshot holds.
  EXPECT_EQ(saved.regs.rax, 0x1111222233334444u);
  EXPECT_EQ(saved.sregs.cr2, 0xdeadb000u);
  EXPECT_EQ(saved.mp_state.mp_state, static_cast<uint32_t>(KVM_MP_STATE_HALTED));
  EXPECT_EQ(saved.events.nmi.pending, 1);
  EXPECT_EQ(msr_value(saved, msr::kLstar), 0xffffffff81234560u);
  EXPECT_EQ(msr_value(saved, msr::kTscDeadline), 9'000'000'000'000ull);
  EXPECT_EQ(msr_value(saved, msr::kKvmAsyncPfEn), 0x8000u | 1 | (1u << 3));
  EXPECT_EQ(saved_vm.pic_master.chip.pic.imr, 0xfa);

  // And B has it now.
  const VcpuState& s = *again;
  EXPECT_EQ(std::memcmp(&s.regs, &saved.regs, sizeof(kvm_regs)), 0);
  EXPECT_EQ(std::memcmp(&s.sregs, &saved.sregs, sizeof(kvm_sregs)), 0);
  EXPECT_EQ(std::memcmp(&s.fpu, &saved.fpu, sizeof(kvm_fpu)), 0);
  EXPECT_EQ(s.fpu.fcw, 0x27f);
  EXPECT_EQ(s.fpu.xmm[3][15], 0xaf);
  EXPECT_EQ(s.xsave, saved.xsave);
  EXPECT_EQ(std::memcmp(&s.xcrs, &saved.xcrs, sizeof(kvm_xcrs)), 0);
  EXPECT_EQ(std::memcmp(&s.debugregs, &saved.debugregs, sizeof(kvm_debugregs)), 0);
  EXPECT_EQ(s.debugregs.db[3], 0x4000u);
  EXPECT_EQ(s.mp_state.mp_state, saved.mp_state.mp_state);
  EXPECT_EQ(std::memcmp(&s.events, &saved.events, sizeof(kvm_vcpu_events)), 0);
  for (size_t reg : {0x80u, 0xf0u, 0x320u, 0x350u, 0x360u, 0x370u}) {
    EXPECT_EQ(lapic_reg(s.lapic, reg), lapic_reg(saved.lapic, reg)) << "LAPIC register " << std::hex << reg;
  }
  ASSERT_EQ(s.msrs.size(), saved.msrs.size());
  const uint64_t tsc_hz = uint64_t{saved.tsc_khz} * 1000;
  for (size_t i = 0; i < s.msrs.size(); ++i) {
    EXPECT_EQ(s.msrs[i].index, saved.msrs[i].index);
    if (s.msrs[i].index == msr::kTsc) {
      // Guest time went on from the saved TSC: forward, by less than a minute.
      EXPECT_GE(s.msrs[i].data, saved.msrs[i].data);
      EXPECT_LT(s.msrs[i].data - saved.msrs[i].data, 60 * tsc_hz);
    } else {
      EXPECT_EQ(s.msrs[i].data, saved.msrs[i].data) << msr_name(s.msrs[i].index);
    }
  }
  EXPECT_EQ(std::memcmp(&again_vm->pic_master, &saved_vm.pic_master, sizeof(kvm_irqchip)), 0);
  EXPECT_EQ(std::memcmp(&again_vm->pic_slave, &saved_vm.pic_slave, sizeof(kvm_irqchip)), 0);
  EXPECT_EQ(std::memcmp(&again_vm->ioapic, &saved_vm.ioapic, sizeof(kvm_irqchip)), 0);
  EXPECT_EQ(again_vm->ioapic.chip.ioapic.redirtbl[5].bits, 0x10035u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(again_vm->pit.channels[i].count, saved_vm.pit.channels[i].count) << i;
    EXPECT_EQ(again_vm->pit.channels[i].mode, saved_vm.pit.channels[i].mode) << i;
  }
  EXPECT_EQ(again_vm->pit.channels[2].count, 0x1234u);
  EXPECT_GE(again_vm->clock.clock, saved_vm.clock.clock);
  EXPECT_LT(again_vm->clock.clock - saved_vm.clock.clock, 60'000'000'000ull);
  EXPECT_GE(saved_vm.clock.clock, 5'000'000'000'000ull);
}

// Real mode at kCodeAddr: [kCounterAddr] += 1, OUT kIoPort with its low byte, repeat.
void load_counter_guest(TestVm& t) {
  const uint8_t code[] = {0xa1, 0x00, 0x05,  // mov ax, [0x500]
                          0x40,              // inc ax
                          0xa3, 0x00, 0x05,  // mov [0x500], ax
                          0xe6, kIoPort,     // out 0x10, al
                          0xeb, 0xf5};       // jmp back to the start
  ASSERT_OK(t.mem.write(GuestAddress(kCodeAddr), code));
  auto sregs = t.vcpu->get_sregs();
  ASSERT_OK(sregs);
  sregs->cs.base = 0;
  sregs->cs.selector = 0;
  sregs->ds.base = 0;
  sregs->ds.selector = 0;
  ASSERT_OK(t.vcpu->set_sregs(*sregs));
  kvm_regs regs{};
  regs.rip = kCodeAddr;
  regs.rflags = 2;
  ASSERT_OK(t.vcpu->set_regs(regs));
}

// Runs to the next OUT to kIoPort and returns its byte.
uint8_t run_to_out(TestVm& t) {
  for (int i = 0; i < 100; ++i) {
    auto ok = t.vcpu->run();
    EXPECT_TRUE(ok) << ok.error().message;
    if (!ok) return 0;
    kvm_run* run = t.vcpu->run_state();
    if (run->exit_reason == KVM_EXIT_INTR) continue;
    EXPECT_EQ(run->exit_reason, static_cast<uint32_t>(KVM_EXIT_IO));
    if (run->exit_reason != KVM_EXIT_IO) return 0;
    EXPECT_EQ(run->io.port, kIoPort);
    return reinterpret_cast<uint8_t*>(run)[run->io.data_offset];
  }
  ADD_FAILURE() << "no OUT";
  return 0;
}

// kvm/api.txt 5 (KVM_EXIT_IO): the OUT completes only on the next KVM_RUN; immediate_exit lets
// KVM finish it without running the guest, so the saved state is consistent.
void complete_pending_io(TestVm& t) {
  t.vcpu->run_state()->immediate_exit = 1;
  ASSERT_OK(t.vcpu->run());
  EXPECT_EQ(t.vcpu->run_state()->exit_reason, static_cast<uint32_t>(KVM_EXIT_INTR));
  t.vcpu->run_state()->immediate_exit = 0;
}

TEST(SnapshotKvm, GuestContinuesInTheRestoredVm) {
  KILN_REQUIRE_KVM();
  auto a = fresh_vm(kRamSize);
  ASSERT_OK(a);
  ASSERT_NO_FATAL_FAILURE(load_counter_guest(*a));
  for (uint8_t want = 1; want <= 5; ++want) ASSERT_EQ(run_to_out(*a), want);
  ASSERT_NO_FATAL_FAILURE(complete_pending_io(*a));
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(take_snapshot(*a, dir));

  Restored r;
  ASSERT_NO_FATAL_FAILURE(restore_snapshot(dir, r));
  TestVm& b = r.vm;
  EXPECT_EQ(*b.mem.read_obj<uint16_t>(GuestAddress(kCounterAddr)), 5);
  for (uint8_t want = 6; want <= 9; ++want) ASSERT_EQ(run_to_out(b), want);
  // Each VM has its own RAM: A goes on from 5, and the memory file is unchanged.
  EXPECT_EQ(run_to_out(*a), 6);
  EXPECT_EQ(*a->mem.read_obj<uint16_t>(GuestAddress(kCounterAddr)), 6);
  auto file = GuestMemory::map_file(std::array{MemoryRange{GuestAddress(0), kRamSize}}, dir.file("vm.mem"));
  ASSERT_OK(file);
  EXPECT_EQ(*file->read_obj<uint16_t>(GuestAddress(kCounterAddr)), 5);
}

TEST(SnapshotKvm, KvmclockCtrlWithoutKvmclockIsNotAnError) {
  KILN_REQUIRE_KVM();
  auto a = fresh_vm(kRamSize);
  ASSERT_OK(a);
  auto r = a->vcpu->kvmclock_ctrl();
  ASSERT_OK(r);
  EXPECT_FALSE(*r);
  ASSERT_OK(a->vcpu->set_msrs({{msr::kKvmSystemTimeNew, 0, 0x5000 | 1}}));
  r = a->vcpu->kvmclock_ctrl();
  ASSERT_OK(r);
  EXPECT_TRUE(*r);
}

TEST(SnapshotKvm, MsrIndexListHasWhatSnapshotsNeed) {
  KILN_REQUIRE_KVM();
  auto kvm = Kvm::open();
  ASSERT_OK(kvm);
  auto list = kvm->msr_index_list();
  ASSERT_OK(list);
  for (uint32_t m : {msr::kTsc, msr::kLstar, msr::kKvmSystemTimeNew, msr::kTscDeadline}) {
    EXPECT_NE(std::find(list->begin(), list->end(), m), list->end()) << msr_name(m);
  }
  EXPECT_TRUE(kvm->msr_feature_index_list());
}

}  // namespace
}  // namespace kiln::snapshot::test
