#include "kvm/kvm.h"

#include <fcntl.h>
#include <sys/ioctl.h>

#include <algorithm>

#include "kvm/kvm_error.h"

namespace kiln {

std::vector<Capability> required_capabilities() {
  return {
      {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
      {KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR"},
      {KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID"},
      {KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP"},
      {KVM_CAP_PIT2, "KVM_CAP_PIT2"},
      {KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD"},
      {KVM_CAP_IRQFD, "KVM_CAP_IRQFD"},
      {KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"},
      {KVM_CAP_SET_IDENTITY_MAP_ADDR, "KVM_CAP_SET_IDENTITY_MAP_ADDR"},
  };
}

Result<Kvm> Kvm::open(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd) {
    const int err = errno;
    if (err == ENOENT) {
      return kvm_fail("{} does not exist: this host has no KVM; load kvm_intel or kvm_amd (modprobe), "
                      "or run kiln on a host with virtualization enabled",
                      path);
    }
    if (err == EACCES || err == EPERM) {
      return kvm_fail("no permission to open {}: add your user to the 'kvm' group (usermod -aG kvm $USER) "
                      "or run as root",
                      path);
    }
    return kvm_errno(fmt::format("opening {}", path), err);
  }
  const int version = ::ioctl(fd.get(), KVM_GET_API_VERSION, 0);
  if (version != KVM_API_VERSION) {
    return kvm_fail("{} speaks KVM API version {}, kiln needs {}", path, version, KVM_API_VERSION);
  }
  return Kvm(std::move(fd));
}

int Kvm::check_extension(long cap) const {
  const int r = ::ioctl(fd_.get(), KVM_CHECK_EXTENSION, cap);
  return r < 0 ? 0 : r;
}

Status Kvm::check_required_capabilities() const {
  for (const auto& cap : required_capabilities()) {
    if (check_extension(cap.id) <= 0) {
      return kvm_fail("this KVM lacks {}, which kiln needs; use a newer host kernel", cap.name);
    }
  }
  return {};
}

int Kvm::max_vcpus() const {
  const int max = check_extension(KVM_CAP_MAX_VCPUS);
  if (max > 0) return max;
  const int recommended = check_extension(KVM_CAP_NR_VCPUS);
  return recommended > 0 ? recommended : 4;  // kvm/api.txt 4.7: assume 4 when unreported
}

Result<size_t> Kvm::vcpu_mmap_size() const {
  const int size = ::ioctl(fd_.get(), KVM_GET_VCPU_MMAP_SIZE, 0);
  if (size < 0) return kvm_errno("KVM_GET_VCPU_MMAP_SIZE");
  if (static_cast<size_t>(size) < sizeof(kvm_run)) return kvm_fail("KVM_GET_VCPU_MMAP_SIZE returned {}", size);
  return static_cast<size_t>(size);
}

Result<std::vector<kvm_cpuid_entry2>> Kvm::supported_cpuid() const {
  // The ioctl fails with E2BIG while the buffer is too small (kvm/api.txt 4.46).
  for (uint32_t n = 64; n <= 4096; n *= 2) {
    std::vector<uint8_t> buf(sizeof(kvm_cpuid2) + n * sizeof(kvm_cpuid_entry2));
    auto* cpuid = reinterpret_cast<kvm_cpuid2*>(buf.data());
    cpuid->nent = n;
    if (::ioctl(fd_.get(), KVM_GET_SUPPORTED_CPUID, cpuid) == 0) {
      return std::vector<kvm_cpuid_entry2>(cpuid->entries, cpuid->entries + cpuid->nent);
    }
    if (errno != E2BIG) return kvm_errno("KVM_GET_SUPPORTED_CPUID");
  }
  return kvm_fail("KVM_GET_SUPPORTED_CPUID: more than 4096 entries");
}

namespace {

// The two-call protocol of kvm/api.txt 4.3: a call with nmsrs too small fails with E2BIG and sets
// nmsrs to the size needed; the list may grow between calls (it does not today), hence the loop.
Result<std::vector<uint32_t>> read_msr_list(int fd, unsigned long request, const char* name) {
  uint32_t capacity = 0;
  for (int attempt = 0; attempt < 4; ++attempt) {
    std::vector<uint32_t> buf(1 + capacity);  // kvm_msr_list: u32 nmsrs, u32 indices[]
    buf[0] = capacity;
    if (::ioctl(fd, request, buf.data()) == 0) {
      const uint32_t n = std::min(buf[0], capacity);
      return std::vector<uint32_t>(buf.begin() + 1, buf.begin() + 1 + n);
    }
    if (errno != E2BIG) return kvm_errno(name);
    if (buf[0] <= capacity || buf[0] > 65536) return kvm_fail("{}: KVM asked for {} entries", name, buf[0]);
    capacity = buf[0];
  }
  return kvm_fail("{}: the list kept growing", name);
}

}  // namespace

Result<std::vector<uint32_t>> Kvm::msr_index_list() const {
  return read_msr_list(fd_.get(), KVM_GET_MSR_INDEX_LIST, "KVM_GET_MSR_INDEX_LIST");
}

Result<std::vector<uint32_t>> Kvm::msr_feature_index_list() const {
  if (check_extension(KVM_CAP_GET_MSR_FEATURES) <= 0) return std::vector<uint32_t>{};
  return read_msr_list(fd_.get(), KVM_GET_MSR_FEATURE_INDEX_LIST, "KVM_GET_MSR_FEATURE_INDEX_LIST");
}

Result<VmFd> Kvm::create_vm() const {
  int fd = -1;
  do {
    fd = ::ioctl(fd_.get(), KVM_CREATE_VM, 0);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return kvm_errno("KVM_CREATE_VM");
  auto mmap_size = KILN_TRY_VALUE(vcpu_mmap_size());
  return VmFd(UniqueFd(fd), mmap_size);
}

}  // namespace kiln
