#include "linux_guest.h"

#include <cstdlib>
#include <memory>
#include <sstream>
#include <utility>

#include "child_output_log.h"
#include "kvm_test_env.h"

namespace kiln::test {

namespace {

bool kit_from_env(const char* kernel_env, const char* initrd_env, GuestKit& kit) {
  const char* kernel = std::getenv(kernel_env);
  const char* initrd = std::getenv(initrd_env);
  if (kernel == nullptr || initrd == nullptr || *kernel == '\0' || *initrd == '\0') return false;
  kit = {kernel, initrd};
  return true;
}

}  // namespace

bool guest_kit(GuestKit& kit) { return kit_from_env("KILN_GUEST_KERNEL", "KILN_GUEST_INITRD", kit); }

::testing::AssertionResult stock_kit(const char* kernel_env, const char* initrd_env, const char* flavour,
                                     GuestKit& kit) {
  if (kit_from_env(kernel_env, initrd_env, kit)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << kernel_env << " / " << initrd_env
                                       << " are not set: run through scripts/dev test, or set them to <dir>/vmlinux "
                                          "and <dir>/initramfs.cpio with dir=$(guest/build-stock "
                                       << flavour << " | tail -1)";
}

void expect_agent_ran(const AgentRun& run) {
  ASSERT_FALSE(run.vmm.timed_out) << output_tail(run.vmm.out);
  ASSERT_TRUE(run.ready) << output_tail(run.vmm.out) << output_tail(run.vmm.err);
  EXPECT_EQ(run.vmm.exit_status, 0) << output_tail(run.vmm.err);
  EXPECT_EQ(run.status, 0) << output_tail(run.vmm.out);
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

std::string agent_cmdline(const std::string& command, const GuestOptions& options) {
  std::string cmdline = options.console + " reboot=k panic=-1 kiln.cmd=" + base64(command);
  if (!options.extra_cmdline.empty()) cmdline += " " + options.extra_cmdline;
  return cmdline;
}

AgentRun agent_run_of(ChildResult vmm) {
  AgentRun run;
  run.vmm = std::move(vmm);
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

AgentRun run_in_guest(const GuestKit& kit, const std::string& command, const GuestOptions& options) {
  using namespace std::chrono_literals;
  const std::string cmdline = agent_cmdline(command, options);
  if (cmdline.size() > kMaxTestCmdline) {
    ADD_FAILURE() << "kernel command line of " << cmdline.size() << " bytes (max " << kMaxTestCmdline
                  << "): put the script in GuestOptions::files";
    return {};
  }
  std::string initrd = kit.initrd;
  std::unique_ptr<TempDir> scratch;
  if (!options.files.empty()) {
    scratch = std::make_unique<TempDir>();
    initrd = scratch->file("initramfs.cpio");
    if (!write_extended_initrd(kit, options.files, initrd)) {
      ADD_FAILURE() << "cannot write " << initrd;
      return {};
    }
  }
  return agent_run_of(run_child(kiln_guest_argv(kit, initrd, cmdline, options), scaled(600s)));
}

AgentRun run_in_guest(const GuestKit& kit, const std::string& command, int cpus, const std::string& memory,
                      const std::string& extra_cmdline) {
  GuestOptions options;
  options.cpus = cpus;
  options.memory = memory;
  options.extra_cmdline = extra_cmdline;
  return run_in_guest(kit, command, options);
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
