// MSRs as a boot vCPU expects them after firmware (as Firecracker sets them).
#pragma once

#include <vector>

#include "kvm/uapi.h"

namespace kiln::x86 {

[[nodiscard]] std::vector<kvm_msr_entry> boot_msrs();

}  // namespace kiln::x86
