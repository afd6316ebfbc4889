// Constants of the virtio 0.9.5 specification (../shared/spec/kvm-virtio-docs.diff) shared by every
// device and transport. Ring structures are little-endian; kiln runs on x86_64 only.
#pragma once

#include <cstdint>

namespace kiln::virtio {

// 2.2.1 Device Status.
inline constexpr uint8_t kStatusAcknowledge = 1;
inline constexpr uint8_t kStatusDriver = 2;
inline constexpr uint8_t kStatusDriverOk = 4;
inline constexpr uint8_t kStatusFeaturesOk = 8;  // virtio 1.0; legacy drivers never set it
inline constexpr uint8_t kStatusFailed = 128;
// virtio 1.0 DEVICE_NEEDS_RESET: kiln sets it when a driver hands over queues it cannot use.
inline constexpr uint8_t kStatusNeedsReset = 64;

// Appendix B reserved feature bits.
inline constexpr unsigned kFNotifyOnEmpty = 24;
inline constexpr unsigned kFRingIndirectDesc = 28;
inline constexpr unsigned kFRingEventIdx = 29;
inline constexpr unsigned kFBadFeature = 30;

constexpr uint64_t feature(unsigned bit) { return uint64_t{1} << bit; }

// 2.3.2 The virtqueue: descriptor flags.
inline constexpr uint16_t kDescFNext = 1;
inline constexpr uint16_t kDescFWrite = 2;
inline constexpr uint16_t kDescFIndirect = 4;
// Available ring flag: the driver does not want interrupts. Used ring flag: no notifications.
inline constexpr uint16_t kAvailFNoInterrupt = 1;
inline constexpr uint16_t kUsedFNoNotify = 1;

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

// Largest queue the spec allows (2.3: "Queue Size ... maximum 32768").
inline constexpr uint16_t kMaxQueueSize = 32768;

// Device IDs (Appendix / 2.1).
inline constexpr uint32_t kIdNet = 1;
inline constexpr uint32_t kIdBlock = 2;
inline constexpr uint32_t kIdConsole = 3;
inline constexpr uint32_t kIdRng = 4;
inline constexpr uint32_t kIdBalloon = 5;
inline constexpr uint32_t kIdVsock = 19;  // virtio 1.1, 5.10

// Interrupt status bits (ISR, 2.2.2 / Appendix X InterruptStatus).
inline constexpr uint32_t kInterruptVring = 1;
inline constexpr uint32_t kInterruptConfig = 2;

}  // namespace kiln::virtio
