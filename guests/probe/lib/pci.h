// PCI configuration mechanism #1 (PCI Local Bus Specification 3.0, 3.2.2.3.2): CONFIG_ADDRESS at
// 0xcf8, CONFIG_DATA at 0xcfc, 32-bit accesses, as Linux's pci_conf1 uses them.
#pragma once

#include <cstdint>

namespace kiln::probe {

inline constexpr uint16_t kPciConfigAddress = 0xcf8;
inline constexpr uint16_t kPciConfigData = 0xcfc;

[[nodiscard]] uint32_t pci_config_address(uint32_t bus, uint32_t device, uint32_t function, uint32_t reg);
[[nodiscard]] uint32_t pci_config_read32(uint32_t bus, uint32_t device, uint32_t function, uint32_t reg);
void pci_config_write32(uint32_t bus, uint32_t device, uint32_t function, uint32_t reg, uint32_t value);

struct PciFunction {
  uint8_t device;
  uint8_t function;
  uint16_t vendor_id;
  uint16_t device_id;
  uint32_t class_revision;  // register 0x08: class code << 8 | revision
  uint8_t header_type;
};

// Enumerates `bus` like Linux's pci_scan_slot: function 0 of each of the 32 devices, functions
// 1-7 only where function 0 says multi-function (header type bit 7); a vendor ID of 0xffff
// (or 0x0000) means "no function". Calls found(fn) for each one; returns the count.
template <class Found>
uint32_t pci_scan_bus(uint32_t bus, Found found) {
  uint32_t count = 0;
  for (uint32_t device = 0; device < 32; ++device) {
    for (uint32_t function = 0; function < 8; ++function) {
      const uint32_t id = pci_config_read32(bus, device, function, 0x00);
      const auto vendor = static_cast<uint16_t>(id & 0xffff);
      if (vendor == 0xffff || vendor == 0x0000) {
        if (function == 0) break;
        continue;
      }
      const PciFunction fn{static_cast<uint8_t>(device), static_cast<uint8_t>(function), vendor,
                           static_cast<uint16_t>(id >> 16), pci_config_read32(bus, device, function, 0x08),
                           static_cast<uint8_t>(pci_config_read32(bus, device, function, 0x0c) >> 16)};
      ++count;
      found(fn);
      if (function == 0 && (fn.header_type & 0x80) == 0) break;
    }
  }
  return count;
}

}  // namespace kiln::probe
