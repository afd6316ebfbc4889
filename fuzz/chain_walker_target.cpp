#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "targets.h"
#include "memory/guest_memory.h"
#include "virtio/queue/chain_io.h"
#include "virtio/queue/descriptor_chain.h"

namespace kiln::fuzz {

void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
  std::abort();
}

namespace {

// Two RAM regions with a hole between them, so chains can straddle a gap.
constexpr uint64_t kRegion = 64 * 1024;
constexpr uint64_t kSecond = 128 * 1024;

bool inside_ram(const GuestMemory& mem, const iovec& v) {
  for (const auto& r : mem.regions()) {
    const auto* base = static_cast<const uint8_t*>(r.mapping.data());
    const auto* p = static_cast<const uint8_t*>(v.iov_base);
    if (p >= base && v.iov_len <= r.size && p - base <= static_cast<ptrdiff_t>(r.size - v.iov_len)) return true;
  }
  return false;
}

}  // namespace

int chain_walker(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const std::array ranges{MemoryRange{GuestAddress(0), kRegion}, MemoryRange{GuestAddress(kSecond), kRegion}};
  auto mem = GuestMemory::create(ranges);
  check(mem.has_value(), "guest memory");
  const size_t ram_bytes = std::min<size_t>(size - 3, kRegion);
  if (ram_bytes > 0) check(mem->write(GuestAddress(0), std::span(data + 3, ram_bytes)).has_value(), "fill RAM");

  virtio::ChainRules rules;
  rules.queue_size = static_cast<uint16_t>(1u << (data[0] & 0x0f));
  rules.indirect = (data[0] & 0x10) != 0;
  uint16_t head = 0;
  std::memcpy(&head, data + 1, 2);
  auto chain = virtio::walk_chain(*mem, GuestAddress(0), head, rules);
  if (!chain) return 0;

  // Every segment is guest RAM, readable ones first, and the whole chain is under 4 GiB.
  uint64_t total = 0;
  for (const auto& s : chain->readable()) {
    check(mem->contains(s.addr, s.len), "readable segment inside RAM");
    total += s.len;
  }
  for (const auto& s : chain->writable()) {
    check(mem->contains(s.addr, s.len), "writable segment inside RAM");
    total += s.len;
  }
  check(total < (uint64_t{1} << 32), "chain shorter than 4 GiB");
  check(chain->readable().size() + chain->writable().size() <= rules.queue_size + virtio::kMaxIndirect, "segment count bounded");

  // The byte streams see exactly those bytes and stay inside RAM.
  virtio::ChainReader reader(*mem, *chain);
  check(reader.remaining() == chain->readable_bytes(), "reader length");
  if (reader.remaining() <= 1024 * 1024) {
    std::vector<uint8_t> bytes(reader.remaining());
    check(reader.read(bytes).has_value(), "read the readable part");
    check(reader.remaining() == 0, "reader exhausted");
    uint8_t one = 0;
    check(!reader.read(std::span(&one, 1)).has_value(), "reading past the end fails");
  }
  virtio::ChainWriter writer(*mem, *chain);
  const uint64_t writable = writer.remaining();
  check(writable == chain->writable_bytes(), "writer length");
  if (writable > 0) {
    check(writer.skip(writable / 2).has_value(), "skip half");
    auto iov = writer.take_iovecs(writable - writable / 2);
    check(iov.has_value(), "take the rest");
    uint64_t n = 0;
    for (const iovec& v : *iov) {
      check(inside_ram(*mem, v), "iovec inside RAM");
      n += v.iov_len;
    }
    check(n == writable - writable / 2, "iovec total");
    check(writer.remaining() == 0 && !writer.take_iovecs(1).has_value(), "writer exhausted");
  }
  return 0;
}

}  // namespace kiln::fuzz
