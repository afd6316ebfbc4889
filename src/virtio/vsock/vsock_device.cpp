#include "virtio/vsock/vsock_device.h"

#include "virtio/queue/chain_io.h"

namespace kiln::virtio::vsock {

Result<std::shared_ptr<VsockDevice>> VsockDevice::create(MuxerOptions options) {
  if (options.guest_cid < kMinGuestCid || options.guest_cid > kMaxGuestCid) {
    return fail("guest CID {} is reserved (use {} to {})", options.guest_cid, kMinGuestCid, kMaxGuestCid);
  }
  auto device = std::shared_ptr<VsockDevice>(new VsockDevice(nullptr));
  device->muxer_ = KILN_TRY_VALUE(Muxer::create(std::move(options), &device->guest_errors()));
  return device;
}

void VsockDevice::read_config(uint64_t offset, std::span<uint8_t> data) {
  const Config config{guest_cid()};
  read_config_bytes(std::span(reinterpret_cast<const uint8_t*>(&config), sizeof(config)), offset, data);
}

std::vector<EventLoop::Source> VsockDevice::extra_sources() {
  return {{muxer_->epoll_fd(), [this] {
             muxer_->on_host_events();
             serve_rx();
             publish_stats();
           }}};
}

void VsockDevice::on_notify(uint16_t queue) {
  switch (queue) {
    case kRxQueue: serve_rx(); break;
    case kTxQueue: serve_tx(); break;
    case kEventQueue: serve_event(); break;
    default: break;
  }
  publish_stats();
}

void VsockDevice::serve_rx() {
  SplitQueue* q = queue(kRxQueue);
  if (q == nullptr) return;
  bool used = false;
  unsigned served = 0;
  while (muxer_->has_rx()) {
    if (++served > kBatch) {
      kick(kRxQueue);
      break;
    }
    if (!held_rx_) {
      held_rx_ = next_chain(*q, kRxQueue);
      if (!held_rx_) break;  // the guest's notify brings us back
    }
    const DescriptorChain& chain = *held_rx_;
    ChainWriter payload(mem(), chain);
    Result<std::vector<iovec>> iov;
    if (chain.writable_bytes() < kHeaderSize || !payload.skip(kHeaderSize)) {
      guest_errors().report("rx buffer at head {} holds {} writable bytes, below a packet header", chain.head(),
                            chain.writable_bytes());
    } else {
      iov = payload.take_iovecs(std::min<uint64_t>(payload.remaining(), kMaxPayload));
    }
    if (!iov) {
      (void)q->push_used(chain.head(), 0);
      held_rx_.reset();
      used = true;
      continue;
    }
    const std::optional<Header> h = muxer_->next_rx(*iov);
    if (!h) break;  // the buffer stays held for the next packet
    ChainWriter writer(mem(), chain);
    (void)writer.write(encode_header(*h));
    (void)q->push_used(chain.head(), kHeaderSize + h->len);
    held_rx_.reset();
    used = true;
  }
  if (used) interrupt_if_needed(*q);
  if (tx_waiting_ && !muxer_->tx_blocked()) {
    tx_waiting_ = false;
    kick(kTxQueue);
  }
}

void VsockDevice::serve_tx() {
  SplitQueue* q = queue(kTxQueue);
  if (q == nullptr) return;
  bool used = false;
  unsigned served = 0;
  for (;;) {
    if (muxer_->tx_blocked()) {  // serve_rx kicks tx once the guest took the RSTs
      tx_waiting_ = true;
      break;
    }
    if (++served > kBatch) {
      kick(kTxQueue);
      break;
    }
    auto chain = next_chain(*q, kTxQueue);
    if (!chain) break;
    handle_tx_chain(*chain);
    (void)q->push_used(chain->head(), 0);
    used = true;
  }
  if (used) interrupt_if_needed(*q);
  serve_rx();  // answers (RESPONSE, RST, credit) and data the new credit allows
}

void VsockDevice::handle_tx_chain(const DescriptorChain& chain) {
  ChainReader reader(mem(), chain);
  std::array<uint8_t, kHeaderSize> raw{};
  if (!reader.read(raw)) {
    guest_errors().report("tx packet at head {}: {} readable bytes, below a packet header", chain.head(),
                          chain.readable_bytes());
    return;
  }
  const Header h = decode_header(raw);
  const uint64_t payload_bytes = reader.remaining();
  auto iov = reader.take_iovecs(std::min<uint64_t>({h.len, payload_bytes, kMaxPayload}));
  if (!iov) {
    guest_errors().report("tx packet at head {}: {}", chain.head(), iov.error().message);
    return;
  }
  muxer_->on_guest_packet(h, *iov, payload_bytes);
}

void VsockDevice::serve_event() {
  if (!reset_event_pending_.load(std::memory_order_acquire)) return;
  SplitQueue* q = queue(kEventQueue);
  if (q == nullptr) return;
  auto chain = next_chain(*q, kEventQueue);
  if (!chain) return;  // sent when the driver posts an event buffer
  ChainWriter writer(mem(), *chain);
  const bool ok = writer.write_obj(WireEvent{kEventTransportReset}).has_value();
  if (!ok) guest_errors().report("event buffer at head {} is below 4 bytes", chain->head());
  (void)q->push_used(chain->head(), ok ? sizeof(WireEvent) : 0);
  interrupt_if_needed(*q);
  if (ok) reset_event_pending_.store(false, std::memory_order_release);
}

Status VsockDevice::on_pause() {
  if (held_rx_) {
    if (SplitQueue* q = queue(kRxQueue); q != nullptr) {
      (void)q->push_used(held_rx_->head(), 0);
      interrupt_if_needed(*q);
    }
    held_rx_.reset();
  }
  return {};
}

void VsockDevice::on_reset() {
  held_rx_.reset();
  tx_waiting_ = false;
  muxer_->reset();
  publish_stats();
}

void VsockDevice::publish_stats() {
  connections_.store(muxer_->connection_count(), std::memory_order_release);
  buffered_.store(muxer_->buffered_bytes(), std::memory_order_release);
}

namespace {
struct VsockRecord {
  uint64_t guest_cid;
};
}  // namespace

void VsockDevice::save_state(snapshot::Encoder& out) const { out.pod(VsockRecord{guest_cid()}); }

Status VsockDevice::restore_state(snapshot::Decoder& in) {
  VsockRecord r{};
  KILN_TRY(in.pod(r));
  if (r.guest_cid != guest_cid()) {
    return fail("vsock: the snapshot's guest CID is {}, this device's {}", r.guest_cid, guest_cid());
  }
  // 5.10.6.6: the connections did not survive; tell the driver once it runs.
  reset_event_pending_.store(true, std::memory_order_release);
  return {};
}

}  // namespace kiln::virtio::vsock
