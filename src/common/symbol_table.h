// A guest image's functions as sorted address ranges, for naming sampled instruction pointers
// (the guest profiler). Built from an ELF symbol table (elf_symbols.h) or a System.map
// (symbol_file.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kiln {

// One symbol as a file gives it, before the table resolves sizes and aliases.
struct RawSymbol {
  uint64_t start = 0;
  uint64_t size = 0;   // 0: unknown, the symbol then ends at the next one (or at `limit`)
  uint64_t limit = 0;  // 0: none; else no range goes past it (the end of the symbol's section)
  std::string name;
  int rank = 0;  // of two symbols at one address the lower rank names it (FUNC before a label)
};

struct SymbolRange {
  uint64_t start = 0;
  uint64_t end = 0;  // exclusive
  std::string name;  // demangled when it was a C++ name
};

class SymbolTable {
 public:
  SymbolTable() = default;
  // Sorts, keeps one name per address (lowest rank, then first given), and gives each
  // symbol without a size the range up to the next symbol, its limit, or one byte at the end.
  explicit SymbolTable(std::vector<RawSymbol> symbols);

  // Code that also runs at another address (a vmlinux's early boot code at its physical load
  // address, before paging is on): [start, start + size) is looked up at `target` onwards.
  void add_alias(uint64_t start, uint64_t size, uint64_t target) { aliases_.push_back({start, size, target}); }

  // The function containing `address` (directly, else through an alias), or nullptr.
  [[nodiscard]] const SymbolRange* lookup(uint64_t address) const;
  [[nodiscard]] size_t size() const { return ranges_.size(); }
  [[nodiscard]] bool empty() const { return ranges_.empty(); }

 private:
  [[nodiscard]] const SymbolRange* lookup_direct(uint64_t address) const;

  struct Alias {
    uint64_t start, size, target;
  };
  std::vector<SymbolRange> ranges_;  // by start, starts unique
  std::vector<Alias> aliases_;
};

// "kiln::probe::run_ticker(...)" for a mangled C++ name; other names unchanged.
[[nodiscard]] std::string demangle(const std::string& name);

}  // namespace kiln
