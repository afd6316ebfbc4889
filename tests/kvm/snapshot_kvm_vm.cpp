#include "snapshot_kvm_vm.h"

#include <array>

#include "arch/x86_64/platform/cpuid.h"
#include "snapshot/cpu_compat.h"
#include "snapshot/memory_file.h"
#include "snapshot/msr_list.h"
#include "snapshot/snapshot_file.h"

namespace kiln::snapshot::test {

Result<TestVm> make_vm(GuestMemory mem) {
  TestVm t;
  auto kvm = Kvm::open();
  if (!kvm) return tl::unexpected(kvm.error());
  t.kvm = std::make_unique<Kvm>(std::move(*kvm));
  auto vm = t.kvm->create_vm();
  if (!vm) return tl::unexpected(vm.error());
  t.vm = std::make_unique<VmFd>(std::move(*vm));
  KILN_TRY(t.vm->set_identity_map_addr(GuestAddress(0xfeffc000)));
  KILN_TRY(t.vm->set_tss_addr(GuestAddress(0xfeffd000)));
  KILN_TRY(t.vm->create_irqchip());
  KILN_TRY(t.vm->create_pit2(KVM_PIT_SPEAKER_DUMMY));
  t.mem = std::move(mem);
  const auto& r = t.mem.regions().front();
  KILN_TRY(t.vm->set_user_memory_region(0, r.start, r.size, r.mapping.data()));
  auto vcpu = t.vm->create_vcpu(0);
  if (!vcpu) return tl::unexpected(vcpu.error());
  t.vcpu = std::make_unique<VcpuFd>(std::move(*vcpu));
  auto supported = t.kvm->supported_cpuid();
  if (!supported) return tl::unexpected(supported.error());
  x86::CpuidConfig config;
  config.tsc_deadline_timer = t.kvm->check_extension(KVM_CAP_TSC_DEADLINE_TIMER) > 0;
  auto cpuid = x86::build_cpuid(*supported, config, 0);
  if (!cpuid) return tl::unexpected(cpuid.error());
  t.cpuid = *cpuid;
  return t;
}

Result<TestVm> fresh_vm(uint64_t ram_size) {
  const std::array ranges{MemoryRange{GuestAddress(0), ram_size}};
  auto mem = GuestMemory::create(ranges);
  if (!mem) return tl::unexpected(mem.error());
  auto t = make_vm(std::move(*mem));
  if (!t) return t;
  KILN_TRY(t->vcpu->set_cpuid(t->cpuid));
  return t;
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "kiln-kvm-snap-XXXXXX").string();
  path_ = ::mkdtemp(tmpl.data());
}

TempDir::~TempDir() { std::filesystem::remove_all(path_); }

void take_snapshot(TestVm& t, const TempDir& dir) {
  auto index_list = t.kvm->msr_index_list();
  ASSERT_OK(index_list);
  EXPECT_GT(index_list->size(), 10u);
  auto vm_state = save_vm(*t.vm);
  ASSERT_OK(vm_state);
  auto vcpu_state = save_vcpu(*t.vcpu, msrs_to_save(*index_list), t.cpuid);
  ASSERT_OK(vcpu_state);
  SnapshotWriter w;
  ASSERT_OK(w.add(tag::kVmState, encode_vm_state(*vm_state)));
  ASSERT_OK(w.add(tag::kMemoryLayout, encode_memory_layout(t.mem)));
  ASSERT_OK(w.add(tag::vcpu(0), encode_vcpu_state(*vcpu_state)));
  ASSERT_OK(w.write(dir.file("vm.snap")));
  ASSERT_OK(save_memory(t.mem, dir.file("vm.mem")));
}

void restore_snapshot(const TempDir& dir, Restored& out) {
  auto file = read_snapshot(dir.file("vm.snap"));
  ASSERT_OK(file);
  ASSERT_EQ(file->vcpu_count(), 1u);
  auto layout = decode_memory_layout(*file->section(tag::kMemoryLayout));
  ASSERT_OK(layout);
  auto vm_state = decode_vm_state(*file->section(tag::kVmState));
  ASSERT_OK(vm_state);
  auto vcpu_state = decode_vcpu_state(*file->section(tag::vcpu(0)), 0);
  ASSERT_OK(vcpu_state);
  auto mem = GuestMemory::map_file(*layout, dir.file("vm.mem"));
  ASSERT_OK(mem);
  auto t = make_vm(std::move(*mem));
  ASSERT_OK(t);
  auto supported = t->kvm->supported_cpuid();
  ASSERT_OK(supported);
  ASSERT_OK(check_cpu_compatible(vcpu_state->cpuid, *supported));
  ASSERT_OK(restore_vm(*t->vm, *vm_state));
  ASSERT_OK(restore_vcpu(*t->vcpu, *vcpu_state));
  out.vm = std::move(*t);
  out.vcpu = std::move(*vcpu_state);
  out.state = *vm_state;
}

}  // namespace kiln::snapshot::test
