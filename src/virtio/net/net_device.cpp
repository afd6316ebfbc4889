#include "virtio/net/net_device.h"

#include <sys/epoll.h>

#include <cstring>

#include "common/log.h"

namespace kiln::virtio::net {
namespace {

// VIRTIO_F_ANY_LAYOUT (Linux's virtio_config.h): the header may share a buffer with the frame.
// kiln reads every chain as one byte stream, so any layout works.
constexpr unsigned kFAnyLayout = 27;

}  // namespace

NetDevice::NetDevice(std::unique_ptr<NetBackend> backend, MacAddress mac)
    : QueueDevice("kiln-net"),
      backend_(std::move(backend)),
      configured_mac_(mac),
      tap_supported_(backend_->supported_offloads()),
      mac_(mac) {
  // The tap is watched through an epoll set of its own, so that receive can stop watching it
  // while the guest has no buffers (EventLoop's sources are fixed for an activation).
  // The tap joins it once the guest posts receive buffers (watch_tap).
  tap_poll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!tap_poll_) log("virtio-net {}: cannot set up an epoll set ({}): receive is off", backend_->name(), std::strerror(errno));
  spill_.resize(kMrgHeaderBytes + kMaxFrameBytes);
}

uint64_t NetDevice::features() const {
  uint64_t f = feature(kFMac) | feature(kFStatus) | feature(kFCsum) | feature(kFHostTso4) | feature(kFHostTso6) |
               feature(kFHostEcn) | feature(kFMrgRxbuf) | feature(kFCtrlVq) | feature(kFCtrlRx) | feature(kFCtrlVlan) |
               feature(kFGuestAnnounce) | feature(kFCtrlMacAddr) | feature(kFCtrlGuestOffloads) |
               feature(kFRingIndirectDesc) | feature(kFRingEventIdx) | feature(kFAnyLayout);
  // Receive offloads need the tap to hand over such frames; UFO both ways needs a kernel with it.
  if ((tap_supported_ & kOffloadCsum) != 0) f |= feature(kFGuestCsum);
  if ((tap_supported_ & kOffloadTso4) != 0) f |= feature(kFGuestTso4);
  if ((tap_supported_ & kOffloadTso6) != 0) f |= feature(kFGuestTso6);
  if ((tap_supported_ & kOffloadTsoEcn) != 0) f |= feature(kFGuestEcn);
  if ((tap_supported_ & kOffloadUfo) != 0) f |= feature(kFGuestUfo) | feature(kFHostUfo);
  return f;
}

void NetDevice::read_config(uint64_t offset, std::span<uint8_t> data) {
  NetConfig config{};
  {
    std::lock_guard lock(config_mu_);
    config.mac = mac_;
    config.status = status_;
  }
  read_config_bytes(std::span(reinterpret_cast<const uint8_t*>(&config), sizeof(config)), offset, data);
}

void NetDevice::write_config(uint64_t offset, std::span<const uint8_t> data) {
  std::lock_guard lock(config_mu_);
  for (size_t i = 0; i < data.size(); ++i) {
    if (offset + i < mac_.size()) mac_[offset + i] = data[i];  // status is read-only
  }
}

MacAddress NetDevice::mac() const {
  std::lock_guard lock(config_mu_);
  return mac_;
}

uint16_t NetDevice::status() const {
  std::lock_guard lock(config_mu_);
  return status_;
}

NetCounters NetDevice::counters() const {
  const auto get = [](const std::atomic<uint64_t>& v) { return v.load(std::memory_order_relaxed); };
  return {get(counters_.rx_frames), get(counters_.rx_bytes), get(counters_.rx_drops), get(counters_.rx_filtered),
          get(counters_.tx_frames), get(counters_.tx_bytes), get(counters_.tx_drops)};
}

unsigned NetDevice::tap_offloads_for(uint64_t guest) const {
  const auto has = [&](unsigned bit) { return (guest & feature(bit)) != 0; };
  // tun honours TSO/ECN/UFO only together with CSUM (as the spec's GUEST_TSO needs GUEST_CSUM).
  if (!has(kFGuestCsum)) return 0;
  unsigned t = kOffloadCsum;
  if (has(kFGuestTso4)) t |= kOffloadTso4;
  if (has(kFGuestTso6)) t |= kOffloadTso6;
  if (has(kFGuestEcn) && (t & (kOffloadTso4 | kOffloadTso6)) != 0) t |= kOffloadTsoEcn;
  if (has(kFGuestUfo)) t |= kOffloadUfo;
  return t & tap_supported_;
}

Status NetDevice::configure_backend() {
  const unsigned offloads = tap_offloads_for(guest_offloads_);
  KILN_TRY(backend_->configure(header_bytes(), offloads));
  tap_offloads_.store(offloads, std::memory_order_relaxed);
  return {};
}

Status NetDevice::on_activate() {
  if (!activation().restored) {
    filter_.reset(negotiated(kFCtrlVlan));
    guest_offloads_ = activation().features & kGuestOffloadMask;
  }
  KILN_TRY(configure_backend());
  rx_buffers_.clear();
  rx_buffer_bytes_ = 0;
  rx_buffer_iovecs_ = 0;
  pending_len_.reset();
  rx_stopped_ = !tap_poll_;
  watch_tap(false);
  std::lock_guard lock(config_mu_);
  announce_ok_ = negotiated(kFGuestAnnounce) && negotiated(kFCtrlVq);
  if (!activation().restored) status_ = kStatusLinkUp;
  return {};
}

std::vector<EventLoop::Source> NetDevice::extra_sources() {
  if (!tap_poll_) return {};
  return {{tap_poll_.get(), [this] { receive(); }}};
}

void NetDevice::on_notify(uint16_t index) {
  switch (index) {
    case kRxQueue: return receive();
    case kTxQueue: return transmit();
    case kCtrlQueue: return control();
    default: return;
  }
}

Status NetDevice::on_pause() {
  // Nothing may stay in flight across a snapshot: a frame still waiting for buffers is dropped,
  // the buffers taken ahead go back to the available ring.
  SplitQueue* q = queue(kRxQueue);
  if (q == nullptr) return {};
  if (pending_len_) {
    pending_len_.reset();
    counters_.rx_drops.fetch_add(1, std::memory_order_relaxed);
  }
  release_buffers(*q);
  return {};
}

void NetDevice::on_reset() {
  rx_buffers_.clear();  // the driver takes every buffer back at reset
  rx_buffer_bytes_ = 0;
  rx_buffer_iovecs_ = 0;
  pending_len_.reset();
  watch_tap(false);
  std::lock_guard lock(config_mu_);
  announce_ok_ = false;
  mac_ = configured_mac_;  // a reset forgets what the driver set (as QEMU)
  status_ = kStatusLinkUp;
}

bool NetDevice::announce() {
  std::lock_guard lock(config_mu_);
  if (!announce_ok_) return false;
  status_ |= kStatusAnnounce;
  interrupt().config_changed();
  return true;
}

}  // namespace kiln::virtio::net
