#include "bench_table.h"

#include <algorithm>
#include <cstdio>

#include "stats.h"  // bench/common: median, ratio

namespace kiln::bench {
namespace {

std::string figure(std::optional<double> v) {
  if (!v) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof(buf), *v >= 100 ? "%.0f" : "%.1f", *v);
  return buf;
}

std::string list(const std::vector<double>& v) {
  std::string out;
  for (double x : v) {
    if (!out.empty()) out += ' ';
    out += figure(x);
  }
  return out.empty() ? "-" : out;
}

}  // namespace

void print_table(const std::vector<Row>& rows, const std::string& title) {
  int width = 30;
  bool baselines = false;
  for (const Row& r : rows) {
    width = std::max(width, static_cast<int>(r.workload.size()));
    baselines = baselines || r.baseline.has_value();
  }
  std::printf("\n%s\n\n", title.c_str());
  std::printf("%-*s %-5s %10s %10s %10s %10s %10s%s\n", width, "workload", "unit", "kiln", "QEMU", "kiln/QEMU",
              "host fio", "kiln/host", baselines ? "  kiln/mmio" : "");
  for (const Row& r : rows) {
    const auto k = median(r.kiln.values);
    const auto q = median(r.qemu.values);
    const std::string vs_mmio = r.baseline ? ratio(k, median(rows[*r.baseline].kiln.values)) : "";
    std::printf("%-*s %-5s %10s %10s %10s %10s %10s%s%*s\n", width, r.workload.c_str(), r.unit.c_str(),
                figure(k).c_str(), figure(q).c_str(), ratio(k, q).c_str(), figure(r.host).c_str(),
                ratio(k, r.host).c_str(), r.baseline ? "  " : "", r.baseline ? 10 : 0, vs_mmio.c_str());
  }
  std::printf("\nevery run (kiln | QEMU):\n");
  for (const Row& r : rows) {
    std::printf("  %-*s %s | %s\n", width, r.workload.c_str(), list(r.kiln.values).c_str(),
                list(r.qemu.values).c_str());
  }
  bool header = false;
  for (const Row& r : rows) {
    for (const auto& [who, note] : {std::pair<const char*, const std::string&>{"kiln", r.kiln.note},
                                    {"QEMU", r.qemu.note},
                                    {"host fio", r.host_note}}) {
      if (note.empty()) continue;
      if (!header) std::printf("\nnotes:\n");
      header = true;
      std::printf("  %s, %s: %s\n", r.workload.c_str(), who, note.c_str());
    }
  }
}

}  // namespace kiln::bench
