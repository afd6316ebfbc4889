#include "bench_options.h"

#include <cstdlib>
#include <sstream>

#include "bench_image.h"

namespace kiln::bench {
namespace {

bool positive(const char* text, uint64_t& out) {
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0' || v == 0) return false;
  out = v;
  return true;
}

bool parts(const std::string& list, Options& o) {
  o.want_probe = o.want_linux = o.want_fio = false;
  std::istringstream in(list);
  std::string part;
  while (std::getline(in, part, ',')) {
    if (part == "probe") o.want_probe = true;
    else if (part == "linux") o.want_linux = true;
    else if (part == "fio") o.want_fio = true;
    else return false;
  }
  return o.want_probe || o.want_linux || o.want_fio;
}

bool transports(const std::string& list, Options& o) {
  o.transports.clear();
  std::istringstream in(list);
  std::string part;
  while (std::getline(in, part, ',')) {
    Transport t{};
    if (part == "mmio") t = Transport::mmio;
    else if (part == "pci") t = Transport::pci;
    else return false;
    for (const Transport seen : o.transports) {
      if (seen == t) return false;
    }
    o.transports.push_back(t);
  }
  return !o.transports.empty();
}

}  // namespace

bool parse_options(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return false;
    const char* v = argv[++i];
    uint64_t n = 0;
    if (a == "--dir") o.dir = v;
    else if (a == "--only") { if (!parts(v, o)) return false; }
    else if (a == "--qemu-aio") o.qemu_aio = v;
    else if (a == "--transports") { if (!transports(v, o)) return false; }
    else if (!positive(v, n)) return false;
    else if (a == "--runs") o.runs = static_cast<int>(n);
    else if (a == "--count") o.count = n;
    else if (a == "--seq-count") o.seq_count = n;
    else if (a == "--seq-bs") o.seq_bs = static_cast<uint32_t>(n);
    else if (a == "--passes") o.passes = static_cast<int>(n);
    else if (a == "--linux-timeout") o.linux_timeout = static_cast<int>(n);
    else if (a == "--image-mib") o.image_mib = n;
    else if (a == "--fio-seconds") o.fio_seconds = static_cast<int>(n);
    else return false;
  }
  if (o.dir.empty()) o.dir = default_image_parent();
  const bool seq_bs_ok = o.seq_bs % 512 == 0 && o.seq_bs <= 65536;
  return seq_bs_ok && o.runs < 1000 && o.passes < 100 && o.fio_seconds < 3600 && o.linux_timeout < 86400;
}

}  // namespace kiln::bench
