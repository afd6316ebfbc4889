#include "reset.h"

#include "io.h"

namespace kiln::guest {

namespace {
constexpr uint16_t kI8042CommandPort = 0x64;
constexpr uint8_t kI8042PulseReset = 0xfe;  // pulse output line 0 (CPU reset)
}  // namespace

void halt_forever() {
  for (;;) asm volatile("cli; hlt" : : : "memory");
}

void spin_forever() {
  for (;;) asm volatile("" : : : "memory");
}

void i8042_reset() {
  outb(kI8042CommandPort, kI8042PulseReset);
  halt_forever();
}

}  // namespace kiln::guest
