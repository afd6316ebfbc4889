// FNV-1a, 64-bit (http://www.isthe.com/chongo/tech/comp/fnv/): for each byte,
// hash = (hash XOR byte) * 0x100000001b3, starting from the offset basis 0xcbf29ce484222325,
// arithmetic modulo 2^64. The empty input hashes to the offset basis.
#pragma once

#include <cstdint>

namespace kiln::guest {

inline constexpr uint64_t kFnv1a64OffsetBasis = 0xcbf29ce484222325;
inline constexpr uint64_t kFnv1a64Prime = 0x100000001b3;

// Cost: 27 guest instructions per 8 bytes, ~3.4 per byte (one 8-byte load, then XOR into the
// low byte, multiply and shift per byte), so ~14 million instructions for 4 MiB: ~10 s at the
// ~0.75 us per instruction of an emulated guest kernel.
[[nodiscard]] uint64_t fnv1a64(const uint8_t* data, uint64_t size);

}  // namespace kiln::guest
