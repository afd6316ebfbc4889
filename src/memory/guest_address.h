// Strong type for a guest physical address.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>

namespace kiln {

class GuestAddress {
 public:
  constexpr GuestAddress() = default;
  constexpr explicit GuestAddress(uint64_t raw) : raw_(raw) {}
  [[nodiscard]] constexpr uint64_t raw() const { return raw_; }

  // Overflow-checked offset: nullopt when raw + delta wraps past 2^64.
  [[nodiscard]] constexpr std::optional<GuestAddress> checked_add(uint64_t delta) const {
    uint64_t out = 0;
    if (__builtin_add_overflow(raw_, delta, &out)) return std::nullopt;
    return GuestAddress(out);
  }
  // Unchecked offset for kiln's own constants (never for guest-supplied values).
  [[nodiscard]] constexpr GuestAddress unchecked_add(uint64_t delta) const {
    return GuestAddress(raw_ + delta);
  }

  constexpr auto operator<=>(const GuestAddress&) const = default;

 private:
  uint64_t raw_ = 0;
};

inline constexpr uint64_t KiB = 1024;
inline constexpr uint64_t MiB = 1024 * KiB;
inline constexpr uint64_t GiB = 1024 * MiB;

}  // namespace kiln
