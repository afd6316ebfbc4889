#include "virtio/queue_device.h"

#include <unistd.h>

#include <cstdlib>

#include "common/log.h"

namespace kiln::virtio {
namespace {

void drain(int fd) {
  uint64_t count = 0;
  [[maybe_unused]] const ssize_t n = ::read(fd, &count, sizeof(count));
}

uint64_t all_queues(size_t n) { return n >= 64 ? ~uint64_t{0} : (uint64_t{1} << n) - 1; }

}  // namespace

QueueDevice::~QueueDevice() {
  if (loop_) {
    // The thread may be inside a derived hook whose object is already gone.
    log("{}: destroyed while active (the derived destructor must call reset())", thread_name_);
    std::abort();
  }
}

Status QueueDevice::activate(Activation activation) {
  if (loop_) return fail("activated twice without a reset");
  if (activation.mem == nullptr || activation.interrupt == nullptr) return fail("activation without memory or interrupt");
  if (activation.queues.size() > kMaxQueues) return fail("{} queues (at most {})", activation.queues.size(), kMaxQueues);
  auto kick_event = KILN_TRY_VALUE(EventFd::create());
  active_ = std::move(activation);
  kick_event_.emplace(std::move(kick_event));
  kicked_.store(0, std::memory_order_relaxed);
  // An activation that fails leaves the device as reset() would.
  const auto undo = [this] {
    on_reset();
    kick_event_.reset();
    active_ = Activation{};
  };
  if (auto ok = on_activate(); !ok) {
    undo();
    return ok;
  }
  std::vector<EventLoop::Source> sources = extra_sources();
  sources.push_back({kick_event_->fd(), [this] { run_kicked(); }});
  for (uint16_t i = 0; i < active_.queues.size(); ++i) {
    const int fd = active_.queues[i].notify_fd;
    if (!active_.queues[i].queue || fd < 0) continue;
    sources.push_back({fd, [this, fd, i] {
                         drain(fd);
                         on_notify(i);
                       }});
  }
  auto loop = EventLoop::start(thread_name_, std::move(sources), active_.start_paused);
  if (!loop) {
    undo();
    return tl::unexpected(loop.error());
  }
  loop_ = std::move(*loop);
  paused_ = active_.start_paused;
  // Chains the driver made available before DRIVER_OK (or before the snapshot) are served.
  kicked_.fetch_or(all_queues(active_.queues.size()), std::memory_order_acq_rel);
  kick_event_->signal();
  return {};
}

void QueueDevice::reset() {
  stopping_.store(true, std::memory_order_release);
  loop_.reset();  // joins the thread: no hook runs on it any more
  stopping_.store(false, std::memory_order_release);
  if (kick_event_) on_reset();
  kick_event_.reset();
  active_ = Activation{};
  paused_ = false;
}

Status QueueDevice::pause() {
  if (!loop_ || paused_) return {};
  pausing_.store(true, std::memory_order_release);
  loop_->pause();  // returns with the thread parked between two handlers
  pausing_.store(false, std::memory_order_release);
  paused_ = true;
  return on_pause();
}

void QueueDevice::resume() {
  if (!loop_ || !paused_) return;
  on_resume();
  paused_ = false;
  loop_->resume();
  // Notifies that arrived while paused are still readable, but chains made available before a
  // snapshot (whose notify was consumed then) are not: look at every queue again.
  kicked_.fetch_or(all_queues(active_.queues.size()), std::memory_order_acq_rel);
  kick_event_->signal();
}

void QueueDevice::kick(uint16_t index) {
  kicked_.fetch_or(uint64_t{1} << (index % kMaxQueues), std::memory_order_acq_rel);
  if (kick_event_) kick_event_->signal();
}

void QueueDevice::run_kicked() {
  kick_event_->consume();
  const uint64_t mask = kicked_.exchange(0, std::memory_order_acq_rel);
  for (uint16_t i = 0; i < active_.queues.size(); ++i) {
    if ((mask & (uint64_t{1} << i)) != 0 && active_.queues[i].queue) on_notify(i);
  }
}

std::optional<DescriptorChain> QueueDevice::next_chain(SplitQueue& q, uint16_t index) {
  for (uint32_t bad = 0; bad < q.size(); ++bad) {
    auto next = q.pop();
    if (next) return std::move(*next);
    guest_errors().report("queue {}: {}", index, next.error().message);
  }
  kick(index);
  return std::nullopt;
}

void QueueDevice::interrupt_if_needed(SplitQueue& q) {
  if (!q.needs_interrupt()) return;
  // The queue's index: a transport with one vector per queue (MSI-X) needs it.
  uint16_t index = 0;
  for (uint16_t i = 0; i < active_.queues.size(); ++i) {
    if (active_.queues[i].queue && &*active_.queues[i].queue == &q) index = i;
  }
  active_.interrupt->used_buffer(index);
}

}  // namespace kiln::virtio
