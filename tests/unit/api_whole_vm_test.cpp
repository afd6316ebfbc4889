// One VM three ways: configured through the API alone and started with InstanceStart, read from
// a Firecracker config file, and re-read from GET /vm/config. All three give the VMM the same
// VmConfig.
#include <fstream>

#include "api/config_file.h"
#include "api_test_fixture.h"

namespace kiln::api::test {
namespace {

using nlohmann::json;

void expect_same_vm(const VmConfig& a, const VmConfig& b) {
  EXPECT_EQ(a.kernel_path, b.kernel_path);
  EXPECT_EQ(a.initrd_path, b.initrd_path);
  EXPECT_EQ(a.cmdline, b.cmdline);
  EXPECT_EQ(a.memory_bytes, b.memory_bytes);
  EXPECT_EQ(a.vcpus, b.vcpus);
  EXPECT_EQ(a.cpu_template, b.cpu_template);
  EXPECT_TRUE(a.cpu_features.empty() && b.cpu_features.empty());
  ASSERT_EQ(a.disks.size(), b.disks.size());
  for (size_t i = 0; i < a.disks.size(); ++i) {
    EXPECT_EQ(a.disks[i].id, b.disks[i].id) << i;
    EXPECT_EQ(a.disks[i].path, b.disks[i].path) << i;
    EXPECT_EQ(a.disks[i].readonly, b.disks[i].readonly) << i;
    EXPECT_EQ(a.disks[i].direct, b.disks[i].direct) << i;
    EXPECT_EQ(a.disks[i].serial, b.disks[i].serial) << i;
    EXPECT_EQ(a.disks[i].transport, b.disks[i].transport) << i;
  }
  EXPECT_EQ(a.console, b.console);
  EXPECT_EQ(a.rng, b.rng);
  EXPECT_EQ(a.rng_transport, b.rng_transport);
  EXPECT_EQ(a.virtio_transport, b.virtio_transport);
}

class WholeVmTest : public ApiTest {
 protected:
  // The VM every test builds, as the VMM must receive it.
  VmConfig expected() const {
    VmConfig vm;
    vm.kernel_path = kernel_;
    vm.initrd_path = initrd_;
    vm.cmdline = "console=ttyS0 reboot=k panic=1 quiet root=/dev/vda rw";
    vm.memory_bytes = 512ull << 20;
    vm.vcpus = 2;
    vm.cpu_template = "pvm";
    DiskConfig root;
    root.id = "rootfs";
    root.path = rootfs_;
    DiskConfig data;
    data.id = "scratch";
    data.path = data_disk_;
    data.readonly = true;
    vm.disks = {root, data};
    vm.rng = true;
    return vm;
  }

  json config_file() const {
    return {{"boot-source", {{"kernel_image_path", kernel_}, {"initrd_path", initrd_}, {"boot_args", "console=ttyS0 reboot=k panic=1 quiet"}}},
            {"machine-config", {{"vcpu_count", 2}, {"mem_size_mib", 512}, {"cpu_template", "pvm"}}},
            {"drives", json::array({{{"drive_id", "scratch"}, {"path_on_host", data_disk_}, {"is_root_device", false}, {"is_read_only", true}},
                                    {{"drive_id", "rootfs"}, {"path_on_host", rootfs_}, {"is_root_device", true}, {"is_read_only", false}}})},
            {"entropy", json::object()},
            {"network-interfaces", json::array()},
            {"balloon", nullptr}};
  }
};

TEST_F(WholeVmTest, ConfiguredAndStartedThroughTheApiAlone) {
  const json file = config_file();
  expect_no_content(client_.put("/boot-source", file["boot-source"].dump()));
  expect_no_content(client_.put("/machine-config", file["machine-config"].dump()));
  expect_no_content(client_.put("/drives/scratch", file["drives"][0].dump()));
  expect_no_content(client_.put("/drives/rootfs", file["drives"][1].dump()));
  expect_no_content(client_.put("/entropy", "{}"));
  EXPECT_TRUE(vmm_.calls().empty());  // nothing reached the VMM before InstanceStart
  expect_no_content(client_.put("/actions", R"({"action_type": "InstanceStart"})"));
  ASSERT_EQ(vmm_.calls(), std::vector<std::string>{"start"});
  ASSERT_TRUE(vmm_.started());
  expect_same_vm(*vmm_.started(), expected());
  EXPECT_EQ(client_.get("/").json()["state"], "Running");
}

TEST_F(WholeVmTest, TheSameVmFromAConfigFile) {
  const std::string path = dir_.path() + "/vm.json";
  std::ofstream(path) << config_file().dump(2);
  auto loaded = load_config_file(path, HostLimits{1ull << 40});
  ASSERT_TRUE(loaded) << loaded.error().message;
  expect_same_vm(loaded->vm, expected());
}

TEST_F(WholeVmTest, GetVmConfigIsAConfigFileForTheSameVm) {
  const json file = config_file();
  expect_no_content(client_.put("/boot-source", file["boot-source"].dump()));
  expect_no_content(client_.put("/machine-config", file["machine-config"].dump()));
  expect_no_content(client_.put("/drives/scratch", file["drives"][0].dump()));
  expect_no_content(client_.put("/drives/rootfs", file["drives"][1].dump()));
  expect_no_content(client_.put("/entropy", "{}"));
  const HttpReply exported = client_.get("/vm/config");
  ASSERT_EQ(exported.status, 200);
  auto resources = parse_config_file(exported.body, HostLimits{1ull << 40});
  ASSERT_TRUE(resources) << resources.error().message << "\n" << exported.body;
  auto vm = resources->build(HostLimits{1ull << 40});
  ASSERT_TRUE(vm) << vm.error().message;
  expect_same_vm(*vm, expected());
}

TEST_F(WholeVmTest, DefaultsAndPartuuidRoot) {
  json file = {{"boot-source", {{"kernel_image_path", kernel_}}},
               {"drives", json::array({{{"drive_id", "root"}, {"path_on_host", rootfs_}, {"is_root_device", true},
                                        {"partuuid", "0eaa91a0-01"}, {"is_read_only", true}}})}};
  auto resources = parse_config_file(file.dump(), HostLimits{});
  ASSERT_TRUE(resources) << resources.error().message;
  auto vm = resources->build(HostLimits{});
  ASSERT_TRUE(vm) << vm.error().message;
  EXPECT_EQ(vm->cmdline, VmConfig{}.cmdline + " root=PARTUUID=0eaa91a0-01 ro");
  EXPECT_EQ(vm->memory_bytes, 128ull << 20);  // Firecracker's default machine
  EXPECT_EQ(vm->vcpus, 1u);
  EXPECT_FALSE(vm->cpu_template);
  EXPECT_FALSE(vm->rng);
}

TEST_F(WholeVmTest, AVmBootedElsewhereIsVisibleThroughTheApi) {
  // `kiln run ... --api-sock`: the lead boots from the command line and hands the API the config.
  VmConfig cli = expected();
  cli.disks[1].id.clear();  // command-line disks have no id
  vmm_.set_state(VmState::kRunning);
  ApiOptions options;
  options.preconfigured = VmResources::from_vm_config(cli);
  start_server(std::move(options));
  const json config = client_.get("/vm/config").json();
  EXPECT_EQ(config["boot-source"]["boot_args"], cli.cmdline);
  EXPECT_EQ(config["machine-config"]["vcpu_count"], 2);
  EXPECT_EQ(config["drives"][1]["drive_id"], "disk1");
  expect_no_content(client_.patch("/drives/disk1", json{{"drive_id", "disk1"}, {"path_on_host", rootfs_}}.dump()));
  EXPECT_EQ(vmm_.calls().back(), "update_drive 1 " + rootfs_);
  expect_fault(client_.put("/machine-config", R"({"vcpu_count": 1, "mem_size_mib": 128})"), "not supported after starting");
}

TEST_F(WholeVmTest, ConfigFileMetricsReachTheApi) {
  const std::string metrics = dir_.path() + "/metrics.json";
  json file = config_file();
  file["metrics"] = {{"metrics_path", metrics}};
  auto resources = parse_config_file(file.dump(), HostLimits{});
  ASSERT_TRUE(resources) << resources.error().message;
  vmm_.set_state(VmState::kRunning);
  ApiOptions options;
  options.preconfigured = std::move(*resources);
  start_server(std::move(options));
  expect_no_content(client_.put("/actions", R"({"action_type": "FlushMetrics"})"));
  std::ifstream in(metrics);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, R"({"vcpu":{"exits":42}})");
}

}  // namespace
}  // namespace kiln::api::test
