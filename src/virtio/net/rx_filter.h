// Which received frames the guest wants (virtio 0.9.5 Appendix C "Packet Receive Filtering", the
// way QEMU's virtio-net applies it): everything in promiscuous mode; otherwise broadcast, the
// device's own MAC and the unicast table, multicast when all-multicast is on or the address is
// in the multicast table; with VLAN filtering on, a tagged frame only for a VLAN the driver added.
// A table the driver overfills (more than kMaxEntries) lets its whole class through.
#pragma once

#include <bitset>
#include <cstdint>
#include <span>
#include <vector>

#include "snapshot/codec.h"
#include "virtio/net/mac_address.h"
#include "virtio/net/net_spec.h"

namespace kiln::virtio::net {

class RxFilter {
 public:
  static constexpr uint32_t kMaxEntries = 64;  // per table (QEMU's MAC_TABLE_ENTRIES)

  // The state after a device reset: promiscuous (as QEMU, until the driver says otherwise), empty
  // tables, no VLAN. `vlan_filtering`: CTRL_VLAN negotiated (else every VLAN passes).
  void reset(bool vlan_filtering);

  // The first bytes of an Ethernet frame (at least 18 for the VLAN check; fewer pass).
  [[nodiscard]] bool accepts(std::span<const uint8_t> frame, const MacAddress& own) const;

  void set_promisc(bool on) { promisc_ = on; }
  void set_allmulti(bool on) { allmulti_ = on; }
  // One table; `count` addresses, of which at most kMaxEntries are kept (more: overflow).
  void set_unicast(std::vector<MacAddress> table, uint64_t count);
  void set_multicast(std::vector<MacAddress> table, uint64_t count);
  void set_vlan(uint16_t vid, bool on) { vlans_[vid % kMaxVlan] = on; }

  [[nodiscard]] bool promisc() const { return promisc_; }
  [[nodiscard]] bool allmulti() const { return allmulti_; }
  [[nodiscard]] bool vlan(uint16_t vid) const { return vlans_[vid % kMaxVlan]; }
  [[nodiscard]] const std::vector<MacAddress>& unicast() const { return unicast_; }
  [[nodiscard]] const std::vector<MacAddress>& multicast() const { return multicast_; }

  void save(snapshot::Encoder& out) const;
  [[nodiscard]] Status restore(snapshot::Decoder& in);

 private:
  bool promisc_ = true;
  bool allmulti_ = false;
  bool unicast_overflow_ = false;
  bool multicast_overflow_ = false;
  bool vlan_filtering_ = false;
  std::vector<MacAddress> unicast_;
  std::vector<MacAddress> multicast_;
  std::bitset<kMaxVlan> vlans_;
};

}  // namespace kiln::virtio::net
