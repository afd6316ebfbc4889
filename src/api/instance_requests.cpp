// /actions (swagger InstanceActionInfo), /vm (Vm) and /entropy (EntropyDevice).
#include "api/vm_model.h"

namespace kiln::api {

Result<Action> parse_action(const Json& body) {
  auto o = KILN_TRY_VALUE(JsonObject::of(body, {"action_type"}));
  auto type = KILN_TRY_VALUE(o.required_string("action_type"));
  auto v = KILN_TRY_VALUE(one_of("action_type", type, {"FlushMetrics", "InstanceStart", "SendCtrlAltDel"}));
  if (v == "InstanceStart") return Action::kInstanceStart;
  if (v == "SendCtrlAltDel") return Action::kSendCtrlAltDel;
  return Action::kFlushMetrics;
}

Result<bool> parse_vm_state(const Json& body) {
  auto o = KILN_TRY_VALUE(JsonObject::of(body, {"state"}));
  auto state = KILN_TRY_VALUE(o.required_string("state"));
  auto v = KILN_TRY_VALUE(one_of("state", state, {"Paused", "Resumed"}));
  return v == "Paused";
}

Result<Entropy> parse_entropy(const Json& body) {
  auto o = KILN_TRY_VALUE(JsonObject::of(body, {"rate_limiter", "transport"}));
  KILN_TRY(check_no_rate_limiter(o, "rate_limiter"));
  return Entropy{KILN_TRY_VALUE(optional_transport(o))};
}

Json to_json(const Entropy& entropy) {
  Json j = Json::object();
  add_transport(j, entropy.transport);
  return j;
}

}  // namespace kiln::api
