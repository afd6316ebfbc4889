#include "virtio/rng/rng.h"

#include <sys/random.h>

#include <cerrno>

#include "virtio/queue/chain_io.h"

namespace kiln::virtio {

uint64_t Rng::features() const { return feature(kFRingIndirectDesc) | feature(kFRingEventIdx); }

void Rng::on_notify(uint16_t index) {
  SplitQueue* q = queue(index);
  if (q == nullptr) return;
  bool used = false;
  unsigned served = 0;
  do {
    q->disable_notification();
    for (;;) {
      if (++served > kBatch) {  // come back through the loop (see kick())
        kick(index);
        if (used) interrupt_if_needed(*q);
        return;
      }
      auto chain = next_chain(*q, index);
      if (!chain) break;
      const uint32_t want = static_cast<uint32_t>(std::min<uint64_t>(chain->writable_bytes(), kMaxRequestBytes));
      if (want == 0) guest_errors().report("request at head {} has no writable buffer", chain->head());
      bytes_.resize(want);
      size_t got = 0;
      while (got < want) {
        const ssize_t n = ::getrandom(bytes_.data() + got, want - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<size_t>(n);
      }
      ChainWriter writer(mem(), *chain);
      uint32_t written = 0;
      if (writer.write(std::span(bytes_.data(), got))) written = static_cast<uint32_t>(got);
      (void)q->push_used(chain->head(), written);
      used = true;
    }
  } while (q->enable_notification());
  if (used) interrupt_if_needed(*q);
}

}  // namespace kiln::virtio
