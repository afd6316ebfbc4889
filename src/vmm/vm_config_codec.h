// VmConfig as snapshot data: a restored VM is rebuilt with the devices, memory size and vCPU
// count the snapshot was taken with. Decoding treats the bytes as untrusted.
#pragma once

#include "common/result.h"
#include "snapshot/codec.h"
#include "vmm/vm_config.h"

namespace kiln {

void encode_vm_config(snapshot::Encoder& out, const VmConfig& config);
[[nodiscard]] Result<VmConfig> decode_vm_config(snapshot::Decoder& in);

}  // namespace kiln
