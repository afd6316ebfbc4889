#include "arch/x86_64/boot.h"

#include <utility>

#include "arch/x86_64/bzimage.h"
#include "arch/x86_64/elf.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/page_tables.h"

namespace kiln::x86 {

Result<BootEntry> load_kernel(const GuestMemory& mem, const BootSpec& spec) {
  Result<BootEntry> entry = [&]() -> Result<BootEntry> {
    if (has_setup_header(spec.kernel)) return load_bzimage(mem, spec);
    if (has_elf_magic(spec.kernel)) return load_elf(mem, spec);
    return fail("not a Linux kernel: no HdrS magic (bzImage) and no ELF magic (vmlinux)");
  }();
  // The kernel, initrd and command line are the user's: a file that is not a kernel, or one that
  // does not fit the guest's RAM (GuestMemory calls an address outside RAM kGuest; here the
  // address is the kernel's), is a configuration error.
  if (!entry) return with_kind(ErrorKind::kConfig, std::move(entry).error());

  // Both modes load the GDT; only the 64-bit entry needs paging set up.
  KILN_TRY(write_gdt(mem));
  if (entry->mode == EntryMode::kLong64) KILN_TRY(write_identity_page_tables(mem));
  return entry;
}

}  // namespace kiln::x86
