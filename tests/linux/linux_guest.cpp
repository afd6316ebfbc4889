#include "linux_guest.h"

#include <cstdlib>

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

AgentRun run_in_guest(const GuestKit& kit, const std::string& command, int cpus, const std::string& memory,
                      const std::string& extra_cmdline) {
  using namespace std::chrono_literals;
  std::string cmdline = "console=ttyS0 reboot=k panic=-1 kiln.cmd=" + base64(command);
  if (!extra_cmdline.empty()) cmdline += " " + extra_cmdline;
  AgentRun run;
  run.vmm = run_child(kiln_run({"--kernel", kit.kernel, "--initrd", kit.initrd, "--cpus", std::to_string(cpus),
                                "--memory", memory, "--cmdline", cmdline}),
                      scaled(600s));
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

}  // namespace kiln::test
