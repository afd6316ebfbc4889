#include "pci/config_io.h"

#include <algorithm>

namespace kiln::pci {

namespace {
constexpr uint64_t kAddressOffset = 0;       // 0xcf8
constexpr uint64_t kResetControlOffset = 1;  // 0xcf9
constexpr uint64_t kDataOffset = 4;          // 0xcfc
// CONFIG_ADDRESS: bit 31 enable, 23:16 bus, 15:11 device, 10:8 function, 7:2 register;
// bits 30:24 and 1:0 are reserved and read as 0.
constexpr uint32_t kAddressMask = 0x80fffffc;
constexpr uint32_t kEnable = 0x80000000;
constexpr uint8_t kResetCpu = 0x04;
}  // namespace

ConfigTarget* ConfigIo::decode(uint64_t offset, size_t size, uint32_t& address) const {
  address = address_.load(std::memory_order_relaxed);
  if (target_ == nullptr || offset < kDataOffset || offset + size > kLength || (address & kEnable) == 0) return nullptr;
  return target_.get();
}

void ConfigIo::read(uint64_t offset, std::span<uint8_t> data) {
  if (offset == kAddressOffset && data.size() == 4) {
    const uint32_t v = address_.load(std::memory_order_relaxed);
    for (size_t i = 0; i < 4; ++i) data[i] = static_cast<uint8_t>(v >> (8 * i));  // little-endian port I/O
    return;
  }
  uint32_t a = 0;
  if (ConfigTarget* t = decode(offset, data.size(), a)) {
    t->config_read((a >> 16) & 0xff, (a >> 11) & 0x1f, (a >> 8) & 0x7,
                   (a & 0xfc) + static_cast<uint32_t>(offset - kDataOffset), data);
    return;
  }
  // CONFIG_DATA with nothing behind it, and narrow reads of 0xcf8..0xcfb.
  std::fill(data.begin(), data.end(), 0xff);
}

void ConfigIo::write(uint64_t offset, std::span<const uint8_t> data) {
  if (offset == kAddressOffset && data.size() == 4) {
    uint32_t v = 0;
    for (size_t i = 0; i < 4; ++i) v |= static_cast<uint32_t>(data[i]) << (8 * i);
    address_.store(v & kAddressMask, std::memory_order_relaxed);
    return;
  }
  if (offset == kResetControlOffset && data.size() == 1 && (data[0] & kResetCpu) != 0 && reset_) {
    reset_();
    return;
  }
  uint32_t a = 0;
  if (ConfigTarget* t = decode(offset, data.size(), a)) {
    t->config_write((a >> 16) & 0xff, (a >> 11) & 0x1f, (a >> 8) & 0x7,
                    (a & 0xfc) + static_cast<uint32_t>(offset - kDataOffset), data);
  }
  // Anything else goes nowhere.
}

}  // namespace kiln::pci
