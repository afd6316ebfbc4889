#include "figures.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace kiln::bench {
namespace {

std::string figure(double v) {
  char buf[32];
  // Whole numbers (counts) without decimals.
  const bool whole = v == std::floor(v) && std::fabs(v) < 1e15;
  std::snprintf(buf, sizeof(buf), v >= 100 || whole ? "%.0f" : v >= 10 ? "%.1f" : "%.2f", v);
  return buf;
}

}  // namespace

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

std::string min_med_max(std::vector<double> v) {
  if (v.empty()) return "n/a";
  std::sort(v.begin(), v.end());
  return figure(v.front()) + " / " + figure(*median(v)) + " / " + figure(v.back());
}

void add(Cell& cell, const std::optional<double>& v) {
  if (v) cell.values.push_back(*v);
}

void print_table(const std::vector<Row>& rows, const std::string& title) {
  std::printf("\n%s\n\n", title.c_str());
  std::printf("%-44s %-4s %-24s %-24s %s\n", "", "unit", "kiln min / median / max", "QEMU min / median / max",
              "kiln/QEMU");
  for (const Row& r : rows) {
    if (r.unit.empty()) {  // a section heading
      std::printf("%s\n", r.name.c_str());
      continue;
    }
    std::printf("%-44s %-4s %-24s %-24s %s\n", r.name.c_str(), r.unit.c_str(), min_med_max(r.kiln.values).c_str(),
                min_med_max(r.qemu.values).c_str(), ratio(median(r.kiln.values), median(r.qemu.values)).c_str());
  }
  bool header = false;
  const std::string* section = nullptr;  // the heading above the row, named with its notes
  for (const Row& r : rows) {
    if (r.unit.empty()) section = &r.name;
    for (const auto& [who, note] : {std::pair<const char*, const std::string&>{"kiln", r.kiln.note},
                                    {"QEMU", r.qemu.note}}) {
      if (note.empty()) continue;
      if (!header) std::printf("\nnotes:\n");
      header = true;
      const size_t name = r.name.find_first_not_of(' ');
      std::printf("  %s%s%s, %s: %s\n", section != nullptr ? section->c_str() : "", section != nullptr ? ": " : "",
                  r.name.c_str() + (name == std::string::npos ? 0 : name), who, note.c_str());
    }
  }
}

void print_failures(const std::vector<std::string>& failures) {
  if (failures.empty()) return;
  std::printf("\nfailures and oddities:\n");
  for (const auto& f : failures) std::printf("  %s\n", f.c_str());
}

}  // namespace kiln::bench
