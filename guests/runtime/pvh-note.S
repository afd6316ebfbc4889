/* The Xen ELF note that makes an ELF a PVH kernel: name "Xen", type XEN_ELFNOTE_PHYS32_ENTRY (18),
 * descriptor = 32-bit physical address of the PVH entry point
 * (xen/include/public/elfnote.h; the same note Linux emits in arch/x86/platform/pvh/head.S). */
#define XEN_ELFNOTE_PHYS32_ENTRY 18

	.section .note.Xen, "a", @note
	.balign 4
	.long 2f - 1f			/* namesz */
	.long 4f - 3f			/* descsz */
	.long XEN_ELFNOTE_PHYS32_ENTRY
1:	.asciz "Xen"
2:	.balign 4
3:	.long kiln_entry_pvh
4:	.balign 4

	.section .note.GNU-stack, "", @progbits
