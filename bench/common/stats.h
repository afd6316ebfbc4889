// What every benchmark table reduces its runs to: the median of a figure's runs and the ratio of
// two medians (kiln/QEMU, kiln/host).
#pragma once

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace kiln::bench {

// Median of `v`; nullopt when empty.
[[nodiscard]] inline std::optional<double> median(std::vector<double> v) {
  if (v.empty()) return std::nullopt;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// a / b with two decimals, or "n/a" when either is missing or b is not positive.
[[nodiscard]] inline std::string ratio(const std::optional<double>& a, const std::optional<double>& b) {
  if (!a || !b || *b <= 0) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", *a / *b);
  return buf;
}

}  // namespace kiln::bench
