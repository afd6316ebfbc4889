// The legacy virtio-PCI function (virtio 0.9.5, 2.1 "PCI Discovery" and 2.2.2 "The virtio
// header"): IDs and the header at the start of I/O BAR 0. With MSI-X enabled two vector fields
// follow the header and the device configuration moves from offset 20 to 24 (it moves back when
// MSI-X is turned off). The MSI-X table and PBA are in memory BAR 1.
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
// With MSI-X enabled (2.2.2, "Configuration/Queue Vectors").
inline constexpr uint64_t kConfigVector = 20;  // 16, R+W
inline constexpr uint64_t kQueueVector = 22;   // 16, R+W: the selected queue's vector
inline constexpr uint64_t kConfigMsix = 24;    // device configuration with MSI-X
inline constexpr uint16_t kNoVector = 0xffff;  // VIRTIO_MSI_NO_VECTOR

inline constexpr uint64_t kBarSize = 0x100;  // the header and up to 232 bytes of device configuration

// BAR 1: the MSI-X table at 0 and the PBA at 2 KiB (room for 128 vectors).
inline constexpr int kMsixBar = 1;
inline constexpr uint64_t kMsixBarSize = 0x1000;
inline constexpr uint64_t kMsixPbaOffset = 0x800;
inline constexpr uint16_t kMaxVectors = 128;

}  // namespace kiln::virtio::pci_legacy
