/* Memory the probe's virtio drivers hand to devices (rings, request headers, data buffers):
 * PROBE_DMA_ARENA_SIZE bytes, page-aligned, in a NOLOAD section like the stacks (guest.ld
 * collects .stack), so the image file does not grow. Identity-mapped: its address is its guest
 * physical address. Not cleared at start-up; the driver library zeroes what it allocates. */
#include "probe/lib/dma_arena.h"

	.section .stack, "aw", @nobits
	.balign 4096
	.globl probe_dma_arena
probe_dma_arena:
	.space PROBE_DMA_ARENA_SIZE
	.globl probe_dma_arena_end
probe_dma_arena_end:

	.section .note.GNU-stack, "", @progbits
