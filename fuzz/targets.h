// Fuzz entry points, shared by the libFuzzer binaries (KILN_FUZZ=ON, clang) and the corpus replay
// in the unit tests (tests/unit/virtio_blk_fuzz_replay_test.cpp), which runs them on every build.
// Each takes arbitrary bytes, must never crash, leak or touch memory outside what it set up, and
// aborts when an invariant of the code under test is broken.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kiln::fuzz {

// walk_chain over fuzzed guest memory, then ChainReader/ChainWriter over the chain it returns.
// Input: [0] bits 0-3 log2 queue size, bit 4 indirect allowed; [1..2] head (LE); the rest is
// guest RAM from address 0 (the descriptor table is at 0).
int chain_walker(const uint8_t* data, size_t size);

// A virtio-blk request queue over fuzzed guest memory and a 64 KiB image (synchronous engine).
// Input: [0] bit 0 read-only disk, bit 1 EVENT_IDX, bit 2 INDIRECT_DESC, bit 3 FLUSH negotiated,
// bits 4-6 slots - 1; [1] log2 queue size (mod 9); the rest is guest RAM from address 0, where the
// legacy layout puts the descriptor table (PFN 0) with the available ring right after it.
int blk_request(const uint8_t* data, size_t size);

// The snapshot reader (src/snapshot) and its state decoders. Input: [0] % 5 selects: 0 a whole
// snapshot file, 1 a snapshot file without its CRC-32 trailer (the target appends a valid one),
// 2 a vCPU state section, 3 a VM state section, 4 a memory layout section; the rest is the data.
int snapshot_file(const uint8_t* data, size_t size);

// The vsock packet header codec and checks, and one stream's state machine and credit
// accounting. Input: [0] bit 0 host-initiated stream; then records of a selector byte s:
// s % 8 < 4 a driver packet (44 header bytes follow; bit 7 clear aims it at the stream; s % 8 == 3
// gives the chain half the payload), 4 the host hits EOF, 5 the host socket dies, 6 kiln forwards
// (next byte * 256) guest bytes, 7 kiln sends (next byte * 256) bytes to the guest and drains the
// control packets.
int vsock_packet(const uint8_t* data, size_t size);

// Stops the process when an invariant does not hold (a finding).
void check(bool ok, const char* what);

}  // namespace kiln::fuzz
