// Whole-file reads with errors that name the file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace kiln {

// Reads a regular file of at most max_bytes. A failed syscall is ErrorKind::kIo; a path that is
// not a regular file, or a file over the limit, is kConfig (the file named cannot be used).
[[nodiscard]] Result<std::vector<uint8_t>> read_file(const std::string& path, uint64_t max_bytes);

}  // namespace kiln
