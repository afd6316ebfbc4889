// kiln --profile-guest on kiln-probe (label "probe"): the ticker scenario spends its time
// busy-waiting in run_ticker, so the profile must name that function first, from the probe's own
// ELF symbols. Also with pause, snapshot and resume while sampling, and after `kiln restore`.
#include <gtest/gtest.h>

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

// 40 ticks 50 ms apart: 2 s in run_ticker's busy loop, a few short lines of serial output.
constexpr const char* kTickerCmdline = "probe=ticker ticks=40 period_us=50000";

std::string lines_of(const ChildResult& r) { return "--- stdout ---\n" + r.out + "--- stderr ---\n" + r.err; }

// The run passed and its profile puts run_ticker first with most of the samples.
void expect_ticker_profile(const ChildResult& r) {
  ASSERT_FALSE(r.timed_out) << lines_of(r);
  EXPECT_EQ(r.exit_status, 0) << lines_of(r);
  const ProbeOutput out = parse_probe_output(r.out);
  EXPECT_NE(out.find("ok", "ticker.monotonic"), nullptr) << r.out;
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
  const ChildResult r = run_child(kiln_run({"--kernel", KILN_GUEST_PROBE, "--cmdline", kTickerCmdline, "--memory",
                                            "128M", "--profile-guest=500"}),
                                  scaled(60s));
  expect_ticker_profile(r);
  EXPECT_NE(r.err.find("symbols from " KILN_GUEST_PROBE), std::string::npos) << r.err;
}

TEST(KilnProbeProfile, SamplingSurvivesPauseSnapshotResumeAndRestore) {
  KILN_REQUIRE_KVM();
  const ScratchDir scratch;
  ASSERT_TRUE(scratch.ok());
  const std::string sock = scratch.file("kiln.sock");
  const std::string snap = scratch.file("probe.snap");
  const std::string mem = scratch.file("probe.mem");
  ChildProcess first(kiln_run({"--kernel", KILN_GUEST_PROBE, "--cmdline", kTickerCmdline, "--memory", "128M",
                               "--profile-guest=1000", "--api-sock", sock}));
  ASSERT_TRUE(first.wait_for_output("PROBE info tick n=2\n", scaled(60s))) << first.out();
  const ApiReply paused = api_call(sock, "PATCH", "/vm", R"({"state": "Paused"})");
  ASSERT_EQ(paused.status, 204) << paused.body << paused.error;
  const ApiReply created = api_call(sock, "PUT", "/snapshot/create",
                                    R"({"snapshot_path": ")" + snap + R"(", "mem_file_path": ")" + mem + R"("})");
  ASSERT_EQ(created.status, 204) << created.body << created.error;
  const ApiReply resumed = api_call(sock, "PATCH", "/vm", R"({"state": "Resumed"})");
  ASSERT_EQ(resumed.status, 204) << resumed.body << resumed.error;
  const ChildResult first_life = first.wait(scaled(60s));
  expect_ticker_profile(first_life);

  // The restored VM's symbols come from the kernel path its snapshot records.
  const ChildResult second = run_child({KILN_BINARY, "restore", "--snapshot", snap, "--mem", mem, "--profile-guest"},
                                       scaled(60s));
  expect_ticker_profile(second);
  EXPECT_NE(second.err.find("at 250 Hz"), std::string::npos) << second.err;
}

}  // namespace
}  // namespace kiln::test
