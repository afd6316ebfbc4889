// An IrqTrigger wired to a GSI through KVM_IRQFD (kvm/api.txt 4.75): a trigger is one eventfd
// write, which KVM turns into an edge on the IOAPIC pin without a system call of its own.
#pragma once

#include "common/event_fd.h"
#include "devices/irq.h"
#include "kvm/vm_fd.h"

namespace kiln {

class IrqfdTrigger final : public IrqTrigger {
 public:
  [[nodiscard]] static Result<std::shared_ptr<IrqfdTrigger>> create(VmFd& vm, uint32_t gsi) {
    auto event = EventFd::create();
    if (!event) return tl::unexpected(event.error());
    KILN_TRY(vm.irqfd(event->fd(), gsi));
    return std::make_shared<IrqfdTrigger>(std::move(*event));
  }
  explicit IrqfdTrigger(EventFd event) : event_(std::move(event)) {}
  void trigger() override { event_.signal(); }

 private:
  EventFd event_;
};

}  // namespace kiln
