#include "snapshot/codec.h"

namespace kiln::snapshot {

void Encoder::raw(const void* p, size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  out_.insert(out_.end(), b, b + n);
}

void Encoder::bytes(std::span<const uint8_t> data) {
  u32(static_cast<uint32_t>(data.size()));
  raw(data.data(), data.size());
}

void Encoder::string(std::string_view s) {
  bytes({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
}

Result<const uint8_t*> Decoder::take(size_t n) {
  if (n > remaining()) {
    return fail_snapshot("{} is truncated: {} bytes needed at offset {}, {} left", what_, n, pos_, remaining());
  }
  const uint8_t* p = data_.data() + pos_;
  pos_ += n;
  return p;
}

Result<bool> Decoder::boolean() {
  auto v = KILN_TRY_VALUE(u8());
  if (v > 1) return invalid(fmt::format("boolean field holds {}", v));
  return v == 1;
}

Result<std::span<const uint8_t>> Decoder::bytes(size_t max) {
  auto size = KILN_TRY_VALUE(u32());
  if (size > max) return invalid(fmt::format("field of {} bytes exceeds its limit of {}", size, max));
  auto p = KILN_TRY_VALUE(take(size));
  return std::span<const uint8_t>(p, size);
}

Result<std::string> Decoder::string(size_t max) {
  auto b = KILN_TRY_VALUE(bytes(max));
  return std::string(b.begin(), b.end());
}

Result<std::span<const uint8_t>> Decoder::fixed_bytes(uint64_t n) {
  if (n > remaining()) {
    return fail_snapshot("{} is truncated: {} bytes needed at offset {}, {} left", what_, n, pos_, remaining());
  }
  auto p = KILN_TRY_VALUE(take(static_cast<size_t>(n)));
  return std::span<const uint8_t>(p, static_cast<size_t>(n));
}

Status Decoder::finish() const {
  if (remaining() != 0) return invalid(fmt::format("{} unexpected trailing bytes", remaining()));
  return {};
}

tl::unexpected<Error> Decoder::invalid(std::string_view why) const {
  return fail_snapshot("{} is invalid at offset {}: {}", what_, pos_, why);
}

tl::unexpected<Error> Decoder::mismatch(uint32_t got, size_t want) const {
  return fail_snapshot("{} is invalid at offset {}: a structure of {} bytes where kiln expects {} "
                       "(snapshot from a different kiln build?)",
                       what_, pos_, got, want);
}

}  // namespace kiln::snapshot
