// int3, fwait, clac/stac, xgetbv, rdpid, error reporting, instruction fetch
// and the counter table.
#include <thread>

#include "arch/x86_64/emulator/emulation_counters.h"
#include "x86_emulator_test_util.h"

namespace kiln::x86 {
namespace {

using test::kP;
using test::kRw;

constexpr uint64_t kRip = 0xffff'ffff'8100'1000ull;

class SystemInsns : public ::testing::Test {
 protected:
  void SetUp() override {
    state_ = test::long_mode_state(0);
    state_.regs.rip = kRip;
    state_.regs.rflags = 0x2 | kFlagRf;
  }
  GuestMemory mem_ = test::make_memory(1 * MiB);
  CpuState state_;
};

TEST_F(SystemInsns, Int3AdvancesRipAndInjectsBreakpoint) {
  auto r = test::emulate({0xcc, 0x90, 0x90}, state_, mem_);  // trailing bytes are ignored
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->mnemonic, "int3");
  ASSERT_TRUE(r->inject);
  EXPECT_EQ(r->inject->vector, kVectorBreakpoint);
  EXPECT_FALSE(r->inject->has_error_code);
  EXPECT_EQ(state_.regs.rip, kRip + 1);  // #BP is a trap
  EXPECT_TRUE(r->regs_changed);
  EXPECT_FALSE(r->sregs_changed);
}

TEST_F(SystemInsns, FwaitIsANoOpUnlessTaskSwitched) {
  auto r = test::emulate({0x9b}, state_, mem_);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->mnemonic, "fwait");
  EXPECT_FALSE(r->inject);
  EXPECT_EQ(state_.regs.rip, kRip + 1);
  EXPECT_EQ(state_.regs.rflags & kFlagRf, 0u);  // RF cleared on completion

  state_.sregs.cr0 |= kCr0MonitorCoproc | kCr0TaskSwitched;
  r = test::emulate({0x9b}, state_, mem_);
  ASSERT_TRUE(r && r->inject);
  EXPECT_EQ(r->inject->vector, kVectorNoMathCoproc);
  EXPECT_EQ(state_.regs.rip, kRip + 1);  // a fault: not advanced again
}

TEST_F(SystemInsns, ClacStacAtCpl0) {
  auto r = test::emulate({0x0f, 0x01, 0xcb}, state_, mem_);  // stac
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->mnemonic, "stac");
  EXPECT_NE(state_.regs.rflags & kFlagAc, 0u);
  EXPECT_EQ(state_.regs.rip, kRip + 3);
  r = test::emulate({0x0f, 0x01, 0xca}, state_, mem_);  // clac
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->mnemonic, "clac");
  EXPECT_EQ(state_.regs.rflags & kFlagAc, 0u);
  EXPECT_EQ(state_.regs.rflags, 0x2u);
  EXPECT_EQ(state_.regs.rip, kRip + 6);
}

TEST_F(SystemInsns, ClacStacAboveCpl0AreInvalidOpcode) {
  state_.sregs.cs.dpl = 3;
  state_.sregs.cs.selector = 0x33;
  for (const auto& bytes : {std::vector<uint8_t>{0x0f, 0x01, 0xcb}, std::vector<uint8_t>{0x0f, 0x01, 0xca}}) {
    state_.regs.rflags = 0x2 | kFlagAc;
    auto r = test::emulate(bytes, state_, mem_);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_TRUE(r->inject);
    EXPECT_EQ(r->inject->vector, kVectorInvalidOpcode);
    EXPECT_FALSE(r->inject->has_error_code);
    EXPECT_EQ(state_.regs.rflags, 0x2 | kFlagAc);
    EXPECT_EQ(state_.regs.rip, kRip);
  }
}

TEST_F(SystemInsns, LockPrefixOnClacIsInvalidOpcode) {
  auto r = test::emulate({0xf0, 0x0f, 0x01, 0xca}, state_, mem_);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_TRUE(r->inject);
  EXPECT_EQ(r->inject->vector, kVectorInvalidOpcode);
  EXPECT_EQ(state_.regs.rip, kRip);
}

TEST_F(SystemInsns, Xgetbv) {
  state_.regs.rcx = 0xffff'ffff'0000'0000ull;  // ECX = 0; upper bits ignored
  state_.regs.rax = state_.regs.rdx = ~0ull;
  auto r = test::emulate({0x0f, 0x01, 0xd0}, state_, mem_);
  ASSERT_TRUE(r && r->inject);
  EXPECT_EQ(r->inject->vector, kVectorInvalidOpcode);  // CR4.OSXSAVE = 0

  state_.sregs.cr4 |= kCr4OsXsave;
  state_.xcr0 = 0x0000'0002'0000'02e7ull;
  r = test::emulate({0x0f, 0x01, 0xd0}, state_, mem_);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->inject);
  EXPECT_EQ(r->mnemonic, "xgetbv");
  EXPECT_EQ(state_.regs.rax, 0x2e7u);
  EXPECT_EQ(state_.regs.rdx, 0x2u);

  state_.regs.rcx = 2;
  r = test::emulate({0x0f, 0x01, 0xd0}, state_, mem_);
  ASSERT_TRUE(r && r->inject);
  EXPECT_EQ(r->inject->vector, kVectorGeneralProt);
}

TEST_F(SystemInsns, RdpidNeedsTscAux) {
  auto r = test::emulate({0xf3, 0x0f, 0xc7, 0xf8}, state_, mem_);  // rdpid rax
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("rdpid"), std::string::npos) << r.error().message;
  EXPECT_EQ(state_.regs.rip, kRip);

  state_.tsc_aux = 7;
  state_.regs.rax = ~0ull;
  r = test::emulate({0xf3, 0x0f, 0xc7, 0xf8}, state_, mem_);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(state_.regs.rax, 7u);
  EXPECT_EQ(state_.regs.rip, kRip + 4);

  CpuState s32 = test::protected32_state();
  s32.tsc_aux = 3;
  s32.regs.rax = 0xffff'ffffull;
  r = test::emulate({0xf3, 0x0f, 0xc7, 0xf8}, s32, mem_);  // rdpid eax
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(s32.regs.rax, 3u);
}

TEST_F(SystemInsns, UnknownInstructionNamesItself) {
  const CpuState before = state_;
  auto r = test::emulate({0x48, 0x0f, 0xae, 0x2f, 0x90}, state_, mem_);  // xrstor64 [rdi]
  ASSERT_FALSE(r);
  const std::string& msg = r.error().message;
  EXPECT_NE(msg.find("xrstor"), std::string::npos) << msg;
  EXPECT_NE(msg.find("48 0f ae 2f"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("48 0f ae 2f 90"), std::string::npos) << msg;  // only the instruction's bytes
  EXPECT_NE(msg.find("0xffffffff81001000"), std::string::npos) << msg;
  EXPECT_EQ(state_.regs.rip, before.regs.rip);
}

TEST_F(SystemInsns, TruncatedAndEmptyBytesAreErrors) {
  auto r = test::emulate({0xf3, 0x48, 0x0f}, state_, mem_);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("truncated"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("f3 48 0f"), std::string::npos) << r.error().message;
  r = test::emulate({}, state_, mem_);
  ASSERT_FALSE(r);
  r = test::emulate({0x0f, 0xc7, 0xc8}, state_, mem_);  // cmpxchg8b with a register operand
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("undecodable"), std::string::npos) << r.error().message;
}

TEST_F(SystemInsns, RealModeDecodesSixteenBit) {
  CpuState s;
  s.regs.rflags = 0x2;
  s.regs.rip = 0xfff0;
  s.sregs.cs.limit = s.sregs.ds.limit = s.sregs.ss.limit = 0xffff;
  s.sregs.cs.present = s.sregs.ds.present = s.sregs.ss.present = 1;
  s.regs.rcx = 0x00ff;
  s.regs.rax = 0xaaaa'0000;
  auto r = test::emulate({0xf3, 0x0f, 0xb8, 0xc1}, s, mem_);  // popcnt ax, cx (16-bit default)
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(s.regs.rax, 0xaaaa'0008u);
  r = test::emulate({0x0f, 0x01, 0xca}, s, mem_);  // clac: CPL 0 in real mode
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->inject);
}

TEST(FetchInstruction, ReadsThroughPageTablesAndStopsAtAHole) {
  auto mem = test::make_memory();
  test::PageTableBuilder pt(mem, 0x10000);
  const uint64_t code = 0xffff'ffff'8100'0000ull;
  pt.map(code, 0x40'0000, 4 * KiB, kP | kRw);
  const std::vector<uint8_t> text{0x48, 0x0f, 0xae, 0x2f, 0xcc, 0x9b};
  ASSERT_TRUE(mem.write(GuestAddress(0x40'0ffa), text));
  CpuState s = test::long_mode_state(pt.root());
  s.regs.rip = code + 0xffa;
  auto bytes = fetch_instruction(s, mem);
  ASSERT_TRUE(bytes) << bytes.error().message;
  EXPECT_EQ(*bytes, text);  // the next page is not mapped: 6 bytes only

  s.regs.rip = code + 0x10;
  bytes = fetch_instruction(s, mem);
  ASSERT_TRUE(bytes) << bytes.error().message;
  EXPECT_EQ(bytes->size(), 15u);

  s.regs.rip = code + 0x1000;
  EXPECT_FALSE(fetch_instruction(s, mem));
}

TEST(EmulationCounters, CountsAndSummarises) {
  EmulationCounters counters;
  EXPECT_EQ(counters.summary(), "none");
  counters.record("int3");
  for (int i = 0; i < 3; ++i) counters.record("popcnt");
  counters.record("clac");
  EXPECT_EQ(counters.count("popcnt"), 3u);
  EXPECT_EQ(counters.count("xrstor"), 0u);
  EXPECT_EQ(counters.total(), 5u);
  const auto rows = counters.snapshot();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], (std::pair<std::string, uint64_t>{"popcnt", 3}));
  EXPECT_EQ(rows[1].first, "clac");  // ties by name
  EXPECT_EQ(counters.summary(), "popcnt 3, clac 1, int3 1");
}

TEST(EmulationCounters, ThreadSafe) {
  EmulationCounters counters;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&counters, t] {
      for (int i = 0; i < 10000; ++i) counters.record(i % 2 == 0 ? "popcnt" : (t % 2 == 0 ? "int3" : "fwait"));
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(counters.count("popcnt"), 20000u);
  EXPECT_EQ(counters.count("int3"), 10000u);
  EXPECT_EQ(counters.count("fwait"), 10000u);
  EXPECT_EQ(counters.total(), 40000u);
}

TEST(EmulationCounters, RecordsEmulatedMnemonics) {
  auto mem = test::make_memory(1 * MiB);
  EmulationCounters counters;
  CpuState s = test::long_mode_state(0);
  for (const auto& bytes : {std::vector<uint8_t>{0xcc}, std::vector<uint8_t>{0x9b}, std::vector<uint8_t>{0xcc}}) {
    auto r = test::emulate(bytes, s, mem);
    ASSERT_TRUE(r) << r.error().message;
    counters.record(r->mnemonic);
  }
  EXPECT_EQ(counters.summary(), "int3 2, fwait 1");
}

}  // namespace
}  // namespace kiln::x86
