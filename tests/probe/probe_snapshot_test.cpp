// kiln-probe snapshotted in the middle of a virtio-blk run with requests in flight (virtio-mmio)
// and of a virtio-PCI run (INTx, and MSI-X), the kiln process killed, and the snapshot loaded into a new, empty kiln
// through the API (PUT /snapshot/load): the run completes there with every check passing (label
// "probe").
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <thread>

#include "api_call.h"
#include "kvm_test_env.h"
#include "probe_command.h"
#include "probe_output.h"
#include "scratch_dir.h"

namespace kiln::test {
namespace {

using namespace std::chrono_literals;

// A queue 64 deep, long enough (several seconds) to be caught in the middle.
constexpr const char* kBench = "probe=blk blk.bench=randread qd=64 count=100000 bs=4096";

// The two lives of one run: kiln started with `args` (plus an API socket) until `marker` and a
// little after, paused, snapshotted and killed; then a new, empty kiln loading the snapshot and
// resuming. Returns the joined console output of a complete, passing run, or "" after failing.
std::string run_across_snapshot(const std::string& dir, std::vector<std::string> args, const std::string& marker) {
  const std::string sock = dir + "/first.sock";
  const std::string snap = dir + "/probe.snap";
  const std::string mem = dir + "/probe.mem";
  args.insert(args.end(), {"--api-sock", sock});
  ChildProcess first(kiln_run(args));
  if (!first.wait_for_output(marker, scaled(60s))) {
    ADD_FAILURE() << "no '" << marker << "'\n" << first.out();
    return "";
  }
  std::this_thread::sleep_for(300ms);  // well into the run
  const ApiReply paused = api_call(sock, "PATCH", "/vm", R"({"state": "Paused"})");
  EXPECT_EQ(paused.status, 204) << paused.body << paused.error;
  const ApiReply created = api_call(sock, "PUT", "/snapshot/create",
                                    R"({"snapshot_path": ")" + snap + R"(", "mem_file_path": ")" + mem + R"("})");
  EXPECT_EQ(created.status, 204) << created.body << created.error;
  first.send_signal(SIGKILL);
  const ChildResult first_life = first.wait(30s);
  if (created.status != 204 || first_life.out.find("PROBE summary") != std::string::npos) {
    ADD_FAILURE() << "no snapshot, or the run ended before it (make it longer)\n" << first_life.out;
    return "";
  }

  const std::string second_sock = dir + "/second.sock";
  ChildProcess second({KILN_BINARY, "--api-sock", second_sock});
  EXPECT_TRUE(wait_for_api(second_sock, scaled(30s))) << second.out();
  EXPECT_NE(api_call(second_sock, "GET", "/").body.find(R"("state":"Not started")"), std::string::npos);
  const ApiReply loaded = api_call(second_sock, "PUT", "/snapshot/load",
                                   R"({"snapshot_path": ")" + snap + R"(", "mem_file_path": ")" + mem +
                                       R"(", "resume_vm": true})");
  EXPECT_EQ(loaded.status, 204) << loaded.body << loaded.error;
  const ChildResult r = second.wait(scaled(120s));
  EXPECT_FALSE(r.timed_out) << r.out;
  EXPECT_EQ(r.exit_status, 0) << r.err;
  // The console continues the first life's: together they are one complete, passing run.
  const std::string both = first_life.out + r.out;
  const auto problems = probe_run_problems(parse_probe_output(both), {r.exit_status, r.timed_out}, {});
  for (const auto& p : problems) ADD_FAILURE() << p << "\n" << both << r.err;
  return problems.empty() ? both : "";
}

// A 16 MiB image of random bytes in the scratch directory (tmpfs, not the kvm-box's
// 9p share, which would set the pace).
std::string make_disk(const std::string& dir) {
  const std::string disk = dir + "/disk.raw";
  const auto bytes = random_bytes(16u << 20, 7);
  FILE* f = std::fopen(disk.c_str(), "wb");
  EXPECT_NE(f, nullptr);
  if (f == nullptr) return disk;
  EXPECT_EQ(std::fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
  EXPECT_EQ(std::fclose(f), 0);
  return disk;
}

TEST(KilnProbeSnapshot, BlkRunWithRequestsInFlightCompletesAfterRestore) {
  KILN_REQUIRE_KVM();
  const ScratchDir scratch;
  ASSERT_TRUE(scratch.ok());
  const std::string disk = make_disk(scratch.path());
  const std::string out = run_across_snapshot(
      scratch.path(), {"--kernel", KILN_GUEST_PROBE, "--cmdline", kBench, "--memory", "128M", "--disk", disk},
      "PROBE result tsc");
  EXPECT_NE(parse_probe_output(out).find("ok", "blk.bench"), nullptr) << out;
}

// Legacy virtio-PCI: the configuration space (BAR 0 and its decoding, so the notify ioeventfds
// come back), the transport and the queues in use survive; blk and rng keep answering.
TEST(KilnProbeSnapshot, VirtioPciRunCompletesAfterRestore) {
  KILN_REQUIRE_KVM();
  const ScratchDir scratch;
  ASSERT_TRUE(scratch.ok());
  const std::string disk = make_disk(scratch.path());
  const std::string out = run_across_snapshot(
      scratch.path(),
      {"--kernel", KILN_GUEST_PROBE, "--cmdline", "probe=virtio-pci virtio-pci.expect=2 virtio-pci.rounds=4000",
       "--memory", "128M", "--transport", "pci", "--disk", disk, "--rng"},
      "PROBE info virtio-pci device=1");
  const ProbeOutput parsed = parse_probe_output(out);
  EXPECT_EQ(parsed.find_all("ok", "virtio-pci.request").size(), 2u) << out;
  EXPECT_NE(parsed.find("ok", "virtio-pci.count"), nullptr) << out;
}

// MSI-X active across the snapshot: the table, the vector assignments and the enable bit come
// back and the routes are made again before the vCPU runs, so every request of the disk's run
// still raises its queue's vector (a lost route would leave pci-msix.interrupt short of rounds).
TEST(KilnProbeSnapshot, PciMsixRunKeepsItsVectorsAfterRestore) {
  KILN_REQUIRE_KVM();
  const ScratchDir scratch;
  ASSERT_TRUE(scratch.ok());
  const std::string disk = make_disk(scratch.path());
  const std::string out = run_across_snapshot(
      scratch.path(),
      {"--kernel", KILN_GUEST_PROBE, "--cmdline", "probe=pci-msix pci-msix.expect=2 pci-msix.rounds=4000",
       "--memory", "128M", "--transport", "pci", "--disk", disk, "--rng"},
      "PROBE info pci-msix device=1");
  const ProbeOutput parsed = parse_probe_output(out);
  for (const char* c : {"pci-msix.interrupt", "pci-msix.mask", "pci-msix.intx"}) {
    EXPECT_EQ(parsed.find_all("ok", c).size(), 2u) << c << "\n" << out;
  }
  EXPECT_NE(parsed.find("ok", "pci-msix.count"), nullptr) << out;
}

}  // namespace
}  // namespace kiln::test
