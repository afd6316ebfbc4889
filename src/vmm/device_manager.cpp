#include "vmm/device_manager.h"

#include <map>

#include "common/log.h"

namespace kiln {
namespace {

constexpr size_t kMaxName = 128;
constexpr size_t kMaxState = 16 << 20;  // per device; the whole file has its own bound

struct Saved {
  uint32_t version = 0;
  std::span<const uint8_t> state;
};

}  // namespace

Status DeviceManager::add(ManagedDevice device) {
  if (device.name.empty() || device.name.size() > kMaxName) return fail("device name \"{}\" is not usable", device.name);
  for (const auto& d : devices_) {
    if (d.name == device.name) return fail("two devices named \"{}\"", device.name);
  }
  devices_.push_back(std::move(device));
  return {};
}

std::vector<std::string> DeviceManager::names() const {
  std::vector<std::string> out;
  for (const auto& d : devices_) out.push_back(d.name);
  return out;
}

void DeviceManager::pause_all() const {
  for (const auto& d : devices_) {
    if (!d.pause) continue;
    if (auto ok = d.pause(); !ok) log("{}: pause: {} (a snapshot now would be refused)", d.name, ok.error().message);
  }
}

void DeviceManager::resume_all() const {
  for (auto it = devices_.rbegin(); it != devices_.rend(); ++it) {
    if (it->resume) it->resume();
  }
}

Result<std::vector<uint8_t>> DeviceManager::save_all() const {
  snapshot::Encoder out;
  out.u32(static_cast<uint32_t>(devices_.size()));
  for (const auto& d : devices_) {
    snapshot::Encoder state;
    if (d.save) {
      if (auto ok = d.save(state); !ok) return wrap(d.name, ok.error());
    }
    out.string(d.name);
    out.u32(d.version);
    out.bytes(state.data());
  }
  return out.take();
}

Status DeviceManager::restore_all(std::span<const uint8_t> section) const {
  snapshot::Decoder in(section, "device sections");
  auto count = KILN_TRY_VALUE(in.u32());
  if (count > kMaxDevices) return in.invalid(fmt::format("{} devices (at most {})", count, kMaxDevices));
  std::map<std::string, Saved> saved;
  for (uint32_t i = 0; i < count; ++i) {
    auto name = KILN_TRY_VALUE(in.string(kMaxName));
    auto version = KILN_TRY_VALUE(in.u32());
    auto state = KILN_TRY_VALUE(in.bytes(kMaxState));
    if (!saved.emplace(name, Saved{version, state}).second) return fail("the snapshot holds device \"{}\" twice", name);
  }
  KILN_TRY(in.finish());
  for (const auto& d : devices_) {
    auto it = saved.find(d.name);
    if (it == saved.end()) return fail("the snapshot has no device \"{}\", which this VM has", d.name);
    if (it->second.version != d.version) {
      return fail("device \"{}\": the snapshot's state has version {}, this kiln reads version {}", d.name,
                  it->second.version, d.version);
    }
  }
  if (saved.size() != devices_.size()) {
    for (const auto& [name, s] : saved) {
      bool known = false;
      for (const auto& d : devices_) known = known || d.name == name;
      if (!known) return fail("the snapshot has device \"{}\", which this VM does not have", name);
    }
  }
  for (const auto& d : devices_) {
    snapshot::Decoder state(saved[d.name].state, fmt::format("{} state", d.name));
    Status ok = d.restore ? d.restore(state) : Status{};
    if (ok) ok = state.finish();
    if (!ok) {
      for (const auto& r : devices_) {
        if (r.reset) r.reset();
      }
      return wrap(d.name, ok.error());
    }
  }
  return {};
}

}  // namespace kiln
