// /drives/{drive_id} (swagger Drive, PartialDrive): virtio-blk over a raw image. kiln always
// honours flushes and picks its I/O engine itself (io_uring, else synchronous), so every
// cache_type and io_engine value is accepted; vhost-user (`socket`) does not exist in kiln.
// kiln's `transport` puts the disk on virtio-mmio or virtio-PCI (PUT only).
#include "api/vm_model.h"

namespace kiln::api {

Status check_resource_id(std::string_view id) {
  if (id.empty()) return fail("The ID cannot be empty.");
  for (const char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return fail("API Resource IDs can only contain alphanumeric characters and underscores.");
  }
  return {};
}

Status check_no_rate_limiter(const JsonObject& object, std::string_view key) {
  return object.absent(key, "kiln does not rate-limit devices yet; leave it out or null");
}

Result<std::optional<VirtioTransport>> optional_transport(const JsonObject& object) {
  auto name = KILN_TRY_VALUE(object.optional_string("transport"));
  if (!name) return std::optional<VirtioTransport>{};
  auto known = KILN_TRY_VALUE(one_of("transport", *name, {"mmio", "pci"}));
  return std::optional<VirtioTransport>(known == "pci" ? VirtioTransport::kPci : VirtioTransport::kMmio);
}

void add_transport(Json& j, const std::optional<VirtioTransport>& transport) {
  if (transport) j["transport"] = std::string(transport_name(*transport));
}

Result<Drive> parse_drive(const Json& body) {
  auto o = KILN_TRY_VALUE(JsonObject::of(body, {"drive_id", "path_on_host", "is_root_device", "partuuid",
                                                "is_read_only", "cache_type", "io_engine", "rate_limiter", "socket",
                                                "transport"}));
  Drive d;
  auto id = KILN_TRY_VALUE(o.required_string("drive_id"));
  d.drive_id = std::move(id);
  KILN_TRY(o.absent("socket", "kiln has no vhost-user block devices; give path_on_host"));
  auto path = KILN_TRY_VALUE(o.required_string("path_on_host"));
  d.path_on_host = std::move(path);
  auto root = KILN_TRY_VALUE(o.required_bool("is_root_device"));
  d.is_root_device = root;
  auto partuuid = KILN_TRY_VALUE(o.optional_string("partuuid"));
  d.partuuid = std::move(partuuid);
  auto ro = KILN_TRY_VALUE(o.optional_bool("is_read_only"));
  d.is_read_only = ro.value_or(false);
  auto cache = KILN_TRY_VALUE(o.optional_string("cache_type"));
  if (cache) {
    auto v = KILN_TRY_VALUE(one_of("cache_type", *cache, {"Unsafe", "Writeback"}));
    d.cache_type = v;
  }
  auto engine = KILN_TRY_VALUE(o.optional_string("io_engine"));
  if (engine) {
    auto v = KILN_TRY_VALUE(one_of("io_engine", *engine, {"Sync", "Async"}));
    d.io_engine = v;
  }
  KILN_TRY(check_no_rate_limiter(o, "rate_limiter"));
  d.transport = KILN_TRY_VALUE(optional_transport(o));
  return d;
}

Result<DriveUpdate> parse_drive_update(const Json& body) {
  auto o = KILN_TRY_VALUE(JsonObject::of(body, {"drive_id", "path_on_host", "rate_limiter"}));
  DriveUpdate u;
  auto id = KILN_TRY_VALUE(o.required_string("drive_id"));
  u.drive_id = std::move(id);
  auto path = KILN_TRY_VALUE(o.optional_string("path_on_host"));
  u.path_on_host = std::move(path);
  KILN_TRY(check_no_rate_limiter(o, "rate_limiter"));
  return u;
}

Json to_json(const Drive& d) {
  Json j = {{"drive_id", d.drive_id},         {"path_on_host", d.path_on_host}, {"is_root_device", d.is_root_device},
            {"is_read_only", d.is_read_only}, {"cache_type", d.cache_type},     {"io_engine", d.io_engine}};
  if (d.partuuid) j["partuuid"] = *d.partuuid;
  add_transport(j, d.transport);
  return j;
}

}  // namespace kiln::api
