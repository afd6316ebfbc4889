// How kiln ends: signals with several vCPUs, guest failures, bad kernels and snapshots.
#include <gtest/gtest.h>
#include <signal.h>

#include "guest_report.h"
#include "kvm_test_env.h"

namespace kiln::test {
namespace {

using namespace std::chrono_literals;

TEST(Lifecycle, SigtermStopsFourVcpusWithinASecond) {
  KILN_REQUIRE_KVM();
  ChildProcess kiln(kiln_run({"--kernel", KILN_GUEST_PVH, "--cpus", "4", "--cmdline", "action=spin"}));
  ASSERT_TRUE(kiln.wait_for_output("spinning", scaled(30s))) << kiln.out();
  const auto sent = std::chrono::steady_clock::now();
  kiln.send_signal(SIGTERM);
  auto r = kiln.wait(scaled(10s));
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - sent);
  ASSERT_FALSE(r.timed_out) << "kiln ignored SIGTERM";
  EXPECT_EQ(r.exit_status, 128 + SIGTERM) << r.err;
  EXPECT_NE(r.err.find("stopped by signal 15"), std::string::npos) << r.err;
  EXPECT_LT(took, scaled(1000ms)) << "SIGTERM took " << took.count() << " ms";
}

TEST(Lifecycle, SigintStopsToo) {
  KILN_REQUIRE_KVM();
  ChildProcess kiln(kiln_run({"--kernel", KILN_GUEST_ELF64, "--cpus", "2", "--cmdline", "action=hlt"}));
  ASSERT_TRUE(kiln.wait_for_output("result ok", scaled(30s))) << kiln.out();
  kiln.send_signal(SIGINT);
  auto r = kiln.wait(scaled(10s));
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_status, 128 + SIGINT) << r.err;
}

TEST(Lifecycle, EmulationFailureEndsWithAClearMessage) {
  KILN_REQUIRE_KVM();
  auto r = run_child(kiln_run({"--kernel", KILN_GUEST_PVH, "--cmdline", "action=emufail"}), scaled(30s));
  ASSERT_FALSE(r.timed_out) << "kiln hung on an emulation failure: " << r.out;
  EXPECT_NE(r.out.find("emufail"), std::string::npos) << r.out;
  EXPECT_EQ(r.exit_status, 3) << r.err;
  EXPECT_NE(r.err.find("could not emulate an instruction at RIP 0x"), std::string::npos) << r.err;
  // popcnt rax, [abs32]: f3 48 0f b8 04 25 ...
  EXPECT_NE(r.err.find("f3 48 0f b8"), std::string::npos) << r.err;
}

TEST(Lifecycle, NotAKernelIsRefusedByNameAsAUsageError) {
  KILN_REQUIRE_KVM();
  TempFile junk(random_bytes(4096, 1));
  auto r = run_child(kiln_run({"--kernel", junk.path()}), scaled(30s));
  // ErrorKind::kConfig from the kernel loader: exit status 2, like a missing file.
  EXPECT_EQ(r.exit_status, 2) << r.err;
  EXPECT_NE(r.err.find("--kernel " + junk.path()), std::string::npos) << r.err;
}

TEST(Lifecycle, RestoringWhatIsNotASnapshotIsAUsageError) {
  // Needs no KVM: the snapshot is read and checked before /dev/kvm is opened.
  TempFile junk(random_bytes(4096, 2));
  auto r = run_child({KILN_BINARY, "restore", "--snapshot", junk.path(), "--mem", junk.path()}, scaled(30s));
  EXPECT_EQ(r.exit_status, 2) << r.err;
  EXPECT_NE(r.err.find(junk.path() + " is not a kiln snapshot"), std::string::npos) << r.err;
}

TEST(Lifecycle, AMissingSnapshotFileIsAKilnError) {
  // A failed read is ErrorKind::kIo, not a usage error (kiln checks no restore path beforehand).
  auto r = run_child({KILN_BINARY, "restore", "--snapshot", "/nonexistent/vm.snap", "--mem", "/nonexistent/vm.mem"},
                     scaled(30s));
  EXPECT_EQ(r.exit_status, 1) << r.err;
  EXPECT_NE(r.err.find("/nonexistent/vm.snap: No such file or directory"), std::string::npos) << r.err;
}

TEST(Lifecycle, MissingKernelFileIsAUsageError) {
  // Needs no KVM: arguments are checked before /dev/kvm is opened.
  auto r = run_child(kiln_run({"--kernel", "/nonexistent"}), 30s);
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("--kernel /nonexistent: No such file or directory"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace kiln::test
