// Debian's stock generic kernel on kiln's legacy virtio-PCI transport (label linux-stock): its
// virtio_pci module binds both functions in legacy mode and, with MSI-X there, gives each queue and
// each device's configuration changes a PCI-MSI vector of its own; the disk's queue vector counts
// the disk's I/O, which reads back the host's bytes. With pci=nomsi the same devices work on
// their level-triggered IOAPIC lines (INTx), also with acpi=off (the MP table's PCI entries).
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <string>

#include "kvm_test_env.h"
#include "linux_guest.h"

namespace kiln::test {
namespace {

constexpr size_t kDiskBytes = 4u << 20;

constexpr const char* kStockPciScript = R"SH(v() { echo "@$1=$2"; }
for m in $(cat /lib/modules/stock/order); do insmod /lib/modules/stock/$m.ko || v insmod.$m failed; done
v pci.drivers "$(for d in /sys/bus/pci/devices/*/driver; do basename $(readlink $d); done | sort | tr '\n' ' ')"
v virtio.ids "$(cat /sys/bus/virtio/devices/*/device | sort | tr '\n' ' ')"
irqs() { grep "$1" /proc/interrupts | awk '{ n = 0; for (i = 2; i <= NF; i++) if ($i ~ /^[0-9]+$/) n += $i; else break; s += n } END { print s + 0 }'; }
before=$(irqs 'virtio0-req')
v vda.head "$(dd if=/dev/vda bs=4096 count=1 iflag=direct 2>/dev/null | od -An -v -tx1 -N16 | tr -d ' \n')"
seq 1 20000 > /tmp/p
n=$(wc -c < /tmp/p)
dd if=/tmp/p of=/dev/vda bs=4096 seek=3 oflag=direct conv=fsync 2>/dev/null; v vda.write $?
dd if=/dev/vda bs=4096 skip=3 count=$(( (n + 4095) / 4096 )) iflag=direct 2>/dev/null | head -c $n | cmp -s - /tmp/p
v vda.readback $?
v msix.grew "$(( $(irqs 'virtio0-req') > before + 2 ))"
v rng.bytes "$(dd if=/dev/hwrng bs=64 count=2 iflag=fullblock 2>/dev/null | wc -c)"
v irq.msix "$(grep 'PCI-MSI' /proc/interrupts | grep -o 'virtio[0-9]*-[a-z.0-9]*' | sort | tr '\n' ' ')"
v irq.level "$(grep -c 'IO-APIC.*fasteoi.*virtio' /proc/interrupts)"
grep virtio /proc/interrupts
exit 0
)SH";

std::map<std::string, std::string> run_stock_pci(const GuestKit& kit, const std::string& extra_cmdline) {
  TempDir dir;
  const auto bytes = random_bytes(kDiskBytes, 21);
  const std::string img = dir.file("disk.img");
  if (!write_file(img, bytes)) {
    ADD_FAILURE() << "cannot write " << img;
    return {};
  }
  GuestOptions options;
  options.extra_cmdline = "quiet " + extra_cmdline;  // every console byte is a VM exit
  options.kiln_args = {"--transport", "pci", "--disk", img + ",serial=stock-pci", "--rng"};
  options.files = {{"stock-pci.sh", kStockPciScript, 0755}};
  const auto run = run_in_guest(kit, "sh /stock-pci.sh", options);
  expect_agent_ran(run);
  if (::testing::Test::HasFatalFailure()) return {};
  auto v = guest_values(run.output);
  SCOPED_TRACE("guest output:\n" + run.output);
  EXPECT_EQ(v["pci.drivers"], "virtio-pci virtio-pci ");
  EXPECT_EQ(v["virtio.ids"], "0x0002 0x0004 ");
  char head[33];
  for (size_t i = 0; i < 16; ++i) std::snprintf(head + 2 * i, 3, "%02x", bytes[i]);
  EXPECT_EQ(v["vda.head"], std::string(head, 32));
  EXPECT_EQ(v["vda.write"], "0");
  EXPECT_EQ(v["vda.readback"], "0");
  const std::string seq = seq_text(1, 20000);
  EXPECT_TRUE(read_file(img).substr(3 * 4096, seq.size()) == seq) << "the guest's write did not reach the image";
  EXPECT_EQ(v["rng.bytes"], "128");
  if (::testing::Test::HasFailure()) std::fprintf(stderr, "guest output:\n%s\n", run.output.c_str());
  return v;
}

TEST(LinuxStock, PciMsixVectorPerQueueOverLegacyVirtioPci) {
  KILN_REQUIRE_KVM();
  GuestKit kit;
  ASSERT_TRUE(stock_kit("KILN_STOCK_KERNEL", "KILN_STOCK_INITRD", "generic", kit));
  auto v = run_stock_pci(kit, "");
  EXPECT_EQ(v["irq.msix"], "virtio0-config virtio0-req.0 virtio1-config virtio1-input ");
  EXPECT_EQ(v["msix.grew"], "1") << "the disk's queue vector counted its I/O";
  EXPECT_EQ(v["irq.level"], "0") << "no INTx with MSI-X";
}

TEST(LinuxStock, PciNoMsiFallsBackToIntx) {
  KILN_REQUIRE_KVM();
  GuestKit kit;
  ASSERT_TRUE(stock_kit("KILN_STOCK_KERNEL", "KILN_STOCK_INITRD", "generic", kit));
  auto v = run_stock_pci(kit, "pci=nomsi");
  EXPECT_EQ(v["irq.msix"], "");
  EXPECT_EQ(v["irq.level"], "2") << "one level-triggered IOAPIC line per function";
}

// No ACPI: the kernel finds bus 0 through configuration mechanism #1 and each function's INTA#
// in the MP table's PCI entries (the DSDT's _PRT is not read); pci=nomsi keeps it on INTx.
TEST(LinuxStock, AcpiOffRoutesPciIntxThroughTheMpTable) {
  KILN_REQUIRE_KVM();
  GuestKit kit;
  ASSERT_TRUE(stock_kit("KILN_STOCK_KERNEL", "KILN_STOCK_INITRD", "generic", kit));
  auto v = run_stock_pci(kit, "acpi=off pci=nomsi");
  EXPECT_EQ(v["irq.msix"], "");
  EXPECT_EQ(v["irq.level"], "2") << "INTA# of both functions on their MP-table IOAPIC pins";
}

}  // namespace
}  // namespace kiln::test
