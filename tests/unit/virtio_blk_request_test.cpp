// virtio-blk requests end to end on the device thread (Appendix D "Device Operation"), once with
// io_uring and once with synchronous I/O: reads, writes, flush, GET_ID, and every way a request
// can be wrong, each answered with a status byte (or, without one, returned unused).
#include <gtest/gtest.h>

#include "virtio_blk_test_util.h"

namespace kiln::virtio::blk::test {
namespace {

constexpr uint64_t kImageBytes = 1 * MiB;
constexpr uint64_t kCapacity = kImageBytes / 512;

std::vector<uint8_t> image_bytes(uint64_t offset, size_t len) {
  std::vector<uint8_t> out(len);
  for (size_t i = 0; i < len; ++i) out[i] = pattern(offset + i);
  return out;
}

std::vector<uint8_t> fill(size_t len, uint8_t seed) {
  std::vector<uint8_t> out(len);
  for (size_t i = 0; i < len; ++i) out[i] = static_cast<uint8_t>(seed + i * 31);
  return out;
}

class VirtioBlkRequest : public ::testing::TestWithParam<IoMode> {
 protected:
  TempImage image{kImageBytes};
  DeviceHarness h{image.options(false, "kiln-disk-0"), GetParam()};

  void SetUp() override { ASSERT_TRUE(h.activate()); }
  // Submits, kicks and waits for `count` used entries in total.
  void run(uint16_t count) {
    h.kick();
    ASSERT_TRUE(h.wait_used(count));
  }
};

TEST_P(VirtioBlkRequest, UsesTheExpectedEngine) {
  if (GetParam() == IoMode::kSync) {
    EXPECT_EQ(h.device->engine_name(), "synchronous");
  } else {
    EXPECT_TRUE(h.device->engine_name() == "io_uring" || h.device->engine_name() == "synchronous");
  }
}

TEST_P(VirtioBlkRequest, ReadReturnsImageData) {
  const uint16_t head = h.submit(0, kTypeIn, 3, 4096);
  run(1);
  EXPECT_EQ(h.status(0), kStatusOk);
  EXPECT_EQ(h.queue.used(0).id, head);
  EXPECT_EQ(h.queue.used(0).len, 4097u);  // data + status
  EXPECT_EQ(h.read(Guest::data_addr(0), 4096), image_bytes(3 * 512, 4096));
  EXPECT_TRUE(eventually([&] { return h.interrupt.used.load() > 0; }));  // raised just after the used entry
}

TEST_P(VirtioBlkRequest, WriteReachesTheImage) {
  const auto data = fill(8192, 5);
  h.write(Guest::data_addr(0), data);
  h.submit(0, kTypeOut, 10, 8192);
  run(1);
  EXPECT_EQ(h.status(0), kStatusOk);
  EXPECT_EQ(h.queue.used(0).len, 1u);  // only the status byte is written
  EXPECT_EQ(image.read(10 * 512, 8192), data);
  EXPECT_EQ(image.read(9 * 512, 512), image_bytes(9 * 512, 512));    // neighbours untouched
  EXPECT_EQ(image.read(26 * 512, 512), image_bytes(26 * 512, 512));
}

TEST_P(VirtioBlkRequest, RoundTripAcrossScatteredSegments) {
  const auto data = fill(4096, 9);
  const uint64_t a = kData;
  const uint64_t b = kData + 100 * KiB;
  const uint64_t c = kData + 300 * KiB + 17;  // segments need no alignment
  h.write(a, {data.begin(), data.begin() + 512});
  h.write(b, {data.begin() + 512, data.begin() + 1536});
  h.write(c, {data.begin() + 1536, data.end()});
  h.queue.add(h.request(0, kTypeOut, 100, {{a, 512}, {b, 1024}, {c, 2560}}));
  run(1);  // requests in flight together have no order: read back only after the write is done
  const uint64_t d = kData + 600 * KiB + 3;
  h.queue.add(h.request(1, kTypeIn, 100, {{d, 1000, true}, {d + 2000, 3096, true}}));
  run(2);
  EXPECT_EQ(h.status(0), kStatusOk);
  EXPECT_EQ(h.status(1), kStatusOk);
  auto back = h.read(d, 1000);
  const auto rest = h.read(d + 2000, 3096);
  back.insert(back.end(), rest.begin(), rest.end());
  EXPECT_EQ(back, data);
  EXPECT_EQ(h.queue.used(1).len, 4097u);
}

TEST_P(VirtioBlkRequest, HeaderAndStatusMayShareBuffersWithOtherBytes) {
  // The header split 10 + 6; the status byte is the last byte of a buffer that also holds data.
  const uint64_t header = kHeaders;
  ASSERT_TRUE(h.mem.write_obj(GuestAddress(header), RequestHeader{kTypeIn, 0, 1}));
  const uint64_t buf = kData;
  ASSERT_TRUE(h.mem.write_obj(GuestAddress(buf + 512), kUnwritten));
  h.queue.add({{header, 10}, {header + 10, 6}, {buf, 513, true}});
  run(1);
  EXPECT_EQ(*h.mem.read_obj<uint8_t>(GuestAddress(buf + 512)), kStatusOk);
  EXPECT_EQ(h.read(buf, 512), image_bytes(512, 512));
  EXPECT_EQ(h.queue.used(0).len, 513u);
}

TEST_P(VirtioBlkRequest, IndirectRequest) {
  h.submit(0, kTypeIn, 7, 2048, /*indirect=*/true);
  run(1);
  EXPECT_EQ(h.status(0), kStatusOk);
  EXPECT_EQ(h.read(Guest::data_addr(0), 2048), image_bytes(7 * 512, 2048));
}

TEST_P(VirtioBlkRequest, FlushAndFlushOut) {
  h.submit(0, kTypeFlush, 0, 0);
  h.submit(1, kTypeFlushOut, 12345, 0);  // the sector of a flush means nothing
  run(2);
  EXPECT_EQ(h.status(0), kStatusOk);
  EXPECT_EQ(h.status(1), kStatusOk);
  EXPECT_EQ(h.queue.used(0).len, 1u);
}

TEST_P(VirtioBlkRequest, GetIdPadsTheSerialWithNuls) {
  h.write(Guest::data_addr(0), std::vector<uint8_t>(20, 0xaa));
  h.submit(0, kTypeGetId, 0, 20);
  run(1);
  EXPECT_EQ(h.status(0), kStatusOk);
  EXPECT_EQ(h.queue.used(0).len, 21u);
  std::vector<uint8_t> expected(20, 0);
  const std::string serial = "kiln-disk-0";
  std::copy(serial.begin(), serial.end(), expected.begin());
  EXPECT_EQ(h.read(Guest::data_addr(0), 20), expected);
}

TEST_P(VirtioBlkRequest, GetIdIntoASmallBufferTruncates) {
  h.write(Guest::data_addr(0), std::vector<uint8_t>(8, 0xaa));
  h.submit(0, kTypeGetId, 0, 5);
  run(1);
  EXPECT_EQ(h.status(0), kStatusOk);
  EXPECT_EQ(h.queue.used(0).len, 6u);
  const std::vector<uint8_t> expected{'k', 'i', 'l', 'n', '-', 0xaa, 0xaa, 0xaa};
  EXPECT_EQ(h.read(Guest::data_addr(0), 8), expected);
}

TEST_P(VirtioBlkRequest, UnsupportedTypes) {
  const uint32_t types[] = {kTypeScsiCmd, 3, 6, 7, 9, 0x80000000u, 0x80000001u, 0xffffffffu};
  uint32_t slot = 0;
  for (uint32_t type : types) h.submit(slot++, type, 0, 512);
  run(static_cast<uint16_t>(slot));
  for (uint32_t i = 0; i < slot; ++i) {
    EXPECT_EQ(h.status(i), kStatusUnsupp) << "type " << types[i];
    EXPECT_EQ(h.queue.used(static_cast<uint16_t>(i)).len, 1u);
  }
}

TEST_P(VirtioBlkRequest, SectorsBeyondTheDiskFail) {
  h.write(Guest::data_addr(1), fill(1024, 1));
  h.submit(0, kTypeIn, kCapacity, 512);           // starts at the end
  h.submit(1, kTypeOut, kCapacity - 1, 1024);     // runs past the end
  h.submit(2, kTypeIn, ~uint64_t{0}, 512);        // sector * 512 would overflow
  h.submit(3, kTypeIn, uint64_t{1} << 55, 512);   // sector << 9 wraps to 0
  h.submit(4, kTypeIn, kCapacity - 1, 512);       // the last sector is fine
  h.submit(5, kTypeIn, kCapacity, 0);             // an empty read at the end is fine too
  run(6);
  for (uint32_t i = 0; i < 4; ++i) EXPECT_EQ(h.status(i), kStatusIoErr) << i;
  EXPECT_EQ(h.status(4), kStatusOk);
  EXPECT_EQ(h.status(5), kStatusOk);
  EXPECT_EQ(h.queue.used(0).len, 1u);
  EXPECT_EQ(image.read(kImageBytes - 512, 512), image_bytes(kImageBytes - 512, 512));
}

TEST_P(VirtioBlkRequest, DataNotAMultipleOf512Fails) {
  h.write(Guest::data_addr(1), fill(513, 2));
  h.submit(0, kTypeIn, 0, 100);
  h.submit(1, kTypeOut, 0, 513);
  run(2);
  EXPECT_EQ(h.status(0), kStatusIoErr);
  EXPECT_EQ(h.status(1), kStatusIoErr);
  EXPECT_EQ(image.read(0, 1024), image_bytes(0, 1024));
}

TEST_P(VirtioBlkRequest, MissingStatusByteReturnsTheChainUnused) {
  // Only device-readable buffers: nowhere to put a status.
  ASSERT_TRUE(h.mem.write_obj(GuestAddress(kHeaders), RequestHeader{kTypeOut, 0, 0}));
  h.write(kData, fill(512, 3));
  const uint16_t head = h.queue.add({{kHeaders, 16}, {kData, 512}});
  h.submit(1, kTypeIn, 0, 512);  // the device carries on
  run(2);
  EXPECT_EQ(h.queue.used(0).id, head);
  EXPECT_EQ(h.queue.used(0).len, 0u);
  EXPECT_EQ(image.read(0, 512), image_bytes(0, 512));  // not written
  EXPECT_EQ(h.status(1), kStatusOk);
}

TEST_P(VirtioBlkRequest, MalformedHeaderFails) {
  ASSERT_TRUE(h.mem.write_obj(GuestAddress(kHeaders), RequestHeader{kTypeIn, 0, 0}));
  ASSERT_TRUE(h.mem.write_obj(GuestAddress(kHeaders + 16), kUnwritten));
  h.queue.add({{kHeaders, 8}, {kData, 512, true}, {kHeaders + 16, 1, true}});  // 8-byte header
  ASSERT_TRUE(h.mem.write_obj(GuestAddress(kHeaders + 32 + 16), kUnwritten));
  h.queue.add({{kHeaders + 32 + 16, 1, true}});  // no header at all
  run(2);
  EXPECT_EQ(h.status(0), kStatusIoErr);
  EXPECT_EQ(h.status(1), kStatusIoErr);
  EXPECT_EQ(h.queue.used(1).len, 1u);
}

TEST_P(VirtioBlkRequest, MalformedChainComesBackEmptyAndServiceContinues) {
  h.queue.add({{kRamSize - 8, 16}});  // runs past the end of guest RAM
  h.queue.set_desc(200, {kHeaders, 16, kDescFNext, 999});  // next outside the queue
  h.queue.publish(200);
  h.submit(2, kTypeIn, 0, 512);
  run(3);
  EXPECT_EQ(h.queue.used(0).len, 0u);
  EXPECT_EQ(h.queue.used(1).len, 0u);
  EXPECT_EQ(h.status(2), kStatusOk);
}

TEST_P(VirtioBlkRequest, ReadonlyDiskRefusesWrites) {
  h.device->reset();
  TempImage ro_image(64 * KiB);
  DeviceHarness ro(ro_image.options(true), GetParam());
  ASSERT_TRUE(ro.activate());
  ro.write(Guest::data_addr(0), fill(512, 4));
  ro.submit(0, kTypeOut, 0, 512);
  ro.submit(1, kTypeIn, 0, 512);
  ro.submit(2, kTypeFlush, 0, 0);
  ro.kick();
  ASSERT_TRUE(ro.wait_used(3));
  EXPECT_EQ(ro.status(0), kStatusIoErr);
  EXPECT_EQ(ro.status(1), kStatusOk);
  EXPECT_EQ(ro.status(2), kStatusOk);
  EXPECT_EQ(ro_image.read(0, 512), image_bytes(0, 512));
}

TEST_P(VirtioBlkRequest, WriteThroughWithoutTheFlushFeature) {
  h.device->reset();
  ASSERT_TRUE(h.activate(h.device->features() & ~feature(kFFlush)));
  const auto data = fill(4096, 8);
  h.write(Guest::data_addr(0), data);
  h.submit(0, kTypeOut, 40, 4096);
  run(1);
  EXPECT_EQ(h.status(0), kStatusOk);
  EXPECT_EQ(image.read(40 * 512, 4096), data);
}

TEST_P(VirtioBlkRequest, WorksAgainAfterReset) {
  h.submit(0, kTypeIn, 0, 512);
  run(1);
  h.device->reset();
  DriverQueue fresh(h.mem, kQueueBase, BlockDevice::kQueueSize);
  ASSERT_TRUE(h.mem.fill(GuestAddress(kQueueBase), 16 * KiB, 0));
  h.queue = fresh;
  ASSERT_TRUE(h.activate());
  h.submit(1, kTypeIn, 1, 512);
  run(1);
  EXPECT_EQ(h.status(1), kStatusOk);
  EXPECT_EQ(h.read(Guest::data_addr(1), 512), image_bytes(512, 512));
}

TEST_P(VirtioBlkRequest, NoInterruptWhenTheDriverSuppressesThem) {
  h.device->reset();
  ASSERT_TRUE(h.activate(h.device->features() & ~feature(kFRingEventIdx)));
  ASSERT_TRUE(h.mem.write_obj(h.queue.layout().avail, kAvailFNoInterrupt));
  h.submit(0, kTypeIn, 0, 512);
  run(1);
  EXPECT_EQ(h.interrupt.used.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(Engines, VirtioBlkRequest, ::testing::Values(IoMode::kAuto, IoMode::kSync),
                         engine_label);

TEST(VirtioBlkDirect, RoundTripWithODirect) {
  TempImage image(kImageBytes);
  BlockOptions options = image.options();
  options.direct = true;
  if (!DiskImage::open(options)) GTEST_SKIP() << "no O_DIRECT on this file system";
  DeviceHarness h(options);
  ASSERT_TRUE(h.activate());
  const auto data = fill(8192, 6);
  h.write(Guest::data_addr(0), data);  // guest RAM is page-aligned, as O_DIRECT wants
  h.submit(0, kTypeOut, 8, 8192);
  h.kick();
  ASSERT_TRUE(h.wait_used(1));
  h.submit(1, kTypeIn, 8, 8192);
  h.kick();
  ASSERT_TRUE(h.wait_used(2));
  EXPECT_EQ(h.status(0), kStatusOk);
  EXPECT_EQ(h.status(1), kStatusOk);
  EXPECT_EQ(h.read(Guest::data_addr(1), 8192), data);
}

}  // namespace
}  // namespace kiln::virtio::blk::test
