// Per-device virtio transports seen from a booted guest: the boot-check guest reports the command
// line it got, whose virtio_mmio.device= entries kiln appends for the virtio-mmio devices only.
// With the disk on PCI and the rng on mmio the rng is the one window (at the first window's
// address, with the second device's GSI), and the other way round; a VM whose default is PCI
// lists none. A snapshot of such a VM restores into one with each device on its saved transport.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>

#include "api_call.h"
#include "guest_report.h"
#include "kvm_test_env.h"
#include "scratch_dir.h"

namespace kiln::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kCmdline = "console=ttyS0 action=reset";

// The command line the guest reports after `kiln run --cmdline kCmdline <devices>`.
std::string booted_cmdline(const std::vector<std::string>& devices) {
  std::vector<std::string> args{"--kernel", KILN_GUEST_PVH, "--cmdline", kCmdline, "--memory", "128M"};
  args.insert(args.end(), devices.begin(), devices.end());
  const auto r = run_child(kiln_run(args), scaled(30s));
  EXPECT_FALSE(r.timed_out) << r.out << r.err;
  EXPECT_EQ(r.exit_status, 0) << r.err;
  auto report = parse_guest_report(r.out);
  if (!report) {
    ADD_FAILURE() << "no complete guest report in:\n" << r.out << "\nstderr:\n" << r.err;
    return "";
  }
  EXPECT_EQ(report->result, "ok");
  return report->cmdline;
}

// kiln's entries, then "noxsave" on kvm_pvm hosts.
std::string expected(const std::string& entries) { return as_booted(kCmdline + entries); }

class TransportTest : public ::testing::Test {
 protected:
  TempFile disk_{std::vector<uint8_t>(64 * 1024, 0)};
};

TEST_F(TransportTest, EveryDeviceOnMmio) {
  KILN_REQUIRE_KVM();
  EXPECT_EQ(booted_cmdline({"--disk", disk_.path(), "--rng"}),
            expected(" virtio_mmio.device=4K@0xd0000000:5 virtio_mmio.device=4K@0xd0001000:6"));
}

TEST_F(TransportTest, DiskOnPciRngOnMmio) {
  KILN_REQUIRE_KVM();
  EXPECT_EQ(booted_cmdline({"--disk", disk_.path() + ",transport=pci", "--rng"}),
            expected(" virtio_mmio.device=4K@0xd0000000:6"));
  EXPECT_EQ(booted_cmdline({"--transport", "pci", "--disk", disk_.path(), "--rng", "transport=mmio"}),
            expected(" virtio_mmio.device=4K@0xd0000000:6"));
}

TEST_F(TransportTest, DiskOnMmioRngOnPci) {
  KILN_REQUIRE_KVM();
  EXPECT_EQ(booted_cmdline({"--disk", disk_.path(), "--rng", "transport=pci"}),
            expected(" virtio_mmio.device=4K@0xd0000000:5"));
}

TEST_F(TransportTest, EveryDeviceOnPci) {
  KILN_REQUIRE_KVM();
  EXPECT_EQ(booted_cmdline({"--transport", "pci", "--disk", disk_.path(), "--rng"}), expected(""));
}

// The restored VM is rebuilt from the snapshot's configuration: were a device placed elsewhere, its
// saved place (MMIO window or I/O BAR, GSI) would not match and the restore would fail.
TEST_F(TransportTest, ASnapshotRestoresEachDeviceOnItsSavedTransport) {
  KILN_REQUIRE_KVM();
  const ScratchDir scratch;  // unix sockets cannot be bound on the kvm-box's 9p share
  ASSERT_TRUE(scratch.ok());
  const std::string sock = scratch.file("first.sock"), snap = scratch.file("vm.snap"), mem = scratch.file("vm.mem");
  ChildProcess first(kiln_run({"--kernel", KILN_GUEST_PVH, "--cmdline", "console=ttyS0 action=spin", "--memory", "64M",
                               "--disk", disk_.path() + ",transport=pci", "--rng", "--api-sock", sock}));
  ASSERT_TRUE(first.wait_for_output("spinning", scaled(30s))) << first.out();
  ASSERT_TRUE(wait_for_api(sock, scaled(30s)));
  const ApiReply paused = api_call(sock, "PATCH", "/vm", R"({"state": "Paused"})");
  ASSERT_EQ(paused.status, 204) << paused.body << paused.error;
  // A snapshot file that cannot be written leaves no memory file (nor its temporary) behind.
  const ApiReply failed = api_call(sock, "PUT", "/snapshot/create",
                                   R"({"snapshot_path": ")" + scratch.file("no-such-dir/vm.snap") +
                                       R"(", "mem_file_path": ")" + mem + R"("})");
  EXPECT_EQ(failed.status, 400) << failed.body << failed.error;
  for (const auto& entry : std::filesystem::directory_iterator(scratch.path())) {
    EXPECT_EQ(entry.path().filename().string().find("vm.mem"), std::string::npos) << entry.path() << " stayed";
  }
  const ApiReply created = api_call(sock, "PUT", "/snapshot/create",
                                    R"({"snapshot_path": ")" + snap + R"(", "mem_file_path": ")" + mem + R"("})");
  ASSERT_EQ(created.status, 204) << created.body << created.error;
  first.send_signal(SIGKILL);
  (void)first.wait(scaled(30s));

  const std::string second_sock = scratch.file("second.sock");
  ChildProcess second({KILN_BINARY, "restore", "--snapshot", snap, "--mem", mem, "--api-sock", second_sock});
  ASSERT_TRUE(wait_for_api(second_sock, scaled(30s))) << second.out();
  const ApiReply config = api_call(second_sock, "GET", "/vm/config");
  ASSERT_EQ(config.status, 200) << config.error;
  EXPECT_NE(config.body.find(R"("transport":"pci")"), std::string::npos) << "the disk's: " << config.body;
  EXPECT_EQ(config.body.find(R"("transport":"mmio")"), std::string::npos) << "the rng's is the default: " << config.body;
  EXPECT_NE(api_call(second_sock, "GET", "/").body.find(R"("state":"Running")"), std::string::npos);
  second.send_signal(SIGTERM);
  const ChildResult r = second.wait(scaled(30s));
  EXPECT_EQ(r.exit_status, 128 + SIGTERM) << r.err;
  EXPECT_NE(r.err.find("restored"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace kiln::test
