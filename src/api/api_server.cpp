#include "api/api_server.h"

#include <fcntl.h>

#include <charconv>
#include <optional>

#include "api/api_replies.h"
#include "api/unix_http_server.h"

namespace kiln::api {
namespace {

constexpr const char* kJson = "application/json";

// Replies carry what a client sent (a path, a JSON parser's excerpt) and what a user gave kiln
// (a command line): bytes that are not UTF-8 become U+FFFD instead of a throwing dump.
std::string dump_reply(const Json& json) { return json.dump(-1, ' ', false, Json::error_handler_t::replace); }

void send_fault(httplib::Response& res, int status, std::string_view message) {
  res.status = status;
  res.set_content(dump_reply(Json{{"fault_message", message}}), kJson);
}

// Empty bodies and broken JSON are refused before any handler runs.
Result<Json> request_body(const httplib::Request& req) {
  if (req.body.empty()) return fail("Empty {} request.", req.method);
  auto json = parse_json(req.body);
  if (!json) return fail("An error occurred when deserializing the json body of a request: {}.", json.error().message);
  return json;
}

// The request's Content-Length (0 when absent), if it is one decimal number within `limit`.
Result<uint64_t> content_length(const httplib::Request& req, uint64_t limit) {
  std::optional<uint64_t> length;
  const size_t count = req.get_header_value_count("Content-Length");
  for (size_t i = 0; i < count; ++i) {
    const std::string text = req.get_header_value("Content-Length", i);
    uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
      return fail("Invalid Content-Length header: '{}'.", text.substr(0, 32));
    }
    if (length && *length != value) return fail("Conflicting Content-Length headers: {} and {}.", *length, value);
    length = value;
  }
  if (length.value_or(0) > limit) return fail("Request payload is larger than the limit of {} bytes.", limit);
  return length.value_or(0);
}

std::string_view state_name(VmState state) {
  switch (state) {
    case VmState::kRunning:
      return "Running";
    case VmState::kPaused:
      return "Paused";
    case VmState::kNotStarted:
      break;
  }
  return "Not started";
}

}  // namespace

ApiServer::ApiServer(VmmController& vmm, ApiOptions options)
    : vmm_(vmm), options_(std::move(options)), host_(options_.host.value_or(query_host_limits())) {
  if (options_.preconfigured) resources_ = std::move(*options_.preconfigured);
  options_.preconfigured.reset();
}

Result<std::unique_ptr<ApiServer>> ApiServer::start(const std::string& socket_path, VmmController& vmm,
                                                    ApiOptions options) {
  std::unique_ptr<ApiServer> server(new ApiServer(vmm, std::move(options)));
  if (server->resources_.metrics()) KILN_TRY(server->open_metrics(*server->resources_.metrics()));
  server->http_ = std::make_unique<UnixHttpServer>();
  server->add_routes();
  KILN_TRY(server->http_->start(socket_path, server->options_.io_timeout));
  return server;
}

ApiServer::~ApiServer() {
  // The server thread calls into this object: stop it before members go away.
  if (http_) http_->shutdown();
}

Status ApiServer::open_metrics(const MetricsConfig& metrics) {
  // O_RDWR: a FIFO opens without waiting for a reader; O_NONBLOCK: a full FIFO never stalls the API.
  UniqueFd fd(::open(metrics.metrics_path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0600));
  if (!fd) return fail_errno(fmt::format("metrics_path {}", metrics.metrics_path));
  metrics_file_ = std::move(fd);
  return {};
}

ApiServer::Reply ApiServer::instance_info() const {
  return Json{{"id", options_.instance_id},
              {"state", state_name(vmm_.state())},
              {"vmm_version", options_.vmm_version},
              {"app_name", "kiln"}};
}

void ApiServer::add_routes() {
  httplib::Server& http = *http_;
  using Req = const httplib::Request&;
  using Res = httplib::Response&;
  auto reply = [](Res res, const Reply& r) {
    if (!r) return send_fault(res, 400, r.error().message);
    if (!*r) {
      res.status = 204;
      return;
    }
    res.status = 200;
    res.set_content(dump_reply(**r), kJson);
  };
  // Routes taking a JSON body; `id` is the path's {id} for the routes that have one.
  auto with_body = [reply](auto handler) {
    return [reply, handler](Req req, Res res) {
      auto body = request_body(req);
      if (!body) return send_fault(res, 400, body.error().message);
      reply(res, handler(*body, req.matches.size() > 1 ? req.matches[1].str() : std::string()));
    };
  };
  auto fixed = [reply](Reply r) { return [reply, r](Req, Res res) { reply(res, r); }; };
  auto absent = [with_body](std::string what) {
    return with_body([what](const Json&, const std::string&) -> Reply { return fail("{}", what); });
  };

  http.Get("/", [this, reply](Req, Res res) { reply(res, instance_info()); });
  http.Get("/version", [this, reply](Req, Res res) { reply(res, Json{{"firecracker_version", options_.vmm_version}}); });
  http.Get("/machine-config", [this, reply](Req, Res res) { reply(res, to_json(resources_.machine_config())); });
  http.Get("/vm/config", [this, reply](Req, Res res) { reply(res, resources_.to_json()); });

  http.Put("/boot-source", with_body([this](const Json& b, const std::string&) { return put_boot_source(b); }));
  http.Put("/machine-config", with_body([this](const Json& b, const std::string&) { return put_machine_config(b); }));
  http.Patch("/machine-config", with_body([this](const Json& b, const std::string&) { return patch_machine_config(b); }));
  const std::string drives = R"(/drives(?:/([^/]*))?)";
  http.Put(drives, with_body([this](const Json& b, const std::string& id) { return put_drive(b, id); }));
  http.Patch(drives, with_body([this](const Json& b, const std::string& id) { return patch_drive(b, id); }));
  const std::string nets = R"(/network-interfaces(?:/([^/]*))?)";
  http.Put(nets, with_body([this](const Json& b, const std::string& id) { return put_network_interface(b, id); }));
  http.Patch(nets, with_body([this](const Json& b, const std::string& id) { return patch_network_interface(b, id); }));
  http.Put("/entropy", with_body([this](const Json& b, const std::string&) { return put_entropy(b); }));
  http.Put("/vsock", with_body([this](const Json& b, const std::string&) { return put_vsock(b); }));
  http.Put("/logger", with_body([this](const Json& b, const std::string&) { return put_logger(b); }));
  http.Put("/metrics", with_body([this](const Json& b, const std::string&) { return put_metrics(b); }));
  http.Put("/actions", with_body([this](const Json& b, const std::string&) { return put_action(b); }));
  http.Patch("/vm", with_body([this](const Json& b, const std::string&) { return patch_vm(b); }));
  http.Put("/snapshot/create", with_body([this](const Json& b, const std::string&) { return create_snapshot(b); }));
  http.Put("/snapshot/load", with_body([this](const Json& b, const std::string&) { return load_snapshot(b); }));

  // Devices and features kiln does not have yet: refused, never faked.
  const std::string no_balloon = "kiln has no balloon device yet";
  http.Put("/balloon", absent(no_balloon));
  http.Patch(R"(/balloon(?:/statistics|/hinting/start|/hinting/stop)?)", absent(no_balloon));
  http.Get(R"(/balloon(?:/statistics|/hinting/status)?)", fixed(fail("{}", no_balloon)));
  for (const char* path : {"/mmds", "/mmds/config", "/cpu-config", "/serial", "/hotplug/memory"}) {
    const std::string what = fmt::format("{} is not supported by kiln yet", path);
    http.Put(path, absent(what));
    http.Patch(path, absent(what));
    http.Get(path, fixed(fail("{}", what)));
  }
  http.Put(R"(/pmem(?:/[^/]*)?)", absent("kiln has no pmem device yet"));
  http.Patch(R"(/pmem(?:/[^/]*)?)", absent("kiln has no pmem device yet"));

  http.set_payload_max_length(options_.max_payload_bytes);
  // Before any body is read: Content-Length must be one decimal number within the limit (RFC 9112
  // 6.3: a list or an invalid value is an unrecoverable framing error). httplib would otherwise
  // read and discard a huge body until its time-out, and take the first of two lengths.
  http.set_pre_routing_handler([this](Req req, Res res) {
    auto length = content_length(req, options_.max_payload_bytes);
    if (length) return httplib::Server::HandlerResponse::Unhandled;
    send_fault(res, 400, length.error().message);
    http_->close_after_response();
    return httplib::Server::HandlerResponse::Handled;
  });
  // Unknown paths (404), bodies over the limit (413) and malformed HTTP: Firecracker answers 400.
  http.set_error_handler(httplib::Server::HandlerWithResponse([this](Req req, Res res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;  // a handler's own fault
    if (res.status == 404 || res.status == 405) {
      send_fault(res, 400, fmt::format("Invalid request method and/or path: {} {}.", req.method, req.path));
    } else if (res.status == 413) {
      send_fault(res, 400, fmt::format("Request payload is larger than the limit of {} bytes.", options_.max_payload_bytes));
      http_->close_after_response();
    } else {
      send_fault(res, 400, fmt::format("Invalid HTTP request (status {}).", res.status));
      http_->close_after_response();
    }
    return httplib::Server::HandlerResponse::Handled;
  }));
  http.set_exception_handler([](Req, Res res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    send_fault(res, 500, fmt::format("Internal error: {}", what));
  });
}

}  // namespace kiln::api
