// The fuzz targets (fuzz/targets.h) on every build, without clang: each file of
// fuzz/corpus/<target>/, then a few thousand deterministic inputs (random bytes, and corpus files
// with random bytes changed). A broken invariant aborts the test binary; ASan (KILN_SANITIZE)
// catches what the invariants do not.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <vector>

#include "../../fuzz/targets.h"
#include "fuzz_corpus.h"

namespace kiln::fuzz {
namespace {

using Entry = int (*)(const uint8_t*, size_t);


void replay(const std::string& target, Entry entry, int random_inputs) {
  const auto seeds = read_corpus(target);
  ASSERT_FALSE(seeds.empty()) << "no corpus for " << target;
  for (const auto& s : seeds) entry(s.data(), s.size());

  std::mt19937 rng(0x6b696c6e);  // "kiln"
  std::vector<uint8_t> input;
  for (int i = 0; i < random_inputs; ++i) {
    if (i % 4 == 0) {
      // Random bytes, mostly short.
      input.resize(rng() % 600);
      for (auto& b : input) b = static_cast<uint8_t>(rng());
    } else {
      // A seed with a few bytes changed; descriptor fields near the start get most of them.
      input = seeds[rng() % seeds.size()];
      const int changes = 1 + static_cast<int>(rng() % 8);
      for (int c = 0; c < changes && !input.empty(); ++c) {
        const size_t span = rng() % 2 == 0 ? std::min<size_t>(input.size(), 512) : input.size();
        input[rng() % span] = static_cast<uint8_t>(rng() % 3 == 0 ? rng() : input[rng() % span] + 1);
      }
    }
    entry(input.data(), input.size());
  }
}

TEST(VirtioBlkFuzzReplay, ChainWalker) { replay("chain_walker", &chain_walker, 4000); }
TEST(VirtioBlkFuzzReplay, BlkRequest) { replay("blk_request", &blk_request, 3000); }

}  // namespace
}  // namespace kiln::fuzz
