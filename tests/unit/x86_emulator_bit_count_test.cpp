// popcnt / lzcnt / tzcnt against the host CPU's own results.
#include <cpuid.h>

#include <random>

#include "x86_emulator_test_util.h"

namespace kiln::x86 {
namespace {

struct HostResult {
  uint64_t dst;
  uint64_t flags;
};

// Runs one instruction on the host with the given arithmetic flags on entry
// (the 128-byte step keeps the pushes out of the red zone).
#define KILN_HOST_OP(name, text)                                                                     \
  HostResult name(uint64_t src, uint64_t dst, uint64_t flags_in) {                                  \
    uint64_t flags_out = 0;                                                                          \
    asm volatile("sub $128, %%rsp\n\tpush %[fin]\n\tpopfq\n\t" text "\n\tpushfq\n\tpop %[fout]\n\t" \
                 "add $128, %%rsp"                                                                   \
                 : [dst] "+r"(dst), [fout] "=&r"(flags_out)                                          \
                 : [src] "r"(src), [fin] "r"(flags_in)                                               \
                 : "cc", "memory");                                                                  \
    return {dst, flags_out};                                                                         \
  }
KILN_HOST_OP(host_popcnt64, "popcnt %[src], %[dst]")
KILN_HOST_OP(host_popcnt32, "popcnt %k[src], %k[dst]")
KILN_HOST_OP(host_popcnt16, "popcnt %w[src], %w[dst]")
KILN_HOST_OP(host_lzcnt64, "lzcnt %[src], %[dst]")
KILN_HOST_OP(host_lzcnt32, "lzcnt %k[src], %k[dst]")
KILN_HOST_OP(host_lzcnt16, "lzcnt %w[src], %w[dst]")
KILN_HOST_OP(host_tzcnt64, "tzcnt %[src], %[dst]")
KILN_HOST_OP(host_tzcnt32, "tzcnt %k[src], %k[dst]")
KILN_HOST_OP(host_tzcnt16, "tzcnt %w[src], %w[dst]")
#undef KILN_HOST_OP

bool host_has_popcnt() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_POPCNT) != 0;
}
// Without LZCNT/BMI1 the f3 0f bd / f3 0f bc encodings run as bsr / bsf, so
// probe the behaviour itself (hypervisors sometimes hide the CPUID bits).
bool host_runs_lzcnt() { return host_lzcnt32(1, 0, 0x2).dst == 31; }
bool host_runs_tzcnt() { return host_tzcnt32(0, 0x55, 0x2).dst == 32; }

using HostOp = HostResult (*)(uint64_t, uint64_t, uint64_t);

struct Case {
  const char* name;
  std::vector<uint8_t> bytes;  // <op> rax/eax/ax, rcx/ecx/cx
  HostOp host;
  uint64_t defined_flags;
};

// Many random sources (dense, sparse, edge values), random prior RAX and
// arithmetic flags; RAX and the defined flags must match the host exactly.
void compare_with_host(const Case& c) {
  SCOPED_TRACE(c.name);
  auto mem = test::make_memory(1 * MiB);
  std::mt19937_64 rng(0x6b696c6e);
  const std::array<uint64_t, 8> edges{0, 1, ~0ull, 0x8000'0000'0000'0000ull, 0x8000'0000ull, 0x8000, 0x1'0000, 0xffff};
  for (int i = 0; i < 4000; ++i) {
    uint64_t src = rng();
    if (i < static_cast<int>(edges.size())) src = edges[i];
    else if (i % 3 == 0) src &= rng() & rng() & rng();  // sparse
    else if (i % 3 == 1) src >>= rng() % 64;            // leading zeros
    const uint64_t dst = rng();
    const uint64_t flags_in = 0x2 | (rng() & kFlagsArithmetic);
    const HostResult want = c.host(src, dst, flags_in);

    CpuState s = test::long_mode_state(0);
    s.regs.rcx = src;
    s.regs.rax = dst;
    s.regs.rflags = flags_in | kFlagRf;
    s.regs.rip = 0xffff'ffff'8100'0000ull;
    auto r = test::emulate(c.bytes, s, mem);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_FALSE(r->inject);
    ASSERT_EQ(s.regs.rax, want.dst) << "src " << std::hex << src << " dst " << dst;
    ASSERT_EQ(s.regs.rflags & c.defined_flags, want.flags & c.defined_flags) << "src " << std::hex << src;
    ASSERT_EQ(s.regs.rflags & ~kFlagsArithmetic, 0x2u);  // RF cleared, nothing else touched
    ASSERT_EQ(s.regs.rcx, src);
    ASSERT_EQ(s.regs.rip, 0xffff'ffff'8100'0000ull + c.bytes.size());
  }
}

TEST(BitCount, PopcntMatchesHost) {
  if (!host_has_popcnt()) GTEST_SKIP() << "host CPU has no popcnt";
  compare_with_host({"popcnt rax, rcx", {0xf3, 0x48, 0x0f, 0xb8, 0xc1}, host_popcnt64, kFlagsArithmetic});
  compare_with_host({"popcnt eax, ecx", {0xf3, 0x0f, 0xb8, 0xc1}, host_popcnt32, kFlagsArithmetic});
  compare_with_host({"popcnt ax, cx", {0x66, 0xf3, 0x0f, 0xb8, 0xc1}, host_popcnt16, kFlagsArithmetic});
}

TEST(BitCount, LzcntMatchesHost) {
  if (!host_runs_lzcnt()) GTEST_SKIP() << "host CPU runs f3 0f bd as bsr (no LZCNT)";
  compare_with_host({"lzcnt rax, rcx", {0xf3, 0x48, 0x0f, 0xbd, 0xc1}, host_lzcnt64, kFlagCf | kFlagZf});
  compare_with_host({"lzcnt eax, ecx", {0xf3, 0x0f, 0xbd, 0xc1}, host_lzcnt32, kFlagCf | kFlagZf});
  compare_with_host({"lzcnt ax, cx", {0x66, 0xf3, 0x0f, 0xbd, 0xc1}, host_lzcnt16, kFlagCf | kFlagZf});
}

TEST(BitCount, TzcntMatchesHost) {
  if (!host_runs_tzcnt()) GTEST_SKIP() << "host CPU runs f3 0f bc as bsf (no BMI1)";
  compare_with_host({"tzcnt rax, rcx", {0xf3, 0x48, 0x0f, 0xbc, 0xc1}, host_tzcnt64, kFlagCf | kFlagZf});
  compare_with_host({"tzcnt eax, ecx", {0xf3, 0x0f, 0xbc, 0xc1}, host_tzcnt32, kFlagCf | kFlagZf});
  compare_with_host({"tzcnt ax, cx", {0x66, 0xf3, 0x0f, 0xbc, 0xc1}, host_tzcnt16, kFlagCf | kFlagZf});
}

TEST(BitCount, LzcntTzcntEdgesWithoutHost) {
  auto mem = test::make_memory(1 * MiB);
  CpuState s = test::long_mode_state(0);
  s.regs.rcx = 0;
  ASSERT_TRUE(test::emulate({0xf3, 0x0f, 0xbd, 0xc1}, s, mem));  // lzcnt eax, ecx
  EXPECT_EQ(s.regs.rax, 32u);
  EXPECT_EQ(s.regs.rflags & (kFlagCf | kFlagZf), kFlagCf);
  s.regs.rcx = 0x8000'0000'0000'0000ull;
  ASSERT_TRUE(test::emulate({0xf3, 0x48, 0x0f, 0xbd, 0xc1}, s, mem));  // lzcnt rax, rcx
  EXPECT_EQ(s.regs.rax, 0u);
  EXPECT_EQ(s.regs.rflags & (kFlagCf | kFlagZf), kFlagZf);
  s.regs.rcx = 0x100;
  ASSERT_TRUE(test::emulate({0x66, 0xf3, 0x0f, 0xbc, 0xc1}, s, mem));  // tzcnt ax, cx
  EXPECT_EQ(s.regs.rax, 8u);
}

TEST(BitCount, ExtendedRegisters) {
  auto mem = test::make_memory(1 * MiB);
  CpuState s = test::long_mode_state(0);
  s.regs.r10 = 0xf0f0;
  s.regs.r9 = 0x1234;
  auto r = test::emulate({0xf3, 0x4d, 0x0f, 0xb8, 0xca}, s, mem);  // popcnt r9, r10
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->mnemonic, "popcnt");
  EXPECT_EQ(s.regs.r9, 8u);
}

}  // namespace
}  // namespace kiln::x86
