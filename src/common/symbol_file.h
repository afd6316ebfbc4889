// Symbol tables from files: an ELF image's .symtab (a vmlinux, kiln-probe) read with libelf, or
// a System.map ("ADDRESS TYPE NAME" lines, as the kernel build writes it next to vmlinux).
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "common/symbol_table.h"

namespace kiln {

// The functions of an ELF file: STT_FUNC symbols, and STT_NOTYPE labels (assembly entry
// points), defined in allocated executable sections. Fails for a file that is not ELF or has no
// .symtab (stripped).
[[nodiscard]] Result<SymbolTable> load_elf_symbols(const std::string& path);

// The text symbols (types T, t, W, w) of a System.map; a symbol ends where the next symbol of any
// type starts. `source` names the text in errors.
[[nodiscard]] Result<SymbolTable> parse_system_map(std::string_view text, const std::string& source);

// An ELF file (by its magic) or else a System.map.
[[nodiscard]] Result<SymbolTable> load_symbol_file(const std::string& path);

}  // namespace kiln
