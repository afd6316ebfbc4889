// Guest RAM in its own file: the regions back to back in guest-physical order, all-zero pages
// left as holes. The snapshot file's memory-layout section says where each region goes.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "memory/guest_memory.h"
#include "snapshot/atomic_file.h"

namespace kiln::snapshot {

inline constexpr size_t kMaxMemoryRegions = 64;

// Writes every region (atomically: temporary file, fsync, rename). Pages that are all zero are
// not written, so the file is sparse; its size is the total RAM size. The vCPUs and devices
// must be stopped (nothing may write guest RAM meanwhile).
[[nodiscard]] Status save_memory(const GuestMemory& mem, const std::string& path);
// The same, written and fsync'ed under the temporary name only: the caller commits it (a VM
// snapshot commits its memory file once the snapshot file is written too).
[[nodiscard]] Result<AtomicFile> stage_memory(const GuestMemory& mem, const std::string& path);

// The tag::kMemoryLayout section: region count, then guest-physical start and size of each.
[[nodiscard]] std::vector<uint8_t> encode_memory_layout(const GuestMemory& mem);
// Validates: 1..kMaxMemoryRegions regions, page-aligned, non-empty, ascending, not overlapping,
// no address overflow.
[[nodiscard]] Result<std::vector<MemoryRange>> decode_memory_layout(std::span<const uint8_t> bytes);

}  // namespace kiln::snapshot
