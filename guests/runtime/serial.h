// Output through the COM1 UART (16550 transmit holding register at 0x3f8).
// No LSR polling: a VMM's UART takes every byte at once, and each IN would cost a VM exit.
#pragma once

#include <cstddef>

#include "io.h"

namespace kiln::guest {

inline constexpr uint16_t kCom1Port = 0x3f8;

inline void serial_putc(char c) { outb(kCom1Port, static_cast<uint8_t>(c)); }

// One OUT (one VM exit) per byte.
void serial_write(const char* data, size_t size);

}  // namespace kiln::guest
