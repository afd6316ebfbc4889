// Guest symbol tables: ranges and aliases, System.map text, and real ELF files (the kiln-probe
// guest this build links, its nm listing, and a stripped copy).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "common/symbol_file.h"
#include "common/symbol_table.h"

namespace kiln {
namespace {

std::string name_at(const SymbolTable& t, uint64_t address) {
  const SymbolRange* r = t.lookup(address);
  return r != nullptr ? r->name : "<none>";
}

TEST(SymbolTable, SizedRangesGapsAndSizeless) {
  SymbolTable t({{0x1000, 0x10, 0, "a", 0}, {0x1020, 0, 0, "label", 2}, {0x1040, 0x8, 0, "b", 0},
                 {0x2000, 0, 0x2100, "last", 2}});
  EXPECT_EQ(t.size(), 4u);
  EXPECT_EQ(name_at(t, 0xfff), "<none>");
  EXPECT_EQ(name_at(t, 0x1000), "a");
  EXPECT_EQ(name_at(t, 0x100f), "a");
  EXPECT_EQ(name_at(t, 0x1010), "<none>");  // past a's size, before the label
  EXPECT_EQ(name_at(t, 0x1020), "label");
  EXPECT_EQ(name_at(t, 0x103f), "label");  // sizeless: up to the next symbol
  EXPECT_EQ(name_at(t, 0x1047), "b");
  EXPECT_EQ(name_at(t, 0x1048), "<none>");
  EXPECT_EQ(name_at(t, 0x20ff), "last");  // sizeless at the end: up to its section's end
  EXPECT_EQ(name_at(t, 0x2100), "<none>");
}

TEST(SymbolTable, AliasesKeepTheBestRankAndInnerLabelsWin) {
  SymbolTable t({{0x1000, 0, 0, "entry_label", 2}, {0x1000, 0x100, 0, "entry_func", 0},
                 {0x1050, 0, 0, "inner", 2}, {0x3000, 0, 0, "alone", 1}});
  EXPECT_EQ(t.size(), 3u);
  EXPECT_EQ(name_at(t, 0x1000), "entry_func");
  EXPECT_EQ(name_at(t, 0x104f), "entry_func");
  EXPECT_EQ(name_at(t, 0x1050), "inner");  // a label inside a function names what follows it
  EXPECT_EQ(name_at(t, 0x3000), "alone");  // sizeless and last, no limit: its own address only
  EXPECT_EQ(name_at(t, 0x3001), "<none>");
}

TEST(SymbolTable, AliasesMapOtherAddressesOntoTheSymbols) {
  SymbolTable t({{0xffffffff81000000, 0x10, 0, "entry", 0}});
  t.add_alias(0x1000000, 0x100000, 0xffffffff81000000);
  EXPECT_EQ(name_at(t, 0x1000008), "entry");
  EXPECT_EQ(name_at(t, 0x1000010), "<none>");  // past the function
  EXPECT_EQ(name_at(t, 0xfffff8), "<none>");   // before the alias
  EXPECT_EQ(t.lookup(0x1000008), t.lookup(0xffffffff81000008));
}

TEST(SymbolTable, Demangles) {
  EXPECT_EQ(demangle("_ZN4kiln5probe10run_tickerERKNS0_7ContextE"), "kiln::probe::run_ticker(kiln::probe::Context const&)");
  EXPECT_EQ(demangle("default_idle"), "default_idle");
  EXPECT_EQ(demangle("_Znot_really_mangled!"), "_Znot_really_mangled!");
}

TEST(SystemMap, TextSymbolsEndAtTheNextSymbolOfAnyType) {
  const std::string map =
      "ffffffff81000000 T _stext\n"
      "ffffffff81000000 T startup_64\n"
      "ffffffff81000100 t secondary\n"
      "ffffffff81000180 D some_data\n"
      "ffffffff81000200 W weak_fn\r\n"
      "\n"
      "ffffffff81000300 B _end\n";
  auto t = parse_system_map(map, "test.map");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->size(), 3u);
  EXPECT_EQ(name_at(*t, 0xffffffff810000ff), "_stext");  // the first of two T aliases
  EXPECT_EQ(name_at(*t, 0xffffffff81000100), "secondary");
  EXPECT_EQ(name_at(*t, 0xffffffff81000180), "<none>");  // data
  EXPECT_EQ(name_at(*t, 0xffffffff810002ff), "weak_fn");
  EXPECT_EQ(name_at(*t, 0xffffffff81000300), "<none>");
}

TEST(SystemMap, BadInputNamesTheLine) {
  auto bad = parse_system_map("ffffffff81000000 T ok\nnot a map line\n", "x.map");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("x.map line 2: expected 'ADDRESS TYPE NAME'"), std::string::npos)
      << bad.error().message;
  auto no_text = parse_system_map("0000000000001000 D data\n", "d.map");
  ASSERT_FALSE(no_text);
  EXPECT_NE(no_text.error().message.find("no text symbols"), std::string::npos) << no_text.error().message;
}

TEST(SymbolFile, ProbeElfAgreesWithNm) {
  auto elf = load_symbol_file(KILN_GUEST_PROBE);
  ASSERT_TRUE(elf) << elf.error().message;
  auto map = load_symbol_file(KILN_PROBE_NM_MAP);  // `nm -n probe.elf`: System.map format
  ASSERT_TRUE(map) << map.error().message;
  ASSERT_GT(elf->size(), 50u);

  // Every function nm lists starts a range of the ELF table (aliases may name it otherwise).
  std::ifstream in(KILN_PROBE_NM_MAP);
  std::string line;
  size_t functions = 0;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string address, type, name;
    words >> address >> type >> name;
    if (type != "T" && type != "t") continue;
    const uint64_t a = std::stoull(address, nullptr, 16);
    const SymbolRange* r = elf->lookup(a);
    ASSERT_NE(r, nullptr) << line;
    EXPECT_EQ(r->start, a) << line << " is inside " << r->name;
    ++functions;
  }
  EXPECT_GT(functions, 50u);

  // A C++ function is found by any address inside it, demangled, and the map agrees.
  const char* ticker = "kiln::probe::run_ticker(kiln::probe::Context const&)";
  const SymbolRange* found = nullptr;
  for (uint64_t a = 0x100000; a < 0x200000 && found == nullptr; a += 4) {
    const SymbolRange* r = elf->lookup(a);
    if (r != nullptr && r->name == ticker) found = r;
  }
  ASSERT_NE(found, nullptr) << "no " << ticker << " in " << KILN_GUEST_PROBE;
  EXPECT_GT(found->end - found->start, 16u);
  EXPECT_EQ(name_at(*elf, found->end - 1), ticker);
  EXPECT_EQ(name_at(*map, found->start + 1), ticker);
  EXPECT_NE(name_at(*elf, found->end), ticker);
}

TEST(SymbolFile, HighHalfImageIsNamedAtItsPhysicalAddressesToo) {
  auto t = load_symbol_file(KILN_HIGH_HALF_ELF);  // tests/unit/symbols/high_half.S
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->size(), 2u);
  EXPECT_EQ(name_at(*t, 0xffffffff81000000), "early_entry");
  EXPECT_EQ(name_at(*t, 0xffffffff81000004), "early_entry");
  EXPECT_EQ(name_at(*t, 0xffffffff81000005), "later_function");
  EXPECT_EQ(name_at(*t, 0x1000002), "early_entry");  // before paging: the executable PT_LOAD's p_paddr
  EXPECT_EQ(name_at(*t, 0x1000005), "later_function");
  EXPECT_EQ(name_at(*t, 0x1000006), "<none>");
}

TEST(SymbolFile, BadFilesGiveErrorsThatNameThem) {
  auto missing = load_symbol_file("/no/such/System.map");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("/no/such/System.map: No such file"), std::string::npos)
      << missing.error().message;

  auto stripped = load_symbol_file(KILN_PROBE_STRIPPED);
  ASSERT_FALSE(stripped);
  EXPECT_NE(stripped.error().message.find("has no symbol table (stripped?)"), std::string::npos)
      << stripped.error().message;

  auto not_elf = load_elf_symbols(KILN_PROBE_NM_MAP);
  ASSERT_FALSE(not_elf);
  EXPECT_NE(not_elf.error().message.find("not an ELF file"), std::string::npos) << not_elf.error().message;

  const std::string bin = ::testing::TempDir() + "symbols_test_binary";
  std::ofstream(bin, std::ios::binary) << std::string("MZ\0\0binary", 10);  // NUL bytes, no ELF magic
  auto binary = load_symbol_file(bin);
  ASSERT_FALSE(binary);
  EXPECT_NE(binary.error().message.find("neither an ELF file nor a System.map"), std::string::npos)
      << binary.error().message;
}

}  // namespace
}  // namespace kiln
