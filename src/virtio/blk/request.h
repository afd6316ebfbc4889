// Decoding one virtio-blk request (virtio 0.9.5, Appendix D "Device Operation") from a checked
// descriptor chain: the header from the device-readable part, the status byte as the last byte
// of the device-writable part, the data in between. Everything the guest could get wrong is
// decided here, before any I/O: the device then either completes the request at once with the
// status decided here, or hands the data iovecs to its IoEngine.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "memory/guest_memory.h"
#include "virtio/blk/blk_spec.h"
#include "virtio/queue/descriptor_chain.h"

namespace kiln::virtio::blk {

// What the device knows of its disk when it decodes a request.
struct DiskInfo {
  uint64_t capacity_sectors = 0;
  bool readonly = false;
};

enum class RequestOp {
  kComplete,  // nothing to do: report `status` now
  kRead,      // T_IN: read data_len bytes at `offset` into `data`
  kWrite,     // T_OUT: write them
  kFlush,     // T_FLUSH
  kGetId,     // T_GET_ID: copy the serial into `data`
};

struct BlockRequest {
  RequestOp op = RequestOp::kComplete;
  uint8_t status = kStatusOk;      // for kComplete
  uint8_t* status_byte = nullptr;  // host view of the status byte; null: the chain has no writable byte
  uint64_t offset = 0;             // bytes into the image
  uint64_t data_len = 0;
  std::vector<iovec> data;         // host views of the data buffers (guest RAM)
  std::string_view problem;        // why the request failed, for the log (static strings)
};

// Never fails: a request kiln cannot serve is a kComplete with IOERR or UNSUPP (or, without a
// status byte, one the device returns unused).
[[nodiscard]] BlockRequest decode_request(const GuestMemory& mem, const DescriptorChain& chain, const DiskInfo& disk);

}  // namespace kiln::virtio::blk
