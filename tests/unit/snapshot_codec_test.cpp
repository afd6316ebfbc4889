#include "snapshot/codec.h"

#include <gtest/gtest.h>

namespace kiln::snapshot {
namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(SnapshotCodec, RoundTripsEveryFieldType) {
  Encoder e;
  e.u8(0xab);
  e.u16(0xbeef);
  e.u32(0xdeadbeef);
  e.u64(0x0123456789abcdef);
  e.boolean(true);
  e.string("kiln");
  const std::vector<uint8_t> blob{1, 2, 3};
  e.bytes(blob);
  struct Pod {
    uint32_t a;
    uint16_t b;
  } pod{7, 9};
  e.pod(pod);

  Decoder d(e.data(), "test blob");
  EXPECT_EQ(*d.u8(), 0xab);
  EXPECT_EQ(*d.u16(), 0xbeef);
  EXPECT_EQ(*d.u32(), 0xdeadbeefu);
  EXPECT_EQ(*d.u64(), 0x0123456789abcdefu);
  EXPECT_EQ(*d.boolean(), true);
  EXPECT_EQ(*d.string(16), "kiln");
  auto b = d.bytes(3);
  ASSERT_TRUE(b);
  EXPECT_EQ(std::vector<uint8_t>(b->begin(), b->end()), blob);
  Pod out{};
  ASSERT_TRUE(d.pod(out));
  EXPECT_EQ(out.a, 7u);
  EXPECT_EQ(out.b, 9u);
  EXPECT_TRUE(d.finish());
}

TEST(SnapshotCodec, LittleEndianOnTheWire) {
  Encoder e;
  e.u32(0x11223344);
  EXPECT_EQ(e.data(), (std::vector<uint8_t>{0x44, 0x33, 0x22, 0x11}));
}

TEST(SnapshotCodec, TruncationIsAnErrorNamingTheBlob) {
  const std::vector<uint8_t> three{1, 2, 3};
  Decoder d(three, "vCPU 1 state");
  auto v = d.u32();
  ASSERT_FALSE(v);
  EXPECT_TRUE(contains(v.error().message, "vCPU 1 state is truncated")) << v.error().message;
  EXPECT_EQ(v.error().kind, ErrorKind::kConfig) << "a snapshot that does not decode is the user's input";
  // A failed read consumes nothing.
  EXPECT_EQ(d.remaining(), 3u);
}

TEST(SnapshotCodec, LengthPrefixBeyondTheDataOrTheLimit) {
  Encoder e;
  e.u32(1000);  // a length with only 2 bytes behind it
  e.u16(0);
  Decoder over_limit(e.data(), "blob");
  auto a = over_limit.bytes(999);
  ASSERT_FALSE(a);
  EXPECT_TRUE(contains(a.error().message, "exceeds its limit of 999")) << a.error().message;
  Decoder truncated(e.data(), "blob");
  auto b = truncated.bytes(4096);
  ASSERT_FALSE(b);
  EXPECT_TRUE(contains(b.error().message, "truncated")) << b.error().message;
  const std::vector<uint8_t> max_length{0xff, 0xff, 0xff, 0xff};
  Decoder huge(max_length, "blob");
  EXPECT_FALSE(huge.string(SIZE_MAX));
}

TEST(SnapshotCodec, BooleanOtherThanZeroOrOne) {
  const std::vector<uint8_t> two{2};
  Decoder d(two, "blob");
  auto v = d.boolean();
  ASSERT_FALSE(v);
  EXPECT_TRUE(contains(v.error().message, "boolean field holds 2")) << v.error().message;
}

TEST(SnapshotCodec, PodOfAnotherSizeIsAFormatMismatch) {
  Encoder e;
  e.pod(uint64_t{5});
  Decoder d(e.data(), "blob");
  uint32_t small = 0;
  auto r = d.pod(small);
  ASSERT_FALSE(r);
  EXPECT_TRUE(contains(r.error().message, "a structure of 8 bytes where kiln expects 4")) << r.error().message;
}

TEST(SnapshotCodec, TrailingBytesAreRefused) {
  const std::vector<uint8_t> data{1, 0, 0, 0, 9};
  Decoder d(data, "blob");
  ASSERT_TRUE(d.u32());
  auto r = d.finish();
  ASSERT_FALSE(r);
  EXPECT_TRUE(contains(r.error().message, "1 unexpected trailing bytes")) << r.error().message;
}

TEST(SnapshotCodec, FixedBytes) {
  const std::vector<uint8_t> data{1, 2, 3, 4};
  Decoder d(data, "blob");
  auto a = d.fixed_bytes(3);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->size(), 3u);
  EXPECT_EQ((*a)[2], 3);
  EXPECT_FALSE(d.fixed_bytes(2));
  EXPECT_FALSE(d.fixed_bytes(UINT64_MAX));
  auto rest = d.fixed_bytes(1);
  ASSERT_TRUE(rest);
  EXPECT_TRUE(d.finish());
}

TEST(SnapshotCodec, EmptyInput) {
  Decoder d(std::span<const uint8_t>(), "empty");
  EXPECT_TRUE(d.finish());
  EXPECT_FALSE(d.u8());
  EXPECT_TRUE(d.fixed_bytes(0));
}

}  // namespace
}  // namespace kiln::snapshot
