// Network interfaces of a VM (virtio-net on a host tap): their configuration as the command line
// (--net tap=NAME[,mac=MAC][,id=ID][,transport=mmio|pci]), the API (PUT /network-interfaces/{iface_id}) and the config
// file ("network-interfaces") give it, its checks, its snapshot encoding and the restore override
// (--net-tap ID=NAME). Kept apart from VmConfig's other parts so it moves as one piece.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "config/virtio_transport.h"
#include "snapshot/codec.h"

namespace kiln {

struct NetConfig {
  std::string id;             // the API's iface_id ("netN" for the Nth --net without id=)
  std::string host_dev_name;  // an existing tap
  std::optional<std::string> guest_mac;  // unset: a locally administered MAC derived from the tap and id
  std::optional<VirtioTransport> transport{};  // unset: the machine's default (VmConfig::virtio_transport)
};

// Most interfaces a VM may have (each is one virtio device; the device slots are few).
inline constexpr size_t kMaxNets = 8;

// One --net value; `index` numbers the default id.
[[nodiscard]] Result<NetConfig> parse_net_spec(std::string_view spec, size_t index);
// One interface's fields (`what` names their source: "--net tap0", "network-interfaces[0]").
[[nodiscard]] Status check_net_config(std::string_view what, const NetConfig& net);
// All of a VM's interfaces: each valid, ids and taps unique, at most kMaxNets.
[[nodiscard]] Status check_net_configs(std::span<const NetConfig> nets);
// The MAC the guest sees: guest_mac, or derived (stable for the same tap and id).
[[nodiscard]] std::string effective_mac(const NetConfig& net);

void encode_net_configs(snapshot::Encoder& out, std::span<const NetConfig> nets);
[[nodiscard]] Result<std::vector<NetConfig>> decode_net_configs(snapshot::Decoder& in);

// `kiln restore --net-tap ID=NAME`: the snapshot's interface ID continues on tap NAME.
struct NetTapOverride {
  std::string iface_id;
  std::string host_dev_name;
};
[[nodiscard]] Result<NetTapOverride> parse_net_tap_override(std::string_view text);
[[nodiscard]] Status apply_net_taps(std::vector<NetConfig>& nets, std::span<const NetTapOverride> overrides);

}  // namespace kiln
