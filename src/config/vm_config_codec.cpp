#include "config/vm_config_codec.h"

#include <string>

#include "config/virtio_placement.h"

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
  auto present = KILN_TRY_VALUE(in.boolean());
  auto s = KILN_TRY_VALUE(in.string(max));
  if (!present) return std::optional<std::string>{};
  return std::optional<std::string>(std::move(s));
}

// Each virtio device's own transport, in device order (virtio_placements()).
template <typename Config>
auto device_transports(Config& c) {
  std::vector<decltype(&c.rng_transport)> out;
  for (auto& d : c.disks) out.push_back(&d.transport);
  for (auto& n : c.nets) out.push_back(&n.transport);
  if (c.rng) out.push_back(&c.rng_transport);
  if (c.console == ConsoleKind::kVirtio) out.push_back(&c.console_transport);
  if (c.vsock) out.push_back(&c.vsock->transport);
  return out;
}

// 0: the machine's default, 1: virtio-mmio, 2: virtio-PCI.
uint8_t transport_code(const std::optional<VirtioTransport>& t) {
  if (!t) return 0;
  return *t == VirtioTransport::kPci ? 2 : 1;
}

}  // namespace

void encode_device_transports(snapshot::Encoder& out, const VmConfig& config) {
  const auto transports = device_transports(config);
  out.u32(static_cast<uint32_t>(transports.size()));
  for (const auto* t : transports) out.u8(transport_code(*t));
}

Status decode_device_transports(snapshot::Decoder& in, VmConfig& config) {
  if (in.remaining() == 0) return {};  // a snapshot from before per-device transports: all default
  const auto transports = device_transports(config);
  const auto placements = virtio_placements(config);
  auto count = KILN_TRY_VALUE(in.u32());
  if (count != transports.size()) {
    return in.invalid(fmt::format("{} device transports for {} virtio devices", count, transports.size()));
  }
  for (size_t i = 0; i < transports.size(); ++i) {
    auto code = KILN_TRY_VALUE(in.u8());
    if (code > 2) {
      const auto& p = placements[i];
      return in.invalid(fmt::format("virtio transport {} of virtio-{}{}{}", code, p.kind, p.id.empty() ? "" : " ", p.id));
    }
    if (code != 0) *transports[i] = code == 2 ? VirtioTransport::kPci : VirtioTransport::kMmio;
  }
  return {};
}

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
  encode_net_configs(out, c.nets);
  encode_vsock_config(out, c.vsock);
  encode_device_transports(out, c);
}

void encode_vsock_config(snapshot::Encoder& out, const std::optional<VsockConfig>& vsock) {
  out.boolean(vsock.has_value());
  if (!vsock) return;
  out.u64(vsock->guest_cid);
  out.string(vsock->uds_path);
  out.string(vsock->id);
}

Result<std::optional<VsockConfig>> decode_vsock_config(snapshot::Decoder& in) {
  if (in.remaining() == 0) return std::optional<VsockConfig>{};  // a snapshot from before vsock
  auto present = KILN_TRY_VALUE(in.boolean());
  if (!present) return std::optional<VsockConfig>{};
  VsockConfig v;
  auto cid = KILN_TRY_VALUE(in.u64());
  if (cid < 3 || cid > 0xfffffffeull) return in.invalid(fmt::format("vsock guest CID {}", cid));
  v.guest_cid = cid;
  auto path = KILN_TRY_VALUE(in.string(kMaxPath));
  v.uds_path = std::move(path);
  auto id = KILN_TRY_VALUE(in.string(256));
  v.id = std::move(id);
  return std::optional<VsockConfig>(std::move(v));
}

Result<VmConfig> decode_vm_config(snapshot::Decoder& in) {
  VmConfig c;
#define KILN_DECODE(target, expr)                     \
  do {                                                \
    target = KILN_TRY_VALUE(expr);                    \
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
  if (in.remaining() > 0) KILN_DECODE(c.nets, decode_net_configs(in));  // absent before virtio-net
  KILN_DECODE(c.vsock, decode_vsock_config(in));                          // absent before vsock
  KILN_TRY(decode_device_transports(in, c));  // absent before per-device transports
#undef KILN_DECODE
  return c;
}

}  // namespace kiln
