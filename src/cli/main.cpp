// kiln command line:
//   kiln run --kernel PATH [...] [--api-sock PATH]      boot now (and serve the API too)
//   kiln restore --snapshot FILE --mem FILE [...]        continue a snapshot in this process
//   kiln --api-sock PATH [--config-file FILE]            Firecracker style: wait to be configured
//   kiln --config-file FILE                              boot what the Firecracker config file says
#include <CLI/CLI.hpp>

#include <cstdio>
#include <optional>

#include "api/api_server.h"
#include "api/config_file.h"
#include "cli/options.h"
#include "cli/profile_options.h"
#include "common/boot_trace.h"
#include "common/log.h"
#include "vmm/stop_reason.h"
#include "vmm/stop_signals.h"
#include "vmm/builder.h"
#include "vmm/vmm.h"

namespace {

constexpr const char* kVersion = "0.1";
constexpr const char* kExitStatusHelp =
    "Exit status: 0 when the guest resets or powers off, 1 on a kiln error, 2 on a usage error (also\n"
    "a kernel or snapshot file kiln cannot use), 3 when the guest fails (e.g. an instruction KVM\n"
    "cannot emulate), 128+N when stopped by signal N.\n"
    "Console: the guest's COM1 (ttyS0), or hvc0 with --console virtio, is on stdin/stdout;\n"
    "press Ctrl-A x to quit.";

struct Launch {
  std::string api_sock;
  std::string config_file;
  std::string snapshot;
  std::string mem;
  std::vector<std::string> disk_paths;  // restore --disk-path ID=PATH
  std::vector<std::string> net_taps;    // restore --net-tap ID=NAME
  std::string vsock_uds;                // restore --vsock-uds PATH
  bool paused = false;
  kiln::ProfileArgs profile;  // run and restore
};

int fail_with(int status, const kiln::Error& e) {
  kiln::log("{}", e.message);
  return status;
}

// Builds what the command line asks for, serves the API if asked, runs until the VM stops.
int launch(const Launch& how, const kiln::RunArgs* run_args, bool restore) {
  // Before any thread starts, so that every thread inherits the blocked mask.
  auto signals = kiln::StopSignals::block();
  if (!signals) return fail_with(kiln::kExitVmmError, signals.error());
  auto vmm = kiln::Vmm::create();
  if (!vmm) return fail_with(kiln::kExitVmmError, vmm.error());
  const kiln::HostLimits host = kiln::query_host_limits();

  std::optional<kiln::api::VmResources> booted;
  std::unique_ptr<kiln::Vm> vm;
  bool start_paused = false;
  if (run_args != nullptr) {
    auto config = kiln::validate_run_args(*run_args, host);
    if (!config) return fail_with(kiln::kExitUsage, config.error());
    auto created = kiln::VmBuilder::build(*config);
    if (!created) return fail_with(kiln::exit_status(created.error()), created.error());
    vm = std::move(*created);
    booted = kiln::api::VmResources::from_vm_config(*config);
  } else if (restore) {
    kiln::RestoreOptions options;
    for (const std::string& text : how.disk_paths) {
      auto moved = kiln::parse_disk_path_override(text);
      if (!moved) return fail_with(kiln::kExitUsage, moved.error());
      options.disk_paths.push_back(std::move(*moved));
    }
    for (const std::string& text : how.net_taps) {
      auto moved = kiln::parse_net_tap_override(text);
      if (!moved) return fail_with(kiln::kExitUsage, moved.error());
      options.net_taps.push_back(std::move(*moved));
    }
    if (!how.vsock_uds.empty()) options.vsock_uds_path = how.vsock_uds;
    auto restored = kiln::VmBuilder::restore(how.snapshot, how.mem, options);
    if (!restored) return fail_with(kiln::exit_status(restored.error()), restored.error());
    vm = std::move(*restored);
    booted = kiln::api::VmResources::from_vm_config(vm->config());
    start_paused = how.paused;
  } else if (!how.config_file.empty()) {
    auto loaded = kiln::api::load_config_file(how.config_file, host);
    if (!loaded) return fail_with(kiln::kExitUsage, loaded.error());
    auto created = kiln::VmBuilder::build(loaded->vm);
    if (!created) return fail_with(kiln::exit_status(created.error()), created.error());
    vm = std::move(*created);
    booted = std::move(loaded->resources);
  }
  if (vm && how.profile.enabled()) {
    auto settings = kiln::profile_settings(how.profile, vm->kernel_path());
    if (!settings) return fail_with(kiln::kExitUsage, settings.error());
    vm->enable_profiler(std::move(*settings));
  }
  if (vm) {
    if (auto ok = (*vmm)->adopt(std::move(vm), start_paused); !ok) return fail_with(kiln::kExitVmmError, ok.error());
  }

  std::unique_ptr<kiln::api::ApiServer> api;
  if (!how.api_sock.empty()) {
    kiln::api::ApiOptions options;
    options.vmm_version = kVersion;
    options.host = host;
    options.preconfigured = std::move(booted);
    auto server = kiln::api::ApiServer::start(how.api_sock, **vmm, std::move(options));
    if (!server) return fail_with(kiln::kExitVmmError, server.error());
    api = std::move(*server);
  }
  const kiln::StopReason reason = (*vmm)->run(*signals);
  api.reset();  // stop serving (and remove the socket) before the controller goes away
  kiln::log("{}", reason.message);
  return kiln::exit_status(reason);
}

}  // namespace

int main(int argc, char** argv) {
  kiln::boot_trace::mark_process_start();
  CLI::App app{"kiln: a small, fast virtual machine monitor on Linux KVM"};
  app.footer(kExitStatusHelp);
  app.require_subcommand(0, 1);
  app.set_version_flag("--version", std::string("kiln ") + kVersion);

  Launch how;
  app.add_option("--api-sock", how.api_sock,
                 "Serve the Firecracker-compatible control API on this unix socket; without a subcommand "
                 "kiln waits to be configured through it (PUT /boot-source, /machine-config, /drives/ID, "
                 "/entropy, then PUT /actions InstanceStart), or to load a snapshot (PUT /snapshot/load)");
  app.add_option("--config-file", how.config_file,
                 "Boot the VM a Firecracker config file describes (boot-source, machine-config, drives, "
                 "entropy, logger, metrics)");

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
                  "cannot emulate); default: 'pvm' on kvm_pvm hosts, else 'none'. On kvm_pvm hosts the guest reads CPUID "
                  "natively: without XSAVE in its CPUID, 'noxsave' is added to the kernel command line");
  run->add_option("--cpu-feature", args.cpu_features,
                  "Feature changes after the template, e.g. '-cx16,+popcnt' (names as in /proc/cpuinfo)");
  run->add_option("--disk", args.disks,
                  "A raw disk image as virtio-blk: PATH[,readonly][,direct][,serial=ID][,transport=mmio|pci] "
                  "(repeatable; the guest sees vda, vdb, ... in this order; transport= overrides --transport for "
                  "this disk)");
  run->add_option("--console", args.console,
                  "Where kiln's stdin goes: 'serial' (COM1, ttyS0) or 'virtio[,transport=mmio|pci]' (virtio-console, "
                  "hvc0; the default command line then says console=hvc0)")
      ->default_str("serial");
  run->add_option("--net", args.nets,
                  "A network interface (virtio-net) on an existing tap: tap=NAME[,mac=MAC][,id=ID][,transport=mmio|pci] "
                  "(repeatable; "
                  "create the tap first: ip tuntap add NAME mode tap; id defaults to netN, the MAC to one derived "
                  "from the tap and id)");
  auto* rng = run->add_option("--rng", args.rng_spec,
                              "Add a virtio-rng device (the guest's /dev/hwrng) fed by getrandom(); "
                              "'--rng transport=mmio|pci' puts it on its own transport")
                  ->expected(0, 1)
                  ->type_name("[transport=mmio|pci]");
  run->add_option("--vsock", args.vsock,
                  "cid=N,uds=PATH[,transport=mmio|pci]: a virtio-vsock device for guest CID N; host programs connect "
                  "to PATH and send "
                  "'CONNECT <port>', guest connections to host port P reach PATH_P (Firecracker's hybrid vsock)");
  run->add_option("--transport,--virtio-transport", args.transport,
                  "Virtio transport of every device without a transport= of its own: 'mmio' (virtio-mmio windows) "
                  "or 'pci' (legacy virtio-PCI functions on PCI bus 0, MSI-X with INTx as the fallback); PCI bus 0 "
                  "is there when this is 'pci' or any device is on PCI")
      ->default_str("mmio");
  run->add_option("--api-sock", how.api_sock, "Also serve the control API on this unix socket (pause, snapshot, ...)");
  kiln::add_profile_options(*run, how.profile);
  run->footer(kExitStatusHelp);

  auto* restore = app.add_subcommand("restore", "Continue a VM from a snapshot (PUT /snapshot/create) in this process");
  restore->add_option("--snapshot", how.snapshot, "The snapshot file (VM state)")->required();
  restore->add_option("--mem", how.mem, "The guest memory file written with it")->required();
  restore->add_option("--disk-path", how.disk_paths,
                      "DRIVE_ID=PATH: back the snapshot's drive (its API drive_id, or diskN for the Nth --disk of "
                      "'kiln run') by another file of the same size, e.g. a copy (repeatable)");
  restore->add_option("--net-tap", how.net_taps,
                      "IFACE_ID=TAP: continue the snapshot's network interface (its API iface_id, or netN for the "
                      "Nth --net) on another tap (repeatable); the guest keeps its MAC and announces itself");
  restore->add_option("--vsock-uds", how.vsock_uds,
                      "PATH: the vsock device's host socket (and PATH_<port> for guest connections) instead of the "
                      "snapshot's, e.g. for a second copy of the VM");
  restore->add_flag("--paused", how.paused, "Stay paused until PATCH /vm {\"state\": \"Resumed\"} (needs --api-sock)");
  restore->add_option("--api-sock", how.api_sock, "Also serve the control API on this unix socket");
  kiln::add_profile_options(*restore, how.profile);
  restore->footer(kExitStatusHelp);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    const char* sub = app.got_subcommand(run) ? "run " : app.got_subcommand(restore) ? "restore " : "";
    std::fprintf(stderr, "kiln: %s\nRun 'kiln %s--help' for the options.\n", e.what(), sub);
    return kiln::kExitUsage;
  }
  const bool running = app.got_subcommand(run);
  const bool restoring = app.got_subcommand(restore);
  if (!running && !restoring && how.api_sock.empty() && how.config_file.empty()) {
    std::fprintf(stderr, "kiln: nothing to do: use 'kiln run', 'kiln restore', --api-sock or --config-file\n"
                         "Run 'kiln --help' for the options.\n");
    return kiln::kExitUsage;
  }
  if ((running || restoring) && !how.config_file.empty()) {
    std::fprintf(stderr, "kiln: --config-file describes a VM of its own: give it without 'run' or 'restore'\n");
    return kiln::kExitUsage;
  }
  if (restoring && how.paused && how.api_sock.empty()) {
    std::fprintf(stderr, "kiln: restore --paused needs --api-sock (nothing could resume the VM otherwise)\n");
    return kiln::kExitUsage;
  }
  if (auto ok = kiln::check_profile_args(how.profile); !ok) {
    std::fprintf(stderr, "kiln: %s\n", ok.error().message.c_str());
    return kiln::kExitUsage;
  }
  args.cmdline_given = run->count("--cmdline") > 0;
  args.rng = rng->count() > 0;
  return launch(how, running ? &args : nullptr, restoring);
}
