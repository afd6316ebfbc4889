// Linux boot, kiln against QEMU microvm (KVM), in one run: the guest kit's agent (kiln.shell=1)
// booted through PVH from the same vmlinux and initramfs, with the same CPU features hidden:
//   spawn to KILN-GUEST-READY         host clock, from outside
//   the guest's uptime at READY       what the agent prints with the marker
//   exits to user space               kiln's per-vCPU counters; QEMU's kvm_run_exit trace (extra,
//                                     traced boots: the trace slows QEMU down)
//   instructions emulated             kiln's user-space fallback (QEMU has none)
//   the VMM's own memory at READY     PSS minus the guest RAM mapping's PSS
// for the kiln guest kernel with 1 and 2 vCPUs and, when KILN_STOCK_KERNEL is set, Debian's generic
// kernel with 2; --runs boots per VMM, kiln and QEMU in turn; min / median / max and the ratio of
// the medians. Needs /dev/kvm (prints why and exits 0 without it). bench/README.md says more.
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "boot_once.h"
#include "child_process.h"
#include "bench_cli.h"
#include "bench_env.h"
#include "figures.h"
#include "probe_command.h"
#include "scratch_dir.h"
#include "vmm_args.h"

namespace kiln::bench {
namespace {

using namespace std::chrono_literals;

struct Options {
  int runs = 3;
  int trace_runs = 1;
  int attempts = 3;
  int boot_timeout_s = 120;
  std::vector<std::string> guests{"kiln-1", "kiln-2", "stock-2"};
  std::vector<std::string> only{"kiln", "qemu"};
  std::string cpu_template = "pvm";
  std::string kiln = KILN_BINARY;
  std::string qemu;
};

void progress(const std::string& text) {
  std::fprintf(stderr, "linux_boot_bench: %s\n", text.c_str());
  std::fflush(stderr);
}

// One configuration's rows (indices into the table).
struct Block {
  GuestSpec guest;
  size_t ready, uptime, exits, emulated, own, total;
};

void add_boot(std::vector<Row>& rows, const Block& b, const BootFigures& f, bool kiln) {
  const auto cell = [&](size_t row) -> Cell& { return kiln ? rows[row].kiln : rows[row].qemu; };
  cell(b.ready).values.push_back(f.ready_ms);
  add(cell(b.uptime), f.uptime_s);
  add(cell(b.own), f.own_pss_mib);
  add(cell(b.total), f.total_pss_mib);
  if (kiln && f.exits) {
    cell(b.exits).values.push_back(static_cast<double>(f.exits->total));
    cell(b.exits).note = "by reason (last run): " + f.exits->by_reason;
  }
  if (kiln && f.emulated) {
    cell(b.emulated).values.push_back(static_cast<double>(*f.emulated));
    if (*f.emulated > 0) cell(b.emulated).note = "last run: " + f.emulated_list;
  }
}

// One boot, retried up to --attempts times when it fails (nested KVM guests in the kvm-box hang
// now and then); the failures are kept for the report.
std::optional<BootFigures> boot(const BootSpec& spec, const Options& o, const std::string& what,
                                std::vector<std::string>& failures) {
  for (int attempt = 1; attempt <= o.attempts; ++attempt) {
    auto f = boot_once(spec);
    if (f) {
      progress(fmt::format("{}: READY after {:.0f} ms (guest uptime {:.2f} s), own PSS {:.1f} MiB, exits {}{}", what,
                           f->ready_ms, f->uptime_s.value_or(0), f->own_pss_mib.value_or(0),
                           f->exits ? std::to_string(f->exits->total) : "n/a",
                           f->emulated ? fmt::format(", emulated {}", *f->emulated) : ""));
      return *f;
    }
    failures.push_back(fmt::format("{}, attempt {}: {}", what, attempt, f.error().message));
    progress(failures.back());
  }
  return std::nullopt;
}

int run(const Options& o) {
  if (::access("/dev/kvm", R_OK | W_OK) != 0) {
    std::printf("linux_boot_bench: /dev/kvm is not available on this host, so neither kiln nor QEMU/KVM can run a "
                "guest; run it on a KVM host or inside scripts/kvm-box/run. Nothing measured.\n");
    return 0;
  }
  const test::ScratchDir scratch;
  Setup s;
  s.kiln = o.kiln;
  s.qemu = o.qemu.empty() ? test::find_qemu(KILN_QEMU_SYSTEM) : o.qemu;
  s.qemu_cpu_base = env_or("KILN_BENCH_QEMU_CPU", "host,-arch-capabilities");
  s.cpu_template = o.cpu_template;
  s.append = env_or("KILN_BENCH_LINUX_APPEND", "");
  const auto wants = [&](const char* who) { return std::find(o.only.begin(), o.only.end(), who) != o.only.end(); };
  const bool do_kiln = wants("kiln");
  bool do_qemu = wants("qemu") && !s.qemu.empty() && scratch.ok();
  std::vector<std::string> failures, missing;
  std::string cpu;
  if (do_qemu) {
    auto c = qemu_cpu(s, missing);
    if (c) cpu = *c;
    else failures.push_back("QEMU: " + c.error().message);
    do_qemu = c.has_value();
  } else if (wants("qemu")) {
    failures.emplace_back("QEMU: qemu-system-x86_64 not found (--qemu or KILN_QEMU), or no scratch directory");
  }

  std::vector<Row> rows;
  std::vector<Block> blocks;
  for (const auto& name : o.guests) {
    const bool stock = name.starts_with("stock");
    const std::string kernel = env_or(stock ? "KILN_STOCK_KERNEL" : "KILN_GUEST_KERNEL", "");
    const std::string initrd = env_or(stock ? "KILN_STOCK_INITRD" : "KILN_GUEST_INITRD", "");
    if (kernel.empty() || initrd.empty()) {
      failures.push_back(fmt::format("{}: not run, {} not set", name,
                                     stock ? "KILN_STOCK_KERNEL / KILN_STOCK_INITRD" : "KILN_GUEST_KERNEL / KILN_GUEST_INITRD"));
      continue;
    }
    Block b{{stock ? "Debian's stock kernel" : "kiln guest kernel", kernel, initrd, std::stoi(name.substr(name.find('-') + 1))},
            0, 0, 0, 0, 0, 0};
    rows.push_back({fmt::format("{}, {} vCPU, {} MiB", b.guest.name, b.guest.cpus, s.memory_mib), "", {}, {}});
    const auto row = [&](const std::string& label, const std::string& unit) {
      rows.push_back({"  " + label, unit, {}, {}});
      return rows.size() - 1;
    };
    b.ready = row("spawn to KILN-GUEST-READY", "ms");
    b.uptime = row("guest uptime at READY", "s");
    b.exits = row("exits to user space, spawn to exit", "n");
    b.emulated = row("instructions emulated in user space", "n");
    b.own = row("VMM's own PSS at READY", "MiB");
    b.total = row("  total PSS (guest RAM touched included)", "MiB");
    if (blocks.empty()) rows[b.emulated].qemu.note = "none: QEMU has no fallback (KVM's emulator or nothing)";
    rows[b.exits].qemu.note = fmt::format("from {} extra boot(s) with -trace kvm_run_exit", o.trace_runs);
    blocks.push_back(b);
  }

  const auto ready_timeout = std::chrono::milliseconds(o.boot_timeout_s * 1000L);
  for (const Block& b : blocks) {
    for (int run = 1; run <= o.runs; ++run) {
      for (const bool kiln : {true, false}) {
        if (kiln ? !do_kiln : !do_qemu) continue;
        const std::string what = fmt::format("{} {} vCPU, {} run {}/{}", b.guest.name, b.guest.cpus,
                                             kiln ? "kiln" : "QEMU", run, o.runs);
        const BootSpec spec{kiln ? "kiln" : "QEMU", kiln ? kiln_argv(s, b.guest) : qemu_argv(s, b.guest, cpu, ""),
                            s.memory_mib << 20, kiln ? Counters::kKilnLog : Counters::kNone, "", ready_timeout};
        if (auto f = boot(spec, o, what, failures)) add_boot(rows, b, *f, kiln);
      }
    }
    for (int run = 1; do_qemu && run <= o.trace_runs; ++run) {
      const std::string trace = scratch.file("qemu-trace.log");
      const std::string what = fmt::format("{} {} vCPU, QEMU traced run {}/{}", b.guest.name, b.guest.cpus, run,
                                           o.trace_runs);
      const BootSpec spec{"QEMU", qemu_argv(s, b.guest, cpu, trace), s.memory_mib << 20, Counters::kQemuTrace, trace,
                          ready_timeout};
      auto f = boot(spec, o, what, failures);
      std::remove(trace.c_str());
      if (!f) continue;
      if (!f->exits) {
        failures.push_back(what + ": the trace log has no kvm_run_exit lines (no trace backend in this QEMU?)");
        continue;
      }
      rows[b.exits].qemu.values.push_back(static_cast<double>(f->exits->total));
      rows[b.exits].qemu.note = fmt::format("from {} extra boot(s) with -trace kvm_run_exit; by reason (last): {}",
                                            o.trace_runs, f->exits->by_reason);
    }
  }

  std::string skipped;
  for (const auto& m : missing) skipped += (skipped.empty() ? "" : " ") + m;
  print_table(rows, fmt::format(
      "Linux boot to the agent's KILN-GUEST-READY: kiln vs QEMU microvm (PVH), min / median / max over {} runs; "
      "kiln/QEMU = ratio of the medians\n"
      "kernel command line: {}\n"
      "kiln: --cpu-template {}\nQEMU: {}, -accel kvm -cpu {}{}",
      o.runs, guest_cmdline(s), s.cpu_template, qemu_version(s.qemu), cpu,
      skipped.empty() ? "" : "\n  (template features QEMU does not list, so not hidden there: " + skipped + ")"));
  print_failures(failures);
  return 0;
}

}  // namespace
}  // namespace kiln::bench

int main(int argc, char** argv) {
  kiln::bench::Options o;
  CLI::App app{"linux_boot_bench: Linux boot to the agent, kiln vs QEMU microvm (see bench/README.md)"};
  app.add_option("--runs", o.runs, "Boots per VMM and guest")->check(CLI::Range(1, 100))->capture_default_str();
  app.add_option("--trace-runs", o.trace_runs, "Extra QEMU boots with -trace kvm_run_exit per guest (exit counts)")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  app.add_option("--attempts", o.attempts, "Boots tried before a run counts as failed")
      ->check(CLI::Range(1, 20))
      ->capture_default_str();
  app.add_option("--boot-timeout", o.boot_timeout_s, "Seconds from spawn to KILN-GUEST-READY")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  app.add_option("--guests", o.guests, "kiln-N (the kiln guest kernel, N vCPUs) and stock-N (KILN_STOCK_KERNEL)")
      ->delimiter(',')
      ->check([](const std::string& g) -> std::string {
        const auto dash = g.find('-');
        const std::string kind = g.substr(0, dash);
        const bool ok = dash != std::string::npos && (kind == "kiln" || kind == "stock") && dash + 1 < g.size() &&
                        g.find_first_not_of("0123456789", dash + 1) == std::string::npos;
        return ok ? "" : "expected kiln-N or stock-N, e.g. kiln-2";
      })
      ->capture_default_str();
  app.add_option("--cpu-template", o.cpu_template, "kiln's CPU template; QEMU hides the same features")
      ->check(CLI::IsMember({"pvm", "none"}))
      ->capture_default_str();
  kiln::bench::add_vmm_options(app, o.kiln, o.qemu, o.only);
  CLI11_PARSE(app, argc, argv);
  return kiln::bench::run(o);
}
