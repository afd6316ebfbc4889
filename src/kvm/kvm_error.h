// Errors of the KVM layer: every failure here is the KVM API's (ErrorKind::kKvm), from opening
// /dev/kvm to a capability it lacks or an ioctl it refuses.
#pragma once

#include <utility>

#include "common/result.h"

namespace kiln {

// kvm_errno("KVM_GET_REGS"): "KVM_GET_REGS: <strerror(errno)>", kind kKvm.
[[nodiscard]] inline tl::unexpected<Error> kvm_errno(std::string_view what, int err = errno) {
  return fail_errno_kind(ErrorKind::kKvm, what, err);
}

template <typename... Args>
[[nodiscard]] tl::unexpected<Error> kvm_fail(fmt::format_string<Args...> f, Args&&... args) {
  return fail_kind(ErrorKind::kKvm, f, std::forward<Args>(args)...);
}

}  // namespace kiln
