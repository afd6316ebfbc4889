#include "config/virtio_placement.h"

#include <algorithm>

namespace kiln {

std::vector<VirtioPlacement> virtio_placements(const VmConfig& config) {
  const auto on = [&](std::optional<VirtioTransport> own) { return effective_transport(own, config.virtio_transport); };
  std::vector<VirtioPlacement> out;
  for (size_t i = 0; i < config.disks.size(); ++i) out.push_back({"blk", drive_id(config, i), on(config.disks[i].transport)});
  for (const NetConfig& net : config.nets) out.push_back({"net", net.id, on(net.transport)});
  if (config.rng) out.push_back({"rng", "", on(config.rng_transport)});
  if (config.console == ConsoleKind::kVirtio) out.push_back({"console", "", on(config.console_transport)});
  if (config.vsock) out.push_back({"vsock", "", on(config.vsock->transport)});
  return out;
}

bool needs_pci_bus(const VmConfig& config) {
  if (config.virtio_transport == VirtioTransport::kPci) return true;  // as before per-device transports
  const auto placements = virtio_placements(config);
  return std::any_of(placements.begin(), placements.end(),
                     [](const VirtioPlacement& p) { return p.transport == VirtioTransport::kPci; });
}

}  // namespace kiln
