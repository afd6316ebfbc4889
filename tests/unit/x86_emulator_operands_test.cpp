// Memory operands (with popcnt as the carrier): RIP-relative, FS/GS base,
// SIB, address-size prefix, page crossing, #PF/#GP/#SS, MMIO, and 32-bit
// protected-mode decoding and segmentation.
#include "x86_emulator_test_util.h"

namespace kiln::x86 {
namespace {

using test::kP;
using test::kRw;
using test::kUs;

// 64-bit kernel with a 2 MiB page (code and data) and 4 KiB pages.
class MemoryOperands : public ::testing::Test {
 protected:
  static constexpr uint64_t kCode = 0xffff'ffff'8100'0000ull;  // 2 MiB page -> 0x400000
  static constexpr uint64_t kData = 0xffff'8880'0000'1000ull;  // 4 KiB page -> 0x300000
  static constexpr uint64_t kUser = 0x0000'0000'0060'1000ull;  // 4 KiB user page -> 0x310000
  static constexpr uint64_t kMmio = 0xffff'8880'0000'5000ull;  // -> 0xfee00000, not RAM
  void SetUp() override {
    pt_.map(kCode, 0x40'0000, 2 * MiB, kP | kRw);
    pt_.map(kData, 0x30'0000, 4 * KiB, kP | kRw);
    pt_.map(kUser, 0x31'0000, 4 * KiB, kP | kRw | kUs);
    pt_.map(kMmio, 0xfee0'0000, 4 * KiB, kP | kRw);
    state_ = test::long_mode_state(pt_.root());
    state_.regs.rip = kCode + 0x100;
  }
  void put(uint64_t gpa, uint64_t value) { ASSERT_TRUE(mem_.write_obj(GuestAddress(gpa), value)); }

  GuestMemory mem_ = test::make_memory();
  test::PageTableBuilder pt_{mem_, 0x10000};
  CpuState state_;
};

TEST_F(MemoryOperands, RipRelative) {
  // popcnt rax, [rip + 0x1000]: 9 bytes, so the operand is at rip + 9 + 0x1000.
  put(0x40'0000 + 0x100 + 9 + 0x1000, 0xff00'ff00'ff00'ff00ull);
  auto r = test::emulate({0xf3, 0x48, 0x0f, 0xb8, 0x05, 0x00, 0x10, 0x00, 0x00}, state_, mem_);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(state_.regs.rax, 32u);
  EXPECT_EQ(state_.regs.rip, kCode + 0x100 + 9);
}

TEST_F(MemoryOperands, FsAndGsBaseWithSib) {
  put(0x30'0018, 0x7);
  state_.sregs.fs.base = kData;
  state_.regs.rbx = 0x18;
  auto r = test::emulate({0x64, 0xf3, 0x48, 0x0f, 0xb8, 0x03}, state_, mem_);  // popcnt rax, fs:[rbx]
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(state_.regs.rax, 3u);

  state_.sregs.gs.base = kData + 0x80;
  state_.regs.rbx = 0x40;
  state_.regs.rcx = 0x8;  // gs:[rbx + rcx*4 + 8] = kData + 0x80 + 0x40 + 0x20 + 8 = kData + 0xe8
  put(0x30'00e8, 0xff);
  r = test::emulate({0x65, 0xf3, 0x48, 0x0f, 0xb8, 0x44, 0x8b, 0x08}, state_, mem_);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(state_.regs.rax, 8u);

  // DS has no base in 64-bit mode even when sregs carries one.
  state_.sregs.ds.base = 0x1000;
  state_.regs.rbx = kData + 0x18;
  r = test::emulate({0xf3, 0x48, 0x0f, 0xb8, 0x03}, state_, mem_);  // popcnt rax, [rbx]
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(state_.regs.rax, 3u);
}

TEST_F(MemoryOperands, AddressSizePrefixTruncatesTheAddress) {
  put(0x31'0008, 0x3);
  state_.regs.rbx = 0xdead'beef'0060'1008ull;
  auto r = test::emulate({0x67, 0xf3, 0x0f, 0xb8, 0x03}, state_, mem_);  // popcnt eax, [ebx]
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(state_.regs.rax, 2u);
}

TEST_F(MemoryOperands, NotPresentInjectsPageFault) {
  const CpuState before = state_;
  state_.regs.rbx = kData + 0x3000;  // unmapped
  state_.sregs.cr2 = 0;
  auto r = test::emulate({0xf3, 0x48, 0x0f, 0xb8, 0x03}, state_, mem_);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_TRUE(r->inject);
  EXPECT_EQ(r->inject->vector, kVectorPageFault);
  EXPECT_TRUE(r->inject->has_error_code);
  EXPECT_EQ(r->inject->error_code, 0u);  // not present, read, supervisor
  EXPECT_EQ(state_.sregs.cr2, kData + 0x3000);
  EXPECT_TRUE(r->sregs_changed);
  EXPECT_FALSE(r->regs_changed);
  EXPECT_EQ(state_.regs.rip, before.regs.rip);  // a fault does not complete the instruction
}

TEST_F(MemoryOperands, PageCrossingReadFaultsOnTheSecondPage) {
  state_.regs.rbx = kData + 0xffc;  // 8 bytes: 4 on kData's page, 4 on the next one
  pt_.map(kData + 0x1000, 0x30'1000, 4 * KiB, 0);  // next page not present
  auto r = test::emulate({0xf3, 0x48, 0x0f, 0xb8, 0x03}, state_, mem_);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_TRUE(r->inject);
  EXPECT_EQ(state_.sregs.cr2, kData + 0x1000);

  pt_.map(kData + 0x1000, 0x30'1000, 4 * KiB, kP);
  put(0x30'0ff8, 0x0000'000f'0000'0000ull);  // high half of the first page's last 8 bytes
  put(0x30'1000, 0xffff'ffff'0000'0003ull);
  r = test::emulate({0xf3, 0x48, 0x0f, 0xb8, 0x03}, state_, mem_);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->inject);
  EXPECT_EQ(state_.regs.rax, 4u + 2u);
}

TEST_F(MemoryOperands, NonCanonicalIsGpOrSs) {
  state_.regs.rbx = 0x0000'8000'0000'0000ull;
  auto r = test::emulate({0xf3, 0x48, 0x0f, 0xb8, 0x03}, state_, mem_);
  ASSERT_TRUE(r && r->inject);
  EXPECT_EQ(r->inject->vector, kVectorGeneralProt);
  EXPECT_EQ(r->inject->error_code, 0u);
  state_.regs.rsp = 0x0000'8000'0000'0000ull;
  r = test::emulate({0xf3, 0x48, 0x0f, 0xb8, 0x04, 0x24}, state_, mem_);  // popcnt rax, [rsp]
  ASSERT_TRUE(r && r->inject);
  EXPECT_EQ(r->inject->vector, kVectorStackFault);
}

TEST_F(MemoryOperands, MmioOperandIsAnError) {
  state_.regs.rbx = kMmio;
  auto r = test::emulate({0xf3, 0x48, 0x0f, 0xb8, 0x03}, state_, mem_);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("not RAM"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("popcnt"), std::string::npos) << r.error().message;
}

TEST(ProtectedMode32, DecodesInThirtyTwoBitMode) {
  auto mem = test::make_memory(1 * MiB);
  CpuState s = test::protected32_state();
  s.regs.rip = 0x10'0000 - 0x100;
  s.regs.rcx = 0xffff'ffff'0000'0f0full;
  s.regs.rax = 0xffff'ffff'ffff'ffffull;
  auto r = test::emulate({0xf3, 0x0f, 0xb8, 0xc1}, s, mem);  // popcnt eax, ecx
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(s.regs.rax, 8u);
  EXPECT_EQ(s.regs.rip, 0x10'0000u - 0x100 + 4);

  // The same bytes with a REX.W are "dec eax; ..." in 32-bit mode.
  r = test::emulate({0xf3, 0x48, 0x0f, 0xb8, 0xc1}, s, mem);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("dec"), std::string::npos) << r.error().message;

  // popcnt eax, [ebx + 8] through DS with a base; paging off.
  s.sregs.ds.base = 0x2000;
  s.regs.rbx = 0x100;
  ASSERT_TRUE(mem.write_obj<uint32_t>(GuestAddress(0x2108), 0x8000'0001u));
  r = test::emulate({0xf3, 0x0f, 0xb8, 0x43, 0x08}, s, mem);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(s.regs.rax, 2u);

  // 16-bit operand size keeps the upper bits of EAX.
  s.regs.rax = 0x1234'5678;
  s.regs.rcx = 0xffff'0003;
  r = test::emulate({0x66, 0xf3, 0x0f, 0xb8, 0xc1}, s, mem);  // popcnt ax, cx
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(s.regs.rax, 0x1234'0002u);
}

TEST(ProtectedMode32, SegmentLimitViolationIsGp) {
  auto mem = test::make_memory(1 * MiB);
  CpuState s = test::protected32_state();
  s.sregs.ds.limit = 0xfff;
  s.regs.rbx = 0xffe;  // 4-byte read at 0xffe..0x1001 exceeds the limit
  auto r = test::emulate({0xf3, 0x0f, 0xb8, 0x03}, s, mem);  // popcnt eax, [ebx]
  ASSERT_TRUE(r && r->inject);
  EXPECT_EQ(r->inject->vector, kVectorGeneralProt);
  s.regs.rbx = 0xffc;
  r = test::emulate({0xf3, 0x0f, 0xb8, 0x03}, s, mem);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->inject);
}

}  // namespace
}  // namespace kiln::x86
