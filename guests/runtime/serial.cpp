#include "serial.h"

namespace kiln::guest {

void serial_write(const char* data, size_t size) {
  for (size_t i = 0; i < size; ++i) serial_putc(data[i]);
}

}  // namespace kiln::guest
