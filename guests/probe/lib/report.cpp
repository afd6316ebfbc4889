#include "probe/lib/report.h"

#include "runtime/reset.h"

namespace kiln::probe {
namespace {

// Plain globals, constant-initialised (the runtime runs no constructors).
uint32_t g_passed = 0;
uint32_t g_failed = 0;
Text g_current;

}  // namespace

void begin_check(Text name) { g_current = name; }
Text current_check() { return g_current; }

void count_pass() {
  ++g_passed;
  g_current = Text{};
}

void count_fail() {
  ++g_failed;
  g_current = Text{};
}

void finish() {
  print_line("PROBE summary passed=", dec(g_passed), " failed=", dec(g_failed));
  guest::i8042_reset();
}

Tenths tenths(uint64_t value) {
  Tenths t{dec(value / 10), {'.', static_cast<char>('0' + value % 10)}};
  return t;
}

}  // namespace kiln::probe
