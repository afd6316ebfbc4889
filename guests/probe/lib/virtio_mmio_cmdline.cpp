#include "probe/lib/virtio_mmio_cmdline.h"

#include "probe/lib/report.h"

namespace kiln::probe {
namespace {

// Parses "<sep><decimal>" at text[pos]; advances pos.
bool parse_decimal_field(Text text, size_t& pos, char separator, uint32_t& out) {
  if (pos >= text.size || text.data[pos] != separator) return false;
  ++pos;
  uint64_t v = 0;
  size_t used = 0;
  while (pos + used < text.size && text.data[pos + used] >= '0' && text.data[pos + used] <= '9') {
    v = v * 10 + static_cast<uint64_t>(text.data[pos + used] - '0');
    if (v > 0xffffffffu) return false;
    ++used;
  }
  if (used == 0) return false;
  pos += used;
  out = static_cast<uint32_t>(v);
  return true;
}

}  // namespace

bool parse_virtio_mmio_device(Text value, VirtioMmioDevice& device) {
  VirtioMmioDevice d;
  size_t pos = parse_size_prefix(value, d.size);
  if (pos == 0 || d.size == 0) return false;
  if (pos >= value.size || value.data[pos] != '@') return false;
  ++pos;
  const size_t used = parse_number_prefix(value.from(pos), d.base);
  if (used == 0) return false;
  pos += used;
  if (d.base + (d.size - 1) < d.base) return false;  // wraps around
  if (!parse_decimal_field(value, pos, ':', d.irq)) return false;
  if (pos < value.size) {
    if (!parse_decimal_field(value, pos, ':', d.id)) return false;
    d.has_id = true;
  }
  if (pos != value.size) return false;
  device = d;
  return true;
}

uint32_t list_virtio_mmio_devices(const Cmdline& cmdline) {
  uint32_t good = 0;
  uint32_t bad = 0;
  cmdline.for_each("virtio_mmio.device", [&](Text value) {
    VirtioMmioDevice d;
    if (!parse_virtio_mmio_device(value, d)) {
      ++bad;
      fail("discovery.virtio-mmio", "malformed virtio_mmio.device=", value);
      return;
    }
    if (d.has_id) {
      info("virtio-mmio index=", dec(good), " base=", hex(d.base), " size=", hex(d.size), " irq=", dec(d.irq),
           " id=", dec(d.id));
    } else {
      info("virtio-mmio index=", dec(good), " base=", hex(d.base), " size=", hex(d.size), " irq=", dec(d.irq));
    }
    ++good;
  });
  result("discovery.virtio-mmio", "devices=", dec(good));
  if (bad == 0) pass("discovery.virtio-mmio");
  return good;
}

}  // namespace kiln::probe
