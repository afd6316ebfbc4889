#include "arch/x86_64/platform/aml.h"

#include <algorithm>
#include <cstdlib>
#include <initializer_list>

namespace kiln::x86::aml {

namespace {

// Opcodes (ACPI 6.5 section 20.3).
constexpr uint8_t kZeroOp = 0x00;
constexpr uint8_t kOneOp = 0x01;
constexpr uint8_t kNameOp = 0x08;
constexpr uint8_t kBytePrefix = 0x0a;
constexpr uint8_t kWordPrefix = 0x0b;
constexpr uint8_t kDWordPrefix = 0x0c;
constexpr uint8_t kStringPrefix = 0x0d;
constexpr uint8_t kQWordPrefix = 0x0e;
constexpr uint8_t kScopeOp = 0x10;
constexpr uint8_t kBufferOp = 0x11;
constexpr uint8_t kPackageOp = 0x12;
constexpr uint8_t kExtOpPrefix = 0x5b;
constexpr uint8_t kDeviceOp = 0x82;  // after kExtOpPrefix

void append(Bytes& out, std::span<const uint8_t> bytes) { out.insert(out.end(), bytes.begin(), bytes.end()); }

// One term from its parts, allocated once at its final size. (Growing a one-byte vector by
// insert let g++ 12 at -O3 see a reallocation path it then reported as out of bounds.)
Bytes concat(std::initializer_list<std::span<const uint8_t>> parts) {
  size_t size = 0;
  for (const auto part : parts) size += part.size();
  Bytes out(size);
  auto at = out.begin();
  for (const auto part : parts) at = std::copy(part.begin(), part.end(), at);
  return out;
}

void append_le(Bytes& out, uint64_t value, size_t bytes) {
  for (size_t i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

// op PkgLength <head> <terms...>: the shape of Scope, Device, Package and Buffer.
Bytes package_like(std::span<const uint8_t> op, std::span<const uint8_t> head, std::span<const Bytes> terms) {
  Bytes body(head.begin(), head.end());
  for (const Bytes& t : terms) append(body, t);
  return concat({op, pkg_length(body.size()), body});
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Bytes pkg_length(size_t body_bytes) {
  // One lead byte holds lengths up to 63 in bits 5:0; otherwise bits 7:6 give the count of extra
  // bytes, the lead byte keeps the low nibble in bits 3:0 and each extra byte the next 8 bits.
  if (body_bytes + 1 <= 0x3f) return {static_cast<uint8_t>(body_bytes + 1)};
  for (size_t extra = 1; extra <= 3; ++extra) {
    const size_t total = body_bytes + 1 + extra;
    if (total < (size_t{1} << (4 + 8 * extra))) {
      Bytes out{static_cast<uint8_t>((extra << 6) | (total & 0x0f))};
      append_le(out, total >> 4, extra);
      return out;
    }
  }
  // Lengths stop at 2^28 - 1. kiln builds tables of a few KiB: a 256 MiB package is a kiln bug.
  std::abort();
}

Bytes integer(uint64_t value) {
  if (value == 0) return {kZeroOp};
  if (value == 1) return {kOneOp};
  Bytes out;
  if (value <= 0xff) {
    out.push_back(kBytePrefix);
    append_le(out, value, 1);
  } else if (value <= 0xffff) {
    out.push_back(kWordPrefix);
    append_le(out, value, 2);
  } else if (value <= 0xffffffff) {
    out.push_back(kDWordPrefix);
    append_le(out, value, 4);
  } else {
    out.push_back(kQWordPrefix);
    append_le(out, value, 8);
  }
  return out;
}

Bytes dword(uint32_t value) {
  Bytes out{kDWordPrefix};
  append_le(out, value, 4);
  return out;
}

Result<Bytes> string(std::string_view text) {
  Bytes out{kStringPrefix};
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x01 || c > 0x7f) return fail("AML strings are ASCII without NUL; \"{}\" is not", text);
    out.push_back(c);
  }
  out.push_back(0x00);
  return out;
}

Result<Bytes> eisa_id(std::string_view id) {
  // Section 19.6.35 EISAID: bits 30:26, 25:21, 20:16 hold the letters minus 0x40, bits 15:0 the
  // hex digits; the DWord is stored with its bytes swapped (big-endian).
  bool ok = id.size() == 7;
  for (size_t i = 0; ok && i < 3; ++i) ok = id[i] >= 'A' && id[i] <= 'Z';
  for (size_t i = 3; ok && i < 7; ++i) ok = hex_value(id[i]) >= 0;
  if (!ok) return fail("EISA id \"{}\": expected three letters A-Z and four upper-case hex digits", id);
  uint32_t v = 0;
  for (size_t i = 0; i < 3; ++i) v = (v << 5) | static_cast<uint32_t>(id[i] - 0x40);
  for (size_t i = 3; i < 7; ++i) v = (v << 4) | static_cast<uint32_t>(hex_value(id[i]));
  return dword(__builtin_bswap32(v));
}

Bytes name(const Name& n, std::span<const uint8_t> value) {
  const uint8_t op[] = {kNameOp};
  return concat({op, n.encoded(), value});
}

Bytes scope(const Name& n, std::span<const Bytes> terms) {
  const uint8_t op[] = {kScopeOp};
  return package_like(op, n.encoded(), terms);
}

Bytes device(const Name& n, std::span<const Bytes> terms) {
  const uint8_t op[] = {kExtOpPrefix, kDeviceOp};
  return package_like(op, n.encoded(), terms);
}

Bytes package(std::span<const Bytes> elements) {
  if (elements.size() > 0xff) std::abort();  // kiln's packages are short; VarPackage is not needed
  const uint8_t op[] = {kPackageOp};
  const uint8_t count[] = {static_cast<uint8_t>(elements.size())};
  return package_like(op, count, elements);
}

Bytes buffer(std::span<const uint8_t> data) {
  const uint8_t op[] = {kBufferOp};
  const Bytes size = integer(data.size());
  const Bytes contents(data.begin(), data.end());
  return package_like(op, size, std::span(&contents, 1));
}

ResourceTemplate& ResourceTemplate::io(uint16_t base, uint8_t length) {
  // Section 6.4.2.5, small item 0x08, 7 bytes: info (bit 0: 16-bit decode), min, max, align, length.
  descriptors_.push_back(0x47);
  descriptors_.push_back(0x01);
  append_le(descriptors_, base, 2);
  append_le(descriptors_, base, 2);
  descriptors_.push_back(0x01);
  descriptors_.push_back(length);
  return *this;
}

ResourceTemplate& ResourceTemplate::irq_no_flags(uint8_t irq) {
  // Section 6.4.2.1, small item 0x04, 2 bytes: the IRQ mask (IRQs 0-15); no flags byte means
  // edge-triggered, active high, not shared.
  if (irq > 15) std::abort();  // ISA IRQs only; kiln's own constants
  descriptors_.push_back(0x22);
  append_le(descriptors_, uint64_t{1} << irq, 2);
  return *this;
}

ResourceTemplate& ResourceTemplate::memory32_fixed(uint32_t base, uint32_t length, bool writable) {
  // Section 6.4.3.4, large item 0x06, 9 bytes: info (bit 0: read/write), base, length.
  descriptors_.push_back(0x86);
  append_le(descriptors_, 9, 2);
  descriptors_.push_back(writable ? 0x01 : 0x00);
  append_le(descriptors_, base, 4);
  append_le(descriptors_, length, 4);
  return *this;
}

ResourceTemplate& ResourceTemplate::interrupt(uint32_t gsi, Trigger trigger, Polarity polarity) {
  // Section 6.4.3.6, large item 0x09: flags (bit 0 consumer, bit 1 edge, bit 2 active low,
  // bit 3 shared), table length, then the interrupt numbers.
  descriptors_.push_back(0x89);
  append_le(descriptors_, 6, 2);
  descriptors_.push_back(static_cast<uint8_t>(0x01 | (static_cast<uint8_t>(trigger) << 1) |
                                              (static_cast<uint8_t>(polarity) << 2)));
  descriptors_.push_back(1);
  append_le(descriptors_, gsi, 4);
  return *this;
}

void ResourceTemplate::address_space(uint8_t tag, int width, uint8_t type, uint8_t type_flags, uint64_t min,
                                     uint64_t max) {
  // Large item: resource type, general flags (producer, positive decode, min and max fixed:
  // 0x0c), type-specific flags, then granularity, min, max, translation offset and length, each
  // `width` bytes.
  if (max < min) std::abort();  // kiln's own constants
  descriptors_.push_back(tag);
  append_le(descriptors_, 3 + 5 * static_cast<uint64_t>(width), 2);
  descriptors_.push_back(type);
  descriptors_.push_back(0x0c);
  descriptors_.push_back(type_flags);
  for (const uint64_t v : {uint64_t{0}, min, max, uint64_t{0}, max - min + 1}) append_le(descriptors_, v, static_cast<size_t>(width));
}

ResourceTemplate& ResourceTemplate::word_bus_number(uint16_t min, uint16_t max) {
  address_space(0x88, 2, 2, 0x00, min, max);  // 6.4.3.5.3 Word, type 2: bus number range
  return *this;
}

ResourceTemplate& ResourceTemplate::word_io(uint16_t min, uint16_t max) {
  address_space(0x88, 2, 1, 0x03, min, max);  // type 1: I/O; _RNG 3: ISA and non-ISA ranges
  return *this;
}

ResourceTemplate& ResourceTemplate::dword_memory(uint32_t min, uint32_t max) {
  address_space(0x87, 4, 0, 0x01, min, max);  // 6.4.3.5.2 DWord, type 0: memory; _RW
  return *this;
}

Bytes ResourceTemplate::build() const {
  Bytes data = descriptors_;
  data.push_back(0x79);  // End Tag (section 6.4.2.9)
  data.push_back(0x00);  // checksum 0: the descriptors are treated as valid
  return buffer(data);
}

}  // namespace kiln::x86::aml
