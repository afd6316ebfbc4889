// A hostile driver: random chains (lengths, directions, addresses partly outside RAM) on every
// queue and random frames from the host, with a fixed seed. kiln must neither crash nor touch
// memory outside guest RAM (run under ASan in build-asan), answer every transmit and control
// chain, and still transmit a good frame afterwards.
#include <gtest/gtest.h>

#include <random>

#include "virtio_net_test_util.h"

namespace kiln::virtio::net::test {
namespace {

TEST(VirtioNetHostile, RandomChainsAndFramesAreSurvived) {
  NetHarness h;
  ASSERT_TRUE(h.activate(h.device->features()));  // everything offered: MRG_RXBUF, offloads, ...
  std::mt19937_64 rng(0x6b696c6e);
  const auto pick = [&](uint64_t n) { return rng() % n; };
  const auto random_bufs = [&](bool writable_tail) {
    std::vector<Buf> bufs;
    const uint64_t n = 1 + pick(6);
    for (uint64_t i = 0; i < n; ++i) {
      // Mostly inside the data area, sometimes straddling or past the end of the 16 MiB of RAM.
      const uint64_t addr = pick(10) == 0 ? 16 * MiB - pick(8192) : kData + pick(8 * MiB);
      const uint32_t len = static_cast<uint32_t>(pick(5) == 0 ? pick(200000) : pick(4096));
      bufs.push_back({addr, len, writable_tail && i + 1 == n ? true : pick(4) == 0});
    }
    return bufs;
  };
  uint16_t tx_added = 0;
  uint16_t ctrl_added = 0;
  for (int round = 0; round < 40; ++round) {
    for (int i = 0; i < 8; ++i) {
      h.tx.add(random_bufs(false));
      ++tx_added;
    }
    for (int i = 0; i < 2; ++i) {
      // A class and command among the real ones, then random data.
      const uint64_t at = kData + 7 * MiB;
      h.write(at, {static_cast<uint8_t>(pick(7)), static_cast<uint8_t>(pick(3)), static_cast<uint8_t>(rng()),
                   static_cast<uint8_t>(rng()), static_cast<uint8_t>(rng()), static_cast<uint8_t>(rng())});
      std::vector<Buf> bufs{{at, static_cast<uint32_t>(pick(8))}};
      auto more = random_bufs(true);
      bufs.insert(bufs.end(), more.begin(), more.end());
      h.ctrl.add(bufs);
      ++ctrl_added;
    }
    for (int i = 0; i < 4; ++i) h.rx.add(random_bufs(true));
    h.tx_notify.signal();
    h.ctrl_notify.signal();
    h.rx_notify.signal();
    for (int i = 0; i < 3; ++i) {
      std::vector<uint8_t> frame(pick(4) == 0 ? pick(70000) : pick(2000));
      for (auto& b : frame) b = static_cast<uint8_t>(rng());
      if (!frame.empty()) ::send(h.peer.get(), frame.data(), frame.size(), MSG_DONTWAIT);
    }
    ASSERT_TRUE(eventually([&] { return h.tx.used_idx() == tx_added && h.ctrl.used_idx() == ctrl_added; }))
        << "round " << round << ": tx " << h.tx.used_idx() << "/" << tx_added << ", ctrl " << h.ctrl.used_idx() << "/"
        << ctrl_added;
    while (h.host_receive(0)) {
    }
  }
  EXPECT_GT(h.device->guest_errors().count(), 0u);
  EXPECT_GT(h.device->counters().tx_drops, 0u);

  // Still a working device.
  while (h.host_receive(0)) {
  }
  const std::vector<uint8_t> out = framed(12, {0x02, 1, 2, 3, 4, 5}, 500, 1);
  h.guest_send(out, kData + 9 * MiB);
  auto got = h.host_receive();
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, out);
}

}  // namespace
}  // namespace kiln::virtio::net::test
