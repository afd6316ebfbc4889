#include "config/net_config.h"

#include <fmt/format.h>
#include <net/if.h>

#include <set>

#include "virtio/net/mac_address.h"

namespace kiln {
namespace {

constexpr size_t kMaxId = 64;

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxId) return false;
  for (const char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') return false;
  }
  return true;
}

std::string iface_ids(std::span<const NetConfig> nets) {
  if (nets.empty()) return "it has no network interfaces";
  std::string ids;
  for (size_t i = 0; i < nets.size(); ++i) ids += (i ? ", " : "its interfaces are ") + nets[i].id;
  return ids;
}

}  // namespace

Result<NetConfig> parse_net_spec(std::string_view spec, size_t index) {
  NetConfig net;
  net.id = fmt::format("net{}", index);
  const auto usage = [&](std::string_view why) {
    return fail("--net '{}': {} (expected tap=NAME[,mac=MAC][,id=ID][,transport=mmio|pci])", spec, why);
  };
  size_t start = 0;
  while (start <= spec.size()) {
    const size_t comma = spec.find(',', start);
    const std::string_view part = spec.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    start = comma == std::string_view::npos ? spec.size() + 1 : comma + 1;
    if (part.starts_with("tap=")) {
      net.host_dev_name = part.substr(4);
    } else if (part.starts_with("mac=")) {
      net.guest_mac = std::string(part.substr(4));
    } else if (part.starts_with("id=")) {
      net.id = part.substr(3);
    } else if (part.starts_with(kTransportKey)) {
      net.transport = KILN_TRY_VALUE(parse_virtio_transport(fmt::format("--net {}: transport", spec),
                                                            part.substr(kTransportKey.size())));
    } else {
      return usage(fmt::format("unknown option '{}'", part));
    }
  }
  if (net.host_dev_name.empty()) return usage("needs tap=NAME");
  KILN_TRY(check_net_config(fmt::format("--net {}", spec), net));
  return net;
}

Status check_net_config(std::string_view what, const NetConfig& net) {
  if (!valid_id(net.id)) return fail("{}: interface id '{}' must be 1 to {} letters, digits, '_', '-' or '.'", what, net.id, kMaxId);
  if (net.host_dev_name.empty() || net.host_dev_name.size() >= IFNAMSIZ ||
      net.host_dev_name.find_first_of("/ \t\n:") != std::string::npos) {
    return fail("{}: tap name '{}' is not an interface name (1 to {} characters, no '/', ':' or spaces)", what,
                net.host_dev_name, IFNAMSIZ - 1);
  }
  if (net.guest_mac) {
    if (auto mac = virtio::net::parse_mac(*net.guest_mac); !mac) return fail("{}: {}", what, mac.error().message);
  }
  return {};
}

Status check_net_configs(std::span<const NetConfig> nets) {
  if (nets.size() > kMaxNets) return fail("{} network interfaces (at most {})", nets.size(), kMaxNets);
  std::set<std::string> ids;
  std::set<std::string> taps;
  for (const NetConfig& n : nets) {
    KILN_TRY(check_net_config(fmt::format("network interface {}", n.id), n));
    if (!ids.insert(n.id).second) return fail("network interface id '{}' is used twice", n.id);
    if (!taps.insert(n.host_dev_name).second) return fail("tap {} is given to two network interfaces", n.host_dev_name);
  }
  return {};
}

std::string effective_mac(const NetConfig& net) {
  if (net.guest_mac) {
    if (auto mac = virtio::net::parse_mac(*net.guest_mac)) return virtio::net::format_mac(*mac);
  }
  return virtio::net::format_mac(virtio::net::derived_mac(fmt::format("kiln/{}/{}", net.host_dev_name, net.id)));
}

void encode_net_configs(snapshot::Encoder& out, std::span<const NetConfig> nets) {
  out.u32(static_cast<uint32_t>(nets.size()));
  for (const NetConfig& n : nets) {
    out.string(n.id);
    out.string(n.host_dev_name);
    out.boolean(n.guest_mac.has_value());
    out.string(n.guest_mac.value_or(""));
  }
}

Result<std::vector<NetConfig>> decode_net_configs(snapshot::Decoder& in) {
  auto count = KILN_TRY_VALUE(in.u32());
  if (count > kMaxNets) return in.invalid(fmt::format("{} network interfaces", count));
  std::vector<NetConfig> nets;
  for (uint32_t i = 0; i < count; ++i) {
    NetConfig n;
    auto id = KILN_TRY_VALUE(in.string(kMaxId));
    auto tap = KILN_TRY_VALUE(in.string(IFNAMSIZ));
    auto has_mac = KILN_TRY_VALUE(in.boolean());
    auto mac = KILN_TRY_VALUE(in.string(32));
    n.id = std::move(id);
    n.host_dev_name = std::move(tap);
    if (has_mac) n.guest_mac = std::move(mac);
    nets.push_back(std::move(n));
  }
  if (auto ok = check_net_configs(nets); !ok) return in.invalid(ok.error().message);
  return nets;
}

Result<NetTapOverride> parse_net_tap_override(std::string_view text) {
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == text.size()) {
    return fail("--net-tap '{}': expected IFACE_ID=TAP, e.g. net0=tap1", text);
  }
  return NetTapOverride{std::string(text.substr(0, eq)), std::string(text.substr(eq + 1))};
}

Status apply_net_taps(std::vector<NetConfig>& nets, std::span<const NetTapOverride> overrides) {
  std::set<std::string> seen;
  for (const NetTapOverride& o : overrides) {
    if (!seen.insert(o.iface_id).second) return fail("--net-tap names interface '{}' twice", o.iface_id);
    bool found = false;
    for (NetConfig& n : nets) {
      if (n.id != o.iface_id) continue;
      // The guest keeps its MAC: a derived one is pinned before the tap (its seed) changes.
      if (!n.guest_mac) n.guest_mac = effective_mac(n);
      n.host_dev_name = o.host_dev_name;
      found = true;
    }
    if (!found) return fail("--net-tap: the snapshot has no network interface '{}' ({})", o.iface_id, iface_ids(nets));
  }
  return check_net_configs(nets);
}

}  // namespace kiln
