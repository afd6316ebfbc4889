#include "bench_table.h"

#include <algorithm>
#include <cstdio>

namespace kiln::bench {
namespace {

std::string figure(std::optional<double> v) {
  if (!v) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof(buf), *v >= 100 ? "%.0f" : "%.1f", *v);
  return buf;
}

std::string ratio(std::optional<double> a, std::optional<double> b) {
  if (!a || !b || *b <= 0) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", *a / *b);
  return buf;
}

std::string list(const std::vector<double>& v) {
  std::string out;
  for (double x : v) out += (out.empty() ? "" : " ") + figure(x);
  return out.empty() ? "-" : out;
}

}  // namespace

std::optional<double> median(std::vector<double> v) {
  if (v.empty()) return std::nullopt;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void print_table(const std::vector<Row>& rows, const std::string& title) {
  std::printf("\n%s\n\n", title.c_str());
  std::printf("%-30s %-5s %10s %10s %10s %10s %10s\n", "workload", "unit", "kiln", "QEMU", "kiln/QEMU", "host fio",
              "kiln/host");
  for (const Row& r : rows) {
    const auto k = median(r.kiln.values);
    const auto q = median(r.qemu.values);
    std::printf("%-30s %-5s %10s %10s %10s %10s %10s\n", r.workload.c_str(), r.unit.c_str(), figure(k).c_str(),
                figure(q).c_str(), ratio(k, q).c_str(), figure(r.host).c_str(), ratio(k, r.host).c_str());
  }
  std::printf("\nevery run (kiln | QEMU):\n");
  for (const Row& r : rows) {
    std::printf("  %-30s %s | %s\n", r.workload.c_str(), list(r.kiln.values).c_str(), list(r.qemu.values).c_str());
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
