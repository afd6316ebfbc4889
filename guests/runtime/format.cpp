#include "format.h"

namespace kiln::guest {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

Number hex_digits(uint64_t value, unsigned digits) {
  Number n{};
  n.text[0] = '0';
  n.text[1] = 'x';
  for (unsigned i = 0; i < digits; ++i) {
    n.text[1 + digits - i] = kHexDigits[value & 0xf];
    value >>= 4;
  }
  n.size = static_cast<uint8_t>(2 + digits);
  return n;
}

}  // namespace

Number hex(uint64_t value) {
  unsigned digits = 1;
  while (digits < 16 && (value >> (4 * digits)) != 0) ++digits;
  return hex_digits(value, digits);
}

Number hex_fixed(uint64_t value, unsigned digits) {
  if (digits < 1) digits = 1;
  if (digits > 16) digits = 16;
  return hex_digits(value, digits);
}

Number dec(uint64_t value) {
  char reversed[20];
  unsigned count = 0;
  do {
    reversed[count++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  Number n{};
  for (unsigned i = 0; i < count; ++i) n.text[i] = reversed[count - 1 - i];
  n.size = static_cast<uint8_t>(count);
  return n;
}

}  // namespace kiln::guest
