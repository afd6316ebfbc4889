// The byte checksum shared by the MP table and ACPI tables: all bytes of a structure, its
// checksum byte included, add up to 0 modulo 256 (MP spec 1.4 section 4.1, ACPI 6.5 section 5.2.5).
#pragma once

#include <cstdint>
#include <numeric>
#include <span>

namespace kiln::x86 {

[[nodiscard]] inline uint8_t byte_sum(std::span<const uint8_t> bytes) {
  return static_cast<uint8_t>(std::accumulate(bytes.begin(), bytes.end(), 0u));
}

// Sets bytes[checksum_offset] so that the bytes sum to 0.
inline void set_checksum(std::span<uint8_t> bytes, size_t checksum_offset) {
  bytes[checksum_offset] = 0;
  bytes[checksum_offset] = static_cast<uint8_t>(0x100 - byte_sum(bytes));
}

}  // namespace kiln::x86
