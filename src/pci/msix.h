// MSI-X for one PCI function (PCI Local Bus 3.0, 6.8.2): the vector table and pending bit array
// the function exposes in a memory BAR, and the capability's two control bits. The table holds
// what the guest wrote (address, data, per-vector mask); fire(v) either delivers vector v through
// the MsiSink or, while the vector or the whole function is masked, sets its pending bit, which is
// delivered (and cleared) the moment the vector becomes unmasked (6.8.3.4).
//
// Delivery goes through routes: when a vector becomes live (MSI-X enabled, function and vector
// unmasked) or a live vector's message is rewritten, the sink is told its message (KVM: a GSI
// route) unless it already has it; a vector masked while the guest rewrites it costs nothing.
//
// Table accesses are aligned DWORDs or QWORDs (6.8.2: software must not do anything else);
// others, and anything beyond the table or PBA, are ignored (reads 0). The PBA is read-only.
// Thread safety: one mutex; fire() is called from device threads, the rest from vCPU threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "common/result.h"
#include "snapshot/codec.h"

namespace kiln::pci {

inline constexpr uint8_t kCapabilityMsix = 0x11;
// Message Control (6.8.2.3).
inline constexpr uint16_t kMsixTableSizeMask = 0x7ff;  // N - 1
inline constexpr uint16_t kMsixFunctionMask = 1 << 14;
inline constexpr uint16_t kMsixEnable = 1 << 15;
// Vector Control (6.8.2.9).
inline constexpr uint32_t kMsixVectorMasked = 1;
inline constexpr uint64_t kMsixEntrySize = 16;
inline constexpr uint16_t kMsixMaxVectors = 2048;

struct MsiMessage {
  uint64_t address = 0;
  uint32_t data = 0;
  bool operator==(const MsiMessage&) const = default;
};

class MsiSink {
 public:
  virtual ~MsiSink() = default;
  // From now on vector `vector` sends `message` (called with the table's lock held).
  virtual void set_route(uint16_t vector, const MsiMessage& message) = 0;
  // Send vector `vector` through its route.
  virtual void signal(uint16_t vector) = 0;
};

class MsixTable {
 public:
  // 1..kMsixMaxVectors vectors, all masked, MSI-X disabled (the state after reset).
  MsixTable(uint16_t vectors, std::shared_ptr<MsiSink> sink);

  [[nodiscard]] uint16_t size() const { return static_cast<uint16_t>(entries_.size()); }
  [[nodiscard]] uint64_t table_bytes() const { return entries_.size() * kMsixEntrySize; }
  [[nodiscard]] uint64_t pba_bytes() const { return pba_.size() * 8; }

  // Accesses at `offset` into the table / the PBA.
  void table_read(uint64_t offset, std::span<uint8_t> data);
  void table_write(uint64_t offset, std::span<const uint8_t> data);
  void pba_read(uint64_t offset, std::span<uint8_t> data);

  // Message Control's MSI-X Enable and Function Mask bits, as the guest set them.
  void set_control(bool enabled, bool function_masked);
  [[nodiscard]] bool enabled() const { return enabled_.load(std::memory_order_acquire); }

  // Delivers `vector` now, or marks it pending while it is masked. Ignored while MSI-X is off and
  // for a vector beyond the table (the caller checks what it hands out).
  void fire(uint16_t vector);
  [[nodiscard]] bool pending(uint16_t vector);
  [[nodiscard]] bool masked(uint16_t vector);
  // Every entry masked and zeroed, nothing pending, disabled (a function reset).
  void reset();

  // Snapshot support: the table and PBA (the control bits live in configuration space, which
  // the caller restores through set_control afterwards). restore_state() checks sizes and flags.
  void save_state(snapshot::Encoder& out);
  [[nodiscard]] Status restore_state(snapshot::Decoder& in);

 private:
  struct Entry {
    uint32_t address_lo = 0;
    uint32_t address_hi = 0;
    uint32_t data = 0;
    uint32_t control = kMsixVectorMasked;
  };
  [[nodiscard]] bool live_locked(uint16_t v) const;
  void route_locked(uint16_t v);  // tells the sink v's message unless it has it
  void route_live_locked();
  void deliver_locked(uint16_t v);
  void flush_pending_locked();  // delivers every pending vector that is no longer masked

  const std::shared_ptr<MsiSink> sink_;
  std::mutex mu_;
  std::vector<Entry> entries_;
  std::vector<uint64_t> pba_;
  std::vector<std::optional<MsiMessage>> routed_;  // what the sink was last told per vector
  bool function_masked_ = false;
  std::atomic<bool> enabled_{false};
};

}  // namespace kiln::pci
