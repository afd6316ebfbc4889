// load_kernel(): format dispatch, and the GDT and page tables it writes.
#include <gtest/gtest.h>

#include "arch/x86_64/boot.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/page_tables.h"
#include "arch_test_images.h"

namespace kiln::x86 {
namespace {

using test::make_memory;

// Walks the 4-level tables rooted at kPml4Addr like the MMU would.
std::optional<uint64_t> translate(const GuestMemory& mem, uint64_t va) {
  auto entry = [&](uint64_t table, uint64_t index) -> std::optional<uint64_t> {
    auto e = mem.read_obj<uint64_t>(GuestAddress(table + index * 8));
    if (!e || !(*e & kPtePresent)) return std::nullopt;
    return *e;
  };
  auto pml4e = entry(kPml4Addr.raw(), (va >> 39) & 511);
  if (!pml4e) return std::nullopt;
  auto pdpte = entry(*pml4e & kPteAddrMask, (va >> 30) & 511);
  if (!pdpte || (*pdpte & kPteHuge)) return std::nullopt;  // kiln uses no 1 GiB pages
  auto pde = entry(*pdpte & kPteAddrMask, (va >> 21) & 511);
  if (!pde || !(*pde & kPteHuge)) return std::nullopt;  // 2 MiB pages only
  return (*pde & kPteAddrMask & ~uint64_t{2 * MiB - 1}) | (va & (2 * MiB - 1));
}

TEST(ArchBoot, RejectsUnknownFormats) {
  auto mem = make_memory();
  const std::vector<uint8_t> junk(4096, 0x90);
  auto r = load_kernel(mem, BootSpec{junk, {}, "", GuestAddress{}});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("not a Linux kernel"), std::string::npos);
  EXPECT_EQ(r.error().kind, ErrorKind::kConfig);
}

TEST(ArchBoot, BzImageGetsGdtAndIdentityTables) {
  auto mem = make_memory();
  const auto file = test::make_bzimage();
  auto entry = load_kernel(mem, BootSpec{file, {}, "quiet", GuestAddress{}});
  ASSERT_TRUE(entry) << entry.error().message;
  EXPECT_EQ(entry->kind, "bzImage");
  EXPECT_EQ(entry->mode, EntryMode::kLong64);

  auto gdt = mem.read_obj<std::array<uint64_t, kGdtEntries>>(kGdtAddr);
  ASSERT_TRUE(gdt);
  EXPECT_EQ(*gdt, boot_gdt());

  for (uint64_t addr : {uint64_t{0}, kZeroPageAddr.raw(), kCmdlineAddr.raw() + 5, entry->entry.raw(),
                        100 * MiB + 12345, 3 * GiB + 7, 4 * GiB - 1}) {
    EXPECT_EQ(translate(mem, addr), addr) << std::hex << addr;
  }
  EXPECT_EQ(translate(mem, 4 * GiB), std::nullopt);
}

TEST(ArchBoot, DispatchesElfKinds) {
  auto mem = make_memory();
  auto o = test::vmlinux_options();
  auto entry = load_kernel(mem, BootSpec{test::make_elf(o), {}, "", GuestAddress{}});
  ASSERT_TRUE(entry) << entry.error().message;
  EXPECT_EQ(entry->kind, "64-bit ELF");
  EXPECT_EQ(translate(mem, entry->entry.raw()), entry->entry.raw());

  auto pvh_mem = make_memory();
  o.notes = test::pvh_note(16 * MiB + 64, 4);
  entry = load_kernel(pvh_mem, BootSpec{test::make_elf(o), {}, "", GuestAddress{}});
  ASSERT_TRUE(entry) << entry.error().message;
  EXPECT_EQ(entry->kind, "PVH ELF");
  EXPECT_EQ(entry->mode, EntryMode::kPvh32);
  auto gdt = pvh_mem.read_obj<std::array<uint64_t, kGdtEntries>>(kGdtAddr);
  ASSERT_TRUE(gdt);
  EXPECT_EQ(*gdt, boot_gdt());
  EXPECT_EQ(translate(pvh_mem, 0), std::nullopt);  // paging stays off: no tables written
}

TEST(ArchBoot, ErrorsPropagateFromTheLoaders) {
  auto mem = make_memory();
  test::BzImageOptions o;
  o.version = 0x0204;
  auto r = load_kernel(mem, BootSpec{test::make_bzimage(o), {}, "", GuestAddress{}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "boot protocol 2.04 too old (need >= 2.06)");
  EXPECT_EQ(r.error().kind, ErrorKind::kConfig);
}

TEST(ArchBoot, AKernelOutsideRamIsAConfigurationErrorNotTheGuests) {
  auto mem = make_memory();
  auto o = test::vmlinux_options();
  o.entry = 64 * GiB;  // far past the test's RAM
  o.loads[0].paddr = 64 * GiB;
  auto r = load_kernel(mem, BootSpec{test::make_elf(o), {}, "", GuestAddress{}});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("outside guest RAM"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().kind, ErrorKind::kConfig) << r.error().message;
}

}  // namespace
}  // namespace kiln::x86
