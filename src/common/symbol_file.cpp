#include "common/symbol_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "common/file.h"
#include "common/unique_fd.h"

namespace kiln {
namespace {

constexpr uint64_t kMaxSymbolFileBytes = 256ull << 20;  // a kernel System.map is a few MiB
constexpr uint8_t kElfMagic[4] = {0x7f, 'E', 'L', 'F'};

struct MapLine {
  uint64_t address = 0;
  char type = 0;
  std::string_view name;
};

// Whether the file starts with the ELF magic (a vmlinux is large: not read whole for this).
Result<bool> starts_with_elf_magic(const std::string& path) {
  auto fd = KILN_TRY_VALUE(open_regular_file(path)).fd;
  uint8_t head[sizeof(kElfMagic)] = {};
  const ssize_t n = ::read(fd.get(), head, sizeof(head));
  if (n < 0) return fail_io(path);
  return n == sizeof(head) && std::memcmp(head, kElfMagic, sizeof(head)) == 0;
}

bool is_text_type(char type) { return type == 'T' || type == 't' || type == 'W' || type == 'w'; }

// "ffffffff81000000 T _stext": hex address, one-letter type, name (nm's output format).
bool parse_map_line(std::string_view line, MapLine& out) {
  const size_t sp1 = line.find(' ');
  if (sp1 == 0 || sp1 == std::string_view::npos || sp1 + 3 > line.size() || line[sp1 + 2] != ' ') return false;
  const auto [end, ec] = std::from_chars(line.data(), line.data() + sp1, out.address, 16);
  if (ec != std::errc() || end != line.data() + sp1) return false;
  out.type = line[sp1 + 1];
  out.name = line.substr(sp1 + 3);
  if (const size_t tab = out.name.find('\t'); tab != std::string_view::npos) out.name = out.name.substr(0, tab);
  return !out.name.empty();
}

}  // namespace

Result<SymbolTable> parse_system_map(std::string_view text, const std::string& source) {
  std::vector<MapLine> lines;
  size_t line_no = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    MapLine parsed;
    if (!parse_map_line(line, parsed)) {
      return fail("{} line {}: expected 'ADDRESS TYPE NAME' (a System.map or nm output), got '{}'", source, line_no,
                  line.substr(0, 80));
    }
    lines.push_back(parsed);
  }
  std::stable_sort(lines.begin(), lines.end(), [](const MapLine& a, const MapLine& b) { return a.address < b.address; });
  std::vector<RawSymbol> symbols;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (!is_text_type(lines[i].type)) continue;
    size_t next = i + 1;
    while (next < lines.size() && lines[next].address == lines[i].address) ++next;
    RawSymbol s;
    s.start = lines[i].address;
    s.size = next < lines.size() ? lines[next].address - s.start : 1;
    s.name = std::string(lines[i].name);
    s.rank = lines[i].type == 'T' ? 0 : 1;
    symbols.push_back(std::move(s));
  }
  if (symbols.empty()) return fail("{}: no text symbols (types T, t, W, w) in it", source);
  return SymbolTable(std::move(symbols));
}

Result<SymbolTable> load_symbol_file(const std::string& path) {
  auto elf = KILN_TRY_VALUE(starts_with_elf_magic(path));
  if (elf) return load_elf_symbols(path);
  auto bytes = KILN_TRY_VALUE(read_file(path, kMaxSymbolFileBytes));
  if (std::find(bytes.begin(), bytes.end(), uint8_t{0}) != bytes.end()) {
    return fail("{}: neither an ELF file nor a System.map (binary data): give a vmlinux with symbols or its "
                "System.map", path);
  }
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return parse_system_map(text, path);
}

}  // namespace kiln
