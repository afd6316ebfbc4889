// PUT /boot-source, PUT/PATCH/GET /machine-config: happy paths, bad JSON, missing and unknown
// fields, bad values, and the post-boot refusal.
#include "api_test_fixture.h"

namespace kiln::api::test {
namespace {

using nlohmann::json;

TEST_F(ApiTest, BootSourceIsStored) {
  expect_no_content(client_.put(
      "/boot-source", json{{"kernel_image_path", kernel_}, {"initrd_path", initrd_}, {"boot_args", "console=ttyS0"}}.dump()));
  const json config = client_.get("/vm/config").json();
  EXPECT_EQ(config["boot-source"],
            (json{{"kernel_image_path", kernel_}, {"initrd_path", initrd_}, {"boot_args", "console=ttyS0"}}));
}

TEST_F(ApiTest, BootSourceRefusesBadBodies) {
  expect_fault(client_.put("/boot-source", ""), "Empty PUT request.");
  expect_fault(client_.put("/boot-source", "{\"kernel_image_path\": "), "deserializing the json body");
  expect_fault(client_.put("/boot-source", "[1, 2]"), "expected a JSON object");
  expect_fault(client_.put("/boot-source", R"({"boot_args": "x"})"), "missing field `kernel_image_path`");
  expect_fault(client_.put("/boot-source", json{{"kernel_image_path", kernel_}, {"kernel", "x"}}.dump()),
               "unknown field `kernel`, expected one of `kernel_image_path`, `initrd_path`, `boot_args`");
  expect_fault(client_.put("/boot-source", json{{"kernel_image_path", kernel_}, {"boot_args", 7}}.dump()),
               "invalid type for field `boot_args`: integer `7`, expected a string");
  expect_fault(client_.put("/boot-source", json{{"kernel_image_path", kernel_ + std::string(1, '\0') + "x"}}.dump()),
               "contains a NUL character");
  EXPECT_TRUE(client_.get("/vm/config").json()["boot-source"].is_null());  // nothing was stored
}

TEST_F(ApiTest, BootSourceChecksTheFiles) {
  expect_fault(client_.put("/boot-source", R"({"kernel_image_path": "/nonexistent/vmlinux"})"),
               "Boot source error: kernel_image_path /nonexistent/vmlinux: No such file");
  expect_fault(client_.put("/boot-source", json{{"kernel_image_path", dir_.path()}}.dump()), "not a regular file");
  expect_fault(client_.put("/boot-source", json{{"kernel_image_path", kernel_}, {"initrd_path", "/nonexistent"}}.dump()),
               "Boot source error: initrd_path /nonexistent");
}

TEST_F(ApiTest, BootSourceIsRefusedAfterStart) {
  boot_minimal_vm();
  expect_fault(client_.put("/boot-source", json{{"kernel_image_path", kernel_}}.dump()),
               "The requested operation is not supported after starting the microVM.");
}

TEST_F(ApiTest, MachineConfigHasFirecrackersDefaults) {
  const HttpReply reply = client_.get("/machine-config");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.headers.at("content-type"), "application/json");
  EXPECT_EQ(reply.json(), (json{{"vcpu_count", 1}, {"mem_size_mib", 128}, {"smt", false}, {"track_dirty_pages", false},
                                {"huge_pages", "None"}}));
}

TEST_F(ApiTest, MachineConfigPutAndGet) {
  expect_no_content(client_.put("/machine-config",
                                R"({"vcpu_count": 4, "mem_size_mib": 512, "smt": false, "cpu_template": "pvm",
                                    "track_dirty_pages": false, "huge_pages": "None"})"));
  const json m = client_.get("/machine-config").json();
  EXPECT_EQ(m["vcpu_count"], 4);
  EXPECT_EQ(m["mem_size_mib"], 512);
  EXPECT_EQ(m["cpu_template"], "pvm");
  // Firecracker's "None" is kiln's host default: no template is recorded.
  expect_no_content(client_.put("/machine-config", R"({"vcpu_count": 2, "mem_size_mib": 256, "cpu_template": "None"})"));
  EXPECT_FALSE(client_.get("/machine-config").json().contains("cpu_template"));
}

TEST_F(ApiTest, MachineConfigRefusesBadBodies) {
  expect_fault(client_.put("/machine-config", "{"), "deserializing the json body");
  expect_fault(client_.put("/machine-config", R"({"mem_size_mib": 256})"), "missing field `vcpu_count`");
  expect_fault(client_.put("/machine-config", R"({"vcpu_count": 1})"), "missing field `mem_size_mib`");
  expect_fault(client_.put("/machine-config", R"({"vcpu_count": 1, "mem_size_mib": 256, "cpus": 2})"),
               "unknown field `cpus`");
  expect_fault(client_.put("/machine-config", R"({"vcpu_count": "2", "mem_size_mib": 256})"),
               "invalid type for field `vcpu_count`");
  expect_fault(client_.put("/machine-config", R"({"vcpu_count": -1, "mem_size_mib": 256})"),
               "invalid value for field `vcpu_count`");
  expect_fault(client_.put("/machine-config", R"({"vcpu_count": 1.5, "mem_size_mib": 256})"), "floating point");
}

TEST_F(ApiTest, MachineConfigRefusesValuesKilnCannotRun) {
  const auto put = [&](const std::string& body) { return client_.put("/machine-config", body); };
  expect_fault(put(R"({"vcpu_count": 0, "mem_size_mib": 256})"), "Machine config error: vcpu_count 0: a VM needs at least one vCPU");
  expect_fault(put(R"({"vcpu_count": 255, "mem_size_mib": 256})"), "vcpu_count 255: kiln supports at most 254 vCPUs");
  expect_fault(put(R"({"vcpu_count": 1, "mem_size_mib": 8})"), "mem_size_mib 8: at least 16 MiB is needed");
  expect_fault(put(R"({"vcpu_count": 1, "mem_size_mib": 18446744073709551615})"), "mem_size_mib");
  expect_fault(put(R"({"vcpu_count": 2, "mem_size_mib": 256, "smt": true})"), "smt: kiln gives every vCPU a core");
  expect_fault(put(R"({"vcpu_count": 1, "mem_size_mib": 256, "track_dirty_pages": true})"), "track_dirty_pages");
  expect_fault(put(R"({"vcpu_count": 1, "mem_size_mib": 256, "huge_pages": "2M"})"), "huge_pages 2M");
  expect_fault(put(R"({"vcpu_count": 1, "mem_size_mib": 256, "huge_pages": "1G"})"), "unknown variant `1G` for field `huge_pages`");
  expect_fault(put(R"({"vcpu_count": 1, "mem_size_mib": 256, "cpu_template": "T2"})"), "cpu_template T2: kiln has no such CPU template");
  EXPECT_EQ(client_.get("/machine-config").json()["vcpu_count"], 1);  // unchanged
}

TEST_F(ApiTest, MachineConfigChecksTheHostsMemory) {
  ApiOptions options;
  options.host = HostLimits{1ull << 30};
  start_server(std::move(options));
  expect_fault(client_.put("/machine-config", R"({"vcpu_count": 1, "mem_size_mib": 2048})"),
               "mem_size_mib 2048: more than this host's 1024 MiB of RAM");
}

TEST_F(ApiTest, MachineConfigPatchChangesOnlyTheGivenFields) {
  expect_no_content(client_.put("/machine-config", R"({"vcpu_count": 2, "mem_size_mib": 256})"));
  expect_no_content(client_.patch("/machine-config", R"({"mem_size_mib": 1024})"));
  const json m = client_.get("/machine-config").json();
  EXPECT_EQ(m["vcpu_count"], 2);
  EXPECT_EQ(m["mem_size_mib"], 1024);
  expect_fault(client_.patch("/machine-config", "{}"), "Empty PATCH request.");
  expect_fault(client_.patch("/machine-config", ""), "Empty PATCH request.");
  expect_fault(client_.patch("/machine-config", R"({"vcpus": 3})"), "unknown field `vcpus`");
  expect_fault(client_.patch("/machine-config", R"({"vcpu_count": 300})"), "vcpu_count 300");
}

TEST_F(ApiTest, MachineConfigIsRefusedAfterStart) {
  boot_minimal_vm();
  expect_fault(client_.put("/machine-config", R"({"vcpu_count": 2, "mem_size_mib": 256})"),
               "not supported after starting the microVM");
  expect_fault(client_.patch("/machine-config", R"({"vcpu_count": 2})"), "not supported after starting the microVM");
  EXPECT_EQ(client_.get("/machine-config").status, 200);  // reading stays allowed
}

}  // namespace
}  // namespace kiln::api::test
