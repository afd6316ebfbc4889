// Guest RAM and the one checked API through which kiln touches it.
//
// Every access names a guest physical address and a length; the whole range
// must lie inside one RAM region, with overflow-safe arithmetic. Anything else
// is an error value, never a host memory access.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "common/mmap_region.h"
#include "common/result.h"
#include "memory/guest_address.h"

namespace kiln {

struct MemoryRange {
  GuestAddress start;
  uint64_t size = 0;
};

class GuestMemory {
 public:
  struct Region {
    GuestAddress start;
    uint64_t size = 0;
    MmapRegion mapping;
  };

  // Maps one anonymous region per range. Ranges must be page-aligned,
  // non-empty, sorted and non-overlapping (kiln's own layout, not guest input).
  [[nodiscard]] static Result<GuestMemory> create(std::span<const MemoryRange> ranges);
  // Maps the ranges from a file that holds them back to back (range i at the sum of the sizes
  // before it), MAP_PRIVATE: pages are read on first touch, guest writes never reach the file.
  // The file must hold exactly the ranges' total size. It must not be truncated while mapped (a
  // guest access past its end would fault). Syscall errors are kIo; a file of the wrong size or
  // kind is kConfig.
  [[nodiscard]] static Result<GuestMemory> map_file(std::span<const MemoryRange> ranges, const std::string& path);

  // A checked host view of [addr, addr + len); len 0 is allowed inside RAM. A range outside RAM
  // is ErrorKind::kGuest (addresses come from the guest; the kernel loader reclassifies its own).
  [[nodiscard]] Result<std::span<uint8_t>> slice(GuestAddress addr, uint64_t len) const;

  [[nodiscard]] Status read(GuestAddress addr, std::span<uint8_t> out) const;
  [[nodiscard]] Status write(GuestAddress addr, std::span<const uint8_t> in) const;
  [[nodiscard]] Status fill(GuestAddress addr, uint64_t len, uint8_t value) const;

  // Plain-data objects by value (no pointers into guest memory escape).
  template <typename T>
  [[nodiscard]] Result<T> read_obj(GuestAddress addr) const {
    static_assert(std::is_trivially_copyable_v<T>);
    T value;
    KILN_TRY(read(addr, std::span(reinterpret_cast<uint8_t*>(&value), sizeof(T))));
    return value;
  }
  template <typename T>
  [[nodiscard]] Status write_obj(GuestAddress addr, const T& value) const {
    static_assert(std::is_trivially_copyable_v<T>);
    return write(addr, std::span(reinterpret_cast<const uint8_t*>(&value), sizeof(T)));
  }

  [[nodiscard]] bool contains(GuestAddress addr, uint64_t len) const { return slice(addr, len).has_value(); }
  [[nodiscard]] const std::vector<Region>& regions() const { return regions_; }
  [[nodiscard]] uint64_t total_size() const;
  // One past the highest RAM byte.
  [[nodiscard]] GuestAddress end() const;

 private:
  [[nodiscard]] static Status check_ranges(std::span<const MemoryRange> ranges);
  std::vector<Region> regions_;
};

}  // namespace kiln
