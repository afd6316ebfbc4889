// The probe's output on COM1 (guests/probe/README.md, "Output"): one line per check, result and
// note, each starting with "PROBE ", and a final summary line:
//   PROBE ok <check>
//   PROBE fail <check> <detail>
//   PROBE result <name> <key>=<value>...
//   PROBE info <text>
//   PROBE summary passed=<n> failed=<m>
#pragma once

#include <cstdint>

#include "runtime/format.h"

namespace kiln::probe {

using guest::dec;
using guest::hex;
using guest::Number;
using guest::print_line;
using guest::Text;

// The check under way, named in an exception report (fault.cpp); cleared by pass() and fail().
void begin_check(Text name);
[[nodiscard]] Text current_check();

void count_pass();
void count_fail();

inline void pass(Text check) {
  count_pass();
  print_line("PROBE ok ", check);
}

template <class... Detail>
void fail(Text check, const Detail&... detail) {
  count_fail();
  if constexpr (sizeof...(Detail) == 0) {
    print_line("PROBE fail ", check);
  } else {
    print_line("PROBE fail ", check, " ", detail...);
  }
}

// pass(check) if ok, else fail(check, detail...); returns ok.
template <class... Detail>
bool check(Text check_name, bool ok, const Detail&... detail) {
  if (ok) {
    pass(check_name);
  } else {
    fail(check_name, detail...);
  }
  return ok;
}

template <class... Fields>
void result(Text name, const Fields&... fields) {
  print_line("PROBE result ", name, " ", fields...);
}

template <class... Pieces>
void info(const Pieces&... pieces) {
  print_line("PROBE info ", pieces...);
}

// Prints the summary line and resets the machine through the i8042 (the only way out).
[[noreturn]] void finish();

// A value in tenths printed as "<int>.<digit>", e.g. 12345 -> "1234.5".
struct Tenths {
  Number whole;
  char digit[2];
};
[[nodiscard]] Tenths tenths(uint64_t value);

// Found by print_line through argument-dependent lookup.
inline void emit(const Tenths& t) {
  guest::emit(t.whole);
  guest::serial_write(t.digit, 2);
}

}  // namespace kiln::probe
