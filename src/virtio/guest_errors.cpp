#include "virtio/guest_errors.h"

#include "common/log.h"

namespace kiln::virtio {
namespace {

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(GuestErrors::Clock::now().time_since_epoch()).count();
}

}  // namespace

void GuestErrors::set_label(std::string label) {
  std::lock_guard lock(mu_);
  label_ = std::move(label);
}

std::string GuestErrors::label() const {
  std::lock_guard lock(mu_);
  return label_;
}

bool GuestErrors::may_log() const {
  if (lines_.load(std::memory_order_relaxed) < kFullLines) return true;
  return now_ns() >= next_summary_ns_.load(std::memory_order_relaxed);
}

void GuestErrors::record(std::string what) {
  std::lock_guard lock(mu_);
  const uint64_t total = count_.load(std::memory_order_relaxed);
  const uint64_t lines = lines_.load(std::memory_order_relaxed);
  if (lines < kFullLines) {
    lines_.store(lines + 1, std::memory_order_relaxed);
    summarised_ = total;
    if (lines + 1 == kFullLines) {
      next_summary_ns_.store(now_ns() + std::chrono::nanoseconds(kQuietPeriod).count(), std::memory_order_relaxed);
      log("{}: {} (further guest errors: one line per {} s)", label_, what, kQuietPeriod.count());
    } else {
      log("{}: {}", label_, what);
    }
    return;
  }
  const int64_t now = now_ns();
  if (now < next_summary_ns_.load(std::memory_order_relaxed)) return;  // another thread just wrote one
  next_summary_ns_.store(now + std::chrono::nanoseconds(kQuietPeriod).count(), std::memory_order_relaxed);
  lines_.store(lines + 1, std::memory_order_relaxed);
  log("{}: {} more guest errors ({} in all), the latest: {}", label_, total - summarised_, total, what);
  summarised_ = total;
}

}  // namespace kiln::virtio
