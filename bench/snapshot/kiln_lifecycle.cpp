// kiln's side of a lifecycle (lifecycle.h): `kiln run --api-sock`, requests over a raw HTTP
// connection, `kiln restore`.
#include <signal.h>

#include "http_client.h"
#include "lifecycle.h"

namespace kiln::bench {
namespace {

using namespace std::chrono_literals;

Status expect_status(const Result<HttpReply>& r, int status, const std::string& what) {
  if (!r) return wrap(what, r.error());
  if (r->status != status) return fail("{}: HTTP {} {}", what, r->status, r->body);
  return {};
}

// GET / on the connection, then on a new connection each, after a few unmeasured ones.
Status measure_api(HttpConnection& conn, const std::string& sock, int requests, Lifecycle& out) {
  for (int i = 0; i < kWarmupRequests + requests; ++i) {
    const auto t = Clock::now();
    KILN_TRY(expect_status(conn.request("GET", "/", "", 10s), 200, "GET / (keep-alive)"));
    if (i >= kWarmupRequests) out.api_us.push_back(us_since(t));
  }
  for (int i = 0; i < kWarmupRequests + requests; ++i) {
    const auto t = Clock::now();
    KILN_TRY(expect_status(http_once(sock, "GET", "/", "", 10s), 200, "GET / (new connection)"));
    if (i >= kWarmupRequests) out.api_new_conn_us.push_back(us_since(t));
  }
  return {};
}

}  // namespace

Status kiln_lifecycle(const Setup& s, const Guest& g, Lifecycle& out) {
  const std::string base = s.dir + "/kiln-" + g.tag;
  const std::string sock = base + ".sock";
  const std::string snap = base + ".snap";
  const std::string mem = base + ".mem";
  const RemoveFiles cleanup({sock, snap, mem});

  test::ChildProcess vm({s.kiln, "run", "--kernel", s.probe, "--cmdline", s.cmdline, "--memory",
                         std::to_string(g.mib) + "M", "--api-sock", sock});
  if (!vm.wait_for_output(std::string(kTick) + "3", s.boot_timeout)) {
    return fail("kiln run: no third tick within {} s{}", s.boot_timeout.count() / 1000, end_of(vm));
  }
  auto conn = HttpConnection::connect(sock, s.op_timeout);
  if (!conn) return fail("kiln API socket: {}{}", conn.error().message, end_of(vm));
  if (g.measure_api) {
    if (auto ok = measure_api(*conn, sock, s.api_requests, out); !ok) return fail("{}{}", ok.error().message, end_of(vm));
  }

  auto t = Clock::now();
  if (auto ok = expect_status(conn->request("PATCH", "/vm", R"({"state": "Paused"})", s.op_timeout), 204,
                              "PATCH /vm Paused");
      !ok) {
    return fail("{}{}", ok.error().message, end_of(vm));
  }
  out.pause_ms = ms_since(t);

  t = Clock::now();
  const std::string create = R"({"snapshot_path": ")" + snap + R"(", "mem_file_path": ")" + mem + R"("})";
  if (auto ok = expect_status(conn->request("PUT", "/snapshot/create", create, s.op_timeout), 204,
                              "PUT /snapshot/create");
      !ok) {
    return fail("{}{}", ok.error().message, end_of(vm));
  }
  out.create_ms = ms_since(t);
  if (auto u = file_usage({snap, mem})) {
    out.files_mib = u->mib;
    out.allocated_mib = u->allocated_mib;
  }

  drain(vm);
  const auto at_pause = last_tick(vm.out());
  t = Clock::now();
  if (auto ok = expect_status(conn->request("PATCH", "/vm", R"({"state": "Resumed"})", s.op_timeout), 204,
                              "PATCH /vm Resumed");
      !ok) {
    return fail("{}{}", ok.error().message, end_of(vm));
  }
  out.resume_ms = ms_since(t);
  // A tick that began after the resume: the VM runs again.
  if (!at_pause || !vm.wait_for_output(std::string(kTick) + std::to_string(*at_pause + 2), s.boot_timeout)) {
    out.note += "no tick after the resume; ";
  }
  vm.send_signal(SIGKILL);
  const test::ChildResult first_life = vm.wait(30s);
  out.create_own_ms = logged_ms(first_life.err, "snapshot of ");

  t = Clock::now();
  test::ChildProcess restored({s.kiln, "restore", "--snapshot", snap, "--mem", mem});
  if (!restored.wait_for_output(kTick, s.boot_timeout)) {
    return fail("kiln restore: no tick within {} s{}", s.boot_timeout.count() / 1000, end_of(restored));
  }
  out.restore_ms = ms_since(t);
  drain(restored, 5ms);
  const auto resumed_at = first_tick(restored.out());
  if (at_pause && resumed_at && (*resumed_at <= *at_pause || *resumed_at > *at_pause + 2)) {
    out.note += fmt::format("the restored guest went on at tick {}, the snapshot was taken after tick {}; ",
                            *resumed_at, *at_pause);
  }
  restored.send_signal(SIGKILL);
  const test::ChildResult second_life = restored.wait(30s);
  out.restore_own_ms = logged_ms(second_life.err, "restored ");
  return {};
}

}  // namespace kiln::bench
