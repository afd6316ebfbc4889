// The legacy virtio-PCI function (virtio 0.9.5, 2.1 "PCI Discovery" and 2.2.2 "The virtio
// header"): IDs and the header at the start of I/O BAR 0. kiln offers no MSI-X, so the two vector
// fields never appear and device configuration starts at offset 20.
#pragma once

#include <cstdint>

namespace kiln::virtio::pci_legacy {

inline constexpr uint16_t kVendorId = 0x1af4;  // 2.1: Qumranet / Red Hat
inline constexpr uint8_t kRevisionId = 0;      // legacy ABI version (Linux VIRTIO_PCI_ABI_VERSION)

// Header fields: offset and width in bytes (2.2.2).
inline constexpr uint64_t kHostFeatures = 0;   // 32, R
inline constexpr uint64_t kGuestFeatures = 4;  // 32, R+W
inline constexpr uint64_t kQueueAddress = 8;   // 32, R+W: PFN of the ring, 4096-byte pages
inline constexpr uint64_t kQueueSize = 12;     // 16, R
inline constexpr uint64_t kQueueSelect = 14;   // 16, R+W
inline constexpr uint64_t kQueueNotify = 16;   // 16, R+W
inline constexpr uint64_t kStatus = 18;        // 8, R+W
inline constexpr uint64_t kIsr = 19;           // 8, R, reading clears it
inline constexpr uint64_t kConfig = 20;        // device configuration without MSI-X

inline constexpr uint64_t kBarSize = 0x100;  // the header and up to 236 bytes of device configuration

}  // namespace kiln::virtio::pci_legacy
