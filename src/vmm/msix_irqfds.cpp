#include "vmm/msix_irqfds.h"

#include "common/log.h"

namespace kiln {

Result<std::shared_ptr<MsixIrqfds>> MsixIrqfds::create(VmFd& vm, std::shared_ptr<GsiRoutes> routes,
                                                       uint16_t vectors) {
  auto first = KILN_TRY_VALUE(routes->allocate(vectors));
  std::vector<EventFd> events;
  for (uint16_t v = 0; v < vectors; ++v) {
    auto event = KILN_TRY_VALUE(EventFd::create());
    KILN_TRY(vm.irqfd(event.fd(), first + v));
    events.push_back(std::move(event));
  }
  return std::make_shared<MsixIrqfds>(std::move(routes), first, std::move(events));
}

void MsixIrqfds::set_route(uint16_t vector, const pci::MsiMessage& message) {
  // KVM refuses a table only when out of memory or entries: a kiln or host problem, not the guest's.
  if (auto ok = routes_->set_msi(first_gsi_ + vector, message); !ok) {
    log("MSI-X vector {} (GSI {}): {}", vector, first_gsi_ + vector, ok.error().message);
  }
}

}  // namespace kiln
