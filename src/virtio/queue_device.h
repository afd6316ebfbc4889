// The lifecycle every virtio device shares, written once (the model: Cloud Hypervisor's
// VirtioCommon with its per-device epoll worker, Firecracker's device subscribers). A
// QueueDevice owns the device thread (an EventLoop) waiting on the queues' notify eventfds and on
// the device's own fds, activation and reset, pause and resume with "look at every queue again on
// resume", and the device's guest-error log. A device derives from it and writes only its queue
// logic through these hooks:
//
//   on_activate()     the driver set DRIVER_OK: set up what the activation needs (before the
//                     thread starts; an error leaves the device inactive)
//   extra_sources()   more fds for the thread to wait on (a tap, an io_uring completion
//                     eventfd), each with its handler; asked once per activation
//   on_notify(q)      the driver notified queue q, or the worker looks at it again (activation,
//                     resume, kick()): serve it
//   on_pause()        the thread is parked: complete what is still in flight (used ring,
//                     interrupt), then touch nothing until on_resume()
//   on_resume()       before the thread runs again (announce what waited)
//   on_reset()        the thread has stopped for good: drop the activation's state
//
// on_notify and the extra sources' handlers run on the device thread, one at a time; the other
// hooks run on the transport's thread (under its lock) while the device thread is parked or not
// running. A derived class calls reset() in its destructor: the thread runs the derived hooks.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/event_fd.h"
#include "common/event_loop.h"
#include "virtio/device.h"
#include "virtio/spec.h"

namespace kiln::virtio {

class QueueDevice : public VirtioDevice {
 public:
  // Most queues a QueueDevice serves (the kick mask is one 64-bit word).
  static constexpr uint16_t kMaxQueues = 64;

  QueueDevice(const QueueDevice&) = delete;
  QueueDevice& operator=(const QueueDevice&) = delete;

  [[nodiscard]] Status activate(Activation activation) final;
  void reset() final;
  [[nodiscard]] Status pause() final;
  void resume() final;
  [[nodiscard]] const SplitQueue* active_queue(uint16_t index) const final { return queue_in(active_, index); }

  [[nodiscard]] bool active() const { return loop_ != nullptr; }
  [[nodiscard]] bool paused() const { return paused_; }

 protected:
  // `thread_name` names the device thread ("kiln-blk"; at most 15 characters show).
  explicit QueueDevice(std::string thread_name) : thread_name_(std::move(thread_name)) {}
  ~QueueDevice() override;

  [[nodiscard]] virtual Status on_activate() { return {}; }
  [[nodiscard]] virtual std::vector<EventLoop::Source> extra_sources() { return {}; }
  virtual void on_notify(uint16_t queue) = 0;
  [[nodiscard]] virtual Status on_pause() { return {}; }
  virtual void on_resume() {}
  virtual void on_reset() {}

  // While active (from on_activate until on_reset returns).
  [[nodiscard]] const Activation& activation() const { return active_; }
  [[nodiscard]] const GuestMemory& mem() const { return *active_.mem; }
  [[nodiscard]] Interrupt& interrupt() const { return *active_.interrupt; }
  [[nodiscard]] bool negotiated(unsigned bit) const { return (active_.features & feature(bit)) != 0; }
  // The queue at `index`, or nullptr when the driver did not set it up.
  [[nodiscard]] SplitQueue* queue(uint16_t index) {
    return index < active_.queues.size() && active_.queues[index].queue ? &*active_.queues[index].queue : nullptr;
  }

  // Has the device thread call on_notify(index) again soon: a device stops after a batch of
  // chains and kicks itself, so that a guest refilling its queue as fast as it is served cannot
  // hold the thread (and a pause or reset waiting for it) forever. On the device thread only.
  void kick(uint16_t index);
  // The next chain the driver made available on `q`, or nullopt. Malformed chains (the queue
  // already returned them with length 0) are counted as guest errors and skipped, at most one
  // queue's worth per call (then nullopt and a kick(index), so the caller's batch ends).
  [[nodiscard]] std::optional<DescriptorChain> next_chain(SplitQueue& q, uint16_t index);
  // One interrupt decision for what was pushed to `q` since the last one (2.4.3.2 / 2.4.4.2).
  void interrupt_if_needed(SplitQueue& q);
  // For a handler with a long piece of work (a huge transmit chain): a reset is waiting (drop
  // the rest) or a pause is (finish what was popped, pop nothing more).
  [[nodiscard]] bool stop_requested() const { return stopping_.load(std::memory_order_acquire); }
  [[nodiscard]] bool pause_requested() const { return pausing_.load(std::memory_order_acquire); }

 private:
  void run_kicked();

  const std::string thread_name_;
  Activation active_;
  std::optional<EventFd> kick_event_;           // while active: kick() wakes the thread
  std::atomic<uint64_t> kicked_{0};             // queues to look at again, one bit each
  std::unique_ptr<EventLoop> loop_;             // while active; stopped first by reset()
  bool paused_ = false;                         // between pause() (or a paused activation) and resume()
  std::atomic<bool> stopping_{false};           // reset() waits for the thread
  std::atomic<bool> pausing_{false};            // pause() waits for the thread
};

}  // namespace kiln::virtio
