// Command-line options every kiln-vs-QEMU benchmark has (CLI11).
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace kiln::bench {

// --kiln BINARY, --qemu BINARY (empty: $KILN_QEMU, else the one found at configure time) and
// --only kiln,qemu.
inline void add_vmm_options(CLI::App& app, std::string& kiln, std::string& qemu, std::vector<std::string>& only) {
  app.add_option("--kiln", kiln, "kiln binary")->capture_default_str();
  app.add_option("--qemu", qemu, "qemu-system-x86_64 (default: $KILN_QEMU, else the one found at configure time)");
  app.add_option("--only", only, "kiln, qemu or both")
      ->delimiter(',')
      ->check(CLI::IsMember({"kiln", "qemu"}))
      ->capture_default_str();
}

}  // namespace kiln::bench
