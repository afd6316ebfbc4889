// kiln's legacy virtio-PCI devices (--transport pci) seen from inside the kiln guest kernel: PCI
// bus 0 found through the DSDT's root bridge, the functions bound by virtio-pci, a virtio-blk disk
// read, written and read back (so INTx through the _PRT works: the block driver waits for its
// interrupts), virtio-rng. With MSI-X (the default) every queue and each configuration change has
// its own PCI-MSI vector, whose count grows with the disk's I/O; with pci=nomsi the interrupts are
// level-triggered IOAPIC lines (INTx).
#include <gtest/gtest.h>

#include <signal.h>

#include <cstdio>
#include <map>

#include "api_call.h"
#include "kvm_test_env.h"
#include "linux_guest.h"
#include "scratch_dir.h"
#include "vsock_host.h"

namespace kiln::test {
namespace {

using namespace std::chrono_literals;

constexpr size_t kDiskBytes = 4u << 20;

constexpr const char* kPciScript = R"SH(v() { echo "@$1=$2"; }
v pci.functions "$(for d in /sys/bus/pci/devices/*; do echo -n "$(cat $d/vendor):$(cat $d/device) "; done)"
v pci.drivers "$(for d in /sys/bus/pci/devices/*/driver; do basename $(readlink $d); done | sort | tr '\n' ' ')"
v virtio.ids "$(cat /sys/bus/virtio/devices/*/device | sort | tr '\n' ' ')"
v vda.size "$(cat /sys/block/vda/size)"
v vda.serial "$(cat /sys/block/vda/serial)"
v vda.head "$(od -An -v -tx1 -N16 /dev/vda | tr -d ' \n')"
irqs() { grep "$1" /proc/interrupts | awk '{ n = 0; for (i = 2; i <= NF; i++) if ($i ~ /^[0-9]+$/) n += $i; else break; s += n } END { print s + 0 }'; }
before=$(irqs 'virtio0-req')
seq 1 20000 > /tmp/p
n=$(wc -c < /tmp/p)
dd if=/tmp/p of=/dev/vda bs=4096 seek=3 conv=fsync 2>/dev/null; v vda.write $?
echo 3 > /proc/sys/vm/drop_caches
dd if=/dev/vda bs=4096 skip=3 count=$(( (n + 4095) / 4096 )) 2>/dev/null | head -c $n | cmp -s - /tmp/p
v vda.readback $?
v msix.grew "$(( $(irqs 'virtio0-req') > before + 2 ))"
v rng.current "$(cat /sys/class/misc/hw_random/rng_current)"
v rng.bytes "$(dd if=/dev/hwrng bs=64 count=4 iflag=fullblock 2>/dev/null | wc -c)"
v irq.level "$(grep -c 'IO-APIC.*fasteoi.*virtio' /proc/interrupts)"
v irq.msix "$(grep 'PCI-MSI' /proc/interrupts | grep -o 'virtio[0-9]*-[a-z.0-9]*' | sort | tr '\n' ' ')"
grep virtio /proc/interrupts
dmesg | grep -i -e pci -e virtio -e vda | head -60
exit 0
)SH";

// Boots with `extra_cmdline`, checks the devices and returns the guest's values.
std::map<std::string, std::string> check_disk_and_rng(const GuestKit& kit, const std::string& extra_cmdline) {
  TempDir dir;
  const auto bytes = random_bytes(kDiskBytes, 11);
  const std::string img = dir.file("disk.img");
  if (!write_file(img, bytes)) {
    ADD_FAILURE() << "cannot write " << img;
    return {};
  }

  GuestOptions options;
  options.kiln_args = {"--transport", "pci", "--disk", img + ",serial=kiln-pci-0", "--rng"};
  options.files = {{"pci-test.sh", kPciScript, 0755}};
  options.extra_cmdline = extra_cmdline;
  const auto run = run_in_guest(kit, "sh /pci-test.sh", options);
  expect_agent_ran(run);
  if (::testing::Test::HasFatalFailure()) return {};
  auto v = guest_values(run.output);
  SCOPED_TRACE("guest output:\n" + run.output);

  // The host bridge and the two transitional virtio functions (blk 0x1001, rng 0x1005).
  EXPECT_EQ(v["pci.functions"], "0x8086:0x0d57 0x1af4:0x1001 0x1af4:0x1005 ");
  EXPECT_EQ(v["pci.drivers"], "virtio-pci virtio-pci ");
  EXPECT_EQ(v["virtio.ids"], "0x0002 0x0004 ");
  EXPECT_EQ(v["vda.size"], std::to_string(kDiskBytes / 512));
  EXPECT_EQ(v["vda.serial"], "kiln-pci-0");
  char head[33];
  for (size_t i = 0; i < 16; ++i) std::snprintf(head + 2 * i, 3, "%02x", bytes[i]);
  EXPECT_EQ(v["vda.head"], std::string(head, 32));
  EXPECT_EQ(v["vda.write"], "0");
  EXPECT_EQ(v["vda.readback"], "0");
  const std::string seq = seq_text(1, 20000);
  EXPECT_TRUE(read_file(img).substr(3 * 4096, seq.size()) == seq) << "the guest's write did not reach the image";
  EXPECT_EQ(v["rng.current"].rfind("virtio_rng", 0), 0u) << v["rng.current"];
  EXPECT_EQ(v["rng.bytes"], "256");
  return v;
}

TEST(LinuxVirtioPci, BlockDiskAndRngOverLegacyPciWithMsix) {
  GuestKit kit;
  KILN_REQUIRE_GUEST_KIT(kit);
  auto v = check_disk_and_rng(kit, "");
  // virtio_pci_legacy + virtio_pci_common: one vector for configuration changes, one per queue.
  EXPECT_EQ(v["irq.msix"], "virtio0-config virtio0-req.0 virtio1-config virtio1-input ");
  EXPECT_EQ(v["msix.grew"], "1") << "the disk's queue vector counted the I/O";
  EXPECT_EQ(v["irq.level"], "0") << "no INTx with MSI-X";
}

TEST(LinuxVirtioPci, BlockDiskAndRngOverLegacyPciWithIntx) {
  GuestKit kit;
  KILN_REQUIRE_GUEST_KIT(kit);
  auto v = check_disk_and_rng(kit, "pci=nomsi");
  EXPECT_EQ(v["irq.msix"], "");
  EXPECT_EQ(v["irq.level"], "2") << "one level-triggered (fasteoi) IOAPIC line per function";
}

TEST(LinuxVirtioPci, AcpiOffFindsTheDiskThroughTheMpTable) {
  GuestKit kit;
  KILN_REQUIRE_GUEST_KIT(kit);
  auto v = check_disk_and_rng(kit, "acpi=off pci=nomsi");
  EXPECT_EQ(v["irq.level"], "2") << "INTA# of both functions routed by the MP table's PCI entries";
}

// virtio-vsock as a legacy PCI function (0x1012, subsystem 19): the guest reads its CID and
// sends 256 KiB to a host listener on "<uds>_6000", which echoes it back.
TEST(LinuxVirtioPci, VsockOverLegacyPci) {
  GuestKit kit;
  KILN_REQUIRE_GUEST_KIT(kit);
  ScratchDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string uds = dir.file("v.sock");
  VsockEchoListener host(uds + "_6000");
  ASSERT_TRUE(host.ok());
  GuestOptions options;
  options.kiln_args = {"--transport", "pci", "--vsock", "cid=5,uds=" + uds};
  const auto run = run_in_guest(kit,
                                "cat /sys/bus/pci/devices/*/device; cat /sys/bus/virtio/devices/*/device; "
                                "kiln-vsock cid && kiln-vsock send 2 6000 262144",
                                options);
  ASSERT_NO_FATAL_FAILURE(expect_agent_ran(run));
  SCOPED_TRACE("guest output:\n" + run.output);
  EXPECT_NE(run.output.find("0x1012"), std::string::npos);
  EXPECT_NE(run.output.find("0x0013"), std::string::npos);
  EXPECT_NE(run.output.find("kiln-vsock: cid 5"), std::string::npos);
  EXPECT_NE(run.output.find("kiln-vsock: send ok 262144"), std::string::npos);
  EXPECT_EQ(host.accepted(), 1);
}

// A snapshot taken while the disk's queue has its own MSI-X vector: the restored kiln re-creates
// the vector's route before any vCPU runs, so the guest's next disk I/O completes (the driver
// waits for that interrupt) and the same vector counts it. The guest's shell carries on in the new
// process; the bytes written before the snapshot read back after it.
TEST(LinuxVirtioPci, SnapshotWithMsixActiveRestoresAndTheDiskKeepsWorking) {
  GuestKit kit;
  KILN_REQUIRE_GUEST_KIT(kit);
  ScratchDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string img = dir.file("disk.img");
  ASSERT_TRUE(write_file(img, random_bytes(kDiskBytes, 12)));
  const std::string sock = dir.file("api.sock");
  GuestOptions options;
  options.kiln_args = {"--transport", "pci", "--disk", img, "--rng", "--api-sock", sock};
  ChildProcess vmm(kiln_guest_argv(kit, kit.initrd, "console=ttyS0 reboot=k panic=-1 kiln.shell=1", options),
                   ChildStdin::kPipe);
  ASSERT_TRUE(vmm.wait_for_output("KILN-CMD-BEGIN", scaled(600s))) << vmm.out();
  // The sum of the disk queue vector's counts over all CPUs, written as @name=N.
  const std::string irqs =
      "irqs() { echo \"@$1=$(grep virtio0-req /proc/interrupts | grep PCI-MSI | awk '{ n = 0; for (i = 2; i <= NF; "
      "i++) if ($i ~ /^[0-9]+$/) n += $i; else break; print n }')\"; }; ";
  ASSERT_TRUE(vmm.send("echo 1 > /proc/sys/kernel/printk; " + irqs +
                       "seq 1 30000 > /tmp/s; dd if=/tmp/s of=/dev/vda bs=4096 seek=5 conv=fsync 2>/dev/null; "
                       "echo @written=$?; irqs before; echo @mark=$((40+2))\n"));
  ASSERT_TRUE(vmm.wait_for_output("@mark=42", scaled(300s))) << vmm.out();
  ASSERT_EQ(api_call(sock, "PATCH", "/vm", R"({"state": "Paused"})").status, 204);
  const ApiReply created =
      api_call(sock, "PUT", "/snapshot/create",
               R"({"snapshot_type": "Full", "snapshot_path": ")" + dir.file("vm.snap") + R"(", "mem_file_path": ")" +
                   dir.file("vm.mem") + R"("})");
  ASSERT_EQ(created.status, 204) << created.body << created.error;
  vmm.send_signal(SIGKILL);
  const std::string first_life = without_cr(vmm.wait(30s).out);
  auto v = guest_values(first_life);
  EXPECT_EQ(v["written"], "0") << first_life;
  ASSERT_FALSE(v["before"].empty()) << first_life;

  ChildProcess restored({KILN_BINARY, "restore", "--snapshot", dir.file("vm.snap"), "--mem", dir.file("vm.mem")},
                        ChildStdin::kPipe);
  const std::string seq = seq_text(1, 30000);
  ASSERT_TRUE(restored.send(irqs + "echo 3 > /proc/sys/vm/drop_caches; dd if=/dev/vda bs=4096 skip=5 count=" +
                            std::to_string((seq.size() + 4095) / 4096) + " 2>/dev/null | head -c " +
                            std::to_string(seq.size()) + " | cmp -s - /tmp/s; echo @readback=$?; irqs after; "
                            "echo @msix=$(grep -c PCI-MSI /proc/interrupts); exit 0\n"));
  const ChildResult result = restored.wait(scaled(300s));
  ASSERT_FALSE(result.timed_out) << result.out;
  EXPECT_EQ(result.exit_status, 0) << result.err;
  const auto after = guest_values(without_cr(result.out));
  SCOPED_TRACE("restored guest:\n" + result.out + "\nstderr:\n" + result.err);
  EXPECT_EQ(after.count("readback") ? after.at("readback") : "", "0") << "the disk after the restore";
  ASSERT_TRUE(after.count("after"));
  EXPECT_GT(std::stol(after.at("after")), std::stol(v["before"])) << "the queue's MSI-X vector counted the reads";
  EXPECT_EQ(after.count("msix") ? after.at("msix") : "", "4") << "config + queue vectors of blk and rng";
  EXPECT_TRUE(read_file(img).substr(5 * 4096, seq.size()) == seq) << "the write before the snapshot is on the image";
}

}  // namespace
}  // namespace kiln::test
