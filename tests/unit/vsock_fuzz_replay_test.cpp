// The vsock_packet fuzz target (fuzz/vsock_packet_target.cpp) on every build, without clang: its
// corpus, then deterministic random inputs and mutations of the corpus files.
#include <gtest/gtest.h>

#include <random>

#include "../../fuzz/targets.h"
#include "fuzz_corpus.h"

namespace kiln::fuzz {
namespace {

TEST(VsockFuzzReplay, PacketsAndStreamStates) {
  const auto seeds = read_corpus("vsock_packet");
  ASSERT_FALSE(seeds.empty());
  for (const auto& s : seeds) vsock_packet(s.data(), s.size());
  std::mt19937 rng(0x76736f63);  // "vsoc"
  std::vector<uint8_t> input;
  for (int i = 0; i < 20000; ++i) {
    if (i % 4 == 0) {
      input.resize(rng() % 1200);
      for (auto& b : input) b = static_cast<uint8_t>(rng());
    } else {
      input = seeds[rng() % seeds.size()];
      for (int c = 1 + static_cast<int>(rng() % 8); c > 0 && !input.empty(); --c) {
        input[rng() % input.size()] = static_cast<uint8_t>(rng());
      }
    }
    vsock_packet(input.data(), input.size());
  }
}

}  // namespace
}  // namespace kiln::fuzz
