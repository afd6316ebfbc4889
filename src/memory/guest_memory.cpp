#include "memory/guest_memory.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file.h"
#include "common/unique_fd.h"

namespace kiln {

Status GuestMemory::check_ranges(std::span<const MemoryRange> ranges) {
  const auto page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  uint64_t prev_end = 0;
  for (const auto& r : ranges) {
    if (r.size == 0 || r.start.raw() % page != 0 || r.size % page != 0 || r.start.raw() < prev_end ||
        !r.start.checked_add(r.size)) {
      return fail("invalid guest memory range {:#x}+{:#x}", r.start.raw(), r.size);
    }
    prev_end = r.start.raw() + r.size;
  }
  return {};
}

Result<GuestMemory> GuestMemory::create(std::span<const MemoryRange> ranges) {
  KILN_TRY(check_ranges(ranges));
  GuestMemory mem;
  for (const auto& r : ranges) {
    auto mapping = MmapRegion::anonymous(r.size);
    if (!mapping) return wrap(fmt::format("mapping {} MiB of guest RAM", r.size / MiB), mapping.error());
    // Guest RAM is never part of a host core dump.
    (void)::madvise(mapping->data(), r.size, MADV_DONTDUMP);
    mem.regions_.push_back(Region{r.start, r.size, std::move(*mapping)});
  }
  return mem;
}

Result<GuestMemory> GuestMemory::map_file(std::span<const MemoryRange> ranges, const std::string& path) {
  KILN_TRY(check_ranges(ranges));
  uint64_t total = 0;
  for (const auto& r : ranges) {
    if (__builtin_add_overflow(total, r.size, &total)) return fail("guest memory layout larger than 2^64 bytes");
  }
  auto [fd, size] = KILN_TRY_VALUE(open_regular_file(path, "guest memory file"));
  if (size != total) {
    return fail_kind(ErrorKind::kConfig, "guest memory file {} has {} bytes; the guest's {} MiB of RAM need exactly {}",
                     path, size, total / MiB, total);
  }
  GuestMemory mem;
  uint64_t offset = 0;
  for (const auto& r : ranges) {
    // Private: guest writes stay in this process (copy-on-write); pages load on first touch.
    auto mapping = MmapRegion::map(nullptr, r.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE, fd.get(),
                                   static_cast<off_t>(offset));
    if (!mapping) return wrap(fmt::format("mapping {} MiB of guest RAM from {}", r.size / MiB, path), mapping.error());
    (void)::madvise(mapping->data(), r.size, MADV_DONTDUMP);
    mem.regions_.push_back(Region{r.start, r.size, std::move(*mapping)});
    offset += r.size;
  }
  return mem;
}

Result<std::span<uint8_t>> GuestMemory::slice(GuestAddress addr, uint64_t len) const {
  for (const auto& r : regions_) {
    if (addr < r.start) continue;
    const uint64_t offset = addr.raw() - r.start.raw();
    if (offset >= r.size) continue;
    // offset < size, so size - offset cannot underflow; no addition can wrap.
    if (len > r.size - offset) break;
    return std::span<uint8_t>(r.mapping.data() + offset, static_cast<size_t>(len));
  }
  return fail_kind(ErrorKind::kGuest, "guest range {:#x}+{:#x} is outside RAM", addr.raw(), len);
}

Status GuestMemory::read(GuestAddress addr, std::span<uint8_t> out) const {
  auto s = KILN_TRY_VALUE(slice(addr, out.size()));
  if (!out.empty()) std::memcpy(out.data(), s.data(), out.size());
  return {};
}

Status GuestMemory::write(GuestAddress addr, std::span<const uint8_t> in) const {
  auto s = KILN_TRY_VALUE(slice(addr, in.size()));
  if (!in.empty()) std::memcpy(s.data(), in.data(), in.size());
  return {};
}

Status GuestMemory::fill(GuestAddress addr, uint64_t len, uint8_t value) const {
  auto s = KILN_TRY_VALUE(slice(addr, len));
  if (len != 0) std::memset(s.data(), value, s.size());
  return {};
}

uint64_t GuestMemory::total_size() const {
  uint64_t total = 0;
  for (const auto& r : regions_) total += r.size;
  return total;
}

GuestAddress GuestMemory::end() const {
  return regions_.empty() ? GuestAddress(0) : regions_.back().start.unchecked_add(regions_.back().size);
}

}  // namespace kiln
