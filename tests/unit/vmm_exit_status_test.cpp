// kiln's exit status for a VM that cannot be built or restored: the error's kind decides.
#include <gtest/gtest.h>

#include <cerrno>

#include "vmm/stop_reason.h"

namespace kiln {
namespace {

TEST(ExitStatus, AConfigErrorIsAUsageError) {
  Status bad_kernel = fail_kind(ErrorKind::kConfig, "not a Linux kernel");
  EXPECT_EQ(exit_status(bad_kernel.error()), kExitUsage);
  // Context added on the way up keeps the kind.
  Status wrapped = wrap("--kernel /tmp/junk", bad_kernel.error());
  EXPECT_EQ(exit_status(wrapped.error()), kExitUsage);
}

TEST(ExitStatus, EveryOtherKindIsAKilnError) {
  for (ErrorKind k : {ErrorKind::kUnspecified, ErrorKind::kGuest, ErrorKind::kIo, ErrorKind::kKvm, ErrorKind::kState}) {
    Status e = fail_kind(k, "something");
    EXPECT_EQ(exit_status(e.error()), kExitVmmError) << kind_name(k);
  }
  EXPECT_EQ(exit_status(fail_errno("open", ENOENT).value()), kExitVmmError);
}

}  // namespace
}  // namespace kiln
