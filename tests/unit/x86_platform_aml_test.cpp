// AML encodings checked byte by byte against ACPI 6.5 chapter 20 and section 6.4.
#include <gtest/gtest.h>

#include "arch/x86_64/platform/aml.h"

namespace kiln::x86::aml {
namespace {

using B = Bytes;

// Decodes a PkgLength: (total length it encodes, bytes it takes).
std::pair<size_t, size_t> decode_pkg_length(const Bytes& b) {
  const size_t extra = b.at(0) >> 6;
  if (extra == 0) return {b[0] & 0x3f, 1};
  size_t v = b[0] & 0x0f;
  for (size_t i = 0; i < extra; ++i) v |= size_t{b.at(1 + i)} << (4 + 8 * i);
  return {v, 1 + extra};
}

TEST(X86PlatformAml, PkgLengthEdges) {
  EXPECT_EQ(pkg_length(0), (B{0x01}));
  EXPECT_EQ(pkg_length(62), (B{0x3f}));              // total 63: the largest one-byte length
  EXPECT_EQ(pkg_length(63), (B{0x41, 0x04}));        // total 65 = 0x041
  EXPECT_EQ(pkg_length(64), (B{0x42, 0x04}));        // total 66
  EXPECT_EQ(pkg_length(4093), (B{0x4f, 0xff}));      // total 4095: the largest two-byte length
  EXPECT_EQ(pkg_length(4094), (B{0x81, 0x00, 0x01})); // total 4097 = 0x1001
  EXPECT_EQ(pkg_length(4095), (B{0x82, 0x00, 0x01}));
  EXPECT_EQ(pkg_length(4096), (B{0x83, 0x00, 0x01}));
  EXPECT_EQ(pkg_length(0xfffff - 3), (B{0x8f, 0xff, 0xff}));
  EXPECT_EQ(pkg_length(0xfffff - 2), (B{0xc1, 0x00, 0x00, 0x01}));  // total 0x100001
}

TEST(X86PlatformAml, PkgLengthRoundTripsAndIsMinimal) {
  for (size_t body = 0; body < 70000; ++body) {
    const Bytes enc = pkg_length(body);
    const auto [total, used] = decode_pkg_length(enc);
    ASSERT_EQ(used, enc.size());
    ASSERT_EQ(total, body + enc.size()) << body;
    const size_t minimal = body + 1 <= 63 ? 1 : body + 2 <= 0xfff ? 2 : 3;
    ASSERT_EQ(enc.size(), minimal) << body;
  }
}

TEST(X86PlatformAml, Integers) {
  EXPECT_EQ(integer(0), (B{0x00}));
  EXPECT_EQ(integer(1), (B{0x01}));
  EXPECT_EQ(integer(5), (B{0x0a, 0x05}));
  EXPECT_EQ(integer(0xff), (B{0x0a, 0xff}));
  EXPECT_EQ(integer(0x3f8), (B{0x0b, 0xf8, 0x03}));
  EXPECT_EQ(integer(0x10000), (B{0x0c, 0x00, 0x00, 0x01, 0x00}));
  EXPECT_EQ(integer(0x100000000), (B{0x0e, 0, 0, 0, 0, 1, 0, 0, 0}));
  EXPECT_EQ(dword(1), (B{0x0c, 0x01, 0x00, 0x00, 0x00}));
}

TEST(X86PlatformAml, Strings) {
  EXPECT_EQ(*string("LNRO0005"), (B{0x0d, 'L', 'N', 'R', 'O', '0', '0', '0', '5', 0x00}));
  EXPECT_EQ(*string(""), (B{0x0d, 0x00}));
  EXPECT_FALSE(string(std::string_view("a\0b", 3)).has_value());
  EXPECT_FALSE(string("\xc3\xa9").has_value());
}

TEST(X86PlatformAml, EisaId) {
  EXPECT_EQ(*eisa_id("PNP0501"), (B{0x0c, 0x41, 0xd0, 0x05, 0x01}));  // 0x0105d041
  EXPECT_EQ(*eisa_id("PNP0A03"), (B{0x0c, 0x41, 0xd0, 0x0a, 0x03}));  // 0x030ad041
  EXPECT_FALSE(eisa_id("pnp0501").has_value());
  EXPECT_FALSE(eisa_id("PNP050").has_value());
  EXPECT_FALSE(eisa_id("PNP050G").has_value());
}

TEST(X86PlatformAml, NameStrings) {
  auto enc = [](const Name& n) { return B(n.encoded().begin(), n.encoded().end()); };
  EXPECT_EQ(enc("_SB"), (B{'_', 'S', 'B', '_'}));
  EXPECT_EQ(enc("COM1"), (B{'C', 'O', 'M', '1'}));
  EXPECT_EQ(enc("\\_SB"), (B{'\\', '_', 'S', 'B', '_'}));
  EXPECT_EQ(enc("\\"), (B{'\\', 0x00}));
  EXPECT_EQ(enc("^^PCI0"), (B{'^', '^', 'P', 'C', 'I', '0'}));
  EXPECT_EQ(enc("\\_SB.COM1"), (B{'\\', 0x2e, '_', 'S', 'B', '_', 'C', 'O', 'M', '1'}));
  EXPECT_EQ(enc("A.B.C"), (B{0x2f, 3, 'A', '_', '_', '_', 'B', '_', '_', '_', 'C', '_', '_', '_'}));
  EXPECT_TRUE(Name::from("V00A").has_value());
  for (const char* bad : {"1ABC", "ABCDE", "a", "A..B", "A.", ".A", "A-B", "A.B.C.D.E"}) {
    EXPECT_FALSE(Name::from(bad).has_value()) << bad;
  }
}

TEST(X86PlatformAml, NameDeviceScopePackage) {
  EXPECT_EQ(name("_UID", integer(1)), (B{0x08, '_', 'U', 'I', 'D', 0x01}));
  const B uid = name("_UID", integer(1));
  EXPECT_EQ(device("COM1", std::span(&uid, 1)),
            (B{0x5b, 0x82, 0x0b, 'C', 'O', 'M', '1', 0x08, '_', 'U', 'I', 'D', 0x01}));
  EXPECT_EQ(scope("\\_SB", {}), (B{0x10, 0x06, '\\', '_', 'S', 'B', '_'}));
  const B elems[] = {integer(5), integer(0), integer(0), integer(0)};
  EXPECT_EQ(package(elems), (B{0x12, 0x07, 0x04, 0x0a, 0x05, 0x00, 0x00, 0x00}));
  const uint8_t data[] = {0xaa, 0xbb};
  EXPECT_EQ(buffer(data), (B{0x11, 0x05, 0x0a, 0x02, 0xaa, 0xbb}));
}

TEST(X86PlatformAml, LongDeviceUsesMultiBytePkgLength) {
  const B big(100, 0xa5);  // not valid AML, only a payload
  const B out = device("BIG0", std::span(&big, 1));
  ASSERT_GE(out.size(), 4u);
  EXPECT_EQ(out[2], 0x40 | ((104 + 2) & 0xf));
  EXPECT_EQ(out[3], (104 + 2) >> 4);
  EXPECT_EQ(out.size(), 2 + 2 + 4 + 100u);
}

TEST(X86PlatformAml, SerialResources) {
  // IO (Decode16, 0x3f8, 0x3f8, 1, 8), IRQNoFlags () {4}, End Tag.
  EXPECT_EQ(ResourceTemplate().io(0x3f8, 8).irq_no_flags(4).build(),
            (B{0x11, 0x10, 0x0a, 0x0d, 0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08, 0x22, 0x10, 0x00, 0x79, 0x00}));
}

TEST(X86PlatformAml, BridgeWindows) {
  using T = ResourceTemplate;
  const B bus = T().word_bus_number(0, 0).build();
  const B bus_expected{0x11, 0x15, 0x0a, 0x12, 0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00,  // Word, bus numbers
                       0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00, 0x79, 0x00};  // granularity..translation 0, length 1
  EXPECT_EQ(bus, bus_expected);
  const B io = T().word_io(0xc000, 0xffff).build();
  EXPECT_EQ(io[7], 0x01) << "I/O";
  EXPECT_EQ(io[9], 0x03) << "entire range";
  EXPECT_EQ((B(io.begin() + 12, io.begin() + 14)), (B{0x00, 0xc0})) << "min";
  EXPECT_EQ((B(io.begin() + 16, io.begin() + 18)), (B{0x00, 0x00})) << "translation";
  EXPECT_EQ((B(io.begin() + 18, io.begin() + 20)), (B{0x00, 0x40})) << "length 0x4000";
  const B mem = T().dword_memory(0xc0000000, 0xcfffffff).build();
  EXPECT_EQ(mem[4], 0x87);
  EXPECT_EQ(mem[5], 0x17) << "23 bytes follow the length";
  EXPECT_EQ(mem[9], 0x01) << "read/write, non-cacheable";
  EXPECT_EQ((B(mem.begin() + 26, mem.begin() + 30)), (B{0x00, 0x00, 0x00, 0x10})) << "length 256 MiB";
}

TEST(X86PlatformAml, MmioResources) {
  using T = ResourceTemplate;
  const B out = T().memory32_fixed(0xd0000000, 0x1000, true)
                    .interrupt(5, T::Trigger::kEdge, T::Polarity::kActiveHigh)
                    .build();
  const B expected{0x11, 0x1a, 0x0a, 0x17,                                         // Buffer (23)
                   0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xd0, 0x00, 0x10, 0x00, 0x00,  // Memory32Fixed
                   0x89, 0x06, 0x00, 0x03, 0x01, 0x05, 0x00, 0x00, 0x00,          // Interrupt, consumer|edge
                   0x79, 0x00};
  EXPECT_EQ(out, expected);
  const B level = T().interrupt(7, T::Trigger::kLevel, T::Polarity::kActiveLow).build();
  EXPECT_EQ(level[7], 0x05) << "consumer | active low, level";
}

}  // namespace
}  // namespace kiln::x86::aml
