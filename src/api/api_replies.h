// Messages shared by the API's handlers, worded as Firecracker words them.
#pragma once

#include <string_view>

#include "common/result.h"

namespace kiln::api {

inline constexpr std::string_view kNotSupportedPreBoot =
    "The requested operation is not supported before starting the microVM.";
inline constexpr std::string_view kNotSupportedPostBoot =
    "The requested operation is not supported after starting the microVM.";

// A body that is valid JSON but not what the resource takes.
template <typename T>
[[nodiscard]] Result<T> deserialized(Result<T> parsed) {
  if (!parsed) return fail("An error occurred when deserializing the json body of a request: {}.", parsed.error().message);
  return parsed;
}

// Adds Firecracker's per-resource prefix: "Drive config error: ...".
[[nodiscard]] inline tl::unexpected<Error> with_prefix(std::string_view prefix, const Error& e) {
  return fail("{}: {}", prefix, e.message);
}

}  // namespace kiln::api
