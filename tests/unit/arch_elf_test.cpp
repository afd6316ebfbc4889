// ELF64 vmlinux parsing, the PVH note reader, and segment loading.
#include <gtest/gtest.h>

#include "arch/x86_64/bootparam.h"
#include "arch/x86_64/elf.h"
#include "arch/x86_64/pvh.h"
#include "arch_test_images.h"

namespace kiln::x86 {
namespace {

using test::ElfOptions;
using test::make_elf;
using test::make_memory;
using test::vmlinux_options;

std::string parse_error(const std::vector<uint8_t>& file) {
  auto r = parse_elf(file);
  return r ? "parsed" : r.error().message;
}

constexpr uint64_t kPvhEntry = 16 * MiB + 0x100;

TEST(ArchElf, ParsesSegmentsWithoutNote) {
  const auto file = make_elf(vmlinux_options());
  auto k = parse_elf(file);
  ASSERT_TRUE(k) << k.error().message;
  EXPECT_EQ(k->entry, 16 * MiB);
  EXPECT_EQ(k->pvh_entry, std::nullopt);
  ASSERT_EQ(k->segments.size(), 2u);
  EXPECT_EQ(k->segments[1].paddr.raw(), 18 * MiB);
  EXPECT_EQ(k->segments[1].filesz, 4 * KiB);
  EXPECT_EQ(k->segments[1].memsz, 68 * KiB);
}

TEST(ArchElf, PvhNoteWithFourByteEntry) {
  auto o = vmlinux_options();
  o.notes = test::pvh_note(kPvhEntry, 4);
  auto k = parse_elf(make_elf(o));
  ASSERT_TRUE(k) << k.error().message;
  EXPECT_EQ(k->pvh_entry, kPvhEntry);
}

TEST(ArchElf, PvhNoteWithEightByteEntryAfterOtherNotes) {
  auto o = vmlinux_options();
  o.notes = test::make_note("GNU", 3, std::vector<uint8_t>(20, 0xab));        // build id
  auto xen_other = test::make_note("Xen", 6, {'l', 'i', 'n', 'u', 'x', 0});  // XEN_ELFNOTE_GUEST_OS
  auto pvh = test::pvh_note(kPvhEntry, 8);
  o.notes.insert(o.notes.end(), xen_other.begin(), xen_other.end());
  o.notes.insert(o.notes.end(), pvh.begin(), pvh.end());
  auto k = parse_elf(make_elf(o));
  ASSERT_TRUE(k) << k.error().message;
  EXPECT_EQ(k->pvh_entry, kPvhEntry);
}

TEST(ArchElf, PvhNoteInSection) {
  auto o = vmlinux_options();
  o.notes = test::pvh_note(kPvhEntry, 4);
  o.notes_as_section = true;
  auto k = parse_elf(make_elf(o));
  ASSERT_TRUE(k) << k.error().message;
  EXPECT_EQ(k->pvh_entry, kPvhEntry);
}

TEST(ArchElf, RejectsBadPvhNotes) {
  auto o = vmlinux_options();
  o.notes = test::pvh_note(5 * GiB, 8);
  EXPECT_NE(parse_error(make_elf(o)).find("not a 32-bit address"), std::string::npos);
  o.notes = test::make_note("Xen", kXenElfNotePhys32Entry, {1, 2});
  EXPECT_NE(parse_error(make_elf(o)).find("2-byte value"), std::string::npos);
  // A note whose descsz runs past the segment.
  o.notes = test::pvh_note(kPvhEntry, 4);
  test::put<uint32_t>(o.notes, 4, 4096);
  EXPECT_NE(parse_error(make_elf(o)).find("malformed ELF note"), std::string::npos);
}

TEST(ArchElf, RejectsBadHeaders) {
  auto file = make_elf(vmlinux_options());
  file.resize(40);
  EXPECT_EQ(parse_error(file), "file truncated: ELF header needs 64 bytes, file has 40");

  auto o = vmlinux_options();
  o.elf_class = ELFCLASS32;
  EXPECT_EQ(parse_error(make_elf(o)), "not a 64-bit ELF (class 1)");
  o = vmlinux_options();
  o.machine = EM_386;
  EXPECT_EQ(parse_error(make_elf(o)), "ELF machine 3 is not x86_64");
  o = vmlinux_options();
  o.type = ET_DYN;
  EXPECT_EQ(parse_error(make_elf(o)), "ELF type 3 is not an executable (ET_EXEC)");
  o = vmlinux_options();
  o.loads.clear();
  o.notes = test::pvh_note(kPvhEntry, 4);
  EXPECT_EQ(parse_error(make_elf(o)), "ELF has no PT_LOAD segment");
}

TEST(ArchElf, RejectsProgramHeadersOutsideFile) {
  auto file = make_elf(vmlinux_options());
  test::put<uint64_t>(file, offsetof(Elf64_Ehdr, e_phoff), file.size() - 60);
  EXPECT_NE(parse_error(file).find("program headers"), std::string::npos);
  test::put<uint64_t>(file, offsetof(Elf64_Ehdr, e_phoff), UINT64_MAX - 8);  // offset + size wraps
  EXPECT_NE(parse_error(file).find("program headers"), std::string::npos);
}

TEST(ArchElf, RejectsSegmentDataOutsideFile) {
  auto file = make_elf(vmlinux_options());
  const size_t ph1 = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr);
  test::put<uint64_t>(file, ph1 + offsetof(Elf64_Phdr, p_filesz), file.size());
  EXPECT_NE(parse_error(file).find("ELF segment 1: file range"), std::string::npos);

  file = make_elf(vmlinux_options());
  test::put<uint64_t>(file, ph1 + offsetof(Elf64_Phdr, p_memsz), 16);
  EXPECT_EQ(parse_error(file), "ELF segment 1: filesz 0x1000 exceeds memsz 0x10");
}

TEST(ArchElf, SegmentsMustLieInRamAbove1MiB) {
  auto mem = make_memory();
  auto o = vmlinux_options();
  o.loads[1].paddr = 127 * MiB + 960 * KiB;  // bss runs past 128 MiB
  auto r = load_elf(mem, BootSpec{make_elf(o), {}, "", GuestAddress{}});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("ELF segment 1 at [0x7ff0000"), std::string::npos) << r.error().message;

  o = vmlinux_options();
  o.loads[1].paddr = 0x8000;  // over kiln's boot structures
  r = load_elf(mem, BootSpec{make_elf(o), {}, "", GuestAddress{}});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("ELF segment 1"), std::string::npos);
}

TEST(ArchElf, EntryMustBeInsideASegment) {
  auto mem = make_memory();
  auto o = vmlinux_options();
  o.entry = 40 * MiB;
  auto r = load_elf(mem, BootSpec{make_elf(o), {}, "", GuestAddress{}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "ELF entry point 0x2800000 is not inside any PT_LOAD segment");
}

TEST(ArchElf, LoadsSegmentsAndZeroesBss) {
  auto mem = make_memory();
  ASSERT_TRUE(mem.fill(GuestAddress(18 * MiB), 68 * KiB, 0xcc));  // stale bytes where the bss goes
  const auto file = make_elf(vmlinux_options());
  auto k = parse_elf(file);
  ASSERT_TRUE(k);
  auto top = load_elf_segments(mem, file, *k);
  ASSERT_TRUE(top) << top.error().message;
  EXPECT_EQ(top->raw(), 18 * MiB + 68 * KiB);
  EXPECT_EQ(test::read_bytes(mem, GuestAddress(16 * MiB), 12 * KiB), test::pattern(12 * KiB, 1));
  EXPECT_EQ(test::read_bytes(mem, GuestAddress(18 * MiB), 4 * KiB), test::pattern(4 * KiB, 2));
  EXPECT_EQ(test::read_bytes(mem, GuestAddress(18 * MiB + 4 * KiB), 64 * KiB), std::vector<uint8_t>(64 * KiB, 0));
}

TEST(ArchElf, PvhBootWritesStartInfo) {
  auto mem = make_memory();
  auto o = vmlinux_options();
  o.notes = test::pvh_note(kPvhEntry, 8);
  const auto initrd = test::pattern(5000, 4);
  auto entry = load_elf(mem, BootSpec{make_elf(o), initrd, "console=hvc0", GuestAddress{0xe0000}});
  ASSERT_TRUE(entry) << entry.error().message;
  EXPECT_EQ(entry->mode, EntryMode::kPvh32);
  EXPECT_EQ(entry->entry.raw(), kPvhEntry);
  EXPECT_EQ(entry->boot_info, kPvhStartInfoAddr);
  EXPECT_EQ(entry->kind, "PVH ELF");

  auto info = mem.read_obj<HvmStartInfo>(kPvhStartInfoAddr);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->magic, 0x336ec578u);
  EXPECT_EQ(info->version, 1u);
  EXPECT_EQ(info->flags, 0u);
  EXPECT_EQ(info->rsdp_paddr, 0xe0000u);
  EXPECT_EQ(info->reserved, 0u);
  EXPECT_EQ(test::read_cstring(mem, GuestAddress(info->cmdline_paddr)), "console=hvc0");

  ASSERT_EQ(info->nr_modules, 1u);
  auto mod = mem.read_obj<HvmModlistEntry>(GuestAddress(info->modlist_paddr));
  ASSERT_TRUE(mod);
  EXPECT_EQ(mod->paddr, (128 * MiB - 5000) & ~uint64_t{4095});
  EXPECT_EQ(mod->size, 5000u);
  EXPECT_EQ(mod->cmdline_paddr, 0u);
  EXPECT_EQ(test::read_bytes(mem, GuestAddress(mod->paddr), 5000), initrd);

  ASSERT_EQ(info->memmap_entries, 3u);
  std::vector<HvmMemmapEntry> map(3);
  for (size_t i = 0; i < 3; ++i) {
    auto e = mem.read_obj<HvmMemmapEntry>(GuestAddress(info->memmap_paddr + i * sizeof(HvmMemmapEntry)));
    ASSERT_TRUE(e);
    map[i] = *e;
  }
  EXPECT_EQ(map[0].addr, 0u);
  EXPECT_EQ(map[0].size, 0x9fc00u);
  EXPECT_EQ(map[0].type, 1u);
  EXPECT_EQ(map[1].type, 2u);
  EXPECT_EQ(map[2].addr, 1 * MiB);
  EXPECT_EQ(map[2].size, 127 * MiB);
  EXPECT_EQ(map[2].type, 1u);
}

TEST(ArchElf, PvhBootWithoutInitrdHasNoModules) {
  auto mem = make_memory();
  auto o = vmlinux_options();
  o.notes = test::pvh_note(kPvhEntry, 4);
  ASSERT_TRUE(load_elf(mem, BootSpec{make_elf(o), {}, "", GuestAddress{}}));
  auto info = mem.read_obj<HvmStartInfo>(kPvhStartInfoAddr);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->nr_modules, 0u);
  EXPECT_EQ(info->modlist_paddr, 0u);
}

TEST(ArchElf, Long64BootWritesZeroPage) {
  auto mem = make_memory();
  const auto initrd = test::pattern(4096, 5);
  auto entry = load_elf(mem, BootSpec{make_elf(vmlinux_options()), initrd, "root=/dev/vda", GuestAddress{0xe0000}});
  ASSERT_TRUE(entry) << entry.error().message;
  EXPECT_EQ(entry->mode, EntryMode::kLong64);
  EXPECT_EQ(entry->entry.raw(), 16 * MiB);
  EXPECT_EQ(entry->boot_info, kZeroPageAddr);
  EXPECT_EQ(entry->kind, "64-bit ELF");

  auto bp = mem.read_obj<BootParams>(kZeroPageAddr);
  ASSERT_TRUE(bp);
  const SetupHeader h = bp->hdr;
  EXPECT_EQ(h.boot_flag, 0xaa55);
  EXPECT_EQ(h.header, 0x53726448u);
  EXPECT_GE(h.version, 0x0206);
  EXPECT_EQ(h.type_of_loader, 0xff);
  EXPECT_EQ(h.cmd_line_ptr, kCmdlineAddr.raw());
  EXPECT_EQ(test::read_cstring(mem, kCmdlineAddr), "root=/dev/vda");
  EXPECT_EQ(h.ramdisk_image, 128 * MiB - 4096);
  EXPECT_EQ(h.ramdisk_size, 4096u);
  EXPECT_EQ(bp->e820_entries, 3);
  EXPECT_EQ(bp->acpi_rsdp_addr, 0xe0000u);
}

TEST(ArchElf, InitrdMustNotOverlapKernel) {
  auto mem = make_memory(32 * MiB);
  // Kernel ends at 18 MiB + 68 KiB; 14 MiB does not fit above it in 32 MiB.
  const std::vector<uint8_t> initrd(14 * MiB, 1);
  auto r = load_elf(mem, BootSpec{make_elf(vmlinux_options()), initrd, "", GuestAddress{}});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("initrd of 14 MiB does not fit"), std::string::npos);
}

}  // namespace
}  // namespace kiln::x86
