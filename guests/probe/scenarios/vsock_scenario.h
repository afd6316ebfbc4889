// What probe=vsock's files share (vsock.cpp streams and credit, vsock_hostile.cpp malformed
// packets and the REQUEST flood): the parameters, the guest's view of one stream, and VsockRun,
// which receives every packet and hands it to the stream it belongs to.
#pragma once

#include <cstdint>

#include "probe/scenarios/scenario.h"
#include "probe/scenarios/vsock_port.h"

namespace kiln::probe {

struct VsockParams {
  uint32_t port = 5000;          // the host's echo listener ("<uds>_<port>")
  uint32_t burst_port = 0;       // a listener that sends burst_bytes at once (0: no vsock.credit)
  uint32_t burst_bytes = 16384;
  uint32_t sink_port = 0;        // a listener that never reads (0: no vsock.credit_lie)
  uint32_t sync_port = 0;        // a listener that counts kiln's fds (0: no vsock.sync_*)
  uint32_t streams = 4;
  uint32_t bytes = 3000;         // per echo stream
  uint32_t credit = 4096;        // the buf_alloc vsock.credit advertises
  uint32_t flood = 1000;         // REQUESTs to ports nobody listens on
  uint32_t flood_port = 20000;   // the first of 16 such ports
  uint64_t cid = 0;              // the expected guest CID (0: any valid one)
};

inline constexpr uint32_t kVsockMaxStreams = 16;
inline constexpr uint32_t kVsockEchoBufAlloc = 64 * 1024;
inline constexpr uint32_t kVsockMaxTracked = 32;

// Byte i of a stream's data. Seed 0 is the host's burst (tests/linux/vsock_host.h vsock_pattern).
[[nodiscard]] inline uint8_t vsock_byte(uint32_t seed, uint64_t i) {
  return static_cast<uint8_t>((i * 131 + i / 4093 + uint64_t{seed} * 17) & 0xff);
}

// One stream as the guest sees it: its ports, both directions' byte counts and credit, and what
// the device sent on it.
struct VsockStream {
  uint32_t local = 0;  // the guest's port
  uint32_t peer = 0;   // the host's port
  uint32_t seed = 0;   // the pattern of the bytes that should arrive
  uint32_t buf_alloc = kVsockEchoBufAlloc;
  bool auto_ack = true;  // consumed at once: every packet tells fwd_cnt = rx
  bool any_src_cid = false;
  uint32_t fwd_told = 0;  // fwd_cnt in the last packet sent
  uint32_t rx = 0;        // payload bytes received
  uint32_t tx = 0;        // payload bytes sent
  uint32_t peer_buf_alloc = 0;
  uint32_t peer_fwd_cnt = 0;
  uint32_t bad_bytes = 0;
  uint32_t max_unacked = 0;  // most payload bytes received beyond the fwd_cnt told
  uint32_t packets = 0;
  uint32_t responses = 0;
  uint32_t rsts = 0;
  uint32_t shutdowns = 0;
  uint32_t shutdown_flags = 0;
  uint32_t credit_updates = 0;
  uint32_t others = 0;  // REQUEST, CREDIT_REQUEST, unknown ops
  vs::Header last{};    // the last packet's header

  [[nodiscard]] bool connected() const { return responses > 0 && rsts == 0; }
  [[nodiscard]] uint32_t unacked() const { return rx - fwd_told; }
};

class VsockRun {
 public:
  VsockRun(const VsockParams& p, VsockPort& port) : params_(p), port_(port) {}

  [[nodiscard]] const VsockParams& params() const { return params_; }
  [[nodiscard]] VsockPort& port() { return port_; }

  // A fresh stream to the host's `peer` port with a new local port, tracked from now on.
  void init(VsockStream& s, uint32_t peer, uint32_t seed);
  void track(VsockStream& s);
  void untrack(VsockStream& s);
  [[nodiscard]] uint32_t next_port() { return next_port_++; }
  // `n` consecutive local ports; returns the first.
  [[nodiscard]] uint32_t reserve_ports(uint32_t n) {
    const uint32_t first = next_port_;
    next_port_ += n;
    return first;
  }

  // Receives packets until done() holds or `cycles` pass without one; every packet goes to
  // claim(packet) first, then (if not claimed) to its tracked stream, else it is a stray.
  template <class Done, class Claim>
  bool pump_with(Done done, Claim claim, uint64_t cycles = kWaitCycles) {
    while (!done()) {
      (void)port_.reap_tx();
      VsockPacket p;
      if (!port_.receive(p, cycles)) return done();
      if (!claim(p)) absorb(p);
    }
    return true;
  }
  template <class Done>
  bool pump(Done done, uint64_t cycles = kWaitCycles) {
    return pump_with(done, [](const VsockPacket&) { return false; }, cycles);
  }
  // Takes packets until kQuietCycles pass without one (at most 4096 packets).
  void settle();

  // A header-only packet on `s` carrying its credit.
  bool control(VsockStream& s, uint16_t op, uint32_t flags = 0);
  // REQUEST, then waits for RESPONSE or RST; true if connected.
  bool open(VsockStream& s);
  // `len` more bytes of s's pattern in packets of at most kVsockTxData, within the device's credit.
  bool send_data(VsockStream& s, uint32_t len);
  // SHUTDOWN both, then waits for the device's RST (5.10.6.4: the device closes with RST).
  bool close(VsockStream& s);
  // A whole stream to the echo port: open, `bytes` out and back intact, close. "" when it
  // worked, else the step that failed.
  [[nodiscard]] const char* echo_stream(uint32_t seed, uint32_t bytes);

  [[nodiscard]] uint32_t strays() const { return strays_; }
  [[nodiscard]] uint32_t bad_headers() const { return bad_headers_; }
  [[nodiscard]] uint32_t packets() const { return packets_; }
  // Guest errors the scenario meant to cause (what the device should count).
  uint32_t expected_errors = 0;

 private:
  void absorb(const VsockPacket& p);

  const VsockParams& params_;
  VsockPort& port_;
  VsockStream* tracked_[kVsockMaxTracked] = {};
  uint32_t next_port_ = 0x10000;
  uint32_t strays_ = 0;
  uint32_t bad_headers_ = 0;
  uint32_t packets_ = 0;
};

// vsock.connect .. vsock.credit_lie; `big` is a 64 KiB DMA buffer.
void run_vsock_streams(VsockRun& run, const driver::DmaBuffer& big);  // vsock_streams.cpp
void run_vsock_hostile(VsockRun& run);  // vsock_hostile.cpp

}  // namespace kiln::probe
