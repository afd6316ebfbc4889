#include "probe/scenarios/blk_common.h"

#include "probe/lib/report.h"

namespace kiln::probe {

bool read_blk_params(const Context& ctx, BlkParams& p) {
  uint64_t readonly = 0;
  uint64_t indirect = 1;
  uint64_t event_idx = 1;
  uint64_t queue_size = 128;
  if (!ctx.number_in("blk.readonly", 0, 0, 1, readonly) || !ctx.number("blk.expect_sectors", 0, p.expect_sectors) ||
      !ctx.number("blk.sector", 0, p.sector) || !ctx.number_in("blk.indirect", 1, 0, 1, indirect) ||
      !ctx.number_in("blk.event_idx", 1, 0, 1, event_idx) ||
      !ctx.number_in("blk.queue_size", 128, 1, driver::kMaxQueueSize, queue_size) ||
      !ctx.number_in("blk.unsupp_type", 0x40, 0, 0xffffffff, p.unsupp_type) ||
      !ctx.number_in("qd", 1, 1, 256, p.qd) || !ctx.number_in("count", 10000, 1, 1000000000, p.count) ||
      !ctx.number_in("bs", 4096, 512, 65536, p.bs)) {
    return false;
  }
  if (p.bs % driver::blk::kSectorSize != 0) {
    fail("params", "bs=", dec(p.bs), " is not a multiple of 512");
    return false;
  }
  p.readonly = readonly != 0;
  p.indirect = indirect != 0;
  p.event_idx = event_idx != 0;
  p.queue_size = static_cast<uint16_t>(queue_size);
  p.expect_serial = ctx.text("blk.expect_serial", Text{});
  p.bench = ctx.text("blk.bench", Text{});
  if (!p.bench.empty() && !(p.bench == "randread") && !(p.bench == "seqread")) {
    fail("params", "blk.bench=", p.bench, " is not randread or seqread");
    return false;
  }
  const Text transport = ctx.text("blk.transport", Text{"mmio"});
  p.pci = transport == "pci";
  if (!p.pci && !(transport == "mmio")) {
    fail("params", "blk.transport=", transport, " is not mmio or pci");
    return false;
  }
  if (p.pci && p.bench.empty()) {
    fail("params", "blk.transport=pci is for blk.bench only (the functional checks use virtio-mmio)");
    return false;
  }
  return true;
}

template <class Setup>
bool blk_bring_up(const Context& ctx, const BlkParams& p, driver::Arena& arena, Setup& dev, uint16_t queue_size) {
  namespace blk = driver::blk;
  VirtioSetupParams s;
  s.scenario = "blk";
  s.device_id = driver::kDeviceBlock;
  s.wanted = driver::bit(blk::kFeatureReadOnly) | driver::bit(blk::kFeatureFlush) |
             driver::bit(blk::kFeatureBlkSize) | driver::bit(blk::kFeatureSegMax);
  s.indirect = p.indirect;
  s.event_idx = p.event_idx;
  s.queue_size = queue_size;
  if (!dev.bring_up(ctx, s, arena)) return false;
  const uint64_t accepted = dev.accepted();
  const uint32_t seg_max = (accepted & driver::bit(blk::kFeatureSegMax)) != 0 ? dev.transport().config32(blk::kConfigSegMax) : 0;
  const uint32_t blk_size = (accepted & driver::bit(blk::kFeatureBlkSize)) != 0 ? dev.transport().config32(blk::kConfigBlkSize) : 0;
  result("blk.config", "seg_max=", dec(seg_max), " blk_size=", dec(blk_size));
  return true;
}

template bool blk_bring_up<VirtioSetup>(const Context&, const BlkParams&, driver::Arena&, VirtioSetup&, uint16_t);
template bool blk_bring_up<VirtioPciSetup>(const Context&, const BlkParams&, driver::Arena&, VirtioPciSetup&,
                                           uint16_t);

}  // namespace kiln::probe
