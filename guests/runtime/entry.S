/* Entry points of every kiln test guest and the switch to 64-bit long mode.
 *
 * Payload layout (linked at KILN_LOAD_ADDR = 1 MiB, section .head.text comes first):
 *   +0x000  kiln_entry_linux32  Linux 32-bit boot protocol (Documentation/arch/x86/boot.rst,
 *                               "32-bit boot protocol"): flat protected mode, ESI = boot_params.
 *   +0x???  kiln_entry_pvh      PVH (xen/include/public/arch-x86/hvm/start_info.h): flat 32-bit
 *                               protected mode, paging off, EBX = hvm_start_info.
 *   +0x200  kiln_entry_linux64  Linux 64-bit boot protocol ("64-bit boot protocol"): long mode,
 *                               identity-mapped, RSI = boot_params. Same offset as Linux's
 *                               startup_64, which is where a bzImage loader enters.
 *
 * Cost, in guest instructions up to the call of kiln_main (ring-0 guest code may run emulated,
 * at ~0.75 us per instruction, on the test hosts): 25 from either 32-bit entry (counted
 * under QEMU), 5 from the 64-bit entry. The page tables and the GDT are static data (no loop
 * builds them) and .bss is linked into .data, so nothing is cleared at start-up.
 */
#include "layout.h"

#define MSR_EFER 0xc0000080
#define EFER_LME 0x100
#define CR4_PAE 0x20
#define CR0_PE 0x1
#define CR0_ET 0x10
#define CR0_PG 0x80000000
#define PTE_PRESENT 0x1
#define PTE_WRITE 0x2
#define PTE_USER 0x4 /* kept set so that a later guest can also run ring-3 code */
#define PTE_PWT 0x8
#define PTE_PCD 0x10 /* with PWT: PAT entry 3, uncacheable (SDM Vol. 3A, "Page Attribute Table") */
#define PTE_LARGE 0x80

	.section .head.text, "ax"
	.code32
	.globl kiln_entry_linux32
kiln_entry_linux32:
	mov $kiln_linux_boot_kind, %edi	/* ESI already holds boot_params */
	jmp kiln_enter_long_mode

	.globl kiln_entry_pvh
kiln_entry_pvh:
	mov %ebx, %esi
	mov $KILN_BOOT_PVH, %edi

/* ESI = boot information, EDI = boot kind; 32-bit flat protected mode, paging off. */
kiln_enter_long_mode:
	mov $kiln_pml4, %eax
	mov %eax, %cr3
	mov $CR4_PAE, %eax
	mov %eax, %cr4
	mov $MSR_EFER, %ecx
	mov $EFER_LME, %eax
	xor %edx, %edx
	wrmsr
	lgdt kiln_gdt_descriptor
	mov $(CR0_PG | CR0_ET | CR0_PE), %eax
	mov %eax, %cr0
	ljmp $KILN_GDT_CODE64, $kiln_long_mode

	.code64
kiln_long_mode:
	mov $KILN_GDT_DATA, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	mov %esi, %esi			/* upper halves are undefined after the mode switch */
	mov %edi, %edi
	jmp kiln_start64

	.org 0x200
	.globl kiln_entry_linux64
kiln_entry_linux64:
	mov $kiln_linux_boot_kind, %edi	/* RSI already holds boot_params */

/* Common 64-bit start: RSI = boot information, EDI = boot kind. */
kiln_start64:
	cli				/* the guest has no IDT: no interrupts, ever */
	cld
	mov $kiln_stack_top, %esp
	call kiln_main			/* kiln_main(kind, info) does not return */
1:	cli
	hlt
	jmp 1b

/* GDT: null, 64-bit code, flat data, flat 32-bit code. Accessed bits preset so the CPU never
 * writes to the table. */
	.section .rodata.gdt, "a"
	.balign 16
kiln_gdt:
	.quad 0
	.quad 0x00af9b000000ffff	/* KILN_GDT_CODE64 */
	.quad 0x00cf93000000ffff	/* KILN_GDT_DATA */
	.quad 0x00cf9b000000ffff	/* KILN_GDT_CODE32 */
kiln_gdt_end:
	.balign 8
kiln_gdt_descriptor:
	.word kiln_gdt_end - kiln_gdt - 1
	.quad kiln_gdt

/* Identity map of 0..4 GiB with 2 MiB pages, built by the assembler. The map covers the
 * MMIO hole 3..4 GiB too (action=emufail reads 0xd0000000), uncached there (PCD | PWT) so that
 * device registers are accessed as the program orders them. Every entry has the user bit. */
	.section .data.page_tables, "aw"
	.balign 4096
	.globl kiln_pml4
kiln_pml4:
	.quad kiln_pdpt + (PTE_PRESENT | PTE_WRITE | PTE_USER)
	.fill 511, 8, 0
kiln_pdpt:
	.quad kiln_pd + 0 * 4096 + (PTE_PRESENT | PTE_WRITE | PTE_USER)
	.quad kiln_pd + 1 * 4096 + (PTE_PRESENT | PTE_WRITE | PTE_USER)
	.quad kiln_pd + 2 * 4096 + (PTE_PRESENT | PTE_WRITE | PTE_USER)
	.quad kiln_pd + 3 * 4096 + (PTE_PRESENT | PTE_WRITE | PTE_USER)
	.fill 508, 8, 0
kiln_pd:
	.set page, 0
	.rept 3 * 512			/* 0..3 GiB: RAM, write-back */
	.quad (page << 21) | (PTE_PRESENT | PTE_WRITE | PTE_USER | PTE_LARGE)
	.set page, page + 1
	.endr
	.rept 512			/* 3..4 GiB: the MMIO hole, uncached */
	.quad (page << 21) | (PTE_PRESENT | PTE_WRITE | PTE_USER | PTE_LARGE | PTE_PWT | PTE_PCD)
	.set page, page + 1
	.endr

/* The stack is never cleared: it lives in a NOLOAD section after the image data. */
	.section .stack, "aw", @nobits
	.balign 16
	.space KILN_STACK_SIZE
	.globl kiln_stack_top
kiln_stack_top:

	.section .note.GNU-stack, "", @progbits
