// GET / and /version, PUT /actions (InstanceStart, SendCtrlAltDel, FlushMetrics) and PATCH /vm:
// what each does and in which state it is allowed.
#include <fstream>
#include <sstream>

#include "api_test_fixture.h"

namespace kiln::api::test {
namespace {

using nlohmann::json;

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST_F(ApiTest, InstanceInfoFollowsTheState) {
  const HttpReply reply = client_.get("/");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.json(), (json{{"id", "anonymous-instance"}, {"state", "Not started"}, {"vmm_version", "9.9.9"},
                                {"app_name", "kiln"}}));
  boot_minimal_vm();
  EXPECT_EQ(client_.get("/").json()["state"], "Running");
  expect_no_content(client_.patch("/vm", R"({"state": "Paused"})"));
  EXPECT_EQ(client_.get("/").json()["state"], "Paused");
  EXPECT_EQ(client_.get("/version").json(), (json{{"firecracker_version", "9.9.9"}}));
}

TEST_F(ApiTest, InstanceIdComesFromTheOptions) {
  ApiOptions options;
  options.instance_id = "vm42";
  start_server(std::move(options));
  EXPECT_EQ(client_.get("/").json()["id"], "vm42");
}

TEST_F(ApiTest, ActionBodiesAreChecked) {
  expect_fault(client_.put("/actions", ""), "Empty PUT request.");
  expect_fault(client_.put("/actions", "{'action_type': 1}"), "deserializing the json body");
  expect_fault(client_.put("/actions", "{}"), "missing field `action_type`");
  expect_fault(client_.put("/actions", R"({"action_type": "Reboot"})"),
               "unknown variant `Reboot` for field `action_type`, expected one of `FlushMetrics`, `InstanceStart`, `SendCtrlAltDel`");
  expect_fault(client_.put("/actions", R"({"action_type": "InstanceStart", "payload": 1})"), "unknown field `payload`");
  EXPECT_TRUE(vmm_.calls().empty());
}

TEST_F(ApiTest, InstanceStartNeedsABootSource) {
  expect_fault(client_.put("/actions", R"({"action_type": "InstanceStart"})"),
               "Start microvm error: Cannot start microvm without kernel configuration.");
  EXPECT_EQ(vmm_.state(), VmState::kNotStarted);
}

TEST_F(ApiTest, InstanceStartRechecksFilesThatVanished) {
  expect_no_content(client_.put("/boot-source", json{{"kernel_image_path", kernel_}}.dump()));
  std::filesystem::remove(kernel_);
  expect_fault(client_.put("/actions", R"({"action_type": "InstanceStart"})"), "Start microvm error: kernel_image_path");
  EXPECT_TRUE(vmm_.calls().empty());
}

TEST_F(ApiTest, InstanceStartOnlyOnce) {
  boot_minimal_vm();
  expect_fault(client_.put("/actions", R"({"action_type": "InstanceStart"})"),
               "The requested operation is not supported after starting the microVM.");
  // Even while the VMM has yet to report the VM running, it counts as started.
  vmm_.set_state(VmState::kNotStarted);
  expect_fault(client_.put("/actions", R"({"action_type": "InstanceStart"})"), "not supported after starting");
  expect_fault(client_.put("/boot-source", nlohmann::json{{"kernel_image_path", kernel_}}.dump()),
               "not supported after starting");
  EXPECT_EQ(vmm_.calls(), std::vector<std::string>{"start"});
}

TEST_F(ApiTest, AFailedStartCanBeRetried) {
  expect_no_content(client_.put("/boot-source", json{{"kernel_image_path", kernel_}}.dump()));
  vmm_.fail_next("no /dev/kvm");
  expect_fault(client_.put("/actions", R"({"action_type": "InstanceStart"})"), "Start microvm error: no /dev/kvm");
  EXPECT_EQ(client_.get("/").json()["state"], "Not started");
  expect_no_content(client_.put("/actions", R"({"action_type": "InstanceStart"})"));
  EXPECT_EQ(client_.get("/").json()["state"], "Running");
}

TEST_F(ApiTest, SendCtrlAltDelNeedsARunningVm) {
  expect_fault(client_.put("/actions", R"({"action_type": "SendCtrlAltDel"})"),
               "The requested operation is not supported before starting the microVM.");
  boot_minimal_vm();
  expect_no_content(client_.put("/actions", R"({"action_type": "SendCtrlAltDel"})"));
  EXPECT_EQ(vmm_.calls().back(), "ctrl_alt_del");
  vmm_.fail_next("i8042: buffer full");
  expect_fault(client_.put("/actions", R"({"action_type": "SendCtrlAltDel"})"), "i8042: buffer full");
}

TEST_F(ApiTest, FlushMetricsWritesOneLinePerFlush) {
  const std::string metrics = dir_.path() + "/metrics.json";
  expect_fault(client_.put("/actions", R"({"action_type": "FlushMetrics"})"), "not supported before starting the microVM");
  expect_no_content(client_.put("/metrics", json{{"metrics_path", metrics}}.dump()));
  boot_minimal_vm();
  expect_no_content(client_.put("/actions", R"({"action_type": "FlushMetrics"})"));
  expect_no_content(client_.put("/actions", R"({"action_type": "FlushMetrics"})"));
  EXPECT_EQ(read_all(metrics), "{\"vcpu\":{\"exits\":42}}\n{\"vcpu\":{\"exits\":42}}\n");
}

TEST_F(ApiTest, FlushMetricsWithoutAMetricsFileDoesNothing) {
  boot_minimal_vm();
  expect_no_content(client_.put("/actions", R"({"action_type": "FlushMetrics"})"));
}

TEST_F(ApiTest, PauseAndResume) {
  expect_fault(client_.patch("/vm", R"({"state": "Paused"})"),
               "The requested operation is not supported before starting the microVM.");
  boot_minimal_vm();
  expect_no_content(client_.patch("/vm", R"({"state": "Paused"})"));
  expect_no_content(client_.patch("/vm", R"({"state": "Resumed"})"));
  EXPECT_EQ(vmm_.calls(), (std::vector<std::string>{"start", "pause", "resume"}));
  vmm_.fail_next("vCPU 1 did not stop");
  expect_fault(client_.patch("/vm", R"({"state": "Paused"})"), "vCPU 1 did not stop");
}

TEST_F(ApiTest, VmStateBodiesAreChecked) {
  boot_minimal_vm();
  expect_fault(client_.patch("/vm", ""), "Empty PATCH request.");
  expect_fault(client_.patch("/vm", "{"), "deserializing the json body");
  expect_fault(client_.patch("/vm", "{}"), "missing field `state`");
  expect_fault(client_.patch("/vm", R"({"state": "Stopped"})"), "unknown variant `Stopped` for field `state`");
  expect_fault(client_.patch("/vm", R"({"state": "Paused", "now": true})"), "unknown field `now`");
  expect_fault(client_.put("/vm", R"({"state": "Paused"})"), "Invalid request method and/or path: PUT /vm.");
  EXPECT_EQ(vmm_.calls(), std::vector<std::string>{"start"});
}

}  // namespace
}  // namespace kiln::api::test
