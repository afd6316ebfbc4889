// For the snapshot tests of virtio devices: one device behind an MmioTransport, driven by kiln's
// driver library, and the VMM's part of a snapshot (take: pause, save, copy guest RAM; replace:
// the old device and transport gone, RAM scribbled over and put back, a fresh pair attached;
// restore: the saved state into the fresh transport).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <thread>
#include <vector>

#include "drivers/virtio/device.h"
#include "drivers/virtio/hosted/kiln.h"
#include "drivers/virtio/mmio.h"
#include "snapshot/codec.h"
#include "virtio/transports/mmio/mmio_transport.h"
#include "virtio_console_test_util.h"

namespace kiln::virtio::test {

namespace drv = kiln::driver;
using Mmio = drv::LegacyMmio<drv::BusRegisters>;

class CountingTrigger final : public IrqTrigger {
 public:
  void trigger() override { ++count; }
  std::atomic<int> count{0};
};

// Polls a driver queue until a completion arrives or five seconds pass.
template <class QueueT>
drv::Poll wait(QueueT& q, drv::Completion& c) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  drv::Poll p = drv::Poll::empty;
  while ((p = q.poll(c)) == drv::Poll::empty && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return p;
}

struct Snapshot {
  std::vector<uint8_t> ram;
  std::vector<uint8_t> state;
};

struct Session {
  static constexpr uint64_t kRam = 8 * MiB;

  Session() = default;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session() {
    if (transport) transport->shutdown();
  }

  void attach(std::shared_ptr<VirtioDevice> d) {
    device = std::move(d);
    irq = std::make_shared<CountingTrigger>();
    auto created = MmioTransport::create(mem, device, irq);
    ASSERT_TRUE(created.has_value());
    transport = *created;
    t = Mmio(drv::BusRegisters{transport.get()});  // the driver's queues keep pointing at `t`
  }
  // Pauses (again: a no-op when paused), saves, copies guest RAM.
  Snapshot take() {
    Snapshot s;
    EXPECT_TRUE(transport->pause());
    snapshot::Encoder e;
    auto ok = transport->save_state(e);
    EXPECT_TRUE(ok) << (ok ? "" : ok.error().message);
    s.state = e.take();
    s.ram.resize(kRam);
    EXPECT_TRUE(mem.read(GuestAddress(0), s.ram));
    return s;
  }
  void replace(const std::function<std::shared_ptr<VirtioDevice>()>& make, const Snapshot& snap) {
    transport->shutdown();
    transport.reset();
    device.reset();
    EXPECT_TRUE(mem.fill(GuestAddress(0), kRam, 0xa5));
    EXPECT_TRUE(mem.write(GuestAddress(0), snap.ram));
    attach(make());
  }
  // As the VMM does: trailing bytes are an error too, and leave the transport reset.
  Status restore(std::span<const uint8_t> state) {
    snapshot::Decoder d(state, "test state");
    KILN_TRY(transport->restore_state(d));
    if (auto ok = d.finish(); !ok) {
      transport->reset();
      return ok;
    }
    return {};
  }

  GuestMemory mem = make_guest_ram(kRam);
  drv::Arena arena{drv::window_of(mem, GuestAddress(2 * MiB), 4 * MiB)};
  std::shared_ptr<CountingTrigger> irq;
  std::shared_ptr<VirtioDevice> device;
  std::shared_ptr<MmioTransport> transport;
  Mmio t;
};

}  // namespace kiln::virtio::test
