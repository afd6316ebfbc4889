#include "vmm_args.h"

#include <fmt/format.h>

#include <chrono>
#include <set>
#include <sstream>

#include "arch/x86_64/platform/cpu_features.h"
#include "child_process.h"

namespace kiln::bench {
namespace {

// "sse4.2", "sse4_2", "avx512-vbmi2" and "avx512vbmi2" alike.
std::string squashed(std::string_view name) {
  std::string out;
  for (const char c : name) {
    if (c != '-' && c != '_' && c != '.') out += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  return out;
}

// The flags after "Recognized CPUID flags:" in `qemu -cpu help`, by squashed name.
Result<std::vector<std::string>> qemu_flags(const std::string& qemu) {
  const auto r = test::run_child({qemu, "-cpu", "help"}, std::chrono::seconds(60));
  const auto at = r.out.find("Recognized CPUID flags:");
  if (r.exit_status != 0 || at == std::string::npos) {
    return fail("`{} -cpu help` listed no CPUID flags (exit status {})", qemu, r.exit_status);
  }
  std::vector<std::string> flags;
  std::istringstream words(r.out.substr(at + 23));
  std::string w;
  while (words >> w) flags.push_back(w);
  return flags;
}

}  // namespace

std::string guest_cmdline(const Setup& s) {
  std::string line = "console=ttyS0 quiet reboot=t panic=-1 kiln.shell=1";
  return s.append.empty() ? line : line + " " + s.append;
}

std::vector<std::string> kiln_argv(const Setup& s, const GuestSpec& g) {
  return {s.kiln,           "run",      "--kernel", g.kernel, "--initrd", g.initrd, "--cpus", std::to_string(g.cpus),
          "--memory",       fmt::format("{}M", s.memory_mib), "--cpu-template", s.cpu_template, "--cmdline",
          guest_cmdline(s)};
}

std::vector<std::string> qemu_argv(const Setup& s, const GuestSpec& g, const std::string& cpu,
                                   const std::string& trace_file) {
  std::vector<std::string> argv{s.qemu, "-M", "microvm", "-accel", "kvm", "-cpu", cpu,
                                "-smp", std::to_string(g.cpus), "-m", fmt::format("{}M", s.memory_mib),
                                "-nodefaults", "-no-user-config", "-nographic", "-serial", "stdio", "-no-reboot",
                                "-kernel", g.kernel, "-initrd", g.initrd, "-append", guest_cmdline(s)};
  if (!trace_file.empty()) argv.insert(argv.end(), {"-trace", "kvm_run_exit", "-D", trace_file});
  return argv;
}

Result<std::string> qemu_cpu(const Setup& s, std::vector<std::string>& missing) {
  auto tmpl = x86::find_cpu_template(s.cpu_template);
  if (!tmpl) return tl::unexpected(tmpl.error());
  auto flags = qemu_flags(s.qemu);
  if (!flags) return tl::unexpected(flags.error());
  std::string cpu = s.qemu_cpu_base;
  std::set<std::string> done;
  for (const x86::HiddenFeature& h : (*tmpl)->hidden) {
    std::string match;
    for (const auto& f : *flags) {
      if (squashed(f) == squashed(h.name)) match = f;
    }
    if (match.empty()) {
      missing.emplace_back(h.name);
    } else if (done.insert(match).second) {
      cpu += ",-" + match;
    }
  }
  return cpu;
}

}  // namespace kiln::bench
