// PUT /snapshot/create (a paused VM) and PUT /snapshot/load (a fresh kiln, nothing configured).
#include "api_test_fixture.h"

namespace kiln::api::test {
namespace {

using nlohmann::json;

const std::string kCreate = R"({"snapshot_type": "Full", "snapshot_path": "/tmp/vm.state", "mem_file_path": "/tmp/vm.mem"})";

TEST_F(ApiTest, SnapshotCreateNeedsAPausedVm) {
  expect_fault(client_.put("/snapshot/create", kCreate), "not supported before starting the microVM");
  boot_minimal_vm();
  expect_fault(client_.put("/snapshot/create", kCreate), "Create snapshot error: the microVM must be paused first");
  expect_no_content(client_.patch("/vm", R"({"state": "Paused"})"));
  expect_no_content(client_.put("/snapshot/create", kCreate));
  ASSERT_TRUE(vmm_.created());
  EXPECT_EQ(vmm_.created()->snapshot_path, "/tmp/vm.state");
  EXPECT_EQ(vmm_.created()->mem_file_path, "/tmp/vm.mem");
  vmm_.fail_next("disk full");
  expect_fault(client_.put("/snapshot/create", kCreate), "Create snapshot error: disk full");
}

TEST_F(ApiTest, SnapshotCreateBodiesAreChecked) {
  boot_minimal_vm();
  expect_no_content(client_.patch("/vm", R"({"state": "Paused"})"));
  expect_fault(client_.put("/snapshot/create", "[]"), "expected a JSON object");
  expect_fault(client_.put("/snapshot/create", R"({"snapshot_path": "/tmp/s"})"), "missing field `mem_file_path`");
  expect_fault(client_.put("/snapshot/create", R"({"mem_file_path": "/tmp/m"})"), "missing field `snapshot_path`");
  expect_fault(client_.put("/snapshot/create", R"({"snapshot_path": "/s", "mem_file_path": "/m", "compress": true})"),
               "unknown field `compress`");
  expect_fault(client_.put("/snapshot/create", R"({"snapshot_type": "Diff", "snapshot_path": "/s", "mem_file_path": "/m"})"),
               "kiln only creates Full snapshots");
  expect_fault(client_.put("/snapshot/create", R"({"snapshot_type": "Half", "snapshot_path": "/s", "mem_file_path": "/m"})"),
               "unknown variant `Half`");
  EXPECT_FALSE(vmm_.created());
}

TEST_F(ApiTest, SnapshotLoadOnAFreshKiln) {
  // The logger and metrics do not count as configuration (as in Firecracker).
  expect_no_content(client_.put("/metrics", json{{"metrics_path", dir_.path() + "/m.json"}}.dump()));
  expect_no_content(client_.put("/snapshot/load", R"({"snapshot_path": "/s", "mem_file_path": "/m", "resume_vm": true})"));
  ASSERT_TRUE(vmm_.loaded());
  EXPECT_EQ(vmm_.loaded()->snapshot_path, "/s");
  EXPECT_EQ(vmm_.loaded()->mem_file_path, "/m");
  EXPECT_TRUE(vmm_.loaded()->resume_vm);
  EXPECT_EQ(client_.get("/").json()["state"], "Running");
  expect_fault(client_.put("/snapshot/load", R"({"snapshot_path": "/s", "mem_file_path": "/m"})"),
               "not supported after starting the microVM");
}

TEST_F(ApiTest, AfterASnapshotLoadVmConfigShowsTheRestoredVmAndItsDrivesCanBePatched) {
  expect_no_content(client_.put("/logger", json{{"log_path", dir_.path() + "/log.txt"}}.dump()));
  expect_no_content(client_.put("/snapshot/load", R"({"snapshot_path": "/s", "mem_file_path": "/m", "resume_vm": true})"));
  const json config = client_.get("/vm/config").json();
  EXPECT_EQ(config["boot-source"]["kernel_image_path"], "/snap/vmlinux");
  EXPECT_EQ(config["machine-config"]["vcpu_count"], 2);
  EXPECT_EQ(config["machine-config"]["mem_size_mib"], 512);
  ASSERT_EQ(config["drives"].size(), 2u) << config.dump();
  EXPECT_EQ(config["drives"][0]["drive_id"], "rootfs");
  EXPECT_EQ(config["drives"][1]["drive_id"], "disk1");
  EXPECT_EQ(config["drives"][1]["path_on_host"], "/snap/data.img");
  EXPECT_EQ(config["logger"]["log_path"], dir_.path() + "/log.txt") << "the logger set before the load stays";
  const std::string image = dir_.file("new.img", 1 << 20);
  expect_no_content(client_.patch("/drives/disk1", json{{"drive_id", "disk1"}, {"path_on_host", image}}.dump()));
  EXPECT_EQ(vmm_.calls().back(), "update_drive 1 " + image);
  EXPECT_EQ(client_.get("/vm/config").json()["drives"][1]["path_on_host"], image);
}

TEST_F(ApiTest, SnapshotLoadTakesAFileMemoryBackend) {
  expect_no_content(client_.put("/snapshot/load",
                                R"({"snapshot_path": "/s", "mem_backend": {"backend_type": "File", "backend_path": "/mem"}})"));
  ASSERT_TRUE(vmm_.loaded());
  EXPECT_EQ(vmm_.loaded()->mem_file_path, "/mem");
  EXPECT_FALSE(vmm_.loaded()->resume_vm);
  EXPECT_EQ(client_.get("/").json()["state"], "Paused");
}

TEST_F(ApiTest, SnapshotLoadTakesNetworkOverrides) {
  expect_no_content(client_.put(
      "/snapshot/load",
      R"({"snapshot_path": "/s", "mem_file_path": "/m", "network_overrides": [{"iface_id": "eth0", "host_dev_name": "tap7"}]})"));
  ASSERT_TRUE(vmm_.loaded());
  ASSERT_EQ(vmm_.loaded()->network_overrides.size(), 1u);
  EXPECT_EQ(vmm_.loaded()->network_overrides[0].iface_id, "eth0");
  EXPECT_EQ(vmm_.loaded()->network_overrides[0].host_dev_name, "tap7");
}

TEST_F(ApiTest, SnapshotLoadTakesAVsockOverride) {
  expect_no_content(client_.put("/snapshot/load",
                                R"({"snapshot_path": "/s", "mem_file_path": "/m", "vsock_override": {"uds_path": "/new.sock"}})"));
  ASSERT_TRUE(vmm_.loaded());
  EXPECT_EQ(vmm_.loaded()->vsock_uds_path, "/new.sock");
}

TEST_F(ApiTest, SnapshotLoadBodiesAreChecked) {
  const auto load = [&](const std::string& body) { return client_.put("/snapshot/load", body); };
  expect_fault(load("{"), "deserializing the json body");
  expect_fault(load(R"({"mem_file_path": "/m"})"), "missing field `snapshot_path`");
  expect_fault(load(R"({"snapshot_path": "/s"})"), "either `mem_backend` or `mem_file_path` is required");
  expect_fault(load(R"({"snapshot_path": "/s", "mem_file_path": "/m", "mem_backend": {"backend_type": "File", "backend_path": "/m"}})"),
               "too many fields");
  expect_fault(load(R"({"snapshot_path": "/s", "mem_backend": {"backend_type": "Uffd", "backend_path": "/uffd.sock"}})"),
               "kiln loads guest memory from a File only");
  expect_fault(load(R"({"snapshot_path": "/s", "mem_backend": {"backend_path": "/m"}})"), "mem_backend: missing field `backend_type`");
  expect_fault(load(R"({"snapshot_path": "/s", "mem_file_path": "/m", "enable_diff_snapshots": true})"),
               "enable_diff_snapshots: not supported by kiln yet");
  expect_fault(load(R"({"snapshot_path": "/s", "mem_file_path": "/m", "network_overrides": [{"iface_id": "eth0"}]})"),
               "network_overrides: missing field `host_dev_name`");
  expect_fault(load(R"({"snapshot_path": "/s", "mem_file_path": "/m", "resume": true})"), "unknown field `resume`");
  expect_fault(load(R"({"snapshot_path": "/s", "mem_file_path": "/m", "vsock_override": {"path": "/x"}})"),
               "vsock_override: unknown field `path`");
  EXPECT_FALSE(vmm_.loaded());
  vmm_.fail_next("bad snapshot version");
  expect_fault(load(R"({"snapshot_path": "/s", "mem_file_path": "/m"})"), "Load snapshot error: bad snapshot version");
}

TEST_F(ApiTest, SnapshotLoadIsRefusedAfterConfiguration) {
  expect_no_content(client_.put("/machine-config", R"({"vcpu_count": 1, "mem_size_mib": 128})"));
  expect_fault(client_.put("/snapshot/load", R"({"snapshot_path": "/s", "mem_file_path": "/m"})"),
               "Load snapshot error: Loading a microVM snapshot not allowed after configuring boot-specific resources.");
  EXPECT_FALSE(vmm_.loaded());
}

}  // namespace
}  // namespace kiln::api::test
