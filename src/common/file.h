// Whole-file reads with errors that name the file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace kiln {

// Reads a regular file of at most max_bytes.
[[nodiscard]] Result<std::vector<uint8_t>> read_file(const std::string& path, uint64_t max_bytes);

}  // namespace kiln
