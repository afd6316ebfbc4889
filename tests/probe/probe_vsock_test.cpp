// probe=vsock (guests/probe/scenarios/vsock.cpp) under kiln with --vsock cid=42,uds=PATH, the host
// side played by this test on kiln's "PATH_<port>" sockets: an echo listener (port 5000,
// tests/linux/vsock_host.h), a burst of 16 KiB of the test pattern (5001), a peer that never reads
// (5002) and a sync listener that counts kiln's open fds (5003) at the scenario's start, after the
// hostile packets and at its end. Every check must pass; kiln must exit 0, count exactly the
// malformed packets the probe sent (its exit log), keep its log bounded, connect to the echo
// listener only for the valid REQUESTs, and hold as many fds at the end as at the start.
// Label "probe" (the kvm-box).
#include <gtest/gtest.h>

#include <cstdio>
#include <regex>
#include <sstream>
#include <thread>

#include "kvm_test_env.h"
#include "probe_case.h"
#include "probe_output.h"
#include "scratch_dir.h"
#include "vsock_host.h"
#include "vsock_peer.h"

namespace kiln::test {
namespace {

using namespace std::chrono_literals;

constexpr uint64_t kCid = 42;
constexpr size_t kBurstBytes = 16384;
constexpr int kStreams = 4;
constexpr int kFlood = 1000;

// Streams the scenario opens to the echo port: vsock.streams, the four vsock.stream_* hostile
// cases, vsock.after_flood, the one held over vsock.reset, vsock.after_reset.
constexpr int kEchoConnections = kStreams + 4 + 1 + 1 + 1;

size_t lines_containing(const std::string& text, const std::string& needle) {
  size_t n = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) n += line.find(needle) != std::string::npos ? 1 : 0;
  return n;
}

uint64_t field_of(const ProbeOutput& out, const std::string& name, const std::string& key) {
  const ProbeLine* l = out.find("result", name);
  if (l == nullptr || !l->fields.count(key)) {
    ADD_FAILURE() << "no 'PROBE result " << name << " " << key << "='";
    return 0;
  }
  return std::stoull(l->fields.at(key));
}

TEST(KilnProbeVsock, StreamsCreditShutdownAndHostilePackets) {
  KILN_REQUIRE_KVM();
  const ScratchDir scratch;
  ASSERT_TRUE(scratch.ok());
  const std::string uds = scratch.file("v.sock");
  VsockEchoListener echo(uds + "_5000");
  ASSERT_TRUE(echo.ok());
  VsockPeer burst(uds + "_5001", [](int fd, const std::atomic<bool>&) { vsock_burst_then_drain(fd, kBurstBytes); });
  VsockPeer sink(uds + "_5002", [](int, const std::atomic<bool>& stop) { vsock_never_read(stop); });
  VsockFdCounter counter;
  VsockPeer sync(uds + "_5003", [&](int fd, const std::atomic<bool>&) { counter.serve(fd); });
  ASSERT_TRUE(burst.ok() && sink.ok() && sync.ok());

  const std::string cmdline = "probe=vsock vsock.cid=" + std::to_string(kCid) +
                              " vsock.port=5000 vsock.burst_port=5001 vsock.burst_bytes=" + std::to_string(kBurstBytes) +
                              " vsock.sink_port=5002 vsock.sync_port=5003 vsock.streams=" + std::to_string(kStreams) +
                              " vsock.flood=" + std::to_string(kFlood) + " vsock.credit=4096";
  ChildProcess kiln(kiln_run({"--kernel", KILN_GUEST_PROBE, "--cmdline", cmdline, "--memory", "128M", "--vsock",
                              "cid=" + std::to_string(kCid) + ",uds=" + uds}));
  counter.set_pid(kiln.pid());
  const ChildResult r = kiln.wait(scaled(120s));
  const ProbeOutput out = parse_probe_output(r.out);
  const auto problems = probe_run_problems(out, {r.exit_status, r.timed_out}, {});
  for (const auto& p : problems) ADD_FAILURE() << p;
  if (!problems.empty()) ADD_FAILURE() << "--- stdout ---\n" << r.out << "--- stderr ---\n" << r.err;

  expect_ok(out, {"vsock.found", "vsock.negotiate", "vsock.queue", "vsock.driver_ok", "vsock.cid", "vsock.sync_start",
                  "vsock.connect", "vsock.echo", "vsock.credit_request", "vsock.shutdown", "vsock.half_close",
                  "vsock.rw_closed", "vsock.credit", "vsock.credit_lie", "vsock.bad_src_cid", "vsock.bad_dst_cid",
                  "vsock.bad_type", "vsock.bad_op", "vsock.op_invalid", "vsock.len_huge", "vsock.len_on_control",
                  "vsock.short_header", "vsock.rw_unknown", "vsock.response_unknown", "vsock.rst_unknown",
                  "vsock.stream_len_beyond", "vsock.stream_bad_op", "vsock.stream_bad_type", "vsock.stream_request",
                  "vsock.flood", "vsock.after_flood", "vsock.sync_mid", "vsock.reset", "vsock.after_reset",
                  "vsock.sync_end", "vsock.event_quiet", "vsock.rings", "vsock.no_stray"});
  EXPECT_EQ(field_of(out, "vsock.cid", "cid"), kCid);
  EXPECT_EQ(field_of(out, "vsock.credit", "bytes"), kBurstBytes);
  EXPECT_LE(field_of(out, "vsock.credit", "max_unacked"), 4096u);
  EXPECT_EQ(field_of(out, "vsock.flood", "rst"), static_cast<uint64_t>(kFlood));

  // kiln counted every malformed packet the probe sent, and no more (its exit line).
  const uint64_t expected = field_of(out, "vsock.guest_errors", "expected");
  EXPECT_GT(expected, 0u);
  std::smatch m;
  const bool logged = std::regex_search(r.err, m, std::regex(R"(guest errors counted: .*virtio-vsock (\d+))"));
  ASSERT_TRUE(logged) << "no 'guest errors counted' line for virtio-vsock\n" << r.err;
  EXPECT_EQ(std::stoull(m[1].str()), expected) << r.err;
  // At most 10 full lines, then one per 10 s (one more for the start of the period).
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(r.elapsed).count();
  EXPECT_LE(lines_containing(r.err, "kiln: virtio-vsock:"), 11u + static_cast<size_t>(seconds / 10)) << r.err;

  // Only valid REQUESTs reached the echo listener (its acceptor polls: give it a moment).
  for (int i = 0; i < 50 && echo.accepted() < kEchoConnections; ++i) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(echo.accepted(), kEchoConnections);
  EXPECT_EQ(burst.accepted(), 1);
  EXPECT_EQ(sink.accepted(), 1);

  // No fd leaked: the same count at the start, after the hostile packets and at the end (each
  // time with the sync stream's own socket open).
  const std::vector<int> fds = counter.counts();
  ASSERT_EQ(fds.size(), 3u);
  EXPECT_GT(fds[0], 0);
  EXPECT_EQ(fds[1], fds[0]) << "fds after the hostile packets";
  EXPECT_EQ(fds[2], fds[0]) << "fds at the end";
  std::printf("vsock probe: %.1f s, fds %d/%d/%d, %llu guest errors\n", static_cast<double>(r.elapsed.count()) / 1000,
              fds[0], fds[1], fds[2], static_cast<unsigned long long>(expected));
}

}  // namespace
}  // namespace kiln::test
