#include "boot-check/boot_info.h"

#include "runtime/phys.h"

namespace kiln::guest {
namespace {

// struct hvm_start_info (version 1).
constexpr uint32_t kPvhMagic = 0x336ec578;  // XEN_HVM_START_MAGIC_VALUE, "xEn3"
constexpr uint64_t kPvhMagicOffset = 0;
constexpr uint64_t kPvhVersionOffset = 4;
constexpr uint64_t kPvhNrModulesOffset = 12;
constexpr uint64_t kPvhModlistOffset = 16;
constexpr uint64_t kPvhCmdlineOffset = 24;
constexpr uint64_t kPvhMemmapOffset = 40;
constexpr uint64_t kPvhMemmapEntriesOffset = 48;
constexpr uint64_t kPvhStartInfoSize = 56;
constexpr uint64_t kPvhModlistEntrySize = 32;  // struct hvm_modlist_entry {paddr, size, cmdline, rsvd}
constexpr uint32_t kPvhMemmapEntrySize = 24;   // struct hvm_memmap_table_entry

// struct boot_params (the "zero page").
constexpr uint64_t kBootParamsSize = 4096;
constexpr uint64_t kExtRamdiskImageOffset = 0x0c0;
constexpr uint64_t kExtRamdiskSizeOffset = 0x0c4;
constexpr uint64_t kExtCmdLinePtrOffset = 0x0c8;
constexpr uint64_t kE820EntriesOffset = 0x1e8;
constexpr uint64_t kBootFlagOffset = 0x1fe;
constexpr uint64_t kHeaderOffset = 0x202;
constexpr uint64_t kRamdiskImageOffset = 0x218;
constexpr uint64_t kRamdiskSizeOffset = 0x21c;
constexpr uint64_t kCmdLinePtrOffset = 0x228;
constexpr uint64_t kE820TableOffset = 0x2d0;
constexpr uint32_t kBootParamsE820EntrySize = 20;
constexpr uint16_t kBootFlag = 0xaa55;
constexpr uint32_t kHeaderMagic = 0x53726448;  // "HdrS"

void read_cmdline(uint64_t address, BootInfo& info) {
  if (address == 0) {
    info.failure.note("cmdline pointer 0");
    return;
  }
  if (!is_mapped(address, 1)) {
    info.failure.note("cmdline above 4 GiB", address);
    return;
  }
  uint64_t max = kMaxCmdline;
  if (!is_mapped(address, max)) max = kIdentityMapEnd - address;
  const char* text = phys_ptr<char>(address);
  const size_t length = bounded_length(text, max);
  if (length == max) {
    info.failure.note("cmdline without NUL in 4096 bytes");
    return;
  }
  info.has_cmdline = true;
  info.cmdline = Text{text, length};
}

void set_e820(uint64_t address, uint32_t count, uint32_t stride, BootInfo& info) {
  if (address == 0 || count == 0) {
    info.failure.note("no e820 entries");
    return;
  }
  if (count > kMaxE820Entries) {
    info.failure.note("too many e820 entries", count);
    return;
  }
  if (!is_mapped(address, uint64_t{count} * stride)) {
    info.failure.note("e820 table above 4 GiB", address);
    return;
  }
  info.has_e820 = true;
  info.e820 = E820Table{address, count, stride};
}

}  // namespace

BootInfo read_pvh_start_info(uint64_t address) {
  BootInfo info;
  if (address == 0 || !is_mapped(address, kPvhStartInfoSize)) {
    info.failure.note("bad start_info pointer", address);
    info.fatal = true;
    return info;
  }
  const auto magic = read_phys<uint32_t>(address + kPvhMagicOffset);
  if (magic != kPvhMagic) {
    info.failure.note("bad start_info magic", magic);
    info.fatal = true;
    return info;
  }
  read_cmdline(read_phys<uint64_t>(address + kPvhCmdlineOffset), info);

  // The memory map fields exist from version 1 on.
  const auto version = read_phys<uint32_t>(address + kPvhVersionOffset);
  if (version < 1) {
    info.failure.note("start_info version 0 has no memmap");
  } else {
    set_e820(read_phys<uint64_t>(address + kPvhMemmapOffset),
             read_phys<uint32_t>(address + kPvhMemmapEntriesOffset), kPvhMemmapEntrySize, info);
  }

  // Linux (and kiln) pass the initrd as the first module.
  const auto nr_modules = read_phys<uint32_t>(address + kPvhNrModulesOffset);
  const auto modlist = read_phys<uint64_t>(address + kPvhModlistOffset);
  if (nr_modules != 0 && modlist != 0) {
    if (!is_mapped(modlist, kPvhModlistEntrySize)) {
      info.failure.note("modlist above 4 GiB", modlist);
    } else {
      info.has_initrd = true;
      info.initrd_address = read_phys<uint64_t>(modlist);
      info.initrd_size = read_phys<uint64_t>(modlist + 8);
    }
  }
  return info;
}

BootInfo read_boot_params(uint64_t address) {
  BootInfo info;
  if (address == 0 || !is_mapped(address, kBootParamsSize)) {
    info.failure.note("bad boot_params pointer", address);
    info.fatal = true;
    return info;
  }
  const auto header = read_phys<uint32_t>(address + kHeaderOffset);
  if (header != kHeaderMagic) {
    info.failure.note("boot_params header mismatch", header);
    info.fatal = true;
    return info;
  }
  const auto boot_flag = read_phys<uint16_t>(address + kBootFlagOffset);
  if (boot_flag != kBootFlag) {
    info.failure.note("boot_params boot_flag mismatch", boot_flag);
    info.fatal = true;
    return info;
  }
  read_cmdline(read_phys<uint32_t>(address + kCmdLinePtrOffset) |
                   uint64_t{read_phys<uint32_t>(address + kExtCmdLinePtrOffset)} << 32,
               info);
  set_e820(address + kE820TableOffset, read_phys<uint8_t>(address + kE820EntriesOffset),
           kBootParamsE820EntrySize, info);
  const uint64_t initrd = read_phys<uint32_t>(address + kRamdiskImageOffset) |
                          uint64_t{read_phys<uint32_t>(address + kExtRamdiskImageOffset)} << 32;
  const uint64_t size = read_phys<uint32_t>(address + kRamdiskSizeOffset) |
                        uint64_t{read_phys<uint32_t>(address + kExtRamdiskSizeOffset)} << 32;
  if (initrd != 0 || size != 0) {
    info.has_initrd = true;
    info.initrd_address = initrd;
    info.initrd_size = size;
  }
  return info;
}

E820Entry e820_entry(const E820Table& table, uint32_t index) {
  const uint64_t at = table.address + uint64_t{index} * table.stride;
  return E820Entry{read_phys<uint64_t>(at), read_phys<uint64_t>(at + 8),
                   read_phys<uint32_t>(at + 16)};
}

}  // namespace kiln::guest
