// Debian's stock kernels under kiln (label linux-stock), unmodified, booted through PVH:
// - the generic kernel has virtio_mmio as a module and no command-line devices
//   (CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES is off), so it can only find kiln's virtio-mmio devices through
//   ACPI: the LNRO0005 devices of kiln's DSDT. One boot with two disks, the rng and a virtio console;
//   kernel and initramfs from `guest/build-stock` (KILN_STOCK_KERNEL, KILN_STOCK_INITRD).
// - the cloud kernel has no MP-table support (CONFIG_X86_MPPARSE is off), so it can only find its
//   vCPUs in ACPI's MADT. One boot with 4 vCPUs; from `guest/build-stock cloud` (KILN_CLOUD_KERNEL,
//   KILN_CLOUD_INITRD).
// scripts/dev test sets the four variables.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "kvm_test_env.h"
#include "linux_guest.h"

namespace kiln::test {
namespace {

constexpr size_t kSector = 512;
constexpr size_t kDiskSectors = (33u << 20) / kSector + 7;  // 67591: an odd size to find again in the guest
constexpr size_t kReadOnlySectors = 2049;
constexpr size_t kTailBytes = 8192;  // the guest writes the disk's last 16 sectors with O_DIRECT
constexpr const char* kDevices[] = {"LNRO0005:00", "LNRO0005:01", "LNRO0005:02", "LNRO0005:03"};

// The modules load in the order build-stock wrote (dependencies first). The driver core's probe
// messages (dynamic debug of drivers/base/dd.c) name the platform device each driver binds to.
constexpr const char* kStockScript = R"SH(v() { echo "@$1=$2"; }
echo 'file drivers/base/dd.c +p' > /proc/dynamic_debug/control; v dyndbg $?
for m in $(cat /lib/modules/stock/order); do insmod /lib/modules/stock/$m.ko || v insmod.$m failed; done
v modules "$(cut -d' ' -f1 /proc/modules | sort | tr '\n' ' ')"
v release "$(uname -r)"
v cmdline.devices "$(tr ' ' '\n' < /proc/cmdline | grep -c '^virtio_mmio.device=')"
v cmdline.0 "$(tr ' ' '\n' < /proc/cmdline | grep -m1 '^virtio_mmio.device=' | cut -d= -f2)"
[ -e /sys/module/virtio_mmio/parameters/device ]; v mmio.param $?
v platform.cmdline "$(ls /sys/bus/platform/devices | grep -c '^virtio-mmio')"
v mmio.bound "$(ls /sys/bus/platform/drivers/virtio-mmio | grep : | tr '\n' ' ')"
for d in /sys/bus/virtio/devices/*; do
  p=$(readlink -f $d/..); r=$(readlink $d/driver)
  v ${d##*/} "$(cat $d/device) ${p##*/} $(cat $p/firmware_node/path) ${r##*/}"
done
v mmio.errors "$(dmesg | grep -c -i -e "can't request region" -e 'virtio-mmio.*error')"
v iomem.0 "$(grep -m1 ' : LNRO0005:00$' /proc/iomem | sed 's/^ *//; s/ .*//')"
v irq.virtio0 "$(awk '$NF == "virtio0" { s = 0; for (i = 2; i <= NF; i++) { if ($i ~ /^[0-9]+$/) s += $i; if (sub(/-(edge|level)$/, "", $i)) g = $i }; print g, s }' /proc/interrupts)"
for b in vda vdb; do v $b "$(cat /sys/block/$b/size) $(cat /sys/block/$b/serial) $(blockdev --getro /dev/$b)"; done
v vda.head "$(od -An -v -tx1 -N16 /dev/vda | tr -d ' \n')"
n=$(cat /sys/block/vda/size)
seq 1 2000 | head -c 8192 > /tmp/p
dd if=/tmp/p of=/dev/vda bs=512 seek=$((n - 16)) oflag=direct 2>/dev/null; w=$?
dd if=/dev/vda bs=512 skip=$((n - 16)) iflag=direct 2>/dev/null | cmp -s - /tmp/p; r=$?
dd if=/tmp/p of=/dev/vda bs=512 seek=$n count=1 oflag=direct 2>/dev/null; v vda.tail "$w $r $?"
dd if=/dev/zero of=/dev/vdb bs=512 count=1 oflag=direct 2>/dev/null; v vdb.write $?
v rng "$(cat /sys/class/misc/hw_random/rng_current) $(dd if=/dev/hwrng bs=32 count=2 iflag=fullblock 2>/dev/null | wc -c)"
i=0; while [ ! -c /dev/hvc0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
# hvc0 and ttyS0 reach kiln's stdout on different threads: let ttyS0's lines drain first, so that
# the two do not interleave inside a line.
sleep 2; echo "stock-hvc0-says-$((6 * 7))" > /dev/hvc0; r=$?; sleep 1; v hvc0.write $r
dmesg | grep -e 'bound device LNRO0005' -e 'virtio_blk virtio[0-9]: \[vd'
exit 0
)SH";

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(LinuxStock, AcpiFindsTheVirtioMmioDevicesAndTheDisksHaveTheirSizes) {
  KILN_REQUIRE_KVM();
  GuestKit kit;
  ASSERT_TRUE(stock_kit("KILN_STOCK_KERNEL", "KILN_STOCK_INITRD", "generic", kit));

  TempDir dir;
  const auto disk = random_bytes(kDiskSectors * kSector, 11);
  const auto readonly = random_bytes(kReadOnlySectors * kSector, 12);
  const std::string disk_img = dir.file("disk.img");
  const std::string ro_img = dir.file("readonly.img");
  ASSERT_TRUE(write_file(disk_img, disk));
  ASSERT_TRUE(write_file(ro_img, readonly));

  GuestOptions options;
  options.cpus = 2;
  options.extra_cmdline = "quiet";  // every console byte is a VM exit: the test prints what it needs
  options.kiln_args = {"--disk", disk_img + ",serial=stock-1", "--disk", ro_img + ",readonly,serial=stock-ro-2",
                       "--rng", "--console", "virtio"};
  options.files = {{"stock-test.sh", kStockScript, 0755}};
  const auto run = run_in_guest(kit, "sh /stock-test.sh", options);
  ASSERT_NO_FATAL_FAILURE(expect_agent_ran(run));
  auto v = guest_values(run.output);
  SCOPED_TRACE("guest output:\n" + run.output);

  // The stock kernel, its modules loaded from the initramfs.
  EXPECT_TRUE(v["release"].ends_with("-amd64")) << v["release"];
  // build-stock also packs virtio_pci and virtio_net (with failover/net_failover) for the network tests
  // and the vsock modules for linux_stock_vsock_test.cpp.
  EXPECT_EQ(v["modules"],
            "failover net_failover virtio virtio_blk virtio_console virtio_mmio virtio_net virtio_pci "
            "virtio_pci_legacy_dev virtio_pci_modern_dev virtio_ring virtio_rng vmw_vsock_virtio_transport "
            "vmw_vsock_virtio_transport_common vsock ");
  EXPECT_EQ(v["dyndbg"], "0");

  // Not the command line: kiln appended 4 virtio_mmio.device= entries, but this virtio_mmio has no
  // such parameter and there are no command-line platform devices (virtio-mmio.N).
  EXPECT_EQ(v["cmdline.devices"], "4");
  EXPECT_EQ(v["mmio.param"], "1");
  EXPECT_EQ(v["platform.cmdline"], "0");
  // ACPI: the driver is bound to the four LNRO0005 devices of the DSDT (\_SB.V000 ...), and each
  // virtio device hangs below one of them: blk, blk, rng, console in kiln's order.
  EXPECT_EQ(v["mmio.bound"], "LNRO0005:00 LNRO0005:01 LNRO0005:02 LNRO0005:03 ");
  EXPECT_EQ(v["virtio0"], "0x0002 LNRO0005:00 \\_SB_.V000 virtio_blk");
  EXPECT_EQ(v["virtio1"], "0x0002 LNRO0005:01 \\_SB_.V001 virtio_blk");
  EXPECT_EQ(v["virtio2"], "0x0004 LNRO0005:02 \\_SB_.V002 virtio_rng");
  EXPECT_EQ(v["virtio3"], "0x0003 LNRO0005:03 \\_SB_.V003 virtio_console");
  // The window and interrupt from the DSDT's _CRS are those the command line names too.
  const std::string& entry = v["cmdline.0"];  // 4K@0x<base>:<gsi>
  const auto at = entry.find('@');
  const auto colon = entry.find(':');
  ASSERT_TRUE(at != std::string::npos && colon != std::string::npos && colon > at) << entry;
  const unsigned long long base = std::strtoull(entry.c_str() + at + 1, nullptr, 0);
  char window[40];
  std::snprintf(window, sizeof(window), "%08llx-%08llx", base, base + 0xfff);
  EXPECT_EQ(v["iomem.0"], window);
  const std::string irq = v["irq.virtio0"];  // "<IOAPIC pin> <interrupts>"
  EXPECT_EQ(irq.substr(0, irq.find(' ')), entry.substr(colon + 1)) << irq;
  EXPECT_GT(std::atol(irq.c_str() + irq.find(' ') + 1), 0) << "virtio0 raised no interrupt: " << irq;
  EXPECT_EQ(v["mmio.errors"], "0");
  // The kernel log: the driver core bound each ACPI device to virtio-mmio; vda has its size.
  for (const char* dev : kDevices) {
    EXPECT_TRUE(contains(run.output, std::string("bound device ") + dev + " to driver virtio-mmio")) << dev;
  }
  EXPECT_TRUE(contains(run.output, "virtio_blk virtio0: [vda] " + std::to_string(kDiskSectors) +
                                       " 512-byte logical blocks"));

  // The disks: exact sizes, serials, read-only flags, the host's bytes; the last 16 sectors of vda are
  // written and read back with O_DIRECT and the sector after them does not exist.
  EXPECT_EQ(v["vda"], std::to_string(kDiskSectors) + " stock-1 0");
  EXPECT_EQ(v["vdb"], std::to_string(kReadOnlySectors) + " stock-ro-2 1");
  EXPECT_EQ(v["vda.head"], hex(disk, 16));
  EXPECT_EQ(v["vda.tail"].substr(0, 4), "0 0 ") << "write, read back, write past the end: " << v["vda.tail"];
  EXPECT_NE(v["vda.tail"], "0 0 0") << "a write past the end of vda succeeded";
  EXPECT_NE(v["vdb.write"], "0");
  std::string expected(disk.begin(), disk.end());
  expected.replace(expected.size() - kTailBytes, kTailBytes, seq_text(1, 2000).substr(0, kTailBytes));
  const std::string after = read_file(disk_img);
  EXPECT_EQ(after.size(), expected.size());
  EXPECT_TRUE(after == expected) << "the disk image differs from the original plus the guest's last 16 sectors";
  EXPECT_TRUE(read_file(ro_img) == std::string(readonly.begin(), readonly.end())) << "read-only image changed";

  // The rng and the console through the stock drivers (hvc0's text comes out on kiln's stdout).
  EXPECT_EQ(v["rng"].rfind("virtio_rng.", 0), 0u) << v["rng"];
  EXPECT_TRUE(v["rng"].ends_with(" 64")) << v["rng"];
  EXPECT_EQ(v["hvc0.write"], "0");
  EXPECT_TRUE(contains(run.vmm.out, "stock-hvc0-says-42")) << run.vmm.out;
}

// The cloud kernel's view of its CPUs and clock; its own boot log (dmesg, complete although the
// console is quiet) says how it found them.
constexpr const char* kCloudScript = R"SH(v() { echo "@$1=$2"; }
v release "$(uname -r)"
v nproc "$(nproc)"
v online "$(cat /sys/devices/system/cpu/online)"
v apicids "$(grep '^apicid' /proc/cpuinfo | tr -d ' \t' | cut -d: -f2 | tr '\n' ' ')"
v clocksource "$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
[ -e /sys/firmware/acpi/tables/APIC ]; v madt $?
v mptable "$(dmesg | grep -c -i 'MP-table')"
dmesg | grep -e 'Hypervisor detected' -e 'SMP configuration' -e 'smp: ' -e 'smpboot: ' -e 'Switched to clocksource'
exit 0
)SH";

constexpr int kCloudCpus = 4;

TEST(LinuxStock, CloudKernelFindsFourVcpusThroughAcpiAndUsesKvmClock) {
  KILN_REQUIRE_KVM();
  GuestKit kit;
  ASSERT_TRUE(stock_kit("KILN_CLOUD_KERNEL", "KILN_CLOUD_INITRD", "cloud", kit));
  // The premise, from the kernel's own config (build-stock keeps it next to the vmlinux): no MP tables.
  const std::string kernel_dir = kit.kernel.substr(0, kit.kernel.rfind('/') + 1);
  const std::string config = read_file(kernel_dir + "config");
  ASSERT_TRUE(contains(config, "\nCONFIG_ACPI=y\n")) << kernel_dir << "config";
  ASSERT_TRUE(contains(config, "\n# CONFIG_X86_MPPARSE is not set\n")) << kernel_dir << "config";

  GuestOptions options;
  options.cpus = kCloudCpus;
  options.extra_cmdline = "quiet";
  options.files = {{"cloud-test.sh", kCloudScript, 0755}};
  const auto run = run_in_guest(kit, "sh /cloud-test.sh", options);
  ASSERT_NO_FATAL_FAILURE(expect_agent_ran(run));
  auto v = guest_values(run.output);
  SCOPED_TRACE("guest output:\n" + run.output);

  EXPECT_TRUE(v["release"].ends_with("-cloud-amd64")) << v["release"];
  // Every vCPU found in the MADT and brought up; none came from kiln's MP table, which this kernel
  // cannot read (it never even looks: no "MP-table" line).
  EXPECT_TRUE(contains(run.output, "Using ACPI (MADT) for SMP configuration information"));
  EXPECT_EQ(v["madt"], "0");
  EXPECT_EQ(v["mptable"], "0");
  EXPECT_TRUE(contains(run.output, "smpboot: Allowing 4 CPUs, 0 hotplug CPUs"));
  EXPECT_TRUE(contains(run.output, "smp: Brought up 1 node, 4 CPUs"));
  EXPECT_TRUE(contains(run.output, "smpboot: Total of 4 processors activated"));
  EXPECT_EQ(v["nproc"], "4");
  EXPECT_EQ(v["online"], "0-3");
  EXPECT_EQ(v["apicids"], "0 1 2 3 ");
  // KVM's CPUID leaves and kvm-clock.
  EXPECT_TRUE(contains(run.output, "Hypervisor detected: KVM"));
  EXPECT_TRUE(contains(run.output, "clocksource: Switched to clocksource kvm-clock"));
  EXPECT_EQ(v["clocksource"], "kvm-clock");
}

}  // namespace
}  // namespace kiln::test
