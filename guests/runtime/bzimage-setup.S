/* The real-mode part of a bzImage: boot sector, setup header and a small setup program.
 * Field layout and meaning: Linux Documentation/arch/x86/boot.rst ("The real-mode kernel header",
 * "Details of header fields") and arch/x86/include/uapi/asm/bootparam.h (struct setup_header).
 *
 * kiln never runs this code: it reads the header, loads the payload (file offset
 * (setup_sects + 1) * 512) at 1 MiB and enters its 64-bit entry (payload + 0x200) itself.
 * A BIOS-based loader (QEMU -M pc with SeaBIOS) enters the setup program in real mode at file
 * offset 0x200 with CS = DS base + 0x200; it then does what Linux's setup does, in short:
 * build a zero page (header copy + BIOS e820 map), enter flat 32-bit protected mode and jump to
 * code32_start with ESI = zero page (the "32-bit boot protocol").
 *
 * The payload is linked to run at 1 MiB: relocatable_kernel = 1 only tells a loader that it may
 * choose the address, and kiln and QEMU choose pref_address = code32_start = 1 MiB.
 */
#include "layout.h"

#define ZERO_PAGE 0x1000 /* DS-relative: the setup area is (KILN_SETUP_SECTS + 1) * 512 < 0x1000 */
#define BP_E820_ENTRIES 0x1e8
#define BP_HDR 0x1f1
#define BP_HDR_END 0x26c /* end of struct setup_header (version 2.15) */
#define BP_E820_TABLE 0x2d0
#define E820_MAX_ENTRIES_ZEROPAGE 128
#define SMAP 0x534d4150
#define BOOT_CS 0x10 /* __BOOT_CS / __BOOT_DS of the 32-bit boot protocol */
#define BOOT_DS 0x18

	.section .bzsetup, "ax"
	.code16
bz_start:
	/* Boot sector: booting the file from a disk is not supported; stop. */
	cli
1:	hlt
	jmp 1b

	.org 0x1f1
	.byte KILN_SETUP_SECTS		/* setup_sects */
	.word 0				/* root_flags */
	.long kiln_payload_syssize	/* syssize: payload size in 16-byte units */
	.word 0				/* ram_size (obsolete) */
	.word 0xffff			/* vid_mode: "normal" */
	.word 0				/* root_dev */
	.word 0xaa55			/* boot_flag */
	/* 0x200 */
	.byte 0xeb, setup_main - 1f	/* jump: short jmp over the header */
1:	.ascii "HdrS"			/* header */
	.word 0x020f			/* version 2.15 */
	.long 0				/* realmode_swtch */
	.word 0x1000			/* start_sys_seg (obsolete) */
	.word kernel_version - bz_start - 0x200 /* kernel_version */
	.byte 0				/* type_of_loader: written by the loader */
	.byte 0x01			/* loadflags: LOADED_HIGH */
	.word 0x8000			/* setup_move_size */
	.long KILN_LOAD_ADDR		/* code32_start */
	.long 0				/* ramdisk_image: written by the loader */
	.long 0				/* ramdisk_size: written by the loader */
	.long 0				/* bootsect_kludge */
	.word 0				/* heap_end_ptr */
	.byte 0				/* ext_loader_ver */
	.byte 0				/* ext_loader_type */
	.long 0				/* cmd_line_ptr: written by the loader */
	.long 0x7fffffff		/* initrd_addr_max */
	.long 0x200000			/* kernel_alignment */
	.byte 1				/* relocatable_kernel */
	.byte 21			/* min_alignment: log2 of 2 MiB */
	.word 0x0003			/* xloadflags: XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G */
	.long 4095			/* cmdline_size */
	.long 0				/* hardware_subarch: default PC */
	.quad 0				/* hardware_subarch_data */
	.long 0				/* payload_offset: no compressed payload */
	.long 0				/* payload_length */
	.quad 0				/* setup_data */
	.quad KILN_LOAD_ADDR		/* pref_address */
	.long kiln_payload_init_size	/* init_size: image incl. stack, page-rounded */
	.long 0				/* handover_offset: no EFI handover */
	.long 0				/* kernel_info_offset */
	/* BP_HDR_END */

kernel_version:
	.asciz "kiln boot-check"

/* Real mode, DS = ES = SS = start of the setup area, CS = DS + 0x20. Interrupts may be on. */
setup_main:
	cli
	cld
	/* Zero page at DS:ZERO_PAGE: clear it, copy the header the loader filled in. */
	mov $ZERO_PAGE, %di
	mov $2048, %cx
	xor %ax, %ax
	rep stosw
	mov $BP_HDR, %si
	mov $(ZERO_PAGE + BP_HDR), %di
	mov $(BP_HDR_END - BP_HDR), %cx
	rep movsb
	/* e820 map from the BIOS (INT 15h, AX = E820h), at most 128 entries of 20 bytes. */
	mov $(ZERO_PAGE + BP_E820_TABLE), %di
	xor %ebx, %ebx
	xor %bp, %bp
2:	mov $0xe820, %eax
	mov $SMAP, %edx
	mov $20, %ecx
	int $0x15
	jc 3f
	cmp $SMAP, %eax
	jne 3f
	add $20, %di
	inc %bp
	test %ebx, %ebx
	jz 3f
	cmp $E820_MAX_ENTRIES_ZEROPAGE, %bp
	jb 2b
3:	mov %bp, %ax
	mov %al, ZERO_PAGE + BP_E820_ENTRIES
	/* Fast A20 gate. */
	in $0x92, %al
	or $0x02, %al
	and $0xfe, %al
	out %al, $0x92
	/* Linear addresses: ESI = zero page, GDT base patched into its descriptor. */
	xor %eax, %eax
	mov %ds, %ax
	shl $4, %eax
	lea ZERO_PAGE(%eax), %esi
	add $(setup_gdt - bz_start), %eax
	mov %eax, setup_gdt_descriptor - bz_start + 2
	lgdtl setup_gdt_descriptor - bz_start
	mov %cr0, %eax
	or $1, %al
	mov %eax, %cr0
	mov $BOOT_DS, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	xor %ebx, %ebx
	xor %ebp, %ebp
	xor %edi, %edi
	ljmpl $BOOT_CS, $KILN_LOAD_ADDR	/* code32_start */

	.balign 8
setup_gdt:
	.quad 0
	.quad 0
	.quad 0x00cf9b000000ffff	/* BOOT_CS: flat 32-bit code */
	.quad 0x00cf93000000ffff	/* BOOT_DS: flat data */
setup_gdt_end:
setup_gdt_descriptor:
	.word setup_gdt_end - setup_gdt - 1
	.long 0				/* base: patched above */

	.org (KILN_SETUP_SECTS + 1) * 512

	.section .note.GNU-stack, "", @progbits
