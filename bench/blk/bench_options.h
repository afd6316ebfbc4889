// blk_bench's command line.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kiln::bench {

// How the disk reaches the guest: virtio-mmio (kiln's default; QEMU -M microvm) or legacy
// virtio-PCI (kiln --transport pci; QEMU -M pc with virtio-blk-pci,disable-modern=on).
enum class Transport { mmio, pci };

[[nodiscard]] inline const char* transport_name(Transport t) { return t == Transport::pci ? "pci" : "mmio"; }

struct Options {
  int runs = 5;                // probe runs per row and VMM
  uint64_t count = 20000;      // 4 KiB random reads per probe run
  uint64_t seq_count = 4096;   // sequential reads per probe run (4096 of 64 KiB: 256 MiB)
  uint32_t seq_bs = 65536;     // their size (the probe takes 512..65536, multiples of 512)
  int passes = 3;              // dd passes in the Linux boot
  int linux_timeout = 900;     // seconds per Linux boot (below the kvm-box's time-out, to see why)
  uint64_t image_mib = 256;
  std::string dir;             // where the image goes; default_image_parent() if not given
  int fio_seconds = 3;
  bool want_probe = true;
  bool want_linux = true;
  bool want_fio = true;
  std::string qemu_aio;        // "" = QEMU's default (threads)
  std::vector<Transport> transports{Transport::mmio};  // --transports, in the order given
};

inline constexpr const char* kUsage =
    "usage: blk_bench [--runs R] [--count N] [--seq-count N] [--seq-bs B] [--passes P] [--image-mib M]\n"
    "                 [--dir DIR] [--fio-seconds S] [--linux-timeout S] [--only probe,linux,fio]\n"
    "                 [--qemu-aio threads|native|io_uring] [--transports mmio,pci]\n";

// False on anything it does not understand.
[[nodiscard]] bool parse_options(int argc, char** argv, Options& o);

}  // namespace kiln::bench
