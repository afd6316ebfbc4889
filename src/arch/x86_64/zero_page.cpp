#include "arch/x86_64/zero_page.h"

#include "arch/x86_64/layout.h"

namespace kiln::x86 {

namespace {
// heap_end_ptr: end of the setup heap relative to the real-mode code + 0x200.
// kiln runs no real-mode setup, so this is only the conventional value.
constexpr uint16_t kHeapEndPtr = 0xfe00;
constexpr uint16_t kSyntheticVersion = 0x020c;  // protocol 2.12
constexpr uint32_t kSyntheticAlignment = 0x1000000;
}  // namespace

SetupHeader synthetic_setup_header() {
  SetupHeader hdr{};
  hdr.boot_flag = kBootFlagMagic;
  hdr.header = kHdrSMagic;
  hdr.version = kSyntheticVersion;
  hdr.loadflags = kLoadedHigh;
  hdr.kernel_alignment = kSyntheticAlignment;
  hdr.initrd_addr_max = kDefaultInitrdAddrMax;
  hdr.cmdline_size = static_cast<uint32_t>(kCmdlineMaxBytes - 1);
  return hdr;
}

Status write_zero_page(const GuestMemory& mem, const SetupHeader& hdr, const std::optional<MemoryRange>& initrd,
                       std::span<const E820Entry> e820, GuestAddress rsdp) {
  if (e820.size() > kE820MaxEntriesZeroPage) {
    return fail("{} e820 entries do not fit the zero page (max {})", e820.size(), kE820MaxEntriesZeroPage);
  }
  BootParams bp{};
  bp.hdr = hdr;
  // boot.rst "Details of header fields": fields the boot loader must fill in.
  bp.hdr.type_of_loader = kLoaderTypeUndefined;
  bp.hdr.loadflags = static_cast<uint8_t>(bp.hdr.loadflags | kCanUseHeap);
  bp.hdr.heap_end_ptr = kHeapEndPtr;
  bp.hdr.cmd_line_ptr = static_cast<uint32_t>(kCmdlineAddr.raw());
  bp.ext_cmd_line_ptr = static_cast<uint32_t>(kCmdlineAddr.raw() >> 32);
  if (initrd) {
    bp.hdr.ramdisk_image = static_cast<uint32_t>(initrd->start.raw());
    bp.ext_ramdisk_image = static_cast<uint32_t>(initrd->start.raw() >> 32);
    bp.hdr.ramdisk_size = static_cast<uint32_t>(initrd->size);
    bp.ext_ramdisk_size = static_cast<uint32_t>(initrd->size >> 32);
  } else {
    bp.hdr.ramdisk_image = 0;
    bp.hdr.ramdisk_size = 0;
  }
  bp.acpi_rsdp_addr = rsdp.raw();
  bp.e820_entries = static_cast<uint8_t>(e820.size());
  for (size_t i = 0; i < e820.size(); ++i) {
    bp.e820_table[i] = BootE820Entry{e820[i].addr, e820[i].size, static_cast<uint32_t>(e820[i].type)};
  }
  auto st = mem.write_obj(kZeroPageAddr, bp);
  if (!st) return wrap("writing boot_params", st.error());
  return {};
}

}  // namespace kiln::x86
