// The "ready" guest: the kiln guest kernel with three disks, virtio-rng and virtio-vsock (CID 3),
// booted once per test
// run by the CTest fixture LinuxReadyFixture, snapshotted with its shell waiting for input, and
// restored in a new kiln process by each LinuxRestored test (issue: a Linux test costs seconds,
// not a boot). Each restore gets its own copies of the disk images (kiln restore --disk-path).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "child_process.h"
#include "scratch_dir.h"

namespace kiln::test {

inline constexpr int kReadyCpus = 2;
inline constexpr size_t kSector = 512;
inline constexpr size_t kRawBytes = (8u << 20) + 3 * kSector;  // disk0, vda: an odd 16387 sectors
inline constexpr size_t kReadOnlyBytes = 1u << 20;             // disk1, vdb: read-only
inline constexpr size_t kExt4Bytes = 32u << 20;                // disk2, vdc: ext4 made on the host
inline constexpr uint32_t kRawSeed = 6;
inline constexpr uint32_t kReadOnlySeed = 7;
inline constexpr const char* kExt4Hello = "hello from the host\n";  // /hello.txt on vdc

// Where the fixture keeps its files (KILN_LINUX_FIXTURE_DIR, one directory per build tree).
struct ReadyGuestFiles {
  std::string dir = KILN_LINUX_FIXTURE_DIR;
  std::string snapshot = dir + "/ready.snap";
  std::string memory = dir + "/ready.mem";
  std::string raw = dir + "/raw.img";
  std::string readonly = dir + "/readonly.img";
  std::string ext4 = dir + "/ext4.img";
};

struct ShellRun {
  bool done = false;    // the end marker came back in time
  int status = -1;      // the script's exit status
  std::string output;   // what it printed ('\r' dropped)
};

// One restore of the ready guest in a new kiln, on copies of its disks in a scratch directory.
class RestoredGuest {
 public:
  // `extra_args`: more `kiln restore` flags (e.g. --api-sock PATH).
  explicit RestoredGuest(const std::vector<std::string>& extra_args = {});
  // False (with why()) when the fixture's files are missing or the copies failed.
  [[nodiscard]] bool ok() const { return vmm_ != nullptr; }
  [[nodiscard]] const std::string& why() const { return why_; }
  // This restore's copy of a disk image (raw, readonly, ext4).
  [[nodiscard]] std::string disk(const std::string& name) const { return dir_.file(name + ".img"); }

  // Runs `script` with sh in the guest (sent over the console in short lines) and waits for it.
  ShellRun run(const std::string& script, std::chrono::milliseconds timeout);
  // Starts `script` in the background of the guest's shell (its output goes to the console).
  bool start(const std::string& script);
  // Leaves the shell: the agent resets the VM and kiln exits (0 expected); returns kiln's result.
  ChildResult exit();
  [[nodiscard]] const std::string& console() const;
  [[nodiscard]] ChildProcess& vmm() { return *vmm_; }
  [[nodiscard]] std::string file(const std::string& name) const { return dir_.file(name); }
  // This restore's vsock socket (--vsock-uds): host programs connect here, guest connections to
  // host port P reach vsock_uds() + "_P".
  [[nodiscard]] std::string vsock_uds() const { return dir_.file("vsock.sock"); }

 private:
  ScratchDir dir_;
  std::unique_ptr<ChildProcess> vmm_;
  std::string why_;
  int runs_ = 0;

  // Sends `script` to the guest as /tmp/kiln-run-N.sh; returns N, or "" if stdin is closed.
  std::string send_script(const std::string& script);
};

}  // namespace kiln::test
