// Errors as values: every syscall and guest-input path returns Result<T>.
#pragma once

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <tl/expected.hpp>
#include <utility>

namespace kiln {

struct Error {
  std::string message;
  int sys_errno = 0;  // errno of the failed syscall, 0 when not a syscall error
};

template <typename T>
using Result = tl::expected<T, Error>;
using Status = Result<void>;

// fail("bad {}", x): an unexpected Error with a formatted message.
template <typename... Args>
[[nodiscard]] tl::unexpected<Error> fail(fmt::format_string<Args...> f, Args&&... args) {
  return tl::unexpected(Error{fmt::format(f, std::forward<Args>(args)...), 0});
}

// fail_errno("KVM_RUN"): "KVM_RUN: <strerror(errno)>", keeping errno.
[[nodiscard]] inline tl::unexpected<Error> fail_errno(std::string_view what, int err = errno) {
  return tl::unexpected(Error{fmt::format("{}: {}", what, std::strerror(err)), err});
}

// Adds context in front of an error message: "loading kernel: <inner>".
[[nodiscard]] inline tl::unexpected<Error> wrap(std::string_view context, Error e) {
  e.message = fmt::format("{}: {}", context, e.message);
  return tl::unexpected(std::move(e));
}

}  // namespace kiln

// Propagates an error out of a function returning Result<...>.
#define KILN_TRY(expr)                                        \
  do {                                                        \
    auto kiln_try_result_ = (expr);                           \
    if (!kiln_try_result_) {                                  \
      return tl::unexpected(std::move(kiln_try_result_).error()); \
    }                                                         \
  } while (0)
