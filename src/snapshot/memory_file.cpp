#include "snapshot/memory_file.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "snapshot/atomic_file.h"
#include "snapshot/codec.h"

namespace kiln::snapshot {
namespace {

constexpr uint64_t kPage = 4096;
// Data is written in runs of up to this many bytes (one pwrite each).
constexpr uint64_t kMaxWrite = 8 * MiB;

bool all_zero(const uint8_t* p, size_t n) { return p[0] == 0 && std::memcmp(p, p + 1, n - 1) == 0; }

// Writes the non-zero pages of one region at `file_offset`.
Status write_region(AtomicFile& file, const uint8_t* data, uint64_t size, uint64_t file_offset) {
  uint64_t pos = 0;
  while (pos < size) {
    if (all_zero(data + pos, kPage)) {
      pos += kPage;
      continue;
    }
    uint64_t end = pos + kPage;
    while (end < size && end - pos < kMaxWrite && !all_zero(data + end, kPage)) end += kPage;
    KILN_TRY(file.write_at(data + pos, end - pos, file_offset + pos));
    pos = end;
  }
  return {};
}

}  // namespace

Status save_memory(const GuestMemory& mem, const std::string& path) {
  auto file = KILN_TRY_VALUE(stage_memory(mem, path));
  return file.commit();
}

Result<AtomicFile> stage_memory(const GuestMemory& mem, const std::string& path) {
  auto file = KILN_TRY_VALUE(AtomicFile::create(path));
  // The full size first: the zero pages never written stay holes.
  if (::ftruncate(file.fd(), static_cast<off_t>(mem.total_size())) < 0) {
    return fail_io(fmt::format("guest memory file {}: ftruncate to {} bytes", path, mem.total_size()));
  }
  uint64_t offset = 0;
  for (const auto& r : mem.regions()) {
    if (r.size % kPage != 0) return fail("guest memory region {:#x} is not page-sized", r.start.raw());
    auto written = write_region(file, r.mapping.data(), r.size, offset);
    if (!written) return wrap(fmt::format("guest memory file {}", path), written.error());
    offset += r.size;
  }
  return file;
}

std::vector<uint8_t> encode_memory_layout(const GuestMemory& mem) {
  Encoder e;
  e.u32(static_cast<uint32_t>(mem.regions().size()));
  for (const auto& r : mem.regions()) {
    e.u64(r.start.raw());
    e.u64(r.size);
  }
  return e.take();
}

Result<std::vector<MemoryRange>> decode_memory_layout(std::span<const uint8_t> bytes) {
  Decoder d(bytes, "memory layout");
  auto count = KILN_TRY_VALUE(d.u32());
  if (count == 0 || count > kMaxMemoryRegions) {
    return d.invalid(fmt::format("{} memory regions (1 to {} allowed)", count, kMaxMemoryRegions));
  }
  std::vector<MemoryRange> ranges;
  uint64_t prev_end = 0;
  for (uint32_t i = 0; i < count; ++i) {
    auto start = KILN_TRY_VALUE(d.u64());
    auto size = KILN_TRY_VALUE(d.u64());
    uint64_t end = 0;
    if (size == 0 || start % kPage != 0 || size % kPage != 0 || __builtin_add_overflow(start, size, &end) ||
        (i > 0 && start < prev_end)) {
      return d.invalid(fmt::format("memory region {} ({:#x}+{:#x}) is empty, unaligned, overlapping or out of order",
                                   i, start, size));
    }
    ranges.push_back(MemoryRange{GuestAddress(start), size});
    prev_end = end;
  }
  KILN_TRY(d.finish());
  return ranges;
}

}  // namespace kiln::snapshot
