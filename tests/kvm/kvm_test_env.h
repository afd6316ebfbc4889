// Shared set-up for tests that boot guests under kiln: paths, /dev/kvm presence, temp files.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "child_process.h"

namespace kiln::test {

inline bool have_kvm() { return ::access("/dev/kvm", R_OK | W_OK) == 0; }
// The host's KVM is kvm_pvm (as x86::host_is_kvm_pvm() decides).
inline bool host_is_kvm_pvm() { return ::access("/sys/module/kvm_pvm", F_OK) == 0; }
// The command line a guest gets from `kiln run --cmdline C` with the default CPU template: on
// kvm_pvm hosts kiln adds "noxsave" (x86::pvm_kernel_parameters; the guest reads CPUID natively).
inline std::string as_booted(const std::string& cmdline) {
  return host_is_kvm_pvm() ? cmdline + " noxsave" : cmdline;
}

// Skips loudly when the host has no /dev/kvm (the only reason a KVM test may skip).
#define KILN_REQUIRE_KVM()                                                                        \
  do {                                                                                            \
    if (!::kiln::test::have_kvm()) {                                                              \
      std::fprintf(stderr, "\n*** SKIPPED: /dev/kvm is not available on this host; this test "    \
                           "needs real KVM (scripts/dev test runs it inside the kvm-box) ***\n\n"); \
      GTEST_SKIP() << "/dev/kvm is not available";                                                \
    }                                                                                             \
  } while (0)

// Time limits scale with KILN_TEST_TIME_SCALE (e.g. under nested KVM in the kvm-box).
inline std::chrono::milliseconds scaled(std::chrono::milliseconds base) {
  const char* s = std::getenv("KILN_TEST_TIME_SCALE");
  const double scale = s != nullptr ? std::atof(s) : 1.0;
  return std::chrono::milliseconds(static_cast<long>(static_cast<double>(base.count()) * (scale > 0 ? scale : 1.0)));
}

// A file under the test's temp dir, removed at destruction.
class TempFile {
 public:
  explicit TempFile(const std::vector<uint8_t>& bytes);
  ~TempFile();
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed);

inline std::vector<std::string> kiln_run(std::vector<std::string> extra) {
  std::vector<std::string> argv{KILN_BINARY, "run"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

}  // namespace kiln::test
