// /vsock (swagger Vsock): {"guest_cid": N, "uds_path": "..."} and the deprecated "vsock_id";
// kiln's "transport".
#include "api/vm_model.h"
#include "config/vm_config_check.h"

namespace kiln::api {

Result<VsockConfig> parse_vsock(const Json& body) {
  auto o = KILN_TRY_VALUE(JsonObject::of(body, {"guest_cid", "uds_path", "vsock_id", "transport"}));
  VsockConfig v;
  auto cid = KILN_TRY_VALUE(o.required_uint("guest_cid"));
  v.guest_cid = cid;
  auto path = KILN_TRY_VALUE(o.required_string("uds_path"));
  v.uds_path = std::move(path);
  auto id = KILN_TRY_VALUE(o.optional_string("vsock_id"));
  v.id = id.value_or("");
  v.transport = KILN_TRY_VALUE(optional_transport(o));
  KILN_TRY(check_vsock(fmt::format("guest_cid {}, uds_path", v.guest_cid), v.guest_cid, v.uds_path));
  return v;
}

Json to_json(const VsockConfig& vsock) {
  Json j = {{"guest_cid", vsock.guest_cid}, {"uds_path", vsock.uds_path}};
  if (!vsock.id.empty()) j["vsock_id"] = vsock.id;
  add_transport(j, vsock.transport);
  return j;
}

}  // namespace kiln::api
