#include "common/boot_trace.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <set>
#include <string>

#include "common/log.h"

namespace kiln::boot_trace {
namespace {

std::atomic<bool> enabled{false};
std::chrono::steady_clock::time_point start;
std::mutex mu;
std::set<std::string, std::less<>> seen;

}  // namespace

void mark_process_start() {
  start = std::chrono::steady_clock::now();
  const char* env = std::getenv("KILN_BOOT_TRACE");
  enabled.store(env != nullptr && env[0] == '1');
}

void point(std::string_view name) {
  if (!enabled.load(std::memory_order_relaxed)) return;
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
  {
    std::lock_guard lock(mu);
    if (!seen.emplace(name).second) return;
  }
  log("boot-trace {} {}", name, us.count());
}

}  // namespace kiln::boot_trace
