// The ACPI hardware-reduced sleep control register (ACPI 6.x 4.8.3.7) as one I/O port:
// writing SLP_TYP=5 (S5) with SLP_EN powers the machine off; other writes (Linux first clears
// the wake status with 0x80) are ignored; reads return 0 (never "woken").
#pragma once

#include <cstdint>
#include <functional>

#include "devices/bus.h"

namespace kiln {

class SleepControl final : public BusDevice {
 public:
  SleepControl(uint8_t poweroff_value, std::function<void()> poweroff)
      : poweroff_value_(poweroff_value), poweroff_(std::move(poweroff)) {}

  void read(uint64_t, std::span<uint8_t> data) override { std::fill(data.begin(), data.end(), 0); }
  void write(uint64_t, std::span<const uint8_t> data) override {
    if (!data.empty() && data[0] == poweroff_value_ && poweroff_) poweroff_();
  }

 private:
  uint8_t poweroff_value_;
  std::function<void()> poweroff_;
};

}  // namespace kiln
