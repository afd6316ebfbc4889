// String and memory helpers for the freestanding guests. GCC may emit calls to memcpy, memmove,
// memset, memcmp and strlen even with -ffreestanding, so string.cpp defines them.
#pragma once

#include <cstddef>
#include <cstdint>

extern "C" {
void* memcpy(void* dst, const void* src, size_t size);
void* memmove(void* dst, const void* src, size_t size);
void* memset(void* dst, int value, size_t size);
int memcmp(const void* a, const void* b, size_t size);
size_t strlen(const char* s);
}

namespace kiln::guest {

// A view of characters that need not be NUL-terminated.
struct Text {
  const char* data = nullptr;
  size_t size = 0;

  constexpr Text() = default;
  constexpr Text(const char* d, size_t n) : data(d), size(n) {}
  // From a NUL-terminated string (implicit, so that string literals convert).
  Text(const char* s) : data(s), size(__builtin_strlen(s)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool empty() const { return size == 0; }
  [[nodiscard]] bool operator==(Text other) const {
    return size == other.size && memcmp(data, other.data, size) == 0;
  }
  [[nodiscard]] bool starts_with(Text prefix) const {
    return size >= prefix.size && memcmp(data, prefix.data, prefix.size) == 0;
  }
  // Characters from `pos` to the end (empty if pos >= size).
  [[nodiscard]] Text from(size_t pos) const {
    return pos >= size ? Text{data + size, 0} : Text{data + pos, size - pos};
  }
};

// Length of the NUL-terminated string at `s`, or `max` if there is no NUL in the first `max` bytes.
[[nodiscard]] size_t bounded_length(const char* s, size_t max);

}  // namespace kiln::guest
