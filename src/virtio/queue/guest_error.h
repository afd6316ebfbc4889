// Errors in what the guest's driver wrote (queue registers, rings, descriptor chains, control
// commands): ErrorKind::kGuest. The device reports them and goes on; kiln does not stop for them.
#pragma once

#include <utility>

#include "common/result.h"

namespace kiln::virtio {

template <typename... Args>
[[nodiscard]] tl::unexpected<Error> fail_guest(fmt::format_string<Args...> f, Args&&... args) {
  return fail_kind(ErrorKind::kGuest, f, std::forward<Args>(args)...);
}

}  // namespace kiln::virtio
