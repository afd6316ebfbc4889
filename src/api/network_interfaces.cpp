// /network-interfaces/{iface_id} (swagger NetworkInterface, PartialNetworkInterface): virtio-net on
// an existing host tap. PUT before boot; PATCH after boot changes only rate limiters in
// Firecracker, which kiln does not have: it accepts a PATCH naming a known interface with no
// limiter (nothing to change) and refuses limiters. kiln's `transport` on PUT: virtio-mmio or
// virtio-PCI for this interface.
#include "api/vm_model.h"

namespace kiln::api {

Result<NetConfig> parse_network_interface(const Json& body) {
  auto o = KILN_TRY_VALUE(JsonObject::of(
      body, {"iface_id", "host_dev_name", "guest_mac", "rx_rate_limiter", "tx_rate_limiter", "transport"}));
  NetConfig n;
  auto id = KILN_TRY_VALUE(o.required_string("iface_id"));
  n.id = std::move(id);
  auto tap = KILN_TRY_VALUE(o.required_string("host_dev_name"));
  n.host_dev_name = std::move(tap);
  auto mac = KILN_TRY_VALUE(o.optional_string("guest_mac"));
  n.guest_mac = std::move(mac);
  KILN_TRY(check_no_rate_limiter(o, "rx_rate_limiter"));
  KILN_TRY(check_no_rate_limiter(o, "tx_rate_limiter"));
  n.transport = KILN_TRY_VALUE(optional_transport(o));
  return n;
}

Result<std::string> parse_network_interface_update(const Json& body) {
  auto o = KILN_TRY_VALUE(JsonObject::of(body, {"iface_id", "rx_rate_limiter", "tx_rate_limiter"}));
  auto id = KILN_TRY_VALUE(o.required_string("iface_id"));
  KILN_TRY(check_no_rate_limiter(o, "rx_rate_limiter"));
  KILN_TRY(check_no_rate_limiter(o, "tx_rate_limiter"));
  return id;
}

Json to_json(const NetConfig& n) {
  // The MAC the guest sees, also when kiln derived it.
  Json j{{"iface_id", n.id}, {"host_dev_name", n.host_dev_name}, {"guest_mac", effective_mac(n)}};
  add_transport(j, n.transport);
  return j;
}

}  // namespace kiln::api
