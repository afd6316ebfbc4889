// IrqTriggers wired to a GSI through KVM_IRQFD (kvm/api.txt 4.75): a trigger is one eventfd
// write, which KVM turns into an edge on the IOAPIC pin (IrqfdTrigger) or a level raised until
// the guest's EOI (IrqfdLevelTrigger, for PCI INTx) without a system call of its own.
#pragma once

#include "common/event_fd.h"
#include "devices/irq.h"
#include "kvm/vm_fd.h"

namespace kiln {

class IrqfdTrigger final : public IrqTrigger {
 public:
  [[nodiscard]] static Result<std::shared_ptr<IrqfdTrigger>> create(VmFd& vm, uint32_t gsi) {
    auto event = KILN_TRY_VALUE(EventFd::create());
    KILN_TRY(vm.irqfd(event.fd(), gsi));
    return std::make_shared<IrqfdTrigger>(std::move(event));
  }
  explicit IrqfdTrigger(EventFd event) : event_(std::move(event)) {}
  void trigger() override { event_.signal(); }

 private:
  EventFd event_;
};

// Level-triggered: KVM raises the line on trigger(), lowers it at the guest's EOI and then
// signals resample_fd(); whoever watches it re-triggers while the device still has an interrupt
// pending (IntxResampler).
class IrqfdLevelTrigger final : public IrqTrigger {
 public:
  [[nodiscard]] static Result<std::shared_ptr<IrqfdLevelTrigger>> create(VmFd& vm, uint32_t gsi) {
    auto event = KILN_TRY_VALUE(EventFd::create());
    auto resample = KILN_TRY_VALUE(EventFd::create());
    KILN_TRY(vm.irqfd_resample(event.fd(), resample.fd(), gsi));
    return std::make_shared<IrqfdLevelTrigger>(std::move(event), std::move(resample));
  }
  IrqfdLevelTrigger(EventFd event, EventFd resample) : event_(std::move(event)), resample_(std::move(resample)) {}
  void trigger() override { event_.signal(); }
  [[nodiscard]] const EventFd& resample() const { return resample_; }

 private:
  EventFd event_;
  EventFd resample_;
};

}  // namespace kiln
