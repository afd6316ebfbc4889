#include "boot-check/fnv1a64.h"

namespace kiln::guest {

uint64_t fnv1a64(const uint8_t* data, uint64_t size) {
  uint64_t hash = kFnv1a64OffsetBasis;
  // Eight bytes per load; x86 is little-endian, so the low byte comes first.
  const uint8_t* const words_end = data + (size & ~uint64_t{7});
  for (; data != words_end; data += 8) {
    uint64_t word;
    __builtin_memcpy(&word, data, 8);
    // Per byte: XOR it into the low byte of the hash, multiply, shift the next byte down.
    asm(".rept 7\n\t"
        "xorb %b[word], %b[hash]\n\t"
        "imulq %[prime], %[hash]\n\t"
        "shrq $8, %[word]\n\t"
        ".endr\n\t"
        "xorb %b[word], %b[hash]\n\t"
        "imulq %[prime], %[hash]"
        : [hash] "+r"(hash), [word] "+r"(word)
        : [prime] "r"(kFnv1a64Prime)
        : "cc");
  }
  for (uint64_t i = 0; i < (size & 7); ++i) {
    hash ^= data[i];
    hash *= kFnv1a64Prime;
  }
  return hash;
}

}  // namespace kiln::guest
