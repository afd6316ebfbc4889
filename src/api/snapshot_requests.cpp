// /snapshot/create and /snapshot/load (swagger SnapshotCreateParams, SnapshotLoadParams). kiln
// writes full snapshots with guest memory in a plain file; no diff snapshots, no userfaultfd.
#include "api/vm_model.h"

namespace kiln::api {

Result<SnapshotCreateParams> parse_snapshot_create(const Json& body) {
  auto o = JsonObject::of(body, {"snapshot_type", "snapshot_path", "mem_file_path", "version"});
  if (!o) return tl::unexpected(o.error());
  auto type = o->optional_string("snapshot_type");
  if (!type) return tl::unexpected(type.error());
  if (*type) {
    auto v = one_of("snapshot_type", **type, {"Full", "Diff"});
    if (!v) return tl::unexpected(v.error());
    if (*v == "Diff") return fail("snapshot_type Diff: kiln only creates Full snapshots (it does not track dirty pages)");
  }
  KILN_TRY(o->absent("version", "kiln writes its own snapshot format version"));
  SnapshotCreateParams p;
  auto state = o->required_string("snapshot_path");
  if (!state) return tl::unexpected(state.error());
  p.snapshot_path = std::move(*state);
  auto mem = o->required_string("mem_file_path");
  if (!mem) return tl::unexpected(mem.error());
  p.mem_file_path = std::move(*mem);
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
  auto o = JsonObject::of(body, {"snapshot_path", "mem_file_path", "mem_backend", "enable_diff_snapshots",
                                 "track_dirty_pages", "resume_vm", "network_overrides", "vsock_override",
                                 "clock_realtime"});
  if (!o) return tl::unexpected(o.error());
  SnapshotLoadParams p;
  auto state = o->required_string("snapshot_path");
  if (!state) return tl::unexpected(state.error());
  p.snapshot_path = std::move(*state);
  auto mem_file = o->optional_string("mem_file_path");
  if (!mem_file) return tl::unexpected(mem_file.error());
  const Json* backend = o->optional_value("mem_backend");
  if (*mem_file && backend != nullptr) {
    return fail("too many fields: either `mem_backend` or `mem_file_path` exclusively is required.");
  }
  if (backend != nullptr) {
    auto path = memory_backend(*backend);
    if (!path) return tl::unexpected(path.error());
    p.mem_file_path = std::move(*path);
  } else if (*mem_file) {
    p.mem_file_path = std::move(**mem_file);
  } else {
    return fail("missing field: either `mem_backend` or `mem_file_path` is required.");
  }
  for (const auto key : {"enable_diff_snapshots", "track_dirty_pages", "clock_realtime"}) {
    auto flag = o->optional_bool(key);
    if (!flag) return tl::unexpected(flag.error());
    if (flag->value_or(false)) return fail("{}: not supported by kiln yet", key);
  }
  auto resume = o->optional_bool("resume_vm");
  if (!resume) return tl::unexpected(resume.error());
  p.resume_vm = resume->value_or(false);
  if (const Json* nets = o->optional_value("network_overrides"); nets != nullptr && !(nets->is_array() && nets->empty())) {
    return fail("network_overrides: kiln has no network device yet");
  }
  KILN_TRY(o->absent("vsock_override", "kiln has no vsock device yet"));
  return p;
}

}  // namespace kiln::api
