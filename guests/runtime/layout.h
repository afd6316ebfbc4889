/* Constants shared by the start-up assembly, the linker script users and the C++ runtime.
 * Plain #defines only: this header is included from .S files too. */
#ifndef KILN_GUEST_RUNTIME_LAYOUT_H
#define KILN_GUEST_RUNTIME_LAYOUT_H

/* Boot path, passed from the start-up code to kiln_main() in EDI. */
#define KILN_BOOT_PVH 0     /* PVH entry: RSI = struct hvm_start_info */
#define KILN_BOOT_ELF64 1   /* 64-bit ELF entry: RSI = struct boot_params */
#define KILN_BOOT_BZIMAGE 2 /* bzImage 32- or 64-bit entry: RSI = struct boot_params */

/* Every image is linked to run at 1 MiB (code32_start, pref_address, p_paddr). */
#define KILN_LOAD_ADDR 0x100000

/* bzImage: sectors of real-mode setup after the boot sector; the payload starts at
 * file offset (KILN_SETUP_SECTS + 1) * 512. */
#define KILN_SETUP_SECTS 4

/* Selectors in the runtime's own GDT (entry.S). */
#define KILN_GDT_CODE64 0x08
#define KILN_GDT_DATA 0x10
#define KILN_GDT_CODE32 0x18

#define KILN_STACK_SIZE 0x4000

#endif
