#include <gtest/gtest.h>

#include "kvm/kvm.h"

namespace kiln {
namespace {

TEST(KvmOpen, MissingDeviceNamesTheFix) {
  auto kvm = Kvm::open("/nonexistent/kvm");
  ASSERT_FALSE(kvm);
  EXPECT_NE(kvm.error().message.find("/nonexistent/kvm does not exist"), std::string::npos);
  EXPECT_NE(kvm.error().message.find("modprobe"), std::string::npos);
  EXPECT_EQ(kvm.error().kind, ErrorKind::kKvm);
}

TEST(KvmOpen, NotAKvmDevice) {
  // /dev/null opens but answers no KVM ioctl.
  auto kvm = Kvm::open("/dev/null");
  ASSERT_FALSE(kvm);
  EXPECT_NE(kvm.error().message.find("API version"), std::string::npos) << kvm.error().message;
  EXPECT_EQ(kvm.error().kind, ErrorKind::kKvm);
}

TEST(KvmOpen, RequiredCapabilitiesAreNamed) {
  for (const auto& cap : required_capabilities()) EXPECT_EQ(std::string(cap.name).rfind("KVM_CAP_", 0), 0u);
}

}  // namespace
}  // namespace kiln
