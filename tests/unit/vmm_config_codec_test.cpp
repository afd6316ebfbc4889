// The machine configuration in a snapshot: the virtio transport round-trips, a snapshot from
// before virtio-PCI (no transport byte) means virtio-mmio, an unknown transport is refused.
#include <gtest/gtest.h>

#include "vmm/vm_config_codec.h"

namespace kiln {
namespace {

VmConfig sample(VirtioTransport t) {
  VmConfig c;
  c.kernel_path = "/boot/vmlinux";
  c.rng = true;
  c.virtio_transport = t;
  return c;
}

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
  bytes.pop_back();  // as written before the transport byte existed
  auto old = decode(bytes);
  ASSERT_TRUE(old) << old.error().message;
  EXPECT_EQ(old->virtio_transport, VirtioTransport::kMmio);
  bytes.push_back(2);
  auto bad = decode(bytes);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("virtio transport 2"), std::string::npos) << bad.error().message;
}

}  // namespace
}  // namespace kiln
