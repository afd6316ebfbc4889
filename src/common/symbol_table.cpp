#include "common/symbol_table.h"

#include <cxxabi.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

namespace kiln {

std::string demangle(const std::string& name) {
  if (name.rfind("_Z", 0) != 0) return name;
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> out(abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status),
                                                 &std::free);
  return status == 0 && out ? std::string(out.get()) : name;
}

SymbolTable::SymbolTable(std::vector<RawSymbol> symbols) {
  std::stable_sort(symbols.begin(), symbols.end(), [](const RawSymbol& a, const RawSymbol& b) {
    return a.start != b.start ? a.start < b.start : a.rank < b.rank;
  });
  ranges_.reserve(symbols.size());
  for (size_t i = 0; i < symbols.size(); ++i) {
    const RawSymbol& s = symbols[i];
    if (i > 0 && symbols[i - 1].start == s.start) continue;  // an alias of a better name
    uint64_t end = 0;
    if (s.size != 0 && s.start + s.size > s.start) {
      end = s.start + s.size;
    } else {
      size_t next = i + 1;
      while (next < symbols.size() && symbols[next].start == s.start) ++next;
      end = next < symbols.size() ? symbols[next].start : s.start + 1;
      if (s.limit > s.start && (next == symbols.size() || s.limit < end)) end = s.limit;
    }
    ranges_.push_back(SymbolRange{s.start, end, demangle(s.name)});
  }
}

const SymbolRange* SymbolTable::lookup(uint64_t address) const {
  if (const SymbolRange* r = lookup_direct(address)) return r;
  for (const Alias& a : aliases_) {
    if (address - a.start < a.size) return lookup_direct(a.target + (address - a.start));
  }
  return nullptr;
}

const SymbolRange* SymbolTable::lookup_direct(uint64_t address) const {
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), address,
                             [](uint64_t a, const SymbolRange& r) { return a < r.start; });
  if (it == ranges_.begin()) return nullptr;
  --it;
  return address < it->end ? &*it : nullptr;
}

}  // namespace kiln
