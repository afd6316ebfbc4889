#include "devices/bus.h"

#include <algorithm>

namespace kiln {

Status Bus::add(uint64_t base, uint64_t len, std::shared_ptr<BusDevice> dev, std::string name) {
  if (!dev) return fail("bus: {} at {:#x}: no device", name, base);
  if (len == 0) return fail("bus: {} at {:#x}: empty range", name, base);
  if (len - 1 > UINT64_MAX - base) return fail("bus: {} at {:#x} + {:#x}: range wraps", name, base, len);
  const uint64_t last = base + (len - 1);

  // The first entry starting after base; its predecessor is the only one that can hold base.
  auto next = std::upper_bound(entries_.begin(), entries_.end(), base,
                               [](uint64_t b, const Entry& e) { return b < e.base; });
  const Entry* clash = nullptr;
  if (next != entries_.end() && next->base <= last) clash = &*next;
  if (next != entries_.begin() && std::prev(next)->last >= base) clash = &*std::prev(next);
  if (clash != nullptr) {
    return fail("bus: {} [{:#x}, {:#x}] overlaps {} [{:#x}, {:#x}]", name, base, last, clash->name, clash->base,
                clash->last);
  }
  entries_.insert(next, Entry{base, last, std::move(dev), std::move(name)});
  return {};
}

const Bus::Entry* Bus::find(uint64_t addr) const {
  auto next = std::upper_bound(entries_.begin(), entries_.end(), addr,
                               [](uint64_t a, const Entry& e) { return a < e.base; });
  if (next == entries_.begin()) return nullptr;
  const Entry& e = *std::prev(next);
  return addr <= e.last ? &e : nullptr;
}

const Bus::Entry* Bus::route(uint64_t addr, size_t size, uint64_t& offset) const {
  if (size == 0) return nullptr;
  const Entry* e = find(addr);
  // addr <= e->last here, so the subtraction cannot wrap.
  if (e == nullptr || size - 1 > e->last - addr) return nullptr;
  offset = addr - e->base;
  return e;
}

bool Bus::read(uint64_t addr, std::span<uint8_t> data) const {
  uint64_t offset = 0;
  const Entry* e = route(addr, data.size(), offset);
  if (e == nullptr) return false;
  e->dev->read(offset, data);
  return true;
}

bool Bus::write(uint64_t addr, std::span<const uint8_t> data) const {
  uint64_t offset = 0;
  const Entry* e = route(addr, data.size(), offset);
  if (e == nullptr) return false;
  e->dev->write(offset, data);
  return true;
}

}  // namespace kiln
