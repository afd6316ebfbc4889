#include "probe_command.h"

#include <unistd.h>

#include <cstdlib>

namespace kiln::test {

std::string find_qemu(const std::string& configured) {
  const char* env = std::getenv("KILN_QEMU");
  const std::string path = env != nullptr && *env != '\0' ? env : configured;
  if (path.empty() || ::access(path.c_str(), X_OK) != 0) return "";
  return path;
}

std::vector<std::string> qemu_probe_argv(const std::string& qemu, const std::string& accel, const std::string& probe,
                                         const std::string& cmdline, const std::vector<std::string>& extra) {
  std::vector<std::string> argv{qemu,         "-accel", accel,   "-M",      "microvm", "-nodefaults",
                                "-no-user-config", "-nographic", "-serial", "stdio", "-device",  "i8042",
                                "-m",         "128M"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.insert(argv.end(), {"-kernel", probe, "-append", cmdline, "-no-reboot"});
  return argv;
}

}  // namespace kiln::test
