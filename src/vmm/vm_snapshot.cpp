// Vm's snapshot side: save the paused machine (versioned, checksummed plain data; builder_restore.cpp
// rebuilds a VM from it).
#include <chrono>

#include "common/log.h"
#include "snapshot/memory_file.h"
#include "snapshot/msr_list.h"
#include "snapshot/snapshot_file.h"
#include "snapshot/vcpu_state.h"
#include "snapshot/vm_state.h"
#include "vmm/vm.h"
#include "config/vm_config_codec.h"

namespace kiln {
namespace {

namespace tag = snapshot::tag;

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

Status Vm::save_snapshot(const std::string& snapshot_path, const std::string& mem_path) {
  std::lock_guard lock(control_mu_);
  if (!paused_) return fail("a snapshot needs a paused VM: pause it first (PATCH /vm {{\"state\": \"Paused\"}})");
  const auto start = std::chrono::steady_clock::now();
  auto index_list = KILN_TRY_VALUE(kvm_.msr_index_list());
  const auto msrs = snapshot::msrs_to_save(index_list);

  snapshot::SnapshotWriter writer;
  snapshot::Encoder config;
  encode_vm_config(config, config_);
  KILN_TRY(writer.add(tag::kMachineConfig, config.take()));
  auto vm_state = snapshot::save_vm(vm_);
  if (!vm_state) return wrap("VM state", vm_state.error());
  KILN_TRY(writer.add(tag::kVmState, snapshot::encode_vm_state(*vm_state)));
  KILN_TRY(writer.add(tag::kMemoryLayout, snapshot::encode_memory_layout(mem_)));
  for (uint32_t i = 0; i < vcpus_.size(); ++i) {
    // Parked vCPUs left KVM_RUN through a kick, so no I/O exit is half done (pause_gate.h).
    auto state = snapshot::save_vcpu(vcpus_[i]->fd(), msrs, cpuid_[i]);
    if (!state) return wrap(fmt::format("vCPU {}", i), state.error());
    KILN_TRY(writer.add(tag::vcpu(i), snapshot::encode_vcpu_state(*state)));
  }
  auto devices = KILN_TRY_VALUE(devices_.save_all());
  KILN_TRY(writer.add(tag::kDeviceSections, std::move(devices)));

  // Both files are written under temporary names first and renamed only once both are complete:
  // a failure while writing leaves no new file behind and an earlier pair untouched (only a failed
  // rename between the two commits could leave a new memory file beside an old snapshot).
  auto memory = snapshot::stage_memory(mem_, mem_path);
  if (!memory) return wrap(fmt::format("memory file {}", mem_path), memory.error());
  auto state = writer.stage(snapshot_path);
  if (!state) return wrap(fmt::format("snapshot {}", snapshot_path), state.error());
  if (auto ok = memory->commit(); !ok) return wrap(fmt::format("memory file {}", mem_path), ok.error());
  if (auto ok = state->commit(); !ok) return wrap(fmt::format("snapshot {}", snapshot_path), ok.error());
  log("snapshot of {} MiB and {} vCPU(s) written in {:.1f} ms: {} (+ memory {})", mem_.total_size() / MiB,
      vcpus_.size(), ms_since(start), snapshot_path, mem_path);
  return {};
}

}  // namespace kiln
