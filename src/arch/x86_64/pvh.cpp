#include "arch/x86_64/pvh.h"

#include "arch/x86_64/layout.h"

namespace kiln::x86 {

Status write_start_info(const GuestMemory& mem, const std::optional<MemoryRange>& initrd,
                        std::span<const E820Entry> e820, GuestAddress rsdp) {
  if (e820.size() > kPvhMemmapMaxEntries) {
    return fail("{} memory map entries do not fit kiln's PVH area (max {})", e820.size(), kPvhMemmapMaxEntries);
  }
  for (size_t i = 0; i < e820.size(); ++i) {
    const HvmMemmapEntry entry{e820[i].addr, e820[i].size, static_cast<uint32_t>(e820[i].type), 0};
    auto st = mem.write_obj(kPvhMemmapAddr.unchecked_add(i * sizeof(HvmMemmapEntry)), entry);
    if (!st) return wrap("writing the PVH memory map", st.error());
  }

  HvmStartInfo info{};
  info.magic = kHvmStartMagic;
  info.version = kHvmStartInfoVersion;
  info.cmdline_paddr = kCmdlineAddr.raw();
  info.memmap_paddr = kPvhMemmapAddr.raw();
  info.memmap_entries = static_cast<uint32_t>(e820.size());
  info.rsdp_paddr = rsdp.raw();
  if (initrd) {
    const HvmModlistEntry module{initrd->start.raw(), initrd->size, 0, 0};
    auto st = mem.write_obj(kPvhModlistAddr, module);
    if (!st) return wrap("writing the PVH module list", st.error());
    info.nr_modules = 1;
    info.modlist_paddr = kPvhModlistAddr.raw();
  }
  auto st = mem.write_obj(kPvhStartInfoAddr, info);
  if (!st) return wrap("writing hvm_start_info", st.error());
  return {};
}

}  // namespace kiln::x86
