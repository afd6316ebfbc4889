// The guest profiler's histogram: samples of every vCPU grouped by guest function and printed
// hottest first.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/symbol_table.h"
#include "vmm/vcpu_profile.h"

namespace kiln {

struct ProfileRow {
  std::string name;
  uint64_t samples = 0;
};

inline constexpr const char* kUserRowName = "[user]";
inline constexpr const char* kNotStartedRowName = "[vCPU not started]";

// Groups the samples: a RIP the symbols name counts for its function (kernel or user mode); an
// unnamed user-mode RIP for the one row "[user]" (a Linux process); an unnamed kernel RIP for its
// own row, the address in hex; a vCPU still waiting for INIT/SIPI for "[vCPU not started]".
// `symbols` may be null (addresses only). Most samples first, ties by name.
[[nodiscard]] std::vector<ProfileRow> profile_rows(std::span<const VcpuProfile> profiles, const SymbolTable* symbols);

struct ProfileSummary {
  uint32_t hz = 0;
  size_t vcpus = 0;
  std::chrono::nanoseconds elapsed{0};  // how long the profiler ran
  uint64_t failed = 0;                  // samples whose registers could not be read
  std::chrono::nanoseconds cost{0};     // vCPU thread time spent taking samples
  std::string symbols;                  // where the names came from ("" if nowhere)
  size_t functions = 0;                 // how many the symbols name
};

// The report: a header (samples, rate, time, symbols, sampling cost), then the `top` first rows
// as "samples  percent  function" and one row for the rest.
[[nodiscard]] std::string format_profile(const std::vector<ProfileRow>& rows, const ProfileSummary& summary,
                                         size_t top);

}  // namespace kiln
