#include "guest_report.h"

#include <sstream>

namespace kiln::test {

std::optional<GuestReport> parse_guest_report(const std::string& out) {
  const auto begin = out.find("KILN-TEST-GUEST boot=");
  if (begin == std::string::npos) return std::nullopt;
  GuestReport r;
  std::istringstream in(out.substr(begin));
  std::string line;
  bool done = false;
  while (!done && std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("KILN-TEST-GUEST boot=", 0) == 0) {
      r.boot = line.substr(21);
    } else if (line.rfind("cmdline=", 0) == 0) {
      r.cmdline = line.substr(8);
    } else if (line.rfind("e820 ", 0) == 0) {
      E820Line e;
      std::istringstream f(line.substr(5));
      std::string start, size;
      f >> start >> size >> e.type;
      e.start = std::stoull(start, nullptr, 16);
      e.size = std::stoull(size, nullptr, 16);
      r.e820.push_back(e);
    } else if (line.rfind("ram=", 0) == 0) {
      r.ram = std::stoull(line.substr(4));
    } else if (line.rfind("initrd addr=", 0) == 0) {
      r.has_initrd = true;
      std::istringstream f(line.substr(7));
      std::string word;
      while (f >> word) {
        const auto eq = word.find('=');
        const auto key = word.substr(0, eq);
        const auto value = word.substr(eq + 1);
        if (key == "addr") r.initrd_addr = std::stoull(value, nullptr, 16);
        if (key == "size") r.initrd_size = std::stoull(value);
        if (key == "fnv1a64") r.initrd_fnv = std::stoull(value, nullptr, 16);
      }
    } else if (line.rfind("result ", 0) == 0) {
      r.result = line.substr(7);
      done = true;
    }
  }
  if (!done) return std::nullopt;
  return r;
}

uint64_t fnv1a64(const std::vector<uint8_t>& bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint8_t b : bytes) {
    h ^= b;
    h *= 0x100000001b3ull;
  }
  return h;
}

}  // namespace kiln::test
