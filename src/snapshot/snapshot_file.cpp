#include "snapshot/snapshot_file.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>

#include "common/file.h"
#include "snapshot/atomic_file.h"
#include "snapshot/codec.h"

namespace kiln::snapshot {
namespace {

constexpr char kMagic[8] = {'K', 'I', 'L', 'N', 'S', 'N', 'A', 'P'};
constexpr size_t kFrameHeader = 12;  // magic, version
constexpr size_t kTrailer = 4;       // CRC-32
constexpr size_t kMaxSections = 1024;
constexpr size_t kMaxIdentityString = 64;

uint32_t crc32_of(std::span<const uint8_t> data) {
  // kMaxSnapshotFileBytes keeps every length inside zlib's uInt.
  return static_cast<uint32_t>(::crc32(0, data.data(), static_cast<uInt>(data.size())));
}

uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

bool known(Tag t) {
  return t == tag::kMachineConfig || t == tag::kVmState || t == tag::kMemoryLayout || t == tag::kDeviceSections ||
         (t >= tag::kVcpuBase && t < tag::kVcpuBase + tag::kMaxVcpus);
}

Result<std::string> printable_string(Decoder& d, const char* what) {
  auto s = KILN_TRY_VALUE(d.string(kMaxIdentityString));
  if (!std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; })) {
    return d.invalid(fmt::format("the {} holds unprintable bytes", what));
  }
  return s;
}

Result<HostIdentity> decode_identity(Decoder& d) {
  HostIdentity id;
  id.cpu_vendor = KILN_TRY_VALUE(printable_string(d, "CPU vendor"));
  for (uint32_t* field : {&id.family, &id.model, &id.stepping}) {
    *field = KILN_TRY_VALUE(d.u32());
  }
  id.kiln_version = KILN_TRY_VALUE(printable_string(d, "kiln version"));
  return id;
}

}  // namespace

std::string tag_name(Tag t) {
  switch (t) {
    case tag::kMachineConfig:
      return "machine configuration";
    case tag::kVmState:
      return "VM state";
    case tag::kMemoryLayout:
      return "memory layout";
    case tag::kDevices:
      return "version 1 device state";
    case tag::kDeviceSections:
      return "device state";
    default:
      if (t >= tag::kVcpuBase && t < tag::kVcpuBase + tag::kMaxVcpus) return fmt::format("vCPU {} state", t - tag::kVcpuBase);
      return fmt::format("section {:#x}", t);
  }
}

Status SnapshotWriter::add(Tag t, std::vector<uint8_t> payload) {
  if (!sections_.emplace(t, std::move(payload)).second) return fail("snapshot: {} added twice", tag_name(t));
  return {};
}

std::vector<uint8_t> SnapshotWriter::serialize() const {
  Encoder e;
  for (char c : kMagic) e.u8(static_cast<uint8_t>(c));
  e.u32(kFormatVersion);
  e.u32(static_cast<uint32_t>(sections_.size()));
  e.string(identity_.cpu_vendor);
  e.u32(identity_.family);
  e.u32(identity_.model);
  e.u32(identity_.stepping);
  e.string(identity_.kiln_version);
  std::vector<uint8_t> out = e.take();
  for (const auto& [t, payload] : sections_) {
    Encoder s;
    s.u32(t);
    s.u64(payload.size());
    out.insert(out.end(), s.data().begin(), s.data().end());
    out.insert(out.end(), payload.begin(), payload.end());
  }
  const uint32_t crc = crc32_of(out);
  const auto* c = reinterpret_cast<const uint8_t*>(&crc);
  out.insert(out.end(), c, c + sizeof(crc));
  return out;
}

Status SnapshotWriter::write(const std::string& path) const {
  auto file = KILN_TRY_VALUE(stage(path));
  return file.commit();
}

Result<AtomicFile> SnapshotWriter::stage(const std::string& path) const {
  const std::vector<uint8_t> bytes = serialize();
  if (bytes.size() > kMaxSnapshotFileBytes) {
    return fail("snapshot {}: {} bytes is more than the {} a snapshot file may hold", path, bytes.size(), kMaxSnapshotFileBytes);
  }
  auto file = KILN_TRY_VALUE(AtomicFile::create(path));
  KILN_TRY(file.write_at(bytes.data(), bytes.size(), 0));
  return file;
}

Result<std::span<const uint8_t>> SnapshotFile::section(Tag t) const {
  const auto it = sections_.find(t);
  if (it == sections_.end()) return fail_snapshot("the snapshot has no {} section", tag_name(t));
  return std::span<const uint8_t>(data_.data() + it->second.offset, it->second.length);
}

Result<SnapshotFile> read_snapshot(const std::string& path) {
  auto bytes = read_file(path, kMaxSnapshotFileBytes);
  if (!bytes) return wrap("reading snapshot", bytes.error());
  return parse_snapshot(std::move(*bytes), path);
}

Result<SnapshotFile> parse_snapshot(std::vector<uint8_t> bytes, std::string_view name) {
  if (bytes.size() < sizeof(kMagic) || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    return fail_snapshot("{} is not a kiln snapshot (it does not start with \"KILNSNAP\")", name);
  }
  if (bytes.size() > kMaxSnapshotFileBytes) {
    return fail_snapshot("{}: {} bytes is more than a snapshot file may hold ({})", name, bytes.size(),
                         kMaxSnapshotFileBytes);
  }
  if (bytes.size() < kFrameHeader + kTrailer) return fail_snapshot("{} is truncated: {} bytes", name, bytes.size());
  const size_t body = bytes.size() - kTrailer;
  const uint32_t stored = load_u32(bytes.data() + body);
  const uint32_t computed = crc32_of(std::span<const uint8_t>(bytes).first(body));
  if (stored != computed) {
    return fail_snapshot("{} is corrupted, truncated or was tampered with: its CRC-32 is {:#010x}, the file says {:#010x}",
                         name, computed, stored);
  }
  const uint32_t version = load_u32(bytes.data() + sizeof(kMagic));
  if (version != kFormatVersion) {
    return fail_snapshot("{} was made by a kiln with snapshot format version {}; this kiln reads version {}",
                         name, version, kFormatVersion);
  }

  SnapshotFile file;
  Decoder d(std::span<const uint8_t>(bytes).subspan(kFrameHeader, body - kFrameHeader), std::string(name));
  auto count = KILN_TRY_VALUE(d.u32());
  if (count > kMaxSections) return d.invalid(fmt::format("{} sections, more than {}", count, kMaxSections));
  file.identity_ = KILN_TRY_VALUE(decode_identity(d));
  for (uint32_t i = 0; i < count; ++i) {
    auto t = KILN_TRY_VALUE(d.u32());
    auto length = KILN_TRY_VALUE(d.u64());
    if (length > d.remaining()) {
      return d.invalid(fmt::format("{} claims {} bytes, {} are left", tag_name(t), length, d.remaining()));
    }
    auto payload = KILN_TRY_VALUE(d.fixed_bytes(length));
    if (!known(t) && (t & tag::kOptionalTag) == 0) {
      return d.invalid(fmt::format("{} is unknown to this kiln (a snapshot from a newer kiln?)", tag_name(t)));
    }
    const SnapshotFile::Range range{static_cast<size_t>(payload.data() - bytes.data()), payload.size()};
    if (!file.sections_.emplace(t, range).second) return d.invalid(fmt::format("{} appears twice", tag_name(t)));
  }
  KILN_TRY(d.finish());
  // vCPU sections: 0..n-1, no gaps.
  for (const auto& [t, range] : file.sections_) {
    if (t < tag::kVcpuBase || t >= tag::kVcpuBase + tag::kMaxVcpus) continue;
    if (t != tag::vcpu(file.vcpu_count_)) {
      return fail_snapshot("{} is invalid: it has {} but no vCPU {} state", name, tag_name(t), file.vcpu_count_);
    }
    ++file.vcpu_count_;
  }
  file.data_ = std::move(bytes);
  return file;
}

}  // namespace kiln::snapshot
