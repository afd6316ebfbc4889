// Plain-data encoding for snapshot state: little-endian fixed-width fields appended to a byte
// buffer, and a bounds-checked reader that treats every byte as untrusted input (a truncated or
// malformed blob is an Error, never a crash). Every module's save/restore uses these two.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/result.h"

namespace kiln::snapshot {

// A snapshot that reads but does not decode (truncated, damaged, another format or build) is
// ErrorKind::kConfig: the file given cannot be used, and retrying does not help. Failing to read
// it at all stays kIo (read_file).
template <typename... Args>
[[nodiscard]] tl::unexpected<Error> fail_snapshot(fmt::format_string<Args...> f, Args&&... args) {
  return fail_kind(ErrorKind::kConfig, f, std::forward<Args>(args)...);
}

class Encoder {
 public:
  void u8(uint8_t v) { raw(&v, sizeof(v)); }
  void u16(uint16_t v) { raw(&v, sizeof(v)); }
  void u32(uint32_t v) { raw(&v, sizeof(v)); }
  void u64(uint64_t v) { raw(&v, sizeof(v)); }
  void boolean(bool v) { u8(v ? 1 : 0); }
  // Length-prefixed (u32) byte string.
  void bytes(std::span<const uint8_t> data);
  void string(std::string_view s);
  // A trivially copyable struct (a KVM ioctl structure), prefixed by its size so that a layout
  // change is caught on decode rather than misread.
  template <typename T>
  void pod(const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    u32(static_cast<uint32_t>(sizeof(T)));
    raw(&value, sizeof(T));
  }

  [[nodiscard]] const std::vector<uint8_t>& data() const { return out_; }
  [[nodiscard]] std::vector<uint8_t> take() { return std::move(out_); }

 private:
  void raw(const void* p, size_t n);
  std::vector<uint8_t> out_;
};

class Decoder {
 public:
  // `what` names the blob in error messages ("vCPU 1 state").
  Decoder(std::span<const uint8_t> data, std::string what) : data_(data), what_(std::move(what)) {}

  [[nodiscard]] Result<uint8_t> u8() { return fixed<uint8_t>(); }
  [[nodiscard]] Result<uint16_t> u16() { return fixed<uint16_t>(); }
  [[nodiscard]] Result<uint32_t> u32() { return fixed<uint32_t>(); }
  [[nodiscard]] Result<uint64_t> u64() { return fixed<uint64_t>(); }
  [[nodiscard]] Result<bool> boolean();
  // At most `max` bytes; the span points into the decoder's input.
  [[nodiscard]] Result<std::span<const uint8_t>> bytes(size_t max);
  [[nodiscard]] Result<std::string> string(size_t max);
  // Exactly `n` raw bytes (no length prefix); the span points into the decoder's input.
  [[nodiscard]] Result<std::span<const uint8_t>> fixed_bytes(uint64_t n);
  template <typename T>
  [[nodiscard]] Status pod(T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    auto size = KILN_TRY_VALUE(u32());
    if (size != sizeof(T)) return mismatch(size, sizeof(T));
    auto p = KILN_TRY_VALUE(take(sizeof(T)));
    std::memcpy(&value, p, sizeof(T));
    return {};
  }

  [[nodiscard]] size_t remaining() const { return data_.size() - pos_; }
  // Error unless every byte was consumed (trailing bytes mean a format the reader does not know).
  [[nodiscard]] Status finish() const;
  // An error naming the blob and the offset: for checks on decoded values (kind kConfig).
  [[nodiscard]] tl::unexpected<Error> invalid(std::string_view why) const;

 private:
  template <typename T>
  Result<T> fixed() {
    auto p = KILN_TRY_VALUE(take(sizeof(T)));
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
  }
  [[nodiscard]] Result<const uint8_t*> take(size_t n);
  [[nodiscard]] tl::unexpected<Error> mismatch(uint32_t got, size_t want) const;

  std::span<const uint8_t> data_;
  size_t pos_ = 0;
  std::string what_;
};

}  // namespace kiln::snapshot
