// Boots kiln-probe once per scenario under kiln (label "probe"; skips loudly without /dev/kvm)
// and under QEMU microvm with TCG (label "probe-qemu"; skips loudly without QEMU), and judges
// each run by its PROBE lines (probe_output.h): exit status 0, one summary that matches the
// check lines, and exactly the expected failures.
#include <gtest/gtest.h>

#include <memory>

#include "child_output_log.h"
#include "kvm_test_env.h"
#include "probe_case.h"
#include "probe_command.h"
#include "probe_output.h"

namespace kiln::test {
namespace {

using namespace std::chrono_literals;


void check_exits(const ProbeOutput& out) {
  ASSERT_NE(out.find("result", "tsc"), nullptr);
  for (const char* op : {"exits.pio_write", "exits.pio_read", "exits.mmio_write", "exits.mmio_read"}) {
    const ProbeLine* r = out.find("result", op);
    ASSERT_NE(r, nullptr) << "no result line for " << op;
    EXPECT_EQ(r->fields.at("count"), "10000");
    EXPECT_GT(field_number(*r, "cycles_per_exit").value_or(0), 0) << r->detail;
    EXPECT_TRUE(r->fields.count("ns_per_exit")) << r->detail;
  }
}

void check_serial(const ProbeOutput& out) {
  expect_ok(out, {"serial.scratch", "serial.lcr", "serial.divisor", "serial.ier", "serial.fifo", "serial.loopback_msr",
                  "serial.lsr_idle", "serial.loopback_data", "serial.overrun", "serial.overrun_nofifo"});
}

void check_pci_scan(const ProbeOutput& out) {
  const ProbeLine* r = out.find("result", "pci-scan");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->fields.at("devices"), "0");
}

void check_selftest(const ProbeOutput& out) {
  expect_ok(out, {"selftest.ring3", "selftest.iopl", "selftest.interrupts_off", "selftest.tsc", "selftest.interrupt"});
}

void check_fault(const ProbeOutput& out) {
  check_selftest(out);
  const ProbeLine* f = out.find("fail", "selftest.fault");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->fields.at("vector"), "14") << f->detail;
  EXPECT_EQ(f->fields.at("error"), "0x4") << "user-mode read of a not-present page: " << f->detail;
  EXPECT_EQ(f->fields.at("cr2"), "0x100000000") << f->detail;
  EXPECT_EQ(f->fields.at("cs"), "0x23") << "the fault must come from ring 3: " << f->detail;
}

void check_fault_gp(const ProbeOutput& out) {
  const ProbeLine* f = out.find("fail", "selftest.fault");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->fields.at("vector"), "13") << f->detail;
  EXPECT_EQ(f->fields.at("cs"), "0x23") << f->detail;
  // IDT entry 0x40 with the IDT bit: 0x40 << 3 | 2 on hardware (KVM); QEMU 7.2's TCG computes
  // vector * 16 + 2 for 64-bit gates.
  const std::string error = f->fields.at("error");
  EXPECT_TRUE(error == "0x202" || error == "0x402") << f->detail;
}

void check_fault_ud(const ProbeOutput& out) {
  const ProbeLine* f = out.find("fail", "selftest.fault");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->fields.at("vector"), "6") << f->detail;
  EXPECT_EQ(f->fields.at("error"), "0x0") << "the stub's dummy error code: " << f->detail;
  EXPECT_EQ(f->fields.at("cs"), "0x23") << f->detail;
}

void check_virtio_mmio_list(const ProbeOutput& out) {
  const auto devices = out.find_all("info", "virtio-mmio");
  ASSERT_EQ(devices.size(), 2u);
  EXPECT_EQ(devices[0]->detail, "index=0 base=0xd0000000 size=0x1000 irq=5");
  EXPECT_EQ(devices[1]->detail, "index=1 base=0xd0001000 size=0x200 irq=6 id=2");
  const ProbeLine* r = out.find("result", "discovery.virtio-mmio");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->fields.at("devices"), "2");
}

void check_ticker(const ProbeOutput& out) {
  expect_ok(out, {"ticker.monotonic"});
  const auto ticks = out.find_all("info", "tick");
  ASSERT_EQ(ticks.size(), 20u);
  EXPECT_EQ(ticks.back()->fields.at("n"), "20");
}

const ProbeCase kBaseCases[] = {
    // 40000 exits: about 12 s in an idle kvm-box, over 30 s with the machine's 2 cores loaded.
    {"exits", "probe=exits count=10000", {}, check_exits, {}, nullptr, 120s},
    {"serial", "probe=serial", {}, check_serial},
    {"pci_scan", "probe=pci-scan", {}, check_pci_scan},
    {"selftest", "probe=selftest", {}, check_selftest},
    {"selftest_fault", "probe=selftest fault=1", {"selftest.fault"}, check_fault},
    {"selftest_fault_gp", "probe=selftest irq=0 fault=gp", {"selftest.fault"}, check_fault_gp},
    {"selftest_fault_ud", "probe=selftest irq=0 fault=ud", {"selftest.fault"}, check_fault_ud},
    {"virtio_mmio_list",
     "probe=selftest irq=0 virtio_mmio.device=4K@0xd0000000:5 virtio_mmio.device=0x200@0xd0001000:6:2",
     {},
     check_virtio_mmio_list},
    {"ticker", "probe=ticker ticks=20 period_us=1000", {}, check_ticker},
    {"unknown_scenario", "probe=no-such-scenario", {"probe"}},
};

// The cases above, then the virtio ones (probe_virtio_cases.cpp).
std::vector<ProbeCase> all_cases() {
  std::vector<ProbeCase> cases(std::begin(kBaseCases), std::end(kBaseCases));
  const auto more = virtio_probe_cases();
  cases.insert(cases.end(), more.begin(), more.end());
  return cases;
}

std::string case_name(const ::testing::TestParamInfo<ProbeCase>& info) { return info.param.name; }

// The devices of a case with their disk image (removed with the object).
struct CaseDevices {
  std::unique_ptr<TempFile> disk;
  ProbeDevices devices;

  explicit CaseDevices(const DeviceSpec& spec) {
    if (spec.disk_sectors != 0) {
      disk = std::make_unique<TempFile>(std::vector<uint8_t>(size_t{spec.disk_sectors} * 512, 0));
      devices.disks.push_back(ProbeDisk{disk->path(), spec.readonly, spec.serial});
    }
    devices.rng = spec.rng;
    devices.console = spec.console;
  }
  [[nodiscard]] std::string disk_path() const { return disk ? disk->path() : ""; }
};

void run_case(const std::vector<std::string>& argv, const ProbeCase& c, std::chrono::milliseconds limit,
              const std::string& disk) {
  const ChildResult r = run_child(argv, limit);
  const ProbeOutput out = parse_probe_output(r.out);
  const auto problems = probe_run_problems(out, {r.exit_status, r.timed_out}, c.expected_failures);
  for (const auto& p : problems) ADD_FAILURE() << p;
  if (c.extra != nullptr) c.extra(out);
  if (c.after != nullptr) c.after(r.out, disk);
  // Any failure above, including the scenario's own checks, shows what was judged.
  if (::testing::Test::HasFailure()) {
    ADD_FAILURE() << "the probe's output (the last " << kOutputTailBytes << " bytes):\n--- stdout ---\n"
                  << output_tail(r.out) << "\n--- stderr ---\n" << output_tail(r.err);
  }
}

class KilnProbe : public ::testing::TestWithParam<ProbeCase> {};
class QemuProbe : public ::testing::TestWithParam<ProbeCase> {};

TEST_P(KilnProbe, Run) {
  KILN_REQUIRE_KVM();
  const CaseDevices d(GetParam().devices);
  std::vector<std::string> args{"--kernel", KILN_GUEST_PROBE, "--cmdline", GetParam().cmdline, "--memory", "128M"};
  const auto device_args = kiln_device_args(d.devices);
  args.insert(args.end(), device_args.begin(), device_args.end());
  run_case(kiln_run(args), GetParam(), scaled(GetParam().limit), d.disk_path());
}

TEST_P(QemuProbe, Run) {
  const std::string qemu = find_qemu(KILN_QEMU_SYSTEM);
  if (qemu.empty()) {
    std::fprintf(stderr, "\n*** SKIPPED: qemu-system-x86_64 not found (set KILN_QEMU); the probe-qemu tests "
                         "boot the probe under QEMU microvm with TCG ***\n\n");
    GTEST_SKIP() << "qemu-system-x86_64 not found";
  }
  const CaseDevices d(GetParam().devices);
  const bool any = !d.devices.disks.empty() || d.devices.rng || d.devices.console;
  run_case(any ? qemu_probe_argv(qemu, "tcg", KILN_GUEST_PROBE, GetParam().cmdline, d.devices)
               : qemu_probe_argv(qemu, "tcg", KILN_GUEST_PROBE, GetParam().cmdline),
           GetParam(), scaled(60s), d.disk_path());
}

// Legacy virtio-PCI: under kiln with --transport pci, and under QEMU's PC machine.
class KilnPciProbe : public ::testing::TestWithParam<ProbeCase> {};
class QemuPcProbe : public ::testing::TestWithParam<ProbeCase> {};

TEST_P(KilnPciProbe, Run) {
  KILN_REQUIRE_KVM();
  const CaseDevices d(GetParam().devices);
  std::vector<std::string> args{"--kernel", KILN_GUEST_PROBE, "--cmdline", GetParam().cmdline,
                                "--memory", "128M",           "--transport", "pci"};
  const auto device_args = kiln_device_args(d.devices);
  args.insert(args.end(), device_args.begin(), device_args.end());
  run_case(kiln_run(args), GetParam(), scaled(GetParam().limit), d.disk_path());
}

TEST_P(QemuPcProbe, Run) {
  const std::string qemu = find_qemu(KILN_QEMU_SYSTEM);
  if (qemu.empty()) GTEST_SKIP() << "qemu-system-x86_64 not found";
  const CaseDevices d(GetParam().devices);
  run_case(qemu_pc_probe_argv(qemu, "tcg", KILN_GUEST_PROBE, GetParam().cmdline, d.devices), GetParam(), scaled(60s),
           d.disk_path());
}

// Per-device transports: the disk on virtio-PCI, the rng on virtio-mmio, in one VM.
class KilnMixedTransportProbe : public ::testing::TestWithParam<ProbeCase> {};

TEST_P(KilnMixedTransportProbe, Run) {
  KILN_REQUIRE_KVM();
  const CaseDevices d(GetParam().devices);
  const std::vector<std::string> args{"--kernel", KILN_GUEST_PROBE, "--cmdline", GetParam().cmdline, "--memory", "128M",
                                      "--disk",   d.disk_path() + ",transport=pci", "--rng"};
  run_case(kiln_run(args), GetParam(), scaled(GetParam().limit), d.disk_path());
}

INSTANTIATE_TEST_SUITE_P(Kiln, KilnProbe, ::testing::ValuesIn(all_cases()), case_name);
INSTANTIATE_TEST_SUITE_P(Kiln, KilnMixedTransportProbe, ::testing::ValuesIn(kiln_mixed_transport_probe_cases()),
                         case_name);
INSTANTIATE_TEST_SUITE_P(Qemu, QemuProbe, ::testing::ValuesIn(all_cases()), case_name);
INSTANTIATE_TEST_SUITE_P(Kiln, KilnPciProbe, ::testing::ValuesIn(kiln_pci_probe_cases()), case_name);
INSTANTIATE_TEST_SUITE_P(Qemu, QemuPcProbe, ::testing::ValuesIn(pci_probe_cases()), case_name);

}  // namespace
}  // namespace kiln::test
