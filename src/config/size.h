// Memory sizes on the command line: "256", "256M", "256MiB", "1G", "1GiB", "524288K" (no suffix = MiB).
#pragma once

#include <cstdint>
#include <string_view>

#include "common/result.h"

namespace kiln {

[[nodiscard]] Result<uint64_t> parse_memory_size(std::string_view text);

}  // namespace kiln
