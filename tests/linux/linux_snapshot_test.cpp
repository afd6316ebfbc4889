// Pause/resume and snapshot/restore of a running Linux guest, driven through kiln's control API
// with curl (as Firecracker users do), each on a restore of the ready guest (ready_guest.h): a
// guest printing a counter and its clocks is paused for 30 s and resumed; a guest with a shell and
// a disk is snapshotted again, its kiln killed, and that snapshot restored in a new kiln process.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <regex>
#include <thread>

#include "api_call.h"
#include "kvm_test_env.h"
#include "linux_guest.h"
#include "ready_guest.h"
#include "scratch_dir.h"

namespace kiln::test {
namespace {

using namespace std::chrono_literals;


struct Tick {
  double uptime = 0;
  long date = 0;
};

// "@tick=N up=U date=D" lines (or "@tick=N" alone) by N.
std::map<long, Tick> ticks_in(const std::string& out) {
  std::map<long, Tick> ticks;
  static const std::regex line(R"(@tick=(\d+)(?: up=([0-9.]+) date=(\d+))?\r?\n)");
  for (std::sregex_iterator it(out.begin(), out.end(), line), end; it != end; ++it) {
    Tick t;
    if ((*it)[2].matched) t = Tick{std::stod((*it)[2]), std::stol((*it)[3])};
    ticks[std::stol((*it)[1])] = t;
  }
  return ticks;
}

// The last tick the guest began to print: "@tick=N" followed by a space or the line's end. A pause
// can land while the guest's UART still sends a line (its last bytes, its newline), which ticks_in()
// does not count yet; that line ends after the resume.
long last_tick_begun(const std::string& out) {
  static const std::regex begun(R"(@tick=(\d+)[ \r\n])");
  long last = 0;
  for (std::sregex_iterator it(out.begin(), out.end(), begun), end; it != end; ++it) {
    last = std::max(last, std::stol((*it)[1]));
  }
  return last;
}

constexpr const char* kClockScript = R"SH(i=0
while [ $i -lt 60 ]; do
  i=$((i+1)); read -r up _ < /proc/uptime
  echo "@tick=$i up=$up date=$(date +%s)"
  sleep 0.3
done
echo "@lockups=$(dmesg | grep -ci 'soft lockup')"
)SH";

TEST(LinuxPause, ThirtySecondsPausedThenTheCounterAndClockContinue) {
  GuestKit kit;
  KILN_REQUIRE_GUEST_KIT(kit);
  ScratchDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string sock = dir.file("api.sock");
  RestoredGuest guest({"--api-sock", sock});
  ASSERT_TRUE(guest.ok()) << guest.why();
  ChildProcess& vmm = guest.vmm();
  ASSERT_TRUE(guest.start(kClockScript));
  ASSERT_TRUE(vmm.wait_for_output("@tick=8 ", scaled(600s))) << vmm.out();

  const auto pause_at = std::chrono::steady_clock::now();
  const ApiReply paused = api_call(sock, "PATCH", "/vm", R"({"state": "Paused"})");
  ASSERT_EQ(paused.status, 204) << paused.body << paused.error;
  EXPECT_NE(api_call(sock, "GET", "/").body.find(R"("state":"Paused")"), std::string::npos);
  (void)vmm.wait_for_output("no such text", 1s);  // drain what was printed before the pause
  const long before = last_tick_begun(vmm.out());
  // Nothing runs while paused: no tick in 30 s.
  EXPECT_FALSE(vmm.wait_for_output("@tick=" + std::to_string(before + 1) + " ", 29s)) << vmm.out();
  const ApiReply resumed = api_call(sock, "PATCH", "/vm", R"({"state": "Resumed"})");
  ASSERT_EQ(resumed.status, 204) << resumed.body << resumed.error;
  const double host_paused = std::chrono::duration<double>(std::chrono::steady_clock::now() - pause_at).count();

  ASSERT_TRUE(vmm.wait_for_output("@lockups=", scaled(600s))) << vmm.out();
  const ChildResult result = guest.exit();
  ASSERT_FALSE(result.timed_out) << result.out;
  EXPECT_EQ(result.exit_status, 0) << result.err;
  const auto ticks = ticks_in(result.out);
  ASSERT_EQ(ticks.size(), 60u) << result.out;
  EXPECT_EQ(ticks.begin()->first, 1);
  EXPECT_EQ(ticks.rbegin()->first, 60);  // consecutive: none lost, none repeated
  ASSERT_TRUE(ticks.count(before) && ticks.count(before + 1)) << result.out;
  // The guest's clocks jumped by the pause (kvmclock keeps host time), within a tick's slack.
  // The tick whose clocks were read just before the pause may print after it, so the jump is
  // between `before` and `before + 1`, or between `before + 1` and `before + 2`.
  long date_jump = 0;
  double uptime_jump = 0;
  for (long t = before; t <= before + 1 && ticks.count(t + 1); ++t) {
    date_jump = std::max(date_jump, ticks.at(t + 1).date - ticks.at(t).date);
    uptime_jump = std::max(uptime_jump, ticks.at(t + 1).uptime - ticks.at(t).uptime);
  }
  EXPECT_GE(date_jump, 28) << result.out;
  EXPECT_LE(date_jump, static_cast<long>(host_paused) + 3) << result.out;
  EXPECT_GE(uptime_jump, 28.0) << result.out;
  EXPECT_LE(uptime_jump, host_paused + 3) << result.out;
  EXPECT_NE(result.out.find("@lockups=0"), std::string::npos) << result.out;
  EXPECT_EQ(result.out.find("soft lockup"), std::string::npos) << result.out;
  EXPECT_EQ(result.out.find("detected stall"), std::string::npos) << result.out;
}

// `seq 1 50000` written to vda before the snapshot: 288894 bytes.
constexpr long kSeqLast = 50000;
constexpr size_t kSeqBytes = 288894;

TEST(LinuxSnapshot, RestoredInANewProcessTheCounterDiskAndShellCarryOn) {
  GuestKit kit;
  KILN_REQUIRE_GUEST_KIT(kit);
  ScratchDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string sock = dir.file("api.sock");
  const std::string snap = dir.file("vm.snap");
  const std::string mem = dir.file("vm.mem");
  RestoredGuest guest({"--api-sock", sock});
  ASSERT_TRUE(guest.ok()) << guest.why();
  ChildProcess& vmm = guest.vmm();
  const std::string image = guest.disk("raw");  // the snapshot taken here names this copy
  ASSERT_TRUE(vmm.send("seq 1 " + std::to_string(kSeqLast) +
                       " > /dev/vda; sync; echo \"@before=$(head -c " + std::to_string(kSeqBytes) +
                       " /dev/vda | md5sum)\"; (i=0; while :; do i=$((i+1)); echo \"@tick=$i\"; sleep 0.3; done) &\n"));
  ASSERT_TRUE(vmm.wait_for_output("@tick=5\r\n", scaled(300s))) << vmm.out();

  ASSERT_EQ(api_call(sock, "PATCH", "/vm", R"({"state": "Paused"})").status, 204);
  const ApiReply created = api_call(sock, "PUT", "/snapshot/create",
                                    R"({"snapshot_type": "Full", "snapshot_path": ")" + snap +
                                        R"(", "mem_file_path": ")" + mem + R"("})");
  ASSERT_EQ(created.status, 204) << created.body << created.error;
  (void)vmm.wait_for_output("no such text", 500ms);
  const long before = last_tick_begun(vmm.out());
  const std::string before_sum = guest_values(vmm.out())["before"];
  ASSERT_FALSE(before_sum.empty()) << vmm.out();
  vmm.send_signal(SIGKILL);
  const std::string first_life = vmm.wait(30s).out;

  // Damaged snapshots are refused with a reason, before any vCPU runs.
  const std::string snapshot_bytes = read_file(snap);
  ASSERT_GT(snapshot_bytes.size(), 1024u);
  std::string flipped = snapshot_bytes;
  flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x40);
  ASSERT_TRUE(write_file(dir.file("flipped.snap"), flipped));
  ASSERT_TRUE(write_file(dir.file("short.snap"), snapshot_bytes.substr(0, snapshot_bytes.size() / 3)));
  for (const char* bad : {"flipped.snap", "short.snap"}) {
    const ChildResult r = run_child({KILN_BINARY, "restore", "--snapshot", dir.file(bad), "--mem", mem}, 60s);
    EXPECT_EQ(r.exit_status, 2) << bad << ": " << r.err;  // a snapshot that does not decode: usage error
    EXPECT_NE(r.err.find(dir.file(bad)), std::string::npos) << "the error should name the file: " << r.err;
    EXPECT_EQ(r.out.find("@tick="), std::string::npos) << bad << " ran the guest: " << r.out;
  }

  ChildProcess restored({KILN_BINARY, "restore", "--snapshot", snap, "--mem", mem}, ChildStdin::kPipe);
  ASSERT_TRUE(restored.wait_for_output("@tick=" + std::to_string(before + 3) + "\r\n", scaled(300s)))
      << restored.out() << "\nstderr of the restore is in the result below";
  // The console stream continues where it stopped (a line cut by the pause ends in the new
  // process): every tick once, in order, across both processes.
  const auto resumed_ticks = ticks_in(restored.out());
  ASSERT_FALSE(resumed_ticks.empty());
  EXPECT_GT(resumed_ticks.begin()->first, before) << restored.out();
  EXPECT_LE(resumed_ticks.begin()->first, before + 2) << restored.out();
  const auto all_ticks = ticks_in(first_life + restored.out());
  EXPECT_EQ(static_cast<long>(all_ticks.size()), all_ticks.rbegin()->first) << first_life << restored.out();
  ASSERT_TRUE(restored.send("echo alive-$((20+22)); echo \"@after=$(head -c " + std::to_string(kSeqBytes) +
                            " /dev/vda | md5sum)\"; cat /sys/block/vda/serial; echo; exit 0\n"));
  const ChildResult result = restored.wait(scaled(300s));
  ASSERT_FALSE(result.timed_out) << result.out;
  EXPECT_EQ(result.exit_status, 0) << result.err;
  EXPECT_NE(result.out.find("alive-42"), std::string::npos) << result.out;
  EXPECT_EQ(guest_values(result.out)["after"], before_sum) << result.out;
  EXPECT_NE(result.out.find("kiln-raw-0"), std::string::npos) << result.out;
  EXPECT_EQ(read_file(image).substr(0, kSeqBytes), seq_text(1, kSeqLast));
}

}  // namespace
}  // namespace kiln::test
