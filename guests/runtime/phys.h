// Access to guest-physical memory through the identity map of 0..4 GiB that every entry path
// runs on (entry.S for the 32-bit entries; the VMM's tables for the 64-bit one).
#pragma once

#include <cstdint>

namespace kiln::guest {

inline constexpr uint64_t kIdentityMapEnd = uint64_t{4} << 30;

// True if [address, address + size) lies inside the identity map (overflow-safe).
[[nodiscard]] inline bool is_mapped(uint64_t address, uint64_t size) {
  return address <= kIdentityMapEnd && size <= kIdentityMapEnd - address;
}

// Reads a T from a physical address; the caller has checked is_mapped(address, sizeof(T)).
template <class T>
[[nodiscard]] T read_phys(uint64_t address) {
  T value;
  __builtin_memcpy(&value, reinterpret_cast<const void*>(address), sizeof(T));
  return value;
}

template <class T>
[[nodiscard]] const T* phys_ptr(uint64_t address) {
  return reinterpret_cast<const T*>(address);
}

}  // namespace kiln::guest
