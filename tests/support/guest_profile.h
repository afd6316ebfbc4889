// Reads the report `kiln --profile-guest` writes (src/vmm/profile_report.h) back, for tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kiln::test {

struct GuestProfileRow {
  uint64_t samples = 0;
  double percent = 0;
  std::string name;
};

struct GuestProfile {
  bool found = false;  // a "guest profile:" header was there
  uint64_t samples = 0;
  std::vector<GuestProfileRow> rows;  // as printed, hottest first (a last "(N more)" row included)
};

[[nodiscard]] GuestProfile parse_guest_profile(const std::string& text);

}  // namespace kiln::test
