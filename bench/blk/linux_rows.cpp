#include "linux_rows.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>

#include "child_process.h"

namespace kiln::bench {
namespace {

using Clock = std::chrono::steady_clock;

// The agent prints KILN-GUEST-READY within seconds (3-8 s in the kvm-box). 4-vCPU Linux guests
// under the kvm-box's nested SVM sometimes hang, under kiln and QEMU alike, while booting or in
// the middle of a dd: a boot that has not reached /init after kBootLimit, or has not finished
// after --linux-timeout, is killed and retried, kBootAttempts boots in all.
constexpr int kBootLimitSeconds = 30;
constexpr std::chrono::milliseconds kBootLimit{kBootLimitSeconds * 1000};
constexpr int kBootAttempts = 5;

// The agent's command (guest/initramfs/init), busybox ash. `t X` stores adjtimex's report (wall
// clock in microseconds, no %N in this busybox's date) for `us X` to turn into one number.
// Lines "@key=value" carry the results; "@mark-aN." / "@mark-bN." bracket pass N for the host.
constexpr const char* kScript = R"SH(t() { adjtimex > /tmp/t$1; }
us() { awk '/tv_sec/{s=$2} /tv_usec/{u=$2} END{printf "%d%06d", s, u}' /tmp/t$1; }
echo "@bytes=$(( $(cat /sys/block/vda/size) * 512 ))"
i=0
while [ $i -lt PASSES ]; do
  sync; echo 3 > /proc/sys/vm/drop_caches
  echo "@mark-a$i."
  t a; dd if=/dev/vda of=/dev/null bs=1M 2>/dev/null; r=$?; t b
  echo "@mark-b$i."
  echo "@pass$i=$(( $(us b) - $(us a) )),$r"
  i=$((i + 1))
done
)SH";

std::string base64(const std::string& in) {
  static constexpr char kDigits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    const size_t n = std::min<size_t>(3, in.size() - i);
    uint32_t v = 0;
    for (size_t k = 0; k < 3; ++k) v = (v << 8) | (k < n ? static_cast<uint8_t>(in[i + k]) : 0u);
    for (size_t k = 0; k < 4; ++k) out += k <= n ? kDigits[(v >> (18 - 6 * k)) & 63] : '=';
  }
  return out;
}

std::string script(int passes) {
  std::string s = kScript;
  s.replace(s.find("PASSES"), 6, std::to_string(passes));
  return s;
}

std::string cmdline(const LinuxSetup& s, LinuxBus bus, const char* reboot) {
  std::string line = std::string("console=ttyS0 quiet ") + reboot + " panic=-1 kiln.cmd=" + base64(script(s.passes));
  if (bus.nomsi) line += " pci=nomsi";
  return s.append.empty() ? line : line + " " + s.append;
}

// "@key=value" lines, '\r' dropped.
std::map<std::string, std::string> values(const std::string& out) {
  std::map<std::string, std::string> v;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    while (!line.empty() && line.back() == '\r') line.pop_back();
    const auto eq = line.find('=');
    if (line.size() > 1 && line[0] == '@' && eq != std::string::npos) v[line.substr(1, eq - 1)] = line.substr(eq + 1);
  }
  return v;
}

}  // namespace

std::vector<std::string> kiln_linux_argv(const LinuxSetup& s, LinuxBus bus) {
  std::vector<std::string> argv{s.kiln, "run",
                                "--kernel", s.kernel,
                                "--initrd", s.initrd,
                                "--cpus", std::to_string(kLinuxCpus),
                                "--memory", kLinuxMemory,
                                "--disk", s.image,
                                "--cmdline", cmdline(s, bus, "reboot=k")};
  if (bus.transport == Transport::pci) argv.insert(argv.end(), {"--transport", "pci"});
  return argv;
}

std::vector<std::string> qemu_linux_argv(const LinuxSetup& s, LinuxBus bus) {
  const bool pci = bus.transport == Transport::pci;
  std::string drive = "file=" + s.image + ",format=raw,if=none,id=d0,cache=writeback";
  if (!s.qemu_aio.empty()) drive += ",aio=" + s.qemu_aio;
  return {s.qemu,
          "-accel", s.qemu_accel,
          "-cpu", s.qemu_cpu,
          "-M", pci ? "pc" : "microvm",
          "-smp", std::to_string(kLinuxCpus),
          "-m", kLinuxMemory,
          "-nodefaults", "-no-user-config", "-nographic",
          "-serial", "stdio",
          "-no-reboot",
          "-drive", drive,
          "-device", pci ? "virtio-blk-pci,disable-modern=on,drive=d0" : "virtio-blk-device,drive=d0",
          "-kernel", s.kernel,
          "-initrd", s.initrd,
          "-append", cmdline(s, bus, "reboot=t")};
}

namespace {

// One boot. `hung` is set when the agent did not print KILN-GUEST-READY within kBootLimit or
// the guest did not finish within --linux-timeout.
Result<LinuxFigures> run_once(const std::vector<std::string>& argv, const LinuxSetup& s, uint64_t image_bytes,
                              bool& hung) {
  const int passes = s.passes;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::seconds(s.timeout_seconds);
  const auto left = [&] { return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()); };
  const auto since = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  test::ChildProcess child(argv);
  hung = !child.wait_for_output("KILN-GUEST-READY", std::min<std::chrono::milliseconds>(kBootLimit, left()));
  if (hung) {
    const auto r = child.wait(std::chrono::milliseconds(0));
    std::fprintf(stderr, "--- %s (Linux dd): no KILN-GUEST-READY within %d s ---\n"
                 "--- stdout ---\n%s--- stderr ---\n%s\n",
                 argv[0].c_str(), kBootLimitSeconds, r.out.c_str(), r.err.c_str());
    return fail("the guest did not reach /init within {} s", kBootLimitSeconds);
  }
  std::fprintf(stderr, "blk_bench: %s: /init runs (%.1f s after start)\n", argv[0].c_str(), since());
  std::vector<double> host_seconds;
  for (int i = 0; i < passes; ++i) {
    if (!child.wait_for_output("@mark-a" + std::to_string(i) + ".", left())) break;
    const auto a = Clock::now();
    if (!child.wait_for_output("@mark-b" + std::to_string(i) + ".", left())) break;
    host_seconds.push_back(std::chrono::duration<double>(Clock::now() - a).count());
    std::fprintf(stderr, "blk_bench: %s: dd pass %d took %.2f s (%.1f s after start)\n", argv[0].c_str(), i,
                 host_seconds.back(), since());
  }
  const auto r = child.wait(left());
  const auto v = values(r.out);

  LinuxFigures fig;
  std::string problem;
  const uint64_t bytes = v.count("bytes") != 0 ? std::strtoull(v.at("bytes").c_str(), nullptr, 10) : 0;
  hung = r.timed_out;
  if (r.timed_out) {
    problem = "the guest did not finish within " + std::to_string(s.timeout_seconds) + " s (--linux-timeout)";
  } else if (r.exit_status != 0) {
    problem = "VMM exit status " + std::to_string(r.exit_status);
  } else if (bytes != image_bytes) {
    problem = "the guest saw vda with " + std::to_string(bytes) + " bytes, not " + std::to_string(image_bytes);
  }
  for (int i = 0; i < passes && problem.empty(); ++i) {
    const auto it = v.find("pass" + std::to_string(i));
    const auto comma = it != v.end() ? it->second.find(',') : std::string::npos;
    if (comma == std::string::npos) {
      problem = "no result for pass " + std::to_string(i);
    } else if (it->second.substr(comma + 1) != "0") {
      problem = "dd failed in pass " + std::to_string(i) + " (status " + it->second.substr(comma + 1) + ")";
    } else {
      const double us = std::atof(it->second.substr(0, comma).c_str());
      if (us <= 0) problem = "pass " + std::to_string(i) + " took " + it->second.substr(0, comma) + " us";
      else fig.guest_mbps.push_back(static_cast<double>(bytes) / us);
    }
  }
  if (!problem.empty()) {
    std::fprintf(stderr, "--- %s (Linux dd) ---\n--- stdout ---\n%s--- stderr ---\n%s\n", argv[0].c_str(),
                 r.out.c_str(), r.err.c_str());
    const std::string err = r.err.substr(0, r.err.find('\n'));
    return fail("{}{}", problem, err.empty() ? "" : " (stderr: " + err + ")");
  }
  for (double secs : host_seconds) fig.host_mbps.push_back(static_cast<double>(bytes) / secs / 1e6);
  return fig;
}

}  // namespace

Result<LinuxFigures> run_linux_dd(const std::vector<std::string>& argv, const LinuxSetup& s, uint64_t image_bytes) {
  for (int attempt = 1;; ++attempt) {
    bool hung = false;
    auto r = run_once(argv, s, image_bytes, hung);
    if (r) r->boot_hangs = attempt - 1;
    if (r || !hung) return r;
    if (attempt == kBootAttempts) return fail("{} boots in a row hung ({})", attempt, r.error().message);
    std::fprintf(stderr, "blk_bench: boot %d of %s hung (%s); booting again\n", attempt, argv[0].c_str(),
                 r.error().message.c_str());
  }
}

}  // namespace kiln::bench
