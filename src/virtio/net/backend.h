// What the network device needs of its host side: frames (each with the virtio-net header in
// front, as a tap with IFF_VNET_HDR carries them) in and out through scatter lists, a readable
// fd for the device thread to wait on, and the header size and receive offloads the guest
// negotiated. The tap is the real one (tap.h); tests use a socketpair.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <span>
#include <string>

#include "common/result.h"

namespace kiln::virtio::net {

// Receive offloads the host may hand the guest (TUNSETOFFLOAD's TUN_F_* bits).
inline constexpr unsigned kOffloadCsum = 0x01;
inline constexpr unsigned kOffloadTso4 = 0x02;
inline constexpr unsigned kOffloadTso6 = 0x04;
inline constexpr unsigned kOffloadTsoEcn = 0x08;
inline constexpr unsigned kOffloadUfo = 0x10;

class NetBackend {
 public:
  virtual ~NetBackend() = default;

  // "tap0": for messages.
  [[nodiscard]] virtual const std::string& name() const = 0;
  // Readable while a frame waits; the device thread polls it. Nonblocking.
  [[nodiscard]] virtual int fd() const = 0;
  // Reads one frame (header + Ethernet frame) into `iov`. Returns its full length, which is more
  // than the iovecs hold when it was truncated (the rest is lost), or 0 when none waits.
  [[nodiscard]] virtual Result<size_t> read(std::span<const iovec> iov) = 0;
  // Writes one frame (header + Ethernet frame) gathered from `iov`.
  [[nodiscard]] virtual Status write(std::span<const iovec> iov) = 0;
  // The header size in front of each frame (10, or 12 with MRG_RXBUF) and the offloads the guest
  // accepts on receive (kOffload* bits): what the host may send it.
  [[nodiscard]] virtual Status configure(uint32_t header_bytes, unsigned offloads) = 0;
  // The kOffload* bits the host side can deliver (what the device may offer the guest).
  [[nodiscard]] virtual unsigned supported_offloads() const = 0;
};

}  // namespace kiln::virtio::net
