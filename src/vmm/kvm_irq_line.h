// An IrqLine wired to a GSI of the in-kernel PIC/IOAPIC through KVM_IRQ_LINE.
#pragma once

#include "common/log.h"
#include "devices/irq.h"
#include "kvm/vm_fd.h"

namespace kiln {

class KvmIrqLine final : public IrqLine {
 public:
  KvmIrqLine(const VmFd& vm, uint32_t gsi) : vm_(vm), gsi_(gsi) {}
  void set_level(bool high) override {
    if (auto ok = vm_.irq_line(gsi_, high); !ok) log("IRQ {}: {}", gsi_, ok.error().message);
  }

 private:
  const VmFd& vm_;
  uint32_t gsi_;
};

// An edge on an ISA GSI through KVM_IRQ_LINE: high then low (the i8042's keyboard IRQ 1).
class KvmIrqPulse final : public IrqTrigger {
 public:
  KvmIrqPulse(const VmFd& vm, uint32_t gsi) : line_(vm, gsi) {}
  void trigger() override {
    line_.set_level(true);
    line_.set_level(false);
  }

 private:
  KvmIrqLine line_;
};

}  // namespace kiln
