// Exit round trip (guest -> VMM -> guest) for a port write and an MMIO write, three ways:
//   bare KVM_RUN loop   the floor: raw KVM ioctls, a real-mode guest loop, nothing else
//                       (kvm_floor.cpp); host steady_clock around the KVM_RUN loop
//   kiln                kiln-probe from ring 3 (probe=exits), timed in the guest with the TSC
//   QEMU microvm (KVM)  the same probe under qemu-system-x86_64 -accel kvm
// Each row runs --runs times with the same --count; the table shows min / median / max ns per
// exit. Needs /dev/kvm (prints why and exits 0 without it); the QEMU row needs QEMU.
//
// Usage: exits_bench [--count N] [--runs R]      (defaults: 100000, 5)
// Env:   KILN_QEMU (QEMU binary), KILN_BENCH_QEMU_CPU (QEMU -cpu, default "host")
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "child_process.h"
#include "kvm_floor.h"
#include "probe_command.h"
#include "probe_output.h"

namespace {

using namespace std::chrono_literals;

struct Row {
  std::string name;
  std::vector<double> pio;   // ns per exit, one value per run
  std::vector<double> mmio;
  std::string note;          // why values are missing, or how they were measured
};

std::string stats(std::vector<double> v) {
  if (v.empty()) return "n/a";
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  const double median = n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%.0f / %.0f / %.0f", v.front(), median, v.back());
  return buf;
}

void run_floor(Row& row, uint64_t count, int runs) {
  for (int i = 0; i < runs; ++i) {
    auto pio = kiln::bench::kvm_floor_ns_per_exit(kiln::bench::FloorExit::pio_write, count);
    auto mmio = kiln::bench::kvm_floor_ns_per_exit(kiln::bench::FloorExit::mmio_write, count);
    if (!pio || !mmio) {
      row.note = (!pio ? pio.error() : mmio.error()).message;
      return;
    }
    row.pio.push_back(*pio);
    row.mmio.push_back(*mmio);
  }
  row.note = "host clock around KVM_RUN";
}

// ns_per_exit of a "PROBE result <name>" line; -1 if there is none.
double ns_per_exit(const kiln::test::ProbeOutput& out, const std::string& name) {
  const kiln::test::ProbeLine* line = out.find("result", name);
  if (line == nullptr) return -1;
  return kiln::test::field_number(*line, "ns_per_exit").value_or(-1);
}

// One probe=exits run per iteration; ns_per_exit as the probe measured it.
void run_probe(Row& row, const std::vector<std::string>& argv, uint64_t count, int runs) {
  const auto limit = 60s + std::chrono::milliseconds(count / 2);  // 2 ops at up to ~250 us each
  for (int i = 0; i < runs; ++i) {
    const auto r = kiln::test::run_child(argv, limit);
    const auto out = kiln::test::parse_probe_output(r.out);
    const auto problems = kiln::test::probe_run_problems(out, {r.exit_status, r.timed_out});
    if (!problems.empty()) {
      row.note = "probe run failed: " + problems.front();
      std::fprintf(stderr, "%s: %s\n--- stdout ---\n%s--- stderr ---\n%s", row.name.c_str(), problems.front().c_str(),
                   r.out.c_str(), r.err.c_str());
      return;
    }
    const double pio_ns = ns_per_exit(out, "exits.pio_write");
    const double mmio_ns = ns_per_exit(out, "exits.mmio_write");
    if (pio_ns < 0 || mmio_ns < 0) {
      row.note = "the probe printed no ns_per_exit (no TSC frequency?)";
      return;
    }
    row.pio.push_back(pio_ns);
    row.mmio.push_back(mmio_ns);
    if (const auto* tsc = out.find("result", "tsc"); tsc != nullptr && tsc->fields.count("source") != 0) {
      row.note = "guest TSC, frequency from " + tsc->fields.at("source");
    }
  }
}

bool parse_args(int argc, char** argv, uint64_t& count, int& runs) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if ((a == "--count" || a == "--runs") && i + 1 < argc) {
      const long long v = std::atoll(argv[++i]);
      if (v <= 0) return false;
      if (a == "--count") count = static_cast<uint64_t>(v);
      else runs = static_cast<int>(v);
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t count = 100000;
  int runs = 5;
  if (!parse_args(argc, argv, count, runs)) {
    std::fprintf(stderr, "usage: %s [--count N] [--runs R]\n", argv[0]);
    return 2;
  }
  if (::access("/dev/kvm", R_OK | W_OK) != 0) {
    std::printf("exits_bench: /dev/kvm is not available on this host, so no exit can be measured; run it on a "
                "KVM host or inside scripts/kvm-box/run. Nothing measured.\n");
    return 0;
  }

  const std::string cmdline = "probe=exits ops=pio_write,mmio_write count=" + std::to_string(count);
  std::vector<Row> rows{{"bare KVM_RUN loop", {}, {}, ""}, {"kiln", {}, {}, ""}, {"QEMU microvm (KVM)", {}, {}, ""}};
  run_floor(rows[0], count, runs);
  run_probe(rows[1], {KILN_BINARY, "run", "--kernel", KILN_GUEST_PROBE, "--memory", "128M", "--cmdline", cmdline},
            count, runs);
  const std::string qemu = kiln::test::find_qemu(KILN_QEMU_SYSTEM);
  if (qemu.empty()) {
    rows[2].note = "qemu-system-x86_64 not found (set KILN_QEMU)";
  } else {
    const char* cpu = std::getenv("KILN_BENCH_QEMU_CPU");
    run_probe(rows[2], kiln::test::qemu_probe_argv(qemu, "kvm", KILN_GUEST_PROBE, cmdline,
                                                   {"-cpu", cpu != nullptr ? cpu : "host"}),
              count, runs);
  }

  std::printf("exit round trip, ns per exit: min / median / max over %d runs of %llu exits each\n", runs,
              static_cast<unsigned long long>(count));
  std::printf("%-20s %-26s %-26s %s\n", "", "port write", "MMIO write", "measured by");
  for (const Row& row : rows) {
    std::printf("%-20s %-26s %-26s %s\n", row.name.c_str(), stats(row.pio).c_str(), stats(row.mmio).c_str(),
                row.note.c_str());
  }
  return 0;
}
