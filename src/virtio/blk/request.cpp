#include "virtio/blk/request.h"

#include <climits>

#include "virtio/queue/chain_io.h"

namespace kiln::virtio::blk {
namespace {

BlockRequest failed(BlockRequest r, uint8_t status, std::string_view problem) {
  r.op = RequestOp::kComplete;
  r.status = status;
  r.data.clear();
  r.data_len = 0;
  r.problem = problem;
  return r;
}

// Data iovecs of `len` bytes from a cursor, or an empty vector when they cannot be taken.
bool take_data(SegmentCursor& cursor, uint64_t len, BlockRequest& r) {
  auto iov = cursor.take_iovecs(len);
  if (!iov) return false;
  r.data = std::move(*iov);
  r.data_len = len;
  return true;
}

}  // namespace

BlockRequest decode_request(const GuestMemory& mem, const DescriptorChain& chain, const DiskInfo& disk) {
  BlockRequest r;
  // "The final status byte is written by the device": the last device-writable byte.
  const uint64_t writable = chain.writable_bytes();
  if (writable == 0) return failed(std::move(r), kStatusIoErr, "no status byte");
  ChainWriter status_cursor(mem, chain);
  if (!status_cursor.skip(writable - 1)) return failed(std::move(r), kStatusIoErr, "no status byte");
  auto status = status_cursor.take_iovecs(1);
  if (!status || status->size() != 1) return failed(std::move(r), kStatusIoErr, "no status byte");
  r.status_byte = static_cast<uint8_t*>((*status)[0].iov_base);

  ChainReader reader(mem, chain);
  if (reader.remaining() < sizeof(RequestHeader)) return failed(std::move(r), kStatusIoErr, "header shorter than 16 bytes");
  auto header = reader.read_obj<RequestHeader>();
  if (!header) return failed(std::move(r), kStatusIoErr, "header unreadable");

  ChainWriter writer(mem, chain);
  switch (header->type) {
    case kTypeIn:
      if (!take_data(writer, writable - 1, r)) return failed(std::move(r), kStatusIoErr, "read buffers unusable");
      r.op = RequestOp::kRead;
      break;
    case kTypeOut:
      if (disk.readonly) return failed(std::move(r), kStatusIoErr, "write to a read-only disk");
      if (!take_data(reader, reader.remaining(), r)) return failed(std::move(r), kStatusIoErr, "write buffers unusable");
      r.op = RequestOp::kWrite;
      break;
    case kTypeFlush:
    case kTypeFlushOut:  // "the device does not distinguish between them"
      r.op = RequestOp::kFlush;
      return r;
    case kTypeGetId:
      if (!take_data(writer, writable - 1, r)) return failed(std::move(r), kStatusIoErr, "ID buffer unusable");
      r.op = RequestOp::kGetId;
      return r;
    default:
      return failed(std::move(r), kStatusUnsupp, "unsupported request type");
  }

  // Reads and writes: whole sectors, inside the disk (overflow-safe: sector <= capacity first).
  if (r.data_len % kSectorSize != 0) return failed(std::move(r), kStatusIoErr, "data length not a multiple of 512");
  const uint64_t sectors = r.data_len >> kSectorShift;
  if (header->sector > disk.capacity_sectors || sectors > disk.capacity_sectors - header->sector) {
    return failed(std::move(r), kStatusIoErr, "sectors beyond the end of the disk");
  }
  if (r.data.size() > IOV_MAX) return failed(std::move(r), kStatusIoErr, "more data segments than a readv takes");
  r.offset = header->sector << kSectorShift;
  if (r.data_len == 0) {  // nothing to move; the range is valid
    r.data.clear();
    r.op = RequestOp::kComplete;
    r.status = kStatusOk;
  }
  return r;
}

}  // namespace kiln::virtio::blk
