// A small ACPI Machine Language (AML) encoder: enough of ACPI 6.5 chapter 20 for a DSDT that
// declares devices with names, integers, strings, EISA ids, packages and resource templates.
// Every function returns the encoded bytes of one term; terms nest by value.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace kiln::x86::aml {

using Bytes = std::vector<uint8_t>;

// A NameString (section 20.2.2): an optional root '\' or parent '^' prefixes, then up to
// kMaxSegments NameSegs separated by '.'. A segment is 1-4 characters [A-Z_][A-Z0-9_]*, padded
// with '_' to 4 ("_SB" is "_SB_"). String literals are checked at compile time.
class Name {
 public:
  static constexpr size_t kMaxSegments = 4;
  static constexpr size_t kMaxPrefixes = 4;

  template <size_t N>
  consteval Name(const char (&text)[N]) {  // NOLINT(google-explicit-constructor): literal names
    if (!parse(std::string_view(text, N - 1))) throw "invalid AML name";
  }
  // For names built at run time; nullopt when `text` is not a valid NameString.
  [[nodiscard]] static std::optional<Name> from(std::string_view text) {
    Name n;
    if (!n.parse(text)) return std::nullopt;
    return n;
  }
  [[nodiscard]] std::span<const uint8_t> encoded() const { return {bytes_.data(), size_}; }

 private:
  constexpr Name() = default;

  static constexpr bool lead_char(char c) { return (c >= 'A' && c <= 'Z') || c == '_'; }
  static constexpr bool name_char(char c) { return lead_char(c) || (c >= '0' && c <= '9'); }

  constexpr void put(uint8_t b) { bytes_[size_++] = b; }

  constexpr bool parse(std::string_view text) {
    size_ = 0;
    size_t prefixes = 0;
    if (!text.empty() && text[0] == '\\') {
      put('\\');
      text.remove_prefix(1);
    } else {
      while (!text.empty() && text[0] == '^') {
        if (++prefixes > kMaxPrefixes) return false;
        put('^');
        text.remove_prefix(1);
      }
    }
    std::array<std::string_view, kMaxSegments> segs{};
    size_t count = 0;
    while (!text.empty()) {
      const size_t dot = text.find('.');
      const std::string_view seg = text.substr(0, dot);
      if (seg.empty() || seg.size() > 4 || count == kMaxSegments || !lead_char(seg[0])) return false;
      for (char c : seg) {
        if (!name_char(c)) return false;
      }
      segs[count++] = seg;
      if (dot == std::string_view::npos) break;
      text.remove_prefix(dot + 1);
      if (text.empty()) return false;  // trailing '.'
    }
    if (count == 0) {
      put(0x00);  // NullName
    } else if (count == 2) {
      put(0x2e);  // DualNamePrefix
    } else if (count > 2) {
      put(0x2f);  // MultiNamePrefix, SegCount
      put(static_cast<uint8_t>(count));
    }
    for (size_t i = 0; i < count; ++i) {
      for (size_t j = 0; j < 4; ++j) put(static_cast<uint8_t>(j < segs[i].size() ? segs[i][j] : '_'));
    }
    return true;
  }

  std::array<uint8_t, kMaxPrefixes + 2 + 4 * kMaxSegments> bytes_{};
  size_t size_ = 0;
};

// PkgLength (section 20.2.4) for a package whose contents after the PkgLength take `body_bytes`;
// the encoded length counts its own 1-4 bytes. body_bytes must stay below 2^28 - 4.
[[nodiscard]] Bytes pkg_length(size_t body_bytes);

// Integers (section 20.2.3): ZeroOp, OneOp, or the smallest Byte/Word/DWord/QWord constant.
[[nodiscard]] Bytes integer(uint64_t value);
[[nodiscard]] Bytes dword(uint32_t value);  // always a DWordConst
// A String constant: ASCII 0x01..0x7f, NUL-terminated in AML.
[[nodiscard]] Result<Bytes> string(std::string_view text);
// EISAID("PNP0501"): three upper-case letters and four hex digits, compressed into a DWordConst.
[[nodiscard]] Result<Bytes> eisa_id(std::string_view id);

[[nodiscard]] Bytes name(const Name& n, std::span<const uint8_t> value);        // DefName
[[nodiscard]] Bytes scope(const Name& n, std::span<const Bytes> terms);         // DefScope
[[nodiscard]] Bytes device(const Name& n, std::span<const Bytes> terms);        // DefDevice
[[nodiscard]] Bytes package(std::span<const Bytes> elements);                  // DefPackage (< 256)
[[nodiscard]] Bytes buffer(std::span<const uint8_t> data);                      // DefBuffer

// Resource descriptors (section 6.4) collected into a ResourceTemplate: a Buffer ending with
// an End Tag whose checksum byte is 0 ("treat as valid").
class ResourceTemplate {
 public:
  enum class Trigger : uint8_t { kLevel = 0, kEdge = 1 };
  enum class Polarity : uint8_t { kActiveHigh = 0, kActiveLow = 1 };

  // I/O port descriptor, 16-bit decode, fixed at `base` (IO (Decode16, base, base, 1, length)).
  ResourceTemplate& io(uint16_t base, uint8_t length);
  // IRQ descriptor without flags: an ISA interrupt, edge-triggered, active high (IRQNoFlags).
  ResourceTemplate& irq_no_flags(uint8_t irq);
  // 32-bit fixed memory range descriptor (Memory32Fixed).
  ResourceTemplate& memory32_fixed(uint32_t base, uint32_t length, bool writable);
  // Extended interrupt descriptor for one GSI, consumed by the device, exclusive
  // (Interrupt (ResourceConsumer, trigger, polarity, Exclusive) {gsi}).
  ResourceTemplate& interrupt(uint32_t gsi, Trigger trigger, Polarity polarity);
  // Address space descriptors a bridge produces for its children (section 6.4.3.5), fixed
  // [min, max]: bus numbers (WordBusNumber), an I/O window (WordIO, entire range) and a 32-bit
  // memory window (DWordMemory, non-cacheable, read/write).
  ResourceTemplate& word_bus_number(uint16_t min, uint16_t max);
  ResourceTemplate& word_io(uint16_t min, uint16_t max);
  ResourceTemplate& dword_memory(uint32_t min, uint32_t max);

  [[nodiscard]] Bytes build() const;

 private:
  void address_space(uint8_t tag, int width, uint8_t type, uint8_t type_flags, uint64_t min, uint64_t max);
  Bytes descriptors_;
};

}  // namespace kiln::x86::aml
