// virtio-blk images and what the device offers: opening (errors that name the file and the fix),
// feature bits and the configuration space (Appendix D).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "virtio_blk_test_util.h"

namespace kiln::virtio::blk::test {
namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(VirtioBlkImage, OpensAndReportsCapacity) {
  TempImage image(64 * KiB);
  auto disk = DiskImage::open(image.options());
  ASSERT_TRUE(disk.has_value()) << disk.error().message;
  EXPECT_EQ(disk->capacity_sectors(), 128u);
  EXPECT_EQ(disk->size_bytes(), 64 * KiB);
  EXPECT_FALSE(disk->readonly());
}

TEST(VirtioBlkImage, SizeNotAMultipleOf512IsRefusedWithTheFix) {
  TempImage image(64 * KiB + 100);
  auto disk = DiskImage::open(image.options());
  ASSERT_FALSE(disk.has_value());
  EXPECT_TRUE(contains(disk.error().message, image.path())) << disk.error().message;
  EXPECT_TRUE(contains(disk.error().message, "multiple of 512")) << disk.error().message;
  EXPECT_TRUE(contains(disk.error().message, "truncate -s %512")) << disk.error().message;
  EXPECT_EQ(disk.error().kind, ErrorKind::kConfig);
}

TEST(VirtioBlkImage, MissingFileNamesThePath) {
  const std::string path = "/nonexistent-kiln-dir/disk.img";
  auto disk = DiskImage::open(BlockOptions{path, false, "", false});
  ASSERT_FALSE(disk.has_value());
  EXPECT_TRUE(contains(disk.error().message, path)) << disk.error().message;
  EXPECT_EQ(disk.error().sys_errno, ENOENT);
  EXPECT_EQ(disk.error().kind, ErrorKind::kIo);
}

TEST(VirtioBlkImage, PermissionErrorNamesThePathAndSuggestsReadonly) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores file permissions";
  TempImage image(4 * KiB);
  ASSERT_EQ(::chmod(image.path().c_str(), 0444), 0);
  auto disk = DiskImage::open(image.options());
  ASSERT_FALSE(disk.has_value());
  EXPECT_TRUE(contains(disk.error().message, image.path())) << disk.error().message;
  EXPECT_TRUE(contains(disk.error().message, "readonly")) << disk.error().message;
  EXPECT_TRUE(DiskImage::open(image.options(true)).has_value());
}

TEST(VirtioBlkImage, DirectoryIsRefused) {
  auto disk = DiskImage::open(BlockOptions{"/tmp", true, "", false});
  ASSERT_FALSE(disk.has_value());
  EXPECT_TRUE(contains(disk.error().message, "/tmp")) << disk.error().message;
}

// A read-only open(2) of a FIFO waits for a writer: kiln opens without waiting and refuses it.
TEST(VirtioBlkImage, FifoIsRefusedWithoutWaiting) {
  char dir[] = "/tmp/kiln-blk-fifo.XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/fifo";
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  for (const bool readonly : {true, false}) {
    auto disk = DiskImage::open(BlockOptions{path, readonly, "", false});
    ASSERT_FALSE(disk.has_value());
    EXPECT_TRUE(contains(disk.error().message, path + ": not a regular file or block device")) << disk.error().message;
  }
  ::unlink(path.c_str());
  ::rmdir(dir);
}

TEST(VirtioBlkImage, ReadonlyOpensTheFileReadOnly) {
  TempImage image(4 * KiB);
  auto disk = DiskImage::open(image.options(true));
  ASSERT_TRUE(disk.has_value());
  EXPECT_TRUE(disk->readonly());
  const uint8_t byte = 0;
  EXPECT_LT(::pwrite(disk->fd(), &byte, 1, 0), 0);
  EXPECT_EQ(errno, EBADF);
}

TEST(VirtioBlkImage, SecondWriterIsRefused) {
  TempImage image(4 * KiB);
  auto first = DiskImage::open(image.options());
  ASSERT_TRUE(first.has_value());
  auto second = DiskImage::open(image.options());
  ASSERT_FALSE(second.has_value());
  EXPECT_TRUE(contains(second.error().message, "in use")) << second.error().message;
  EXPECT_FALSE(DiskImage::open(image.options(true)).has_value());
}

TEST(VirtioBlkImage, ReadersShareAnImage) {
  TempImage image(4 * KiB);
  auto first = DiskImage::open(image.options(true));
  auto second = DiskImage::open(image.options(true));
  EXPECT_TRUE(first.has_value());
  EXPECT_TRUE(second.has_value());
}

TEST(VirtioBlkImage, SerialLongerThan20BytesIsRefused) {
  TempImage image(4 * KiB);
  EXPECT_TRUE(DiskImage::open(image.options(false, std::string(20, 's'))).has_value());
  EXPECT_FALSE(DiskImage::open(image.options(false, std::string(21, 's'))).has_value());
}

TEST(VirtioBlkImage, DirectIoOpensWhereTheFileSystemSupportsIt) {
  TempImage image(64 * KiB);
  BlockOptions options = image.options();
  options.direct = true;
  auto disk = DiskImage::open(options);
  if (!disk && disk.error().sys_errno == EINVAL) {
    EXPECT_TRUE(contains(disk.error().message, "direct")) << disk.error().message;
    GTEST_SKIP() << "no O_DIRECT here: " << disk.error().message;
  }
  ASSERT_TRUE(disk.has_value()) << disk.error().message;
  EXPECT_TRUE(disk->direct());
}

TEST(VirtioBlkDevice, FeaturesOffered) {
  TempImage image(64 * KiB);
  auto rw = BlockDevice::create(image.options());
  ASSERT_TRUE(rw.has_value());
  const uint64_t f = (*rw)->features();
  EXPECT_EQ((*rw)->device_id(), kIdBlock);
  EXPECT_EQ((*rw)->num_queues(), 1);
  EXPECT_EQ((*rw)->queue_max_size(0), 256);
  for (unsigned bit : {kFSegMax, kFBlkSize, kFFlush, kFRingIndirectDesc, kFRingEventIdx}) {
    EXPECT_NE(f & feature(bit), 0u) << "bit " << bit;
  }
  for (unsigned bit : {kFRo, kFBarrier, kFSizeMax, kFGeometry, kFScsi}) EXPECT_EQ(f & feature(bit), 0u) << "bit " << bit;
  std::shared_ptr<BlockDevice>& first = *rw;
  first.reset();  // closes the image, dropping its write lock, before the read-only open
  auto ro = BlockDevice::create(image.options(true));
  ASSERT_TRUE(ro.has_value());
  EXPECT_NE((*ro)->features() & feature(kFRo), 0u);
}

TEST(VirtioBlkDevice, ConfigurationSpace) {
  TempImage image(1 * MiB);
  auto device = BlockDevice::create(image.options());
  ASSERT_TRUE(device.has_value());
  Config config{};
  (*device)->read_config(0, std::span(reinterpret_cast<uint8_t*>(&config), sizeof(config)));
  EXPECT_EQ(config.capacity, 2048u);
  EXPECT_EQ(config.seg_max, BlockDevice::kSegMax);
  EXPECT_EQ(config.blk_size, 512u);
  EXPECT_EQ(config.size_max, 0u);  // not offered
  // Byte-wise and partial reads see the same little-endian layout; beyond the structure is zero.
  uint8_t byte = 0xff;
  (*device)->read_config(1, std::span(&byte, 1));
  EXPECT_EQ(byte, 0x08);  // 2048 = 0x0800
  std::array<uint8_t, 4> tail{1, 1, 1, 1};
  (*device)->read_config(sizeof(Config), tail);
  EXPECT_EQ(tail, (std::array<uint8_t, 4>{0, 0, 0, 0}));
  // Writes are ignored.
  const uint64_t zero = 0;
  (*device)->write_config(0, std::span(reinterpret_cast<const uint8_t*>(&zero), 8));
  (*device)->read_config(0, std::span(reinterpret_cast<uint8_t*>(&config), sizeof(config)));
  EXPECT_EQ(config.capacity, 2048u);
}

TEST(VirtioBlkDevice, ActivationNeedsTheQueue) {
  TempImage image(64 * KiB);
  auto device = BlockDevice::create(image.options());
  ASSERT_TRUE(device.has_value());
  GuestMemory mem = make_ram();
  RecordingInterrupt interrupt;
  Activation a;
  a.mem = &mem;
  a.interrupt = &interrupt;
  a.queues.resize(1);
  EXPECT_FALSE((*device)->activate(std::move(a)).has_value());
  EXPECT_EQ((*device)->engine_name(), "inactive");
}

}  // namespace
}  // namespace kiln::virtio::blk::test
