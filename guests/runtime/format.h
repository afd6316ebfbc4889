// Number formatting and line output over the serial port:
//   print_line("e820 ", hex(start), " ", hex(size), " ", dec(type));
#pragma once

#include <cstdint>

#include "serial.h"
#include "string_util.h"

namespace kiln::guest {

// Formatted digits, at most "0x" + 16 hex digits or 20 decimal digits.
struct Number {
  char text[24];
  uint8_t size;
};

// "0x" + lowercase hex digits without leading zeros ("0x0" for zero).
[[nodiscard]] Number hex(uint64_t value);
// "0x" + exactly `digits` lowercase hex digits (1..16), zero-padded.
[[nodiscard]] Number hex_fixed(uint64_t value, unsigned digits);
// Unsigned decimal.
[[nodiscard]] Number dec(uint64_t value);

inline void emit(Text text) { serial_write(text.data, text.size); }
inline void emit(const Number& number) { serial_write(number.text, number.size); }

// Writes the pieces followed by "\n".
template <class... Pieces>
void print_line(const Pieces&... pieces) {
  (emit(pieces), ...);
  serial_putc('\n');
}

}  // namespace kiln::guest
