/* A tiny vmlinux-like image for the symbol tests: two functions linked in the high half
 * (0xffffffff81000000) and loaded at 16 MiB physical (high_half.ld), so that code running
 * before paging is at other addresses than its symbols. */
	.text
	.globl early_entry
	.type early_entry, @function
early_entry:
	nop
	nop
	nop
	jmp early_entry
	.size early_entry, . - early_entry

	.globl later_function
	.type later_function, @function
later_function:
	ret
	.size later_function, . - later_function
	.section .note.GNU-stack, "", @progbits
