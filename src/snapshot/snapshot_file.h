// The snapshot file: versioned, checksummed, tagged sections of plain data.
//
// Layout (little-endian):
//   "KILNSNAP"  u32 format version  u32 section count
//   identity:   string vendor, u32 family, u32 model, u32 stepping, string kiln version
//   sections:   { u32 tag, u64 length, length bytes } x count
//   u32 CRC-32 (zlib) of every byte before it
// The frame (magic, version at offset 8, CRC-32 in the last 4 bytes) stays the same in every
// format version, so an older or newer file is named as such rather than as corrupt.
// Guest memory is not in this file: it has its own (memory_file.h).
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "snapshot/atomic_file.h"

namespace kiln::snapshot {

// Version 2: one named, versioned record per device (kDeviceSections) instead of one untagged
// device section (version 1's kDevices).
inline constexpr uint32_t kFormatVersion = 2;
// A snapshot file without guest memory stays small (a few KiB per vCPU, device state).
inline constexpr uint64_t kMaxSnapshotFileBytes = 64ull << 20;

// Section tags. A tag with kOptionalTag set may be skipped by a reader that does not know it;
// any other unknown tag makes the snapshot unreadable (it needs a newer kiln).
using Tag = uint32_t;
namespace tag {
inline constexpr Tag kMachineConfig = 1;  // the VM's configuration (the VMM fills it)
inline constexpr Tag kVmState = 2;        // vm_state.h
inline constexpr Tag kMemoryLayout = 3;   // memory_file.h
inline constexpr Tag kDevices = 4;        // version 1's device state (no longer written)
inline constexpr Tag kDeviceSections = 5; // every device's state, by name (vmm/device_manager.h)
inline constexpr Tag kVcpuBase = 0x100;   // vCPU i: kVcpuBase + i
inline constexpr uint32_t kMaxVcpus = 256;
inline constexpr Tag kOptionalTag = 0x80000000;
[[nodiscard]] constexpr Tag vcpu(uint32_t index) { return kVcpuBase + index; }
}  // namespace tag

// "VM state", "vCPU 2 state", "section 0x1234".
[[nodiscard]] std::string tag_name(Tag tag);

// Where a snapshot was taken: shown to the user, and the vendor is checked on restore.
struct HostIdentity {
  std::string cpu_vendor;  // CPUID leaf 0, "GenuineIntel"
  uint32_t family = 0;     // CPUID leaf 1, with the extended fields folded in
  uint32_t model = 0;
  uint32_t stepping = 0;
  std::string kiln_version;
};
// This host's CPU (CPUID instruction) and this kiln's version.
[[nodiscard]] HostIdentity current_host_identity();
// "GenuineIntel family 6 model 85 stepping 7, kiln 0.1"
[[nodiscard]] std::string describe(const HostIdentity& identity);

class SnapshotWriter {
 public:
  explicit SnapshotWriter(HostIdentity identity = current_host_identity()) : identity_(std::move(identity)) {}

  // Fails for a tag added twice.
  [[nodiscard]] Status add(Tag tag, std::vector<uint8_t> payload);
  [[nodiscard]] std::vector<uint8_t> serialize() const;
  // Writes atomically: a temporary file in the same directory (mode 0600), fsync, rename over
  // `path`, fsync of the directory. `path` is either the old file or the new one, never a mix.
  [[nodiscard]] Status write(const std::string& path) const;
  // The bytes written under the temporary name only: the caller commits (or drops) the file.
  [[nodiscard]] Result<AtomicFile> stage(const std::string& path) const;

 private:
  HostIdentity identity_;
  std::map<Tag, std::vector<uint8_t>> sections_;
};

class SnapshotFile {
 public:
  [[nodiscard]] const HostIdentity& identity() const { return identity_; }
  [[nodiscard]] bool has(Tag tag) const { return sections_.count(tag) != 0; }
  // The section's bytes (valid while this object lives); an error names a missing section.
  [[nodiscard]] Result<std::span<const uint8_t>> section(Tag tag) const;
  // vCPU sections are numbered 0..vcpu_count()-1 without gaps (checked when reading).
  [[nodiscard]] uint32_t vcpu_count() const { return vcpu_count_; }

 private:
  friend Result<SnapshotFile> parse_snapshot(std::vector<uint8_t> bytes, std::string_view name);
  struct Range {
    size_t offset;
    size_t length;
  };
  std::vector<uint8_t> data_;
  HostIdentity identity_;
  std::map<Tag, Range> sections_;
  uint32_t vcpu_count_ = 0;
};

// Reads and checks a snapshot file (at most kMaxSnapshotFileBytes): magic, checksum, format
// version, identity, section bounds, no duplicate or unknown required section, vCPU numbering.
[[nodiscard]] Result<SnapshotFile> read_snapshot(const std::string& path);
// The same checks on bytes in memory; `name` names them in errors.
[[nodiscard]] Result<SnapshotFile> parse_snapshot(std::vector<uint8_t> bytes, std::string_view name);

}  // namespace kiln::snapshot
