// MSI-X delivery for one PCI function through KVM (kvm/api.txt 4.75 KVM_IRQFD, 4.52
// KVM_SET_GSI_ROUTING): vector v is an eventfd bound as an irqfd to GSI first_gsi + v, whose MSI
// route carries the message the guest wrote in the table. A device thread raises a vector with
// one eventfd write: KVM injects it into the LAPIC, no exit and no kiln thread in between.
#pragma once

#include <memory>
#include <vector>

#include "common/event_fd.h"
#include "pci/msix.h"
#include "vmm/gsi_routes.h"

namespace kiln {

class MsixIrqfds final : public pci::MsiSink {
 public:
  // `vectors` GSIs from `routes`, each with its irqfd.
  [[nodiscard]] static Result<std::shared_ptr<MsixIrqfds>> create(VmFd& vm, std::shared_ptr<GsiRoutes> routes,
                                                                  uint16_t vectors);

  void set_route(uint16_t vector, const pci::MsiMessage& message) override;
  void signal(uint16_t vector) override { events_[vector].signal(); }

  MsixIrqfds(std::shared_ptr<GsiRoutes> routes, uint32_t first_gsi, std::vector<EventFd> events)
      : routes_(std::move(routes)), first_gsi_(first_gsi), events_(std::move(events)) {}

 private:
  const std::shared_ptr<GsiRoutes> routes_;
  const uint32_t first_gsi_;
  std::vector<EventFd> events_;
};

}  // namespace kiln
