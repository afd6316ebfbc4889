#include "vmm/access_log.h"

#include "common/log.h"

namespace kiln {

bool UnhandledAccessLog::note(Kind kind, uint64_t addr, size_t len) {
  std::lock_guard lock(mu_);
  if (capped_) return false;
  if (!seen_.emplace(static_cast<int>(kind), addr).second) return false;
  if (seen_.size() > kMaxLogged) {
    capped_ = true;
    log("more than {} distinct unhandled guest accesses; not logging further ones", kMaxLogged);
    return true;
  }
  static constexpr const char* kNames[] = {"port read", "port write", "MMIO read", "MMIO write"};
  log("unhandled guest {} at {:#x} ({} bytes); ignored", kNames[static_cast<int>(kind)], addr, len);
  return true;
}

}  // namespace kiln
