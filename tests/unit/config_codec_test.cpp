// The machine configuration in a snapshot: the virtio transport (the machine's and each device's)
// round-trips, a snapshot from before virtio-PCI (no transport byte) means virtio-mmio, one from
// before per-device transports puts every device on the machine's, an unknown transport is refused.
#include <gtest/gtest.h>

#include "config/vm_config_codec.h"

namespace kiln {
namespace {

VmConfig sample(VirtioTransport t) {
  VmConfig c;
  c.kernel_path = "/boot/vmlinux";
  c.rng = true;
  c.virtio_transport = t;
  return c;
}

DiskConfig disk(std::string id) {
  DiskConfig d;
  d.id = std::move(id);
  d.path = "/" + d.id + ".img";
  return d;
}

NetConfig net(std::string id, std::string tap) {
  NetConfig n;
  n.id = std::move(id);
  n.host_dev_name = std::move(tap);
  return n;
}

// The per-device transport record of sample(): a u32 count (1, the rng) and one byte.
constexpr size_t kSampleDeviceTransportsBytes = 5;

Result<VmConfig> decode(std::span<const uint8_t> bytes) {
  snapshot::Decoder in(bytes, "machine configuration");
  auto c = decode_vm_config(in);
  if (c) KILN_TRY(in.finish());
  return c;
}

TEST(VmConfigCodec, TransportRoundTrips) {
  for (auto t : {VirtioTransport::kMmio, VirtioTransport::kPci}) {
    snapshot::Encoder out;
    encode_vm_config(out, sample(t));
    auto c = decode(out.data());
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->virtio_transport, t);
    EXPECT_TRUE(c->rng);
  }
}

TEST(VmConfigCodec, OlderSnapshotsMeanMmioAndUnknownTransportsAreRefused) {
  snapshot::Encoder out;
  encode_vm_config(out, sample(VirtioTransport::kPci));
  std::vector<uint8_t> bytes = out.take();
  // As written before the transport byte (and the interface count, vsock and device transport
  // records after it) existed.
  bytes.resize(bytes.size() - 6 - kSampleDeviceTransportsBytes);
  auto old = decode(bytes);
  ASSERT_TRUE(old) << old.error().message;
  EXPECT_EQ(old->virtio_transport, VirtioTransport::kMmio);
  bytes.push_back(2);
  auto bad = decode(bytes);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("virtio transport 2"), std::string::npos) << bad.error().message;
}

TEST(VmConfigCodec, VsockRoundTripsAndOlderSnapshotsHaveNone) {
  VmConfig c = sample(VirtioTransport::kMmio);
  c.vsock = VsockConfig{42, "/run/v.sock", "vsock0"};
  snapshot::Encoder out;
  encode_vm_config(out, c);
  auto back = decode(out.data());
  ASSERT_TRUE(back) << back.error().message;
  ASSERT_TRUE(back->vsock);
  EXPECT_EQ(back->vsock->guest_cid, 42u);
  EXPECT_EQ(back->vsock->uds_path, "/run/v.sock");
  EXPECT_EQ(back->vsock->id, "vsock0");

  snapshot::Encoder none;
  encode_vm_config(none, sample(VirtioTransport::kPci));
  std::vector<uint8_t> bytes = none.take();
  // A snapshot from before vsock: the record ends after the interfaces.
  bytes.resize(bytes.size() - 1 - kSampleDeviceTransportsBytes);
  auto old = decode(bytes);
  ASSERT_TRUE(old) << old.error().message;
  EXPECT_FALSE(old->vsock);
  EXPECT_EQ(old->virtio_transport, VirtioTransport::kPci);

  c.vsock->guest_cid = 2;  // the host's CID: never a guest's
  snapshot::Encoder bad;
  encode_vm_config(bad, c);
  auto refused = decode(bad.data());
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("vsock guest CID 2"), std::string::npos) << refused.error().message;
}

TEST(VmConfigCodec, DeviceTransportsRoundTrip) {
  VmConfig c = sample(VirtioTransport::kMmio);
  c.disks = {disk("root"), disk("data")};
  c.disks[0].transport = VirtioTransport::kPci;  // disks[1]: the default
  c.nets = {net("eth0", "tap0")};
  c.nets[0].transport = VirtioTransport::kMmio;
  c.rng_transport = VirtioTransport::kPci;
  c.console = ConsoleKind::kVirtio;
  c.console_transport = VirtioTransport::kPci;
  c.vsock = VsockConfig{42, "/run/v.sock", ""};
  c.vsock->transport = VirtioTransport::kMmio;
  snapshot::Encoder out;
  encode_vm_config(out, c);
  auto back = decode(out.data());
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->virtio_transport, VirtioTransport::kMmio);
  ASSERT_EQ(back->disks.size(), 2u);
  EXPECT_EQ(back->disks[0].transport, VirtioTransport::kPci);
  EXPECT_FALSE(back->disks[1].transport);
  ASSERT_EQ(back->nets.size(), 1u);
  EXPECT_EQ(back->nets[0].transport, VirtioTransport::kMmio);
  EXPECT_EQ(back->rng_transport, VirtioTransport::kPci);
  EXPECT_EQ(back->console_transport, VirtioTransport::kPci);
  ASSERT_TRUE(back->vsock);
  EXPECT_EQ(back->vsock->transport, VirtioTransport::kMmio);
}

TEST(VmConfigCodec, SnapshotsFromBeforeDeviceTransportsUseTheMachineDefault) {
  VmConfig c = sample(VirtioTransport::kPci);
  c.disks = {disk("root")};
  c.disks[0].transport = VirtioTransport::kMmio;
  snapshot::Encoder out;
  encode_vm_config(out, c);
  std::vector<uint8_t> bytes = out.take();
  bytes.resize(bytes.size() - 4 - 2);  // the count and one byte each for the disk and the rng
  auto old = decode(bytes);
  ASSERT_TRUE(old) << old.error().message;
  EXPECT_EQ(old->virtio_transport, VirtioTransport::kPci);
  EXPECT_FALSE(old->disks[0].transport);
  EXPECT_FALSE(old->rng_transport);
}

TEST(VmConfigCodec, BadDeviceTransportsAreRefused) {
  VmConfig c = sample(VirtioTransport::kMmio);
  c.disks = {disk("root")};
  snapshot::Encoder out;
  encode_vm_config(out, c);
  std::vector<uint8_t> bytes = out.take();
  std::vector<uint8_t> unknown = bytes;
  unknown[unknown.size() - 2] = 3;  // the disk's byte
  auto bad = decode(unknown);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("virtio transport 3 of virtio-blk root"), std::string::npos)
      << bad.error().message;
  std::vector<uint8_t> short_count = bytes;
  short_count[short_count.size() - 6] = 1;  // the count's low byte: 1 for 2 devices
  auto miscounted = decode(short_count);
  ASSERT_FALSE(miscounted);
  EXPECT_NE(miscounted.error().message.find("1 device transports for 2 virtio devices"), std::string::npos)
      << miscounted.error().message;
}

}  // namespace
}  // namespace kiln
