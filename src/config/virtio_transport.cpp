#include "config/virtio_transport.h"

namespace kiln {

Result<VirtioTransport> parse_virtio_transport(std::string_view what, std::string_view text) {
  if (text == "mmio") return VirtioTransport::kMmio;
  if (text == "pci") return VirtioTransport::kPci;
  return fail("{} {}: expected 'mmio' (virtio-mmio) or 'pci' (legacy virtio-PCI)", what, text);
}

}  // namespace kiln
