// The CTest fixture behind the LinuxRestored tests (ready_guest.h): one boot of the kiln guest
// kernel with three disks and virtio-rng, snapshotted once its shell waits for input; and the
// clean-up that removes the fixture's files after the last test.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>

#include "api_call.h"
#include "kvm_test_env.h"
#include "linux_guest.h"
#include "ready_guest.h"

namespace kiln::test {
namespace {

using namespace std::chrono_literals;

TEST(LinuxReadyFixture, BootOnceAndSnapshotWithTheShellWaiting) {
  GuestKit kit;
  KILN_REQUIRE_GUEST_KIT(kit);
  const ReadyGuestFiles f;
  std::filesystem::remove_all(f.dir);
  ASSERT_TRUE(std::filesystem::create_directories(f.dir)) << f.dir;
  ASSERT_TRUE(write_file(f.raw, random_bytes(kRawBytes, kRawSeed)));
  ASSERT_TRUE(write_file(f.readonly, random_bytes(kReadOnlyBytes, kReadOnlySeed)));
  const std::string src = f.dir + "/ext4-src";
  ASSERT_TRUE(std::filesystem::create_directories(src));
  ASSERT_TRUE(write_file(src + "/hello.txt", std::string(kExt4Hello)));
  const auto mkfs = run_host_shell("mkfs.ext4 -F -q -L kiln -d " + shell_quote(src) + " " + shell_quote(f.ext4) +
                                   " " + std::to_string(kExt4Bytes >> 20) + "M");
  ASSERT_EQ(mkfs.exit_status, 0) << "mkfs.ext4 (e2fsprogs, scripts/install-deps): " << mkfs.out << mkfs.err;

  const std::string sock = f.dir + "/api.sock";
  GuestOptions options;
  options.cpus = kReadyCpus;
  options.kiln_args = {"--api-sock", sock,
                       "--disk", f.raw + ",serial=kiln-raw-0",
                       "--disk", f.readonly + ",readonly,serial=kiln-ro-1",
                       "--disk", f.ext4 + ",serial=kiln-ext4-2",
                       "--rng",
                       "--vsock", "cid=3,uds=" + f.dir + "/vsock.sock"};
  ChildProcess vmm(kiln_guest_argv(kit, kit.initrd, "console=ttyS0 reboot=k panic=-1 kiln.shell=1", options),
                   ChildStdin::kPipe);
  ASSERT_TRUE(vmm.wait_for_output("KILN-CMD-BEGIN", scaled(600s))) << vmm.out();
  // Kernel messages off (they would interleave with the tests' output), then the shell is idle.
  ASSERT_TRUE(vmm.send("echo 1 > /proc/sys/kernel/printk; echo ready-$((40+2))\n"));
  const size_t begin = vmm.out().find("KILN-CMD-BEGIN");
  ASSERT_TRUE(vmm.wait_for_output("ready-42\r\n", scaled(120s), begin)) << vmm.out();
  ASSERT_TRUE(vmm.wait_for_output("# ", scaled(60s), vmm.out().find("ready-42\r\n", begin))) << vmm.out();

  const ApiReply paused = api_call(sock, "PATCH", "/vm", R"({"state": "Paused"})");
  ASSERT_EQ(paused.status, 204) << paused.body << paused.error;
  const ApiReply created = api_call(sock, "PUT", "/snapshot/create",
                                    R"({"snapshot_type": "Full", "snapshot_path": ")" + f.snapshot +
                                        R"(", "mem_file_path": ")" + f.memory + R"("})");
  ASSERT_EQ(created.status, 204) << created.body << created.error;
  vmm.send_signal(SIGKILL);
  (void)vmm.wait(30s);
  EXPECT_TRUE(std::filesystem::exists(f.snapshot));
  EXPECT_TRUE(std::filesystem::exists(f.memory));
}

TEST(LinuxReadyFixture, RemoveTheFiles) {
  const ReadyGuestFiles f;
  std::error_code ec;
  std::filesystem::remove_all(f.dir, ec);
  EXPECT_FALSE(ec) << f.dir << ": " << ec.message();
}

}  // namespace
}  // namespace kiln::test
