// What the legacy virtio-PCI tests share: one request through a queue set up by the test driver.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "drivers/virtio/device.h"

namespace kiln::virtio {

// Posts one 32-byte device-writable buffer (token 9) on `queue`, kicks, and polls until the device
// completes it or `deadline` passes; the completion is returned (token 0 if none came).
template <typename Queue>
driver::Completion complete_one_request(Queue& queue, driver::Arena& arena,
                                        std::chrono::steady_clock::time_point deadline) {
  driver::Completion c{};
  auto buf = arena.allocate(32, 16);
  EXPECT_TRUE(buf.ok());
  if (!buf.ok()) return c;
  const driver::Segment seg{buf->phys, 32};
  EXPECT_TRUE(queue.add(&seg, 0, 1, 9).ok());
  queue.kick();
  while (queue.poll(c) != driver::Poll::done && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return c;
}

}  // namespace kiln::virtio
