#include "arch/x86_64/elf.h"

#include <elf.h>

#include <algorithm>
#include <cstring>

#include "arch/x86_64/boot_data.h"
#include "arch/x86_64/bootparam.h"
#include "arch/x86_64/e820.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/pvh.h"
#include "arch/x86_64/zero_page.h"

namespace kiln::x86 {

namespace {

constexpr uint64_t kPage = 4 * KiB;

template <typename T>
T load(std::span<const uint8_t> file, uint64_t offset) {
  T v;
  std::memcpy(&v, file.data() + offset, sizeof(T));
  return v;
}

// [offset, offset + count * size) lies within a file of file_size bytes.
bool in_file(uint64_t file_size, uint64_t offset, uint64_t count, uint64_t size) {
  uint64_t len = 0;
  uint64_t end = 0;
  return !__builtin_mul_overflow(count, size, &len) && !__builtin_add_overflow(offset, len, &end) &&
         end <= file_size;
}

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

// Scans the notes in file[offset, offset + size) for the PVH entry (ELF gABI
// "Note Section": namesz, descsz, type, then name and desc each padded).
Result<std::optional<uint32_t>> find_pvh_note(std::span<const uint8_t> file, uint64_t offset, uint64_t size,
                                              uint64_t align) {
  const uint64_t pad = align == 8 ? 8 : 4;
  uint64_t pos = 0;
  while (size - pos >= sizeof(Elf64_Nhdr)) {
    const auto nh = load<Elf64_Nhdr>(file, offset + pos);
    const uint64_t name_at = pos + sizeof(Elf64_Nhdr);
    const uint64_t desc_at = name_at + align_up(nh.n_namesz, pad);
    const uint64_t next = desc_at + align_up(nh.n_descsz, pad);
    if (next > size) return fail("malformed ELF note at file offset {:#x}", offset + pos);
    const bool is_xen = nh.n_namesz == 4 && std::memcmp(file.data() + offset + name_at, "Xen", 4) == 0;
    if (is_xen && nh.n_type == kXenElfNotePhys32Entry) {
      uint64_t value = 0;
      if (nh.n_descsz == 4) {
        value = load<uint32_t>(file, offset + desc_at);
      } else if (nh.n_descsz == 8) {
        value = load<uint64_t>(file, offset + desc_at);
      } else {
        return fail("PVH entry note has a {}-byte value (expected 4 or 8)", nh.n_descsz);
      }
      if (value > UINT32_MAX) return fail("PVH entry {:#x} is not a 32-bit address", value);
      return static_cast<uint32_t>(value);
    }
    pos = next;
  }
  return std::optional<uint32_t>();
}

Result<std::optional<uint32_t>> find_pvh_in_sections(std::span<const uint8_t> file, const Elf64_Ehdr& eh) {
  if (eh.e_shoff == 0 || eh.e_shnum == 0) return std::optional<uint32_t>();
  if (eh.e_shentsize != sizeof(Elf64_Shdr) || !in_file(file.size(), eh.e_shoff, eh.e_shnum, sizeof(Elf64_Shdr))) {
    return fail("ELF section headers lie outside the {}-byte file", file.size());
  }
  for (uint64_t i = 0; i < eh.e_shnum; ++i) {
    const auto sh = load<Elf64_Shdr>(file, eh.e_shoff + i * sizeof(Elf64_Shdr));
    if (sh.sh_type != SHT_NOTE) continue;
    if (!in_file(file.size(), sh.sh_offset, 1, sh.sh_size)) {
      return fail("ELF note section {} lies outside the file", i);
    }
    auto found = find_pvh_note(file, sh.sh_offset, sh.sh_size, sh.sh_addralign);
    if (!found || *found) return found;
  }
  return std::optional<uint32_t>();
}

}  // namespace

bool has_elf_magic(std::span<const uint8_t> file) {
  return file.size() >= SELFMAG && std::memcmp(file.data(), ELFMAG, SELFMAG) == 0;
}

Result<ElfKernel> parse_elf(std::span<const uint8_t> file) {
  if (!has_elf_magic(file)) return fail("not an ELF file");
  if (file.size() < sizeof(Elf64_Ehdr)) {
    return fail("file truncated: ELF header needs {} bytes, file has {}", sizeof(Elf64_Ehdr), file.size());
  }
  const auto eh = load<Elf64_Ehdr>(file, 0);
  if (eh.e_ident[EI_CLASS] != ELFCLASS64) return fail("not a 64-bit ELF (class {})", eh.e_ident[EI_CLASS]);
  if (eh.e_ident[EI_DATA] != ELFDATA2LSB) return fail("not a little-endian ELF");
  if (eh.e_machine != EM_X86_64) return fail("ELF machine {} is not x86_64", eh.e_machine);
  if (eh.e_type != ET_EXEC) return fail("ELF type {} is not an executable (ET_EXEC)", eh.e_type);
  if (eh.e_phnum == 0) return fail("ELF has no program headers");
  if (eh.e_phentsize != sizeof(Elf64_Phdr)) return fail("ELF program header size {} != 56", eh.e_phentsize);
  if (!in_file(file.size(), eh.e_phoff, eh.e_phnum, sizeof(Elf64_Phdr))) {
    return fail("ELF program headers at {:#x} ({} of them) lie outside the {}-byte file", eh.e_phoff, eh.e_phnum,
                file.size());
  }

  ElfKernel kernel;
  kernel.entry = eh.e_entry;
  for (uint64_t i = 0; i < eh.e_phnum; ++i) {
    const auto ph = load<Elf64_Phdr>(file, eh.e_phoff + i * sizeof(Elf64_Phdr));
    if (ph.p_type != PT_LOAD && ph.p_type != PT_NOTE) continue;
    if (!in_file(file.size(), ph.p_offset, 1, ph.p_filesz)) {
      return fail("ELF segment {}: file range {:#x}+{:#x} lies outside the {}-byte file", i, ph.p_offset,
                  ph.p_filesz, file.size());
    }
    if (ph.p_type == PT_NOTE) {
      if (kernel.pvh_entry) continue;
      auto found = find_pvh_note(file, ph.p_offset, ph.p_filesz, ph.p_align);
      if (!found) return wrap(fmt::format("ELF segment {}", i), found.error());
      kernel.pvh_entry = *found;
      continue;
    }
    if (ph.p_filesz > ph.p_memsz) {
      return fail("ELF segment {}: filesz {:#x} exceeds memsz {:#x}", i, ph.p_filesz, ph.p_memsz);
    }
    kernel.segments.push_back(ElfSegment{ph.p_offset, ph.p_filesz, ph.p_memsz, GuestAddress(ph.p_paddr)});
  }
  if (kernel.segments.empty()) return fail("ELF has no PT_LOAD segment");
  if (!kernel.pvh_entry) {
    kernel.pvh_entry = KILN_TRY_VALUE(find_pvh_in_sections(file, eh));
  }
  return kernel;
}

Result<GuestAddress> load_elf_segments(const GuestMemory& mem, std::span<const uint8_t> file,
                                       const ElfKernel& kernel) {
  uint64_t top = 0;
  for (size_t i = 0; i < kernel.segments.size(); ++i) {
    const ElfSegment& s = kernel.segments[i];
    const auto end = s.paddr.checked_add(s.memsz);
    if (!end || s.paddr < kHighMemStart || !mem.contains(s.paddr, s.memsz)) {
      return fail("ELF segment {} at [{:#x}, +{:#x}) is outside guest RAM above 1 MiB", i, s.paddr.raw(), s.memsz);
    }
    auto st = mem.write(s.paddr, file.subspan(s.offset, s.filesz));
    if (st) st = mem.fill(s.paddr.unchecked_add(s.filesz), s.memsz - s.filesz, 0);
    if (!st) return wrap(fmt::format("loading ELF segment {}", i), st.error());
    top = std::max(top, end->raw());
  }
  return GuestAddress(top);
}

Result<BootEntry> load_elf(const GuestMemory& mem, const BootSpec& spec) {
  auto kernel = KILN_TRY_VALUE(parse_elf(spec.kernel));
  auto e820 = KILN_TRY_VALUE(e820_map(mem));

  const uint64_t entry = kernel.pvh_entry ? uint64_t{*kernel.pvh_entry} : kernel.entry;
  bool entry_loaded = false;
  for (const auto& s : kernel.segments) {
    entry_loaded |= entry >= s.paddr.raw() && entry - s.paddr.raw() < s.memsz;
  }
  if (!entry_loaded) return fail("ELF entry point {:#x} is not inside any PT_LOAD segment", entry);

  auto top = KILN_TRY_VALUE(load_elf_segments(mem, spec.kernel, kernel));
  KILN_TRY(write_cmdline(mem, spec.cmdline, kCmdlineMaxBytes - 1, "kiln's limit"));

  std::optional<MemoryRange> initrd;
  if (!spec.initrd.empty()) {
    initrd = KILN_TRY_VALUE(load_initrd(mem, spec.initrd, align_up(top.raw(), kPage), kDefaultInitrdAddrMax));
  }
  if (kernel.pvh_entry) {
    KILN_TRY(write_start_info(mem, initrd, e820, spec.rsdp));
    return BootEntry{EntryMode::kPvh32, GuestAddress(entry), kPvhStartInfoAddr, "PVH ELF"};
  }
  KILN_TRY(write_zero_page(mem, synthetic_setup_header(), initrd, e820, spec.rsdp));
  return BootEntry{EntryMode::kLong64, GuestAddress(entry), kZeroPageAddr, "64-bit ELF"};
}

}  // namespace kiln::x86
