// virtio-vsock configured through the control API, as Firecracker users do: kiln --api-sock,
// PUT /boot-source, /machine-config, /vsock {"guest_cid": 3, "uds_path": ...} and InstanceStart,
// then streams both ways through the unix socket (the kiln guest kernel; guest side
// guest/initramfs/kiln-vsock, host side vsock_host.h). The restored-guest tests
// (linux_vsock_test.cpp) cover the same device configured with --vsock.
#include <gtest/gtest.h>

#include <thread>

#include "api_call.h"
#include "kvm_test_env.h"
#include "linux_guest.h"
#include "scratch_dir.h"
#include "vsock_host.h"

namespace kiln::test {
namespace {

using namespace std::chrono_literals;

constexpr uint64_t kEchoBytes = 1u << 20;

// The guest: its CID; an echo server on 5000 for the host's CONNECTs (in the background); 1 MiB to
// the host's echo on <uds>_6000, checked byte for byte; then a connection to <uds>_6001 that the
// host ends when its own streams are done.
constexpr const char* kGuestCommand =
    "kiln-vsock cid && { kiln-vsock echo 5000 & } && kiln-vsock send 2 6000 1048576 && kiln-vsock hold 2 6001";

TEST(LinuxVsock, ConfiguredThroughTheApiStreamsBothWays) {
  GuestKit kit;
  KILN_REQUIRE_GUEST_KIT(kit);
  ScratchDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string sock = dir.file("api.sock");
  const std::string uds = dir.file("v.sock");
  VsockEchoListener host_echo(uds + "_6000");
  VsockEchoListener done(uds + "_6001");
  ASSERT_TRUE(host_echo.ok() && done.ok());

  ChildProcess vmm({KILN_BINARY, "--api-sock", sock});
  ASSERT_TRUE(wait_for_api(sock, scaled(240s))) << vmm.out();
  const auto put = [&](const std::string& path, const std::string& body) {
    const ApiReply r = api_call(sock, "PUT", path, body);
    EXPECT_EQ(r.status, 204) << "PUT " << path << " " << body << ": " << r.body << r.error;
    return r.status == 204;
  };
  GuestOptions options;
  ASSERT_TRUE(put("/boot-source", R"({"kernel_image_path": ")" + kit.kernel + R"(", "initrd_path": ")" + kit.initrd +
                                      R"(", "boot_args": ")" + agent_cmdline(kGuestCommand, options) + R"("})"));
  ASSERT_TRUE(put("/machine-config", R"({"vcpu_count": 1, "mem_size_mib": 256})"));
  ASSERT_TRUE(put("/vsock", R"({"guest_cid": 3, "uds_path": ")" + uds + R"("})"));
  const ApiReply config = api_call(sock, "GET", "/vm/config");
  EXPECT_NE(config.body.find(R"("vsock":{"guest_cid":3,"uds_path":")" + uds + "\""), std::string::npos)
      << "GET /vm/config: " << config.body;
  ASSERT_TRUE(put("/actions", R"({"action_type": "InstanceStart"})"));

  // Host to guest: CONNECT 5000, 1 MiB echoed byte for byte and the half-close answered with EOF;
  // then 8 streams at once.
  ASSERT_TRUE(vmm.wait_for_output("kiln-vsock: echo listening on 5000", scaled(600s))) << vmm.out();
  {
    VsockStream s = vsock_connect(uds, 5000, scaled(120s));
    ASSERT_GE(s.fd, 0) << s.error << vmm.out();
    EXPECT_GE(s.local_port, 1u << 30);
    EXPECT_EQ(vsock_echo_round_trip(s.fd, kEchoBytes, 0, scaled(1200s), /*half_close=*/true), "") << vmm.out();
  }
  std::vector<VsockStream> streams;
  for (int i = 0; i < 8; ++i) {
    streams.push_back(vsock_connect(uds, 5000, scaled(120s)));
    ASSERT_GE(streams.back().fd, 0) << i << ": " << streams.back().error;
  }
  std::vector<std::string> results(streams.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < streams.size(); ++i) {
    threads.emplace_back(
        [&, i] { results[i] = vsock_echo_round_trip(streams[i].fd, 65536, i * 7919, scaled(600s), true); });
  }
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < results.size(); ++i) EXPECT_EQ(results[i], "") << "stream " << i;

  // Guest to host: its 1 MiB came back equal (checked in the guest), then it holds <uds>_6001 open
  // until the host ends it; the command then exits 0 and the agent resets the VM.
  ASSERT_TRUE(vmm.wait_for_output("kiln-vsock: hold connected", scaled(1200s))) << vmm.out();
  for (int i = 0; i < 600 && done.accepted() < 1; ++i) std::this_thread::sleep_for(100ms);
  ASSERT_EQ(done.accepted(), 1);
  EXPECT_EQ(host_echo.accepted(), 1);
  done.drop_all();
  const AgentRun run = agent_run_of(vmm.wait(scaled(600s)));
  ASSERT_NO_FATAL_FAILURE(expect_agent_ran(run));
  SCOPED_TRACE("guest output:\n" + run.output);
  EXPECT_NE(run.output.find("kiln-vsock: cid 3"), std::string::npos);
  EXPECT_NE(run.output.find("kiln-vsock: send ok 1048576"), std::string::npos);
  EXPECT_NE(run.output.find("kiln-vsock: hold: end of stream"), std::string::npos);
}

}  // namespace
}  // namespace kiln::test
