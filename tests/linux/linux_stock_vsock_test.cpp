// virtio-vsock under Debian's stock kernel (label linux-stock): its vsock, vmw_vsock_virtio_transport
// modules (packed by guest/build-stock with kiln-vsock, the guest side) bind to kiln's device found
// through ACPI as a LNRO0005 virtio-mmio device. Streams of random bytes both ways, several at once,
// each checked by its sha256 on the other side.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "kvm_test_env.h"
#include "linux_guest.h"
#include "scratch_dir.h"
#include "vsock_host.h"

namespace kiln::test {
namespace {

using namespace std::chrono_literals;

constexpr int kStreams = 4;
constexpr size_t kStreamBytes = 512u << 10;

// Host to guest: kStreams listeners (ports 5100..) each write one stream to /tmp/in.N; guest to
// host: kStreams files of random bytes sent at once to <uds>_6000.. (each put waits for the host's
// close). Every stream's size and sha256 are printed as "@key=bytes sha".
constexpr const char* kVsockScript = R"SH(v() { echo "@$1=$2"; }
for m in $(cat /lib/modules/stock/order); do insmod /lib/modules/stock/$m.ko || v insmod.$m failed; done
v modules "$(cut -d' ' -f1 /proc/modules | grep vsock | sort | tr '\n' ' ')"
for d in /sys/bus/virtio/devices/*; do
  p=$(readlink -f $d/..); r=$(readlink $d/driver)
  v ${d##*/} "$(cat $d/device) ${p##*/} $(cat $p/firmware_node/path) ${r##*/}"
done
v cid "$(kiln-vsock cid)"
sum() { echo "$(wc -c < $1) $(sha256sum < $1 | cut -d' ' -f1)"; }
for i in $(seq 0 $((N - 1))); do kiln-vsock recv $((5100 + i)) /tmp/in.$i & done
wait
for i in $(seq 0 $((N - 1))); do v in.$i "$(sum /tmp/in.$i)"; done
for i in $(seq 0 $((N - 1))); do head -c $BYTES /dev/urandom > /tmp/out.$i; v out.$i "$(sum /tmp/out.$i)"; done
for i in $(seq 0 $((N - 1))); do kiln-vsock put 2 $((6000 + i)) /tmp/out.$i > /tmp/put.$i 2>&1 & done
wait
for i in $(seq 0 $((N - 1))); do v put.$i "$(cat /tmp/put.$i)"; done
v irq "$(awk '$NF == "virtio0" { s = 0; for (i = 2; i <= NF; i++) if ($i ~ /^[0-9]+$/) s += $i; print s }' /proc/interrupts)"
exit 0
)SH";

TEST(LinuxStock, VsockStreamsBothWaysOverAcpiVirtioMmio) {
  KILN_REQUIRE_KVM();
  GuestKit kit;
  ASSERT_TRUE(stock_kit("KILN_STOCK_KERNEL", "KILN_STOCK_INITRD", "generic", kit));
  ScratchDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string uds = dir.file("v.sock");
  std::vector<std::unique_ptr<VsockSink>> sinks;
  for (int i = 0; i < kStreams; ++i) {
    sinks.push_back(std::make_unique<VsockSink>(uds + "_" + std::to_string(6000 + i)));
    ASSERT_TRUE(sinks.back()->ok());
  }
  std::vector<std::string> to_guest;
  for (int i = 0; i < kStreams; ++i) {
    const auto bytes = random_bytes(kStreamBytes, 100 + i);
    to_guest.emplace_back(bytes.begin(), bytes.end());
  }

  GuestOptions options;
  options.cpus = 2;
  options.extra_cmdline = "quiet";
  options.kiln_args = {"--vsock", "cid=7,uds=" + uds};
  const std::string initrd = dir.file("initramfs.cpio");
  ASSERT_TRUE(write_extended_initrd(kit, {{"vsock-test.sh", kVsockScript, 0755}}, initrd));
  const std::string command =
      "N=" + std::to_string(kStreams) + " BYTES=" + std::to_string(kStreamBytes) + " sh /vsock-test.sh";
  ChildProcess vmm(kiln_guest_argv(kit, initrd, agent_cmdline(command, options), options));

  // Host to guest: once every listener is up, kStreams CONNECTs at once, each sending its bytes.
  for (int i = 0; i < kStreams; ++i) {
    ASSERT_TRUE(vmm.wait_for_output("kiln-vsock: recv listening on " + std::to_string(5100 + i), scaled(900s)))
        << vmm.out();
  }
  std::vector<std::string> sent(kStreams);
  std::vector<std::thread> threads;
  for (int i = 0; i < kStreams; ++i) {
    threads.emplace_back([&, i] {
      VsockStream s = vsock_connect(uds, 5100 + i, scaled(120s));
      sent[i] = s.fd < 0 ? s.error : vsock_send_all(s.fd, to_guest[i], scaled(900s));
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kStreams; ++i) EXPECT_EQ(sent[i], "") << "host to guest stream " << i;

  const AgentRun run = agent_run_of(vmm.wait(scaled(1200s)));
  ASSERT_NO_FATAL_FAILURE(expect_agent_ran(run));
  auto v = guest_values(run.output);
  SCOPED_TRACE("guest output:\n" + run.output);

  // The stock driver bound to kiln's device, found through the DSDT (the only virtio device here).
  EXPECT_EQ(v["modules"], "vmw_vsock_virtio_transport vmw_vsock_virtio_transport_common vsock ");
  EXPECT_EQ(v["virtio0"], "0x0013 LNRO0005:00 \\_SB_.V000 vmw_vsock_virtio_transport");
  EXPECT_EQ(v["cid"], "kiln-vsock: cid 7");
  EXPECT_GT(std::atol(v["irq"].c_str()), 0) << v["irq"];

  // Each stream arrived whole, by size and sha256, on either side.
  for (int i = 0; i < kStreams; ++i) {
    const std::string n = std::to_string(i);
    EXPECT_EQ(v["in." + n], std::to_string(kStreamBytes) + " " + sha256_hex(to_guest[i])) << "host to guest " << i;
    EXPECT_EQ(v["put." + n], "kiln-vsock: put ok " + std::to_string(kStreamBytes));
    const std::vector<std::string> got = sinks[i]->wait_for(1, 10s);
    ASSERT_EQ(got.size(), 1u) << "guest to host " << i;
    EXPECT_EQ(got[0].size(), kStreamBytes) << "guest to host " << i;
    EXPECT_EQ(v["out." + n], std::to_string(got[0].size()) + " " + sha256_hex(got[0])) << "guest to host " << i;
  }
}

}  // namespace
}  // namespace kiln::test
