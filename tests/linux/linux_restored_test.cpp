// kiln's virtio-mmio disks and rng seen from inside the kiln guest kernel, each test on its own
// restore of the ready guest (ready_guest.h: booted once by LinuxReadyFixture, three disks and
// virtio-rng; vda raw, vdb read-only, vdc ext4 made on the host). The guest scripts print
// "@key=value" lines that the tests check; host-side checks run after kiln has exited.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>

#include "kvm_test_env.h"
#include "linux_guest.h"
#include "ready_guest.h"

namespace kiln::test {
namespace {

using namespace std::chrono_literals;

#define KILN_RESTORE_READY_GUEST(guest)                                   \
  GuestKit kit;                                                           \
  KILN_REQUIRE_GUEST_KIT(kit);                                            \
  RestoredGuest guest;                                                    \
  ASSERT_TRUE(guest.ok()) << guest.why()

// Runs `script`, expects status 0 and a clean exit of kiln, returns the "@key=value" pairs.
std::map<std::string, std::string> run_checked(RestoredGuest& guest, const std::string& script) {
  const ShellRun run = guest.run(script, scaled(300s));
  EXPECT_TRUE(run.done) << guest.console();
  EXPECT_EQ(run.status, 0) << run.output;
  const ChildResult vmm = guest.exit();
  EXPECT_FALSE(vmm.timed_out) << vmm.out;
  EXPECT_EQ(vmm.exit_status, 0) << vmm.err;
  return guest_values(run.output);
}

constexpr const char* kFoundScript = R"SH(v() { echo "@$1=$2"; }
for d in vda vdb vdc; do
  v $d.size "$(cat /sys/block/$d/size)"
  v $d.serial "$(cat /sys/block/$d/serial)"
  v $d.ro "$(blockdev --getro /dev/$d)"
done
v virtio.ids "$(cat /sys/bus/virtio/devices/*/device | sort | tr '\n' ' ')"
v vda.head "$(od -An -v -tx1 -N16 /dev/vda | tr -d ' \n')"
v vdb.head "$(od -An -v -tx1 -N16 /dev/vdb | tr -d ' \n')"
)SH";

TEST(LinuxRestored, TheDisksAndTheRngAreThereWithTheirSizesSerialsAndBytes) {
  KILN_RESTORE_READY_GUEST(guest);
  auto v = run_checked(guest, kFoundScript);
  // Three disks, the rng and vsock, each found once (command line and ACPI describe the same devices:
  // one probe wins, the other gets -EBUSY).
  EXPECT_EQ(v["virtio.ids"], "0x0002 0x0002 0x0002 0x0004 0x0013 ");
  EXPECT_EQ(v["vda.size"], std::to_string(kRawBytes / kSector));
  EXPECT_EQ(v["vdb.size"], std::to_string(kReadOnlyBytes / kSector));
  EXPECT_EQ(v["vdc.size"], std::to_string(kExt4Bytes / kSector));
  EXPECT_EQ(v["vda.serial"], "kiln-raw-0");
  EXPECT_EQ(v["vdb.serial"], "kiln-ro-1");
  EXPECT_EQ(v["vdc.serial"], "kiln-ext4-2");
  EXPECT_EQ(v["vda.ro"], "0");
  EXPECT_EQ(v["vdb.ro"], "1");
  EXPECT_EQ(v["vdc.ro"], "0");
  EXPECT_EQ(v["vda.head"], hex(random_bytes(kRawBytes, kRawSeed), 16));
  EXPECT_EQ(v["vdb.head"], hex(random_bytes(kReadOnlyBytes, kReadOnlySeed), 16));
}

constexpr size_t kSeqOffset = 3 * 4096;  // where the guest writes `seq 1 20000` (page cache)
constexpr size_t kDirectSector = 16001;  // where it writes 9 sectors with O_DIRECT
constexpr size_t kDirectBytes = 9 * kSector;

constexpr const char* kRawScript = R"SH(v() { echo "@$1=$2"; }
seq 1 20000 > /tmp/p
n=$(wc -c < /tmp/p)
dd if=/tmp/p of=/dev/vda bs=4096 seek=3 conv=fsync 2>/dev/null; v vda.write $?
seq 100000 101000 | head -c 4608 > /tmp/q
dd if=/tmp/q of=/dev/vda bs=512 seek=16001 oflag=direct 2>/dev/null; v vda.direct $?
echo 3 > /proc/sys/vm/drop_caches
dd if=/dev/vda bs=4096 skip=3 count=$(( (n + 4095) / 4096 )) 2>/dev/null | head -c $n | cmp -s - /tmp/p
v vda.readback $?
dd if=/dev/vda bs=512 skip=16001 count=9 iflag=direct 2>/dev/null | cmp -s - /tmp/q; v vda.directback $?
)SH";

TEST(LinuxRestored, RawWritesThroughThePageCacheAndODirectReachTheImageExactly) {
  KILN_RESTORE_READY_GUEST(guest);
  auto v = run_checked(guest, kRawScript);
  EXPECT_EQ(v["vda.write"], "0");
  EXPECT_EQ(v["vda.direct"], "0");
  EXPECT_EQ(v["vda.readback"], "0");
  EXPECT_EQ(v["vda.directback"], "0");
  // The host sees exactly those bytes in this restore's copy, and nothing else changed.
  const auto raw = random_bytes(kRawBytes, kRawSeed);
  std::string expected(raw.begin(), raw.end());
  const std::string seq = seq_text(1, 20000);
  expected.replace(kSeqOffset, seq.size(), seq);
  expected.replace(kDirectSector * kSector, kDirectBytes, seq_text(100000, 101000).substr(0, kDirectBytes));
  const std::string after = read_file(guest.disk("raw"));
  EXPECT_EQ(after.size(), expected.size());
  EXPECT_TRUE(after == expected) << "raw image differs from the expected bytes at offset "
                                 << first_difference(after, expected);
}

TEST(LinuxRestored, TheReadOnlyDiskRefusesWrites) {
  KILN_RESTORE_READY_GUEST(guest);
  auto v = run_checked(guest, "dd if=/dev/zero of=/dev/vdb bs=4096 count=1 conv=fsync 2>/dev/null; "
                              "echo \"@vdb.write=$?\"\n");
  EXPECT_NE(v["vdb.write"], "0");
  EXPECT_NE(v["vdb.write"], "");
  const auto readonly = random_bytes(kReadOnlyBytes, kReadOnlySeed);
  EXPECT_TRUE(read_file(guest.disk("readonly")) == std::string(readonly.begin(), readonly.end()))
      << "read-only image changed";
}

constexpr const char* kExt4Script = R"SH(v() { echo "@$1=$2"; }
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
)SH";

TEST(LinuxRestored, Ext4MadeOnTheHostIsReadWrittenAndCleanForTheHostsFsck) {
  KILN_RESTORE_READY_GUEST(guest);
  auto v = run_checked(guest, kExt4Script);
  EXPECT_EQ(v["vdc.mount"], "0");
  EXPECT_EQ(v["vdc.hello"] + "\n", kExt4Hello);
  EXPECT_EQ(v["vdc.write"], "0");
  EXPECT_EQ(v["vdc.sync"], "0");
  EXPECT_EQ(v["vdc.umount"], "0");
  EXPECT_EQ(v["vdc.reread"], "0");
  const std::string image = guest.disk("ext4");
  const auto fsck = run_host_shell("e2fsck -fn " + shell_quote(image));
  EXPECT_EQ(fsck.exit_status, 0) << fsck.out << fsck.err;
  const auto cat_guest = run_host_shell("debugfs -R 'cat /guest.txt' " + shell_quote(image));
  EXPECT_EQ(cat_guest.out, "written by the guest\n") << cat_guest.err;
  const auto cat_seq = run_host_shell("debugfs -R 'cat /d/seq.txt' " + shell_quote(image));
  EXPECT_TRUE(cat_seq.out == seq_text(1, 30000)) << "debugfs cat /d/seq.txt: " << cat_seq.out.size()
                                                 << " bytes, first difference at "
                                                 << first_difference(cat_seq.out, seq_text(1, 30000)) << cat_seq.err;
}

constexpr const char* kRngScript = R"SH(v() { echo "@$1=$2"; }
[ -c /dev/hwrng ]; v rng.dev $?
v rng.current "$(cat /sys/class/misc/hw_random/rng_current)"
dd if=/dev/hwrng bs=64 count=4 iflag=fullblock 2>/dev/null > /tmp/r
v rng.bytes "$(wc -c < /tmp/r)"
v rng.distinct "$(od -An -v -tx1 /tmp/r | tr -s ' ' '\n' | grep . | sort -u | wc -l)"
)SH";

TEST(LinuxRestored, HwrngIsVirtioRngAndItsBytesVary) {
  KILN_RESTORE_READY_GUEST(guest);
  auto v = run_checked(guest, kRngScript);
  EXPECT_EQ(v["rng.dev"], "0");
  EXPECT_EQ(v["rng.current"].rfind("virtio_rng", 0), 0u) << v["rng.current"];
  EXPECT_EQ(v["rng.bytes"], "256");
  EXPECT_GT(std::atoi(v["rng.distinct"].c_str()), 64) << "distinct byte values in 256 bytes of /dev/hwrng";
}

// Two kiln processes restore the same snapshot at once: each has its own copy of guest memory
// (a private mapping of one file) and its own disks.
TEST(LinuxRestored, TwoRestoresOfOneSnapshotRunSideBySideApart) {
  KILN_RESTORE_READY_GUEST(first);
  RestoredGuest second;
  ASSERT_TRUE(second.ok()) << second.why();
  const auto mark = [](const char* who) {
    return std::string("echo ") + who + " > /tmp/who; echo " + who + " | dd of=/dev/vda bs=512 seek=2 conv=fsync "
           "2>/dev/null; sleep 1; echo \"@who=$(cat /tmp/who)\"; "
           "echo \"@disk=$(dd if=/dev/vda bs=512 skip=2 count=1 iflag=direct 2>/dev/null | head -n 1)\"\n";
  };
  const ShellRun a = first.run(mark("first"), scaled(300s));
  const ShellRun b = second.run(mark("second"), scaled(300s));
  ASSERT_TRUE(a.done && b.done) << first.console() << second.console();
  EXPECT_EQ(guest_values(a.output)["who"], "first");
  EXPECT_EQ(guest_values(b.output)["who"], "second");
  EXPECT_EQ(guest_values(a.output)["disk"], "first");
  EXPECT_EQ(guest_values(b.output)["disk"], "second");
  const ShellRun again = first.run("echo \"@who=$(cat /tmp/who)\"\n", scaled(300s));
  EXPECT_EQ(guest_values(again.output)["who"], "first") << "the second restore's memory leaked into the first";
  EXPECT_EQ(first.exit().exit_status, 0);
  EXPECT_EQ(second.exit().exit_status, 0);
  EXPECT_EQ(read_file(first.disk("raw")).substr(2 * kSector, 6), "first\n");
  EXPECT_EQ(read_file(second.disk("raw")).substr(2 * kSector, 7), "second\n");
}

}  // namespace
}  // namespace kiln::test
