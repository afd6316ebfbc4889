#include "boot_once.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "child_process.h"
#include "smaps.h"
#include "vmm/exit_counters.h"

namespace kiln::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kReady = "KILN-GUEST-READY ";

// The last `n` lines of `text`, for error messages.
std::string tail(const std::string& text, size_t n) {
  if (text.empty()) return text;
  size_t pos = text.size();
  if (text[pos - 1] == '\n') --pos;
  while (n-- > 0 && pos > 0) {
    const size_t nl = text.rfind('\n', pos - 1);
    if (nl == std::string::npos) return text;
    pos = nl;
  }
  return text.substr(pos + 1);
}

std::string ended(test::ChildProcess& child, const BootSpec& spec) {
  const auto r = child.wait(std::chrono::milliseconds(0));
  return fmt::format("{} {} (exit status {}); console:\n{}\nstderr:\n{}", spec.vmm,
                     r.timed_out ? "killed" : "ended", r.exit_status, tail(r.out, 12), tail(r.err, 8));
}

std::string read_whole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::optional<ExitCount> kiln_exits(const std::string& log) {
  constexpr std::string_view kLine = "vCPU exits to kiln: ";
  const auto at = log.find(kLine);
  if (at == std::string::npos) return std::nullopt;
  const std::string line = log.substr(at + kLine.size(), log.find('\n', at) - at - kLine.size());
  ExitCount c;
  c.total = std::strtoull(line.c_str(), nullptr, 10);
  const auto open = line.find('(');
  const auto close = line.find(')', open);
  if (open != std::string::npos && close != std::string::npos) c.by_reason = line.substr(open + 1, close - open - 1);
  return c;
}

uint64_t kiln_emulated(const std::string& log, std::string& list) {
  constexpr std::string_view kLine = "instructions kiln emulated for KVM: ";
  const auto at = log.find(kLine);
  if (at == std::string::npos) {
    list = "none";
    return 0;
  }
  list = log.substr(at + kLine.size(), log.find('\n', at) - at - kLine.size());
  uint64_t total = 0;
  std::istringstream items(list);
  std::string item;
  while (std::getline(items, item, ',')) {  // "popcnt 3"
    const auto space = item.rfind(' ');
    if (space != std::string::npos) total += std::strtoull(item.c_str() + space + 1, nullptr, 10);
  }
  return total;
}

std::optional<ExitCount> qemu_exits(const std::string& trace) {
  std::map<uint32_t, uint64_t> by_reason;
  ExitCount c;
  std::istringstream lines(trace);
  std::string line;
  while (std::getline(lines, line)) {
    const auto at = line.find("kvm_run_exit ");
    const auto reason = line.find("reason ", at);
    if (at == std::string::npos || reason == std::string::npos) continue;
    ++by_reason[static_cast<uint32_t>(std::strtoul(line.c_str() + reason + 7, nullptr, 10))];
    ++c.total;
  }
  if (c.total == 0) return std::nullopt;
  std::vector<std::pair<uint32_t, uint64_t>> sorted(by_reason.begin(), by_reason.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  for (const auto& [r, n] : sorted) {
    c.by_reason += fmt::format("{}{} {}", c.by_reason.empty() ? "" : ", ", exit_reason_name(r), n);
  }
  return c;
}

Result<BootFigures> boot_once(const BootSpec& spec) {
  BootFigures f;
  const auto start = Clock::now();
  test::ChildProcess child(spec.argv, test::ChildStdin::kPipe);
  if (!child.wait_for_output(kReady, spec.ready_timeout)) {
    return fail("no KILN-GUEST-READY within {} s: {}", spec.ready_timeout.count() / 1000, ended(child, spec));
  }
  f.ready_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  // At once, while the agent's shell waits: the VMM's memory with the guest booted.
  if (auto usage = read_memory_usage(child.pid(), spec.guest_bytes)) {
    f.total_pss_mib = static_cast<double>(usage->total_pss_kib) / 1024;
    f.own_pss_mib = static_cast<double>(usage->total_pss_kib - usage->guest_pss_kib) / 1024;
  }
  const auto ready = child.out().find(kReady);
  if (child.wait_for_output("\n", spec.exit_timeout, ready)) {  // the whole line, uptime included
    f.uptime_s = std::strtod(child.out().c_str() + ready + std::char_traits<char>::length(kReady), nullptr);
  }
  // The prompt comes after KILN-CMD-BEGIN; what is typed earlier waits in the tty anyway.
  (void)child.wait_for_output("KILN-CMD-BEGIN", spec.exit_timeout, ready);
  if (!child.send("exit\n")) return fail("cannot type on {}'s console: {}", spec.vmm, ended(child, spec));
  const auto r = child.wait(spec.exit_timeout);
  if (r.timed_out || r.exit_status != 0) {
    return fail("{} did not end cleanly after `exit` (status {}{}); stderr:\n{}", spec.vmm, r.exit_status,
                r.timed_out ? ", killed after the time-out" : "", tail(r.err, 8));
  }
  if (spec.counters == Counters::kKilnLog) {
    f.exits = kiln_exits(r.err);
    f.emulated = kiln_emulated(r.err, f.emulated_list);
  } else if (spec.counters == Counters::kQemuTrace) {
    f.exits = qemu_exits(read_whole(spec.trace_file));
  }
  return f;
}

}  // namespace kiln::bench
