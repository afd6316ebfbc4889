#include "guest_profile.h"

#include <sstream>

namespace kiln::test {

GuestProfile parse_guest_profile(const std::string& text) {
  GuestProfile out;
  std::istringstream lines(text);
  std::string line;
  const std::string header = "guest profile: ";
  bool in_rows = false;
  while (std::getline(lines, line)) {
    if (!out.found) {
      const size_t at = line.find(header);
      if (at == std::string::npos) continue;
      out.found = true;
      out.samples = std::stoull(line.substr(at + header.size()));
      continue;
    }
    if (!in_rows) {
      in_rows = line.find(" samples       %  function") == 0;
      continue;
    }
    std::istringstream words(line);
    GuestProfileRow row;
    std::string percent;
    if (!(words >> row.samples >> percent) || percent.empty() || percent.back() != '%') break;
    row.percent = std::stod(percent.substr(0, percent.size() - 1));
    std::getline(words >> std::ws, row.name);
    out.rows.push_back(row);
  }
  return out;
}

}  // namespace kiln::test
