#include "arch/x86_64/emulator/emulation_counters.h"

#include <fmt/format.h>

#include <algorithm>

namespace kiln::x86 {

void EmulationCounters::record(std::string_view mnemonic) {
  std::lock_guard lock(mutex_);
  auto it = counts_.find(mnemonic);
  if (it == counts_.end()) it = counts_.emplace(std::string(mnemonic), 0).first;
  ++it->second;
}

uint64_t EmulationCounters::count(std::string_view mnemonic) const {
  std::lock_guard lock(mutex_);
  const auto it = counts_.find(mnemonic);
  return it == counts_.end() ? 0 : it->second;
}

uint64_t EmulationCounters::total() const {
  std::lock_guard lock(mutex_);
  uint64_t sum = 0;
  for (const auto& [name, n] : counts_) sum += n;
  return sum;
}

std::vector<std::pair<std::string, uint64_t>> EmulationCounters::snapshot() const {
  std::vector<std::pair<std::string, uint64_t>> out;
  {
    std::lock_guard lock(mutex_);
    out.assign(counts_.begin(), counts_.end());
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  return out;
}

std::string EmulationCounters::summary() const {
  const auto rows = snapshot();
  if (rows.empty()) return "none";
  std::string out;
  for (const auto& [name, n] : rows) {
    if (!out.empty()) out += ", ";
    out += fmt::format("{} {}", name, n);
  }
  return out;
}

}  // namespace kiln::x86
