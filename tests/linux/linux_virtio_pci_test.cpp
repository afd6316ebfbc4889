// kiln's legacy virtio-PCI devices (--transport pci) seen from inside the kiln guest kernel: PCI
// bus 0 found through the DSDT's root bridge, the functions bound by virtio-pci, a virtio-blk disk
// read, written and read back (so INTx through the _PRT works: the block driver waits for its
// interrupts), virtio-rng; the interrupts are level-triggered IOAPIC lines.
#include <gtest/gtest.h>

#include <cstdio>

#include "kvm_test_env.h"
#include "linux_guest.h"

namespace kiln::test {
namespace {

constexpr size_t kDiskBytes = 4u << 20;

constexpr const char* kPciScript = R"SH(v() { echo "@$1=$2"; }
v pci.functions "$(for d in /sys/bus/pci/devices/*; do echo -n "$(cat $d/vendor):$(cat $d/device) "; done)"
v pci.drivers "$(for d in /sys/bus/pci/devices/*/driver; do basename $(readlink $d); done | sort | tr '\n' ' ')"
v virtio.ids "$(cat /sys/bus/virtio/devices/*/device | sort | tr '\n' ' ')"
v vda.size "$(cat /sys/block/vda/size)"
v vda.serial "$(cat /sys/block/vda/serial)"
v vda.head "$(od -An -v -tx1 -N16 /dev/vda | tr -d ' \n')"
seq 1 20000 > /tmp/p
n=$(wc -c < /tmp/p)
dd if=/tmp/p of=/dev/vda bs=4096 seek=3 conv=fsync 2>/dev/null; v vda.write $?
echo 3 > /proc/sys/vm/drop_caches
dd if=/dev/vda bs=4096 skip=3 count=$(( (n + 4095) / 4096 )) 2>/dev/null | head -c $n | cmp -s - /tmp/p
v vda.readback $?
v rng.current "$(cat /sys/class/misc/hw_random/rng_current)"
v rng.bytes "$(dd if=/dev/hwrng bs=64 count=4 iflag=fullblock 2>/dev/null | wc -c)"
v irq.level "$(grep -c 'IO-APIC.*fasteoi.*virtio' /proc/interrupts)"
grep virtio /proc/interrupts
dmesg | grep -i -e pci -e virtio -e vda | head -60
exit 0
)SH";

TEST(LinuxVirtioPci, BlockDiskAndRngOverLegacyPci) {
  GuestKit kit;
  KILN_REQUIRE_GUEST_KIT(kit);
  TempDir dir;
  const auto bytes = random_bytes(kDiskBytes, 11);
  const std::string img = dir.file("disk.img");
  ASSERT_TRUE(write_file(img, bytes));

  GuestOptions options;
  options.kiln_args = {"--transport", "pci", "--disk", img + ",serial=kiln-pci-0", "--rng"};
  options.files = {{"pci-test.sh", kPciScript, 0755}};
  const auto run = run_in_guest(kit, "sh /pci-test.sh", options);
  ASSERT_NO_FATAL_FAILURE(expect_agent_ran(run));
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
  EXPECT_EQ(v["irq.level"], "2") << "one level-triggered (fasteoi) IOAPIC line per function";
}

}  // namespace
}  // namespace kiln::test
