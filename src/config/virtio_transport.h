// How a virtio device reaches the guest: a virtio-mmio window (virtio 1.x 4.2, the legacy
// register layout) or a legacy virtio-PCI function on PCI bus 0 (virtio 0.9.5 2.1). The machine
// has a default (VmConfig::virtio_transport); each device may choose its own.
#pragma once

#include <optional>
#include <string_view>

#include "common/result.h"

namespace kiln {

enum class VirtioTransport { kMmio, kPci };

// "mmio" or "pci": the spelling of the command line, the API and the config file.
[[nodiscard]] constexpr std::string_view transport_name(VirtioTransport t) {
  return t == VirtioTransport::kPci ? "pci" : "mmio";
}

// "mmio" or "pci"; anything else fails with "`what` TEXT: expected 'mmio' ... or 'pci' ...",
// so `what` names the flag or field ("--disk a.img,transport=x: transport").
[[nodiscard]] Result<VirtioTransport> parse_virtio_transport(std::string_view what, std::string_view text);

// The key of a device's transport in the command line's key=value lists (--disk, --net, --vsock,
// --rng, --console): "transport=pci".
inline constexpr std::string_view kTransportKey = "transport=";

// A device's own choice, else the machine's default.
[[nodiscard]] constexpr VirtioTransport effective_transport(std::optional<VirtioTransport> own,
                                                            VirtioTransport machine_default) {
  return own.value_or(machine_default);
}

}  // namespace kiln
