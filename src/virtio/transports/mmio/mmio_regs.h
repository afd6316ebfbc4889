// Register offsets of the legacy virtio-mmio transport (virtio 0.9.5, Appendix X).
#pragma once

#include <cstdint>

namespace kiln::virtio::mmio {

inline constexpr uint64_t kMagicValue = 0x000;
inline constexpr uint64_t kVersion = 0x004;
inline constexpr uint64_t kDeviceId = 0x008;
inline constexpr uint64_t kVendorId = 0x00c;
inline constexpr uint64_t kHostFeatures = 0x010;
inline constexpr uint64_t kHostFeaturesSel = 0x014;
inline constexpr uint64_t kGuestFeatures = 0x020;
inline constexpr uint64_t kGuestFeaturesSel = 0x024;
inline constexpr uint64_t kGuestPageSize = 0x028;
inline constexpr uint64_t kQueueSel = 0x030;
inline constexpr uint64_t kQueueNumMax = 0x034;
inline constexpr uint64_t kQueueNum = 0x038;
inline constexpr uint64_t kQueueAlign = 0x03c;
inline constexpr uint64_t kQueuePfn = 0x040;
inline constexpr uint64_t kQueueNotify = 0x050;
inline constexpr uint64_t kInterruptStatus = 0x060;
inline constexpr uint64_t kInterruptAck = 0x064;
inline constexpr uint64_t kStatus = 0x070;
inline constexpr uint64_t kConfig = 0x100;

inline constexpr uint32_t kMagic = 0x74726976;  // "virt"
inline constexpr uint32_t kLegacyVersion = 1;
inline constexpr uint32_t kVendor = 0x4e4c494b;  // "KILN"
inline constexpr uint64_t kWindowSize = 0x1000;

}  // namespace kiln::virtio::mmio
