// Byte loops on purpose: these only ever copy a few bytes in the test guests, and a short loop is
// cheaper to start than `rep movs` under an instruction emulator.
#include "string_util.h"

extern "C" {

void* memcpy(void* dst, const void* src, size_t size) {
  auto* d = static_cast<unsigned char*>(dst);
  const auto* s = static_cast<const unsigned char*>(src);
  for (size_t i = 0; i < size; ++i) d[i] = s[i];
  return dst;
}

void* memmove(void* dst, const void* src, size_t size) {
  auto* d = static_cast<unsigned char*>(dst);
  const auto* s = static_cast<const unsigned char*>(src);
  if (d < s) {
    for (size_t i = 0; i < size; ++i) d[i] = s[i];
  } else {
    for (size_t i = size; i > 0; --i) d[i - 1] = s[i - 1];
  }
  return dst;
}

void* memset(void* dst, int value, size_t size) {
  auto* d = static_cast<unsigned char*>(dst);
  for (size_t i = 0; i < size; ++i) d[i] = static_cast<unsigned char>(value);
  return dst;
}

int memcmp(const void* a, const void* b, size_t size) {
  const auto* x = static_cast<const unsigned char*>(a);
  const auto* y = static_cast<const unsigned char*>(b);
  for (size_t i = 0; i < size; ++i) {
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  }
  return 0;
}

size_t strlen(const char* s) {
  size_t n = 0;
  while (s[n] != '\0') ++n;
  return n;
}

}  // extern "C"

namespace kiln::guest {

size_t bounded_length(const char* s, size_t max) {
  size_t n = 0;
  while (n < max && s[n] != '\0') ++n;
  return n;
}

}  // namespace kiln::guest
