#include "vmm/virtio_state.h"

#include <map>
#include <set>
#include <vector>

#include "common/log.h"

namespace kiln {
namespace {

constexpr uint32_t kFormat = 1;        // this section's layout
constexpr uint32_t kMaxDevices = 256;  // far above what VirtioDevices places
constexpr size_t kMaxKind = 32;
constexpr size_t kMaxId = 256;
constexpr size_t kMaxTransportState = 2 << 20;

struct SavedSlot {
  std::string kind;
  std::string id;
  uint64_t base = 0;
  uint32_t gsi = 0;
  std::span<const uint8_t> state;
};

std::string noun(const std::string& kind, size_t n) {
  const bool one = n == 1;
  if (kind == "blk") return fmt::format("{} {}", n, one ? "disk" : "disks");
  if (kind == "console") return fmt::format("{} {}", n, one ? "virtio console" : "virtio consoles");
  return fmt::format("{} virtio-{} {}", n, kind, one ? "device" : "devices");
}

std::string describe(const std::string& kind, const std::string& id, uint64_t base, uint32_t gsi) {
  const std::string what = kind == "blk" ? (id.empty() ? "a disk" : fmt::format("disk \"{}\"", id))
                                         : fmt::format("virtio-{}", kind);
  return fmt::format("{} at {:#x} (GSI {})", what, base, gsi);
}

Result<std::vector<SavedSlot>> read_slots(snapshot::Decoder& in) {
  auto format = in.u32();
  if (!format) return tl::unexpected(format.error());
  if (*format != kFormat) return in.invalid(fmt::format("virtio state format {} (kiln reads {})", *format, kFormat));
  auto count = in.u32();
  if (!count) return tl::unexpected(count.error());
  if (*count > kMaxDevices) return in.invalid(fmt::format("{} virtio devices", *count));
  std::vector<SavedSlot> saved;
  for (uint32_t i = 0; i < *count; ++i) {
    SavedSlot s;
    auto kind = in.string(kMaxKind);
    if (!kind) return tl::unexpected(kind.error());
    auto id = in.string(kMaxId);
    if (!id) return tl::unexpected(id.error());
    auto base = in.u64();
    if (!base) return tl::unexpected(base.error());
    auto gsi = in.u32();
    if (!gsi) return tl::unexpected(gsi.error());
    auto state = in.bytes(kMaxTransportState);
    if (!state) return tl::unexpected(state.error());
    saved.push_back({std::move(*kind), std::move(*id), *base, *gsi, *state});
  }
  return saved;
}

// The same devices in the same places, or an error saying what differs.
Status match(std::span<const SavedSlot> saved, std::span<const VirtioSlot> slots) {
  std::map<std::string, size_t> saved_count;
  std::map<std::string, size_t> here_count;
  std::set<std::string> kinds;
  for (const auto& s : saved) {
    ++saved_count[s.kind];
    kinds.insert(s.kind);
  }
  for (const auto& s : slots) {
    ++here_count[s.kind];
    kinds.insert(s.kind);
  }
  for (const auto& k : kinds) {
    if (saved_count[k] != here_count[k]) {
      return fail("snapshot has {}, this VM has {}", noun(k, saved_count[k]), here_count[k]);
    }
  }
  for (size_t i = 0; i < slots.size(); ++i) {
    const SavedSlot& s = saved[i];
    const VirtioSlot& h = slots[i];
    if (s.kind != h.kind || s.id != h.id || s.base != h.base.raw() || s.gsi != h.gsi) {
      return fail("virtio device {}: snapshot has {}, this VM has {}", i, describe(s.kind, s.id, s.base, s.gsi),
                  describe(h.kind, h.id, h.base.raw(), h.gsi));
    }
  }
  return {};
}

}  // namespace

void pause_virtio_slots(std::span<const VirtioSlot> slots) {
  for (const auto& s : slots) {
    if (auto ok = s.transport->pause(); !ok) log("{} (a snapshot now would be refused)", ok.error().message);
  }
}

void resume_virtio_slots(std::span<const VirtioSlot> slots) {
  for (const auto& s : slots) s.transport->resume();
}

Status save_virtio_slots(std::span<const VirtioSlot> slots, snapshot::Encoder& out) {
  out.u32(kFormat);
  out.u32(static_cast<uint32_t>(slots.size()));
  for (const auto& s : slots) {
    snapshot::Encoder state;
    KILN_TRY(s.transport->save_state(state));
    out.string(s.kind);
    out.string(s.id);
    out.u64(s.base.raw());
    out.u32(s.gsi);
    out.bytes(state.data());
  }
  return {};
}

Status restore_virtio_slots(std::span<const VirtioSlot> slots, snapshot::Decoder& in) {
  auto saved = read_slots(in);
  if (!saved) return tl::unexpected(saved.error());
  KILN_TRY(match(*saved, slots));
  for (size_t i = 0; i < slots.size(); ++i) {
    const VirtioSlot& s = slots[i];
    snapshot::Decoder state((*saved)[i].state, fmt::format("virtio device {} ({}) state", i, describe(s.kind, s.id, s.base.raw(), s.gsi)));
    auto ok = s.transport->restore_state(state);
    if (ok) ok = state.finish();
    if (!ok) {
      for (const auto& t : slots) t.transport->reset();  // no device half-restored, none running
      return ok;
    }
  }
  return {};
}

}  // namespace kiln
