// kiln restore --disk-path: a snapshot's drives moved to other files, named as GET /vm/config names them.
#include <gtest/gtest.h>

#include "vmm/restore_overrides.h"

namespace kiln {
namespace {

VmConfig two_disks() {
  VmConfig c;
  c.disks = {DiskConfig{"", "/a.img", false, false, "s0"}, DiskConfig{"rootfs", "/b.img", true, false, ""}};
  return c;
}

TEST(RestoreOverrides, ParsesIdEqualsPath) {
  auto o = parse_disk_path_override("disk0=/tmp/x=y.img");
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->drive_id, "disk0");
  EXPECT_EQ(o->path, "/tmp/x=y.img");
  for (const char* bad : {"disk0", "=/p", "disk0=", ""}) {
    auto r = parse_disk_path_override(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find("DRIVE_ID=PATH"), std::string::npos) << r.error().message;
  }
}

TEST(RestoreOverrides, MovesDrivesByTheirIdOrPosition) {
  VmConfig c = two_disks();
  const std::vector<DiskPathOverride> moves = {{"rootfs", "/new/b.img"}, {"disk0", "/new/a.img"}};
  ASSERT_TRUE(apply_disk_paths(c, moves));
  EXPECT_EQ(c.disks[0].path, "/new/a.img");
  EXPECT_EQ(c.disks[1].path, "/new/b.img");
  // Everything else the guest sees stays.
  EXPECT_EQ(c.disks[0].serial, "s0");
  EXPECT_TRUE(c.disks[1].readonly);
}

TEST(RestoreOverrides, UnknownOrRepeatedDrivesAreRefusedByName) {
  VmConfig c = two_disks();
  auto unknown = apply_disk_paths(c, std::vector<DiskPathOverride>{{"disk1", "/x"}});  // disk 1 is "rootfs"
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("no drive 'disk1' (its drives are disk0, rootfs)"), std::string::npos)
      << unknown.error().message;
  auto twice = apply_disk_paths(c, std::vector<DiskPathOverride>{{"disk0", "/x"}, {"disk0", "/y"}});
  ASSERT_FALSE(twice);
  EXPECT_NE(twice.error().message.find("'disk0' twice"), std::string::npos);
  VmConfig none;
  auto empty = apply_disk_paths(none, std::vector<DiskPathOverride>{{"disk0", "/x"}});
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().message.find("it has no drives"), std::string::npos);
}

TEST(RestoreOverrides, VsockSocketMoves) {
  VmConfig c = two_disks();
  EXPECT_TRUE(apply_vsock_uds_path(c, std::nullopt));
  auto none = apply_vsock_uds_path(c, std::string("/new.sock"));
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("no vsock device"), std::string::npos) << none.error().message;
  c.vsock = VsockConfig{3, "/old.sock", ""};
  ASSERT_TRUE(apply_vsock_uds_path(c, std::string("/new.sock")));
  EXPECT_EQ(c.vsock->uds_path, "/new.sock");
  EXPECT_EQ(c.vsock->guest_cid, 3u);
}

}  // namespace
}  // namespace kiln
