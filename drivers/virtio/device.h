// Transport-independent device bring-up (virtio 0.9.5, 2.2.1 "Device Initialization Sequence")
// and a queue bound to the transport that notifies it. Works with LegacyMmio and LegacyPci.
#pragma once

#include <cstdint>

#include "drivers/virtio/defs.h"
#include "drivers/virtio/split_ring.h"

namespace kiln::driver {

// Reset, ACKNOWLEDGE, DRIVER, read the offered features, accept `wanted` & offered, and get the
// transport ready for queue set-up. Fails (setting FAILED) if a `required` feature is missing.
// Returns the accepted features.
template <class Transport>
[[nodiscard]] Outcome<uint64_t> negotiate(Transport& t, uint64_t wanted, uint64_t required = 0) {
  t.reset();
  t.set_status(kStatusAcknowledge);
  t.set_status(kStatusAcknowledge | kStatusDriver);
  const uint64_t offered = t.host_features();
  if ((offered & required) != required) {
    t.set_status(kStatusAcknowledge | kStatusDriver | kStatusFailed);
    return Error::feature_missing;
  }
  const uint64_t accepted = offered & (wanted | required);
  t.set_guest_features(accepted);
  t.prepare_queues();
  return accepted;
}

// The ring options that follow from the accepted features.
[[nodiscard]] inline RingOptions ring_options(uint64_t accepted, uint16_t indirect_max) {
  RingOptions o;
  o.event_idx = (accepted & bit(kFeatureEventIdx)) != 0;
  o.indirect_max = (accepted & bit(kFeatureIndirectDesc)) != 0 ? indirect_max : 0;
  return o;
}

// Sets DRIVER_OK; fails if the device then reports FAILED or NEEDS_RESET, or did not keep DRIVER_OK.
template <class Transport>
[[nodiscard]] Error driver_ok(Transport& t) {
  t.set_status(kStatusAcknowledge | kStatusDriver | kStatusDriverOk);
  const uint8_t s = t.status();
  if ((s & (kStatusFailed | kStatusNeedsReset)) != 0 || (s & kStatusDriverOk) == 0) return Error::device_failed;
  return Error::none;
}

// A SplitRing together with the transport and queue index its notifications go to.
template <class Transport>
class Queue {
 public:
  Queue() = default;
  Queue(Transport* t, uint16_t index, SplitRing ring) : transport_(t), index_(index), ring_(ring) {}

  [[nodiscard]] Outcome<uint16_t> add(const Segment* segs, uint16_t readable, uint16_t writable, uint64_t token) {
    return ring_.add(segs, readable, writable, token);
  }
  // Notifies the device if it asked for it (2.4.1.4); returns whether it did.
  bool kick() {
    if (!ring_.kick_prepare()) return false;
    transport_->notify(index_);
    return true;
  }
  [[nodiscard]] Poll poll(Completion& c) { return ring_.poll(c); }

  // Polls until one completion arrives or `spins` polls found nothing (then Poll::empty).
  [[nodiscard]] Poll wait(Completion& c, uint64_t spins) {
    for (uint64_t i = 0; i < spins; ++i) {
      const Poll p = ring_.poll(c);
      if (p != Poll::empty) return p;
      __builtin_ia32_pause();
    }
    return Poll::empty;
  }

  [[nodiscard]] SplitRing& ring() { return ring_; }
  [[nodiscard]] uint16_t index() const { return index_; }

 private:
  Transport* transport_ = nullptr;
  uint16_t index_ = 0;
  SplitRing ring_;
};

// Negotiated features plus set-up of one queue: the common case of the probe's scenarios.
template <class Transport>
[[nodiscard]] Outcome<Queue<Transport>> setup_queue(Transport& t, Arena& arena, uint16_t index, uint16_t max_entries,
                                                    const RingOptions& opts) {
  auto ring = t.setup_queue(arena, index, max_entries, opts);
  if (!ring) return ring.error();
  return Queue<Transport>(&t, index, ring.value());
}

}  // namespace kiln::driver
