// The one way a legacy device raises an interrupt: drive a line high or low. The vmm implements it
// with KVM_IRQ_LINE; tests use a recording fake. Devices call set_level only when the level changes.
#pragma once

namespace kiln {

class IrqLine {
 public:
  virtual ~IrqLine() = default;
  virtual void set_level(bool high) = 0;
};

}  // namespace kiln

namespace kiln {

// An edge-triggered interrupt: each trigger() is one interrupt (KVM irqfd, or a KVM_IRQ_LINE
// pulse). Safe to call from any thread.
class IrqTrigger {
 public:
  virtual ~IrqTrigger() = default;
  virtual void trigger() = 0;
};

}  // namespace kiln
