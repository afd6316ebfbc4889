// PUT /entropy, /vsock, /logger and /metrics; the devices kiln does not have yet (network,
// balloon, ...) are refused with a 400 that says so, never faked.
#include <fstream>
#include <sstream>

#include "api_test_fixture.h"
#include "common/log.h"

namespace kiln::api::test {
namespace {

using nlohmann::json;

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Puts kiln's logging back as the process had it, whatever the test did.
struct LogRestorer {
  ~LogRestorer() {
    log_to_stderr();
    set_log_level(LogLevel::kInfo);
    set_log_show_level(false);
  }
};

TEST_F(ApiTest, EntropyDevice) {
  expect_no_content(client_.put("/entropy", "{}"));
  EXPECT_EQ(client_.get("/vm/config").json()["entropy"], json::object());
  expect_no_content(client_.put("/entropy", R"({"rate_limiter": null})"));
  expect_fault(client_.put("/entropy", R"({"rate_limiter": {"ops": {"size": 10, "refill_time": 100}}})"),
               "field `rate_limiter`: kiln does not rate-limit devices yet");
  expect_fault(client_.put("/entropy", R"({"rate": 1})"), "unknown field `rate`");
  expect_fault(client_.put("/entropy", "{"), "deserializing the json body");
  boot_minimal_vm();
  expect_fault(client_.put("/entropy", "{}"), "not supported after starting the microVM");
}

TEST_F(ApiTest, VsockDevice) {
  const std::string uds = dir_.path() + "/v.sock";
  expect_no_content(client_.put("/vsock", json{{"guest_cid", 3}, {"uds_path", uds}}.dump()));
  EXPECT_EQ(client_.get("/vm/config").json()["vsock"], (json{{"guest_cid", 3}, {"uds_path", uds}}));
  // The deprecated vsock_id is accepted and shown; a second PUT replaces the first.
  expect_no_content(client_.put("/vsock", json{{"vsock_id", "vsock0"}, {"guest_cid", 52}, {"uds_path", uds}}.dump()));
  EXPECT_EQ(client_.get("/vm/config").json()["vsock"],
            (json{{"guest_cid", 52}, {"uds_path", uds}, {"vsock_id", "vsock0"}}));
  expect_fault(client_.put("/vsock", json{{"guest_cid", 2}, {"uds_path", uds}}.dump()), "guest CID 2 is reserved");
  expect_fault(client_.put("/vsock", json{{"guest_cid", 3}}.dump()), "missing field `uds_path`");
  expect_fault(client_.put("/vsock", json{{"uds_path", uds}}.dump()), "missing field `guest_cid`");
  expect_fault(client_.put("/vsock", json{{"guest_cid", 3}, {"uds_path", uds}, {"port", 1}}.dump()), "unknown field `port`");
  expect_fault(client_.put("/vsock", json{{"guest_cid", 3}, {"uds_path", std::string(200, 'a')}}.dump()), "longer than 96");
  boot_minimal_vm();
  ASSERT_TRUE(vmm_.started() && vmm_.started()->vsock);
  EXPECT_EQ(vmm_.started()->vsock->guest_cid, 52u);
  expect_fault(client_.put("/vsock", json{{"guest_cid", 3}, {"uds_path", uds}}.dump()), "not supported after starting the microVM");
}

TEST_F(ApiTest, NetworkInterfaces) {
  const json eth0 = {{"iface_id", "eth0"}, {"host_dev_name", "tap0"}, {"guest_mac", "06:00:AC:10:00:02"}};
  expect_no_content(client_.put("/network-interfaces/eth0", eth0.dump()));
  expect_no_content(client_.put("/network-interfaces/eth1", R"({"iface_id": "eth1", "host_dev_name": "tap1"})"));
  const json nets = client_.get("/vm/config").json()["network-interfaces"];
  ASSERT_EQ(nets.size(), 2u);
  EXPECT_EQ(nets[0], json({{"iface_id", "eth0"}, {"host_dev_name", "tap0"}, {"guest_mac", "06:00:ac:10:00:02"}}));
  EXPECT_EQ(nets[1]["host_dev_name"], "tap1");
  const std::string derived = nets[1]["guest_mac"];  // kiln's own: locally administered, stable
  EXPECT_EQ(derived.size(), 17u);
  EXPECT_EQ(client_.get("/vm/config").json()["network-interfaces"][1]["guest_mac"], derived);
  // Replacing an interface by its id; a tap or MAC another one has is refused.
  expect_no_content(client_.put("/network-interfaces/eth1", R"({"iface_id": "eth1", "host_dev_name": "tap2"})"));
  expect_fault(client_.put("/network-interfaces/eth2", R"({"iface_id": "eth2", "host_dev_name": "tap0"})"),
               "The host device name tap0 is already in use.");
  expect_fault(client_.put("/network-interfaces/eth2", R"({"iface_id": "eth2", "host_dev_name": "tap9", "guest_mac": "06:00:ac:10:00:02"})"),
               "The guest MAC address 06:00:ac:10:00:02 is already in use.");
  expect_fault(client_.put("/network-interfaces/eth2", R"({"iface_id": "eth2", "host_dev_name": "tap9", "guest_mac": "01:00:5e:00:00:01"})"),
               "multicast");
  expect_fault(client_.put("/network-interfaces/eth2", R"({"iface_id": "eth2", "host_dev_name": "a/b"})"), "not an interface name");
  expect_fault(client_.put("/network-interfaces/eth2", R"({"iface_id": "eth2"})"), "missing field `host_dev_name`");
  expect_fault(client_.put("/network-interfaces/eth3", eth0.dump()), "The id from the path does not match the id from the body!");
  expect_fault(client_.put("/network-interfaces/eth2", R"({"iface_id": "eth2", "host_dev_name": "tap9", "rx_rate_limiter": {"bandwidth": {"size": 1, "refill_time": 1}}})"),
               "field `rx_rate_limiter`: kiln does not rate-limit devices yet");
  expect_fault(client_.put("/network-interfaces/eth0", "{"), "deserializing the json body");
  expect_fault(client_.put("/network-interfaces/eth0", ""), "Empty PUT request.");
  expect_fault(client_.patch("/network-interfaces/eth0", R"({"iface_id": "eth0"})"), "not supported before starting the microVM");
  boot_minimal_vm();
  ASSERT_TRUE(vmm_.started());
  ASSERT_EQ(vmm_.started()->nets.size(), 2u);
  EXPECT_EQ(vmm_.started()->nets[0].host_dev_name, "tap0");
  EXPECT_EQ(vmm_.started()->nets[1].host_dev_name, "tap2");
  // After boot: PATCH changes rate limiters only, which kiln does not have.
  expect_no_content(client_.patch("/network-interfaces/eth0", R"({"iface_id": "eth0", "rx_rate_limiter": null})"));
  expect_fault(client_.patch("/network-interfaces/eth7", R"({"iface_id": "eth7"})"), "no network interface with id `eth7`");
  expect_fault(client_.patch("/network-interfaces/eth0", R"({"iface_id": "eth0", "tx_rate_limiter": {"ops": {"size": 1, "refill_time": 1}}})"),
               "kiln does not rate-limit devices yet");
  expect_fault(client_.put("/network-interfaces/eth0", eth0.dump()), "not supported after starting the microVM");
}

TEST_F(ApiTest, BalloonIsRefused) {
  expect_fault(client_.put("/balloon", R"({"amount_mib": 64, "deflate_on_oom": true})"), "kiln has no balloon device yet");
  expect_fault(client_.patch("/balloon", R"({"amount_mib": 32})"), "kiln has no balloon device yet");
  expect_fault(client_.get("/balloon"), "kiln has no balloon device yet");
  expect_fault(client_.get("/balloon/statistics"), "kiln has no balloon device yet");
  expect_fault(client_.patch("/balloon/statistics", R"({"stats_polling_interval_s": 1})"), "kiln has no balloon device yet");
  boot_minimal_vm();
  expect_fault(client_.get("/balloon/statistics"), "kiln has no balloon device yet");
}

TEST_F(ApiTest, OtherFirecrackerFeaturesAreRefused) {
  expect_fault(client_.put("/mmds", R"({"latest": {}})"), "/mmds is not supported by kiln yet");
  expect_fault(client_.get("/mmds"), "/mmds is not supported by kiln yet");
  expect_fault(client_.put("/cpu-config", R"({"cpuid_modifiers": []})"), "/cpu-config is not supported by kiln yet");
  expect_fault(client_.put("/pmem/p0", R"({"id": "p0", "path_on_host": "/x"})"), "kiln has no pmem device yet");
}

TEST_F(ApiTest, LoggerSendsLinesToAFile) {
  LogRestorer restore;
  const std::string log = dir_.path() + "/kiln.log";
  expect_no_content(client_.put("/logger", json{{"log_path", log}, {"level", "warning"}, {"show_level", true}}.dump()));
  kiln::log("an info line the Warning level hides");
  kiln::log_at(LogLevel::kWarning, "disk {} is slow", "data");
  kiln::log_at(LogLevel::kError, "it failed");
  EXPECT_EQ(read_all(log), "kiln: [Warning] disk data is slow\nkiln: [Error] it failed\n");
  EXPECT_EQ(client_.get("/vm/config").json()["logger"],
            (json{{"log_path", log}, {"level", "Warning"}, {"show_level", true}, {"show_log_origin", false}}));
  expect_no_content(client_.put("/logger", R"({"level": "Off"})"));
  kiln::log_at(LogLevel::kError, "silenced");
  EXPECT_EQ(read_all(log).find("silenced"), std::string::npos);
}

TEST_F(ApiTest, LoggerBodiesAreChecked) {
  LogRestorer restore;
  expect_fault(client_.put("/logger", R"({"level": "Loud"})"), "unknown variant `Loud` for field `level`");
  expect_fault(client_.put("/logger", R"({"log_file": "/tmp/x"})"), "unknown field `log_file`");
  expect_fault(client_.put("/logger", R"({"show_log_origin": true})"), "show_log_origin");
  expect_fault(client_.put("/logger", R"({"module": "api_server"})"), "kiln does not filter log lines by module");
  expect_fault(client_.put("/logger", R"({"log_path": "/nonexistent/dir/kiln.log"})"), "Logger error: log file /nonexistent/dir/kiln.log");
  boot_minimal_vm();
  expect_fault(client_.put("/logger", R"({"level": "Info"})"), "not supported after starting the microVM");
}

TEST_F(ApiTest, MetricsAreConfiguredOnce) {
  const std::string metrics = dir_.path() + "/metrics.fifo";
  expect_fault(client_.put("/metrics", "{}"), "missing field `metrics_path`");
  expect_fault(client_.put("/metrics", R"({"metrics_path": "/nonexistent/dir/m"})"), "Metrics error: metrics_path /nonexistent/dir/m");
  expect_no_content(client_.put("/metrics", json{{"metrics_path", metrics}}.dump()));
  expect_fault(client_.put("/metrics", json{{"metrics_path", metrics}}.dump()),
               "Metrics error: Reinitialization of metrics not allowed.");
  EXPECT_EQ(client_.get("/vm/config").json()["metrics"], (json{{"metrics_path", metrics}}));
}

TEST_F(ApiTest, MetricsAreRefusedAfterStart) {
  boot_minimal_vm();
  expect_fault(client_.put("/metrics", json{{"metrics_path", dir_.path() + "/m"}}.dump()),
               "not supported after starting the microVM");
}

}  // namespace
}  // namespace kiln::api::test
