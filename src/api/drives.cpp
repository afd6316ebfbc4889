// /drives/{drive_id} (swagger Drive, PartialDrive): virtio-blk over a raw image. kiln always
// honours flushes and picks its I/O engine itself (io_uring, else synchronous), so every
// cache_type and io_engine value is accepted; vhost-user (`socket`) does not exist in kiln.
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

Result<Drive> parse_drive(const Json& body) {
  auto o = JsonObject::of(body, {"drive_id", "path_on_host", "is_root_device", "partuuid", "is_read_only",
                                 "cache_type", "io_engine", "rate_limiter", "socket"});
  if (!o) return tl::unexpected(o.error());
  Drive d;
  auto id = o->required_string("drive_id");
  if (!id) return tl::unexpected(id.error());
  d.drive_id = std::move(*id);
  KILN_TRY(o->absent("socket", "kiln has no vhost-user block devices; give path_on_host"));
  auto path = o->required_string("path_on_host");
  if (!path) return tl::unexpected(path.error());
  d.path_on_host = std::move(*path);
  auto root = o->required_bool("is_root_device");
  if (!root) return tl::unexpected(root.error());
  d.is_root_device = *root;
  auto partuuid = o->optional_string("partuuid");
  if (!partuuid) return tl::unexpected(partuuid.error());
  d.partuuid = std::move(*partuuid);
  auto ro = o->optional_bool("is_read_only");
  if (!ro) return tl::unexpected(ro.error());
  d.is_read_only = ro->value_or(false);
  auto cache = o->optional_string("cache_type");
  if (!cache) return tl::unexpected(cache.error());
  if (*cache) {
    auto v = one_of("cache_type", **cache, {"Unsafe", "Writeback"});
    if (!v) return tl::unexpected(v.error());
    d.cache_type = *v;
  }
  auto engine = o->optional_string("io_engine");
  if (!engine) return tl::unexpected(engine.error());
  if (*engine) {
    auto v = one_of("io_engine", **engine, {"Sync", "Async"});
    if (!v) return tl::unexpected(v.error());
    d.io_engine = *v;
  }
  KILN_TRY(check_no_rate_limiter(*o, "rate_limiter"));
  return d;
}

Result<DriveUpdate> parse_drive_update(const Json& body) {
  auto o = JsonObject::of(body, {"drive_id", "path_on_host", "rate_limiter"});
  if (!o) return tl::unexpected(o.error());
  DriveUpdate u;
  auto id = o->required_string("drive_id");
  if (!id) return tl::unexpected(id.error());
  u.drive_id = std::move(*id);
  auto path = o->optional_string("path_on_host");
  if (!path) return tl::unexpected(path.error());
  u.path_on_host = std::move(*path);
  KILN_TRY(check_no_rate_limiter(*o, "rate_limiter"));
  return u;
}

Json to_json(const Drive& d) {
  Json j = {{"drive_id", d.drive_id},         {"path_on_host", d.path_on_host}, {"is_root_device", d.is_root_device},
            {"is_read_only", d.is_read_only}, {"cache_type", d.cache_type},     {"io_engine", d.io_engine}};
  if (d.partuuid) j["partuuid"] = *d.partuuid;
  return j;
}

}  // namespace kiln::api
