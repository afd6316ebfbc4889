// The virtio cases of the probe harness: mmio-regs, blk (functional, read-only, bench), rng,
// console and hostile on virtio-mmio for kiln and QEMU microvm, and virtio-pci and pci-regs for
// kiln (--transport pci) and QEMU -M pc (virtio-pci, pci-regs, pci-msix).
#include <gtest/gtest.h>

#include <fstream>

#include "probe_case.h"

namespace kiln::test {

void expect_ok(const ProbeOutput& out, const std::vector<std::string>& checks) {
  for (const auto& c : checks) EXPECT_NE(out.find("ok", c), nullptr) << "no 'PROBE ok " << c << "'";
}

namespace {

void check_mmio_regs(const ProbeOutput& out) {
  for (const char* c : {"mmio-regs.interrupt_idle", "mmio-regs.magic", "mmio-regs.version", "mmio-regs.device_id",
                        "mmio-regs.vendor_id", "mmio-regs.host_features", "mmio-regs.status",
                        "mmio-regs.guest_features", "mmio-regs.guest_page_size", "mmio-regs.queue_missing",
                        "mmio-regs.queue_num_max", "mmio-regs.queue_pfn", "mmio-regs.config", "mmio-regs.read_only",
                        "mmio-regs.reset"}) {
    EXPECT_EQ(out.find_all("ok", c).size(), 3u) << c << ": one per device (blk, rng, console)";
  }
  const auto devices = out.find_all("result", "mmio-regs.device");
  ASSERT_EQ(devices.size(), 3u);
  EXPECT_EQ(devices[0]->fields.at("id"), "2");
  EXPECT_EQ(devices[1]->fields.at("id"), "4");
  EXPECT_EQ(devices[2]->fields.at("id"), "3");
}

void check_bring_up(const ProbeOutput& out, const std::string& scenario) {
  expect_ok(out, {scenario + ".found", scenario + ".negotiate", scenario + ".queue", scenario + ".driver_ok",
                  scenario + ".reset"});
}

void check_blk(const ProbeOutput& out) {
  check_bring_up(out, "blk");
  expect_ok(out, {"blk.capacity", "blk.ro_feature", "blk.write", "blk.write_single", "blk.read", "blk.used_len",
                  "blk.read_indirect", "blk.get_id", "blk.unsupported", "blk.beyond_capacity"});
  const ProbeLine* cap = out.find("result", "blk.capacity");
  ASSERT_NE(cap, nullptr);
  EXPECT_EQ(cap->fields.at("sectors"), std::to_string(kDiskSectors));
  const ProbeLine* serial = out.find("result", "blk.serial");
  ASSERT_NE(serial, nullptr);
  EXPECT_EQ(serial->fields.at("id"), "kiln-probe-disk");
}

void check_blk_plain(const ProbeOutput& out) {
  check_bring_up(out, "blk");
  expect_ok(out, {"blk.write", "blk.write_single", "blk.read", "blk.used_len"});
  EXPECT_EQ(out.find("ok", "blk.read_indirect"), nullptr) << "blk.indirect=0 must not use indirect tables";
  const ProbeLine* f = out.find("result", "blk.features");
  ASSERT_NE(f, nullptr);
  const uint64_t accepted = std::stoull(f->fields.at("accepted"), nullptr, 16);
  EXPECT_EQ(accepted & ((1ull << 28) | (1ull << 29)), 0u) << f->detail;
}

void check_blk_readonly(const ProbeOutput& out) {
  check_bring_up(out, "blk");
  expect_ok(out, {"blk.ro_feature", "blk.write_rejected", "blk.unsupported", "blk.beyond_capacity"});
}

void check_blk_bench(const ProbeOutput& out) {
  const ProbeLine* r = out.find("result", "blk.bench");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->fields.at("mode"), "randread");
  EXPECT_EQ(r->fields.at("qd"), "8");
  EXPECT_GT(field_number(*r, "iops").value_or(0), 0) << r->detail;
  EXPECT_GT(field_number(*r, "mbps").value_or(0), 0) << r->detail;
  expect_ok(out, {"blk.bench"});
}

// blk.bench over legacy virtio-PCI: found on bus 0, the same figures.
void check_blk_bench_pci(const ProbeOutput& out) {
  expect_ok(out, {"blk.found", "blk.driver_ok", "blk.reset"});
  check_blk_bench(out);
}

void check_rng(const ProbeOutput& out) {
  check_bring_up(out, "rng");
  expect_ok(out, {"rng.used_len", "rng.nonzero", "rng.differ"});
}

void check_console(const ProbeOutput& out) {
  check_bring_up(out, "console");
  expect_ok(out, {"console.transmit"});
}

void check_hostile(const ProbeOutput& out, const std::vector<std::string>& cases) {
  expect_ok(out, {"hostile.found"});
  for (const auto& c : cases) {
    EXPECT_NE(out.find("ok", "hostile." + c), nullptr) << c;
    EXPECT_NE(out.find("result", "hostile." + c), nullptr) << c;
  }
}

void check_hostile_blk(const ProbeOutput& out) {
  check_hostile(out, {"loop", "bad_next", "bad_head", "out_of_ram", "huge_len", "zero_len", "nested_indirect",
                      "indirect_len", "runaway_avail"});
}

void check_hostile_rng(const ProbeOutput& out) {
  check_hostile(out, {"loop", "bad_next", "bad_head", "out_of_ram", "zero_len", "nested_indirect", "indirect_len",
                      "runaway_avail"});
}

// The pattern the probe wrote reached the image: sectors 0..8 are no longer all zero.
void disk_written(const std::string&, const std::string& disk) {
  std::ifstream f(disk, std::ios::binary);
  std::vector<char> head(9 * 512);
  ASSERT_TRUE(f.read(head.data(), static_cast<std::streamsize>(head.size()))) << disk;
  size_t nonzero = 0;
  for (char c : head) nonzero += c != 0 ? 1 : 0;
  EXPECT_GT(nonzero, head.size() / 2) << "the probe's writes did not reach " << disk;
}

// The console's line shows up on the VMM's stdout as a line of its own.
void console_line(const std::string& out, const std::string&) {
  EXPECT_NE(out.find("kiln-probe-console-hello\n"), std::string::npos) << "no console line on stdout";
}

const DeviceSpec kAllDevices{kDiskSectors, false, "kiln-probe-disk", true, true};
const DeviceSpec kDisk{kDiskSectors, false, "kiln-probe-disk", false, false};
const DeviceSpec kReadonlyDisk{kDiskSectors, true, "", false, false};
const DeviceSpec kRng{0, false, "", true, false};
const DeviceSpec kConsole{0, false, "", false, true};

void check_virtio_pci(const ProbeOutput& out) {
  EXPECT_EQ(out.find_all("ok", "virtio-pci.request").size(), 2u) << "blk and rng";
  EXPECT_EQ(out.find_all("ok", "virtio-pci.reset").size(), 2u);
  expect_ok(out, {"virtio-pci.count"});
}

const DeviceSpec kDiskAndRng{kDiskSectors, false, "", true, false};

void check_pci_regs(const ProbeOutput& out) {
  for (const char* c : {"pci-regs.ids", "pci-regs.subsystem", "pci-regs.bar0", "pci-regs.interrupt_pin",
                        "pci-regs.isr_idle", "pci-regs.host_features", "pci-regs.status", "pci-regs.guest_features",
                        "pci-regs.queue_missing", "pci-regs.queue_size", "pci-regs.queue_pfn", "pci-regs.config",
                        "pci-regs.read_only", "pci-regs.isr_clear", "pci-regs.reset"}) {
    EXPECT_EQ(out.find_all("ok", c).size(), 2u) << c << ": one per function (blk, rng)";
  }
  expect_ok(out, {"pci-regs.count"});
  const auto devices = out.find_all("result", "pci-regs.device");
  ASSERT_EQ(devices.size(), 2u);
  EXPECT_EQ(devices[0]->fields.at("id"), "2") << devices[0]->detail;
  EXPECT_EQ(devices[0]->fields.at("pci_id"), "0x1001") << devices[0]->detail;
  EXPECT_EQ(devices[1]->fields.at("id"), "4") << devices[1]->detail;
  EXPECT_EQ(devices[1]->fields.at("pci_id"), "0x1005") << devices[1]->detail;
}

void check_pci_msix(const ProbeOutput& out) {
  for (const char* c : {"pci-msix.capability", "pci-msix.vectors", "pci-msix.interrupt", "pci-msix.mask",
                        "pci-msix.intx"}) {
    EXPECT_EQ(out.find_all("ok", c).size(), 2u) << c << ": one per function (blk, rng)";
  }
  expect_ok(out, {"pci-msix.count"});
}

void check_kiln_pci_scan(const ProbeOutput& out) {
  const auto fns = out.find_all("info", "pci");
  ASSERT_EQ(fns.size(), 3u);
  EXPECT_EQ(fns[0]->fields.at("vendor"), "0x8086") << fns[0]->detail;
  EXPECT_EQ(fns[0]->fields.at("class"), "0x60000") << "host bridge: " << fns[0]->detail;
  EXPECT_EQ(fns[1]->fields.at("device_id"), "0x1001") << "virtio-blk: " << fns[1]->detail;
  EXPECT_EQ(fns[2]->fields.at("device_id"), "0x1005") << "virtio-rng: " << fns[2]->detail;
  EXPECT_EQ(fns[2]->fields.at("device"), "2") << fns[2]->detail;
}

// Mixed transports (the disk on PCI, the rng on virtio-mmio): the rng alone on the command line,
// in the first window with the second device's GSI.
void check_rng_alone_on_mmio(const ProbeOutput& out) {
  const auto devices = out.find_all("info", "virtio-mmio");
  ASSERT_EQ(devices.size(), 1u) << "the rng only";
  EXPECT_EQ(devices[0]->detail, "index=0 base=0xd0000000 size=0x1000 irq=6");
}

void check_mixed_pci_scan(const ProbeOutput& out) {
  check_rng_alone_on_mmio(out);
  const auto fns = out.find_all("info", "pci");
  ASSERT_EQ(fns.size(), 2u) << "the host bridge and the disk";
  EXPECT_EQ(fns[0]->fields.at("class"), "0x60000") << "host bridge: " << fns[0]->detail;
  EXPECT_EQ(fns[1]->fields.at("device_id"), "0x1001") << "virtio-blk: " << fns[1]->detail;
}

void check_mixed_rng(const ProbeOutput& out) {
  check_rng_alone_on_mmio(out);
  check_rng(out);
}

void check_mixed_virtio_pci(const ProbeOutput& out) {
  check_rng_alone_on_mmio(out);
  EXPECT_EQ(out.find_all("ok", "virtio-pci.request").size(), 1u) << "blk only";
  expect_ok(out, {"virtio-pci.count", "virtio-pci.reset"});
  const ProbeLine* fn = out.find("info", "virtio-pci");
  ASSERT_NE(fn, nullptr);
  EXPECT_EQ(fn->fields.at("id"), "2") << fn->detail;
}

}  // namespace

std::vector<ProbeCase> virtio_probe_cases() {
  return {
    {"mmio_regs", "probe=mmio-regs", {}, check_mmio_regs, kAllDevices},
    {"blk", "probe=blk blk.expect_sectors=8192 blk.expect_serial=kiln-probe-disk", {}, check_blk, kDisk, disk_written},
    {"blk_plain", "probe=blk blk.indirect=0 blk.event_idx=0", {}, check_blk_plain, kDisk, disk_written},
    {"blk_readonly", "probe=blk blk.readonly=1", {}, check_blk_readonly, kReadonlyDisk},
    {"blk_bench", "probe=blk blk.bench=randread qd=8 count=2000", {}, check_blk_bench, kDisk},
    {"rng", "probe=rng", {}, check_rng, kRng},
    {"console", "probe=console", {}, check_console, kConsole, console_line},
    {"hostile_blk", "probe=hostile hostile.device=blk", {}, check_hostile_blk, kDisk},
    // Not huge_len on rng: QEMU 7.2's virtio-rng draws 4 GiB of entropy for that buffer (~90 s)
    // before it refuses the descriptor.
    {"hostile_rng",
     "probe=hostile hostile.device=rng "
     "hostile.cases=loop,bad_next,bad_head,out_of_ram,zero_len,nested_indirect,indirect_len,runaway_avail",
     {},
     check_hostile_rng,
     kRng},
  };
}

std::vector<ProbeCase> pci_probe_cases() {
  return {{"virtio_pci", "probe=virtio-pci virtio-pci.expect=2", {}, check_virtio_pci, kDiskAndRng},
          {"pci_regs", "probe=pci-regs pci-regs.expect=2", {}, check_pci_regs, kDiskAndRng},
          {"pci_msix", "probe=pci-msix pci-msix.expect=2", {}, check_pci_msix, kDiskAndRng},
          {"blk_bench_pci", "probe=blk blk.bench=randread qd=8 count=2000 blk.transport=pci", {},
           check_blk_bench_pci, kDisk}};
}

std::vector<ProbeCase> kiln_mixed_transport_probe_cases() {
  return {{"pci_scan", "probe=pci-scan expect=2", {}, check_mixed_pci_scan, kDiskAndRng},
          {"rng", "probe=rng", {}, check_mixed_rng, kDiskAndRng},
          {"virtio_pci", "probe=virtio-pci virtio-pci.expect=1", {}, check_mixed_virtio_pci, kDiskAndRng}};
}

std::vector<ProbeCase> kiln_pci_probe_cases() {
  auto cases = pci_probe_cases();
  // kiln's bus 0: the host bridge, then the disk and the rng in configuration order.
  cases.push_back({"pci_scan", "probe=pci-scan expect=3", {}, check_kiln_pci_scan, kDiskAndRng});
  return cases;
}

}  // namespace kiln::test
