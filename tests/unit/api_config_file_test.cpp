// --config-file: Firecracker's config file format, with errors that name the section and field.
#include <fstream>

#include "api/config_file.h"
#include "api_test_fixture.h"

namespace kiln::api::test {
namespace {

using nlohmann::json;

class ConfigFileTest : public testing::Test {
 protected:
  std::string error_of(const json& file) const {
    auto r = parse_config_file(file.dump(), HostLimits{});
    return r ? std::string("(accepted)") : r.error().message;
  }
  json minimal() const { return {{"boot-source", {{"kernel_image_path", kernel_}}}}; }

  TempDir dir_;
  std::string kernel_ = dir_.file("vmlinux");
  std::string disk_ = dir_.file("disk.img");
};

TEST_F(ConfigFileTest, TheMinimalFileIsABootSource) {
  auto r = parse_config_file(minimal().dump(), HostLimits{});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->boot_specific_configured());
  EXPECT_EQ(error_of(json::object()), "missing field `boot-source`");
}

TEST_F(ConfigFileTest, SyntaxErrorsSayWhere) {
  auto r = parse_config_file("{\"boot-source\": {", HostLimits{});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("parse error at line 1"), std::string::npos) << r.error().message;
  EXPECT_NE(error_of(json::array()).find("expected a JSON object"), std::string::npos);
}

TEST_F(ConfigFileTest, UnknownSectionsAndFieldsAreNamed) {
  json file = minimal();
  file["machine_config"] = json::object();
  EXPECT_NE(error_of(file).find("unknown field `machine_config`"), std::string::npos);
  file = minimal();
  file["boot-source"]["cmdline"] = "x";
  EXPECT_EQ(error_of(file).rfind("boot-source: unknown field `cmdline`", 0), 0u) << error_of(file);
}

TEST_F(ConfigFileTest, SectionErrorsNameTheSection) {
  json file = minimal();
  file["machine-config"] = {{"vcpu_count", 1}};
  EXPECT_EQ(error_of(file), "machine-config: missing field `mem_size_mib`");
  file["machine-config"] = {{"vcpu_count", 999}, {"mem_size_mib", 128}};
  EXPECT_NE(error_of(file).find("machine-config: vcpu_count 999"), std::string::npos);
  file = minimal();
  file["drives"] = json::array({{{"drive_id", "a"}, {"path_on_host", disk_}, {"is_root_device", false}},
                                {{"drive_id", "b"}, {"is_root_device", false}}});
  EXPECT_EQ(error_of(file), "drives[1]: missing field `path_on_host`");
  file["drives"] = json{{"drive_id", "a"}};
  EXPECT_NE(error_of(file).find("drives: invalid type"), std::string::npos);
  file = minimal();
  file["boot-source"]["kernel_image_path"] = "/nonexistent";
  EXPECT_NE(error_of(file).find("boot-source: kernel_image_path /nonexistent"), std::string::npos);
  file = minimal();
  file["logger"] = {{"level", "Chatty"}};
  EXPECT_NE(error_of(file).find("logger: unknown variant `Chatty`"), std::string::npos);
}

TEST_F(ConfigFileTest, VsockSection) {
  json file = minimal();
  file["vsock"] = {{"guest_cid", 9}, {"uds_path", "/run/v.sock"}};
  auto r = parse_config_file(file.dump(), HostLimits{});
  ASSERT_TRUE(r) << r.error().message;
  auto config = r->build(HostLimits{});
  ASSERT_TRUE(config) << config.error().message;
  ASSERT_TRUE(config->vsock);
  EXPECT_EQ(config->vsock->guest_cid, 9u);
  EXPECT_EQ(config->vsock->uds_path, "/run/v.sock");
  EXPECT_EQ(r->to_json()["vsock"], (json{{"guest_cid", 9}, {"uds_path", "/run/v.sock"}}));
  file["vsock"] = {{"guest_cid", 1}, {"uds_path", "/run/v.sock"}};
  EXPECT_NE(error_of(file).find("vsock: guest_cid 1"), std::string::npos) << error_of(file);
}

TEST_F(ConfigFileTest, DevicesKilnLacksMustBeAbsentOrEmpty) {
  json file = minimal();
  file["network-interfaces"] = json::array();
  file["balloon"] = nullptr;
  file["vsock"] = nullptr;
  EXPECT_EQ(error_of(file), "(accepted)");
  file["network-interfaces"] = json::array({{{"iface_id", "eth0"}, {"host_dev_name", "tap0"}}});
  EXPECT_EQ(error_of(file), "(accepted)");  // kiln has network interfaces now
  file["network-interfaces"] = json::array({{{"iface_id", "eth0"}, {"host_dev_name", "tap0"}},
                                            {{"iface_id", "eth1"}, {"host_dev_name", "tap0"}}});
  EXPECT_EQ(error_of(file), "network-interfaces[1]: The host device name tap0 is already in use.");
  file = minimal();
  file["balloon"] = {{"amount_mib", 0}, {"deflate_on_oom", false}};
  EXPECT_EQ(error_of(file), "balloon: kiln has no balloon device yet");
  file = minimal();
  file["mmds-config"] = {{"network_interfaces", json::array({"eth0"})}};
  EXPECT_EQ(error_of(file), "mmds-config: not supported by kiln yet");
}

TEST_F(ConfigFileTest, LoadNamesTheFile) {
  auto missing = load_config_file(dir_.path() + "/none.json", HostLimits{});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("--config-file " + dir_.path() + "/none.json"), std::string::npos);
  const std::string path = dir_.path() + "/bad.json";
  std::ofstream(path) << R"({"boot-source": {"kernel_image_path": "/nonexistent"}})";
  auto bad = load_config_file(path, HostLimits{});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("--config-file " + path + ": boot-source: kernel_image_path"), std::string::npos)
      << bad.error().message;
}

}  // namespace
}  // namespace kiln::api::test
