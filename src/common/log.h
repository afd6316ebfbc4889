// kiln's diagnostics go to stderr with a "kiln: " prefix (stdout belongs to the guest console).
#pragma once

#include <fmt/format.h>

#include <string_view>

namespace kiln {

void log_line(std::string_view text);

template <typename... Args>
void log(fmt::format_string<Args...> f, Args&&... args) {
  log_line(fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace kiln
