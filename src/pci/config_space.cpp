#include "pci/config_space.h"

namespace kiln::pci {
namespace {

bool power_of_two(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

// The low bits of a BAR that say what it is (6.2.5.1): bit 0 set for I/O; memory type 0 (32-bit,
// anywhere below 4 GiB), not prefetchable.
constexpr uint32_t kBarIoSpace = 1;

}  // namespace

ConfigSpace::ConfigSpace(const Identity& id) {
  put(kVendorId, id.vendor_id, 2, 0);
  put(kDeviceId, id.device_id, 2, 0);
  put(kCommand, 0, 2, kCommandIo | kCommandMemory | kCommandBusMaster | kCommandIntxDisable);
  put(kRevisionId, id.revision_id, 1, 0);
  put(kClassCode, id.class_code, 3, 0);
  put(kSubsystemVendorId, id.subsystem_vendor_id, 2, 0);
  put(kSubsystemId, id.subsystem_id, 2, 0);
  put(kInterruptLine, 0, 1, 0xff);
  put(kInterruptPin, id.interrupt_pin, 1, 0);
}

void ConfigSpace::put(uint32_t at, uint64_t value, int size, uint64_t writable) {
  for (int i = 0; i < size; ++i) {
    bytes_[at + i] = static_cast<uint8_t>(value >> (8 * i));
    writable_[at + i] = static_cast<uint8_t>(writable >> (8 * i));
  }
}

uint32_t ConfigSpace::read32(uint32_t at) const {
  return static_cast<uint32_t>(read16(at)) | static_cast<uint32_t>(read16(at + 2)) << 16;
}

Status ConfigSpace::add_bar(int index, BarKind kind, uint64_t size) {
  if (index < 0 || index >= kNumBars || bars_[index]) return fail("PCI BAR {} is not free", index);
  const bool io = kind == BarKind::kIo;
  if (!power_of_two(size) || size < (io ? 4u : 16u) || size > (io ? 0x10000u : 0x80000000u)) {
    return fail("PCI BAR {}: size {:#x} is not a power of two in the allowed range", index, size);
  }
  bars_[index] = Bar{kind, size};
  const uint32_t at = kBar0 + 4 * static_cast<uint32_t>(index);
  const uint64_t address_bits = io ? 0xffffu : 0xffffffffu;
  put(at, io ? kBarIoSpace : 0, 4, address_bits & ~(size - 1));
  return {};
}

Status ConfigSpace::place_bar(int index, uint64_t address) {
  if (index < 0 || index >= kNumBars || !bars_[index]) return fail("PCI BAR {} is not declared", index);
  const Bar& b = *bars_[index];
  const uint64_t limit = b.kind == BarKind::kIo ? 0x10000 : 0x100000000;
  if (address % b.size != 0 || address + b.size > limit) {
    return fail("PCI BAR {}: address {:#x} does not fit {:#x} bytes", index, address, b.size);
  }
  const uint32_t at = kBar0 + 4 * static_cast<uint32_t>(index);
  const uint64_t value = address | (read32(at) & (b.kind == BarKind::kIo ? 0x3u : 0xfu));
  for (uint32_t i = 0; i < 4; ++i) bytes_[at + i] = static_cast<uint8_t>(value >> (8 * i));
  return {};
}

Result<uint32_t> ConfigSpace::add_capability(uint8_t id, std::span<const uint8_t> body,
                                             std::span<const uint8_t> writable) {
  const uint32_t at = next_capability_;
  if (body.size() != writable.size() || at + 2 + body.size() > kConfigSize) {
    return fail("PCI capability {:#x}: no room at {:#x} for {} bytes", id, at, body.size() + 2);
  }
  put(at, id, 1, 0);
  put(at + 1, 0, 1, 0);  // the end of the list until another follows
  for (size_t i = 0; i < body.size(); ++i) put(at + 2 + static_cast<uint32_t>(i), body[i], 1, writable[i]);
  put(last_capability_ == 0 ? kCapabilitiesPointer : last_capability_ + 1, at, 1, 0);
  put(kStatus, read16(kStatus) | kStatusCapabilitiesList, 2, 0);
  last_capability_ = at;
  next_capability_ = (at + 2 + static_cast<uint32_t>(body.size()) + 3) & ~3u;
  return at;
}

void ConfigSpace::read(uint64_t offset, std::span<uint8_t> data) const {
  for (size_t i = 0; i < data.size(); ++i) {
    const bool inside = offset < kConfigSize && i < kConfigSize - offset;  // no wrap-around
    data[i] = inside ? bytes_[offset + i] : 0xff;
  }
}

void ConfigSpace::write(uint64_t offset, std::span<const uint8_t> data) {
  for (size_t i = 0; i < data.size(); ++i) {
    if (offset >= kConfigSize || i >= kConfigSize - offset) return;
    const uint64_t at = offset + i;
    bytes_[at] = static_cast<uint8_t>((bytes_[at] & ~writable_[at]) | (data[i] & writable_[at]));
  }
}

uint64_t ConfigSpace::bar_address(int index) const {
  if (index < 0 || index >= kNumBars || !bars_[index]) return 0;
  const uint32_t raw = read32(kBar0 + 4 * static_cast<uint32_t>(index));
  return raw & (bars_[index]->kind == BarKind::kIo ? ~0x3u : ~0xfu);
}

Status ConfigSpace::restore(std::span<const uint8_t> saved) {
  if (saved.size() != kConfigSize) return fail("{} bytes of configuration space (expected {})", saved.size(), kConfigSize);
  for (size_t i = 0; i < kConfigSize; ++i) {
    if (((saved[i] ^ bytes_[i]) & ~writable_[i]) != 0) {
      return fail("read-only configuration byte {:#x} is {:#x} in the snapshot, {:#x} here", i, saved[i], bytes_[i]);
    }
  }
  write(0, saved);
  return {};
}

std::optional<uint64_t> ConfigSpace::decoded_bar(int index) const {
  const uint64_t address = bar_address(index);
  if (address == 0) return std::nullopt;  // also: no such BAR
  const bool io = bars_[index]->kind == BarKind::kIo;
  if ((command() & (io ? kCommandIo : kCommandMemory)) == 0) return std::nullopt;
  return address;
}

}  // namespace kiln::pci
