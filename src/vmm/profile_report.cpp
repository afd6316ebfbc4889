#include "vmm/profile_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace kiln {

std::vector<ProfileRow> profile_rows(std::span<const VcpuProfile> profiles, const SymbolTable* symbols) {
  std::map<std::string, uint64_t> by_name;
  auto add = [&](uint64_t rip, uint64_t samples, bool user) {
    const SymbolRange* sym = symbols != nullptr ? symbols->lookup(rip) : nullptr;
    if (sym != nullptr) {
      by_name[sym->name] += samples;
    } else {
      by_name[user ? std::string(kUserRowName) : fmt::format("{:#x}", rip)] += samples;
    }
  };
  for (const VcpuProfile& p : profiles) {
    for (const auto& [rip, n] : p.kernel()) add(rip, n, false);
    for (const auto& [rip, n] : p.user()) add(rip, n, true);
    if (p.not_started() != 0) by_name[kNotStartedRowName] += p.not_started();
  }
  std::vector<ProfileRow> rows;
  rows.reserve(by_name.size());
  for (auto& [name, n] : by_name) rows.push_back(ProfileRow{name, n});
  std::stable_sort(rows.begin(), rows.end(), [](const ProfileRow& a, const ProfileRow& b) { return a.samples > b.samples; });
  return rows;
}

namespace {

double percent(uint64_t part, uint64_t whole) { return whole == 0 ? 0.0 : 100.0 * double(part) / double(whole); }

std::string header(uint64_t total, const ProfileSummary& s) {
  const double seconds = std::chrono::duration<double>(s.elapsed).count();
  std::string out = fmt::format("guest profile: {} samples from {} vCPU{} at {} Hz over {:.1f} s", total, s.vcpus,
                                s.vcpus == 1 ? "" : "s", s.hz, seconds);
  out += s.symbols.empty() ? "; no symbols (addresses only)\n"
                           : fmt::format("; symbols from {} ({} functions)\n", s.symbols, s.functions);
  if (total != 0) {
    const double per_sample_us = std::chrono::duration<double, std::micro>(s.cost).count() / double(total);
    const double vcpu_seconds = seconds * double(std::max<size_t>(s.vcpus, 1));
    const double share = vcpu_seconds > 0 ? 100.0 * std::chrono::duration<double>(s.cost).count() / vcpu_seconds : 0;
    out += fmt::format("sampling cost: {:.1f} us per sample in the vCPU threads, {:.2f}% of vCPU time "
                       "(the VM exit and re-entry not counted)\n", per_sample_us, share);
  }
  if (s.failed != 0) out += fmt::format("{} samples lost: the vCPU's registers could not be read\n", s.failed);
  return out;
}

}  // namespace

std::string format_profile(const std::vector<ProfileRow>& rows, const ProfileSummary& summary, size_t top) {
  uint64_t total = 0;
  for (const auto& r : rows) total += r.samples;
  std::string out = header(total, summary);
  if (total == 0) return out;
  out += fmt::format("{:>8} {:>7}  {}\n", "samples", "%", "function");
  const size_t shown = std::min(top, rows.size());
  for (size_t i = 0; i < shown; ++i) {
    out += fmt::format("{:>8} {:>6.1f}%  {}\n", rows[i].samples, percent(rows[i].samples, total), rows[i].name);
  }
  if (shown < rows.size()) {
    uint64_t rest = 0;
    for (size_t i = shown; i < rows.size(); ++i) rest += rows[i].samples;
    out += fmt::format("{:>8} {:>6.1f}%  ({} more)\n", rest, percent(rest, total), rows.size() - shown);
  }
  return out;
}

}  // namespace kiln
