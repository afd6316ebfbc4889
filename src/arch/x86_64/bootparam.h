// Linux x86 boot protocol structures: the setup header and the boot_params
// "zero page" (arch/x86/include/uapi/asm/bootparam.h, Documentation/arch/x86/boot.rst).
// Only the fields kiln reads or writes are named; the rest are opaque bytes.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kiln::x86 {

inline constexpr uint64_t kSetupHeaderOffset = 0x1f1;  // hdr inside the file and the zero page
inline constexpr uint16_t kBootFlagMagic = 0xaa55;     // at 0x1fe
inline constexpr uint32_t kHdrSMagic = 0x53726448;     // "HdrS" at 0x202
inline constexpr uint8_t kDefaultSetupSects = 4;       // setup_sects 0 means 4
inline constexpr uint64_t kSectorSize = 512;
inline constexpr uint8_t kLoaderTypeUndefined = 0xff;  // type_of_loader: "other/undefined"
inline constexpr uint32_t kDefaultInitrdAddrMax = 0x7fffffff;

// loadflags
inline constexpr uint8_t kLoadedHigh = 1 << 0;
inline constexpr uint8_t kCanUseHeap = 1 << 7;
// xloadflags (protocol 2.12+)
inline constexpr uint16_t kXlfKernel64 = 1 << 0;
inline constexpr uint16_t kXlfCanBeLoadedAbove4G = 1 << 1;

// Offset of the 64-bit entry point from the protected-mode load address ("startup_64").
inline constexpr uint64_t kStartup64Offset = 0x200;

struct __attribute__((packed)) SetupHeader {
  uint8_t setup_sects;
  uint16_t root_flags;
  uint32_t syssize;
  uint16_t ram_size;
  uint16_t vid_mode;
  uint16_t root_dev;
  uint16_t boot_flag;
  uint16_t jump;
  uint32_t header;
  uint16_t version;
  uint32_t realmode_swtch;
  uint16_t start_sys_seg;
  uint16_t kernel_version;
  uint8_t type_of_loader;
  uint8_t loadflags;
  uint16_t setup_move_size;
  uint32_t code32_start;
  uint32_t ramdisk_image;
  uint32_t ramdisk_size;
  uint32_t bootsect_kludge;
  uint16_t heap_end_ptr;
  uint8_t ext_loader_ver;
  uint8_t ext_loader_type;
  uint32_t cmd_line_ptr;
  uint32_t initrd_addr_max;
  uint32_t kernel_alignment;
  uint8_t relocatable_kernel;
  uint8_t min_alignment;
  uint16_t xloadflags;
  uint32_t cmdline_size;
  uint32_t hardware_subarch;
  uint64_t hardware_subarch_data;
  uint32_t payload_offset;
  uint32_t payload_length;
  uint64_t setup_data;
  uint64_t pref_address;
  uint32_t init_size;
  uint32_t handover_offset;
  uint32_t kernel_info_offset;
};

// Offsets below are file/zero-page offsets as listed in boot.rst.
#define KILN_HDR_AT(field, off) \
  static_assert(offsetof(SetupHeader, field) + kSetupHeaderOffset == (off), #field)
KILN_HDR_AT(setup_sects, 0x1f1);
KILN_HDR_AT(syssize, 0x1f4);
KILN_HDR_AT(boot_flag, 0x1fe);
KILN_HDR_AT(jump, 0x200);
KILN_HDR_AT(header, 0x202);
KILN_HDR_AT(version, 0x206);
KILN_HDR_AT(type_of_loader, 0x210);
KILN_HDR_AT(loadflags, 0x211);
KILN_HDR_AT(code32_start, 0x214);
KILN_HDR_AT(ramdisk_image, 0x218);
KILN_HDR_AT(ramdisk_size, 0x21c);
KILN_HDR_AT(heap_end_ptr, 0x224);
KILN_HDR_AT(cmd_line_ptr, 0x228);
KILN_HDR_AT(initrd_addr_max, 0x22c);
KILN_HDR_AT(kernel_alignment, 0x230);
KILN_HDR_AT(relocatable_kernel, 0x234);
KILN_HDR_AT(xloadflags, 0x236);
KILN_HDR_AT(cmdline_size, 0x238);
KILN_HDR_AT(setup_data, 0x250);
KILN_HDR_AT(pref_address, 0x258);
KILN_HDR_AT(init_size, 0x260);
KILN_HDR_AT(kernel_info_offset, 0x268);
#undef KILN_HDR_AT
static_assert(sizeof(SetupHeader) == 0x26c - kSetupHeaderOffset);

struct __attribute__((packed)) BootE820Entry {
  uint64_t addr;
  uint64_t size;
  uint32_t type;
};
static_assert(sizeof(BootE820Entry) == 20);

inline constexpr size_t kE820MaxEntriesZeroPage = 128;

struct __attribute__((packed)) BootParams {
  uint8_t screen_info[0x40];         // 0x000
  uint8_t apm_bios_info[0x14];       // 0x040
  uint8_t pad2[4];                   // 0x054
  uint64_t tboot_addr;               // 0x058
  uint8_t ist_info[0x10];            // 0x060
  uint64_t acpi_rsdp_addr;           // 0x070
  uint8_t pad3[8];                   // 0x078
  uint8_t hd0_info[16];              // 0x080
  uint8_t hd1_info[16];              // 0x090
  uint8_t sys_desc_table[0x10];      // 0x0a0
  uint8_t olpc_ofw_header[0x10];     // 0x0b0
  uint32_t ext_ramdisk_image;        // 0x0c0
  uint32_t ext_ramdisk_size;         // 0x0c4
  uint32_t ext_cmd_line_ptr;         // 0x0c8
  uint8_t pad4[0x140 - 0xcc];        // 0x0cc
  uint8_t edid_info[0x80];           // 0x140
  uint8_t efi_info[0x20];            // 0x1c0
  uint32_t alt_mem_k;                // 0x1e0
  uint32_t scratch;                  // 0x1e4
  uint8_t e820_entries;              // 0x1e8
  uint8_t eddbuf_entries;            // 0x1e9
  uint8_t edd_mbr_sig_buf_entries;   // 0x1ea
  uint8_t kbd_status;                // 0x1eb
  uint8_t secure_boot;               // 0x1ec
  uint8_t pad5[2];                   // 0x1ed
  uint8_t sentinel;                  // 0x1ef
  uint8_t pad6[1];                   // 0x1f0
  SetupHeader hdr;                   // 0x1f1
  uint8_t pad7[0x290 - 0x26c];       // 0x26c
  uint32_t edd_mbr_sig_buffer[16];   // 0x290
  BootE820Entry e820_table[kE820MaxEntriesZeroPage];  // 0x2d0
  uint8_t pad8[48];                  // 0xcd0
  uint8_t eddbuf[0xeec - 0xd00];     // 0xd00
  uint8_t pad9[276];                 // 0xeec
};
static_assert(offsetof(BootParams, ext_ramdisk_image) == 0x0c0);
static_assert(offsetof(BootParams, ext_cmd_line_ptr) == 0x0c8);
static_assert(offsetof(BootParams, e820_entries) == 0x1e8);
static_assert(offsetof(BootParams, sentinel) == 0x1ef);
static_assert(offsetof(BootParams, hdr) == kSetupHeaderOffset);
static_assert(offsetof(BootParams, e820_table) == 0x2d0);
static_assert(offsetof(BootParams, eddbuf) == 0xd00);
static_assert(sizeof(BootParams) == 4096);

}  // namespace kiln::x86
