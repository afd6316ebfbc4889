#include "linux_guest.h"

#include <cstdlib>
#include <memory>
#include <sstream>

#include "kvm_test_env.h"

namespace kiln::test {

bool guest_kit(GuestKit& kit) {
  const char* kernel = std::getenv("KILN_GUEST_KERNEL");
  const char* initrd = std::getenv("KILN_GUEST_INITRD");
  if (kernel == nullptr || initrd == nullptr || *kernel == '\0' || *initrd == '\0') return false;
  kit = {kernel, initrd};
  return true;
}

std::string base64(const std::string& text) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < text.size(); i += 3) {
    const uint32_t v = (uint8_t(text[i]) << 16) | (uint8_t(text[i + 1]) << 8) | uint8_t(text[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (i < text.size()) {
    uint32_t v = uint8_t(text[i]) << 16;
    if (i + 1 < text.size()) v |= uint8_t(text[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < text.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::vector<std::string> kiln_guest_argv(const GuestKit& kit, const std::string& initrd, const std::string& cmdline,
                                         const GuestOptions& options) {
  std::vector<std::string> args{"--kernel", kit.kernel,  "--initrd", initrd, "--cpus", std::to_string(options.cpus),
                                "--memory", options.memory, "--cmdline", cmdline};
  args.insert(args.end(), options.kiln_args.begin(), options.kiln_args.end());
  return kiln_run(args);
}

bool write_extended_initrd(const GuestKit& kit, const std::vector<ArchiveFile>& files, const std::string& path) {
  std::string bytes = read_file(kit.initrd);
  if (bytes.empty()) return false;
  // A following archive must start 4-byte aligned; Linux skips the zeros in between.
  while (bytes.size() % 4 != 0) bytes += '\0';
  return write_file(path, bytes + newc_archive(files));
}

AgentRun run_in_guest(const GuestKit& kit, const std::string& command, const GuestOptions& options) {
  using namespace std::chrono_literals;
  std::string cmdline = options.console + " reboot=k panic=-1 kiln.cmd=" + base64(command);
  if (!options.extra_cmdline.empty()) cmdline += " " + options.extra_cmdline;
  AgentRun run;
  if (cmdline.size() > kMaxTestCmdline) {
    ADD_FAILURE() << "kernel command line of " << cmdline.size() << " bytes (max " << kMaxTestCmdline
                  << "): put the script in GuestOptions::files";
    return run;
  }
  std::string initrd = kit.initrd;
  std::unique_ptr<TempDir> scratch;
  if (!options.files.empty()) {
    scratch = std::make_unique<TempDir>();
    initrd = scratch->file("initramfs.cpio");
    if (!write_extended_initrd(kit, options.files, initrd)) {
      ADD_FAILURE() << "cannot write " << initrd;
      return run;
    }
  }
  run.vmm = run_child(kiln_guest_argv(kit, initrd, cmdline, options), scaled(600s));
  const std::string& out = run.vmm.out;
  run.ready = out.find("KILN-GUEST-READY") != std::string::npos;
  const auto begin = out.find("KILN-CMD-BEGIN");
  const auto end = out.find("KILN-CMD-END ");
  if (begin != std::string::npos && end != std::string::npos && end > begin) {
    const auto first = out.find('\n', begin);
    if (first != std::string::npos && first < end) run.output = out.substr(first + 1, end - first - 1);
    run.status = std::atoi(out.c_str() + end + 13);
  }
  return run;
}

AgentRun run_in_guest(const GuestKit& kit, const std::string& command, int cpus, const std::string& memory,
                      const std::string& extra_cmdline) {
  GuestOptions options;
  options.cpus = cpus;
  options.memory = memory;
  options.extra_cmdline = extra_cmdline;
  return run_in_guest(kit, command, options);
}

std::map<std::string, std::string> completed_run_values(const AgentRun& run) {
  if (run.vmm.timed_out || !run.ready) {
    ADD_FAILURE() << (run.vmm.timed_out ? "kiln timed out" : "the guest agent never got ready") << "\n"
                  << run.vmm.out << run.vmm.err;
    return {};
  }
  EXPECT_EQ(run.vmm.exit_status, 0) << run.vmm.err;
  EXPECT_EQ(run.status, 0) << run.vmm.out;
  return guest_values(run.output);
}

std::map<std::string, std::string> guest_values(const std::string& output) {
  std::map<std::string, std::string> values;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    while (!line.empty() && line.back() == '\r') line.pop_back();
    const auto eq = line.find('=');
    if (line.empty() || line[0] != '@' || eq == std::string::npos) continue;
    values[line.substr(1, eq - 1)] = line.substr(eq + 1);
  }
  return values;
}

}  // namespace kiln::test
