// Ring-3 side of the exception path: ring0.S saved the exception in probe_fault_record and
// entered here on the fault stack. Reports the exception as the failure of the check under way
// (or of "exception" outside any check), then ends the run like every other run.
#include "probe/lib/report.h"
#include "probe/start/ring0.h"
#include "runtime/io.h"

namespace kiln::probe {
namespace {

// Mnemonics of the architectural exception vectors (SDM Vol. 3A, table "Protected-Mode
// Exceptions and Interrupts").
Text vector_name(uint64_t vector) {
  constexpr const char* kNames[] = {
      "DE", "DB", "NMI", "BP", "OF", "BR", "UD", "NM", "DF", "CSO", "TS", "NP", "SS", "GP", "PF", "RSVD",
      "MF", "AC", "MC", "XM", "VE", "CP", "RSVD", "RSVD", "RSVD", "RSVD", "RSVD", "RSVD", "HV", "VC",
      "SX", "RSVD"};
  static_assert(sizeof(kNames) / sizeof(kNames[0]) == 32);
  return vector < 32 ? Text{kNames[vector]} : Text{"?"};
}

}  // namespace
}  // namespace kiln::probe

extern "C" void probe_fault_entry() {
  using namespace kiln::probe;
  // The fault may have hit while COM1 was reconfigured (probe=serial): make it print again.
  constexpr uint16_t kCom1Lcr = 0x3fb;
  constexpr uint16_t kCom1Mcr = 0x3fc;
  kiln::guest::outb(kCom1Lcr, kiln::guest::inb(kCom1Lcr) & 0x7f);  // DLAB off
  kiln::guest::outb(kCom1Mcr, kiln::guest::inb(kCom1Mcr) & 0xef);  // loopback off
  const uint64_t vector = probe_fault_record.vector;
  const Text check_name = current_check().empty() ? Text{"exception"} : current_check();
  fail(check_name, "exception vector=", dec(vector), " name=", vector_name(vector),
       " rip=", hex(probe_fault_record.rip), " cs=", hex(probe_fault_record.cs),
       " error=", hex(probe_fault_record.error), " cr2=", hex(probe_fault_record.cr2),
       " rsp=", hex(probe_fault_record.rsp), " rflags=", hex(probe_fault_record.rflags));
  finish();
}
