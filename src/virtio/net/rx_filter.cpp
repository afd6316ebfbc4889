#include "virtio/net/rx_filter.h"

#include <algorithm>
#include <cstring>

namespace kiln::virtio::net {

void RxFilter::reset(bool vlan_filtering) {
  *this = RxFilter{};
  vlan_filtering_ = vlan_filtering;
}

void RxFilter::set_unicast(std::vector<MacAddress> table, uint64_t count) {
  unicast_overflow_ = count > kMaxEntries;
  unicast_ = unicast_overflow_ ? std::vector<MacAddress>{} : std::move(table);
}

void RxFilter::set_multicast(std::vector<MacAddress> table, uint64_t count) {
  multicast_overflow_ = count > kMaxEntries;
  multicast_ = multicast_overflow_ ? std::vector<MacAddress>{} : std::move(table);
}

bool RxFilter::accepts(std::span<const uint8_t> frame, const MacAddress& own) const {
  if (promisc_) return true;
  if (frame.size() < 14) return true;  // not even an Ethernet header: the guest's stack decides
  // 802.1Q: TPID 0x8100 at offset 12, the VLAN ID in the low 12 bits of the TCI.
  if (vlan_filtering_ && frame.size() >= 16 && frame[12] == 0x81 && frame[13] == 0x00) {
    const uint16_t vid = static_cast<uint16_t>(((frame[14] << 8) | frame[15]) & 0xfff);
    if (!vlans_[vid]) return false;
  }
  MacAddress dest{};
  std::memcpy(dest.data(), frame.data(), dest.size());
  const auto in = [&](const std::vector<MacAddress>& table) { return std::find(table.begin(), table.end(), dest) != table.end(); };
  if ((dest[0] & 1) != 0) {
    if (dest == MacAddress{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}) return true;
    return allmulti_ || multicast_overflow_ || in(multicast_);
  }
  return dest == own || unicast_overflow_ || in(unicast_);
}

namespace {
void save_table(snapshot::Encoder& out, const std::vector<MacAddress>& t) {
  out.u32(static_cast<uint32_t>(t.size()));
  for (const MacAddress& m : t) out.bytes(m);
}

Status restore_table(snapshot::Decoder& in, std::vector<MacAddress>& t) {
  auto n = KILN_TRY_VALUE(in.u32());
  if (n > RxFilter::kMaxEntries) return in.invalid("MAC table longer than 64 entries");
  t.clear();
  for (uint32_t i = 0; i < n; ++i) {
    auto b = KILN_TRY_VALUE(in.bytes(6));
    if (b.size() != 6) return in.invalid("MAC table entry is not 6 bytes");
    MacAddress m{};
    std::memcpy(m.data(), b.data(), 6);
    t.push_back(m);
  }
  return {};
}
}  // namespace

void RxFilter::save(snapshot::Encoder& out) const {
  out.boolean(promisc_);
  out.boolean(allmulti_);
  out.boolean(unicast_overflow_);
  out.boolean(multicast_overflow_);
  out.boolean(vlan_filtering_);
  save_table(out, unicast_);
  save_table(out, multicast_);
  std::vector<uint8_t> bits(kMaxVlan / 8);
  for (uint32_t v = 0; v < kMaxVlan; ++v) {
    if (vlans_[v]) bits[v / 8] = static_cast<uint8_t>(bits[v / 8] | (1u << (v % 8)));
  }
  out.bytes(bits);
}

Status RxFilter::restore(snapshot::Decoder& in) {
  RxFilter f;
  bool* flags[] = {&f.promisc_, &f.allmulti_, &f.unicast_overflow_, &f.multicast_overflow_, &f.vlan_filtering_};
  for (bool* flag : flags) {
    *flag = KILN_TRY_VALUE(in.boolean());
  }
  KILN_TRY(restore_table(in, f.unicast_));
  KILN_TRY(restore_table(in, f.multicast_));
  auto bits = KILN_TRY_VALUE(in.bytes(kMaxVlan / 8));
  if (bits.size() != kMaxVlan / 8) return in.invalid("VLAN bitmap is not 512 bytes");
  for (uint32_t v = 0; v < kMaxVlan; ++v) f.vlans_[v] = ((bits[v / 8] >> (v % 8)) & 1) != 0;
  *this = std::move(f);
  return {};
}

}  // namespace kiln::virtio::net
