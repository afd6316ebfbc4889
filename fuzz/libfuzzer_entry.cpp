// libFuzzer's entry point for one target, chosen at build time (KILN_FUZZ_ENTRY).
#include <cstddef>
#include <cstdint>

#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { return KILN_FUZZ_ENTRY(data, size); }
