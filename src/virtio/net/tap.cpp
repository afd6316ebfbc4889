#include "virtio/net/tap.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace kiln::virtio::net {
namespace {

// TUNSETIFF on an existing tap with `flags`; the errno on failure.
int attach(int fd, const std::string& name, short flags) {
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  ifr.ifr_flags = flags;
  return ::ioctl(fd, TUNSETIFF, &ifr) < 0 ? errno : 0;
}

unsigned probe_offloads(int fd) {
  // tun accepts TSO/ECN/UFO only with CSUM; a kernel without one of them refuses the whole set.
  const unsigned sets[] = {kOffloadCsum | kOffloadTso4 | kOffloadTso6 | kOffloadTsoEcn | kOffloadUfo,
                           kOffloadCsum | kOffloadTso4 | kOffloadTso6 | kOffloadTsoEcn, kOffloadCsum};
  for (const unsigned s : sets) {
    if (::ioctl(fd, TUNSETOFFLOAD, static_cast<unsigned long>(s)) == 0) return s;
  }
  return 0;
}

}  // namespace

Result<std::unique_ptr<Tap>> Tap::open(const std::string& name) {
  if (name.empty() || name.size() >= IFNAMSIZ || name.find('/') != std::string::npos) {
    return fail("tap '{}': not an interface name (1 to {} characters)", name, IFNAMSIZ - 1);
  }
  const std::string create_hint = fmt::format("create it with: ip tuntap add {} mode tap", name);
  // TUNSETIFF would create a missing interface (with CAP_NET_ADMIN): kiln only attaches.
  if (::if_nametoindex(name.c_str()) == 0) return fail("tap {}: no such network interface; {}", name, create_hint);
  UniqueFd fd(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!fd) {
    const int err = errno;
    return tl::unexpected(Error{fmt::format("tap {}: /dev/net/tun: {}{}", name, std::strerror(err),
                                            err == ENOENT ? " (load the tun module: modprobe tun)"
                                            : err == EACCES ? " (kiln needs read-write access to /dev/net/tun)"
                                                            : ""),
                                err, ErrorKind::kIo});
  }
  const short flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
  int err = attach(fd.get(), name, flags);
  // A tap created with `multi_queue` takes only multi-queue attachments (one queue each).
  if (err == EINVAL) err = attach(fd.get(), name, static_cast<short>(flags | IFF_MULTI_QUEUE));
  if (err != 0) {
    std::string why;
    switch (err) {
      case EBUSY: why = "in use by another process (a tap serves one VMM; stop the other one or use another tap)"; break;
      case EPERM:
      case EACCES:
        why = fmt::format("no permission (run kiln with CAP_NET_ADMIN, or create the tap for kiln's user: ip tuntap add {} mode tap user $(id -u))", name);
        break;
      case EINVAL: why = fmt::format("not a tap device (a tun, or another kind of interface); {}", create_hint); break;
      default: why = std::strerror(err);
    }
    return tl::unexpected(Error{fmt::format("tap {}: cannot attach: {}", name, why), err, ErrorKind::kIo});
  }
  unsigned features = 0;
  if (::ioctl(fd.get(), TUNGETFEATURES, &features) == 0 && (features & IFF_VNET_HDR) == 0) {
    return fail("tap {}: this kernel's tun has no IFF_VNET_HDR", name);
  }
  const unsigned supported = probe_offloads(fd.get());
  if (::ioctl(fd.get(), TUNSETOFFLOAD, 0ul) < 0) return fail_io(fmt::format("tap {}: TUNSETOFFLOAD", name));
  return std::unique_ptr<Tap>(new Tap(name, std::move(fd), supported));
}

Result<size_t> Tap::read(std::span<const iovec> iov) {
  for (;;) {
    const ssize_t n = ::readv(fd_.get(), iov.data(), static_cast<int>(iov.size()));
    if (n >= 0) return static_cast<size_t>(n);  // tun reports the full length of a truncated frame
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return 0;
    return fail_io(fmt::format("tap {}: read", name_));
  }
}

Status Tap::write(std::span<const iovec> iov) {
  for (;;) {
    const ssize_t n = ::writev(fd_.get(), iov.data(), static_cast<int>(iov.size()));
    if (n >= 0) return {};
    if (errno == EINTR) continue;
    return fail_io(fmt::format("tap {}: write", name_));
  }
}

Status Tap::configure(uint32_t header_bytes, unsigned offloads) {
  int size = static_cast<int>(header_bytes);
  if (::ioctl(fd_.get(), TUNSETVNETHDRSZ, &size) < 0) return fail_io(fmt::format("tap {}: TUNSETVNETHDRSZ {}", name_, size));
  if ((offloads & ~supported_) != 0) return fail("tap {}: offloads {:#x} asked, {:#x} supported", name_, offloads, supported_);
  if (::ioctl(fd_.get(), TUNSETOFFLOAD, static_cast<unsigned long>(offloads)) < 0) {
    return fail_io(fmt::format("tap {}: TUNSETOFFLOAD {:#x}", name_, offloads));
  }
  return {};
}

}  // namespace kiln::virtio::net
