// The snapshot fuzz target (fuzz/snapshot_file_target.cpp) on every build, without clang: each
// file of fuzz/corpus/snapshot_file/, then deterministic mutations of them and random bytes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <vector>

#include "../../fuzz/targets.h"
#include "fuzz_corpus.h"
#include "snapshot/memory_file.h"
#include "snapshot/snapshot_file.h"
#include "snapshot/vcpu_state.h"
#include "snapshot/vm_state.h"

namespace kiln::fuzz {

// The fuzz targets' invariant check (in the fuzz build it comes from chain_walker_target.cpp).
void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
  std::abort();
}

namespace {

std::filesystem::path corpus_dir() { return fuzz::corpus_dir("snapshot_file"); }

// A seed without its mode byte.
std::vector<uint8_t> seed(const std::string& name) {
  std::ifstream in(corpus_dir() / name, std::ios::binary);
  std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  EXPECT_FALSE(bytes.empty()) << name;
  if (!bytes.empty()) bytes.erase(bytes.begin());
  return bytes;
}

std::vector<std::vector<uint8_t>> corpus() { return read_corpus("snapshot_file"); }

TEST(SnapshotFuzzReplay, CorpusAndMutations) {
  const auto seeds = corpus();
  ASSERT_GE(seeds.size(), 5u) << "fuzz/corpus/snapshot_file has too few seeds";
  for (const auto& s : seeds) snapshot_file(s.data(), s.size());

  std::mt19937 rng(0x736e6170);  // "snap"
  std::vector<uint8_t> input;
  for (int i = 0; i < 6000; ++i) {
    if (i % 5 == 0) {
      input.resize(rng() % 3000);
      for (auto& b : input) b = static_cast<uint8_t>(rng());
    } else {
      input = seeds[rng() % seeds.size()];
      const int changes = 1 + static_cast<int>(rng() % 6);
      for (int c = 0; c < changes && input.size() > 1; ++c) {
        const size_t at = 1 + rng() % (input.size() - 1);  // keep the mode byte
        switch (rng() % 3) {
          case 0:
            input[at] = static_cast<uint8_t>(rng());
            break;
          case 1:
            input.resize(at);  // truncate
            break;
          default:
            input.insert(input.begin() + static_cast<std::ptrdiff_t>(at), static_cast<uint8_t>(rng()));
            break;
        }
      }
    }
    snapshot_file(input.data(), input.size());
  }
}

// The seeds make_snapshot_corpus.py writes as valid are valid to this kiln (the script and the
// C++ format agree), and the broken ones fail for the reason their name gives.
TEST(SnapshotFuzzReplay, SeedsMatchTheFormat) {
  using namespace kiln::snapshot;
  auto file = parse_snapshot(seed("file_valid"), "file_valid");
  ASSERT_TRUE(file) << file.error().message;
  EXPECT_EQ(file->vcpu_count(), 2u);
  EXPECT_EQ(file->identity().cpu_vendor, "GenuineIntel");
  for (uint32_t i = 0; i < 2; ++i) {
    auto v = decode_vcpu_state(*file->section(tag::vcpu(i)), i);
    EXPECT_TRUE(v) << v.error().message;
  }
  auto vm = decode_vm_state(*file->section(tag::kVmState));
  EXPECT_TRUE(vm) << vm.error().message;
  auto layout = decode_memory_layout(*file->section(tag::kMemoryLayout));
  ASSERT_TRUE(layout) << layout.error().message;
  EXPECT_EQ(layout->size(), 2u);

  auto v = decode_vcpu_state(seed("vcpu_valid"), 0);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->regs.rip, 0xffffffff81000000u);
  EXPECT_EQ(v->msrs.size(), 3u);
  EXPECT_EQ(v->events.flags, static_cast<uint32_t>(KVM_VCPUEVENT_VALID_SHADOW));
  EXPECT_TRUE(decode_vm_state(seed("vm_valid")));
  EXPECT_TRUE(decode_memory_layout(seed("layout_valid")));

  EXPECT_NE(decode_vcpu_state(seed("vcpu_bad_mp_state"), 0).error().message.find("MP state 77"), std::string::npos);
  EXPECT_NE(decode_vm_state(seed("vm_moved_ioapic")).error().message.find("IOAPIC at"), std::string::npos);
  EXPECT_FALSE(decode_memory_layout(seed("layout_overlap")));
  EXPECT_NE(parse_snapshot(seed("file_version_3"), "f").error().message.find("format version 3"), std::string::npos);
  // A snapshot of a kiln before per-device sections is named as such.
  EXPECT_NE(parse_snapshot(seed("file_version_1"), "f").error().message.find("format version 1"), std::string::npos);
}

}  // namespace
}  // namespace kiln::fuzz
