// Whole-file reads with errors that name the file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

namespace kiln {

// Opens a regular file read-only. The open does not wait (O_NONBLOCK, cleared once the file is
// known to be regular): a FIFO or a device given where a file belongs is refused at once instead of
// hanging kiln in open(2). `what` names the file in errors ("kernel", "guest memory file", ...).
struct RegularFile {
  UniqueFd fd;
  uint64_t size = 0;  // at the open
};
[[nodiscard]] Result<RegularFile> open_regular_file(const std::string& path, std::string_view what = {});

// Clears O_NONBLOCK on an fd opened with it to check its type first (open_regular_file, disk images).
[[nodiscard]] Status clear_nonblock(int fd, const std::string& label);

// Reads a regular file of at most max_bytes. A failed syscall is ErrorKind::kIo; a path that is
// not a regular file, or a file over the limit, is kConfig (the file named cannot be used).
[[nodiscard]] Result<std::vector<uint8_t>> read_file(const std::string& path, uint64_t max_bytes);

}  // namespace kiln
