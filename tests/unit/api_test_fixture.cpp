#include "api_test_fixture.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace kiln::api::test {

VmState FakeVmm::state() const {
  std::lock_guard lock(mu_);
  return state_;
}

Status FakeVmm::record(std::string call) {
  std::lock_guard lock(mu_);
  calls_.push_back(std::move(call));
  if (next_error_) {
    std::string message = std::move(*next_error_);
    next_error_.reset();
    return fail("{}", message);
  }
  return {};
}

Status FakeVmm::start(const VmConfig& config) {
  KILN_TRY(record("start"));
  std::lock_guard lock(mu_);
  started_ = config;
  state_ = VmState::kRunning;
  return {};
}

Status FakeVmm::pause() {
  KILN_TRY(record("pause"));
  std::lock_guard lock(mu_);
  state_ = VmState::kPaused;
  return {};
}

Status FakeVmm::resume() {
  KILN_TRY(record("resume"));
  std::lock_guard lock(mu_);
  state_ = VmState::kRunning;
  return {};
}

Status FakeVmm::send_ctrl_alt_del() { return record("ctrl_alt_del"); }

Status FakeVmm::create_snapshot(const SnapshotCreateParams& params) {
  KILN_TRY(record("create_snapshot"));
  std::lock_guard lock(mu_);
  created_ = params;
  return {};
}

VmConfig FakeVmm::snapshot_config() {
  VmConfig c;
  c.kernel_path = "/snap/vmlinux";
  c.cmdline = "console=ttyS0 snap=1";
  c.vcpus = 2;
  c.memory_bytes = 512ull << 20;
  c.disks = {DiskConfig{"rootfs", "/snap/root.img", true, false, ""}, DiskConfig{"", "/snap/data.img", false, false, ""}};
  c.rng = true;
  return c;
}

Result<VmConfig> FakeVmm::load_snapshot(const SnapshotLoadParams& params) {
  KILN_TRY(record("load_snapshot"));
  std::lock_guard lock(mu_);
  loaded_ = params;
  state_ = params.resume_vm ? VmState::kRunning : VmState::kPaused;
  return snapshot_config_;
}

Status FakeVmm::update_drive(size_t index, const std::string& path) {
  return record(fmt::format("update_drive {} {}", index, path));
}

std::string FakeVmm::metrics_json() { return R"({"vcpu":{"exits":42}})"; }

std::vector<std::string> FakeVmm::calls() const {
  std::lock_guard lock(mu_);
  return calls_;
}

std::optional<VmConfig> FakeVmm::started() const {
  std::lock_guard lock(mu_);
  return started_;
}

std::optional<SnapshotCreateParams> FakeVmm::created() const {
  std::lock_guard lock(mu_);
  return created_;
}

std::optional<SnapshotLoadParams> FakeVmm::loaded() const {
  std::lock_guard lock(mu_);
  return loaded_;
}

void FakeVmm::set_state(VmState state) {
  std::lock_guard lock(mu_);
  state_ = state;
}

void FakeVmm::fail_next(std::string message) {
  std::lock_guard lock(mu_);
  next_error_ = std::move(message);
}

TempDir::TempDir() {
  std::string templ = "/tmp/kiln-api-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) std::abort();
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::file(const std::string& name, size_t size) const {
  const std::string p = path_ + "/" + name;
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << std::string(size, '\0');
  return p;
}

ApiTest::ApiTest()
    : kernel_(dir_.file("vmlinux")),
      initrd_(dir_.file("initrd.cpio")),
      rootfs_(dir_.file("rootfs.ext4", 1 << 20)),
      data_disk_(dir_.file("data.img", 1 << 20)) {
  start_server();
}

ApiTest::~ApiTest() { server_.reset(); }

void ApiTest::start_server(ApiOptions options) {
  server_.reset();
  client_.disconnect();
  if (!options.host) options.host = HostLimits{1ull << 40};
  options.vmm_version = "9.9.9";
  auto server = ApiServer::start(socket(), vmm_, std::move(options));
  ASSERT_TRUE(server) << server.error().message;
  server_ = std::move(*server);
}

void ApiTest::boot_minimal_vm() {
  expect_no_content(client_.put("/boot-source", nlohmann::json{{"kernel_image_path", kernel_}}.dump()));
  expect_no_content(client_.put("/actions", R"({"action_type": "InstanceStart"})"));
  ASSERT_EQ(vmm_.state(), VmState::kRunning);
}

void ApiTest::expect_fault(const HttpReply& reply, const std::string& text) {
  EXPECT_EQ(reply.status, 400) << reply.body;
  EXPECT_NE(reply.fault().find(text), std::string::npos) << "fault_message: " << reply.fault() << "\nexpected: " << text;
}

void ApiTest::expect_no_content(const HttpReply& reply) {
  EXPECT_EQ(reply.status, 204) << reply.body;
  EXPECT_TRUE(reply.body.empty()) << reply.body;
}

}  // namespace kiln::api::test
