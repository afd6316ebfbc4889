#include "pci/msix.h"

#include <cstring>

namespace kiln::pci {
namespace {

constexpr uint32_t kFormat = 1;

// An aligned DWORD or QWORD (6.8.2): everything else is ignored.
bool aligned_access(uint64_t offset, size_t size) { return (size == 4 || size == 8) && offset % size == 0; }

}  // namespace

MsixTable::MsixTable(uint16_t vectors, std::shared_ptr<MsiSink> sink)
    : sink_(std::move(sink)),
      entries_(vectors),
      pba_((vectors + 63) / 64),
      routed_(vectors) {}

bool MsixTable::live_locked(uint16_t v) const {
  return enabled_.load(std::memory_order_relaxed) && !function_masked_ &&
         (entries_[v].control & kMsixVectorMasked) == 0;
}

void MsixTable::route_locked(uint16_t v) {
  const Entry& e = entries_[v];
  const MsiMessage message{uint64_t{e.address_hi} << 32 | e.address_lo, e.data};
  if (routed_[v] != message) {
    sink_->set_route(v, message);
    routed_[v] = message;
  }
}

void MsixTable::deliver_locked(uint16_t v) {
  route_locked(v);
  sink_->signal(v);
}

void MsixTable::route_live_locked() {
  for (uint16_t v = 0; v < entries_.size(); ++v) {
    if (live_locked(v)) route_locked(v);
  }
}

void MsixTable::flush_pending_locked() {
  for (uint16_t v = 0; v < entries_.size(); ++v) {
    uint64_t& word = pba_[v / 64];
    const uint64_t bit = uint64_t{1} << (v % 64);
    if ((word & bit) == 0 || !live_locked(v)) continue;
    word &= ~bit;
    deliver_locked(v);
  }
}

void MsixTable::table_read(uint64_t offset, std::span<uint8_t> data) {
  std::memset(data.data(), 0, data.size());
  if (!aligned_access(offset, data.size()) || offset >= table_bytes()) return;
  std::lock_guard lock(mu_);
  const Entry& e = entries_[offset / kMsixEntrySize];
  const uint32_t words[4] = {e.address_lo, e.address_hi, e.data, e.control};
  std::memcpy(data.data(), &words[offset % kMsixEntrySize / 4], data.size());
}

void MsixTable::table_write(uint64_t offset, std::span<const uint8_t> data) {
  if (!aligned_access(offset, data.size()) || offset >= table_bytes()) return;
  std::lock_guard lock(mu_);
  const auto v = static_cast<uint16_t>(offset / kMsixEntrySize);
  Entry& e = entries_[v];
  uint32_t* words[4] = {&e.address_lo, &e.address_hi, &e.data, &e.control};
  for (size_t i = 0; i < data.size() / 4; ++i) {
    uint32_t value = 0;
    std::memcpy(&value, data.data() + 4 * i, 4);
    const size_t word = offset % kMsixEntrySize / 4 + i;
    // Vector Control: only the mask bit is defined; the rest is reserved (reads 0).
    *words[word] = word == 3 ? (value & kMsixVectorMasked) : value;
  }
  if (live_locked(v)) route_locked(v);  // a live vector's new message takes effect at once
  // An unmasked vector with its pending bit set is delivered now (6.8.3.4).
  flush_pending_locked();
}

void MsixTable::pba_read(uint64_t offset, std::span<uint8_t> data) {
  std::memset(data.data(), 0, data.size());
  if (!aligned_access(offset, data.size()) || offset >= pba_bytes()) return;
  std::lock_guard lock(mu_);
  const uint64_t word = pba_[offset / 8];
  std::memcpy(data.data(), reinterpret_cast<const uint8_t*>(&word) + offset % 8, data.size());
}

void MsixTable::set_control(bool enabled, bool function_masked) {
  std::lock_guard lock(mu_);
  enabled_.store(enabled, std::memory_order_release);
  function_masked_ = function_masked;
  route_live_locked();  // also what a restore relies on: every live vector routed before it runs
  flush_pending_locked();
}

void MsixTable::fire(uint16_t vector) {
  if (vector >= entries_.size()) return;
  std::lock_guard lock(mu_);
  if (!enabled_.load(std::memory_order_relaxed)) return;
  if (live_locked(vector)) {
    deliver_locked(vector);
  } else {
    pba_[vector / 64] |= uint64_t{1} << (vector % 64);
  }
}

bool MsixTable::pending(uint16_t vector) {
  std::lock_guard lock(mu_);
  return vector < entries_.size() && (pba_[vector / 64] >> (vector % 64) & 1) != 0;
}

bool MsixTable::masked(uint16_t vector) {
  std::lock_guard lock(mu_);
  return vector < entries_.size() && (entries_[vector].control & kMsixVectorMasked) != 0;
}

void MsixTable::reset() {
  std::lock_guard lock(mu_);
  for (auto& e : entries_) e = Entry{};
  for (auto& w : pba_) w = 0;
  function_masked_ = false;
  enabled_.store(false, std::memory_order_release);
}

void MsixTable::save_state(snapshot::Encoder& out) {
  std::lock_guard lock(mu_);
  out.u32(kFormat);
  out.u32(static_cast<uint32_t>(entries_.size()));
  for (const Entry& e : entries_) {
    out.u32(e.address_lo);
    out.u32(e.address_hi);
    out.u32(e.data);
    out.u32(e.control);
  }
  for (uint64_t w : pba_) out.u64(w);
}

Status MsixTable::restore_state(snapshot::Decoder& in) {
  auto format = KILN_TRY_VALUE(in.u32());
  if (format != kFormat) return in.invalid(fmt::format("MSI-X state format {} (kiln reads {})", format, kFormat));
  auto count = KILN_TRY_VALUE(in.u32());
  if (count != entries_.size()) return in.invalid(fmt::format("{} MSI-X vectors saved, the function has {}", count, entries_.size()));
  std::vector<Entry> entries(entries_.size());
  for (Entry& e : entries) {
    for (uint32_t* field : {&e.address_lo, &e.address_hi, &e.data, &e.control}) {
      *field = KILN_TRY_VALUE(in.u32());
    }
    if ((e.control & ~kMsixVectorMasked) != 0) return in.invalid(fmt::format("MSI-X vector control {:#x}", e.control));
  }
  std::vector<uint64_t> pba(pba_.size());
  for (uint64_t& w : pba) {
    w = KILN_TRY_VALUE(in.u64());
  }
  const size_t tail = entries_.size() % 64;
  if (tail != 0 && (pba.back() >> tail) != 0) return in.invalid("MSI-X pending bits beyond the table");
  std::lock_guard lock(mu_);
  entries_ = std::move(entries);
  pba_ = std::move(pba);
  for (auto& r : routed_) r.reset();  // routes are made again when a vector is next delivered
  return {};
}

}  // namespace kiln::pci
