// ELF symbols through libelf (elfutils): the section headers say which sections hold code, the
// SHT_SYMTAB section the symbols (System V ABI, ch. 4 "Symbol Table").
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>

#include <memory>
#include <vector>

#include "common/file.h"
#include "common/symbol_file.h"
#include "common/unique_fd.h"

namespace kiln {
namespace {

struct ElfCloser {
  void operator()(Elf* e) const { elf_end(e); }
};
using ElfHandle = std::unique_ptr<Elf, ElfCloser>;

struct CodeSection {
  uint64_t start = 0;
  uint64_t end = 0;
};

// Allocated executable sections by index (end 0: not code).
std::vector<CodeSection> code_sections(Elf* elf) {
  std::vector<CodeSection> out;
  size_t count = 0;
  if (elf_getshdrnum(elf, &count) != 0) return out;
  out.resize(count);
  for (Elf_Scn* scn = elf_nextscn(elf, nullptr); scn != nullptr; scn = elf_nextscn(elf, scn)) {
    GElf_Shdr shdr;
    if (gelf_getshdr(scn, &shdr) == nullptr) continue;
    const size_t index = elf_ndxscn(scn);
    if (index < count && (shdr.sh_flags & SHF_ALLOC) != 0 && (shdr.sh_flags & SHF_EXECINSTR) != 0) {
      out[index] = CodeSection{shdr.sh_addr, shdr.sh_addr + shdr.sh_size};
    }
  }
  return out;
}

Elf_Scn* find_symtab(Elf* elf, GElf_Shdr& shdr) {
  for (Elf_Scn* scn = elf_nextscn(elf, nullptr); scn != nullptr; scn = elf_nextscn(elf, scn)) {
    if (gelf_getshdr(scn, &shdr) != nullptr && shdr.sh_type == SHT_SYMTAB) return scn;
  }
  return nullptr;
}

// A function or a code label worth naming a sample after; ranks FUNC before labels.
bool code_symbol(Elf* elf, const GElf_Shdr& symtab, const GElf_Sym& sym, const std::vector<CodeSection>& code,
                 RawSymbol& out) {
  const int type = GELF_ST_TYPE(sym.st_info);
  if (type != STT_FUNC && type != STT_NOTYPE) return false;
  if (sym.st_shndx == SHN_UNDEF || sym.st_shndx >= code.size() || code[sym.st_shndx].end == 0) return false;
  const char* name = elf_strptr(elf, symtab.sh_link, sym.st_name);
  if (name == nullptr || name[0] == '\0' || (name[0] == '.' && name[1] == 'L')) return false;
  out.start = sym.st_value;
  out.size = sym.st_size;
  out.limit = code[sym.st_shndx].end;
  out.name = name;
  out.rank = (type == STT_FUNC ? 0 : 2) + (GELF_ST_BIND(sym.st_info) == STB_GLOBAL ? 0 : 1);
  return true;
}

// Executable PT_LOAD segments whose physical and virtual addresses differ (a vmlinux: its
// 32-bit PVH entry code runs at the physical address before paging is on).
void add_physical_aliases(Elf* elf, SymbolTable& table) {
  size_t count = 0;
  if (elf_getphdrnum(elf, &count) != 0) return;
  for (size_t i = 0; i < count; ++i) {
    GElf_Phdr phdr;
    if (gelf_getphdr(elf, static_cast<int>(i), &phdr) == nullptr) continue;
    if (phdr.p_type == PT_LOAD && (phdr.p_flags & PF_X) != 0 && phdr.p_paddr != phdr.p_vaddr) {
      table.add_alias(phdr.p_paddr, phdr.p_memsz, phdr.p_vaddr);
    }
  }
}

}  // namespace

Result<SymbolTable> load_elf_symbols(const std::string& path) {
  if (elf_version(EV_CURRENT) == EV_NONE) return fail("libelf: {}", elf_errmsg(-1));
  auto fd = KILN_TRY_VALUE(open_regular_file(path)).fd;
  ElfHandle elf(elf_begin(fd.get(), ELF_C_READ, nullptr));
  if (!elf) return fail("{}: not readable as ELF: {}", path, elf_errmsg(-1));
  if (elf_kind(elf.get()) != ELF_K_ELF) return fail("{}: not an ELF file", path);
  GElf_Shdr symtab;
  Elf_Scn* scn = find_symtab(elf.get(), symtab);
  if (scn == nullptr) {
    return fail("{}: has no symbol table (stripped?): give the unstripped image or its System.map", path);
  }
  Elf_Data* data = elf_getdata(scn, nullptr);
  if (data == nullptr || symtab.sh_entsize == 0) return fail("{}: unreadable symbol table: {}", path, elf_errmsg(-1));
  const auto code = code_sections(elf.get());
  std::vector<RawSymbol> symbols;
  const size_t count = symtab.sh_size / symtab.sh_entsize;
  for (size_t i = 0; i < count; ++i) {
    GElf_Sym sym;
    RawSymbol raw;
    if (gelf_getsym(data, static_cast<int>(i), &sym) != nullptr && code_symbol(elf.get(), symtab, sym, code, raw)) {
      symbols.push_back(std::move(raw));
    }
  }
  if (symbols.empty()) return fail("{}: its symbol table names no function", path);
  SymbolTable table(std::move(symbols));
  add_physical_aliases(elf.get(), table);
  return table;
}

}  // namespace kiln
