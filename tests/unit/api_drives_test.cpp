// PUT /drives/{id} before boot (root device first, one root at most) and PATCH /drives/{id}
// after boot (a new backing file for a running or paused VM's drive).
#include "api_test_fixture.h"

namespace kiln::api::test {
namespace {

using nlohmann::json;

json drive(const std::string& id, const std::string& path, bool root, bool read_only = false) {
  return {{"drive_id", id}, {"path_on_host", path}, {"is_root_device", root}, {"is_read_only", read_only}};
}

TEST_F(ApiTest, DrivesAreStoredWithTheRootFirst) {
  expect_no_content(client_.put("/drives/data", drive("data", data_disk_, false, true).dump()));
  json root = drive("rootfs", rootfs_, true);
  root["cache_type"] = "Writeback";
  root["io_engine"] = "Async";
  root["rate_limiter"] = nullptr;  // null is "no rate limiter"
  expect_no_content(client_.put("/drives/rootfs", root.dump()));
  const json drives = client_.get("/vm/config").json()["drives"];
  ASSERT_EQ(drives.size(), 2u);
  EXPECT_EQ(drives[0]["drive_id"], "rootfs");
  EXPECT_EQ(drives[0]["cache_type"], "Writeback");
  EXPECT_EQ(drives[1]["drive_id"], "data");
  EXPECT_EQ(drives[1]["is_read_only"], true);
  // Replacing a drive keeps one entry per id.
  expect_no_content(client_.put("/drives/data", drive("data", rootfs_, false).dump()));
  EXPECT_EQ(client_.get("/vm/config").json()["drives"].size(), 2u);
}

TEST_F(ApiTest, OnlyOneRootDevice) {
  expect_no_content(client_.put("/drives/a", drive("a", rootfs_, true).dump()));
  expect_fault(client_.put("/drives/b", drive("b", data_disk_, true).dump()), "Drive config error: A root block device already exists!");
  expect_no_content(client_.put("/drives/a", drive("a", data_disk_, true).dump()));  // updating the root is fine
}

TEST_F(ApiTest, DriveIdsAreChecked) {
  expect_fault(client_.put("/drives/other", drive("data", data_disk_, false).dump()),
               "The id from the path does not match the id from the body!");
  expect_fault(client_.put("/drives/a-b", drive("a-b", data_disk_, false).dump()),
               "API Resource IDs can only contain alphanumeric characters and underscores.");
  expect_fault(client_.put("/drives/", drive("", data_disk_, false).dump()), "The ID cannot be empty.");
  expect_fault(client_.put("/drives", drive("x", data_disk_, false).dump()), "The ID cannot be empty.");
}

TEST_F(ApiTest, DriveBodiesAreChecked) {
  expect_fault(client_.put("/drives/d", "not json"), "deserializing the json body");
  expect_fault(client_.put("/drives/d", R"({"drive_id": "d", "is_root_device": false})"), "missing field `path_on_host`");
  expect_fault(client_.put("/drives/d", json{{"drive_id", "d"}, {"path_on_host", data_disk_}}.dump()),
               "missing field `is_root_device`");
  json extra = drive("d", data_disk_, false);
  extra["readonly"] = true;
  expect_fault(client_.put("/drives/d", extra.dump()), "unknown field `readonly`");
  json limited = drive("d", data_disk_, false);
  limited["rate_limiter"] = {{"bandwidth", {{"size", 1000}, {"refill_time", 100}}}};
  expect_fault(client_.put("/drives/d", limited.dump()), "field `rate_limiter`: kiln does not rate-limit devices yet");
  json vhost = {{"drive_id", "d"}, {"is_root_device", false}, {"socket", "/run/vhost.sock"}};
  expect_fault(client_.put("/drives/d", vhost.dump()), "kiln has no vhost-user block devices");
  json cache = drive("d", data_disk_, false);
  cache["cache_type"] = "None";
  expect_fault(client_.put("/drives/d", cache.dump()), "unknown variant `None` for field `cache_type`");
  expect_fault(client_.put("/drives/d", drive("d", "/nonexistent.img", false).dump()),
               "Drive config error: path_on_host /nonexistent.img: No such file");
  expect_fault(client_.put("/drives/d", drive("d", dir_.path(), false).dump()), "not a regular file or block device");
  EXPECT_TRUE(client_.get("/vm/config").json()["drives"].empty());
}

TEST_F(ApiTest, DrivesAreRefusedAfterStart) {
  boot_minimal_vm();
  expect_fault(client_.put("/drives/late", drive("late", data_disk_, false).dump()),
               "The requested operation is not supported after starting the microVM.");
}

TEST_F(ApiTest, PatchDriveIsForAStartedVm) {
  expect_no_content(client_.put("/drives/data", drive("data", data_disk_, false).dump()));
  expect_fault(client_.patch("/drives/data", json{{"drive_id", "data"}, {"path_on_host", rootfs_}}.dump()),
               "The requested operation is not supported before starting the microVM.");
  EXPECT_TRUE(vmm_.calls().empty());
}

TEST_F(ApiTest, PatchDriveSwapsTheBackingFile) {
  expect_no_content(client_.put("/drives/data", drive("data", data_disk_, false).dump()));
  expect_no_content(client_.put("/drives/rootfs", drive("rootfs", rootfs_, true).dump()));
  boot_minimal_vm();
  const std::string fresh = dir_.file("fresh.img", 1 << 20);
  expect_no_content(client_.patch("/drives/data", json{{"drive_id", "data"}, {"path_on_host", fresh}}.dump()));
  // "data" is the second disk: the root device went first.
  EXPECT_EQ(vmm_.calls().back(), "update_drive 1 " + fresh);
  EXPECT_EQ(client_.get("/vm/config").json()["drives"][1]["path_on_host"], fresh);
  // Paused VMs take it too.
  expect_no_content(client_.patch("/vm", R"({"state": "Paused"})"));
  expect_no_content(client_.patch("/drives/rootfs", json{{"drive_id", "rootfs"}, {"path_on_host", data_disk_}}.dump()));
  EXPECT_EQ(vmm_.calls().back(), "update_drive 0 " + data_disk_);
  // Only drive_id: nothing to change.
  const size_t calls = vmm_.calls().size();
  expect_no_content(client_.patch("/drives/data", R"({"drive_id": "data"})"));
  EXPECT_EQ(vmm_.calls().size(), calls);
}

TEST_F(ApiTest, PatchDriveRefusesBadRequests) {
  expect_no_content(client_.put("/drives/data", drive("data", data_disk_, false).dump()));
  boot_minimal_vm();
  expect_fault(client_.patch("/drives/data", "{"), "deserializing the json body");
  expect_fault(client_.patch("/drives/data", json{{"path_on_host", rootfs_}}.dump()), "missing field `drive_id`");
  expect_fault(client_.patch("/drives/data", json{{"drive_id", "data"}, {"is_read_only", true}}.dump()),
               "unknown field `is_read_only`");
  expect_fault(client_.patch("/drives/x", json{{"drive_id", "data"}, {"path_on_host", rootfs_}}.dump()),
               "does not match the id from the body");
  expect_fault(client_.patch("/drives/nope", json{{"drive_id", "nope"}, {"path_on_host", rootfs_}}.dump()),
               "Drive config error: no drive with id `nope`");
  expect_fault(client_.patch("/drives/data", R"({"drive_id": "data", "path_on_host": "/nonexistent"})"),
               "path_on_host /nonexistent");
  vmm_.fail_next("disk busy");
  expect_fault(client_.patch("/drives/data", json{{"drive_id", "data"}, {"path_on_host", rootfs_}}.dump()),
               "Drive config error: Unable to patch the block device: disk busy");
  EXPECT_EQ(client_.get("/vm/config").json()["drives"][0]["path_on_host"], data_disk_);  // unchanged
}

}  // namespace
}  // namespace kiln::api::test
