#include "bench_rows.h"

#include <algorithm>
#include <optional>
#include <string>

namespace kiln::bench {
namespace {

std::string size_name(uint32_t bytes) {
  return bytes % 1024 == 0 ? std::to_string(bytes / 1024) + "K" : std::to_string(bytes);
}

}  // namespace

bool wants(const Options& o, Transport t) {
  return std::find(o.transports.begin(), o.transports.end(), t) != o.transports.end();
}

void make_rows(const Options& o, std::vector<Row>& rows, std::vector<ProbeRow>& probe,
               std::vector<LinuxRow>& linux_rows) {
  const bool named = o.transports.size() > 1 || o.transports.front() != Transport::mmio;
  const auto name = [&](const std::string& workload, const std::string& how) {
    return named ? workload + ", " + how : workload;
  };
  for (const bool random : {true, false}) {
    for (const uint32_t qd : {1u, 8u, 64u}) {
      ProbeWorkload w{random, random ? 4096u : probe_block_size(o.seq_bs, qd), qd, random ? o.count : o.seq_count};
      const std::string workload = "probe " + size_name(w.block_size) + (random ? " randread" : " seqread") +
                                   " qd=" + std::to_string(qd);
      const size_t first = rows.size();
      std::optional<size_t> mmio;
      for (const Transport t : {Transport::mmio, Transport::pci}) {
        if (!wants(o, t)) continue;
        w.transport = t;
        if (t == Transport::mmio) mmio = rows.size();
        probe.push_back({w, rows.size(), first});
        rows.push_back({name(workload, transport_name(t)), random ? "IOPS" : "MB/s", {}, {}, std::nullopt, "",
                        t == Transport::mmio ? std::nullopt : mmio});
      }
    }
  }
  const std::string dd = "Linux dd bs=1M /dev/vda";
  std::optional<size_t> mmio;
  if (wants(o, Transport::mmio)) {
    mmio = rows.size();
    linux_rows.push_back({{Transport::mmio, false}, rows.size()});
    rows.push_back({name(dd, "mmio"), "MB/s", {}, {}, std::nullopt, "", std::nullopt});
  }
  if (wants(o, Transport::pci)) {
    for (const bool nomsi : {false, true}) {
      linux_rows.push_back({{Transport::pci, nomsi}, rows.size()});
      rows.push_back({name(dd, nomsi ? "pci intx" : "pci msix"), "MB/s", {}, {}, std::nullopt, "", mmio});
    }
  }
}

}  // namespace kiln::bench
