// Building a VM from a snapshot, in one straight line: the file is read and every field checked
// (configuration, memory layout, VM and vCPU state, CPU compatibility) before anything is built;
// then the VM is assembled from the saved configuration exactly as builder.cpp builds a new one,
// and every piece of state goes in before any vCPU runs. On error the half-built VM is dropped
// unrun.
#include <chrono>

#include "arch/x86_64/layout.h"
#include "common/log.h"
#include "snapshot/cpu_compat.h"
#include "snapshot/memory_file.h"
#include "snapshot/snapshot_file.h"
#include "snapshot/vcpu_state.h"
#include "snapshot/vm_state.h"
#include "vmm/builder.h"
#include "config/vm_config_codec.h"

namespace kiln {
namespace {

namespace tag = snapshot::tag;

bool same_layout(std::span<const MemoryRange> a, std::span<const MemoryRange> b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].start != b[i].start || a[i].size != b[i].size) return false;
  }
  return true;
}

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

Result<std::unique_ptr<Vm>> VmBuilder::restore(const std::string& snapshot_path, const std::string& mem_path,
                                        const RestoreOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const auto in_file = [&](const Error& e) { return wrap(fmt::format("snapshot {}", snapshot_path), e); };
  auto file = KILN_TRY_VALUE(snapshot::read_snapshot(snapshot_path));  // its errors name the file
  const auto section = [&](snapshot::Tag t) { return file.section(t); };

  auto config_bytes = section(tag::kMachineConfig);
  if (!config_bytes) return in_file(config_bytes.error());
  snapshot::Decoder config_in(*config_bytes, "machine configuration");
  auto config = decode_vm_config(config_in);
  if (!config) return in_file(config.error());
  if (auto done = config_in.finish(); !done) return in_file(done.error());
  if (auto moved = apply_disk_paths(*config, options.disk_paths); !moved) return in_file(moved.error());
  if (auto moved = apply_net_taps(config->nets, options.net_taps); !moved) return in_file(moved.error());
  if (auto moved = apply_vsock_uds_path(*config, options.vsock_uds_path); !moved) return in_file(moved.error());

  auto layout_bytes = section(tag::kMemoryLayout);
  if (!layout_bytes) return in_file(layout_bytes.error());
  auto layout = snapshot::decode_memory_layout(*layout_bytes);
  if (!layout) return in_file(layout.error());
  if (!same_layout(*layout, x86::ram_ranges(config->memory_bytes))) {
    return in_file(Error{"its memory layout does not match its memory size"});
  }
  auto vm_bytes = section(tag::kVmState);
  if (!vm_bytes) return in_file(vm_bytes.error());
  auto vm_state = snapshot::decode_vm_state(*vm_bytes);
  if (!vm_state) return in_file(vm_state.error());
  if (file.vcpu_count() != config->vcpus) {
    return in_file(Error{fmt::format("it holds {} vCPU states for {} vCPUs", file.vcpu_count(), config->vcpus)});
  }
  std::vector<snapshot::VcpuState> vcpus;
  for (uint32_t i = 0; i < config->vcpus; ++i) {
    auto bytes = section(tag::vcpu(i));
    if (!bytes) return in_file(bytes.error());
    auto state = snapshot::decode_vcpu_state(*bytes, i);
    if (!state) return in_file(state.error());
    vcpus.push_back(std::move(*state));
  }
  auto device_bytes = section(tag::kDeviceSections);
  if (!device_bytes) return in_file(device_bytes.error());

  const double read_ms = ms_since(start);
  auto kvm = KILN_TRY_VALUE(Kvm::open());
  auto supported = KILN_TRY_VALUE(kvm.supported_cpuid());
  for (const auto& v : vcpus) {
    if (auto ok = snapshot::check_cpu_compatible(v.cpuid, supported); !ok) {
      return in_file(Error{fmt::format("it was taken on a CPU this host cannot stand in for: {}", ok.error().message)});
    }
  }
  auto mem = GuestMemory::map_file(*layout, mem_path);
  if (!mem) return wrap(fmt::format("memory file {}", mem_path), mem.error());

  // Devices are built from the saved configuration (the disks must still be there), then every
  // piece of state goes in before any vCPU runs; on error the half-built VM is dropped unrun.
  const double mapped_ms = ms_since(start);
  auto vm = assemble(*config, std::move(kvm), std::move(*mem));
  if (!vm) return wrap("rebuilding the VM of the snapshot", vm.error());
  const double assembled_ms = ms_since(start);
  Vm& v = **vm;
  if (auto ok = snapshot::restore_vm(v.vm_, *vm_state); !ok) return in_file(ok.error());
  for (uint32_t i = 0; i < vcpus.size(); ++i) {
    if (auto ok = snapshot::restore_vcpu(v.vcpus_[i]->fd(), vcpus[i]); !ok) {
      return in_file(Error{fmt::format("vCPU {}: {}", i, ok.error().message)});
    }
    v.cpuid_[i] = vcpus[i].cpuid;
  }
  // Held until run() (or resume()); the virtio transports come back paused from their state.
  v.pause_devices();
  if (auto ok = v.devices_.restore_all(*device_bytes); !ok) return in_file(ok.error());
  v.announce_on_resume_ = !config->nets.empty();
  const double total_ms = ms_since(start);
  log("restored {} MiB and {} vCPU(s) from {} in {:.1f} ms (file read and checked {:.1f}, KVM and memory "
      "mapped {:.1f}, VM and devices built {:.1f}, state loaded {:.1f})",
      v.mem_.total_size() / MiB, vcpus.size(), snapshot_path, total_ms, read_ms, mapped_ms - read_ms,
      assembled_ms - mapped_ms, total_ms - assembled_ms);
  return vm;
}

}  // namespace kiln
