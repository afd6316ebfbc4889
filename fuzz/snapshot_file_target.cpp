// Fuzz target: the snapshot reader and every state decoder over untrusted bytes.
#include <zlib.h>

#include <cstring>
#include <vector>

#include "snapshot/memory_file.h"
#include "snapshot/snapshot_file.h"
#include "snapshot/vcpu_state.h"
#include "snapshot/vm_state.h"
#include "targets.h"

namespace kiln::fuzz {
namespace {

using namespace kiln::snapshot;

// A decoder that accepts its input must have consumed all of it, and the encoding is canonical:
// re-encoding gives the same bytes.
void vcpu(std::span<const uint8_t> bytes) {
  auto s = decode_vcpu_state(bytes, 0);
  if (s) check(encode_vcpu_state(*s) == std::vector<uint8_t>(bytes.begin(), bytes.end()), "vCPU state re-encodes");
}

void vm(std::span<const uint8_t> bytes) {
  auto s = decode_vm_state(bytes);
  if (s) check(encode_vm_state(*s) == std::vector<uint8_t>(bytes.begin(), bytes.end()), "VM state re-encodes");
}

void layout(std::span<const uint8_t> bytes) {
  auto ranges = decode_memory_layout(bytes);
  if (!ranges) return;
  check(!ranges->empty() && ranges->size() <= kMaxMemoryRegions, "memory layout region count");
  for (size_t i = 1; i < ranges->size(); ++i) {
    check((*ranges)[i - 1].start.raw() + (*ranges)[i - 1].size <= (*ranges)[i].start.raw(), "memory layout order");
  }
}

void file(std::vector<uint8_t> bytes) {
  const size_t size = bytes.size();
  auto f = parse_snapshot(std::move(bytes), "fuzz input");
  if (!f) return;
  check(f->vcpu_count() <= tag::kMaxVcpus, "vCPU count");
  for (uint32_t i = 0; i < f->vcpu_count(); ++i) {
    auto s = f->section(tag::vcpu(i));
    check(s.has_value() && s->size() <= size, "vCPU section present and inside the file");
    vcpu(*s);
  }
  if (auto s = f->section(tag::kVmState)) vm(*s);
  if (auto s = f->section(tag::kMemoryLayout)) layout(*s);
}

}  // namespace

int snapshot_file(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::span<const uint8_t> rest(data + 1, size - 1);
  switch (data[0] % 5) {
    case 0:  // the file as it is (almost always refused by the checksum)
      file(std::vector<uint8_t>(rest.begin(), rest.end()));
      break;
    case 1: {  // a file body with a valid CRC-32 appended: reaches the section parser
      std::vector<uint8_t> bytes(rest.begin(), rest.end());
      const uint32_t crc = static_cast<uint32_t>(::crc32(0, bytes.data(), static_cast<uInt>(bytes.size())));
      const auto* c = reinterpret_cast<const uint8_t*>(&crc);
      bytes.insert(bytes.end(), c, c + 4);
      file(std::move(bytes));
      break;
    }
    case 2:
      vcpu(rest);
      break;
    case 3:
      vm(rest);
      break;
    default:
      layout(rest);
      break;
  }
  return 0;
}

}  // namespace kiln::fuzz
