// kiln's virtio-mmio devices seen from inside the kiln guest kernel: virtio-blk (a raw image written
// and read back, a read-only disk, an ext4 image made on the host), virtio-rng (/dev/hwrng) and
// virtio-console (hvc0 carrying an interactive shell). Few, rich boots: each costs seconds to
// minutes under nested KVM; the guest scripts print "@key=value" lines that the tests check.
#include <gtest/gtest.h>

#include <cstdio>

#include "kvm_test_env.h"
#include "linux_guest.h"

namespace kiln::test {
namespace {

using namespace std::chrono_literals;


// SMP guests: the devices' interrupts go to any vCPU (the kvm-box runs these with one box vCPU,
// see README.md).
constexpr int kGuestCpus = 2;

constexpr size_t kSector = 512;
constexpr size_t kRawBytes = (8u << 20) + 3 * kSector;  // an odd number of sectors: 16387
constexpr size_t kReadOnlyBytes = 1u << 20;
constexpr size_t kSeqOffset = 3 * 4096;         // where the guest writes `seq 1 20000` (page cache)
constexpr size_t kDirectSector = 16001;         // where it writes 9 sectors with O_DIRECT
constexpr size_t kDirectBytes = 9 * kSector;

std::string hex(const std::vector<uint8_t>& bytes, size_t n) {
  std::string out;
  char buf[3];
  for (size_t i = 0; i < n && i < bytes.size(); ++i) {
    std::snprintf(buf, sizeof(buf), "%02x", bytes[i]);
    out += buf;
  }
  return out;
}

// The first offset where two byte strings differ (or the shorter size), for failure messages.
size_t first_difference(const std::string& a, const std::string& b) {
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  return i;
}

// vda: the raw image (16387 sectors); vdb: read-only; vdc: ext4 (made on the host); virtio-rng.
constexpr const char* kDiskScript = R"SH(v() { echo "@$1=$2"; }
for d in vda vdb vdc; do
  v $d.size "$(cat /sys/block/$d/size)"
  v $d.serial "$(cat /sys/block/$d/serial)"
  v $d.ro "$(blockdev --getro /dev/$d)"
done
v virtio.ids "$(cat /sys/bus/virtio/devices/*/device | sort | tr '\n' ' ')"
v vda.head "$(od -An -v -tx1 -N16 /dev/vda | tr -d ' \n')"
v vdb.head "$(od -An -v -tx1 -N16 /dev/vdb | tr -d ' \n')"
seq 1 20000 > /tmp/p
n=$(wc -c < /tmp/p)
dd if=/tmp/p of=/dev/vda bs=4096 seek=3 conv=fsync 2>/dev/null; v vda.write $?
seq 100000 101000 | head -c 4608 > /tmp/q
dd if=/tmp/q of=/dev/vda bs=512 seek=16001 oflag=direct 2>/dev/null; v vda.direct $?
echo 3 > /proc/sys/vm/drop_caches
dd if=/dev/vda bs=4096 skip=3 count=$(( (n + 4095) / 4096 )) 2>/dev/null | head -c $n | cmp -s - /tmp/p
v vda.readback $?
dd if=/dev/vda bs=512 skip=16001 count=9 iflag=direct 2>/dev/null | cmp -s - /tmp/q; v vda.directback $?
dd if=/dev/zero of=/dev/vdb bs=4096 count=1 conv=fsync 2>/dev/null; v vdb.write $?
mkdir /tmp/e
mount -t ext4 /dev/vdc /tmp/e; v vdc.mount $?
v vdc.hello "$(cat /tmp/e/hello.txt)"
echo 'written by the guest' > /tmp/e/guest.txt && mkdir /tmp/e/d && seq 1 30000 > /tmp/e/d/seq.txt
v vdc.write $?
sync; v vdc.sync $?
umount /tmp/e; v vdc.umount $?
seq 1 30000 > /tmp/s
mount -t ext4 -o ro /dev/vdc /tmp/e && cmp -s /tmp/e/d/seq.txt /tmp/s; v vdc.reread $?
umount /tmp/e
[ -c /dev/hwrng ]; v rng.dev $?
v rng.current "$(cat /sys/class/misc/hw_random/rng_current)"
v rng.bytes "$(dd if=/dev/hwrng bs=64 count=4 iflag=fullblock 2>/dev/null | wc -c)"
dd if=/dev/hwrng bs=64 count=4 iflag=fullblock 2>/dev/null > /tmp/r
v rng.distinct "$(od -An -v -tx1 /tmp/r | tr -s ' ' '\n' | grep . | sort -u | wc -l)"
ls /sys/bus/platform/devices | grep -i -e virtio -e LNRO
dmesg | grep -i -e virtio -e vd[abc] -e EXT4
exit 0
)SH";

TEST(LinuxVirtio, BlockDisksAndRngFromInsideTheGuest) {
  GuestKit kit;
  KILN_REQUIRE_GUEST_KIT(kit);
  TempDir dir;
  const auto raw = random_bytes(kRawBytes, 6);
  const auto readonly = random_bytes(kReadOnlyBytes, 7);
  const std::string raw_img = dir.file("raw.img");
  const std::string ro_img = dir.file("readonly.img");
  const std::string ext4_img = dir.file("ext4.img");
  ASSERT_TRUE(write_file(raw_img, raw));
  ASSERT_TRUE(write_file(ro_img, readonly));
  ASSERT_EQ(run_host_shell("mkdir " + shell_quote(dir.file("src"))).exit_status, 0);
  ASSERT_TRUE(write_file(dir.file("src/hello.txt"), std::string("hello from the host\n")));
  const auto mkfs = run_host_shell("mkfs.ext4 -F -q -L kiln -d " + shell_quote(dir.file("src")) + " " +
                                   shell_quote(ext4_img) + " 32M");
  ASSERT_EQ(mkfs.exit_status, 0) << "mkfs.ext4 (e2fsprogs, scripts/install-deps): " << mkfs.out << mkfs.err;

  GuestOptions options;
  options.cpus = kGuestCpus;
  options.kiln_args = {"--disk", raw_img + ",serial=kiln-raw-0", "--disk", ro_img + ",readonly,serial=kiln-ro-1",
                       "--disk", ext4_img + ",serial=kiln-ext4-2", "--rng"};
  options.files = {{"disk-test.sh", kDiskScript, 0755}};
  const auto run = run_in_guest(kit, "sh /disk-test.sh", options);
  auto v = completed_run_values(run);
  ASSERT_FALSE(v.empty());
  SCOPED_TRACE("guest output:\n" + run.output);

  // Three disks and the rng, each found once (command line and ACPI describe the same devices).
  EXPECT_EQ(v["virtio.ids"], "0x0002 0x0002 0x0002 0x0004 ");
  // Sizes, serials (VIRTIO_BLK_T_GET_ID), read-only flags; vda/vdb start with the host's bytes.
  EXPECT_EQ(v["vda.size"], std::to_string(kRawBytes / kSector));
  EXPECT_EQ(v["vdb.size"], std::to_string(kReadOnlyBytes / kSector));
  EXPECT_EQ(v["vdc.size"], std::to_string((32u << 20) / kSector));
  EXPECT_EQ(v["vda.serial"], "kiln-raw-0");
  EXPECT_EQ(v["vdb.serial"], "kiln-ro-1");
  EXPECT_EQ(v["vdc.serial"], "kiln-ext4-2");
  EXPECT_EQ(v["vda.ro"], "0");
  EXPECT_EQ(v["vdb.ro"], "1");
  EXPECT_EQ(v["vdc.ro"], "0");
  EXPECT_EQ(v["vda.head"], hex(raw, 16));
  EXPECT_EQ(v["vdb.head"], hex(readonly, 16));

  // Raw writes through the page cache and with O_DIRECT, read back from the device.
  EXPECT_EQ(v["vda.write"], "0");
  EXPECT_EQ(v["vda.direct"], "0");
  EXPECT_EQ(v["vda.readback"], "0");
  EXPECT_EQ(v["vda.directback"], "0");
  // The host sees exactly those bytes and nothing else changed.
  std::string expected(raw.begin(), raw.end());
  const std::string seq = seq_text(1, 20000);
  expected.replace(kSeqOffset, seq.size(), seq);
  expected.replace(kDirectSector * kSector, kDirectBytes, seq_text(100000, 101000).substr(0, kDirectBytes));
  const std::string raw_after = read_file(raw_img);
  EXPECT_EQ(raw_after.size(), expected.size());
  EXPECT_TRUE(raw_after == expected) << "raw image differs from the expected bytes at offset "
                                     << first_difference(raw_after, expected);

  // The read-only disk refuses writes and is unchanged on the host.
  EXPECT_NE(v["vdb.write"], "0");
  EXPECT_TRUE(read_file(ro_img) == std::string(readonly.begin(), readonly.end())) << "read-only image changed";

  // ext4: mounted, the host's file read, files written and synced, unmounted, read again.
  EXPECT_EQ(v["vdc.mount"], "0");
  EXPECT_EQ(v["vdc.hello"], "hello from the host");
  EXPECT_EQ(v["vdc.write"], "0");
  EXPECT_EQ(v["vdc.sync"], "0");
  EXPECT_EQ(v["vdc.umount"], "0");
  EXPECT_EQ(v["vdc.reread"], "0");
  const auto fsck = run_host_shell("e2fsck -fn " + shell_quote(ext4_img));
  EXPECT_EQ(fsck.exit_status, 0) << fsck.out << fsck.err;
  const auto cat_guest = run_host_shell("debugfs -R 'cat /guest.txt' " + shell_quote(ext4_img));
  EXPECT_EQ(cat_guest.out, "written by the guest\n") << cat_guest.err;
  const auto cat_seq = run_host_shell("debugfs -R 'cat /d/seq.txt' " + shell_quote(ext4_img));
  EXPECT_TRUE(cat_seq.out == seq_text(1, 30000)) << "debugfs cat /d/seq.txt: " << cat_seq.out.size()
                                                 << " bytes, first difference at "
                                                 << first_difference(cat_seq.out, seq_text(1, 30000)) << cat_seq.err;

  // virtio-rng: /dev/hwrng, the current rng is virtio_rng.N, 256 bytes that are not constant.
  EXPECT_EQ(v["rng.dev"], "0");
  EXPECT_EQ(v["rng.current"].rfind("virtio_rng", 0), 0u) << v["rng.current"];
  EXPECT_EQ(v["rng.bytes"], "256");
  EXPECT_GT(std::atoi(v["rng.distinct"].c_str()), 64) << "distinct byte values in 256 bytes of /dev/hwrng";
}

// Drops the tty's '\r' (ONLCR) from console text.
std::string without_cr(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c != '\r') out += c;
  }
  return out;
}

TEST(LinuxVirtio, Hvc0CarriesTheConsoleAndAnInteractiveShell) {
  GuestKit kit;
  KILN_REQUIRE_GUEST_KIT(kit);
  GuestOptions options;
  options.cpus = kGuestCpus;
  options.kiln_args = {"--console", "virtio"};
  // hvc0 is the only console: the kernel log, the agent and the shell all go through virtio-console.
  ChildProcess vmm(kiln_guest_argv(kit, kit.initrd, "console=hvc0 reboot=k panic=-1 kiln.shell=1", options),
                   ChildStdin::kPipe);
  ASSERT_TRUE(vmm.wait_for_output("KILN-CMD-BEGIN", scaled(600s))) << vmm.out();
  const size_t begin = vmm.out().find("KILN-CMD-BEGIN");
  (void)vmm.wait_for_output("# ", scaled(60s), begin);  // ash's prompt; input typed earlier waits in the tty
  // Typed on kiln's stdin: kernel messages off (they would interleave), then output the echo of
  // the typed line cannot contain ($((...)) is expanded by the shell), a 600-byte line, 3000 lines.
  const std::string line(600, 'k');
  ASSERT_TRUE(vmm.send("echo 1 > /proc/sys/kernel/printk; cat /sys/class/tty/console/active; "
                       "echo sum-$((6*7)); echo " + line + " | wc -c; echo mark-$((1+1)); seq 1 3000; "
                       "echo mark-$((2+1)); exit 3\n"));
  const auto result = vmm.wait(scaled(300s));
  ASSERT_FALSE(result.timed_out) << result.out;
  EXPECT_EQ(result.exit_status, 0) << result.err;
  const std::string out = without_cr(result.out);
  // ttyS0 is no console here: kernel messages on kiln's stdout came through hvc0.
  EXPECT_NE(out.find("Run /init as init process"), std::string::npos) << "no kernel log on hvc0:\n" << out;
  const size_t shell = out.find("KILN-CMD-BEGIN");
  ASSERT_NE(shell, std::string::npos) << out;
  EXPECT_NE(out.find("\nhvc0\n", shell), std::string::npos) << out;
  EXPECT_NE(out.find("\nsum-42\n", shell), std::string::npos) << out;
  EXPECT_NE(out.find("\n601\n", shell), std::string::npos) << out;
  const size_t mark2 = out.find("\nmark-2\n", shell);
  const size_t mark3 = out.find("mark-3\n", shell);
  ASSERT_NE(mark2, std::string::npos) << out;
  ASSERT_NE(mark3, std::string::npos) << out;
  ASSERT_GT(mark3, mark2) << out;
  const std::string lines = out.substr(mark2 + 8, mark3 - mark2 - 8);
  EXPECT_TRUE(lines == seq_text(1, 3000)) << "seq output through hvc0 differs at byte "
                                          << first_difference(lines, seq_text(1, 3000)) << ":\n" << lines;
  EXPECT_NE(out.find("KILN-CMD-END 3", shell), std::string::npos) << out;
}

}  // namespace
}  // namespace kiln::test
