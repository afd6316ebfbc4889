// The probe part of blk_bench: kiln-probe's virtio-blk benchmark (probe=blk blk.bench=...) on the
// bench image, under kiln and under QEMU with KVM, over virtio-mmio (QEMU microvm) or legacy
// virtio-PCI (blk.transport=pci; kiln --transport pci, QEMU -M pc). The probe polls the used ring
// with interrupts off and times itself with the TSC, so the figure is the device path of each VMM
// (notification, request handling, host I/O, completion) with almost no guest in it; over PCI
// too no interrupt is raised (MSI-X stays off, INTx is suppressed like the mmio interrupt).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench_options.h"
#include "common/result.h"

namespace kiln::bench {

struct ProbeWorkload {
  bool random = true;  // blk.bench=randread, else seqread
  uint32_t block_size = 4096;
  uint32_t queue_depth = 1;
  uint64_t count = 10000;  // requests per run
  Transport transport = Transport::mmio;
};

// "probe=blk blk.bench=... qd= count= bs=" (and " blk.transport=pci" over PCI).
[[nodiscard]] std::string probe_cmdline(const ProbeWorkload& w);

// The largest request size up to `wanted` (halving) whose `queue_depth` data buffers fit in the
// probe's DMA arena next to its rings and headers (guests/probe/lib/dma_arena.h).
[[nodiscard]] uint32_t probe_block_size(uint32_t wanted, uint32_t queue_depth);

struct ProbeSetup {
  std::string kiln;      // kiln binary
  std::string qemu;      // qemu-system-x86_64 ("" if there is none)
  std::string qemu_accel = "kvm";
  std::string qemu_cpu;  // QEMU -cpu
  std::string qemu_aio;  // QEMU -drive aio= ("" = QEMU's default, threads)
  std::string probe;     // probe.elf
  std::string image;
};

// kiln run --kernel PROBE --memory 128M --disk IMAGE --cmdline probe_cmdline(w) (over PCI with
// --transport pci).
[[nodiscard]] std::vector<std::string> kiln_probe_argv(const ProbeSetup& s, const ProbeWorkload& w);

// qemu-system-x86_64 -accel ACCEL -cpu CPU -M microvm,acpi=off (so that QEMU appends
// virtio_mmio.device= for the probe) ... -drive file=IMAGE,format=raw,if=none,id=d0,cache=writeback
// -device virtio-blk-device,drive=d0: cache=writeback is QEMU's default and what kiln does (host
// page cache, no O_DIRECT). Over PCI: -M pc (SeaBIOS assigns the BARs) and
// -device virtio-blk-pci,disable-modern=on,drive=d0, the legacy device kiln also is.
[[nodiscard]] std::vector<std::string> qemu_probe_argv(const ProbeSetup& s, const ProbeWorkload& w);

struct ProbeFigures {
  double iops = 0;
  double mbps = 0;  // MB = 10^6 bytes
};

// Boots the probe once with `argv` and returns what its "PROBE result blk.bench" line says; an
// error (with the run's output on stderr) if the run failed or printed no figures.
[[nodiscard]] Result<ProbeFigures> run_probe_bench(const std::vector<std::string>& argv, const ProbeWorkload& w);

}  // namespace kiln::bench
