#include "api/vm_resources.h"

#include <algorithm>

namespace kiln::api {
namespace {

// mem_size_mib is checked in bytes; anything above 2^44 MiB would overflow and is far too much.
constexpr uint64_t kMaxMemSizeMib = 1ull << 44;

Status check_machine(const MachineConfig& m, const HostLimits& host) {
  KILN_TRY(check_vcpu_count(fmt::format("vcpu_count {}", m.vcpu_count), m.vcpu_count));
  const std::string what = fmt::format("mem_size_mib {}", m.mem_size_mib);
  if (m.mem_size_mib > kMaxMemSizeMib) return fail("{}: more than any host's RAM", what);
  KILN_TRY(check_memory_bytes(what, m.mem_size_mib << 20, host));
  if (m.cpu_template) KILN_TRY(check_cpu_template("cpu_template", *m.cpu_template));
  return {};
}

Status check_boot_files(const BootSource& boot) {
  KILN_TRY(check_readable_file("kernel_image_path", boot.kernel_image_path));
  if (boot.initrd_path) KILN_TRY(check_readable_file("initrd_path", *boot.initrd_path));
  return {};
}

}  // namespace

VmResources VmResources::from_vm_config(const VmConfig& config) {
  VmResources r;
  r.boot_ = BootSource{config.kernel_path, config.initrd_path, config.cmdline};
  r.machine_.vcpu_count = config.vcpus;
  r.machine_.mem_size_mib = config.memory_bytes >> 20;
  r.machine_.cpu_template = config.cpu_template;
  // Shown only when it differs from kiln's default, as machine-config without it means mmio.
  if (config.virtio_transport == VirtioTransport::kPci) r.machine_.transport = VirtioTransport::kPci;
  for (size_t i = 0; i < config.disks.size(); ++i) {
    const DiskConfig& disk = config.disks[i];
    Drive d;
    d.drive_id = drive_id(config, i);
    d.path_on_host = disk.path;
    d.is_read_only = disk.readonly;
    d.transport = disk.transport;
    r.drives_.push_back(std::move(d));
  }
  r.nets_ = config.nets;
  if (config.rng) r.entropy_ = Entropy{config.rng_transport};
  r.vsock_ = config.vsock;
  r.boot_specific_ = true;
  return r;
}

void VmResources::adopt_vm_config(const VmConfig& config) {
  VmResources restored = from_vm_config(config);
  restored.logger_ = std::move(logger_);
  restored.metrics_ = std::move(metrics_);
  *this = std::move(restored);
}

Status VmResources::set_boot_source(BootSource boot) {
  KILN_TRY(check_boot_files(boot));
  boot_ = std::move(boot);
  boot_specific_ = true;
  return {};
}

Status VmResources::set_machine_config(const MachineConfig& machine, const HostLimits& host) {
  KILN_TRY(check_machine(machine, host));
  machine_ = machine;
  boot_specific_ = true;
  return {};
}

Status VmResources::update_machine_config(const MachineConfigUpdate& update, const HostLimits& host) {
  MachineConfig next = machine_;
  if (update.vcpu_count) next.vcpu_count = *update.vcpu_count;
  if (update.mem_size_mib) next.mem_size_mib = *update.mem_size_mib;
  if (update.cpu_template) next.cpu_template = *update.cpu_template;
  if (update.transport) next.transport = *update.transport;
  return set_machine_config(next, host);
}

Status VmResources::insert_drive(Drive drive) {
  KILN_TRY(check_resource_id(drive.drive_id));
  KILN_TRY(check_disk_path("path_on_host", drive.path_on_host));
  const auto it = std::find_if(drives_.begin(), drives_.end(), [&](const Drive& d) { return d.drive_id == drive.drive_id; });
  const bool has_root = !drives_.empty() && drives_.front().is_root_device;
  if (drive.is_root_device && has_root && it != drives_.begin()) return fail("A root block device already exists!");
  const bool root = drive.is_root_device;
  if (it == drives_.end()) {
    if (root) {
      drives_.insert(drives_.begin(), std::move(drive));
    } else {
      drives_.push_back(std::move(drive));
    }
  } else {
    *it = std::move(drive);
    if (root) std::iter_swap(drives_.begin(), it);
  }
  boot_specific_ = true;
  return {};
}

Status VmResources::insert_network_interface(NetConfig net) {
  KILN_TRY(check_resource_id(net.id));
  KILN_TRY(check_net_config("network interface", net));
  for (const NetConfig& other : nets_) {
    if (other.id == net.id) continue;
    if (other.host_dev_name == net.host_dev_name) return fail("The host device name {} is already in use.", net.host_dev_name);
    if (net.guest_mac && effective_mac(other) == effective_mac(net)) {
      return fail("The guest MAC address {} is already in use.", *net.guest_mac);
    }
  }
  const auto it = std::find_if(nets_.begin(), nets_.end(), [&](const NetConfig& n) { return n.id == net.id; });
  if (it != nets_.end()) {
    *it = std::move(net);
  } else {
    if (nets_.size() >= kMaxNets) return fail("kiln supports at most {} network interfaces", kMaxNets);
    nets_.push_back(std::move(net));
  }
  boot_specific_ = true;
  return {};
}

std::optional<size_t> VmResources::drive_index(std::string_view drive_id) const {
  for (size_t i = 0; i < drives_.size(); ++i) {
    if (drives_[i].drive_id == drive_id) return i;
  }
  return std::nullopt;
}

Result<VmConfig> VmResources::build(const HostLimits& host) const {
  if (!boot_) return fail("Cannot start microvm without kernel configuration.");
  KILN_TRY(check_boot_files(*boot_));
  KILN_TRY(check_machine(machine_, host));
  VmConfig config;
  config.kernel_path = boot_->kernel_image_path;
  config.initrd_path = boot_->initrd_path;
  if (boot_->boot_args) config.cmdline = *boot_->boot_args;
  config.memory_bytes = machine_.mem_size_mib << 20;
  config.vcpus = static_cast<uint32_t>(machine_.vcpu_count);
  config.cpu_template = machine_.cpu_template;
  config.virtio_transport = machine_.transport.value_or(VirtioTransport::kMmio);
  for (const Drive& d : drives_) {
    KILN_TRY(check_disk_path(fmt::format("drive {}: path_on_host", d.drive_id), d.path_on_host));
    DiskConfig disk;
    disk.id = d.drive_id;
    disk.path = d.path_on_host;
    disk.readonly = d.is_read_only;
    disk.transport = d.transport;
    config.disks.push_back(std::move(disk));
  }
  if (!drives_.empty() && drives_.front().is_root_device) {
    const Drive& root = drives_.front();
    const std::string device = root.partuuid ? "PARTUUID=" + *root.partuuid : std::string("/dev/vda");
    config.cmdline += fmt::format("{}root={} {}", config.cmdline.empty() ? "" : " ", device, root.is_read_only ? "ro" : "rw");
  }
  config.rng = entropy_.has_value();
  if (entropy_) config.rng_transport = entropy_->transport;
  config.nets = nets_;
  KILN_TRY(check_net_configs(config.nets));
  config.vsock = vsock_;
  return config;
}

Json VmResources::to_json() const {
  Json j = Json::object();
  if (boot_) j["boot-source"] = api::to_json(*boot_);
  j["machine-config"] = api::to_json(machine_);
  j["drives"] = Json::array();
  for (const Drive& d : drives_) j["drives"].push_back(api::to_json(d));
  j["network-interfaces"] = Json::array();
  for (const NetConfig& n : nets_) j["network-interfaces"].push_back(api::to_json(n));
  if (entropy_) j["entropy"] = api::to_json(*entropy_);
  if (vsock_) j["vsock"] = api::to_json(*vsock_);
  if (logger_) j["logger"] = api::to_json(*logger_);
  if (metrics_) j["metrics"] = api::to_json(*metrics_);
  return j;
}

}  // namespace kiln::api
