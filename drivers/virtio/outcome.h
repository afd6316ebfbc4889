// Errors as values for the freestanding driver library (no exceptions, no tl::expected in the
// guest): an Error code, and Outcome<T> = a value or an Error.
#pragma once

#include <cstdint>

namespace kiln::driver {

enum class Error : uint8_t {
  none = 0,
  bad_argument,        // caller error: size not a power of two, no segments, ...
  out_of_memory,       // the arena is exhausted
  no_space,            // not enough free descriptors in the ring
  bad_magic,           // transport: MagicValue is not "virt"
  bad_version,         // transport: not the legacy version 1
  no_device,           // transport: device ID 0 (an empty slot)
  queue_unavailable,   // QueueNumMax (or the PCI queue size) is 0
  queue_in_use,        // QueuePFN is not 0 before set-up
  queue_too_large,     // the device's fixed queue size does not fit the caller's limit
  not_addressable,     // the ring lies above what the transport can address (PFN > 32 bits)
  bad_used_id,         // the device returned an id that is not a head the driver has out
  feature_missing,     // a required feature was not offered
  device_failed,       // the device set FAILED or refused the configuration
};

[[nodiscard]] constexpr const char* error_name(Error e) {
  switch (e) {
    case Error::none: return "none";
    case Error::bad_argument: return "bad_argument";
    case Error::out_of_memory: return "out_of_memory";
    case Error::no_space: return "no_space";
    case Error::bad_magic: return "bad_magic";
    case Error::bad_version: return "bad_version";
    case Error::no_device: return "no_device";
    case Error::queue_unavailable: return "queue_unavailable";
    case Error::queue_in_use: return "queue_in_use";
    case Error::queue_too_large: return "queue_too_large";
    case Error::not_addressable: return "not_addressable";
    case Error::bad_used_id: return "bad_used_id";
    case Error::feature_missing: return "feature_missing";
    case Error::device_failed: return "device_failed";
  }
  return "unknown";
}

// T must be default-constructible (it is, for everything the library returns).
template <class T>
class [[nodiscard]] Outcome {
 public:
  Outcome(T value) : value_(static_cast<T&&>(value)) {}  // NOLINT(google-explicit-constructor)
  Outcome(Error error) : error_(error) {}                 // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const { return error_ == Error::none; }
  explicit operator bool() const { return ok(); }
  [[nodiscard]] Error error() const { return error_; }
  [[nodiscard]] T& value() { return value_; }
  [[nodiscard]] const T& value() const { return value_; }
  T* operator->() { return &value_; }
  T& operator*() { return value_; }

 private:
  T value_{};
  Error error_ = Error::none;
};

}  // namespace kiln::driver
