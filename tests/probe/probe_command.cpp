#include "probe_command.h"

#include <unistd.h>

#include <cstdlib>

namespace kiln::test {
namespace {

std::vector<std::string> qemu_argv(const std::string& qemu, const std::string& accel, const std::string& machine,
                                   const std::vector<std::string>& serial) {
  std::vector<std::string> argv{qemu, "-accel", accel, "-M", machine, "-nodefaults", "-no-user-config", "-nographic"};
  argv.insert(argv.end(), serial.begin(), serial.end());
  if (machine.rfind("microvm", 0) == 0) argv.insert(argv.end(), {"-device", "i8042"});  // pc has its own
  argv.insert(argv.end(), {"-m", "128M"});
  return argv;
}

// -drive/-device pairs for the disks, `model` being e.g. virtio-blk-device.
void add_disks(std::vector<std::string>& argv, const ProbeDevices& devices, const std::string& model) {
  for (size_t i = 0; i < devices.disks.size(); ++i) {
    const ProbeDisk& d = devices.disks[i];
    const std::string id = "disk" + std::to_string(i);
    argv.insert(argv.end(), {"-drive", "id=" + id + ",file=" + d.path + ",format=raw,if=none" +
                                           (d.readonly ? ",readonly=on" : "")});
    argv.insert(argv.end(), {"-device", model + ",drive=" + id + (d.serial.empty() ? "" : ",serial=" + d.serial)});
  }
}

}  // namespace

std::string find_qemu(const std::string& configured) {
  const char* env = std::getenv("KILN_QEMU");
  const std::string path = env != nullptr && *env != '\0' ? env : configured;
  if (path.empty() || ::access(path.c_str(), X_OK) != 0) return "";
  return path;
}

std::vector<std::string> qemu_probe_argv(const std::string& qemu, const std::string& accel, const std::string& probe,
                                         const std::string& cmdline, const std::vector<std::string>& extra) {
  std::vector<std::string> argv = qemu_argv(qemu, accel, "microvm", {"-serial", "stdio"});
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.insert(argv.end(), {"-kernel", probe, "-append", cmdline, "-no-reboot"});
  return argv;
}

std::vector<std::string> kiln_device_args(const ProbeDevices& devices) {
  std::vector<std::string> args;
  for (const auto& d : devices.disks) {
    std::string spec = d.path;
    if (d.readonly) spec += ",readonly";
    if (!d.serial.empty()) spec += ",serial=" + d.serial;
    args.insert(args.end(), {"--disk", spec});
  }
  if (devices.rng) args.emplace_back("--rng");
  if (devices.console) args.insert(args.end(), {"--console", "virtio"});
  return args;
}

std::vector<std::string> qemu_probe_argv(const std::string& qemu, const std::string& accel, const std::string& probe,
                                         const std::string& cmdline, const ProbeDevices& devices) {
  const std::vector<std::string> serial =
      devices.console ? std::vector<std::string>{"-chardev", "stdio,id=out,mux=on", "-serial", "chardev:out"}
                      : std::vector<std::string>{"-serial", "stdio"};
  std::vector<std::string> argv = qemu_argv(qemu, accel, "microvm,acpi=off", serial);
  add_disks(argv, devices, "virtio-blk-device");
  if (devices.rng) argv.insert(argv.end(), {"-device", "virtio-rng-device"});
  if (devices.console) {
    argv.insert(argv.end(), {"-device", "virtio-serial-device", "-device", "virtconsole,chardev=out"});
  }
  argv.insert(argv.end(), {"-kernel", probe, "-append", cmdline, "-no-reboot"});
  return argv;
}

std::vector<std::string> qemu_pc_probe_argv(const std::string& qemu, const std::string& accel,
                                            const std::string& probe, const std::string& cmdline,
                                            const ProbeDevices& devices) {
  std::vector<std::string> argv = qemu_argv(qemu, accel, "pc", {"-serial", "stdio"});
  add_disks(argv, devices, "virtio-blk-pci,disable-modern=on");
  if (devices.rng) argv.insert(argv.end(), {"-device", "virtio-rng-pci,disable-modern=on"});
  argv.insert(argv.end(), {"-kernel", probe, "-append", cmdline, "-no-reboot"});
  return argv;
}

}  // namespace kiln::test
