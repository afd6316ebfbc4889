// The probe harness's parser and verdict, on canned output (no VMM needed).
#include "probe_output.h"

#include <gtest/gtest.h>

namespace kiln::test {
namespace {

const char* const kPassingRun =
    "qboot noise\r\n"
    "PROBE start kiln-probe\r\n"
    "PROBE ok discovery.start_info\n"
    "PROBE info virtio-mmio index=0 base=0xd0000000 size=0x1000 irq=5\n"
    "PROBE scenario exits\n"
    "PROBE result exits.pio_write count=10 cycles_per_exit=1234.5 ns_per_exit=587.9\n"
    "PROBE ok exits.pio_write\n"
    "PROBE summary passed=2 failed=0\n";

TEST(ProbeOutput, ParsesLinesAndFields) {
  const auto out = parse_probe_output(kPassingRun);
  ASSERT_TRUE(out.summary);
  EXPECT_EQ(out.summary->passed, 2u);
  EXPECT_EQ(out.summary->failed, 0u);
  EXPECT_EQ(out.passed(), (std::vector<std::string>{"discovery.start_info", "exits.pio_write"}));
  const ProbeLine* r = out.find("result", "exits.pio_write");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->fields.at("count"), "10");
  EXPECT_DOUBLE_EQ(*field_number(*r, "ns_per_exit"), 587.9);
  EXPECT_FALSE(field_number(*r, "missing"));
  const ProbeLine* v = out.find("info", "virtio-mmio");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->fields.at("base"), "0xd0000000");
  EXPECT_EQ(v->detail, "index=0 base=0xd0000000 size=0x1000 irq=5");
  EXPECT_TRUE(probe_run_problems(out, {0, false}).empty());
}

TEST(ProbeOutput, FailLineCarriesDetail) {
  const auto out = parse_probe_output(
      "PROBE fail selftest.fault exception vector=14 name=PF rip=0x1 error=0x4 cr2=0x100000000\n"
      "PROBE summary passed=0 failed=1\n");
  const ProbeLine* f = out.find("fail", "selftest.fault");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->fields.at("vector"), "14");
  EXPECT_EQ(f->fields.at("cr2"), "0x100000000");
  EXPECT_TRUE(probe_run_problems(out, {0, false}, {"selftest.fault"}).empty());
  EXPECT_EQ(probe_run_problems(out, {0, false}).size(), 1u);
}

TEST(ProbeOutput, ReportsEveryWayARunFails) {
  EXPECT_FALSE(probe_run_problems(parse_probe_output("PROBE ok a\n"), {0, false}).empty());  // no summary
  const auto ok = parse_probe_output("PROBE ok a\nPROBE summary passed=1 failed=0\n");
  EXPECT_FALSE(probe_run_problems(ok, {3, false}).empty());  // exit status
  EXPECT_FALSE(probe_run_problems(ok, {0, true}).empty());   // time-out
  const auto lying = parse_probe_output("PROBE ok a\nPROBE summary passed=2 failed=0\n");
  EXPECT_FALSE(probe_run_problems(lying, {0, false}).empty());  // summary disagrees
  const auto twice = parse_probe_output("PROBE summary passed=0 failed=0\nPROBE summary passed=0 failed=0\n");
  EXPECT_FALSE(probe_run_problems(twice, {0, false}).empty());
  const auto bad = parse_probe_output("PROBE summary passed=x failed=0\n");
  EXPECT_FALSE(bad.summary);
}

// The CI flake of KilnProbe.Run/console (issue 12): the virtio console's line written into the
// middle of the UART's "PROBE ok console.transmit" line still counts as an ok line, so the run
// itself looks sound (summary, counts, no fail line) and only the named check is missing. kiln's
// ConsoleOutput keeps the two streams' lines whole (tests/unit/vmm_console_output_test.cpp).
TEST(ProbeOutput, ConsoleLineInsideAnOkLineHidesOnlyThatCheck) {
  const auto out = parse_probe_output(
      "PROBE ok console.driver_ok\n"
      "PROBE result console.tx bytes=25\n"
      "PROBE ok consolekiln-probe-console-hello\n"
      ".transmit\n"
      "PROBE summary passed=2 failed=0\n");
  EXPECT_TRUE(probe_run_problems(out, {0, false}).empty());
  EXPECT_EQ(out.find("ok", "console.transmit"), nullptr);
}

}  // namespace
}  // namespace kiln::test
