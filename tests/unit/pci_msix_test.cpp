// MSI-X (PCI Local Bus 3.0, 6.8.2-6.8.3) and capability lists (6.7): the capability chain and
// its writable bits, the table and PBA at every width and offset (misaligned and out-of-range
// accesses ignored), masking with pending delivery at vector and function level, routes told
// before the first delivery and again only when the message changed, and snapshot state.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "pci/config_space.h"
#include "pci/msix.h"

namespace kiln::pci {
namespace {

// Records what the table asks of the VMM.
class RecordingSink final : public MsiSink {
 public:
  void set_route(uint16_t vector, const MsiMessage& message) override { routes.push_back({vector, message}); }
  void signal(uint16_t vector) override { signals.push_back(vector); }
  std::vector<std::pair<uint16_t, MsiMessage>> routes;
  std::vector<uint16_t> signals;
};

uint64_t read(MsixTable& t, uint64_t offset, size_t size, bool pba = false) {
  uint8_t b[8];
  std::memset(b, 0xaa, sizeof(b));
  if (pba) {
    t.pba_read(offset, std::span(b, size));
  } else {
    t.table_read(offset, std::span(b, size));
  }
  uint64_t v = 0;
  std::memcpy(&v, b, size);
  return v;
}
void write(MsixTable& t, uint64_t offset, uint64_t value, size_t size) {
  uint8_t b[8];
  std::memcpy(b, &value, sizeof(b));
  t.table_write(offset, std::span<const uint8_t>(b, size));
}
// Programs vector `v` with `address`/`data`, leaving its mask as `masked`.
void program(MsixTable& t, uint16_t v, uint64_t address, uint32_t data, bool masked) {
  write(t, v * kMsixEntrySize, address, 8);
  write(t, v * kMsixEntrySize + 8, data, 4);
  write(t, v * kMsixEntrySize + 12, masked ? 1 : 0, 4);
}

class MsixTest : public ::testing::Test {
 protected:
  std::shared_ptr<RecordingSink> sink_ = std::make_shared<RecordingSink>();
  MsixTable t_{3, sink_};
};

TEST(PciCapabilities, ChainStatusBitAndWritableMask) {
  ConfigSpace c(Identity{0x1af4, 0x1001, 0, 0x010000, 0x1af4, 2, kPinA});
  uint8_t b[2];
  c.read(kStatus, b);
  EXPECT_EQ(b[0] & kStatusCapabilitiesList, 0) << "no list yet";
  const uint8_t body1[] = {0x12, 0x34, 0x56};
  const uint8_t mask1[] = {0x00, 0xff, 0x0f};
  auto first = c.add_capability(0x11, body1, mask1);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(*first, kFirstCapability);
  const uint8_t body2[] = {0x99, 0x98};
  const uint8_t mask2[] = {0, 0};
  auto second = c.add_capability(0x09, body2, mask2);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(*second, kFirstCapability + 8) << "4-byte aligned after 5 bytes";
  c.read(kStatus, b);
  EXPECT_NE(b[0] & kStatusCapabilitiesList, 0);
  uint8_t p[1];
  c.read(kCapabilitiesPointer, p);
  EXPECT_EQ(p[0], kFirstCapability);
  uint8_t cap[5];
  c.read(*first, cap);
  EXPECT_EQ(cap[0], 0x11);
  EXPECT_EQ(cap[1], *second) << "next pointer";
  EXPECT_EQ(cap[2], 0x12);
  c.read(*second, std::span(cap, 2));
  EXPECT_EQ(cap[0], 0x09);
  EXPECT_EQ(cap[1], 0) << "end of the list";
  // Only the writable bits take a write; the ID and next pointer never do.
  const uint8_t ones[5] = {0xff, 0xff, 0xff, 0xff, 0xff};
  c.write(*first, ones);
  c.read(*first, cap);
  EXPECT_EQ(cap[0], 0x11);
  EXPECT_EQ(cap[1], *second);
  EXPECT_EQ(cap[2], 0x12);
  EXPECT_EQ(cap[3], 0xff);
  EXPECT_EQ(cap[4], 0x5f);
  // Status stays read-only.
  const uint8_t zero[2] = {0, 0};
  c.write(kStatus, zero);
  c.read(kStatus, b);
  EXPECT_NE(b[0] & kStatusCapabilitiesList, 0);
  // No room: an error, nothing written.
  std::vector<uint8_t> huge(250);
  EXPECT_FALSE(c.add_capability(0x05, huge, huge).has_value());
}

TEST_F(MsixTest, ResetStateAllMaskedNothingPending) {
  EXPECT_EQ(t_.size(), 3);
  EXPECT_EQ(t_.table_bytes(), 48u);
  EXPECT_EQ(t_.pba_bytes(), 8u);
  for (uint16_t v = 0; v < 3; ++v) {
    EXPECT_EQ(read(t_, v * 16, 8), 0u);
    EXPECT_EQ(read(t_, v * 16 + 8, 4), 0u);
    EXPECT_EQ(read(t_, v * 16 + 12, 4), kMsixVectorMasked);
    EXPECT_TRUE(t_.masked(v));
  }
  EXPECT_EQ(read(t_, 0, 8, true), 0u);
  EXPECT_FALSE(t_.enabled());
}

TEST_F(MsixTest, EveryWidthAndOffset) {
  program(t_, 1, 0xfee0'1000'0000'0000 | 0xfee00000, 0x4041, true);
  // Aligned DWORDs and QWORDs of entry 1.
  EXPECT_EQ(read(t_, 16, 4), 0xfee00000u);
  EXPECT_EQ(read(t_, 20, 4), 0xfee01000u);
  EXPECT_EQ(read(t_, 24, 4), 0x4041u);
  EXPECT_EQ(read(t_, 28, 4), 1u);
  EXPECT_EQ(read(t_, 16, 8), 0xfee0'1000'fee0'0000u);
  EXPECT_EQ(read(t_, 24, 8), 0x1'0000'4041u) << "data and vector control as one QWORD";
  // Bytes, words, misaligned DWORDs/QWORDs: ignored, read 0.
  for (uint64_t off = 16; off < 32; ++off) {
    EXPECT_EQ(read(t_, off, 1), 0u) << off;
    EXPECT_EQ(read(t_, off, 2), 0u) << off;
    if (off % 4 != 0) {
      EXPECT_EQ(read(t_, off, 4), 0u) << off;
    }
    if (off % 8 != 0) {
      EXPECT_EQ(read(t_, off, 8), 0u) << off;
    }
  }
  write(t_, 17, 0xffffffff, 4);
  write(t_, 16, 0xff, 1);
  write(t_, 20, 0xffff, 2);
  write(t_, 20, 0xffffffff'ffffffff, 8);  // misaligned QWORD
  EXPECT_EQ(read(t_, 16, 8), 0xfee0'1000'fee0'0000u) << "nothing changed";
  // Beyond the table and the PBA.
  EXPECT_EQ(read(t_, 48, 4), 0u);
  EXPECT_EQ(read(t_, ~uint64_t{0} - 3, 4), 0u);
  write(t_, 48, 0x1234, 4);
  write(t_, ~uint64_t{0} - 7, 0x1234, 8);
  EXPECT_EQ(read(t_, 8, 4, true), 0u);
  EXPECT_EQ(read(t_, 1, 1, true), 0u);
  // Vector Control keeps only the mask bit.
  write(t_, 28, 0xfffffffe, 4);
  EXPECT_EQ(read(t_, 28, 4), 0u);
  write(t_, 28, 0xffffffff, 4);
  EXPECT_EQ(read(t_, 28, 4), 1u);
}

TEST_F(MsixTest, DisabledFiresNothing) {
  program(t_, 0, 0xfee00000, 0x30, false);
  t_.fire(0);
  EXPECT_TRUE(sink_->signals.empty());
  EXPECT_FALSE(t_.pending(0)) << "MSI-X off: no pending bits either";
}

TEST_F(MsixTest, RouteWhenLiveAndOnlyWhenChanged) {
  program(t_, 2, 0xfee00000, 0x31, true);
  t_.set_control(true, false);
  EXPECT_TRUE(sink_->routes.empty()) << "masked: no route yet";
  write(t_, 2 * 16 + 12, 0, 4);  // unmask: live now
  ASSERT_EQ(sink_->routes.size(), 1u);
  t_.fire(2);
  t_.fire(2);
  ASSERT_EQ(sink_->routes.size(), 1u);
  EXPECT_EQ(sink_->routes[0].first, 2);
  EXPECT_EQ(sink_->routes[0].second, (MsiMessage{0xfee00000, 0x31}));
  EXPECT_EQ(sink_->signals, (std::vector<uint16_t>{2, 2}));
  write(t_, 2 * 16 + 8, 0x32, 4);  // the guest moves the live vector (affinity): routed at once
  ASSERT_EQ(sink_->routes.size(), 2u);
  EXPECT_EQ(sink_->routes[1].second.data, 0x32u);
  t_.fire(2);
  EXPECT_EQ(sink_->routes.size(), 2u);
  write(t_, 2 * 16 + 12, 1, 4);  // masked, then rewritten: nothing until it is live again
  write(t_, 2 * 16 + 8, 0x33, 4);
  EXPECT_EQ(sink_->routes.size(), 2u);
  t_.set_control(true, true);
  write(t_, 2 * 16 + 12, 0, 4);  // unmasked under the function mask: still not live
  EXPECT_EQ(sink_->routes.size(), 2u);
  t_.set_control(true, false);
  ASSERT_EQ(sink_->routes.size(), 3u);
  EXPECT_EQ(sink_->routes[2].second.data, 0x33u);
  t_.fire(7);  // beyond the table
  EXPECT_EQ(sink_->signals.size(), 3u);
}

TEST_F(MsixTest, MaskedVectorPendsAndFiresOnUnmask) {
  t_.set_control(true, false);
  program(t_, 1, 0xfee00000, 0x41, true);
  t_.fire(1);
  EXPECT_TRUE(sink_->signals.empty());
  EXPECT_TRUE(t_.pending(1));
  EXPECT_EQ(read(t_, 0, 8, true), 0b010u);
  EXPECT_EQ(read(t_, 0, 4, true), 0b010u);
  EXPECT_EQ(read(t_, 4, 4, true), 0u);
  t_.fire(1);  // still one pending interrupt
  write(t_, 0, 0xffff, 4);  // PBA-looking write to the table: entry 0's address, nothing more
  uint8_t junk[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  t_.pba_read(0, std::span(junk, 8));
  EXPECT_EQ(junk[0], 0b010) << "PBA unchanged";
  write(t_, 16 + 12, 0, 4);  // unmask
  EXPECT_EQ(sink_->signals, (std::vector<uint16_t>{1})) << "delivered once";
  EXPECT_FALSE(t_.pending(1));
  EXPECT_EQ(read(t_, 0, 8, true), 0u);
}

TEST_F(MsixTest, FunctionMaskAndEnableDeliverPending) {
  program(t_, 0, 0xfee00000, 0x50, false);
  program(t_, 2, 0xfee00000, 0x52, false);
  t_.set_control(true, true);
  t_.fire(0);
  t_.fire(2);
  EXPECT_TRUE(sink_->signals.empty());
  EXPECT_TRUE(t_.pending(0));
  EXPECT_TRUE(t_.pending(2));
  EXPECT_FALSE(t_.masked(0)) << "the vector itself is not masked";
  t_.set_control(true, false);
  EXPECT_EQ(sink_->signals, (std::vector<uint16_t>{0, 2}));
  EXPECT_FALSE(t_.pending(0));
  EXPECT_FALSE(t_.pending(2));
  // Pending survives disabling (the bit stays set until delivered).
  t_.set_control(true, true);
  t_.fire(0);
  t_.set_control(false, false);
  EXPECT_TRUE(t_.pending(0));
  t_.set_control(true, false);
  EXPECT_EQ(sink_->signals.size(), 3u);
}

TEST_F(MsixTest, ResetMasksEverything) {
  t_.set_control(true, false);
  program(t_, 0, 0xfee00000, 0x50, false);
  t_.reset();
  EXPECT_FALSE(t_.enabled());
  EXPECT_TRUE(t_.masked(0));
  EXPECT_EQ(read(t_, 0, 8), 0u);
}

TEST_F(MsixTest, SnapshotRoundTripAndHostileState) {
  t_.set_control(true, false);
  program(t_, 0, 0xfee01000, 0x61, false);
  program(t_, 1, 0xfee02000, 0x62, true);
  t_.fire(0);
  t_.fire(1);
  snapshot::Encoder out;
  t_.save_state(out);
  const std::vector<uint8_t> saved(out.data().begin(), out.data().end());

  auto sink2 = std::make_shared<RecordingSink>();
  MsixTable other(3, sink2);
  snapshot::Decoder in(saved, "msix");
  ASSERT_TRUE(other.restore_state(in).has_value());
  EXPECT_TRUE(in.finish().has_value());
  EXPECT_EQ(read(other, 0, 8), 0xfee01000u);
  EXPECT_EQ(read(other, 24, 8), 0x1'0000'0062u);
  EXPECT_TRUE(other.pending(1));
  other.set_control(true, false);  // configuration space comes back: live routes are made at once
  ASSERT_EQ(sink2->routes.size(), 1u);
  EXPECT_EQ(sink2->routes[0].second, (MsiMessage{0xfee01000, 0x61}));
  EXPECT_TRUE(sink2->signals.empty());
  other.fire(0);
  write(other, 16 + 12, 0, 4);
  EXPECT_EQ(sink2->signals, (std::vector<uint16_t>{0, 1}));

  MsixTable four(4, sink2);
  snapshot::Decoder wrong_size(saved, "msix");
  EXPECT_FALSE(four.restore_state(wrong_size).has_value());
  std::vector<uint8_t> bad_control = saved;
  bad_control[8 + 12] = 0x03;  // vector 0's control: a reserved bit
  snapshot::Decoder in_bad(bad_control, "msix");
  EXPECT_FALSE(other.restore_state(in_bad).has_value());
  std::vector<uint8_t> bad_pba = saved;
  bad_pba[8 + 48] = 0x08;  // pending bit 3 of a 3-vector table
  snapshot::Decoder in_pba(bad_pba, "msix");
  EXPECT_FALSE(other.restore_state(in_pba).has_value());
  EXPECT_EQ(read(other, 0, 8), 0xfee01000u) << "a refused restore changes nothing";
}

}  // namespace
}  // namespace kiln::pci
