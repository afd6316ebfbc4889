// virtio-blk constants and wire structures (virtio 0.9.5, Appendix D "Block Device"; GET_ID and
// the ID length as Linux and virtio 1.0 define them). Little-endian, as x86 is.
#pragma once

#include <cstdint>

namespace kiln::virtio::blk {

// Appendix D feature bits.
inline constexpr unsigned kFBarrier = 0;
inline constexpr unsigned kFSizeMax = 1;
inline constexpr unsigned kFSegMax = 2;
inline constexpr unsigned kFGeometry = 4;
inline constexpr unsigned kFRo = 5;
inline constexpr unsigned kFBlkSize = 6;
inline constexpr unsigned kFScsi = 7;
inline constexpr unsigned kFFlush = 9;

// Request types ("Device Operation"). FLUSH_OUT is the same as FLUSH; the top bit is
// VIRTIO_BLK_T_BARRIER, which only means something with VIRTIO_BLK_F_BARRIER (not offered).
inline constexpr uint32_t kTypeIn = 0;
inline constexpr uint32_t kTypeOut = 1;
inline constexpr uint32_t kTypeScsiCmd = 2;
inline constexpr uint32_t kTypeFlush = 4;
inline constexpr uint32_t kTypeFlushOut = 5;
inline constexpr uint32_t kTypeGetId = 8;

// The status byte the device writes last.
inline constexpr uint8_t kStatusOk = 0;
inline constexpr uint8_t kStatusIoErr = 1;
inline constexpr uint8_t kStatusUnsupp = 2;

inline constexpr uint64_t kSectorSize = 512;
inline constexpr unsigned kSectorShift = 9;
// VIRTIO_BLK_ID_BYTES: the serial answered to GET_ID, NUL-padded, no NUL when 20 bytes long.
inline constexpr uint32_t kIdBytes = 20;

// struct virtio_blk_outhdr: the device-readable head of every request.
struct RequestHeader {
  uint32_t type;
  uint32_t ioprio;
  uint64_t sector;
};
static_assert(sizeof(RequestHeader) == 16);

// struct virtio_blk_config up to blk_size (the fields kiln offers; the rest reads as zero).
struct [[gnu::packed]] Config {
  uint64_t capacity;  // in 512-byte sectors, always present
  uint32_t size_max;  // VIRTIO_BLK_F_SIZE_MAX
  uint32_t seg_max;   // VIRTIO_BLK_F_SEG_MAX
  uint16_t cylinders;  // VIRTIO_BLK_F_GEOMETRY
  uint8_t heads;
  uint8_t sectors;
  uint32_t blk_size;  // VIRTIO_BLK_F_BLK_SIZE
};
static_assert(sizeof(Config) == 24);

}  // namespace kiln::virtio::blk
