// A Linux tap device as the network device's host side: an existing tap opened by name through
// /dev/net/tun with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR (and IFF_MULTI_QUEUE when the tap was
// created multi-queue), nonblocking. Errors name the tap and the fix.
#pragma once

#include <memory>
#include <string>

#include "common/unique_fd.h"
#include "virtio/net/backend.h"

namespace kiln::virtio::net {

class Tap final : public NetBackend {
 public:
  // Opens the tap `name` (which must exist: kiln creates none). Probes which receive offloads
  // it accepts, then turns them all off until the guest negotiates its own.
  [[nodiscard]] static Result<std::unique_ptr<Tap>> open(const std::string& name);

  [[nodiscard]] const std::string& name() const override { return name_; }
  [[nodiscard]] int fd() const override { return fd_.get(); }
  [[nodiscard]] Result<size_t> read(std::span<const iovec> iov) override;
  [[nodiscard]] Status write(std::span<const iovec> iov) override;
  [[nodiscard]] Status configure(uint32_t header_bytes, unsigned offloads) override;
  [[nodiscard]] unsigned supported_offloads() const override { return supported_; }

 private:
  Tap(std::string name, UniqueFd fd, unsigned supported) : name_(std::move(name)), fd_(std::move(fd)), supported_(supported) {}

  std::string name_;
  UniqueFd fd_;
  unsigned supported_;
};

}  // namespace kiln::virtio::net
