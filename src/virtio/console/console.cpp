#include "virtio/console/console.h"

#include <unistd.h>

#include <algorithm>

#include "common/log.h"
#include "virtio/queue/chain_io.h"

namespace kiln::virtio {
ConsoleDevice::ConsoleDevice(Output output, WindowSize size)
    : QueueDevice("kiln-console"), output_(std::move(output)), config_{size.cols, size.rows, 1} {}

uint64_t ConsoleDevice::features() const {
  return feature(kConsoleFSize) | feature(kFRingIndirectDesc) | feature(kFRingEventIdx);
}

void ConsoleDevice::read_config(uint64_t offset, std::span<uint8_t> data) {
  std::lock_guard lock(mu_);
  read_config_bytes(std::span(reinterpret_cast<const uint8_t*>(&config_), sizeof(config_)), offset, data);
}

Status ConsoleDevice::on_activate() {
  auto wake = KILN_TRY_VALUE(EventFd::create());
  // A driver may leave a queue unset (an output-only console, say): the device serves what it has.
  rx_ = queue(kReceiveQueue);
  tx_ = queue(kTransmitQueue);
  std::lock_guard lock(mu_);
  wake_.emplace(std::move(wake));
  interrupt_ = &interrupt();
  size_negotiated_ = negotiated(kConsoleFSize);
  paused_ = activation().start_paused;
  // Linux reads cols/rows only on a configuration interrupt (it defers one that arrives while
  // it probes), so the initial size is announced like a change; a restored driver has it.
  if (!activation().restored) size_change_pending_ = size_negotiated_;
  if (size_change_pending_ && !paused_) {
    size_change_pending_ = false;
    interrupt_->config_changed();
  }
  return {};
}

std::vector<EventLoop::Source> ConsoleDevice::extra_sources() {
  // The fd stays valid until on_reset(), which runs after the thread stopped.
  EventFd* wake = &*wake_;
  return {{wake->fd(), [this, wake] {
             (void)wake->consume();
             service();
           }}};
}

void ConsoleDevice::on_reset() {
  {
    std::lock_guard lock(mu_);
    interrupt_ = nullptr;
    size_negotiated_ = false;
    size_change_pending_ = false;
    paused_ = false;
    wake_.reset();
  }
  rx_ = tx_ = nullptr;
}

size_t ConsoleDevice::enqueue_input(std::span<const uint8_t> bytes) {
  const size_t taken = input_.push(bytes);
  if (taken > 0) {
    std::lock_guard lock(mu_);
    if (wake_) wake_->signal();
  }
  return taken;
}

void ConsoleDevice::set_size(uint16_t cols, uint16_t rows) {
  std::lock_guard lock(mu_);
  if (config_.cols == cols && config_.rows == rows) return;
  config_.cols = cols;
  config_.rows = rows;
  // Appendix E: "a configuration change interrupt may occur. The updated size can be read from
  // the configuration fields."
  if (interrupt_ == nullptr || !size_negotiated_) return;
  if (paused_) {
    size_change_pending_ = true;  // resume() announces it
  } else {
    interrupt_->config_changed();
  }
}

void ConsoleDevice::service() {
  const bool more_tx = transmit();
  const bool more_rx = receive();
  // Come back through the event loop, which honours a pause or stop request in between.
  if (more_tx) kick(kTransmitQueue);
  if (more_rx) kick(kReceiveQueue);
}

bool ConsoleDevice::transmit() {
  if (tx_ == nullptr) return false;
  SplitQueue& q = *tx_;
  unsigned served = 0;
  do {
    q.disable_notification();
    while (served < kBatchChains) {
      if (stop_requested()) return false;
      if (pause_requested()) return true;  // the next round comes after resume()
      auto next = q.pop();
      if (next && !*next) break;
      ++served;
      if (!next) {
        guest_errors().report("transmitq: {}", next.error().message);  // already returned to the driver, empty
        continue;
      }
      send(q, **next);
    }
    if (served >= kBatchChains) return true;  // notifications stay off until the next round
  } while (q.enable_notification());
  return false;
}

void ConsoleDevice::send(SplitQueue& q, const DescriptorChain& chain) {
  // Appendix E: output is "simply placed in the port's transmitq"; the device writes nothing
  // back, so writable buffers are ignored and the used length is 0.
  if (!chain.writable().empty()) guest_errors().report("transmitq: chain {} has device-writable buffers; ignored", chain.head());
  ChainReader reader(mem(), chain);
  uint64_t left = chain.readable_bytes();
  if (left == 0) {
    push_used(q, chain.head(), 0);
    interrupt_if_needed(q);
    return;
  }
  while (left > 0 && !stop_requested()) {  // a reset drops the rest of a huge chain
    const size_t n = static_cast<size_t>(std::min<uint64_t>(left, kChunkBytes));
    scratch_.resize(n);
    if (auto ok = reader.read(scratch_); !ok) {  // cannot happen: pop() checked every segment
      guest_errors().report("transmitq: chain {}: {}", chain.head(), ok.error().message);
      push_used(q, chain.head(), 0);
      interrupt_if_needed(q);
      return;
    }
    left -= n;
    if (left == 0) {
      // The data is copied: the buffer goes back before Output runs, so a driver spinning on
      // the used ring (Linux's hvc put_chars) is not held up by a slow stdout.
      push_used(q, chain.head(), 0);
      interrupt_if_needed(q);
    }
    if (output_) output_(std::span<const uint8_t>(scratch_.data(), n));
  }
}

bool ConsoleDevice::receive() {
  if (rx_ == nullptr) return false;
  SplitQueue& q = *rx_;
  unsigned served = 0;
  bool more = false;
  while (input_.size() > 0 && !stop_requested()) {
    if (served >= kBatchChains || pause_requested()) {
      more = true;
      break;
    }
    auto next = q.pop();
    if (!next) {
      ++served;
      guest_errors().report("receiveq: {}", next.error().message);  // already returned to the driver, empty
      continue;
    }
    if (!*next) {
      // Input waits for buffers: ask for a notification, then look once more (2.4.4.1).
      if (q.enable_notification()) continue;
      break;
    }
    ++served;
    fill(**next);
  }
  interrupt_if_needed(q);
  return more;
}

void ConsoleDevice::fill(const DescriptorChain& chain) {
  SplitQueue& q = *rx_;
  // Input goes into the device-writable part only; readable buffers are ignored, and the used
  // length counts exactly the bytes written.
  if (!chain.readable().empty()) guest_errors().report("receiveq: chain {} has device-readable buffers; ignored", chain.head());
  const size_t room = static_cast<size_t>(std::min<uint64_t>(chain.writable_bytes(), kChunkBytes));
  scratch_.resize(room);
  const size_t n = input_.peek(scratch_);
  ChainWriter writer(mem(), chain);
  if (auto ok = writer.write(std::span<const uint8_t>(scratch_.data(), n)); !ok) {  // cannot happen either
    guest_errors().report("receiveq: chain {}: {}", chain.head(), ok.error().message);
    push_used(q, chain.head(), 0);
    return;
  }
  input_.consume(n);
  push_used(q, chain.head(), static_cast<uint32_t>(n));
}

void ConsoleDevice::push_used(SplitQueue& q, uint16_t head, uint32_t len) {
  if (auto ok = q.push_used(head, len); !ok) guest_errors().report("used ring: {}", ok.error().message);
}

}  // namespace kiln::virtio
