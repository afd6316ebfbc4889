// What `--profile-guest` and its companions ask of the guest profiler (guest_profiler.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/symbol_table.h"
#include "common/unique_fd.h"

namespace kiln {

inline constexpr uint32_t kDefaultProfileHz = 250;  // a 4 ms period, as a HZ=250 kernel's tick
inline constexpr uint32_t kMaxProfileHz = 10000;
inline constexpr size_t kDefaultProfileTop = 25;

struct ProfileSettings {
  uint32_t hz = kDefaultProfileHz;
  size_t top = kDefaultProfileTop;
  std::shared_ptr<const SymbolTable> symbols;  // null: addresses only
  std::string symbols_source;                  // the file they came from, for the report
  UniqueFd output;                             // invalid: stderr
};

}  // namespace kiln
