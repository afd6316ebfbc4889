// Builders for the kernel images the arch tests load: a bzImage with a real
// setup header and small ELF64 files with optional PVH notes.
#pragma once

#include <elf.h>
#include <gtest/gtest.h>

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "arch/x86_64/bootparam.h"
#include "arch/x86_64/elf.h"
#include "arch/x86_64/layout.h"
#include "memory/guest_memory.h"

namespace kiln::x86::test {

inline GuestMemory make_memory(uint64_t bytes = 128 * MiB) {
  auto mem = GuestMemory::create(ram_ranges(bytes));
  EXPECT_TRUE(mem.has_value());
  return std::move(*mem);
}

template <typename T>
void put(std::vector<uint8_t>& buf, size_t offset, T value) {
  if (buf.size() < offset + sizeof(T)) buf.resize(offset + sizeof(T));
  std::memcpy(buf.data() + offset, &value, sizeof(T));
}

inline std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 7 + (i >> 8));
  return v;
}

struct BzImageOptions {
  uint16_t boot_flag = kBootFlagMagic;
  uint32_t magic = kHdrSMagic;
  uint16_t version = 0x020f;
  uint8_t setup_sects = 4;
  uint8_t loadflags = kLoadedHigh;
  uint16_t xloadflags = kXlfKernel64 | kXlfCanBeLoadedAbove4G;
  uint8_t relocatable = 1;
  uint32_t cmdline_size = 2047;
  uint32_t initrd_addr_max = 0x7fffffff;
  uint64_t pref_address = 16 * MiB;
  uint32_t init_size = 8 * MiB;
  uint64_t pm_bytes = 64 * KiB;
};

// A bzImage whose protected-mode part is pattern(pm_bytes, 0x42).
inline std::vector<uint8_t> make_bzimage(const BzImageOptions& o = {}) {
  const size_t sects = o.setup_sects == 0 ? 4 : o.setup_sects;
  std::vector<uint8_t> f((sects + 1) * 512, 0);
  SetupHeader h{};
  h.setup_sects = o.setup_sects;
  h.syssize = static_cast<uint32_t>((o.pm_bytes + 15) / 16);
  h.boot_flag = o.boot_flag;
  h.jump = static_cast<uint16_t>(0xeb | ((0x26c - 0x202) << 8));  // jmp short past the header
  h.header = o.magic;
  h.version = o.version;
  h.kernel_version = 0x1234;
  h.loadflags = o.loadflags;
  h.code32_start = 0x100000;
  h.initrd_addr_max = o.initrd_addr_max;
  h.kernel_alignment = 2 * MiB;
  h.relocatable_kernel = o.relocatable;
  h.xloadflags = o.xloadflags;
  h.cmdline_size = o.cmdline_size;
  h.pref_address = o.pref_address;
  h.init_size = o.init_size;
  std::memcpy(f.data() + kSetupHeaderOffset, &h, sizeof(h));
  const auto pm = pattern(o.pm_bytes, 0x42);
  f.insert(f.end(), pm.begin(), pm.end());
  return f;
}

// One ELF note: header, name and desc, each padded to 4 bytes.
inline std::vector<uint8_t> make_note(const std::string& name, uint32_t type, const std::vector<uint8_t>& desc) {
  std::vector<uint8_t> n;
  put<uint32_t>(n, 0, static_cast<uint32_t>(name.size() + 1));
  put<uint32_t>(n, 4, static_cast<uint32_t>(desc.size()));
  put<uint32_t>(n, 8, type);
  n.insert(n.end(), name.begin(), name.end());
  n.resize((n.size() + 1 + 3) & ~size_t{3}, 0);
  n.insert(n.end(), desc.begin(), desc.end());
  n.resize((n.size() + 3) & ~size_t{3}, 0);
  return n;
}

template <typename T>
std::vector<uint8_t> bytes_of(T value) {
  std::vector<uint8_t> v(sizeof(T));
  std::memcpy(v.data(), &value, sizeof(T));
  return v;
}

inline std::vector<uint8_t> pvh_note(uint64_t entry, size_t width) {
  return width == 4 ? make_note("Xen", kXenElfNotePhys32Entry, bytes_of(static_cast<uint32_t>(entry)))
                    : make_note("Xen", kXenElfNotePhys32Entry, bytes_of(entry));
}

struct ElfLoad {
  uint64_t paddr = 0;
  std::vector<uint8_t> data;
  uint64_t memsz = 0;  // >= data.size(); the rest is bss
};

struct ElfOptions {
  uint64_t entry = 0;
  std::vector<ElfLoad> loads;
  std::vector<uint8_t> notes;   // raw note bytes, empty = none
  bool notes_as_section = false;  // SHT_NOTE section instead of a PT_NOTE segment
  uint16_t machine = EM_X86_64;
  uint16_t type = ET_EXEC;
  uint8_t elf_class = ELFCLASS64;
};

// Layout: Ehdr, Phdrs, segment data (16-byte aligned), notes, then section
// headers (null + the note section) when notes_as_section.
inline std::vector<uint8_t> make_elf(const ElfOptions& o) {
  const bool note_phdr = !o.notes.empty() && !o.notes_as_section;
  const size_t phnum = o.loads.size() + (note_phdr ? 1 : 0);
  std::vector<uint8_t> f(sizeof(Elf64_Ehdr) + phnum * sizeof(Elf64_Phdr), 0);
  std::vector<Elf64_Phdr> phdrs;
  for (const auto& l : o.loads) {
    f.resize((f.size() + 15) & ~size_t{15}, 0);
    Elf64_Phdr ph{};
    ph.p_type = PT_LOAD;
    ph.p_offset = f.size();
    ph.p_paddr = l.paddr;
    ph.p_vaddr = l.paddr + 0xffffffff80000000ull;
    ph.p_filesz = l.data.size();
    ph.p_memsz = l.memsz;
    ph.p_align = 16;
    phdrs.push_back(ph);
    f.insert(f.end(), l.data.begin(), l.data.end());
  }
  f.resize((f.size() + 7) & ~size_t{7}, 0);
  const uint64_t notes_at = f.size();
  f.insert(f.end(), o.notes.begin(), o.notes.end());
  if (note_phdr) {
    Elf64_Phdr ph{};
    ph.p_type = PT_NOTE;
    ph.p_offset = notes_at;
    ph.p_filesz = o.notes.size();
    ph.p_memsz = o.notes.size();
    ph.p_align = 4;
    phdrs.push_back(ph);
  }
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = o.elf_class;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = o.type;
  eh.e_machine = o.machine;
  eh.e_version = EV_CURRENT;
  eh.e_entry = o.entry;
  eh.e_phoff = sizeof(Elf64_Ehdr);
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = static_cast<uint16_t>(phnum);
  if (o.notes_as_section) {
    f.resize((f.size() + 7) & ~size_t{7}, 0);
    eh.e_shoff = f.size();
    eh.e_shentsize = sizeof(Elf64_Shdr);
    eh.e_shnum = 2;
    Elf64_Shdr sh[2]{};
    sh[1].sh_type = SHT_NOTE;
    sh[1].sh_offset = notes_at;
    sh[1].sh_size = o.notes.size();
    sh[1].sh_addralign = 4;
    const auto* p = reinterpret_cast<const uint8_t*>(sh);
    f.insert(f.end(), p, p + sizeof(sh));
  }
  std::memcpy(f.data(), &eh, sizeof(eh));
  std::memcpy(f.data() + sizeof(eh), phdrs.data(), phdrs.size() * sizeof(Elf64_Phdr));
  return f;
}

// A vmlinux-like kernel: text at 16 MiB (entry at its start), a data segment
// with 64 KiB of bss after it.
inline ElfOptions vmlinux_options() {
  ElfOptions o;
  o.entry = 16 * MiB;
  o.loads.push_back(ElfLoad{16 * MiB, pattern(12 * KiB, 1), 12 * KiB});
  o.loads.push_back(ElfLoad{18 * MiB, pattern(4 * KiB, 2), 68 * KiB});
  return o;
}

inline std::string read_cstring(const GuestMemory& mem, GuestAddress addr) {
  std::string s;
  for (uint64_t i = 0;; ++i) {
    auto c = mem.read_obj<char>(addr.unchecked_add(i));
    if (!c || *c == '\0') return s;
    s.push_back(*c);
  }
}

inline std::vector<uint8_t> read_bytes(const GuestMemory& mem, GuestAddress addr, size_t n) {
  std::vector<uint8_t> v(n);
  EXPECT_TRUE(mem.read(addr, v));
  return v;
}

}  // namespace kiln::x86::test
