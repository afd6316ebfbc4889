// cmpxchg16b / cmpxchg8b: host-CPU comparison, atomicity on the host mapping,
// alignment #GP, #PF through the guest page tables, MMIO.
#include <cpuid.h>

#include <random>
#include <thread>

#include "x86_emulator_test_util.h"

namespace kiln::x86 {
namespace {

using test::kP;
using test::kRw;

struct alignas(16) Octword {
  uint64_t lo;
  uint64_t hi;
};

struct HostCmpxchg {
  Octword mem;
  uint64_t rax;
  uint64_t rdx;
  bool zf;
};

HostCmpxchg host_cmpxchg16b(Octword mem, uint64_t rax, uint64_t rdx, uint64_t rbx, uint64_t rcx) {
  bool zf = false;
  asm volatile("lock cmpxchg16b %[m]"
               : "=@ccz"(zf), [m] "+m"(mem), "+a"(rax), "+d"(rdx)
               : "b"(rbx), "c"(rcx)
               : "memory");
  return {mem, rax, rdx, zf};
}

HostCmpxchg host_cmpxchg8b(uint64_t mem, uint64_t rax, uint64_t rdx, uint64_t rbx, uint64_t rcx) {
  bool zf = false;
  asm volatile("lock cmpxchg8b %[m]" : "=@ccz"(zf), [m] "+m"(mem), "+a"(rax), "+d"(rdx) : "b"(rbx), "c"(rcx) : "memory");
  return {{mem, 0}, rax, rdx, zf};
}

bool host_has_cmpxchg16b() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_CMPXCHG16B) != 0;
}

const std::vector<uint8_t> kLockCmpxchg16bRsi{0xf0, 0x48, 0x0f, 0xc7, 0x0e};  // lock cmpxchg16b [rsi]
const std::vector<uint8_t> kLockCmpxchg8bRsi{0xf0, 0x0f, 0xc7, 0x0e};         // lock cmpxchg8b [rsi]

class Cmpxchg : public ::testing::Test {
 protected:
  static constexpr uint64_t kData = 0xffff'8880'0000'1000ull;  // 4 KiB page -> 0x300000
  static constexpr uint64_t kBig = 0xffff'ffff'8120'0000ull;   // 2 MiB page -> 0x600000
  static constexpr uint64_t kReadOnly = 0xffff'8880'0000'2000ull;
  static constexpr uint64_t kMmio = 0xffff'8880'0000'5000ull;
  void SetUp() override {
    pt_.map(kData, 0x30'0000, 4 * KiB, kP | kRw);
    pt_.map(kBig, 0x60'0000, 2 * MiB, kP | kRw);
    pt_.map(kReadOnly, 0x30'2000, 4 * KiB, kP);
    pt_.map(kMmio, 0xfee0'0000, 4 * KiB, kP | kRw);
    state_ = test::long_mode_state(pt_.root());
    state_.regs.rip = 0xffff'ffff'8100'0000ull;
  }
  Octword guest_octword(uint64_t gpa) { return *mem_.read_obj<Octword>(GuestAddress(gpa)); }

  GuestMemory mem_ = test::make_memory();
  test::PageTableBuilder pt_{mem_, 0x10000};
  CpuState state_;
};

TEST_F(Cmpxchg, Cmpxchg16bMatchesHostOnBothPageSizes) {
  if (!host_has_cmpxchg16b()) GTEST_SKIP() << "host CPU has no cmpxchg16b";
  std::mt19937_64 rng(16);
  const std::array<std::pair<uint64_t, uint64_t>, 2> targets{{{kData + 0x40, 0x30'0040}, {kBig + 0x1'2340, 0x61'2340}}};
  int successes = 0;
  for (int i = 0; i < 2000; ++i) {
    const auto [linear, gpa] = targets[i % 2];
    const Octword initial{rng(), rng()};
    uint64_t rax = rng(), rdx = rng();
    if (i % 2 == 0) rax = initial.lo, rdx = initial.hi;  // success path
    else if (i % 4 == 1) rax = initial.lo;                // only the high half differs
    const uint64_t rbx = rng(), rcx = rng();
    const HostCmpxchg want = host_cmpxchg16b(initial, rax, rdx, rbx, rcx);

    ASSERT_TRUE(mem_.write_obj(GuestAddress(gpa), initial));
    CpuState s = state_;
    s.regs.rsi = linear;
    s.regs.rax = rax, s.regs.rdx = rdx, s.regs.rbx = rbx, s.regs.rcx = rcx;
    s.regs.rflags = 0x2 | (rng() & kFlagsArithmetic);
    const uint64_t flags_before = s.regs.rflags;
    auto r = test::emulate(kLockCmpxchg16bRsi, s, mem_);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_FALSE(r->inject);
    EXPECT_EQ(r->mnemonic, "cmpxchg16b");
    const Octword got = guest_octword(gpa);
    ASSERT_EQ(got.lo, want.mem.lo);
    ASSERT_EQ(got.hi, want.mem.hi);
    ASSERT_EQ(s.regs.rax, want.rax);
    ASSERT_EQ(s.regs.rdx, want.rdx);
    ASSERT_EQ((s.regs.rflags & kFlagZf) != 0, want.zf);
    ASSERT_EQ(s.regs.rflags & ~kFlagZf, flags_before & ~kFlagZf);  // only ZF changes
    ASSERT_EQ(s.regs.rip, state_.regs.rip + 5);
    successes += want.zf ? 1 : 0;
  }
  EXPECT_EQ(successes, 1000);
}

TEST_F(Cmpxchg, Cmpxchg8bMatchesHostIncludingUpperHalves) {
  std::mt19937_64 rng(8);
  for (int i = 0; i < 1000; ++i) {
    const uint64_t initial = rng();
    uint64_t rax = rng(), rdx = rng();  // upper 32 bits are garbage the instruction ignores
    if (i % 2 == 0) rax = (rax & ~0xffff'ffffull) | (initial & 0xffff'ffff), rdx = (rdx & ~0xffff'ffffull) | (initial >> 32);
    const uint64_t rbx = rng(), rcx = rng();
    const HostCmpxchg want = host_cmpxchg8b(initial, rax, rdx, rbx, rcx);

    ASSERT_TRUE(mem_.write_obj(GuestAddress(0x30'0088), initial));
    CpuState s = state_;
    s.regs.rsi = kData + 0x88;
    s.regs.rax = rax, s.regs.rdx = rdx, s.regs.rbx = rbx, s.regs.rcx = rcx;
    auto r = test::emulate(kLockCmpxchg8bRsi, s, mem_);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(*mem_.read_obj<uint64_t>(GuestAddress(0x30'0088)), want.mem.lo);
    ASSERT_EQ(s.regs.rax, want.rax);
    ASSERT_EQ(s.regs.rdx, want.rdx);
    ASSERT_EQ((s.regs.rflags & kFlagZf) != 0, want.zf);
  }
}

TEST_F(Cmpxchg, MisalignedCmpxchg16bIsGp) {
  ASSERT_TRUE(mem_.write_obj(GuestAddress(0x30'0048), Octword{1, 2}));
  state_.regs.rsi = kData + 0x48;
  state_.regs.rax = 1, state_.regs.rdx = 2, state_.regs.rbx = 3, state_.regs.rcx = 4;
  const CpuState before = state_;
  auto r = test::emulate(kLockCmpxchg16bRsi, state_, mem_);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_TRUE(r->inject);
  EXPECT_EQ(r->inject->vector, kVectorGeneralProt);
  EXPECT_TRUE(r->inject->has_error_code);
  EXPECT_EQ(r->inject->error_code, 0u);
  EXPECT_EQ(state_.regs.rip, before.regs.rip);
  EXPECT_EQ(guest_octword(0x30'0048).lo, 1u);  // untouched
}

TEST_F(Cmpxchg, DisplacementWithoutLockPrefix) {
  ASSERT_TRUE(mem_.write_obj(GuestAddress(0x30'0010), Octword{5, 6}));
  state_.regs.rsi = kData;
  state_.regs.rax = 5, state_.regs.rdx = 6, state_.regs.rbx = 7, state_.regs.rcx = 8;
  auto r = test::emulate({0x48, 0x0f, 0xc7, 0x4e, 0x10}, state_, mem_);  // cmpxchg16b [rsi + 0x10]
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_NE(state_.regs.rflags & kFlagZf, 0u);
  EXPECT_EQ(guest_octword(0x30'0010).lo, 7u);
  EXPECT_EQ(guest_octword(0x30'0010).hi, 8u);
}

TEST_F(Cmpxchg, PageFaultsAreWrites) {
  state_.regs.rsi = kData + 0x3000;  // not mapped
  auto r = test::emulate(kLockCmpxchg16bRsi, state_, mem_);
  ASSERT_TRUE(r && r->inject);
  EXPECT_EQ(r->inject->vector, kVectorPageFault);
  EXPECT_EQ(r->inject->error_code, kPfErrWrite);
  EXPECT_EQ(state_.sregs.cr2, kData + 0x3000);

  // A read-only page faults even when the comparison would fail: the CPU
  // writes the old value back.
  ASSERT_TRUE(mem_.write_obj(GuestAddress(0x30'2000), Octword{1, 1}));
  state_.regs.rsi = kReadOnly;
  state_.regs.rax = 9;
  r = test::emulate(kLockCmpxchg16bRsi, state_, mem_);
  ASSERT_TRUE(r && r->inject);
  EXPECT_EQ(r->inject->error_code, kPfErrPresent | kPfErrWrite);
  EXPECT_EQ(state_.sregs.cr2, kReadOnly);
  EXPECT_EQ(state_.regs.rax, 9u);  // not loaded: the instruction faulted
}

TEST_F(Cmpxchg, MmioOperandIsAnError) {
  state_.regs.rsi = kMmio;
  auto r = test::emulate(kLockCmpxchg16bRsi, state_, mem_);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("cmpxchg16b"), std::string::npos) << r.error().message;
}

// Four host threads, each emulating "lock cmpxchg16b" increments of one
// shared guest octword: no increment may be lost.
TEST_F(Cmpxchg, AtomicAcrossThreads) {
  ASSERT_TRUE(mem_.write_obj(GuestAddress(0x60'0100), Octword{0, 0}));
  constexpr int kThreads = 4;
  constexpr int kIncrements = 5000;
  auto worker = [&] {
    CpuState s = state_;
    s.regs.rsi = kBig + 0x100;
    s.regs.rax = 0, s.regs.rdx = 0;
    for (int done = 0; done < kIncrements;) {
      s.regs.rbx = s.regs.rax + 1;
      s.regs.rcx = s.regs.rdx + 1;
      s.regs.rip = state_.regs.rip;
      auto r = test::emulate(kLockCmpxchg16bRsi, s, mem_);
      if (!r || r->inject) return;
      if ((s.regs.rflags & kFlagZf) != 0) {
        ++done;
        s.regs.rax = s.regs.rbx, s.regs.rdx = s.regs.rcx;
      }  // on failure RDX:RAX now hold the current value: retry
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  const Octword end = guest_octword(0x60'0100);
  EXPECT_EQ(end.lo, static_cast<uint64_t>(kThreads * kIncrements));
  EXPECT_EQ(end.hi, static_cast<uint64_t>(kThreads * kIncrements));
}

TEST(Cmpxchg32, Cmpxchg8bInProtectedMode) {
  auto mem = test::make_memory(1 * MiB);
  CpuState s = test::protected32_state();
  ASSERT_TRUE(mem.write_obj<uint64_t>(GuestAddress(0x5000), 0x1111'2222'3333'4444ull));
  s.regs.rsi = 0x5000;
  s.regs.rax = 0x3333'4444, s.regs.rdx = 0x1111'2222, s.regs.rbx = 0xaaaa, s.regs.rcx = 0xbbbb;
  auto r = test::emulate(kLockCmpxchg8bRsi, s, mem);  // lock cmpxchg8b [esi]
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_NE(s.regs.rflags & kFlagZf, 0u);
  EXPECT_EQ(*mem.read_obj<uint64_t>(GuestAddress(0x5000)), 0x0000'bbbb'0000'aaaaull);
  // Misaligned (emulated without atomicity): bytes 0x5003..0x500a are
  // 00 bb bb 00 00 00 00 00, which differ from EDX:EAX, so they are loaded.
  s.regs.rsi = 0x5003;
  r = test::emulate(kLockCmpxchg8bRsi, s, mem);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(s.regs.rflags & kFlagZf, 0u);
  EXPECT_EQ(s.regs.rax, 0xbb'bb00u);
  EXPECT_EQ(s.regs.rdx, 0u);
}

}  // namespace
}  // namespace kiln::x86
