// GuestErrors (virtio/guest_errors.h): every guest mistake is counted, the log stays bounded
// however many there are, and a flood from several device threads at once loses no count.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "virtio/guest_errors.h"

namespace kiln::virtio {
namespace {

TEST(GuestErrors, CountsEveryErrorAndLogsABoundedNumberOfLines) {
  GuestErrors errors;
  errors.set_label("virtio-test");
  for (int i = 0; i < 100000; ++i) errors.report("bad chain {}", i);
  EXPECT_EQ(errors.count(), 100000u);
  // Ten in full, then one summary per quiet period (this loop is far shorter than one, unless the
  // machine stalls for 10 s: then one more).
  EXPECT_GE(errors.lines_logged(), GuestErrors::kFullLines);
  EXPECT_LE(errors.lines_logged(), GuestErrors::kFullLines + 2);
  EXPECT_EQ(errors.label(), "virtio-test");
}

TEST(GuestErrors, ThreadsFloodingTogetherLoseNoCount) {
  GuestErrors errors;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&errors] {
      for (int i = 0; i < 20000; ++i) errors.report("thread error {}", i);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.count(), 80000u);
  EXPECT_LE(errors.lines_logged(), GuestErrors::kFullLines + 2);
}

}  // namespace
}  // namespace kiln::virtio
