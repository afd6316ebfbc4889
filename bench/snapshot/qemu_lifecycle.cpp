// QEMU's side of a lifecycle (lifecycle.h): qemu-system-x86_64 -M microvm with kiln-probe and
// two QMP sockets (one kept open for the commands, one for the connection-per-request
// round trips); stop, migration into a file, cont; a new QEMU with -incoming.
//
// QEMU 7.2 has no "file:" migration URI (8.2 has): the file is opened here and handed over with
// getfd (SCM_RIGHTS), and QEMU migrates to "fd:NAME", writing the file itself as kiln does (no
// `cat` process in between, whose end QEMU does not wait for). The restore reads it back with
// `-incoming fd:N` (the open file inherited), or `exec:cat FILE` with --qemu-incoming exec, and
// is continued over QMP (cont) once loaded: the stream records a paused VM.
#include <fcntl.h>
#include <signal.h>

#include <cstdlib>
#include <thread>

#include "lifecycle.h"
#include "probe_command.h"
#include "qmp_client.h"

namespace kiln::bench {
namespace {

using namespace std::chrono_literals;

Status measure_api(QmpClient& qmp, const std::string& second_sock, int requests, Lifecycle& out) {
  constexpr const char* kStatus = R"({"execute": "query-status"})";
  for (int i = 0; i < kWarmupRequests + requests; ++i) {
    const auto t = Clock::now();
    auto r = qmp.execute(kStatus, 10s);
    if (!r) return tl::unexpected(r.error());
    if (i >= kWarmupRequests) out.api_us.push_back(us_since(t));
  }
  for (int i = 0; i < kWarmupRequests + requests; ++i) {
    const auto t = Clock::now();
    auto fresh = QmpClient::connect(second_sock, 10s);  // greeting + qmp_capabilities
    if (!fresh) return wrap("QMP (new connection)", fresh.error());
    auto r = fresh->execute(kStatus, 10s);
    if (!r) return tl::unexpected(r.error());
    if (i >= kWarmupRequests) out.api_new_conn_us.push_back(us_since(t));
  }
  return {};
}

// Migration into `file` through getfd + migrate fd:, until the MIGRATION event says it ended.
Status migrate_to_file(QmpClient& qmp, const std::string& file, std::chrono::milliseconds timeout) {
  UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd) return fail_errno(fmt::format("open {}", file));
  KILN_TRY(qmp.execute(R"({"execute": "getfd", "arguments": {"fdname": "snapshot"}})", timeout, fd.get()));
  fd.reset();  // QEMU holds its own copy
  KILN_TRY(qmp.execute(R"({"execute": "migrate", "arguments": {"uri": "fd:snapshot"}})", timeout));
  auto ended = qmp.wait_event(
      "MIGRATION",
      [](const std::string& line) {
        const auto st = json_field(line, "status");
        return st == "completed" || st == "failed" || st == "cancelled";
      },
      timeout);
  if (!ended) return tl::unexpected(ended.error());
  if (json_field(*ended, "status") != "completed") return fail("migration to {} ended: {}", file, *ended);
  return {};
}

// query-migrate's total-time. QEMU sends the "completed" event before it sets that figure, so an
// early query-migrate says 0: ask again for a while.
std::optional<double> migration_total_ms(QmpClient& qmp, std::chrono::milliseconds timeout) {
  for (int i = 0; i < 1000; ++i) {
    auto info = qmp.execute(R"({"execute": "query-migrate"})", timeout);
    if (!info) return std::nullopt;
    const auto total = json_field(*info, "total-time");
    if (total && std::atof(total->c_str()) > 0) return std::atof(total->c_str());
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return std::nullopt;
}

// Polls query-status on the restoring QEMU until the stream is loaded, then sends cont.
Status cont_when_loaded(const std::string& sock, Clock::time_point spawned, Clock::time_point deadline,
                        Lifecycle& out) {
  const auto left = [&] { return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()); };
  auto qmp = QmpClient::connect(sock, left());
  if (!qmp) return tl::unexpected(qmp.error());
  for (;;) {
    auto st = qmp->execute(R"({"execute": "query-status"})", left());
    if (!st) return tl::unexpected(st.error());
    const auto status = json_field(*st, "status").value_or("?");
    if (status == "running") return {};  // nothing to continue (a stream of a running VM)
    if (status != "inmigrate") {
      out.restore_loaded_ms = ms_since(spawned);
      if (status != "paused") return fail("the loaded VM is {}, not paused", status);
      break;
    }
    if (left().count() <= 0) return fail("still loading the stream");
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  auto ok = qmp->execute(R"({"execute": "cont"})", left());
  if (!ok) return tl::unexpected(ok.error());
  return {};
}

}  // namespace

Status qemu_lifecycle(const Setup& s, const Guest& g, Lifecycle& out) {
  const std::string base = s.dir + "/qemu-" + g.tag;
  const std::string qmp_a = base + "-a.qmp";
  const std::string qmp_b = base + "-b.qmp";
  const std::string restore_a = base + "-restore-a.qmp";
  const std::string restore_b = base + "-restore-b.qmp";
  const std::string file = base + ".migration";
  const RemoveFiles cleanup({qmp_a, qmp_b, restore_a, restore_b, file});
  const auto argv = [&](const std::string& a, const std::string& b) {
    return test::qemu_probe_argv(s.qemu, s.qemu_accel, s.probe, s.cmdline,
                                 {"-cpu", s.qemu_cpu, "-m", std::to_string(g.mib) + "M",  // after the default -m
                                  "-qmp", "unix:" + a + ",server=on,wait=off",
                                  "-qmp", "unix:" + b + ",server=on,wait=off"});
  };

  test::ChildProcess vm(argv(qmp_a, qmp_b));
  if (!vm.wait_for_output(std::string(kTick) + "3", s.boot_timeout)) {
    return fail("QEMU: no third tick within {} s{}", s.boot_timeout.count() / 1000, end_of(vm));
  }
  auto qmp = QmpClient::connect(qmp_a, s.op_timeout);
  if (!qmp) return fail("QMP: {}{}", qmp.error().message, end_of(vm));
  if (auto ok = qmp->execute(R"({"execute": "migrate-set-capabilities", "arguments": {"capabilities": )"
                             R"([{"capability": "events", "state": true}]}})",
                             s.op_timeout);
      !ok) {
    return fail("{}{}", ok.error().message, end_of(vm));
  }
  if (g.measure_api) {
    if (auto ok = measure_api(*qmp, qmp_b, s.api_requests, out); !ok) return fail("{}{}", ok.error().message, end_of(vm));
  }

  auto t = Clock::now();
  if (auto ok = qmp->execute(R"({"execute": "stop"})", s.op_timeout); !ok) {
    return fail("{}{}", ok.error().message, end_of(vm));
  }
  out.pause_ms = ms_since(t);

  t = Clock::now();
  if (auto ok = migrate_to_file(*qmp, file, s.op_timeout); !ok) return fail("{}{}", ok.error().message, end_of(vm));
  out.create_ms = ms_since(t);
  out.create_own_ms = migration_total_ms(*qmp, s.op_timeout);
  if (auto u = file_usage({file})) {
    out.files_mib = u->mib;
    out.allocated_mib = u->allocated_mib;
  }

  drain(vm);
  const auto at_pause = last_tick(vm.out());
  t = Clock::now();
  if (auto ok = qmp->execute(R"({"execute": "cont"})", s.op_timeout); !ok) {
    return fail("{}{}", ok.error().message, end_of(vm));
  }
  out.resume_ms = ms_since(t);
  if (!at_pause || !vm.wait_for_output(std::string(kTick) + std::to_string(*at_pause + 2), s.boot_timeout)) {
    out.note += "no tick after cont; ";
  }
  vm.send_signal(SIGKILL);
  [[maybe_unused]] const test::ChildResult first_life = vm.wait(30s);

  // The restore: the same command line (its own QMP sockets) plus -incoming. The stream says the
  // VM was paused, so QEMU loads it into a paused VM: once query-status leaves "inmigrate", cont.
  std::vector<std::string> again = argv(restore_a, restore_b);
  UniqueFd in;
  if (s.qemu_incoming == "exec") {
    again.insert(again.end(), {"-incoming", "exec:cat " + file});
  } else {
    in.reset(::open(file.c_str(), O_RDONLY));  // no O_CLOEXEC: QEMU inherits it
    if (!in) return fail_errno(fmt::format("open {}", file));
    again.insert(again.end(), {"-incoming", "fd:" + std::to_string(in.get())});
  }
  t = Clock::now();
  test::ChildProcess restored(again);
  in.reset();
  if (auto ok = cont_when_loaded(restore_a, t, t + s.boot_timeout, out); !ok) {
    return fail("QEMU -incoming: {}{}", ok.error().message, end_of(restored));
  }
  if (!restored.wait_for_output(kTick, s.boot_timeout)) {
    return fail("QEMU -incoming: no tick within {} s{}", s.boot_timeout.count() / 1000, end_of(restored));
  }
  out.restore_ms = ms_since(t);
  drain(restored, 5ms);
  const auto resumed_at = first_tick(restored.out());
  if (at_pause && resumed_at && (*resumed_at <= *at_pause || *resumed_at > *at_pause + 2)) {
    out.note += fmt::format("the restored guest went on at tick {}, the snapshot was taken after tick {}; ",
                            *resumed_at, *at_pause);
  }
  return {};  // `restored` is killed (SIGKILL) and reaped by its destructor
}

}  // namespace kiln::bench
