// kiln --profile-guest on kiln-probe (label "probe"): the ticker scenario spends its time
// busy-waiting in run_ticker, so the profile must name that function first, from the probe's own
// ELF symbols. Also with pause, snapshot and resume while sampling, and after `kiln restore`.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <string>

#include "api_call.h"
#include "guest_profile.h"
#include "kvm_test_env.h"
#include "probe_output.h"
#include "scratch_dir.h"

namespace kiln::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kTicker = "kiln::probe::run_ticker(kiln::probe::Context const&)";

std::string lines_of(const ChildResult& r) { return "--- stdout ---\n" + r.out + "--- stderr ---\n" + r.err; }

// The profile puts run_ticker first with most of the samples, and its rows add up.
void expect_ticker_profile(const ChildResult& r) {
  const GuestProfile profile = parse_guest_profile(r.err);
  ASSERT_TRUE(profile.found) << lines_of(r);
  EXPECT_GE(profile.samples, 20u) << r.err;
  ASSERT_FALSE(profile.rows.empty()) << r.err;
  EXPECT_EQ(profile.rows[0].name, kTicker) << r.err;
  EXPECT_GT(profile.rows[0].percent, 50.0) << r.err;
  uint64_t total = 0;
  for (const auto& row : profile.rows) total += row.samples;
  EXPECT_EQ(total, profile.samples) << r.err;
}

TEST(KilnProbeProfile, TickerLoopIsTheHottestFunction) {
  KILN_REQUIRE_KVM();
  // 40 ticks 50 ms apart: 2 s in run_ticker's busy loop, a few short lines of serial output.
  const ChildResult r = run_child(kiln_run({"--kernel", KILN_GUEST_PROBE, "--cmdline",
                                            "probe=ticker ticks=40 period_us=50000", "--memory", "128M",
                                            "--profile-guest=500"}),
                                  scaled(60s));
  ASSERT_FALSE(r.timed_out) << lines_of(r);
  EXPECT_EQ(r.exit_status, 0) << lines_of(r);
  EXPECT_NE(parse_probe_output(r.out).find("ok", "ticker.monotonic"), nullptr) << r.out;
  expect_ticker_profile(r);
  EXPECT_NE(r.err.find("symbols from " KILN_GUEST_PROBE), std::string::npos) << r.err;
}

// The last complete "PROBE info tick n=K" line in `out` (0 if none).
long last_tick(const std::string& out) {
  const std::string marker = "PROBE info tick n=";
  const size_t end = out.rfind('\n');
  const size_t at = end == std::string::npos ? std::string::npos : out.rfind(marker, end);
  return at == std::string::npos ? 0 : std::atol(out.c_str() + at + marker.size());
}

// Waits until the guest printed `more` ticks past the last one seen so far.
bool wait_more_ticks(ChildProcess& child, long more) {
  const std::string want = "PROBE info tick n=" + std::to_string(last_tick(child.out()) + more) + "\n";
  return child.wait_for_output(want, scaled(60s));
}

// A ticker that runs until stopped: ends with SIGTERM, which still prints the profile.
ChildResult stop_with_sigterm(ChildProcess& child) {
  child.send_signal(SIGTERM);
  ChildResult r = child.wait(scaled(60s));
  EXPECT_FALSE(r.timed_out) << lines_of(r);
  EXPECT_EQ(r.exit_status, 128 + SIGTERM) << lines_of(r);
  return r;
}

TEST(KilnProbeProfile, SamplingSurvivesPauseSnapshotResumeAndRestore) {
  KILN_REQUIRE_KVM();
  const ScratchDir scratch;
  ASSERT_TRUE(scratch.ok());
  const std::string sock = scratch.file("kiln.sock");
  const std::string snap = scratch.file("probe.snap");
  const std::string mem = scratch.file("probe.mem");
  ChildProcess first(kiln_run({"--kernel", KILN_GUEST_PROBE, "--cmdline", "probe=ticker ticks=1000000 period_us=20000",
                               "--memory", "128M", "--profile-guest=1000", "--api-sock", sock}));
  ASSERT_TRUE(first.wait_for_output("PROBE info tick n=2\n", scaled(60s))) << first.out();
  const ApiReply paused = api_call(sock, "PATCH", "/vm", R"({"state": "Paused"})");
  ASSERT_EQ(paused.status, 204) << paused.body << paused.error;
  const ApiReply created = api_call(sock, "PUT", "/snapshot/create",
                                    R"({"snapshot_path": ")" + snap + R"(", "mem_file_path": ")" + mem + R"("})");
  ASSERT_EQ(created.status, 204) << created.body << created.error;
  const ApiReply resumed = api_call(sock, "PATCH", "/vm", R"({"state": "Resumed"})");
  ASSERT_EQ(resumed.status, 204) << resumed.body << resumed.error;
  ASSERT_TRUE(wait_more_ticks(first, 25)) << "the guest did not go on after resume\n" << first.out();
  expect_ticker_profile(stop_with_sigterm(first));

  // The restored VM's symbols come from the kernel path its snapshot records.
  ChildProcess second({KILN_BINARY, "restore", "--snapshot", snap, "--mem", mem, "--profile-guest"});
  ASSERT_TRUE(second.wait_for_output("PROBE info tick n=", scaled(60s))) << second.out();
  ASSERT_TRUE(second.wait_for_output("\n", scaled(60s), second.out().rfind("PROBE info tick n="))) << second.out();
  ASSERT_TRUE(wait_more_ticks(second, 25)) << second.out();
  const ChildResult restored = stop_with_sigterm(second);
  expect_ticker_profile(restored);
  EXPECT_NE(restored.err.find("at 250 Hz"), std::string::npos) << restored.err;
  EXPECT_NE(restored.err.find("symbols from " KILN_GUEST_PROBE), std::string::npos) << restored.err;
}

}  // namespace
}  // namespace kiln::test
