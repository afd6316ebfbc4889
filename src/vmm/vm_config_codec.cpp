#include "vmm/vm_config_codec.h"

#include <string>

namespace kiln {
namespace {

constexpr size_t kMaxPath = 4096;
constexpr size_t kMaxCmdline = 64 * 1024;
constexpr size_t kMaxDisks = 64;
constexpr uint32_t kMaxVcpus = 254;

std::string feature_text(const std::vector<x86::FeatureOverride>& features) {
  std::string text;
  for (const auto& f : features) {
    if (!text.empty()) text += ',';
    text += f.enable ? '+' : '-';
    text += f.name;
  }
  return text;
}

void encode_optional(snapshot::Encoder& out, const std::optional<std::string>& s) {
  out.boolean(s.has_value());
  out.string(s.value_or(""));
}

Result<std::optional<std::string>> decode_optional(snapshot::Decoder& in, size_t max) {
  auto present = in.boolean();
  if (!present) return tl::unexpected(present.error());
  auto s = in.string(max);
  if (!s) return tl::unexpected(s.error());
  if (!*present) return std::optional<std::string>{};
  return std::optional<std::string>(std::move(*s));
}

}  // namespace

void encode_vm_config(snapshot::Encoder& out, const VmConfig& c) {
  out.string(c.kernel_path);
  encode_optional(out, c.initrd_path);
  out.string(c.cmdline);
  out.u64(c.memory_bytes);
  out.u32(c.vcpus);
  encode_optional(out, c.cpu_template);
  out.string(feature_text(c.cpu_features));
  out.u32(static_cast<uint32_t>(c.disks.size()));
  for (const auto& d : c.disks) {
    out.string(d.id);
    out.string(d.path);
    out.boolean(d.readonly);
    out.boolean(d.direct);
    out.string(d.serial);
  }
  out.u8(c.console == ConsoleKind::kVirtio ? 1 : 0);
  out.boolean(c.rng);
  out.u8(c.virtio_transport == VirtioTransport::kPci ? 1 : 0);
}

Result<VmConfig> decode_vm_config(snapshot::Decoder& in) {
  VmConfig c;
#define KILN_DECODE(target, expr)                     \
  do {                                                \
    auto v_ = (expr);                                 \
    if (!v_) return tl::unexpected(v_.error());       \
    target = std::move(*v_);                          \
  } while (0)
  KILN_DECODE(c.kernel_path, in.string(kMaxPath));
  KILN_DECODE(c.initrd_path, decode_optional(in, kMaxPath));
  KILN_DECODE(c.cmdline, in.string(kMaxCmdline));
  KILN_DECODE(c.memory_bytes, in.u64());
  if (c.memory_bytes < (16ull << 20) || c.memory_bytes > (1ull << 40) || c.memory_bytes % 4096 != 0) {
    return in.invalid(fmt::format("guest memory of {} bytes", c.memory_bytes));
  }
  KILN_DECODE(c.vcpus, in.u32());
  if (c.vcpus == 0 || c.vcpus > kMaxVcpus) return in.invalid(fmt::format("{} vCPUs", c.vcpus));
  KILN_DECODE(c.cpu_template, decode_optional(in, 64));
  std::string features;
  KILN_DECODE(features, in.string(kMaxCmdline));
  KILN_DECODE(c.cpu_features, x86::parse_feature_overrides(features));
  uint32_t disks = 0;
  KILN_DECODE(disks, in.u32());
  if (disks > kMaxDisks) return in.invalid(fmt::format("{} disks", disks));
  for (uint32_t i = 0; i < disks; ++i) {
    DiskConfig d;
    KILN_DECODE(d.id, in.string(256));
    KILN_DECODE(d.path, in.string(kMaxPath));
    KILN_DECODE(d.readonly, in.boolean());
    KILN_DECODE(d.direct, in.boolean());
    KILN_DECODE(d.serial, in.string(20));
    c.disks.push_back(std::move(d));
  }
  uint8_t console = 0;
  KILN_DECODE(console, in.u8());
  if (console > 1) return in.invalid(fmt::format("console kind {}", console));
  c.console = console == 1 ? ConsoleKind::kVirtio : ConsoleKind::kSerial;
  KILN_DECODE(c.rng, in.boolean());
  if (in.remaining() > 0) {  // absent in snapshots from before virtio-PCI: virtio-mmio
    uint8_t transport = 0;
    KILN_DECODE(transport, in.u8());
    if (transport > 1) return in.invalid(fmt::format("virtio transport {}", transport));
    c.virtio_transport = transport == 1 ? VirtioTransport::kPci : VirtioTransport::kMmio;
  }
#undef KILN_DECODE
  return c;
}

}  // namespace kiln
