#include "virtio/rng/rng.h"

#include <sys/random.h>

#include <vector>

#include "common/log.h"
#include "virtio/queue/chain_io.h"
#include "virtio/spec.h"

namespace kiln::virtio {

uint64_t Rng::features() const { return feature(kFRingIndirectDesc) | feature(kFRingEventIdx); }

Status Rng::activate(Activation activation) {
  if (activation.queues.empty() || !activation.queues[0].queue) return fail("the request queue was not set up");
  active_ = std::move(activation);
  const int notify = active_.queues[0].notify_fd;
  auto loop = EventLoop::start("kiln-rng",
                               {{notify,
                                 [this, notify] {
                                   uint64_t count = 0;
                                   [[maybe_unused]] auto n = ::read(notify, &count, sizeof(count));
                                   process_queue();
                                 }}},
                               active_.start_paused);
  if (!loop) return tl::unexpected(loop.error());
  loop_ = std::move(*loop);
  return {};
}

void Rng::reset() {
  loop_.reset();  // joins the thread: nothing touches the queue after this
  active_ = Activation{};
}

Status Rng::pause() {
  // Every chain a pass pops is returned before it ends: parked between passes, nothing is in flight.
  if (loop_) loop_->pause();
  return {};
}

void Rng::resume() {
  if (!loop_) return;
  loop_->resume();
  // Requests the driver made while the device was paused (or before a snapshot) are seen.
  const uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(active_.queues[0].notify_fd, &one, sizeof(one));
}

void Rng::process_queue() {
  SplitQueue& q = *active_.queues[0].queue;
  std::vector<uint8_t> bytes;
  bool used = false;
  unsigned served = 0;
  do {
    q.disable_notification();
    for (;;) {
      // A guest refilling the queue as fast as we serve it must not keep this thread (and so a
      // reset waiting for it) busy forever: after a batch, come back through the event loop.
      if (++served > kBatch) {
        const uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(active_.queues[0].notify_fd, &one, sizeof(one));
        if (used && q.needs_interrupt()) active_.interrupt->used_buffer();
        return;
      }
      auto next = q.pop();
      if (!next) {
        log("virtio-rng: {}", next.error().message);
        continue;
      }
      if (!*next) break;
      const DescriptorChain& chain = **next;
      const uint32_t want = static_cast<uint32_t>(std::min<uint64_t>(chain.writable_bytes(), kMaxRequestBytes));
      bytes.resize(want);
      size_t got = 0;
      while (got < want) {
        const ssize_t n = ::getrandom(bytes.data() + got, want - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<size_t>(n);
      }
      ChainWriter writer(*active_.mem, chain);
      uint32_t written = 0;
      if (writer.write(std::span(bytes.data(), got))) written = static_cast<uint32_t>(got);
      (void)q.push_used(chain.head(), written);
      used = true;
    }
  } while (q.enable_notification());
  if (used && q.needs_interrupt()) active_.interrupt->used_buffer();
}

}  // namespace kiln::virtio
