// translate(): the guest page-table walk (Intel SDM vol. 3 chapter 4).
#include "arch/x86_64/emulator/page_walk.h"

#include "x86_emulator_test_util.h"

namespace kiln::x86 {
namespace {

using test::kA;
using test::kD;
using test::kP;
using test::kPs;
using test::kRw;
using test::kUs;
using test::kXd;

constexpr uint64_t kTables = 0x10000;
constexpr uint64_t kLinear4K = 0xffff'8880'0000'1000ull;
constexpr uint64_t kLinear2M = 0xffff'ffff'8100'0000ull;
constexpr uint64_t kLinearUser = 0x0000'0000'0060'1000ull;

Translation expect_translation(const Result<WalkOutcome>& r) {
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  if (!r) return {};
  EXPECT_TRUE(std::holds_alternative<Translation>(*r)) << "unexpected page fault";
  return std::holds_alternative<Translation>(*r) ? std::get<Translation>(*r) : Translation{};
}

PageFault expect_fault(const Result<WalkOutcome>& r) {
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  if (!r) return {};
  EXPECT_TRUE(std::holds_alternative<PageFault>(*r)) << "expected a page fault";
  return std::holds_alternative<PageFault>(*r) ? std::get<PageFault>(*r) : PageFault{};
}

class PageWalk : public ::testing::Test {
 protected:
  void SetUp() override {
    leaf_4k_ = pt_.map(kLinear4K, 0x30'0000, 4 * KiB, kP | kRw);
    leaf_2m_ = pt_.map(kLinear2M, 0x40'0000, 2 * MiB, kP | kRw);
    pt_.map(kLinear4K + 0x1000, 0x30'1000, 4 * KiB, kP);  // read-only
    pt_.map(kLinearUser, 0x31'0000, 4 * KiB, kP | kRw | kUs);
    pt_.map(kLinear4K + 0x4000, 0x30'4000, 4 * KiB, kP | kRw | kXd);
    state_ = test::long_mode_state(pt_.root());
  }
  uint64_t entry(uint64_t gpa) { return *mem_.read_obj<uint64_t>(GuestAddress(gpa)); }

  GuestMemory mem_ = test::make_memory();
  test::PageTableBuilder pt_{mem_, kTables};
  uint64_t leaf_4k_ = 0;
  uint64_t leaf_2m_ = 0;
  CpuState state_;
};

TEST_F(PageWalk, FourKiBAndTwoMiBPages) {
  auto t = expect_translation(translate(state_, kLinear4K + 0x123, AccessKind::kRead, mem_));
  EXPECT_EQ(t.gpa.raw(), 0x30'0123u);
  EXPECT_EQ(t.page_size, 4 * KiB);
  t = expect_translation(translate(state_, kLinear2M + 0x1'2345, AccessKind::kRead, mem_));
  EXPECT_EQ(t.gpa.raw(), 0x41'2345u);
  EXPECT_EQ(t.page_size, 2 * MiB);
}

TEST_F(PageWalk, SetsAccessedAndDirtyBits) {
  EXPECT_EQ(entry(leaf_4k_) & (kA | kD), 0u);
  ASSERT_TRUE(translate(state_, kLinear4K, AccessKind::kRead, mem_));
  EXPECT_EQ(entry(leaf_4k_) & (kA | kD), kA);
  EXPECT_NE(entry(pt_.root() + ((kLinear4K >> 39) & 0x1ff) * 8) & kA, 0u);  // the PML4E too
  ASSERT_TRUE(translate(state_, kLinear2M, AccessKind::kWrite, mem_));
  EXPECT_EQ(entry(leaf_2m_) & (kA | kD), kA | kD);
}

TEST_F(PageWalk, OneGiBPageAndFiveLevels) {
  pt_.map(0xffff'8800'0000'0000ull, 0, 1 * GiB, kP | kRw);
  auto t = expect_translation(translate(state_, 0xffff'8800'0123'4567ull, AccessKind::kRead, mem_));
  EXPECT_EQ(t.gpa.raw(), 0x123'4567u);
  EXPECT_EQ(t.page_size, 1 * GiB);

  test::PageTableBuilder five(mem_, 0x80'0000, 5);
  const uint64_t linear = 0xff12'3456'789a'b000ull;  // canonical with 57 bits only
  five.map(linear, 0x50'0000, 4 * KiB, kP | kRw);
  CpuState s = test::long_mode_state(five.root());
  s.sregs.cr4 |= kCr4La57;
  t = expect_translation(translate(s, linear + 0x42, AccessKind::kWrite, mem_));
  EXPECT_EQ(t.gpa.raw(), 0x50'0042u);
}

TEST_F(PageWalk, NotPresentFaults) {
  const uint64_t hole = kLinear4K + 0x2000;  // PTE is zero
  auto pf = expect_fault(translate(state_, hole + 8, AccessKind::kRead, mem_));
  EXPECT_EQ(pf.address, hole + 8);
  EXPECT_EQ(pf.error_code, 0u);
  pf = expect_fault(translate(state_, hole, AccessKind::kWrite, mem_));
  EXPECT_EQ(pf.error_code, kPfErrWrite);
  pf = expect_fault(translate(state_, 0x7f00'0000'0000ull, AccessKind::kRead, mem_));  // no PML4E
  EXPECT_EQ(pf.error_code, 0u);
  state_.sregs.cs.dpl = 3;
  pf = expect_fault(translate(state_, hole, AccessKind::kWrite, mem_));
  EXPECT_EQ(pf.error_code, kPfErrWrite | kPfErrUser);
}

TEST_F(PageWalk, WriteProtection) {
  const uint64_t ro = kLinear4K + 0x1000;
  EXPECT_EQ(expect_fault(translate(state_, ro, AccessKind::kWrite, mem_)).error_code, kPfErrPresent | kPfErrWrite);
  EXPECT_TRUE(expect_translation(translate(state_, ro, AccessKind::kRead, mem_)).page_size);
  state_.sregs.cr0 &= ~kCr0WriteProtect;  // supervisor writes ignore R/W without CR0.WP
  EXPECT_EQ(expect_translation(translate(state_, ro, AccessKind::kWrite, mem_)).gpa.raw(), 0x30'1000u);
}

TEST_F(PageWalk, UserSupervisorSmapSmep) {
  state_.sregs.cs.dpl = 3;
  EXPECT_EQ(expect_fault(translate(state_, kLinear4K, AccessKind::kRead, mem_)).error_code,
            kPfErrPresent | kPfErrUser);
  EXPECT_EQ(expect_translation(translate(state_, kLinearUser, AccessKind::kWrite, mem_)).gpa.raw(), 0x31'0000u);

  state_.sregs.cs.dpl = 0;
  state_.sregs.cr4 |= kCr4Smap | kCr4Smep;
  EXPECT_EQ(expect_fault(translate(state_, kLinearUser, AccessKind::kRead, mem_)).error_code, kPfErrPresent);
  EXPECT_EQ(expect_fault(translate(state_, kLinearUser, AccessKind::kFetch, mem_)).error_code,
            kPfErrPresent | kPfErrFetch);
  state_.regs.rflags |= kFlagAc;  // stac: explicit supervisor accesses to user pages allowed
  EXPECT_EQ(expect_translation(translate(state_, kLinearUser, AccessKind::kRead, mem_)).gpa.raw(), 0x31'0000u);
}

TEST_F(PageWalk, NoExecuteAndReservedBits) {
  const uint64_t nx = kLinear4K + 0x4000;
  EXPECT_EQ(expect_fault(translate(state_, nx, AccessKind::kFetch, mem_)).error_code, kPfErrPresent | kPfErrFetch);
  EXPECT_TRUE(expect_translation(translate(state_, nx, AccessKind::kRead, mem_)).page_size);
  state_.sregs.efer &= ~kEferNoExecute;  // XD is a reserved bit without EFER.NXE
  EXPECT_EQ(expect_fault(translate(state_, nx, AccessKind::kRead, mem_)).error_code,
            kPfErrPresent | kPfErrReserved);

  // PS in a PML4E is reserved.
  const uint64_t pml4e = pt_.root() + 5 * 8;
  ASSERT_TRUE(mem_.write_obj<uint64_t>(GuestAddress(pml4e), 0x20'0000 | kP | kRw | kPs));
  EXPECT_EQ(expect_fault(translate(state_, 5ull << 39, AccessKind::kRead, mem_)).error_code,
            kPfErrPresent | kPfErrReserved);
}

TEST_F(PageWalk, TableOutsideRamIsAnError) {
  const uint64_t pml4e = pt_.root() + 6 * 8;
  ASSERT_TRUE(mem_.write_obj<uint64_t>(GuestAddress(pml4e), 0x1'0000'0000ull | kP | kRw));
  auto r = translate(state_, 6ull << 39, AccessKind::kRead, mem_);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("outside guest RAM"), std::string::npos) << r.error().message;
}

TEST(PageWalkModes, PagingOffIsIdentity) {
  auto mem = test::make_memory();
  const CpuState s = test::protected32_state();
  auto r = translate(s, 0x12'3456, AccessKind::kWrite, mem);
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<Translation>(*r).gpa.raw(), 0x12'3456u);
}

TEST(PageWalkModes, ThirtyTwoBitPagingWithFourMiBPage) {
  auto mem = test::make_memory();
  // PD at 0x20000, PT at 0x21000 (4-byte entries, SDM vol. 3 §4.3).
  ASSERT_TRUE(mem.write_obj<uint32_t>(GuestAddress(0x20000 + (0xc040'0000u >> 22) * 4), 0x0080'0000u | 0x83));
  ASSERT_TRUE(mem.write_obj<uint32_t>(GuestAddress(0x20000 + (0x0804'8000u >> 22) * 4), 0x21000u | 0x7));
  ASSERT_TRUE(mem.write_obj<uint32_t>(GuestAddress(0x21000 + ((0x0804'8000u >> 12) & 0x3ff) * 4), 0x60'0000u | 0x5));
  CpuState s = test::protected32_state();
  s.sregs.cr0 |= kCr0Paging | kCr0WriteProtect;
  s.sregs.cr3 = 0x20000;
  s.sregs.cr4 = kCr4PageSizeExt;
  auto t = expect_translation(translate(s, 0xc041'2345u, AccessKind::kWrite, mem));
  EXPECT_EQ(t.gpa.raw(), 0x81'2345u);
  EXPECT_EQ(t.page_size, 4 * MiB);
  t = expect_translation(translate(s, 0x0804'8010u, AccessKind::kRead, mem));
  EXPECT_EQ(t.gpa.raw(), 0x60'0010u);
  // Read-only user page: a supervisor write faults with CR0.WP.
  EXPECT_EQ(expect_fault(translate(s, 0x0804'8010u, AccessKind::kWrite, mem)).error_code,
            kPfErrPresent | kPfErrWrite);
  EXPECT_EQ(expect_fault(translate(s, 0x0900'0000u, AccessKind::kRead, mem)).error_code, 0u);
}

TEST(PageWalkModes, PaePaging) {
  auto mem = test::make_memory();
  // PDPT at 0x20020 (32-byte aligned), PD at 0x21000, PT at 0x22000.
  const uint32_t linear_2m = 0xc060'0000u;
  const uint32_t linear_4k = 0x0804'8000u;
  ASSERT_TRUE(mem.write_obj<uint64_t>(GuestAddress(0x20020 + 3 * 8), 0x21000 | kP));
  ASSERT_TRUE(mem.write_obj<uint64_t>(GuestAddress(0x20020 + 0 * 8), 0x23000 | kP));
  ASSERT_TRUE(mem.write_obj<uint64_t>(GuestAddress(0x21000 + ((linear_2m >> 21) & 0x1ff) * 8), 0x20'0000 | kP | kRw | kPs));
  ASSERT_TRUE(mem.write_obj<uint64_t>(GuestAddress(0x23000 + ((linear_4k >> 21) & 0x1ff) * 8), 0x22000 | kP | kRw));
  ASSERT_TRUE(mem.write_obj<uint64_t>(GuestAddress(0x22000 + ((linear_4k >> 12) & 0x1ff) * 8), 0x70'0000 | kP | kXd));
  CpuState s = test::protected32_state();
  s.sregs.cr0 |= kCr0Paging;
  s.sregs.cr3 = 0x20020;
  s.sregs.cr4 = kCr4PhysAddrExt;
  s.sregs.efer = kEferNoExecute;
  auto t = expect_translation(translate(s, linear_2m + 0x1234, AccessKind::kRead, mem));
  EXPECT_EQ(t.gpa.raw(), 0x20'1234u);
  EXPECT_EQ(t.page_size, 2 * MiB);
  EXPECT_EQ(expect_translation(translate(s, linear_4k + 4, AccessKind::kRead, mem)).gpa.raw(), 0x70'0004u);
  EXPECT_EQ(expect_fault(translate(s, linear_4k, AccessKind::kFetch, mem)).error_code, kPfErrPresent | kPfErrFetch);
  EXPECT_EQ(expect_fault(translate(s, 0x4000'0000u, AccessKind::kRead, mem)).error_code, 0u);  // PDPTE 1 absent
}

}  // namespace
}  // namespace kiln::x86
