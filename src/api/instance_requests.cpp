// /actions (swagger InstanceActionInfo), /vm (Vm) and /entropy (EntropyDevice).
#include "api/vm_model.h"

namespace kiln::api {

Result<Action> parse_action(const Json& body) {
  auto o = JsonObject::of(body, {"action_type"});
  if (!o) return tl::unexpected(o.error());
  auto type = o->required_string("action_type");
  if (!type) return tl::unexpected(type.error());
  auto v = one_of("action_type", *type, {"FlushMetrics", "InstanceStart", "SendCtrlAltDel"});
  if (!v) return tl::unexpected(v.error());
  if (*v == "InstanceStart") return Action::kInstanceStart;
  if (*v == "SendCtrlAltDel") return Action::kSendCtrlAltDel;
  return Action::kFlushMetrics;
}

Result<bool> parse_vm_state(const Json& body) {
  auto o = JsonObject::of(body, {"state"});
  if (!o) return tl::unexpected(o.error());
  auto state = o->required_string("state");
  if (!state) return tl::unexpected(state.error());
  auto v = one_of("state", *state, {"Paused", "Resumed"});
  if (!v) return tl::unexpected(v.error());
  return *v == "Paused";
}

Status parse_entropy(const Json& body) {
  auto o = JsonObject::of(body, {"rate_limiter"});
  if (!o) return tl::unexpected(o.error());
  return check_no_rate_limiter(*o, "rate_limiter");
}

}  // namespace kiln::api
