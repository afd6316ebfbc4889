#include "probe_rows.h"

#include <chrono>
#include <cstdio>

#include "child_process.h"
#include "probe/lib/dma_arena.h"
#include "probe_output.h"

namespace kiln::bench {

uint32_t probe_block_size(uint32_t wanted, uint32_t queue_depth) {
  constexpr uint64_t kOverhead = 256 << 10;  // ring, indirect tables, headers: < 100 KiB at qd=64
  constexpr uint64_t kData = PROBE_DMA_ARENA_SIZE - kOverhead;
  uint32_t bs = wanted;
  while (bs > 4096 && uint64_t{bs} * queue_depth > kData) bs /= 2;
  return bs;
}

std::string probe_cmdline(const ProbeWorkload& w) {
  return std::string("probe=blk blk.bench=") + (w.random ? "randread" : "seqread") +
         " qd=" + std::to_string(w.queue_depth) + " count=" + std::to_string(w.count) +
         " bs=" + std::to_string(w.block_size) + (w.transport == Transport::pci ? " blk.transport=pci" : "");
}

std::vector<std::string> kiln_probe_argv(const ProbeSetup& s, const ProbeWorkload& w) {
  std::vector<std::string> argv{s.kiln,   "run",   "--kernel", s.probe, "--memory", "128M", "--disk",
                                s.image, "--cmdline", probe_cmdline(w)};
  if (w.transport == Transport::pci) argv.insert(argv.end(), {"--transport", "pci"});
  return argv;
}

std::vector<std::string> qemu_probe_argv(const ProbeSetup& s, const ProbeWorkload& w) {
  const bool pci = w.transport == Transport::pci;
  std::string drive = "file=" + s.image + ",format=raw,if=none,id=d0,cache=writeback";
  if (!s.qemu_aio.empty()) drive += ",aio=" + s.qemu_aio;
  std::vector<std::string> argv{s.qemu,  "-accel", s.qemu_accel, "-cpu", s.qemu_cpu,
                                "-M",    pci ? "pc" : "microvm,acpi=off",
                                "-nodefaults", "-no-user-config", "-nographic", "-serial", "stdio"};
  // microvm has no i8042 (pc has its own): -device i8042 gives the probe's closing reset
  // somewhere to go, and -no-reboot turns it into QEMU's exit.
  if (!pci) argv.insert(argv.end(), {"-device", "i8042"});
  argv.insert(argv.end(), {"-m", "128M", "-drive", drive, "-device",
                           pci ? "virtio-blk-pci,disable-modern=on,drive=d0" : "virtio-blk-device,drive=d0",
                           "-kernel", s.probe, "-append", probe_cmdline(w), "-no-reboot"});
  return argv;
}

Result<ProbeFigures> run_probe_bench(const std::vector<std::string>& argv, const ProbeWorkload& w) {
  // Start-up plus up to 2 ms per request (the kvm-box's nested exits are ~50 us each).
  const auto limit = std::chrono::seconds(120) + std::chrono::milliseconds(2 * w.count);
  const auto r = test::run_child(argv, limit);
  const auto out = test::parse_probe_output(r.out);
  const auto problems = test::probe_run_problems(out, {r.exit_status, r.timed_out});
  const test::ProbeLine* line = out.find("result", "blk.bench");
  const auto iops = line != nullptr ? test::field_number(*line, "iops") : std::nullopt;
  const auto mbps = line != nullptr ? test::field_number(*line, "mbps") : std::nullopt;
  if (problems.empty() && iops && mbps) return ProbeFigures{*iops, *mbps};

  std::fprintf(stderr, "--- %s %s ---\n--- stdout ---\n%s--- stderr ---\n%s\n", argv[0].c_str(),
               probe_cmdline(w).c_str(), r.out.c_str(), r.err.c_str());
  if (!problems.empty()) {
    // The VMM's own complaint says more than "no summary line" (e.g. a flag it does not know yet).
    std::string err = r.err.substr(0, r.err.find('\n'));
    return fail("{}{}", problems.front(), err.empty() ? "" : " (stderr: " + err + ")");
  }
  return fail("no iops/mbps in the probe's blk.bench line (no TSC frequency?)");
}

}  // namespace kiln::bench
