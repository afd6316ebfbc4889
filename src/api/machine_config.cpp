// /machine-config (swagger MachineConfiguration). kiln's limits: vCPUs 1..254, at least 16 MiB
// (checked by VmResources with the host's RAM); no SMT, dirty-page tracking or huge pages yet.
// kiln's `transport` ("mmio", "pci"): the transport of every virtio device without its own.
#include <array>

#include "api/vm_model.h"

namespace kiln::api {
namespace {

constexpr std::array<std::string_view, 7> kFields = {
    "vcpu_count", "mem_size_mib", "smt", "cpu_template", "track_dirty_pages", "huge_pages", "transport"};

// Firecracker's static templates; kiln has its own ("none", "pvm"), and Firecracker's "None"
// (no template) means kiln's host default.
Result<std::optional<std::string>> cpu_template(const std::string& name) {
  if (name == "None") return std::optional<std::string>();
  if (name == "none" || name == "pvm") return std::optional<std::string>(name);
  return fail("cpu_template {}: kiln has no such CPU template (it knows \"None\" for the host default, "
              "\"none\" and \"pvm\"; Firecracker's C3/T2/T2S/T2CL/T2A/V1N1 do not exist in kiln)", name);
}

Result<MachineConfigUpdate> parse_fields(const JsonObject& o) {
  MachineConfigUpdate update;
  auto vcpus = KILN_TRY_VALUE(o.optional_uint("vcpu_count"));
  update.vcpu_count = vcpus;
  auto mem = KILN_TRY_VALUE(o.optional_uint("mem_size_mib"));
  update.mem_size_mib = mem;
  auto tmpl = KILN_TRY_VALUE(o.optional_string("cpu_template"));
  if (tmpl) {
    auto name = KILN_TRY_VALUE(cpu_template(*tmpl));
    update.cpu_template = name;
  }
  auto smt = KILN_TRY_VALUE(o.optional_bool("smt"));
  if (smt.value_or(false)) return fail("smt: kiln gives every vCPU a core of its own; SMT is not supported yet");
  auto dirty = KILN_TRY_VALUE(o.optional_bool("track_dirty_pages"));
  if (dirty.value_or(false)) return fail("track_dirty_pages: kiln does not track dirty pages yet (no diff snapshots)");
  auto huge = KILN_TRY_VALUE(o.optional_string("huge_pages"));
  if (huge) {
    auto variant = KILN_TRY_VALUE(one_of("huge_pages", *huge, {"None", "Transparent", "2M"}));
    if (variant != "None") return fail("huge_pages {}: kiln backs guest memory with 4 KiB pages only (\"None\")", variant);
  }
  update.transport = KILN_TRY_VALUE(optional_transport(o));
  return update;
}

}  // namespace

Result<MachineConfigUpdate> parse_machine_config_update(const Json& body) {
  auto o = KILN_TRY_VALUE(JsonObject::of(body, kFields));
  return parse_fields(o);
}

Result<MachineConfig> parse_machine_config(const Json& body) {
  auto o = KILN_TRY_VALUE(JsonObject::of(body, kFields));
  auto update = KILN_TRY_VALUE(parse_fields(o));
  if (!update.vcpu_count) return fail("missing field `vcpu_count`");
  if (!update.mem_size_mib) return fail("missing field `mem_size_mib`");
  MachineConfig config;
  config.vcpu_count = *update.vcpu_count;
  config.mem_size_mib = *update.mem_size_mib;
  if (update.cpu_template) config.cpu_template = *update.cpu_template;
  config.transport = update.transport;
  return config;
}

Json to_json(const MachineConfig& m) {
  Json j = {{"vcpu_count", m.vcpu_count},
            {"mem_size_mib", m.mem_size_mib},
            {"smt", m.smt},
            {"track_dirty_pages", m.track_dirty_pages},
            {"huge_pages", m.huge_pages}};
  if (m.cpu_template) j["cpu_template"] = *m.cpu_template;
  add_transport(j, m.transport);
  return j;
}

}  // namespace kiln::api
