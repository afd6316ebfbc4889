// kiln's `transport` extension field: the machine's default on /machine-config and each device's
// own on /drives, /network-interfaces, /entropy and /vsock, in the config file and GET /vm/config
// (only when set, so Firecracker's shapes stay as they were), and refused when unknown.
#include "api/config_file.h"
#include "api_test_fixture.h"

namespace kiln::api::test {
namespace {

using nlohmann::json;

class TransportApiTest : public ApiTest {
 protected:
  // The machine's default on PCI; the root drive, the rng and vsock choose their own.
  void configure_mixed_vm() {
    expect_no_content(client_.put("/boot-source", json{{"kernel_image_path", kernel_}}.dump()));
    expect_no_content(client_.put("/machine-config", R"({"vcpu_count": 1, "mem_size_mib": 128, "transport": "pci"})"));
    expect_no_content(client_.put(
        "/drives/rootfs",
        json{{"drive_id", "rootfs"}, {"path_on_host", rootfs_}, {"is_root_device", true}, {"transport", "mmio"}}.dump()));
    expect_no_content(client_.put("/drives/data", json{{"drive_id", "data"}, {"path_on_host", data_disk_}, {"is_root_device", false}}.dump()));
    expect_no_content(client_.put("/network-interfaces/eth0",
                                  R"({"iface_id": "eth0", "host_dev_name": "tap0", "transport": "mmio"})"));
    expect_no_content(client_.put("/entropy", R"({"transport": "mmio"})"));
    expect_no_content(client_.put("/vsock", json{{"guest_cid", 3}, {"uds_path", dir_.path() + "/v.sock"}, {"transport", "pci"}}.dump()));
  }
};

TEST_F(TransportApiTest, EachDeviceKeepsItsOwnTransport) {
  configure_mixed_vm();
  expect_no_content(client_.put("/actions", R"({"action_type": "InstanceStart"})"));
  const std::optional<VmConfig> started = vmm_.started();
  ASSERT_TRUE(started);
  const VmConfig& vm = *started;
  EXPECT_EQ(vm.virtio_transport, VirtioTransport::kPci);
  ASSERT_EQ(vm.disks.size(), 2u);
  EXPECT_EQ(vm.disks[0].transport, VirtioTransport::kMmio);
  EXPECT_FALSE(vm.disks[1].transport);  // the machine's default
  ASSERT_EQ(vm.nets.size(), 1u);
  EXPECT_EQ(vm.nets[0].transport, VirtioTransport::kMmio);
  EXPECT_TRUE(vm.rng);
  EXPECT_EQ(vm.rng_transport, VirtioTransport::kMmio);
  ASSERT_TRUE(vm.vsock);
  EXPECT_EQ(vm.vsock->transport, VirtioTransport::kPci);
}

TEST_F(TransportApiTest, GetVmConfigShowsTransportsOnlyWhereSet) {
  configure_mixed_vm();
  const json config = client_.get("/vm/config").json();
  EXPECT_EQ(config["machine-config"]["transport"], "pci");
  EXPECT_EQ(client_.get("/machine-config").json()["transport"], "pci");
  EXPECT_EQ(config["drives"][0]["transport"], "mmio");
  EXPECT_FALSE(config["drives"][1].contains("transport"));
  EXPECT_EQ(config["network-interfaces"][0]["transport"], "mmio");
  EXPECT_EQ(config["entropy"], (json{{"transport", "mmio"}}));
  EXPECT_EQ(config["vsock"]["transport"], "pci");
  // The same VM from the exported config file.
  auto resources = parse_config_file(config.dump(), HostLimits{});
  ASSERT_TRUE(resources) << resources.error().message;
  auto vm = resources->build(HostLimits{});
  ASSERT_TRUE(vm) << vm.error().message;
  EXPECT_EQ(vm->virtio_transport, VirtioTransport::kPci);
  EXPECT_EQ(vm->disks[0].transport, VirtioTransport::kMmio);
  EXPECT_FALSE(vm->disks[1].transport);
  EXPECT_EQ(vm->nets[0].transport, VirtioTransport::kMmio);
  EXPECT_EQ(vm->rng_transport, VirtioTransport::kMmio);
  EXPECT_EQ(vm->vsock->transport, VirtioTransport::kPci);
}

TEST_F(TransportApiTest, WithoutTransportsTheAnswersKeepFirecrackersShape) {
  expect_no_content(client_.put("/machine-config", R"({"vcpu_count": 1, "mem_size_mib": 128})"));
  expect_no_content(client_.put("/drives/rootfs", json{{"drive_id", "rootfs"}, {"path_on_host", rootfs_}, {"is_root_device", true}}.dump()));
  expect_no_content(client_.put("/entropy", "{}"));
  const json config = client_.get("/vm/config").json();
  EXPECT_FALSE(config["machine-config"].contains("transport"));
  EXPECT_FALSE(client_.get("/machine-config").json().contains("transport"));
  EXPECT_FALSE(config["drives"][0].contains("transport"));
  EXPECT_EQ(config["entropy"], json::object());
  boot_minimal_vm();
  EXPECT_EQ(vmm_.started()->virtio_transport, VirtioTransport::kMmio);
  EXPECT_FALSE(vmm_.started()->disks[0].transport);
  EXPECT_FALSE(vmm_.started()->rng_transport);
}

TEST_F(TransportApiTest, PatchMachineConfigChangesTheDefault) {
  expect_no_content(client_.patch("/machine-config", R"({"transport": "pci"})"));
  EXPECT_EQ(client_.get("/machine-config").json()["transport"], "pci");
  expect_no_content(client_.patch("/machine-config", R"({"vcpu_count": 2})"));
  EXPECT_EQ(client_.get("/machine-config").json()["transport"], "pci");  // unchanged
  expect_no_content(client_.patch("/machine-config", R"({"transport": "mmio"})"));
  EXPECT_EQ(client_.get("/machine-config").json()["transport"], "mmio");
}

TEST_F(TransportApiTest, UnknownTransportsAreRefusedNamingTheFieldAndTheChoices) {
  const std::string why = "unknown variant `virtio` for field `transport`, expected one of `mmio`, `pci`";
  expect_fault(client_.put("/machine-config", R"({"vcpu_count": 1, "mem_size_mib": 128, "transport": "virtio"})"), why);
  expect_fault(client_.patch("/machine-config", R"({"transport": "virtio"})"), why);
  expect_fault(client_.put("/drives/rootfs", json{{"drive_id", "rootfs"}, {"path_on_host", rootfs_},
                                                  {"is_root_device", true}, {"transport", "virtio"}}.dump()),
               why);
  expect_fault(client_.put("/network-interfaces/eth0", R"({"iface_id": "eth0", "host_dev_name": "tap0", "transport": "virtio"})"),
               why);
  expect_fault(client_.put("/entropy", R"({"transport": "virtio"})"), why);
  expect_fault(client_.put("/vsock", json{{"guest_cid", 3}, {"uds_path", dir_.path() + "/v.sock"}, {"transport", "virtio"}}.dump()),
               why);
  expect_fault(client_.put("/entropy", R"({"transport": 1})"), "`transport`");
  expect_fault(client_.put("/entropy", R"({"transport": "PCI"})"), "unknown variant `PCI`");  // spelled as kiln spells it
  // Only PUT /drives places a drive: PATCH (after boot) cannot move it.
  boot_minimal_vm();
  expect_fault(client_.patch("/drives/rootfs", json{{"drive_id", "rootfs"}, {"transport", "pci"}}.dump()),
               "unknown field `transport`");
  // Nothing was stored by the refused requests.
  EXPECT_FALSE(vmm_.started()->rng);
  EXPECT_EQ(vmm_.started()->virtio_transport, VirtioTransport::kMmio);
}

TEST_F(TransportApiTest, TheConfigFileTakesTransportsWithSectionsNamed) {
  json file = {{"boot-source", {{"kernel_image_path", kernel_}}},
               {"machine-config", {{"vcpu_count", 1}, {"mem_size_mib", 128}, {"transport", "mmio"}}},
               {"drives", json::array({{{"drive_id", "root"}, {"path_on_host", rootfs_}, {"is_root_device", true},
                                        {"transport", "pci"}}})},
               {"entropy", {{"transport", "pci"}}}};
  auto resources = parse_config_file(file.dump(), HostLimits{});
  ASSERT_TRUE(resources) << resources.error().message;
  auto vm = resources->build(HostLimits{});
  ASSERT_TRUE(vm) << vm.error().message;
  EXPECT_EQ(vm->virtio_transport, VirtioTransport::kMmio);
  EXPECT_EQ(vm->disks[0].transport, VirtioTransport::kPci);
  EXPECT_EQ(vm->rng_transport, VirtioTransport::kPci);
  file["entropy"]["transport"] = "isa";
  auto bad = parse_config_file(file.dump(), HostLimits{});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "entropy: unknown variant `isa` for field `transport`, expected one of `mmio`, `pci`");
}

TEST_F(TransportApiTest, AVmFromTheCommandLineOrASnapshotShowsItsTransports) {
  VmConfig cli;
  cli.kernel_path = kernel_;
  cli.virtio_transport = VirtioTransport::kPci;
  DiskConfig disk;
  disk.path = rootfs_;
  disk.transport = VirtioTransport::kMmio;
  cli.disks = {disk};
  cli.rng = true;
  vmm_.set_state(VmState::kRunning);
  ApiOptions options;
  options.preconfigured = VmResources::from_vm_config(cli);
  start_server(std::move(options));
  const json config = client_.get("/vm/config").json();
  EXPECT_EQ(config["machine-config"]["transport"], "pci");
  EXPECT_EQ(config["drives"][0]["transport"], "mmio");
  EXPECT_EQ(config["entropy"], json::object());  // on the machine's default
  // The machine's mmio default is kiln's default: not shown.
  cli.virtio_transport = VirtioTransport::kMmio;
  EXPECT_FALSE(VmResources::from_vm_config(cli).to_json()["machine-config"].contains("transport"));
}

}  // namespace
}  // namespace kiln::api::test
