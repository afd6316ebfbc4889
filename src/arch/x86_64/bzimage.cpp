#include "arch/x86_64/bzimage.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "arch/x86_64/boot_data.h"
#include "arch/x86_64/e820.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/zero_page.h"

namespace kiln::x86 {

namespace {

constexpr uint64_t kMagicOffset = 0x202;
constexpr uint64_t kJumpByteOffset = 0x201;  // header ends at 0x202 + this byte
constexpr uint64_t kHeaderEnd206 = 0x23c;    // protocol 2.06 ends with cmdline_size
constexpr uint64_t kPage = 4 * KiB;

std::string protocol_name(uint16_t version) { return fmt::format("{}.{:02}", version >> 8, version & 0xff); }

template <typename T>
T load(std::span<const uint8_t> file, uint64_t offset) {
  T v;
  std::memcpy(&v, file.data() + offset, sizeof(T));
  return v;
}

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

// The memory the kernel needs from its load address: init_size (2.10+), or at
// least the protected-mode code itself.
uint64_t needed_bytes(const BzImage& image) {
  return std::max<uint64_t>(image.init_size, image.protected_mode.size());
}

}  // namespace

bool has_setup_header(std::span<const uint8_t> file) {
  return file.size() >= kMagicOffset + 4 && load<uint32_t>(file, kMagicOffset) == kHdrSMagic;
}

Result<BzImage> parse_bzimage(std::span<const uint8_t> file) {
  if (!has_setup_header(file)) return fail("not a Linux kernel: no HdrS magic at {:#x}", kMagicOffset);
  const auto boot_flag = load<uint16_t>(file, offsetof(SetupHeader, boot_flag) + kSetupHeaderOffset);
  if (boot_flag != kBootFlagMagic) {
    return fail("not a Linux kernel: boot_flag is {:#06x} (expected {:#06x})", boot_flag, kBootFlagMagic);
  }
  const uint64_t header_end = kMagicOffset + file[kJumpByteOffset];
  if (file.size() < header_end || file.size() < kMagicOffset + 6) {
    return fail("file truncated: setup header ends at {:#x}, file has {} bytes", header_end, file.size());
  }
  const auto version = load<uint16_t>(file, offsetof(SetupHeader, version) + kSetupHeaderOffset);
  if (version < kMinBootProtocol) {
    return fail("boot protocol {} too old (need >= {})", protocol_name(version), protocol_name(kMinBootProtocol));
  }
  if (header_end < kHeaderEnd206) {
    return fail("setup header ends at {:#x}, too short for protocol {}", header_end, protocol_name(version));
  }

  BzImage image;
  const uint64_t copy = std::min<uint64_t>(header_end - kSetupHeaderOffset, sizeof(SetupHeader));
  std::memcpy(&image.header, file.data() + kSetupHeaderOffset, copy);
  const SetupHeader& h = image.header;

  const uint64_t sects = h.setup_sects == 0 ? kDefaultSetupSects : h.setup_sects;
  image.setup_bytes = (sects + 1) * kSectorSize;
  if (file.size() < image.setup_bytes) {
    return fail("file truncated: setup needs {} bytes, file has {}", image.setup_bytes, file.size());
  }
  image.protected_mode = file.subspan(image.setup_bytes);
  // syssize counts the protected-mode code in 16-byte paragraphs (2.04+).
  const uint64_t sys_bytes = uint64_t{h.syssize} * 16;
  if (image.protected_mode.empty() || image.protected_mode.size() < sys_bytes) {
    return fail("file truncated: protected-mode code needs {} bytes (syssize), file has {} after the setup",
                sys_bytes, image.protected_mode.size());
  }
  if (!(h.loadflags & kLoadedHigh)) return fail("zImage not supported: loadflags lacks LOADED_HIGH");
  if (!(h.xloadflags & kXlfKernel64)) {
    return fail("kernel is not 64-bit capable: xloadflags lacks XLF_KERNEL_64 (protocol {})",
                protocol_name(version));
  }
  if (h.version >= 0x020a) image.init_size = h.init_size;
  return image;
}

Result<GuestAddress> bzimage_load_address(const BzImage& image, GuestAddress low_ram_end) {
  const SetupHeader& h = image.header;
  const uint64_t need = needed_bytes(image);
  const bool has_pref = h.version >= 0x020a && h.pref_address != 0;
  const bool relocatable = h.relocatable_kernel != 0;
  auto fits_at = [&](uint64_t addr) {
    return addr >= kHighMemStart.raw() && addr <= low_ram_end.raw() && need <= low_ram_end.raw() - addr;
  };
  if (has_pref && fits_at(h.pref_address)) return GuestAddress(h.pref_address);
  if (has_pref && !relocatable && h.pref_address != kKernelLoadAddr.raw()) {
    return fail("non-relocatable kernel must load at pref_address {:#x} and needs {} MiB there, "
                "but low RAM ends at {:#x}",
                h.pref_address, (need + MiB - 1) / MiB, low_ram_end.raw());
  }
  if (!fits_at(kKernelLoadAddr.raw())) {
    return fail("kernel needs {} MiB from {:#x} (init_size), but low RAM ends at {:#x}", (need + MiB - 1) / MiB,
                kKernelLoadAddr.raw(), low_ram_end.raw());
  }
  return kKernelLoadAddr;
}

Result<BootEntry> load_bzimage(const GuestMemory& mem, const BootSpec& spec) {
  auto image = KILN_TRY_VALUE(parse_bzimage(spec.kernel));
  auto e820 = KILN_TRY_VALUE(e820_map(mem));
  auto load_addr = KILN_TRY_VALUE(bzimage_load_address(image, low_ram_end(mem)));

  auto st = mem.write(load_addr, image.protected_mode);
  if (!st) return wrap("loading the bzImage protected-mode code", st.error());

  SetupHeader hdr = image.header;
  hdr.code32_start = static_cast<uint32_t>(load_addr.raw());
  KILN_TRY(write_cmdline(mem, spec.cmdline, hdr.cmdline_size, "the kernel's cmdline_size"));

  std::optional<MemoryRange> initrd;
  if (!spec.initrd.empty()) {
    // Never below the kernel's whole init_size area, where it decompresses.
    const uint64_t floor = align_up(load_addr.raw() + needed_bytes(image), kPage);
    initrd = KILN_TRY_VALUE(load_initrd(mem, spec.initrd, floor, hdr.initrd_addr_max));
  }
  KILN_TRY(write_zero_page(mem, hdr, initrd, e820, spec.rsdp));
  return BootEntry{EntryMode::kLong64, load_addr.unchecked_add(kStartup64Offset), kZeroPageAddr, "bzImage"};
}

}  // namespace kiln::x86
