// VmConfig as snapshot data: a restored VM is rebuilt with the devices, memory size and vCPU
// count the snapshot was taken with. Decoding treats the bytes as untrusted.
//
// The section has no version of its own: each later addition is a trailing record that older
// snapshots lack and that decodes to what those kilns did (the machine-wide transport byte: mmio;
// the interfaces; vsock: none; per-device transports: each device on the machine's default).
#pragma once

#include "common/result.h"
#include "config/vm_config.h"
#include "snapshot/codec.h"

namespace kiln {

void encode_vm_config(snapshot::Encoder& out, const VmConfig& config);
[[nodiscard]] Result<VmConfig> decode_vm_config(snapshot::Decoder& in);
// The vsock part (a trailing record: snapshots from before vsock have none).
void encode_vsock_config(snapshot::Encoder& out, const std::optional<VsockConfig>& vsock);
[[nodiscard]] Result<std::optional<VsockConfig>> decode_vsock_config(snapshot::Decoder& in);
// Each virtio device's own transport (a trailing record, after vsock): a u32 count, one per
// device in virtio_placements() order, then a u8 each (0: the machine's default, 1: mmio, 2: pci).
void encode_device_transports(snapshot::Encoder& out, const VmConfig& config);
// Fills the devices `config` already has; nothing when the record is absent.
[[nodiscard]] Status decode_device_transports(snapshot::Decoder& in, VmConfig& config);

}  // namespace kiln
