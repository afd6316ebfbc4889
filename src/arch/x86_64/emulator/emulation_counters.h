// How many times each instruction was emulated: one table per VM, shared by
// its vCPU threads, printed when the VM exits.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kiln::x86 {

class EmulationCounters {
 public:
  // Thread-safe; call with EmulationResult::mnemonic after each emulation.
  void record(std::string_view mnemonic);

  [[nodiscard]] uint64_t count(std::string_view mnemonic) const;
  [[nodiscard]] uint64_t total() const;
  // (mnemonic, count), most frequent first, ties by name.
  [[nodiscard]] std::vector<std::pair<std::string, uint64_t>> snapshot() const;
  // "popcnt 1204, int3 3" or "none".
  [[nodiscard]] std::string summary() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, uint64_t, std::less<>> counts_;
};

}  // namespace kiln::x86
