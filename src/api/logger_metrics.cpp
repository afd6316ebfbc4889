// /logger (swagger Logger) and /metrics (Metrics).
#include <algorithm>
#include <cctype>

#include "api/vm_model.h"

namespace kiln::api {
namespace {

// Levels are case-insensitive, as in Firecracker; "Warn" is accepted for "Warning".
Result<std::string> log_level(const std::string& text) {
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const std::string_view level : {"Error", "Warning", "Info", "Debug", "Trace", "Off"}) {
    std::string name(level);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower == name) return std::string(level);
  }
  if (lower == "warn") return std::string("Warning");
  return fail("unknown variant `{}` for field `level`, expected one of `Error`, `Warning`, `Info`, `Debug`, `Trace`, `Off`",
              text);
}

}  // namespace

Result<LoggerConfig> parse_logger(const Json& body) {
  auto o = KILN_TRY_VALUE(JsonObject::of(body, {"log_path", "level", "show_level", "show_log_origin", "module"}));
  LoggerConfig c;
  auto path = KILN_TRY_VALUE(o.optional_string("log_path"));
  c.log_path = std::move(path);
  auto level = KILN_TRY_VALUE(o.optional_string("level"));
  if (level) {
    auto l = KILN_TRY_VALUE(log_level(*level));
    c.level = l;
  }
  auto show_level = KILN_TRY_VALUE(o.optional_bool("show_level"));
  c.show_level = show_level.value_or(false);
  auto origin = KILN_TRY_VALUE(o.optional_bool("show_log_origin"));
  if (origin.value_or(false)) return fail("show_log_origin: kiln's log lines do not record their source location yet");
  KILN_TRY(o.absent("module", "kiln does not filter log lines by module"));
  return c;
}

Result<MetricsConfig> parse_metrics(const Json& body) {
  auto o = KILN_TRY_VALUE(JsonObject::of(body, {"metrics_path"}));
  auto path = KILN_TRY_VALUE(o.required_string("metrics_path"));
  return MetricsConfig{std::move(path)};
}

Json to_json(const LoggerConfig& c) {
  Json j = {{"level", c.level}, {"show_level", c.show_level}, {"show_log_origin", c.show_log_origin}};
  if (c.log_path) j["log_path"] = *c.log_path;
  return j;
}

Json to_json(const MetricsConfig& c) { return {{"metrics_path", c.metrics_path}}; }

}  // namespace kiln::api
