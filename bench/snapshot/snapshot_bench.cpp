// Snapshot and restore, kiln against QEMU microvm (KVM), in one run, on kiln-probe's ticker
// (probe=ticker: a line every period_us):
//   pause, snapshot creation, resume    the client's round trip (kiln: raw HTTP on the API
//                                       socket; QEMU: QMP stop / getfd + migrate fd: / cont),
//                                       the VMM's own figure, the file sizes
//   restore to running                  spawn of `kiln restore` / `qemu -incoming` to the
//                                       guest's next tick line on its stdout
//   API round trip                      GET / against QMP query-status, median and p99
// for each --memory size, --runs times, kiln and QEMU in turn; min / median / max and the ratio
// of the medians. Needs /dev/kvm (prints why and exits 0 without it). README.md says more.
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "child_process.h"
#include "bench_cli.h"
#include "bench_env.h"
#include "figures.h"
#include "lifecycle.h"
#include "probe_command.h"
#include "scratch_dir.h"

namespace kiln::bench {
namespace {

using namespace std::chrono_literals;

const auto kStart = Clock::now();

template <typename... Args>
void progress(fmt::format_string<Args...> f, Args&&... args) {
  fmt::print(stderr, "snapshot_bench [{:5.0f} s] {}\n", ms_since(kStart) / 1000,
             fmt::format(f, std::forward<Args>(args)...));
  std::fflush(stderr);
}

struct Options {
  int runs = 3;
  std::vector<std::string> memory{"256M", "2G"};
  std::string kiln = KILN_BINARY;
  std::string qemu;
  std::string probe = KILN_GUEST_PROBE;
  int api_requests = 200;
  int period_us = 2000;
  int boot_timeout_s = 120;
  std::vector<std::string> only{"kiln", "qemu"};
  std::string qemu_incoming = "fd";
};

// "256M", "2G", "512" (MiB) -> MiB; 0 when not a size.
uint64_t mib_of(const std::string& text) {
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (end == text.c_str() || v == 0) return 0;
  const std::string unit = end;
  if (unit.empty() || unit == "M" || unit == "m") return v;
  if (unit == "G" || unit == "g") return v * 1024;
  return 0;
}

std::string size_name(uint64_t mib) { return mib % 1024 == 0 ? std::to_string(mib / 1024) + " GiB" : std::to_string(mib) + " MiB"; }

std::string fmt_opt(const std::optional<double>& v, const char* unit) {
  return v ? fmt::format("{:.1f} {}", *v, unit) : std::string("-");
}

// One line of progress per lifecycle: what it measured.
std::string summary(const Lifecycle& l) {
  std::string s = fmt::format("pause {}, create {} (own {}), files {} ({} allocated), resume {}, restore {} (own {}, loaded {})",
                              fmt_opt(l.pause_ms, "ms"), fmt_opt(l.create_ms, "ms"), fmt_opt(l.create_own_ms, "ms"),
                              fmt_opt(l.files_mib, "MiB"), fmt_opt(l.allocated_mib, "MiB"), fmt_opt(l.resume_ms, "ms"),
                              fmt_opt(l.restore_ms, "ms"), fmt_opt(l.restore_own_ms, "ms"),
                              fmt_opt(l.restore_loaded_ms, "ms"));
  if (!l.api_us.empty()) {
    s += fmt::format(", API median {:.0f} us p99 {:.0f} us, new connection median {:.0f} us", *median(l.api_us),
                     percentile(l.api_us, 99), l.api_new_conn_us.empty() ? 0.0 : *median(l.api_new_conn_us));
  }
  return s;
}

// Row indices of one guest size's block.
struct Block {
  uint64_t mib;
  size_t pause, create, create_own, files, allocated, resume, restore, restore_loaded, restore_own;
};

void add_lifecycle(std::vector<Row>& rows, const Block& b, const Lifecycle& l, bool kiln) {
  const auto cell = [&](size_t row) -> Cell& { return kiln ? rows[row].kiln : rows[row].qemu; };
  add(cell(b.pause), l.pause_ms);
  add(cell(b.create), l.create_ms);
  add(cell(b.create_own), l.create_own_ms);
  add(cell(b.files), l.files_mib);
  add(cell(b.allocated), l.allocated_mib);
  add(cell(b.resume), l.resume_ms);
  add(cell(b.restore), l.restore_ms);
  add(cell(b.restore_loaded), l.restore_loaded_ms);
  add(cell(b.restore_own), l.restore_own_ms);
}

struct ApiRows {
  size_t median, p99, new_median, new_p99;
};

void add_api(std::vector<Row>& rows, const ApiRows& a, const Lifecycle& l, bool kiln) {
  const auto cell = [&](size_t row) -> Cell& { return kiln ? rows[row].kiln : rows[row].qemu; };
  if (!l.api_us.empty()) {
    add(cell(a.median), median(l.api_us));
    add(cell(a.p99), percentile(l.api_us, 99));
  }
  if (!l.api_new_conn_us.empty()) {
    add(cell(a.new_median), median(l.api_new_conn_us));
    add(cell(a.new_p99), percentile(l.api_new_conn_us, 99));
  }
}

int run(const Options& o) {
  const std::string accel = env_or("KILN_BENCH_QEMU_ACCEL", "kvm");
  const bool have_kvm = ::access("/dev/kvm", R_OK | W_OK) == 0;
  if (!have_kvm && accel == "kvm") {
    std::printf("snapshot_bench: /dev/kvm is not available on this host, so neither kiln nor QEMU/KVM can run a "
                "guest; run it on a KVM host or inside scripts/kvm-box/run. Nothing measured.\n");
    return 0;
  }
  const test::ScratchDir scratch;
  if (!scratch.ok()) {
    std::fprintf(stderr, "snapshot_bench: cannot make a scratch directory in /dev/shm or $TMPDIR\n");
    return 1;
  }
  const auto wants = [&](const char* who) { return std::find(o.only.begin(), o.only.end(), who) != o.only.end(); };
  const bool do_kiln = wants("kiln") && have_kvm;
  const std::string qemu = o.qemu.empty() ? test::find_qemu(KILN_QEMU_SYSTEM) : o.qemu;
  const bool do_qemu = wants("qemu") && !qemu.empty();

  Setup s;
  s.kiln = o.kiln;
  s.qemu = qemu;
  s.probe = o.probe;
  s.qemu_accel = accel;
  s.qemu_cpu = env_or("KILN_BENCH_QEMU_CPU", accel == "kvm" ? "host" : "max");
  s.qemu_incoming = o.qemu_incoming;
  s.dir = scratch.path();
  // More ticks than any run needs (10^6 x period): the guest never ends by itself.
  s.cmdline = fmt::format("probe=ticker ticks=1000000 period_us={}", o.period_us);
  s.api_requests = o.api_requests;
  s.boot_timeout = std::chrono::seconds(o.boot_timeout_s);

  std::vector<Row> rows;
  std::vector<Block> blocks;
  for (const auto& m : o.memory) {
    const uint64_t mib = mib_of(m);
    rows.push_back({"guest " + size_name(mib), "", {}, {}});
    const auto row = [&](const std::string& name, const std::string& unit) {
      rows.push_back({"  " + name, unit, {}, {}});
      return rows.size() - 1;
    };
    Block b{mib, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    b.pause = row("pause (PATCH Paused | QMP stop)", "ms");
    b.create = row("snapshot create (PUT | getfd+migrate)", "ms");
    b.create_own = row("  VMM's own figure (log | total-time)", "ms");
    b.files = row("snapshot file(s), apparent size", "MiB");
    b.allocated = row("snapshot file(s), allocated", "MiB");
    b.resume = row("resume (PATCH Resumed | QMP cont)", "ms");
    b.restore = row("restore: spawn to first tick", "ms");
    b.restore_loaded = row("  loaded, before cont (QEMU)", "ms");
    b.restore_own = row("  VMM's own figure (kiln log)", "ms");
    rows[b.restore_loaded].kiln.note = "kiln restore resumes by itself: no such step";
    rows[b.restore_own].qemu.note = "QEMU prints no such figure";
    blocks.push_back(b);
  }
  rows.push_back({fmt::format("API round trip, running {} guest, {} requests per run (us)",
                              size_name(blocks.front().mib), o.api_requests),
                  "", {}, {}});
  ApiRows api{};
  const auto api_row = [&](const std::string& name) {
    rows.push_back({"  " + name, "us", {}, {}});
    return rows.size() - 1;
  };
  api.median = api_row("GET / keep-alive | query-status: median");
  api.p99 = api_row("GET / keep-alive | query-status: p99");
  api.new_median = api_row("new connection each: median");
  api.new_p99 = api_row("new connection each: p99");

  // How long the box takes to start a process and end it, for scale: part of every restore.
  rows.push_back({"reference", "", {}, {}});
  const size_t start_row = rows.size();
  rows.push_back({"  process start to exit (--version)", "ms", {}, {}});
  const auto time_version = [&](const std::string& binary, Cell& cell) {
    const auto t = Clock::now();
    const auto r = test::run_child({binary, "--version"}, 60s);
    if (r.exit_status == 0) cell.values.push_back(ms_since(t));
  };

  std::vector<std::string> failures;
  if (!wants("kiln")) failures.emplace_back("kiln: not asked for (--only)");
  else if (!have_kvm) failures.emplace_back("kiln: no /dev/kvm on this host");
  if (!wants("qemu")) failures.emplace_back("QEMU: not asked for (--only)");
  else if (qemu.empty()) failures.emplace_back("QEMU: qemu-system-x86_64 not found (--qemu or KILN_QEMU)");

  for (int run = 1; run <= o.runs; ++run) {
    if (do_kiln) time_version(s.kiln, rows[start_row].kiln);
    if (do_qemu) time_version(s.qemu, rows[start_row].qemu);
    for (size_t i = 0; i < blocks.size(); ++i) {
      const Guest g{blocks[i].mib, fmt::format("{}M-r{}", blocks[i].mib, run), i == 0};
      for (const bool kiln : {true, false}) {
        if (kiln ? !do_kiln : !do_qemu) continue;
        const char* who = kiln ? "kiln" : "QEMU";
        progress("run {}/{}, {} guest, {}", run, o.runs, size_name(g.mib), who);
        Lifecycle l;
        const Status ok = kiln ? kiln_lifecycle(s, g, l) : qemu_lifecycle(s, g, l);
        if (!ok) l.note += ok.error().message;
        add_lifecycle(rows, blocks[i], l, kiln);
        if (g.measure_api) add_api(rows, api, l, kiln);
        progress("run {}/{}, {} guest, {}: {}{}", run, o.runs, size_name(g.mib), who, summary(l),
                 l.note.empty() ? "" : "; NOTE: " + l.note);
        if (!l.note.empty()) {
          failures.push_back(fmt::format("{}, {} guest, run {}: {}", who, size_name(g.mib), run, l.note));
        }
      }
    }
  }

  const std::string title = fmt::format(
      "snapshot / restore: kiln vs QEMU microvm, min / median / max over {} runs; kiln/QEMU = ratio of the medians\n"
      "guest: kiln-probe \"{}\"; files in {} (tmpfs)\n"
      "QEMU: {}, -accel {} -cpu {}, migration to a file through getfd + fd:, restore with -incoming {}",
      o.runs, s.cmdline, s.dir, qemu_version(qemu), accel, s.qemu_cpu,
      o.qemu_incoming == "exec" ? "exec:cat FILE" : "fd:N (the file, inherited)");
  print_table(rows, title);
  print_failures(failures);
  return 0;
}

}  // namespace
}  // namespace kiln::bench

int main(int argc, char** argv) {
  kiln::bench::Options o;
  CLI::App app{"snapshot_bench: snapshot and restore, kiln vs QEMU microvm (see bench/snapshot/README.md)"};
  app.add_option("--runs", o.runs, "Lifecycles per VMM and guest size")->check(CLI::Range(1, 100))->capture_default_str();
  app.add_option("--memory", o.memory, "Guest sizes (M or G suffix)")->delimiter(',')->capture_default_str();
  app.add_option("--probe", o.probe, "kiln-probe guest (probe.elf)")->capture_default_str();
  app.add_option("--api-requests", o.api_requests, "Timed API round trips per run and kind")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--period-us", o.period_us, "The ticker's period")->check(CLI::Range(100, 1000000))->capture_default_str();
  app.add_option("--boot-timeout", o.boot_timeout_s, "Seconds to the third tick (and a restore to its first)")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  app.add_option("--qemu-incoming", o.qemu_incoming, "How QEMU reads the file back: fd (-incoming fd:N) or exec (cat)")
      ->check(CLI::IsMember({"fd", "exec"}))
      ->capture_default_str();
  kiln::bench::add_vmm_options(app, o.kiln, o.qemu, o.only);
  CLI11_PARSE(app, argc, argv);
  for (const auto& m : o.memory) {
    if (kiln::bench::mib_of(m) == 0) {
      std::fprintf(stderr, "snapshot_bench: --memory %s: not a size (e.g. 256M, 2G)\n", m.c_str());
      return 2;
    }
  }
  return kiln::bench::run(o);
}
