// ConsoleDevice: pause/resume and snapshot state (virtio 0.9.5 Appendix E configuration layout).
#include "virtio/console/console.h"

namespace kiln::virtio {
namespace {

// cols/rows as the guest read them (fixed-width fields, no padding).
struct ConsoleRecord {
  uint16_t cols;
  uint16_t rows;
  uint32_t size_change_pending;  // 0 or 1
};
static_assert(sizeof(ConsoleRecord) == 8);

}  // namespace

Status ConsoleDevice::on_pause() {
  std::lock_guard lock(mu_);
  paused_ = true;  // set_size() now keeps a change for on_resume()
  return {};
}

void ConsoleDevice::on_resume() {
  std::lock_guard lock(mu_);
  paused_ = false;
  if (size_change_pending_ && interrupt_ != nullptr) interrupt_->config_changed();
  size_change_pending_ = false;
}

void ConsoleDevice::save_state(snapshot::Encoder& out) const {
  {
    std::lock_guard lock(mu_);
    out.pod(ConsoleRecord{config_.cols, config_.rows, size_change_pending_ ? 1u : 0u});
  }
  out.bytes(input_.contents());
}

Status ConsoleDevice::restore_state(snapshot::Decoder& in) {
  if (active()) return fail_kind(ErrorKind::kState, "virtio-console: state restored into an active device");
  ConsoleRecord r{};
  KILN_TRY(in.pod(r));
  if (r.size_change_pending > 1) return in.invalid(fmt::format("size-change flag holds {}", r.size_change_pending));
  auto input = KILN_TRY_VALUE(in.bytes(input_.capacity()));
  {
    std::lock_guard lock(mu_);
    config_.cols = r.cols;
    config_.rows = r.rows;
    size_change_pending_ = r.size_change_pending == 1;
  }
  input_.assign(input);
  return {};
}

}  // namespace kiln::virtio
