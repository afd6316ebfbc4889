// The control virtqueue (Appendix C "Control Virtqueue"; the classes beyond RX, MAC and VLAN as
// Linux's virtio_net.h defines them): class, command and data in the readable part, one status
// byte (VIRTIO_NET_OK / VIRTIO_NET_ERR) written into the writable part.
#include "virtio/net/net_device.h"
#include "virtio/queue/chain_io.h"
#include "virtio/queue/guest_error.h"

namespace kiln::virtio::net {
namespace {

// A MAC table of the TABLE_SET command: u32 entries, then the addresses.
Result<std::pair<std::vector<MacAddress>, uint64_t>> read_table(ChainReader& r) {
  auto count = KILN_TRY_VALUE(r.read_obj<uint32_t>());
  if (uint64_t{count} * 6 > r.remaining()) return fail_guest("MAC table of {} entries in {} bytes", count, r.remaining());
  std::vector<MacAddress> table;
  if (count > RxFilter::kMaxEntries) {
    KILN_TRY(r.skip(uint64_t{count} * 6));  // overflow: the whole class passes
    return std::pair{std::move(table), uint64_t{count}};
  }
  for (uint32_t i = 0; i < count; ++i) {
    table.push_back(KILN_TRY_VALUE(r.read_obj<MacAddress>()));
  }
  return std::pair{std::move(table), uint64_t{count}};
}

}  // namespace

void NetDevice::control() {
  SplitQueue* q = queue(kCtrlQueue);
  if (q == nullptr) return;
  const uint16_t used_before = q->next_used();
  unsigned served = 0;
  do {
    q->disable_notification();
    for (;; ++served) {
      if (served == kCtrlBatch) {  // come back through the loop; notifications stay off meanwhile
        kick(kCtrlQueue);
        if (q->next_used() != used_before) interrupt_if_needed(*q);
        return;
      }
      auto chain = next_chain(*q, kCtrlQueue);
      if (!chain) break;
      const uint8_t ack = control_command(*chain);
      ChainWriter w(mem(), *chain);
      uint32_t written = 0;
      if (w.write_obj(ack)) {
        written = 1;
      } else {
        guest_errors().report("control command at head {}: no writable byte for the status", chain->head());
      }
      (void)q->push_used(chain->head(), written);
    }
    // With EVENT_IDX the driver notifies again only once avail_event is published (2.4.4.1):
    // publish it, then look once more for commands that raced it.
  } while (q->enable_notification());
  if (q->next_used() != used_before) interrupt_if_needed(*q);
}

uint8_t NetDevice::control_command(const DescriptorChain& chain) {
  ChainReader r(mem(), chain);
  auto header = r.read_obj<std::array<uint8_t, 2>>();
  if (!header) {
    guest_errors().report("control command at head {}: no class and command", chain.head());
    return kCtrlErr;
  }
  const uint8_t cls = (*header)[0];
  const uint8_t cmd = (*header)[1];
  const auto malformed = [&](std::string_view why) {
    guest_errors().report("control command {}.{} at head {}: {}", cls, cmd, chain.head(), why);
    return kCtrlErr;
  };
  switch (cls) {
    case kCtrlRx: {
      if (!negotiated(kFCtrlRx) || (cmd != kCtrlRxPromisc && cmd != kCtrlRxAllmulti)) return kCtrlErr;
      auto on = r.read_obj<uint8_t>();
      if (!on) return malformed("no on/off byte");
      if (cmd == kCtrlRxPromisc) filter_.set_promisc(*on != 0);
      else filter_.set_allmulti(*on != 0);
      return kCtrlOk;
    }
    case kCtrlMac: {
      if (cmd == kCtrlMacAddrSet && negotiated(kFCtrlMacAddr)) {
        auto mac = r.read_obj<MacAddress>();
        if (!mac) return malformed("no address");
        std::lock_guard lock(config_mu_);
        mac_ = *mac;
        return kCtrlOk;
      }
      if (cmd != kCtrlMacTableSet || !negotiated(kFCtrlRx)) return kCtrlErr;
      auto unicast = read_table(r);
      if (!unicast) return malformed(unicast.error().message);
      auto multicast = read_table(r);
      if (!multicast) return malformed(multicast.error().message);
      filter_.set_unicast(std::move(unicast->first), unicast->second);
      filter_.set_multicast(std::move(multicast->first), multicast->second);
      return kCtrlOk;
    }
    case kCtrlVlan: {
      if (!negotiated(kFCtrlVlan) || (cmd != kCtrlVlanAdd && cmd != kCtrlVlanDel)) return kCtrlErr;
      auto vid = r.read_obj<uint16_t>();
      if (!vid) return malformed("no VLAN ID");
      if (*vid >= kMaxVlan) return malformed("VLAN ID above 4095");
      filter_.set_vlan(*vid, cmd == kCtrlVlanAdd);
      return kCtrlOk;
    }
    case kCtrlAnnounce: {
      if (!negotiated(kFGuestAnnounce) || cmd != kCtrlAnnounceAck) return kCtrlErr;
      std::lock_guard lock(config_mu_);
      status_ = static_cast<uint16_t>(status_ & ~kStatusAnnounce);
      return kCtrlOk;
    }
    case kCtrlGuestOffloads: {
      if (!negotiated(kFCtrlGuestOffloads) || cmd != kCtrlGuestOffloadsSet) return kCtrlErr;
      auto offloads = r.read_obj<uint64_t>();
      if (!offloads) return malformed("no offload bits");
      // Only offloads negotiated at start may be switched (Linux virtio_net.h).
      if ((*offloads & ~(activation().features & kGuestOffloadMask)) != 0) return malformed("offloads not negotiated");
      const uint64_t old = guest_offloads_;
      guest_offloads_ = *offloads;
      if (auto ok = configure_backend(); !ok) {
        guest_offloads_ = old;
        return kCtrlErr;
      }
      return kCtrlOk;
    }
    default: return kCtrlErr;
  }
}

}  // namespace kiln::virtio::net
