// kiln command line: `kiln run --kernel PATH [...]`.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "cli/options.h"
#include "common/boot_trace.h"
#include "common/log.h"
#include "vmm/stop_reason.h"
#include "vmm/vm.h"

namespace {

constexpr const char* kExitStatusHelp =
    "Exit status: 0 when the guest resets or powers off, 1 on a kiln error, 2 on a usage error,\n"
    "3 when the guest fails (e.g. an instruction KVM cannot emulate), 128+N when stopped by signal N.\n"
    "Console: the guest's serial port is on stdin/stdout; press Ctrl-A x to quit.";

int run_vm(const kiln::RunArgs& args) {
  auto config = kiln::validate_run_args(args, kiln::query_host_limits());
  if (!config) {
    kiln::log("{}", config.error().message);
    return kiln::kExitUsage;
  }
  auto vm = kiln::Vm::create(*config);
  if (!vm) {
    kiln::log("{}", vm.error().message);
    return kiln::kExitVmmError;
  }
  const kiln::StopReason reason = (*vm)->run();
  kiln::log("{}", reason.message);
  return kiln::exit_status(reason);
}

}  // namespace

int main(int argc, char** argv) {
  kiln::boot_trace::mark_process_start();
  CLI::App app{"kiln: a small, fast virtual machine monitor on Linux KVM"};
  app.footer(kExitStatusHelp);
  app.require_subcommand(1);
  app.set_version_flag("--version", "kiln 0.1");

  kiln::RunArgs args;
  auto* run = app.add_subcommand("run", "Boot a kernel in a new VM and run it until it resets or powers off");
  run->add_option("--kernel", args.kernel,
                  "Kernel to boot: a bzImage, an ELF vmlinux with a PVH note, or a 64-bit ELF")
      ->required();
  run->add_option("--initrd", args.initrd, "Initial ramdisk loaded next to the kernel");
  run->add_option("--cmdline", args.cmdline, "Kernel command line")
      ->default_str("console=ttyS0 reboot=k panic=1 (console=hvc0 with --console virtio)");
  run->add_option("--memory", args.memory, "Guest RAM: MiB, or a size with K, M or G (e.g. 512M, 2G)")
      ->default_str("256M");
  run->add_option("--cpus", args.cpus, "Number of vCPUs")->default_str("1");
  run->add_option("--cpu-template", args.cpu_template,
                  "CPU features offered to the guest: 'none' (all KVM supports) or 'pvm' (hides what kvm_pvm hosts "
                  "cannot emulate); default: 'pvm' on kvm_pvm hosts, else 'none'");
  run->add_option("--cpu-feature", args.cpu_features,
                  "Feature changes after the template, e.g. '-cx16,+popcnt' (names as in /proc/cpuinfo)");
  run->add_option("--disk", args.disks,
                  "A raw disk image as virtio-blk: PATH[,readonly][,direct][,serial=ID] (repeatable; "
                  "the guest sees vda, vdb, ... in this order)");
  run->add_option("--console", args.console,
                  "Where kiln's stdin goes: 'serial' (COM1, ttyS0) or 'virtio' (virtio-console, hvc0; the default "
                  "command line then says console=hvc0)")
      ->default_str("serial");
  run->add_flag("--rng", args.rng, "Add a virtio-rng device (the guest's /dev/hwrng) fed by getrandom()");
  run->add_option("--transport", args.transport, "Virtio transport: 'mmio' (virtio-mmio)")->default_str("mmio");
  run->footer(kExitStatusHelp);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::fprintf(stderr, "kiln: %s\nRun 'kiln %s--help' for the options.\n", e.what(),
                 app.got_subcommand(run) ? "run " : "");
    return kiln::kExitUsage;
  }
  args.cmdline_given = run->count("--cmdline") > 0;
  return run_vm(args);
}
