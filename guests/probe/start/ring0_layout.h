/* Constants shared by the probe's ring-0 start-up (ring0.S) and its ring-3 C++ code.
 * Plain #defines only: this header is included from .S files too. */
#ifndef KILN_PROBE_RING0_LAYOUT_H
#define KILN_PROBE_RING0_LAYOUT_H

/* The probe's GDT (ring0.S). The kernel selectors equal the runtime's (layout.h), so the
 * segment registers loaded by entry.S stay valid across the switch of tables. */
#define PROBE_GDT_KERNEL_CODE 0x08
#define PROBE_GDT_KERNEL_DATA 0x10
#define PROBE_GDT_USER_DATA 0x18
#define PROBE_GDT_USER_CODE 0x20
#define PROBE_GDT_TSS 0x28 /* 16-byte system descriptor */
#define PROBE_USER_DATA_SELECTOR (PROBE_GDT_USER_DATA | 3)
#define PROBE_USER_CODE_SELECTOR (PROBE_GDT_USER_CODE | 3)

/* RFLAGS handed to ring 3: IOPL = 3 (bits 12-13), the always-one bit 1, IF = 0. */
#define PROBE_USER_RFLAGS 0x3002

/* 64-bit TSS (SDM Vol. 3A "Task Management in 64-bit Mode"): 104 bytes, RSP0 at offset 4,
 * I/O map base at offset 102. */
#define PROBE_TSS_SIZE 104

/* IDT: 256 interrupt gates of 16 bytes; one 16-byte stub per vector, vectors 0-31 are
 * exceptions, 32-255 interrupts. */
#define PROBE_VECTORS 256
#define PROBE_FIRST_INTERRUPT 32
#define PROBE_STUB_SIZE 16
#define PROBE_SPURIOUS_VECTOR 0xff /* the LAPIC's spurious vector: counted, never EOI'd */

/* xAPIC EOI register (SDM Vol. 3A "EOI Register"), at the default LAPIC base 0xfee00000. */
#define PROBE_LAPIC_EOI 0xfee000b0

/* struct FaultRecord (ring0.h): what the exception path saves for the ring-3 reporter. */
#define PROBE_FAULT_VECTOR 0
#define PROBE_FAULT_ERROR 8
#define PROBE_FAULT_RIP 16
#define PROBE_FAULT_CS 24
#define PROBE_FAULT_RFLAGS 32
#define PROBE_FAULT_RSP 40
#define PROBE_FAULT_CR2 48
#define PROBE_FAULT_COUNT 56
#define PROBE_FAULT_RECORD_SIZE 64

#define PROBE_USER_STACK_SIZE 0x4000
#define PROBE_FAULT_STACK_SIZE 0x2000

#endif
