#include "probe/lib/start_info.h"

#include "runtime/phys.h"
#include "runtime/runtime.h"

namespace kiln::probe {
namespace {

constexpr uint32_t kPvhMagic = 0x336ec578;  // XEN_HVM_START_MAGIC_VALUE
constexpr uint64_t kMagicOffset = 0;
constexpr uint64_t kCmdlineOffset = 24;     // cmdline_paddr
constexpr uint64_t kStartInfoSize = 56;
constexpr size_t kMaxCmdline = 4096;

StartInfo failed(const char* why, uint64_t value) {
  StartInfo s;
  s.error = why;
  s.error_value = value;
  return s;
}

}  // namespace

StartInfo read_start_info(uint32_t kind, uint64_t info) {
  if (kind != KILN_BOOT_PVH) return failed("not entered through PVH, boot kind", kind);
  if (info == 0 || !guest::is_mapped(info, kStartInfoSize)) return failed("bad start_info pointer", info);
  const auto magic = guest::read_phys<uint32_t>(info + kMagicOffset);
  if (magic != kPvhMagic) return failed("bad start_info magic", magic);
  StartInfo s;
  s.ok = true;
  const auto cmdline = guest::read_phys<uint64_t>(info + kCmdlineOffset);
  if (cmdline != 0 && guest::is_mapped(cmdline, 1)) {
    size_t max = kMaxCmdline;
    if (!guest::is_mapped(cmdline, max)) max = guest::kIdentityMapEnd - cmdline;
    const char* text = guest::phys_ptr<char>(cmdline);
    s.cmdline = guest::Text{text, guest::bounded_length(text, max)};
  }
  return s;
}

}  // namespace kiln::probe
