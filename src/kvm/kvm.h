// The KVM system fd (/dev/kvm): API version, capabilities, VM creation (kvm/api.txt 4.1-4.4).
#pragma once

#include "kvm/uapi.h"

#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"
#include "kvm/vm_fd.h"

namespace kiln {

class Kvm {
 public:
  // Opens the device and checks API version 12; errors explain the fix.
  [[nodiscard]] static Result<Kvm> open(const std::string& path = "/dev/kvm");

  // KVM_CHECK_EXTENSION on the system fd; 0 means unsupported.
  [[nodiscard]] int check_extension(long cap) const;
  // Fails naming the first capability kiln relies on that this KVM lacks.
  [[nodiscard]] Status check_required_capabilities() const;
  [[nodiscard]] int max_vcpus() const;
  [[nodiscard]] Result<size_t> vcpu_mmap_size() const;
  // KVM_GET_SUPPORTED_CPUID: every leaf KVM can offer.
  [[nodiscard]] Result<std::vector<kvm_cpuid_entry2>> supported_cpuid() const;
  // KVM_GET_MSR_INDEX_LIST (4.3): the MSRs KVM_GET_MSRS/KVM_SET_MSRS may name on a vCPU.
  [[nodiscard]] Result<std::vector<uint32_t>> msr_index_list() const;
  // KVM_GET_MSR_FEATURE_INDEX_LIST (4.3, KVM_CAP_GET_MSR_FEATURES): the feature MSRs readable
  // with KVM_GET_MSRS on the system fd. Empty when the capability is missing.
  [[nodiscard]] Result<std::vector<uint32_t>> msr_feature_index_list() const;
  [[nodiscard]] Result<VmFd> create_vm() const;

  [[nodiscard]] int fd() const { return fd_.get(); }

 private:
  explicit Kvm(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

struct Capability {
  long id;
  const char* name;
};

// What kiln's core relies on (checked at start-up, never inferred from CPUID).
std::vector<Capability> required_capabilities();

}  // namespace kiln
