// Errors as values: every syscall and guest-input path returns Result<T>.
#pragma once

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <utility>

namespace kiln {

// What kind of failure an Error is, for the callers that act on it (kiln's exit status: kConfig
// is a usage error, exit_status(const Error&) in vmm/stop_reason.h). Classified where the error
// arises; wrap() and the KILN_TRY macros keep it, with_kind() changes it.
enum class ErrorKind {
  kUnspecified,  // not classified: fail() and fail_errno()
  kGuest,        // the guest's input is bad: a descriptor chain, a queue, an address outside RAM
  kConfig,       // what the user gave cannot be used: a kernel that is not one or does not fit
                 // the memory, a snapshot that reads but does not decode (truncated, damaged,
                 // another format), a path that is not a regular file; the same input fails
                 // the same way again
  kIo,           // a host file, socket, tap or block-device syscall failed; sys_errno says why
  kKvm,          // the KVM API failed or lacks something: /dev/kvm, an ioctl, a capability
  kState,        // the request does not fit the current state (a device saved while it runs)
};

[[nodiscard]] constexpr std::string_view kind_name(ErrorKind k) {
  switch (k) {
    case ErrorKind::kUnspecified: return "unspecified";
    case ErrorKind::kGuest: return "guest";
    case ErrorKind::kConfig: return "config";
    case ErrorKind::kIo: return "I/O";
    case ErrorKind::kKvm: return "KVM";
    case ErrorKind::kState: return "state";
  }
  return "unknown";
}

struct Error {
  std::string message;
  int sys_errno = 0;  // errno of the failed syscall, 0 when not a syscall error
  ErrorKind kind = ErrorKind::kUnspecified;
};

template <typename T>
using Result = tl::expected<T, Error>;
using Status = Result<void>;

// fail("bad {}", x): an unexpected Error with a formatted message.
template <typename... Args>
[[nodiscard]] tl::unexpected<Error> fail(fmt::format_string<Args...> f, Args&&... args) {
  return tl::unexpected(Error{fmt::format(f, std::forward<Args>(args)...), 0});
}

// fail_kind(ErrorKind::kGuest, "bad {}", x): the same, classified.
template <typename... Args>
[[nodiscard]] tl::unexpected<Error> fail_kind(ErrorKind kind, fmt::format_string<Args...> f, Args&&... args) {
  return tl::unexpected(Error{fmt::format(f, std::forward<Args>(args)...), 0, kind});
}

// fail_errno("KVM_RUN"): "KVM_RUN: <strerror(errno)>", keeping errno.
[[nodiscard]] inline tl::unexpected<Error> fail_errno(std::string_view what, int err = errno) {
  return tl::unexpected(Error{fmt::format("{}: {}", what, std::strerror(err)), err});
}

// fail_errno_kind(ErrorKind::kKvm, "KVM_RUN"): the same, classified.
[[nodiscard]] inline tl::unexpected<Error> fail_errno_kind(ErrorKind kind, std::string_view what, int err = errno) {
  return tl::unexpected(Error{fmt::format("{}: {}", what, std::strerror(err)), err, kind});
}

// fail_io(path): fail_errno for a host file, socket or device (ErrorKind::kIo).
[[nodiscard]] inline tl::unexpected<Error> fail_io(std::string_view what, int err = errno) {
  return fail_errno_kind(ErrorKind::kIo, what, err);
}

// Adds context in front of an error message: "loading kernel: <inner>". Keeps errno and kind.
[[nodiscard]] inline tl::unexpected<Error> wrap(std::string_view context, Error e) {
  e.message = fmt::format("{}: {}", context, e.message);
  return tl::unexpected(std::move(e));
}

// The same error, classified anew: where a layer knows better what a failure below it means
// (an address outside guest RAM while loading the kernel is the kernel not fitting: kConfig).
[[nodiscard]] inline tl::unexpected<Error> with_kind(ErrorKind kind, Error e) {
  e.kind = kind;
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

// The value of a Result, or return its error from the enclosing function returning Result<...>:
//   auto kvm = KILN_TRY_VALUE(Kvm::open());
// (a GNU statement expression; __extension__ keeps -Wpedantic quiet, as g++ and clang both
// support it).
#define KILN_TRY_VALUE(expr)                                        \
  __extension__({                                                   \
    auto kiln_try_value_ = (expr);                                  \
    if (!kiln_try_value_) {                                         \
      return tl::unexpected(std::move(kiln_try_value_).error());    \
    }                                                               \
    std::move(*kiln_try_value_);                                    \
  })
