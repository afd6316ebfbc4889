// The kiln guest kernel booted natively on a kvm_pvm host (label linux-pvm; scripts/dev runs it
// there, the other Linux tests go to the kvm-box). It proves what such a host needs from kiln: the
// default "pvm" template with "noxsave" added (the guest reads CPUID natively), the instructions
// KVM's emulator lacks emulated in user space, the syscall shim, and the virtio-mmio disk and rng
// working through all of that. One boot of ~35 s there; elsewhere it skips, naming why.
#include <gtest/gtest.h>

#include <cstdio>

#include "kvm_test_env.h"
#include "linux_guest.h"

namespace kiln::test {
namespace {

TEST(LinuxPvm, KilnKernelRunsWithDiskAndRng) {
  if (!host_is_kvm_pvm()) {
    std::fprintf(stderr, "\n*** SKIPPED: this host's KVM is not kvm_pvm ***\n\n");
    GTEST_SKIP() << "not a kvm_pvm host";
  }
  GuestKit kit;
  KILN_REQUIRE_GUEST_KIT(kit);
  TempDir dir;
  std::string image(1 << 20, '\0');
  for (size_t i = 0; i < image.size(); ++i) image[i] = static_cast<char>((i * 7 + i / 4096) & 0xff);
  ASSERT_TRUE(write_file(dir.file("disk.img"), image));
  const std::string expect_sha = run_host_shell("sha256sum < " + dir.file("disk.img") + " | cut -d' ' -f1").out;
  GuestOptions options;
  options.cpus = 2;
  options.kiln_args = {"--disk", dir.file("disk.img"), "--rng"};
  auto run = run_in_guest(kit,
                          "echo @cpus=$(nproc); echo @sha=$(sha256sum < /dev/vda | cut -d' ' -f1); "
                          "echo pvm-was-here | dd of=/dev/vda bs=512 seek=100 conv=fsync 2>/dev/null; "
                          "echo @written=$?; echo @rng=$(dd if=/dev/hwrng bs=64 count=1 2>/dev/null | wc -c); "
                          "echo @xsave=$(grep -c -w xsave /proc/cpuinfo)",
                          options);
  ASSERT_NO_FATAL_FAILURE(expect_agent_ran(run));
  auto v = guest_values(run.output);
  EXPECT_EQ(v["cpus"], "2");
  EXPECT_EQ(v["sha"] + "\n", expect_sha) << "the disk's bytes read in the guest";
  EXPECT_EQ(v["written"], "0");
  EXPECT_EQ(v["rng"], "64");
  EXPECT_EQ(v["xsave"], "0") << "noxsave: the kernel uses FXSAVE";
  EXPECT_NE(run.vmm.err.find("'noxsave' added to the kernel command line"), std::string::npos) << run.vmm.err;
  EXPECT_EQ(read_file(dir.file("disk.img")).substr(100 * 512, 13), "pvm-was-here\n");
}

}  // namespace
}  // namespace kiln::test
