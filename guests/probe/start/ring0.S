/* kiln-probe's ring-0 code: the only guest-kernel-mode instructions of the probe. On the target
 * hosts guest kernel mode is emulated (~1 us per instruction), so everything here is straight
 * line and short; the rest of the probe runs in ring 3 with IOPL = 3, where port I/O and MMIO
 * exit straight to the VMM.
 *
 *   kiln_main          called by the runtime (entry.S) in long mode with the runtime's identity
 *                      map: loads the probe's GDT, TSS and IDT, then IRETs to probe_main in ring 3
 *                      (15 instructions). The IDT is still empty then: probe_main fills it from
 *                      ring 3 before anything can fault (the tables are ordinary, user-mapped
 *                      memory), which keeps a 256-entry loop out of ring 0.
 *   vector stubs       one 16-byte stub per vector: push a zero error code where the CPU pushes
 *                      none, push the vector, jump to one of the two paths below.
 *   probe_interrupt    vectors 32-255: count the vector, LAPIC EOI (not for the spurious vector),
 *                      IRET (8 instructions).
 *   probe_exception    vectors 0-31: save vector, error code, RIP, CS, RFLAGS, RSP and CR2 to
 *                      probe_fault_record and IRET to probe_fault_entry in ring 3 on a stack of
 *                      its own; a second exception (the reporter faulted) resets at once.
 *
 * Intel SDM Vol. 3A: "Exception and Interrupt Handling in 64-bit Mode" (frames, IST, IRET),
 * "Task Management in 64-bit Mode" (TSS), "I/O Privilege Level" (IOPL). */
#include "runtime/layout.h"
#include "probe/start/ring0_layout.h"

#define I8042_COMMAND_PORT 0x64
#define I8042_PULSE_RESET 0xfe

	.text
	.globl kiln_main
/* EDI = boot kind, RSI = boot information: both reach probe_main untouched. */
kiln_main:
	lgdt probe_gdt_descriptor
	mov $probe_tss, %eax		/* base of the TSS descriptor; bits 63:32 stay 0 */
	mov %ax, probe_gdt + PROBE_GDT_TSS + 2
	shr $16, %eax
	mov %al, probe_gdt + PROBE_GDT_TSS + 4
	mov %ah, probe_gdt + PROBE_GDT_TSS + 7
	mov $PROBE_GDT_TSS, %eax
	ltr %ax
	lidt probe_idt_descriptor
	push $PROBE_USER_DATA_SELECTOR	/* SS */
	push $probe_user_stack_top - 8	/* RSP, aligned as after a call */
	push $PROBE_USER_RFLAGS
	push $PROBE_USER_CODE_SELECTOR	/* CS */
	push $probe_main		/* RIP */
	iretq

/* The vector stubs, 16 bytes apart, in one page (the IDT is filled from this layout). */
	.balign 4096
	.globl probe_vector_stubs
probe_vector_stubs:
	.set vector, 0
	.rept PROBE_VECTORS
	.balign PROBE_STUB_SIZE
	/* Exceptions with an error code: #DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP, #VC, #SX. */
	.if !((vector == 8) || (vector == 10) || (vector == 11) || (vector == 12) || (vector == 13) || (vector == 14) || (vector == 17) || (vector == 21) || (vector == 29) || (vector == 30))
	pushq $0
	.endif
	pushq $vector
	.if vector < PROBE_FIRST_INTERRUPT
	jmp probe_exception
	.else
	jmp probe_interrupt
	.endif
	.set vector, vector + 1
	.endr
	.balign PROBE_STUB_SIZE
	.globl probe_vector_stubs_end
probe_vector_stubs_end:

/* Stack: vector, error code, then the CPU's frame (RIP, CS, RFLAGS, RSP, SS). */
probe_interrupt:
	push %rax
	mov 8(%rsp), %eax
	lock incl probe_interrupt_counts(, %rax, 4)
	cmp $PROBE_SPURIOUS_VECTOR, %eax
	je 1f				/* a spurious interrupt sets no ISR bit: no EOI (SDM "Spurious Interrupt") */
	mov $PROBE_LAPIC_EOI, %eax
	movl $0, (%rax)
1:	pop %rax
	add $16, %rsp
	iretq

/* Stack as above. Never returns to the faulting code. */
probe_exception:
	incq probe_fault_record + PROBE_FAULT_COUNT
	cmpq $1, probe_fault_record + PROBE_FAULT_COUNT
	jne probe_reset_now
	popq probe_fault_record + PROBE_FAULT_VECTOR
	popq probe_fault_record + PROBE_FAULT_ERROR
	popq probe_fault_record + PROBE_FAULT_RIP
	popq probe_fault_record + PROBE_FAULT_CS
	popq probe_fault_record + PROBE_FAULT_RFLAGS
	popq probe_fault_record + PROBE_FAULT_RSP
	mov %cr2, %rax
	mov %rax, probe_fault_record + PROBE_FAULT_CR2
	mov $kiln_stack_top, %rsp
	push $PROBE_USER_DATA_SELECTOR
	push $probe_fault_stack_top - 8
	push $PROBE_USER_RFLAGS
	push $PROBE_USER_CODE_SELECTOR
	push $probe_fault_entry
	iretq

/* The ring-3 reporter faulted too: end the run without a summary line (the harness fails it). */
probe_reset_now:
	mov $I8042_PULSE_RESET, %al
	out %al, $I8042_COMMAND_PORT
1:	cli
	hlt
	jmp 1b

	.data
	.balign 16
/* Accessed bits preset: the CPU writes only the TSS busy bit. */
probe_gdt:
	.quad 0
	.quad 0x00af9b000000ffff	/* PROBE_GDT_KERNEL_CODE: 64-bit, DPL 0 */
	.quad 0x00cf93000000ffff	/* PROBE_GDT_KERNEL_DATA */
	.quad 0x00cff3000000ffff	/* PROBE_GDT_USER_DATA: DPL 3 */
	.quad 0x00affb000000ffff	/* PROBE_GDT_USER_CODE: 64-bit, DPL 3 */
	.quad 0x0000890000000000 + PROBE_TSS_SIZE - 1	/* PROBE_GDT_TSS: available, base set above */
	.quad 0
probe_gdt_end:

	.balign 8
probe_gdt_descriptor:
	.word probe_gdt_end - probe_gdt - 1
	.quad probe_gdt
	.balign 8
probe_idt_descriptor:
	.word PROBE_VECTORS * 16 - 1
	.quad probe_idt

	.balign 16
probe_tss:
	.long 0
	.quad kiln_stack_top		/* RSP0: interrupts from ring 3 run on the runtime's stack */
	.fill 11, 8, 0			/* RSP1, RSP2, reserved, IST1-7, reserved */
	.word 0
	.word PROBE_TSS_SIZE		/* I/O map base past the limit: no bitmap (IOPL 3 anyway) */

	.bss
	.balign 4096
	.globl probe_idt
probe_idt:
	.space PROBE_VECTORS * 16
	.balign 16
	.globl probe_interrupt_counts
probe_interrupt_counts:
	.space PROBE_VECTORS * 4
	.balign 16
	.globl probe_fault_record
probe_fault_record:
	.space PROBE_FAULT_RECORD_SIZE

/* Ring-3 stacks: NOLOAD like the runtime's stack (guest.ld collects .stack). */
	.section .stack, "aw", @nobits
	.balign 16
	.space PROBE_USER_STACK_SIZE
	.globl probe_user_stack_top
probe_user_stack_top:
	.space PROBE_FAULT_STACK_SIZE
	.globl probe_fault_stack_top
probe_fault_stack_top:

	.section .note.GNU-stack, "", @progbits
