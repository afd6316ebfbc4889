// The benchmarks' settings from the environment (KILN_QEMU, KILN_BENCH_*, KILN_GUEST_*), and the
// QEMU version for the table's title.
#pragma once

#include <chrono>
#include <cstdlib>
#include <string>

#include "child_process.h"  // tests/support

namespace kiln::bench {

// $name, or `fallback` when it is unset or empty.
inline std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

// The first line of `qemu --version`, or "not found" for an empty path.
inline std::string qemu_version(const std::string& qemu) {
  if (qemu.empty()) return "not found";
  const auto r = test::run_child({qemu, "--version"}, std::chrono::seconds(30));
  return r.out.substr(0, r.out.find('\n'));
}

}  // namespace kiln::bench
