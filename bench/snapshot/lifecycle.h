// One VM lifecycle per VMM, the same steps for both (README.md, "What a run does"):
//   boot kiln-probe's ticker; wait for its third tick; [API round trips]; pause; snapshot;
//   resume (and see it tick again); kill; restore in a new process and time it to its first tick.
// Files (sockets, snapshot, memory, migration stream) go in the scratch directory and are
// removed at the end of the lifecycle, whatever happened.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "child_process.h"
#include "common/result.h"
#include "figures.h"
#include "unix_stream.h"

namespace kiln::bench {

// One VMM, one guest size, one run. A figure stays empty when its step was not reached or the
// VMM has no such figure; `note` says what failed.
struct Lifecycle {
  std::optional<double> pause_ms;        // PATCH /vm Paused | QMP stop, round trip
  std::optional<double> create_ms;       // PUT /snapshot/create | getfd + migrate until completed
  std::optional<double> create_own_ms;   // the VMM's own figure: kiln's log line | query-migrate total-time
  std::optional<double> files_mib;       // apparent size of the snapshot file(s)
  std::optional<double> allocated_mib;   // blocks the file(s) use (st_blocks)
  std::optional<double> resume_ms;       // PATCH /vm Resumed | QMP cont, round trip
  std::optional<double> restore_ms;      // spawn of the restoring process to its first tick line
  std::optional<double> restore_own_ms;  // kiln's "restored ... in X ms"
  std::optional<double> restore_loaded_ms;  // QEMU: spawn until query-status leaves "inmigrate"
  std::vector<double> api_us;            // GET / on one keep-alive connection | QMP query-status
  std::vector<double> api_new_conn_us;   // GET / on a new connection each | QMP connect+greeting+caps+query-status
  std::string note;
};

struct Setup {
  std::string kiln;
  std::string qemu;
  std::string probe;
  std::string qemu_accel;     // kvm (tcg only to try the harness)
  std::string qemu_cpu;
  std::string qemu_incoming;  // "fd" (-incoming fd:N on the open file) or "exec" (exec:cat FILE)
  std::string dir;            // scratch directory (tmpfs)
  std::string cmdline;        // the ticker's command line
  int api_requests = 200;
  std::chrono::milliseconds boot_timeout{120000};  // to the third tick, and a restore to its first
  std::chrono::milliseconds op_timeout{600000};    // one API/QMP request (a snapshot included)
};

struct Guest {
  uint64_t mib = 256;
  std::string tag;           // in file names, e.g. "256M-r1"
  bool measure_api = false;  // the API round trips, while the guest runs
};

// kiln run ... --api-sock; PATCH /vm, PUT /snapshot/create; kiln restore.
[[nodiscard]] Status kiln_lifecycle(const Setup& s, const Guest& g, Lifecycle& out);
// qemu-system-x86_64 -M microvm ... -qmp; stop, getfd + migrate fd:, cont; -incoming.
[[nodiscard]] Status qemu_lifecycle(const Setup& s, const Guest& g, Lifecycle& out);

// --- shared by both ---

inline constexpr const char* kTick = "PROBE info tick n=";
inline constexpr auto kWarmupRequests = 10;

[[nodiscard]] double ms_since(Clock::time_point t);
[[nodiscard]] double us_since(Clock::time_point t);
// The number of the last complete tick line in `out` (one that ended with a line break).
[[nodiscard]] std::optional<uint64_t> last_tick(const std::string& out);
// The number of the first tick line in `out` (from its first "PROBE info tick n=").
[[nodiscard]] std::optional<uint64_t> first_tick(const std::string& out);
// Reads what the child has written so far (it is paused or idle), for `d`.
void drain(test::ChildProcess& child, std::chrono::milliseconds d = std::chrono::milliseconds(50));
// Kills the child and describes its end: " (exit status N; stderr: <last lines>)".
[[nodiscard]] std::string end_of(test::ChildProcess& child);
// The number before " ms" on the first line of `log` holding `marker`, after its last " in ".
[[nodiscard]] std::optional<double> logged_ms(const std::string& log, const std::string& marker);

struct FileUsage {
  double mib = 0;            // apparent sizes
  double allocated_mib = 0;  // st_blocks * 512
};
[[nodiscard]] Result<FileUsage> file_usage(const std::vector<std::string>& paths);

// Removes the files (if present) at destruction.
class RemoveFiles {
 public:
  explicit RemoveFiles(std::vector<std::string> paths) : paths_(std::move(paths)) {}
  RemoveFiles(const RemoveFiles&) = delete;
  RemoveFiles& operator=(const RemoveFiles&) = delete;
  ~RemoveFiles();

 private:
  std::vector<std::string> paths_;
};

}  // namespace kiln::bench
