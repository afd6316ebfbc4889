// The driver's own copy of the virtio 0.9.5 constants (../shared/spec/kvm-virtio-docs.diff). Kept
// apart from kiln's src/virtio/spec.h on purpose: a guest driver written from the spec alone
// cross-checks the device side instead of sharing its mistakes.
// Freestanding: <cstdint> only. Little-endian (x86 guests).
#pragma once

#include <cstdint>

namespace kiln::driver {

// 2.2.1 Device Status.
inline constexpr uint8_t kStatusAcknowledge = 1;
inline constexpr uint8_t kStatusDriver = 2;
inline constexpr uint8_t kStatusDriverOk = 4;
inline constexpr uint8_t kStatusFailed = 128;
// virtio 1.0 DEVICE_NEEDS_RESET; kiln sets it on a legacy transport too when it cannot use the
// queues it was given.
inline constexpr uint8_t kStatusNeedsReset = 64;

// Appendix B reserved feature bits.
inline constexpr unsigned kFeatureNotifyOnEmpty = 24;
inline constexpr unsigned kFeatureAnyLayout = 27;
inline constexpr unsigned kFeatureIndirectDesc = 28;
inline constexpr unsigned kFeatureEventIdx = 29;
inline constexpr unsigned kFeatureBadFeature = 30;
inline constexpr unsigned kFeatureVersion1 = 32;  // virtio 1.0; never on a legacy transport

constexpr uint64_t bit(unsigned n) { return uint64_t{1} << n; }

// 2.3.2 Descriptor flags; 2.3.4 / 2.3.5 ring flags.
inline constexpr uint16_t kDescNext = 1;
inline constexpr uint16_t kDescWrite = 2;
inline constexpr uint16_t kDescIndirect = 4;
inline constexpr uint16_t kAvailNoInterrupt = 1;
inline constexpr uint16_t kUsedNoNotify = 1;

// 2.3: "Queue Size ... maximum 32768", and a power of two.
inline constexpr uint16_t kMaxQueueSize = 32768;

struct Descriptor {
  uint64_t addr;
  uint32_t len;
  uint16_t flags;
  uint16_t next;
};
static_assert(sizeof(Descriptor) == 16);

struct UsedElement {
  uint32_t id;
  uint32_t len;
};
static_assert(sizeof(UsedElement) == 8);

// Subsystem device IDs (2.1).
inline constexpr uint32_t kDeviceNet = 1;
inline constexpr uint32_t kDeviceBlock = 2;
inline constexpr uint32_t kDeviceConsole = 3;
inline constexpr uint32_t kDeviceRng = 4;

// ISR / InterruptStatus bits.
inline constexpr uint32_t kInterruptUsedRing = 1;
inline constexpr uint32_t kInterruptConfig = 2;

// Appendix X: virtio-mmio registers (all 32 bits wide) and the config space at 0x100.
namespace mmio {
inline constexpr uint32_t kMagicValue = 0x000;
inline constexpr uint32_t kVersion = 0x004;
inline constexpr uint32_t kDeviceId = 0x008;
inline constexpr uint32_t kVendorId = 0x00c;
inline constexpr uint32_t kHostFeatures = 0x010;
inline constexpr uint32_t kHostFeaturesSel = 0x014;
inline constexpr uint32_t kGuestFeatures = 0x020;
inline constexpr uint32_t kGuestFeaturesSel = 0x024;
inline constexpr uint32_t kGuestPageSize = 0x028;
inline constexpr uint32_t kQueueSel = 0x030;
inline constexpr uint32_t kQueueNumMax = 0x034;
inline constexpr uint32_t kQueueNum = 0x038;
inline constexpr uint32_t kQueueAlign = 0x03c;
inline constexpr uint32_t kQueuePfn = 0x040;
inline constexpr uint32_t kQueueNotify = 0x050;
inline constexpr uint32_t kInterruptStatus = 0x060;
inline constexpr uint32_t kInterruptAck = 0x064;
inline constexpr uint32_t kStatus = 0x070;
inline constexpr uint32_t kConfig = 0x100;

inline constexpr uint32_t kMagic = 0x74726976;  // "virt"
inline constexpr uint32_t kLegacyVersion = 1;
}  // namespace mmio

// 2.2.2 legacy virtio-PCI header in I/O BAR 0 (offsets in bytes; widths in the names).
namespace pci {
inline constexpr uint16_t kVendorId = 0x1af4;
inline constexpr uint16_t kFirstDeviceId = 0x1000;  // legacy IDs 0x1000..0x103f
inline constexpr uint16_t kLastDeviceId = 0x103f;
inline constexpr uint32_t kHostFeatures32 = 0;
inline constexpr uint32_t kGuestFeatures32 = 4;
inline constexpr uint32_t kQueueAddress32 = 8;  // PFN of the ring, 4096-byte pages
inline constexpr uint32_t kQueueSize16 = 12;
inline constexpr uint32_t kQueueSelect16 = 14;
inline constexpr uint32_t kQueueNotify16 = 16;
inline constexpr uint32_t kStatus8 = 18;
inline constexpr uint32_t kIsr8 = 19;
inline constexpr uint32_t kConfigNoMsix = 20;
// With MSI-X enabled (2.2.2 "Configuration/Queue Vectors").
inline constexpr uint32_t kConfigVector16 = 20;
inline constexpr uint32_t kQueueVector16 = 22;
inline constexpr uint32_t kConfigMsix = 24;
inline constexpr uint16_t kNoVector = 0xffff;
inline constexpr uint32_t kQueueAlign = 4096;  // 2.3: fixed for virtio-PCI
inline constexpr uint32_t kPageShift = 12;
}  // namespace pci

// Appendix D: block device.
namespace blk {
inline constexpr unsigned kFeatureSizeMax = 1;
inline constexpr unsigned kFeatureSegMax = 2;
inline constexpr unsigned kFeatureGeometry = 4;
inline constexpr unsigned kFeatureReadOnly = 5;
inline constexpr unsigned kFeatureBlkSize = 6;
inline constexpr unsigned kFeatureFlush = 9;

inline constexpr uint32_t kConfigCapacity = 0;  // u64, in 512-byte sectors
inline constexpr uint32_t kConfigSizeMax = 8;
inline constexpr uint32_t kConfigSegMax = 12;
inline constexpr uint32_t kConfigBlkSize = 20;

inline constexpr uint32_t kTypeIn = 0;
inline constexpr uint32_t kTypeOut = 1;
inline constexpr uint32_t kTypeFlush = 4;
inline constexpr uint32_t kTypeGetId = 8;
inline constexpr uint32_t kIdBytes = 20;

inline constexpr uint8_t kStatusOk = 0;
inline constexpr uint8_t kStatusIoErr = 1;
inline constexpr uint8_t kStatusUnsupported = 2;

inline constexpr uint32_t kSectorSize = 512;

struct RequestHeader {
  uint32_t type;
  uint32_t ioprio;
  uint64_t sector;
};
static_assert(sizeof(RequestHeader) == 16);
}  // namespace blk

// Appendix "Console Device": port 0 uses queue 0 (receiveq) and queue 1 (transmitq).
namespace console {
inline constexpr unsigned kFeatureSize = 0;
inline constexpr unsigned kFeatureMultiport = 1;
inline constexpr uint16_t kReceiveQueue = 0;
inline constexpr uint16_t kTransmitQueue = 1;
}  // namespace console

}  // namespace kiln::driver
