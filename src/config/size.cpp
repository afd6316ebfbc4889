#include "config/size.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string>

namespace kiln {

Result<uint64_t> parse_memory_size(std::string_view text) {
  uint64_t number = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, number);
  if (ec == std::errc::result_out_of_range) return fail("'{}' is too large", text);
  if (ec != std::errc() || ptr == text.data()) {
    return fail("'{}' is not a size: use a number of MiB, or a number with K, M or G (e.g. 512M, 2G)", text);
  }
  std::string suffix(ptr, end);
  std::transform(suffix.begin(), suffix.end(), suffix.begin(), [](unsigned char c) { return std::toupper(c); });
  uint64_t unit = 0;
  if (suffix.empty() || suffix == "M" || suffix == "MB" || suffix == "MIB") {
    unit = 1ull << 20;
  } else if (suffix == "K" || suffix == "KB" || suffix == "KIB") {
    unit = 1ull << 10;
  } else if (suffix == "G" || suffix == "GB" || suffix == "GIB") {
    unit = 1ull << 30;
  } else {
    return fail("'{}': unknown size suffix '{}': use K, M or G (binary units; no suffix means MiB)", text,
                std::string(ptr, end));
  }
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(number, unit, &bytes)) return fail("'{}' is too large", text);
  return bytes;
}

}  // namespace kiln
