// kiln-probe snapshotted in the middle of a virtio-blk run with requests in flight, the kiln
// process killed, and the snapshot loaded into a new, empty kiln through the API
// (PUT /snapshot/load): the run completes there with every check passing (label "probe").
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

TEST(KilnProbeSnapshot, BlkRunWithRequestsInFlightCompletesAfterRestore) {
  KILN_REQUIRE_KVM();
  const ScratchDir scratch;
  ASSERT_TRUE(scratch.ok());
  const std::string dir = scratch.path();
  // In the scratch directory: tmpfs, not the kvm-box's 9p share (which would set the pace).
  const std::string disk = dir + "/disk.raw";
  {
    const auto bytes = random_bytes(16u << 20, 7);
    FILE* f = std::fopen(disk.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(std::fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
    ASSERT_EQ(std::fclose(f), 0);
  }
  const std::string sock = dir + "/first.sock";
  const std::string snap = dir + "/probe.snap";
  const std::string mem = dir + "/probe.mem";

  ChildProcess first(kiln_run({"--kernel", KILN_GUEST_PROBE, "--cmdline", kBench, "--memory", "128M", "--disk",
                               disk, "--api-sock", sock}));
  ASSERT_TRUE(first.wait_for_output("PROBE result tsc", scaled(60s))) << first.out();
  std::this_thread::sleep_for(300ms);  // well into the run
  const ApiReply paused = api_call(sock, "PATCH", "/vm", R"({"state": "Paused"})");
  ASSERT_EQ(paused.status, 204) << paused.body << paused.error;
  const ApiReply created = api_call(sock, "PUT", "/snapshot/create",
                                    R"({"snapshot_path": ")" + snap + R"(", "mem_file_path": ")" + mem + R"("})");
  ASSERT_EQ(created.status, 204) << created.body << created.error;
  first.send_signal(SIGKILL);
  const ChildResult first_life = first.wait(30s);
  ASSERT_EQ(first_life.out.find("PROBE summary"), std::string::npos)
      << "the run ended before the snapshot: make it longer\n" << first_life.out;

  const std::string second_sock = dir + "/second.sock";
  ChildProcess second({KILN_BINARY, "--api-sock", second_sock});
  ASSERT_TRUE(wait_for_api(second_sock, scaled(30s))) << second.out();
  EXPECT_NE(api_call(second_sock, "GET", "/").body.find(R"("state":"Not started")"), std::string::npos);
  const ApiReply loaded = api_call(second_sock, "PUT", "/snapshot/load",
                                   R"({"snapshot_path": ")" + snap + R"(", "mem_file_path": ")" + mem +
                                       R"(", "resume_vm": true})");
  ASSERT_EQ(loaded.status, 204) << loaded.body << loaded.error;
  const ChildResult r = second.wait(scaled(120s));
  ASSERT_FALSE(r.timed_out) << r.out;
  EXPECT_EQ(r.exit_status, 0) << r.err;
  // The console continues the first life's: together they are one complete, passing run.
  const ProbeOutput out = parse_probe_output(first_life.out + r.out);
  const auto problems = probe_run_problems(out, {r.exit_status, r.timed_out}, {});
  for (const auto& p : problems) ADD_FAILURE() << p << "\n" << first_life.out << r.out << r.err;
  EXPECT_NE(out.find("ok", "blk.bench"), nullptr) << r.out;
}

}  // namespace
}  // namespace kiln::test
