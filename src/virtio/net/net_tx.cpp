// Transmit (Appendix C "Transmitting Packets"): each chain's readable part is the header the
// driver negotiated followed by one Ethernet frame; it goes to the tap with one writev straight
// from guest memory. A malformed chain drops that frame only.
#include <algorithm>

#include "common/log.h"
#include "virtio/net/net_device.h"
#include "virtio/queue/chain_io.h"

namespace kiln::virtio::net {

void NetDevice::transmit() {
  SplitQueue* q = queue(kTxQueue);
  if (q == nullptr) return;
  const uint16_t used_before = q->next_used();
  unsigned served = 0;
  do {
    q->disable_notification();
    for (;;) {
      if (++served > kTxBatch) {  // come back through the loop (see kick())
        kick(kTxQueue);
        if (q->next_used() != used_before) interrupt_if_needed(*q);
        return;
      }
      const uint16_t avail_before = q->next_avail();
      auto chain = next_chain(*q, kTxQueue);
      // Chains the queue refused (outside RAM, looping, ...) were frames too: dropped.
      const uint16_t skipped = static_cast<uint16_t>(q->next_avail() - avail_before - (chain ? 1 : 0));
      if (skipped != 0) counters_.tx_drops.fetch_add(skipped, std::memory_order_relaxed);
      if (!chain) break;
      transmit_chain(*chain);
      (void)q->push_used(chain->head(), 0);
    }
  } while (q->enable_notification());
  if (q->next_used() != used_before) interrupt_if_needed(*q);
}

void NetDevice::transmit_chain(const DescriptorChain& chain) {
  const uint64_t bytes = chain.readable_bytes();
  const auto drop = [&] { counters_.tx_drops.fetch_add(1, std::memory_order_relaxed); };
  if (bytes < header_bytes()) {
    guest_errors().report("transmit chain at head {}: {} bytes, shorter than the {}-byte header", chain.head(), bytes,
                          header_bytes());
    return drop();
  }
  if (bytes - header_bytes() > kMaxFrameBytes) {
    guest_errors().report("transmit chain at head {}: a frame of {} bytes (at most {})", chain.head(),
                          bytes - header_bytes(), kMaxFrameBytes);
    return drop();
  }
  if (chain.readable().size() > kMaxTxSegments) {
    guest_errors().report("transmit chain at head {}: {} segments (at most {})", chain.head(), chain.readable().size(),
                          kMaxTxSegments);
    return drop();
  }
  SegmentCursor cursor(mem(), chain.readable());
  auto iov = cursor.take_iovecs(bytes);
  if (!iov) {
    guest_errors().report("transmit chain at head {}: {}", chain.head(), iov.error().message);
    return drop();
  }
  if (auto ok = backend_->write(*iov); !ok) {
    // The host side refused it (tap down, a header the kernel rejects): not kiln's to fix.
    if (!tx_error_logged_) {
      tx_error_logged_ = true;
      log("virtio-net {}: {} (frames are dropped; logged once)", backend_->name(), ok.error().message);
    }
    return drop();
  }
  counters_.tx_frames.fetch_add(1, std::memory_order_relaxed);
  counters_.tx_bytes.fetch_add(bytes - header_bytes(), std::memory_order_relaxed);
}

}  // namespace kiln::virtio::net
