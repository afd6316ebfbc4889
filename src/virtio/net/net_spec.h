// virtio-net constants and wire structures (virtio 0.9.5 Appendix C "Network Device"; where the
// appendix is silent, Linux's include/uapi/linux/virtio_net.h). Little-endian, as x86 is.
#pragma once

#include <array>
#include <cstdint>

namespace kiln::virtio::net {

// Appendix C feature bits.
inline constexpr unsigned kFCsum = 0;               // device takes partially checksummed frames
inline constexpr unsigned kFGuestCsum = 1;          // driver takes partially checksummed frames
inline constexpr unsigned kFCtrlGuestOffloads = 2;  // CTRL_GUEST_OFFLOADS_SET (Linux)
inline constexpr unsigned kFMac = 5;
inline constexpr unsigned kFGuestTso4 = 7;
inline constexpr unsigned kFGuestTso6 = 8;
inline constexpr unsigned kFGuestEcn = 9;
inline constexpr unsigned kFGuestUfo = 10;
inline constexpr unsigned kFHostTso4 = 11;
inline constexpr unsigned kFHostTso6 = 12;
inline constexpr unsigned kFHostEcn = 13;
inline constexpr unsigned kFHostUfo = 14;
inline constexpr unsigned kFMrgRxbuf = 15;
inline constexpr unsigned kFStatus = 16;
inline constexpr unsigned kFCtrlVq = 17;
inline constexpr unsigned kFCtrlRx = 18;
inline constexpr unsigned kFCtrlVlan = 19;
inline constexpr unsigned kFGuestAnnounce = 21;
inline constexpr unsigned kFCtrlMacAddr = 23;

// The receive offloads CTRL_GUEST_OFFLOADS may switch (feature bits, as the command carries them).
inline constexpr uint64_t kGuestOffloadMask = (uint64_t{1} << kFGuestCsum) | (uint64_t{1} << kFGuestTso4) |
                                              (uint64_t{1} << kFGuestTso6) | (uint64_t{1} << kFGuestEcn) |
                                              (uint64_t{1} << kFGuestUfo);

// Configuration "status" bits.
inline constexpr uint16_t kStatusLinkUp = 1;
inline constexpr uint16_t kStatusAnnounce = 2;

// "Device configuration layout": mac, then status (with VIRTIO_NET_F_STATUS).
struct NetConfig {
  std::array<uint8_t, 6> mac;
  uint16_t status;
};
static_assert(sizeof(NetConfig) == 8);

// "Device Operation": the header in front of every frame. With MRG_RXBUF it is 12 bytes
// (num_buffers appended, meaningful on receive only); without, 10.
inline constexpr uint8_t kHdrFNeedsCsum = 1;
inline constexpr uint8_t kHdrFDataValid = 2;
inline constexpr uint8_t kGsoNone = 0;
inline constexpr uint8_t kGsoTcpV4 = 1;
inline constexpr uint8_t kGsoUdp = 3;
inline constexpr uint8_t kGsoTcpV6 = 4;
inline constexpr uint8_t kGsoEcn = 0x80;

struct NetHeader {
  uint8_t flags;
  uint8_t gso_type;
  uint16_t hdr_len;
  uint16_t gso_size;
  uint16_t csum_start;
  uint16_t csum_offset;
};
static_assert(sizeof(NetHeader) == 10);
inline constexpr uint32_t kHeaderBytes = 10;
inline constexpr uint32_t kMrgHeaderBytes = 12;
inline constexpr uint32_t kNumBuffersOffset = 10;

// Largest Ethernet frame (without the header) either direction carries: a 64 KiB GSO frame with
// its Ethernet and VLAN headers (Firecracker's and Linux's bound).
inline constexpr uint32_t kMaxFrameBytes = 65550;

// "Control Virtqueue": class, command, data, then one status byte written by the device.
inline constexpr uint8_t kCtrlOk = 0;
inline constexpr uint8_t kCtrlErr = 1;
inline constexpr uint8_t kCtrlRx = 0;
inline constexpr uint8_t kCtrlRxPromisc = 0;
inline constexpr uint8_t kCtrlRxAllmulti = 1;
inline constexpr uint8_t kCtrlMac = 1;
inline constexpr uint8_t kCtrlMacTableSet = 0;
inline constexpr uint8_t kCtrlMacAddrSet = 1;
inline constexpr uint8_t kCtrlVlan = 2;
inline constexpr uint8_t kCtrlVlanAdd = 0;
inline constexpr uint8_t kCtrlVlanDel = 1;
inline constexpr uint8_t kCtrlAnnounce = 3;
inline constexpr uint8_t kCtrlAnnounceAck = 0;
inline constexpr uint8_t kCtrlGuestOffloads = 5;
inline constexpr uint8_t kCtrlGuestOffloadsSet = 0;

// VLAN IDs the filter knows (12 bits).
inline constexpr uint32_t kMaxVlan = 4096;

}  // namespace kiln::virtio::net
