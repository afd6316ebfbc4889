// The network device's snapshot record: the MAC and status the guest sees, the guest offloads
// and the receive filter. The tap itself is not saved: restore opens the tap the VMM names (the
// same one, or another). A receive frame held for missing buffers was dropped at pause.
#include "virtio/net/net_device.h"

namespace kiln::virtio::net {
namespace {

struct NetRecord {
  uint8_t mac[6];
  uint16_t status;
  uint64_t guest_offloads;
};
static_assert(sizeof(NetRecord) == 16);

}  // namespace

void NetDevice::save_state(snapshot::Encoder& out) const {
  NetRecord r{};
  {
    std::lock_guard lock(config_mu_);
    std::copy(mac_.begin(), mac_.end(), r.mac);
    r.status = status_;
  }
  r.guest_offloads = guest_offloads_;
  out.pod(r);
  filter_.save(out);
}

Status NetDevice::restore_state(snapshot::Decoder& in) {
  NetRecord r{};
  KILN_TRY(in.pod(r));
  if ((r.status & ~(kStatusLinkUp | kStatusAnnounce)) != 0) return in.invalid("network status has unknown bits");
  if ((r.guest_offloads & ~kGuestOffloadMask) != 0) return in.invalid("guest offloads hold non-offload bits");
  if ((r.guest_offloads & ~features()) != 0) {
    return fail("tap {}: the snapshot's guest uses receive offloads {:#x} this tap does not support", backend_->name(),
                r.guest_offloads & ~features());
  }
  RxFilter filter;
  KILN_TRY(filter.restore(in));
  filter_ = std::move(filter);
  guest_offloads_ = r.guest_offloads;
  std::lock_guard lock(config_mu_);
  std::copy(std::begin(r.mac), std::end(r.mac), mac_.begin());
  status_ = r.status;
  return {};
}

}  // namespace kiln::virtio::net
