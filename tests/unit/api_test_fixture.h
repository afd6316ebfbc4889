// Shared by the API tests: a recording fake VMM, a temporary directory with a kernel, an initrd
// and disk images, and a running ApiServer on a socket in that directory.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/api_server.h"
#include "api_test_client.h"

namespace kiln::api::test {

class FakeVmm : public VmmController {
 public:
  VmState state() const override;
  Status start(const VmConfig& config) override;
  Status pause() override;
  Status resume() override;
  Status send_ctrl_alt_del() override;
  Status create_snapshot(const SnapshotCreateParams& params) override;
  Result<VmConfig> load_snapshot(const SnapshotLoadParams& params) override;
  Status update_drive(size_t index, const std::string& path) override;
  std::string metrics_json() override;

  // What the API asked for, in order ("start", "pause", "update_drive 1 /p", ...).
  std::vector<std::string> calls() const;
  std::optional<VmConfig> started() const;
  std::optional<SnapshotCreateParams> created() const;
  std::optional<SnapshotLoadParams> loaded() const;
  void set_state(VmState state);
  void fail_next(std::string message);  // the next call fails with this message
  // The VM every load_snapshot "restores": 2 vCPUs, 512 MiB, drive "rootfs" and an unnamed disk.
  static VmConfig snapshot_config();

 private:
  Status record(std::string call);

  mutable std::mutex mu_;
  VmState state_ = VmState::kNotStarted;
  std::vector<std::string> calls_;
  std::optional<VmConfig> started_;
  std::optional<SnapshotCreateParams> created_;
  std::optional<SnapshotLoadParams> loaded_;
  VmConfig snapshot_config_ = snapshot_config();
  std::optional<std::string> next_error_;
};

// A directory under /tmp, removed with everything in it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }
  // Creates a file of `size` bytes and returns its path.
  std::string file(const std::string& name, size_t size = 4096) const;

 private:
  std::string path_;
};

class ApiTest : public testing::Test {
 protected:
  ApiTest();
  ~ApiTest() override;

  // Starts the server; tests that need other options restart it.
  void start_server(ApiOptions options = {});
  void stop_server() { server_.reset(); }
  [[nodiscard]] std::string socket() const { return dir_.path() + "/api.sock"; }

  // PUT /boot-source with the test kernel, then InstanceStart: a running VM.
  void boot_minimal_vm();
  // Asserts a 400 whose fault_message contains `text`.
  static void expect_fault(const HttpReply& reply, const std::string& text);
  static void expect_no_content(const HttpReply& reply);

  TempDir dir_;
  std::string kernel_, initrd_, rootfs_, data_disk_;
  FakeVmm vmm_;
  std::unique_ptr<ApiServer> server_;
  ApiTestClient client_{socket()};
};

}  // namespace kiln::api::test
