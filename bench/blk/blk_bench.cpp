// virtio-blk read throughput, kiln against QEMU (KVM) on the same raw image, in one run:
//   probe   kiln-probe's blk.bench (4 KiB random reads, 64 KiB sequential reads; queue depth
//           1, 8, 64): the VMM's own cost per request, almost no guest in the way (probe_rows.h)
//   Linux   dd if=/dev/vda of=/dev/null bs=1M in the kiln guest kernel (linux_rows.h)
//   host    fio (io_uring, buffered) on the same file: the limit (host_fio.h)
// per transport (--transports): virtio-mmio (QEMU -M microvm) and legacy virtio-PCI (kiln
// --transport pci; QEMU -M pc, virtio-blk-pci,disable-modern=on), the Linux row over PCI once with
// MSI-X and once with pci=nomsi (INTx); a PCI row's kiln/mmio is kiln over kiln's mmio row.
// The image (pseudo-random bytes, default 256 MiB) lives in a scratch directory, in the page
// cache, and both VMMs read it buffered: kiln opens it without O_DIRECT, QEMU gets
// cache=writeback (its default). Medians over the runs; no assertions on any figure.
// Needs /dev/kvm (prints why and exits 0 without it).
//
// Usage: blk_bench [--runs R] [--count N] [--seq-count N] [--seq-bs B] [--passes P] [--image-mib M]
//                  [--dir DIR] [--fio-seconds S] [--linux-timeout S] [--only probe,linux,fio]
//                  [--qemu-aio MODE] [--transports mmio,pci]
// Env:   KILN_QEMU, KILN_BENCH_QEMU_CPU (default host), KILN_BENCH_QEMU_ACCEL (default kvm; tcg
//        only to try the harness on a host without KVM), KILN_GUEST_KERNEL / KILN_GUEST_INITRD
//        (the Linux row), KILN_BENCH_LINUX_APPEND (more kernel command line), KILN_FIO.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "bench_env.h"
#include "bench_image.h"
#include "bench_options.h"
#include "bench_rows.h"
#include "bench_table.h"
#include "host_fio.h"
#include "linux_rows.h"
#include "probe_command.h"
#include "probe_rows.h"

namespace kiln::bench {
namespace {

// Progress on stderr with the time since start, so that a run cut short (the kvm-box's time-out)
// still shows what it measured.
const auto kStart = std::chrono::steady_clock::now();

template <typename... Args>
void progress(fmt::format_string<Args...> f, Args&&... args) {
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - kStart).count();
  fmt::print(stderr, "blk_bench [{:5.0f} s] {}\n", s, fmt::format(f, std::forward<Args>(args)...));
}

// The value a run just added, or why it failed.
std::string latest(const Measured& m) {
  if (!m.note.empty()) return "failed (" + m.note + ")";
  return m.values.empty() ? "-" : fmt::format("{:.0f}", m.values.back());
}

void add(Measured& m, const Result<double>& v) {
  if (v) m.values.push_back(*v);
  else m.note = v.error().message;
}

Result<double> figure(const Result<ProbeFigures>& f, bool random) {
  if (!f) return tl::unexpected(f.error());
  return random ? f->iops : f->mbps;
}

void run_probe_part(const Options& o, const ProbeSetup& setup, std::vector<Row>& rows,
                    const std::vector<ProbeRow>& probe_rows) {
  for (int run = 0; run < o.runs; ++run) {
    for (const ProbeRow& p : probe_rows) {
      Row& row = rows[p.row];
      // Kiln, then QEMU, in turn: drift on the host hits both alike. A VMM that failed a row
      // once is not asked again (its note says why).
      if (row.kiln.note.empty()) {
        add(row.kiln, figure(run_probe_bench(kiln_probe_argv(setup, p.workload), p.workload), p.workload.random));
      }
      if (setup.qemu.empty()) {
        row.qemu.note = "qemu-system-x86_64 not found (set KILN_QEMU)";
      } else if (row.qemu.note.empty()) {
        add(row.qemu, figure(run_probe_bench(qemu_probe_argv(setup, p.workload), p.workload), p.workload.random));
      }
      progress("run {}/{} {}: kiln {}, QEMU {} {}", run + 1, o.runs, row.workload, latest(row.kiln),
               latest(row.qemu), row.unit);
    }
  }
}

void run_linux_vmm(const std::vector<std::string>& argv, const LinuxSetup& setup, uint64_t bytes, Measured& m) {
  auto r = run_linux_dd(argv, setup, bytes);
  if (!r) {
    m.note = r.error().message;
    return;
  }
  m.values = r->guest_mbps;
  m.host_clock = r->host_mbps;
  if (r->boot_hangs > 0) {
    m.note = fmt::format("measured in boot {}: the ones before hung (see stderr)", r->boot_hangs + 1);
  }
}

std::string list(const std::vector<double>& v) {
  std::string out;
  char buf[32];
  for (double x : v) {
    std::snprintf(buf, sizeof(buf), "%s%.0f", out.empty() ? "" : " ", x);
    out += buf;
  }
  return out.empty() ? "-" : out;
}

// One fio job per workload: the rows of other transports get the same figure.
void run_fio_part(const std::string& image, int seconds, std::vector<Row>& rows, const std::vector<ProbeRow>& probe,
                  const std::vector<LinuxRow>& linux_rows) {
  const std::string fio = find_fio();
  const auto copy = [&](size_t from, size_t to) {
    rows[to].host = rows[from].host;
    rows[to].host_note = rows[from].host_note;
  };
  const auto one = [&](Row& row, const FioJob& job) {
    if (fio.empty()) {
      row.host_note = "fio not found (set KILN_FIO)";
      return;
    }
    const auto r = run_fio(fio, image, job);
    if (r) row.host = job.random ? r->iops : r->mbps;
    else row.host_note = r.error().message;
    progress("host fio {} bs={} iodepth={}: {}", job.random ? "randread" : "read", job.block_size, job.iodepth,
             r ? fmt::format("{:.0f} {}", row.host.value_or(0), row.unit) : "failed (" + row.host_note + ")");
  };
  for (const ProbeRow& p : probe) {
    const ProbeWorkload& w = p.workload;
    if (p.first != p.row) copy(p.first, p.row);
    else one(rows[p.row], {w.random, w.block_size, w.queue_depth, seconds});
  }
  for (size_t i = 0; i < linux_rows.size(); ++i) {
    if (i > 0) copy(linux_rows[0].row, linux_rows[i].row);
    else one(rows[linux_rows[i].row], {false, 1u << 20, 1, seconds});  // dd bs=1M: one 1 MiB read at a time
  }
}

// One boot per VMM and bus (more where the kvm-box hangs one: linux_rows.h).
void run_linux_part(const Options& o, const LinuxSetup& setup, uint64_t bytes, std::vector<Row>& rows,
                    const std::vector<LinuxRow>& linux_rows) {
  for (const LinuxRow& l : linux_rows) {
    Row& row = rows[l.row];
    if (setup.kernel.empty() || setup.initrd.empty()) {
      row.kiln.note = row.qemu.note =
          "KILN_GUEST_KERNEL / KILN_GUEST_INITRD not set (guest/build-kernel, guest/build-initramfs)";
      continue;
    }
    progress("{} under kiln ({} passes)", row.workload, o.passes);
    run_linux_vmm(kiln_linux_argv(setup, l.bus), setup, bytes, row.kiln);
    progress("{} under kiln: {} MB/s (host clock: {})", row.workload, list(row.kiln.values),
             list(row.kiln.host_clock));
    if (setup.qemu.empty()) {
      row.qemu.note = "qemu-system-x86_64 not found (set KILN_QEMU)";
      continue;
    }
    progress("{} under QEMU ({} passes)", row.workload, o.passes);
    run_linux_vmm(qemu_linux_argv(setup, l.bus), setup, bytes, row.qemu);
    progress("{} under QEMU: {} MB/s (host clock: {})", row.workload, list(row.qemu.values),
             list(row.qemu.host_clock));
  }
}


int run(const Options& o) {
  const std::string accel = env_or("KILN_BENCH_QEMU_ACCEL", "kvm");
  if (accel == "kvm" && ::access("/dev/kvm", R_OK | W_OK) != 0) {
    std::printf("blk_bench: /dev/kvm is not available on this host, so neither kiln nor QEMU/KVM can run a guest; "
                "run it on a KVM host or inside scripts/kvm-box/run. Nothing measured.\n");
    return 0;
  }
  progress("writing a {} MiB image in {}", o.image_mib, o.dir);
  auto image = BenchImage::create(o.dir, o.image_mib << 20);
  if (!image) {
    std::fprintf(stderr, "blk_bench: %s\n", image.error().message.c_str());
    return 1;
  }

  std::vector<Row> rows;
  std::vector<ProbeRow> probe;
  std::vector<LinuxRow> linux_rows;
  make_rows(o, rows, probe, linux_rows);

  const std::string qemu = test::find_qemu(KILN_QEMU_SYSTEM);
  const std::string cpu = env_or("KILN_BENCH_QEMU_CPU", accel == "kvm" ? "host" : "max");
  if (o.want_linux) {
    const LinuxSetup setup{KILN_BINARY, qemu, accel, cpu, o.qemu_aio, env_or("KILN_GUEST_KERNEL", ""),
                           env_or("KILN_GUEST_INITRD", ""), image->path(), env_or("KILN_BENCH_LINUX_APPEND", ""),
                           o.passes, o.linux_timeout};
    run_linux_part(o, setup, image->bytes(), rows, linux_rows);
  }
  if (o.want_fio) run_fio_part(image->path(), o.fio_seconds, rows, probe, linux_rows);
  if (o.want_probe) {
    const ProbeSetup setup{KILN_BINARY, qemu, accel, cpu, o.qemu_aio, KILN_GUEST_PROBE, image->path()};
    run_probe_part(o, setup, rows, probe);
  }

  std::string title = fmt::format(
      "virtio-blk reads of a {} MiB raw image in {} (host page cache; kiln: no O_DIRECT; QEMU: -accel {} -cpu {}, "
      "cache=writeback, aio={})",
      o.image_mib, o.dir, accel, cpu, o.qemu_aio.empty() ? "threads (default)" : o.qemu_aio);
  if (wants(o, Transport::pci)) {
    title += "\npci: kiln --transport pci; QEMU -M pc, virtio-blk-pci,disable-modern=on (mmio: QEMU -M microvm); "
             "kiln/mmio: kiln over kiln's mmio row";
  }
  if (o.want_probe) {
    title += fmt::format("\nprobe: median of {} runs of {} random / {} sequential requests, polled, TSC-timed{}",
                         o.runs, o.count, o.seq_count,
                         wants(o, Transport::pci) ? " (pci too: MSI-X off, no interrupts)" : "");
  }
  if (o.want_linux) {
    title += fmt::format("\nLinux: median of {} dd passes in one boot ({} vCPUs, {}), timed in the guest", o.passes,
                         kLinuxCpus, kLinuxMemory);
  }
  if (o.want_fio) {
    title += fmt::format("\nhost fio: io_uring, buffered (direct=0), {} s per job, same block size and depth",
                         o.fio_seconds);
  }
  std::fflush(stderr);
  print_table(rows, title);
  if (o.want_linux) {
    std::printf("\nLinux dd MB/s per pass, host clock between the guest's marker lines (cross-check of the guest "
                "clock):\n");
    for (const LinuxRow& l : linux_rows) {
      const Row& r = rows[l.row];
      if (linux_rows.size() == 1) {
        std::printf("  kiln %s | QEMU %s\n", list(r.kiln.host_clock).c_str(), list(r.qemu.host_clock).c_str());
      } else {
        std::printf("  %s: kiln %s | QEMU %s\n", r.workload.c_str(), list(r.kiln.host_clock).c_str(),
                    list(r.qemu.host_clock).c_str());
      }
    }
  }
  return 0;
}

}  // namespace
}  // namespace kiln::bench

int main(int argc, char** argv) {
  kiln::bench::Options o;
  if (!kiln::bench::parse_options(argc, argv, o)) {
    std::fprintf(stderr, "%s", kiln::bench::kUsage);
    return 2;
  }
  return kiln::bench::run(o);
}
