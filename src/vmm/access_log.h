// Logs accesses nobody handles: once per (kind, address), and at most a fixed number in total.
#pragma once

#include <cstdint>
#include <mutex>
#include <set>
#include <utility>

namespace kiln {

class UnhandledAccessLog {
 public:
  enum class Kind { kPortRead, kPortWrite, kMmioRead, kMmioWrite };
  static constexpr size_t kMaxLogged = 32;

  // Returns true when this call logged something (for tests).
  bool note(Kind kind, uint64_t addr, size_t len);

 private:
  std::mutex mu_;
  std::set<std::pair<int, uint64_t>> seen_;
  bool capped_ = false;
};

}  // namespace kiln
