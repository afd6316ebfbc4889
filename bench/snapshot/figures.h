// What one VM lifecycle measured (boot, pause, snapshot, resume, kill, restore), and the table:
// one row per figure, min / median / max over the runs for kiln and for QEMU, and the ratio of
// the medians.
#pragma once

#include <optional>
#include <string>
#include <vector>

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

struct Cell {
  std::vector<double> values;  // one per run
  std::string note;            // why some are missing
};

struct Row {
  std::string name;
  std::string unit;
  Cell kiln;
  Cell qemu;
};

[[nodiscard]] std::optional<double> median(std::vector<double> v);
// Nearest-rank percentile (p in 0..100) of a non-empty `v`.
[[nodiscard]] double percentile(std::vector<double> v, double p);
// "12.3 / 14.0 / 20.1", or "n/a".
[[nodiscard]] std::string min_med_max(std::vector<double> v);

void add(Cell& cell, const std::optional<double>& v);

// The table, then the notes.
void print_table(const std::vector<Row>& rows, const std::string& title);

}  // namespace kiln::bench
