/* The probe's DMA arena (dma_arena.S); plain #defines so that the .S file can include this. */
#ifndef KILN_PROBE_DMA_ARENA_H
#define KILN_PROBE_DMA_ARENA_H

#define PROBE_DMA_ARENA_SIZE 0x200000 /* 2 MiB: blk.bench at qd=64 with 16 KiB blocks fits */

#ifdef __cplusplus
#include <cstdint>
extern "C" uint8_t probe_dma_arena[];
#endif

#endif
