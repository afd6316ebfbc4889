// The malformed requests of probe=flood (flood.cpp): per device a table of kinds, each building
// one chain in four descriptors of a RawRing and saying whether the device can tell it is
// malformed and whether it comes back in the used ring; plus the valid requests that show a
// device still works afterwards.
#pragma once

#include <cstdint>

#include "probe/lib/virtio_env.h"
#include "probe/scenarios/scenario.h"

namespace kiln::probe {

inline constexpr uint16_t kFloodQueueSize = 64;
inline constexpr uint16_t kFloodBatch = 16;      // chains per round
inline constexpr uint16_t kDescsPerChain = 4;    // kFloodBatch * kDescsPerChain <= kFloodQueueSize

// Device-visible memory the chains point at (one page from the arena).
struct FloodScratch {
  uint64_t header_beyond = 0;   // blk IN header, sector 2^40
  uint64_t header_unknown = 0;  // blk header of type 0x40
  uint64_t header_in = 0;       // blk IN header, sector 0
  uint64_t status = 0;          // status bytes
  uint64_t buffer = 0;          // 512 bytes
};
[[nodiscard]] driver::Outcome<FloodScratch> make_flood_scratch(driver::Arena& arena);

struct FloodKind {
  const char* name;
  bool detectable;  // the device can tell (a guest error for it to count)
  bool returned;    // it comes back in the used ring (a head outside the queue cannot)
  // Writes descriptors first .. first+3 and returns the head to make available.
  uint16_t (*build)(driver::RawRing& raw, uint16_t first, const FloodScratch& s);
};

struct FloodKinds {
  const FloodKind* kinds;
  uint32_t count;
};

struct FloodDevice {
  uint32_t device_id;
  const char* name;      // result line: flood.rng
  const char* answered;  // check names
  const char* after;
  uint16_t queue;        // the queue flooded
  FloodKinds kinds;
};

// rng, blk, console (transmitq), in that order.
inline constexpr uint32_t kFloodDevices = 3;
[[nodiscard]] const FloodDevice* flood_devices();
// Malformed receive buffers for the console's receiveq.
[[nodiscard]] FloodKinds console_rx_kinds();

// One valid request on freshly set-up queues (console: a transmitted line); true if it completed
// as it should.
[[nodiscard]] bool valid_request(uint32_t device_id, Mmio& t, MmioQueue* queues, driver::Arena& arena);
// Posts one 64-byte receive buffer on `q` and waits up to `cycles` for input in it.
[[nodiscard]] bool receive(MmioQueue& q, driver::Arena& arena, uint64_t cycles);

}  // namespace kiln::probe
