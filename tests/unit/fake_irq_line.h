// An IrqLine that records every level change (the serial tests).
#pragma once

#include <vector>

#include "devices/irq.h"

namespace kiln {

class FakeIrqLine : public IrqLine {
 public:
  void set_level(bool high) override {
    changes.push_back(high);
    level = high;
  }
  std::vector<bool> changes;
  bool level = false;
};

}  // namespace kiln
