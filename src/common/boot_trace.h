// Start-up timing for benchmarks: with KILN_BOOT_TRACE=1 in the environment, kiln logs how long
// after main() started it reached named points (e.g. the first KVM_RUN).
#pragma once

#include <string_view>

namespace kiln::boot_trace {

// Called first thing in main().
void mark_process_start();
// Logs "boot-trace <point> <µs since process start>" once per point name, when enabled.
void point(std::string_view name);

}  // namespace kiln::boot_trace
