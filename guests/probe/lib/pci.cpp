#include "probe/lib/pci.h"

#include "runtime/io.h"

namespace kiln::probe {

uint32_t pci_config_address(uint32_t bus, uint32_t device, uint32_t function, uint32_t reg) {
  // Bit 31 enable, 23:16 bus, 15:11 device, 10:8 function, 7:2 register.
  return 0x80000000u | ((bus & 0xff) << 16) | ((device & 0x1f) << 11) | ((function & 0x7) << 8) | (reg & 0xfc);
}

uint32_t pci_config_read32(uint32_t bus, uint32_t device, uint32_t function, uint32_t reg) {
  guest::outl(kPciConfigAddress, pci_config_address(bus, device, function, reg));
  return guest::inl(kPciConfigData);
}

void pci_config_write32(uint32_t bus, uint32_t device, uint32_t function, uint32_t reg, uint32_t value) {
  guest::outl(kPciConfigAddress, pci_config_address(bus, device, function, reg));
  guest::outl(kPciConfigData, value);
}

}  // namespace kiln::probe
