// Start-up cost and memory overhead: kiln next to QEMU microvm, same PVH test guest, same run.
//   - spawn to the guest's first serial byte (both VMMs, measured from outside);
//   - main() to the first KVM_RUN (kiln, from its KILN_BOOT_TRACE log);
//   - the VMM's own memory: PSS minus the PSS of guest RAM, with a 256 MiB guest halted after boot.
// Needs /dev/kvm; QEMU rows need qemu-system-x86_64. Prints why a row cannot run instead of failing.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "child_process.h"
#include "smaps.h"

namespace {

using namespace std::chrono_literals;
using kiln::test::ChildProcess;

bool have_kvm() { return ::access("/dev/kvm", R_OK | W_OK) == 0; }
bool have_qemu() { return ::access("/usr/bin/qemu-system-x86_64", X_OK) == 0; }

std::vector<std::string> kiln_argv(const std::string& cmdline) {
  return {KILN_BINARY, "run", "--kernel", KILN_GUEST_PVH, "--memory", "256M", "--cmdline", cmdline};
}

std::vector<std::string> qemu_argv(const std::string& cmdline) {
  const char* cpu = std::getenv("KILN_BENCH_QEMU_CPU");
  return {"/usr/bin/qemu-system-x86_64", "-M", "microvm", "-accel", "kvm", "-cpu",
          cpu != nullptr ? cpu : "host,-arch-capabilities", "-m", "256M", "-smp", "1", "-nodefaults",
          "-no-user-config", "-nographic", "-serial", "stdio", "-device", "i8042", "-kernel", KILN_GUEST_PVH,
          "-append", cmdline, "-no-reboot"};
}

// Time from spawn to the first byte the guest writes on its serial port.
void first_serial_byte(benchmark::State& state, bool qemu) {
  if (!have_kvm()) return state.SkipWithError("no /dev/kvm on this host");
  if (qemu && !have_qemu()) return state.SkipWithError("qemu-system-x86_64 is not installed");
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    ChildProcess vmm(qemu ? qemu_argv("action=fill") : kiln_argv("action=fill"));
    if (!vmm.wait_for_output("f", 30s)) return state.SkipWithError("no serial output within 30 s");
    state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    auto r = vmm.wait(30s);
    if (r.exit_status != 0) return state.SkipWithError(("VMM exited with " + std::to_string(r.exit_status)).c_str());
  }
}

// kiln's own view: main() entry to the first KVM_RUN of vCPU 0.
void kiln_first_kvm_run(benchmark::State& state) {
  if (!have_kvm()) return state.SkipWithError("no /dev/kvm on this host");
  ::setenv("KILN_BOOT_TRACE", "1", 1);
  for (auto _ : state) {
    auto r = kiln::test::run_child(kiln_argv("action=reset"), 30s);
    const auto pos = r.err.find("boot-trace first-kvm-run ");
    if (pos == std::string::npos) return state.SkipWithError("kiln printed no boot-trace line");
    state.SetIterationTime(std::stod(r.err.substr(pos + 25)) / 1e6);
  }
  ::unsetenv("KILN_BOOT_TRACE");
}

// PSS of the whole VMM process minus the PSS of its guest RAM mapping, guest halted after boot.
void own_memory(benchmark::State& state, bool qemu) {
  if (!have_kvm()) return state.SkipWithError("no /dev/kvm on this host");
  if (qemu && !have_qemu()) return state.SkipWithError("qemu-system-x86_64 is not installed");
  for (auto _ : state) {
    ChildProcess vmm(qemu ? qemu_argv("action=hlt") : kiln_argv("action=hlt"));
    if (!vmm.wait_for_output("result ok", 30s)) return state.SkipWithError("guest did not report");
    auto usage = kiln::bench::read_memory_usage(vmm.pid(), 256ull << 20);
    if (!usage) return state.SkipWithError("could not read /proc/PID/smaps");
    state.counters["own_pss_KiB"] = static_cast<double>(usage->total_pss_kib - usage->guest_pss_kib);
    state.counters["total_pss_KiB"] = static_cast<double>(usage->total_pss_kib);
    state.counters["guest_pss_KiB"] = static_cast<double>(usage->guest_pss_kib);
    state.counters["rss_KiB"] = static_cast<double>(usage->total_rss_kib);
  }
}

BENCHMARK_CAPTURE(first_serial_byte, kiln, false)->UseManualTime()->Iterations(20)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(first_serial_byte, qemu_microvm, true)->UseManualTime()->Iterations(20)->Unit(benchmark::kMillisecond);
BENCHMARK(kiln_first_kvm_run)->UseManualTime()->Iterations(20)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(own_memory, kiln, false)->Iterations(3);
BENCHMARK_CAPTURE(own_memory, qemu_microvm, true)->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
