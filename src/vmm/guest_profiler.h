// `--profile-guest`: samples where every vCPU is at a fixed rate while the VM runs and prints a
// histogram of the hottest guest functions when it stops. A sampling thread asks each vCPU
// thread for a sample with the same kick as pause and stop (Vcpu::request_sample); the vCPU
// thread reads its own registers once KVM_RUN has returned, so guest semantics are untouched.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "common/result.h"
#include "vmm/profile_settings.h"
#include "vmm/sampling_thread.h"
#include "vmm/vcpu_profile.h"

namespace kiln {

class GuestProfiler {
 public:
  GuestProfiler(ProfileSettings settings, size_t vcpus) : settings_(std::move(settings)), profiles_(vcpus) {}

  // Vcpu::attach_profile() target for vCPU `index`.
  [[nodiscard]] VcpuProfile* vcpu_profile(size_t index) { return &profiles_.at(index); }

  // Calls `sample_all` (which asks every vCPU for a sample) at the configured rate.
  [[nodiscard]] Status start(std::function<void()> sample_all);
  // Stops the sampling thread; call before the vCPU threads are joined.
  void stop();
  // The report, to the output file or stderr; only once the vCPU threads have been joined.
  [[nodiscard]] Status write_report() const;

 private:
  ProfileSettings settings_;
  std::vector<VcpuProfile> profiles_;
  std::chrono::steady_clock::time_point started_{};
  std::chrono::nanoseconds elapsed_{0};
  std::unique_ptr<SamplingThread> thread_;
};

}  // namespace kiln
