// bzImage setup-header parsing and loading (boot.rst).
#include <gtest/gtest.h>

#include "arch/x86_64/boot_data.h"
#include "arch/x86_64/bzimage.h"
#include "arch_test_images.h"

namespace kiln::x86 {
namespace {

using test::BzImageOptions;
using test::make_bzimage;
using test::make_memory;

std::string parse_error(const std::vector<uint8_t>& file) {
  auto r = parse_bzimage(file);
  return r ? "parsed" : r.error().message;
}

TEST(ArchBzImage, ParsesAGoodHeader) {
  const auto file = make_bzimage();
  auto img = parse_bzimage(file);
  ASSERT_TRUE(img) << img.error().message;
  EXPECT_EQ(img->setup_bytes, 5 * 512u);
  EXPECT_EQ(img->protected_mode.size(), 64 * KiB);
  EXPECT_EQ(img->protected_mode.data(), file.data() + 5 * 512);
  EXPECT_EQ(img->init_size, 8 * MiB);
  EXPECT_EQ(img->header.kernel_version, 0x1234);
}

TEST(ArchBzImage, ZeroSetupSectsMeansFour) {
  BzImageOptions o;
  o.setup_sects = 0;
  auto img = parse_bzimage(make_bzimage(o));
  ASSERT_TRUE(img) << img.error().message;
  EXPECT_EQ(img->setup_bytes, 5 * 512u);
}

TEST(ArchBzImage, RejectsBadMagic) {
  BzImageOptions o;
  o.magic = 0x12345678;
  EXPECT_EQ(parse_error(make_bzimage(o)), "not a Linux kernel: no HdrS magic at 0x202");
  o = {};
  o.boot_flag = 0x1234;
  EXPECT_EQ(parse_error(make_bzimage(o)), "not a Linux kernel: boot_flag is 0x1234 (expected 0xaa55)");
  EXPECT_EQ(parse_error({1, 2, 3}), "not a Linux kernel: no HdrS magic at 0x202");
}

TEST(ArchBzImage, RejectsTruncatedFiles) {
  auto file = make_bzimage();
  file.resize(0x300);
  EXPECT_EQ(parse_error(file), "file truncated: setup needs 2560 bytes, file has 768");
  file.resize(0x240);  // inside the setup header
  EXPECT_EQ(parse_error(file), "file truncated: setup header ends at 0x26c, file has 576 bytes");
  // Complete setup, but the protected-mode code is cut short of syssize.
  file = make_bzimage();
  file.resize(file.size() - 100);
  EXPECT_NE(parse_error(file).find("file truncated: protected-mode code needs 65536 bytes"), std::string::npos);
}

TEST(ArchBzImage, RejectsOldProtocols) {
  BzImageOptions o;
  o.version = 0x0204;
  EXPECT_EQ(parse_error(make_bzimage(o)), "boot protocol 2.04 too old (need >= 2.06)");
  o.version = 0x0206;  // new enough, but predates XLF_KERNEL_64
  o.xloadflags = 0;
  EXPECT_NE(parse_error(make_bzimage(o)).find("not 64-bit capable"), std::string::npos);
}

TEST(ArchBzImage, RejectsKernelsWithout64BitEntryOrLoadedHigh) {
  BzImageOptions o;
  o.xloadflags = kXlfCanBeLoadedAbove4G;
  EXPECT_EQ(parse_error(make_bzimage(o)),
            "kernel is not 64-bit capable: xloadflags lacks XLF_KERNEL_64 (protocol 2.15)");
  o = {};
  o.loadflags = 0;
  EXPECT_NE(parse_error(make_bzimage(o)).find("LOADED_HIGH"), std::string::npos);
}

TEST(ArchBzImage, LoadAddressPrefersPrefAddressWhenItFits) {
  auto img = parse_bzimage(make_bzimage());
  ASSERT_TRUE(img);
  auto at = bzimage_load_address(*img, GuestAddress(128 * MiB));
  ASSERT_TRUE(at);
  EXPECT_EQ(at->raw(), 16 * MiB);
  // 16 MiB + 8 MiB init_size does not fit in 20 MiB: relocatable, so 1 MiB.
  at = bzimage_load_address(*img, GuestAddress(20 * MiB));
  ASSERT_TRUE(at);
  EXPECT_EQ(at->raw(), 1 * MiB);
  // Not even at 1 MiB.
  at = bzimage_load_address(*img, GuestAddress(8 * MiB));
  ASSERT_FALSE(at);
  EXPECT_NE(at.error().message.find("kernel needs 8 MiB"), std::string::npos);
}

TEST(ArchBzImage, NonRelocatableKernelNeedsPrefAddress) {
  BzImageOptions o;
  o.relocatable = 0;
  auto img = parse_bzimage(make_bzimage(o));
  ASSERT_TRUE(img);
  auto at = bzimage_load_address(*img, GuestAddress(20 * MiB));
  ASSERT_FALSE(at);
  EXPECT_NE(at.error().message.find("non-relocatable"), std::string::npos);
}

TEST(ArchBzImage, LoadsKernelAndZeroPage) {
  auto mem = make_memory();
  const auto file = make_bzimage();
  auto entry = load_bzimage(mem, BootSpec{file, {}, "console=ttyS0 reboot=k", GuestAddress{}});
  ASSERT_TRUE(entry) << entry.error().message;
  EXPECT_EQ(entry->mode, EntryMode::kLong64);
  EXPECT_EQ(entry->entry.raw(), 16 * MiB + 0x200);
  EXPECT_EQ(entry->boot_info, kZeroPageAddr);
  EXPECT_EQ(entry->kind, "bzImage");
  EXPECT_EQ(test::read_bytes(mem, GuestAddress(16 * MiB), 64 * KiB), test::pattern(64 * KiB, 0x42));

  auto bp = mem.read_obj<BootParams>(kZeroPageAddr);
  ASSERT_TRUE(bp);
  const SetupHeader h = bp->hdr;
  EXPECT_EQ(h.boot_flag, kBootFlagMagic);
  EXPECT_EQ(h.header, kHdrSMagic);
  EXPECT_EQ(h.version, 0x020f);
  EXPECT_EQ(h.kernel_version, 0x1234);  // copied from the file's header
  EXPECT_EQ(h.init_size, 8 * MiB);
  EXPECT_EQ(h.type_of_loader, 0xff);
  EXPECT_EQ(h.loadflags, kLoadedHigh | kCanUseHeap);
  EXPECT_EQ(h.heap_end_ptr, 0xfe00);
  EXPECT_EQ(h.code32_start, 16 * MiB);
  EXPECT_EQ(h.cmd_line_ptr, kCmdlineAddr.raw());
  EXPECT_EQ(h.ramdisk_image, 0u);
  EXPECT_EQ(h.ramdisk_size, 0u);
  EXPECT_EQ(bp->sentinel, 0);
  EXPECT_EQ(test::read_cstring(mem, kCmdlineAddr), "console=ttyS0 reboot=k");

  ASSERT_EQ(bp->e820_entries, 3);
  const BootE820Entry last = bp->e820_table[2];
  EXPECT_EQ(last.addr, 1 * MiB);
  EXPECT_EQ(last.size, 127 * MiB);
  EXPECT_EQ(last.type, 1u);
  const BootE820Entry reserved = bp->e820_table[1];
  EXPECT_EQ(reserved.addr, 0x9fc00u);
  EXPECT_EQ(reserved.type, 2u);
}

TEST(ArchBzImage, CommandLineMustFitCmdlineSize) {
  auto mem = make_memory();
  BzImageOptions o;
  o.cmdline_size = 16;
  const auto file = make_bzimage(o);
  EXPECT_TRUE(load_bzimage(mem, BootSpec{file, {}, std::string(16, 'a'), GuestAddress{}}));
  auto r = load_bzimage(mem, BootSpec{file, {}, std::string(17, 'a'), GuestAddress{}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "command line of 17 bytes exceeds the kernel's cmdline_size 16");
  r = load_bzimage(mem, BootSpec{file, {}, std::string("a\0b", 3), GuestAddress{}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "command line contains a NUL byte");
}

TEST(ArchBzImage, InitrdGoesHighestPageAlignedBelowRamEnd) {
  auto mem = make_memory();
  const auto file = make_bzimage();
  const auto initrd = test::pattern(10000, 9);
  auto entry = load_bzimage(mem, BootSpec{file, initrd, "", GuestAddress{}});
  ASSERT_TRUE(entry) << entry.error().message;
  auto bp = mem.read_obj<BootParams>(kZeroPageAddr);
  ASSERT_TRUE(bp);
  const uint64_t want = (128 * MiB - 10000) & ~uint64_t{4095};
  EXPECT_EQ(bp->hdr.ramdisk_image, want);
  EXPECT_EQ(bp->hdr.ramdisk_size, 10000u);
  EXPECT_EQ(bp->ext_ramdisk_image, 0u);
  EXPECT_EQ(test::read_bytes(mem, GuestAddress(want), 10000), initrd);
}

TEST(ArchBzImage, InitrdRespectsInitrdAddrMax) {
  auto mem = make_memory();
  BzImageOptions o;
  o.initrd_addr_max = 64 * MiB - 1;
  const auto file = make_bzimage(o);
  const auto initrd = test::pattern(3 * MiB + 5, 3);
  ASSERT_TRUE(load_bzimage(mem, BootSpec{file, initrd, "", GuestAddress{}}));
  auto bp = mem.read_obj<BootParams>(kZeroPageAddr);
  ASSERT_TRUE(bp);
  const uint64_t start = bp->hdr.ramdisk_image;
  EXPECT_EQ(start % 4096, 0u);
  EXPECT_LE(start + initrd.size(), 64 * MiB);
  EXPECT_GT(start + initrd.size(), 64 * MiB - 4096);
}

TEST(ArchBzImage, InitrdTooBig) {
  auto mem = make_memory();
  const auto file = make_bzimage();
  // 128 MiB RAM with the kernel at [16, 24) MiB: 104 MiB free above it.
  const std::vector<uint8_t> initrd(120 * MiB, 1);
  auto r = load_bzimage(mem, BootSpec{file, initrd, "", GuestAddress{}});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("initrd of 120 MiB does not fit below initrd_addr_max 0x7fffffff"),
            std::string::npos)
      << r.error().message;

  BzImageOptions o;
  o.initrd_addr_max = 32 * MiB - 1;  // 8 MiB between the kernel's end and the limit
  const std::vector<uint8_t> ten(10 * MiB, 1);
  r = load_bzimage(mem, BootSpec{make_bzimage(o), ten, "", GuestAddress{}});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("initrd of 10 MiB does not fit below initrd_addr_max 0x1ffffff"),
            std::string::npos)
      << r.error().message;
}

TEST(ArchBootData, PlaceInitrd) {
  EXPECT_EQ(place_initrd(4096, 0, 8192), 4096u);
  EXPECT_EQ(place_initrd(1, 0, 8192), 4096u);
  EXPECT_EQ(place_initrd(4097, 0, 8192), 0u);
  EXPECT_EQ(place_initrd(4097, 1, 8192), std::nullopt);
  EXPECT_EQ(place_initrd(8193, 0, 8192), std::nullopt);
  EXPECT_EQ(place_initrd(0, 0, 8192), 8192u);
}

}  // namespace
}  // namespace kiln::x86
