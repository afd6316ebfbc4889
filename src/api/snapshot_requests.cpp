// /snapshot/create and /snapshot/load (swagger SnapshotCreateParams, SnapshotLoadParams). kiln
// writes full snapshots with guest memory in a plain file; no diff snapshots, no userfaultfd.
#include "api/vm_model.h"

namespace kiln::api {

Result<SnapshotCreateParams> parse_snapshot_create(const Json& body) {
  auto o = KILN_TRY_VALUE(JsonObject::of(body, {"snapshot_type", "snapshot_path", "mem_file_path", "version"}));
  auto type = KILN_TRY_VALUE(o.optional_string("snapshot_type"));
  if (type) {
    auto v = KILN_TRY_VALUE(one_of("snapshot_type", *type, {"Full", "Diff"}));
    if (v == "Diff") return fail("snapshot_type Diff: kiln only creates Full snapshots (it does not track dirty pages)");
  }
  KILN_TRY(o.absent("version", "kiln writes its own snapshot format version"));
  SnapshotCreateParams p;
  auto state = KILN_TRY_VALUE(o.required_string("snapshot_path"));
  p.snapshot_path = std::move(state);
  auto mem = KILN_TRY_VALUE(o.required_string("mem_file_path"));
  p.mem_file_path = std::move(mem);
  return p;
}

namespace {

Result<std::string> memory_backend(const Json& value) {
  auto o = JsonObject::of(value, {"backend_path", "backend_type"});
  if (!o) return fail("mem_backend: {}", o.error().message);
  auto type = o->required_string("backend_type");
  if (!type) return fail("mem_backend: {}", type.error().message);
  auto v = one_of("backend_type", *type, {"File", "Uffd"});
  if (!v) return fail("mem_backend: {}", v.error().message);
  if (*v == "Uffd") return fail("mem_backend: backend_type Uffd: kiln loads guest memory from a File only");
  auto path = o->required_string("backend_path");
  if (!path) return fail("mem_backend: {}", path.error().message);
  return std::move(*path);
}

}  // namespace

Result<SnapshotLoadParams> parse_snapshot_load(const Json& body) {
  auto o = KILN_TRY_VALUE(JsonObject::of(body, {"snapshot_path", "mem_file_path", "mem_backend",
                                                "enable_diff_snapshots", "track_dirty_pages", "resume_vm",
                                                "network_overrides", "vsock_override", "clock_realtime"}));
  SnapshotLoadParams p;
  auto state = KILN_TRY_VALUE(o.required_string("snapshot_path"));
  p.snapshot_path = std::move(state);
  auto mem_file = KILN_TRY_VALUE(o.optional_string("mem_file_path"));
  const Json* backend = o.optional_value("mem_backend");
  if (mem_file && backend != nullptr) {
    return fail("too many fields: either `mem_backend` or `mem_file_path` exclusively is required.");
  }
  if (backend != nullptr) {
    auto path = KILN_TRY_VALUE(memory_backend(*backend));
    p.mem_file_path = std::move(path);
  } else if (mem_file) {
    p.mem_file_path = std::move(*mem_file);
  } else {
    return fail("missing field: either `mem_backend` or `mem_file_path` is required.");
  }
  for (const auto key : {"enable_diff_snapshots", "track_dirty_pages", "clock_realtime"}) {
    auto flag = KILN_TRY_VALUE(o.optional_bool(key));
    if (flag.value_or(false)) return fail("{}: not supported by kiln yet", key);
  }
  auto resume = KILN_TRY_VALUE(o.optional_bool("resume_vm"));
  p.resume_vm = resume.value_or(false);
  if (const Json* nets = o.optional_value("network_overrides"); nets != nullptr) {
    // swagger NetworkOverride: {iface_id, host_dev_name}.
    if (!nets->is_array()) return fail("network_overrides: invalid type, expected a list");
    for (const Json& n : *nets) {
      auto entry = JsonObject::of(n, {"iface_id", "host_dev_name"});
      if (!entry) return fail("network_overrides: {}", entry.error().message);
      auto id = entry->required_string("iface_id");
      if (!id) return fail("network_overrides: {}", id.error().message);
      auto tap = entry->required_string("host_dev_name");
      if (!tap) return fail("network_overrides: {}", tap.error().message);
      p.network_overrides.push_back({std::move(*id), std::move(*tap)});
    }
  }
  if (const Json* vsock = o.optional_value("vsock_override"); vsock != nullptr && !vsock->is_null()) {
    // swagger VsockOverride: {"uds_path": "..."}.
    auto v = JsonObject::of(*vsock, {"uds_path"});
    if (!v) return fail("vsock_override: {}", v.error().message);
    auto path = v->required_string("uds_path");
    if (!path) return fail("vsock_override: {}", path.error().message);
    p.vsock_uds_path = std::move(*path);
  }
  return p;
}

}  // namespace kiln::api
