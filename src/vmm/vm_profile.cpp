// The guest profiler's part of a VM run (guest_profiler.h).
#include "common/log.h"
#include "vmm/vm.h"

namespace kiln {

void Vm::enable_profiler(ProfileSettings settings) {
  profiler_ = std::make_unique<GuestProfiler>(std::move(settings), vcpus_.size());
  for (size_t i = 0; i < vcpus_.size(); ++i) vcpus_[i]->attach_profile(profiler_->vcpu_profile(i));
}

void Vm::start_profiler() {
  if (!profiler_) return;
  // From the sampling thread; a paused VM's parked vCPUs are left alone.
  auto sample_all = [this] {
    if (pause_gate_.pause_requested()) return;
    for (auto& vcpu : vcpus_) vcpu->request_sample();
  };
  if (auto ok = profiler_->start(sample_all); !ok) {
    log("guest profiler: {}; the guest runs without it", ok.error().message);
  }
}

void Vm::finish_profile() {
  if (!profiler_) return;
  if (auto ok = profiler_->write_report(); !ok) log("guest profiler: {}", ok.error().message);
}

}  // namespace kiln
