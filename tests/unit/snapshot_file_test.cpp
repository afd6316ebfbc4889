#include "snapshot/snapshot_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>

namespace kiln::snapshot {
namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

HostIdentity test_identity() { return HostIdentity{"GenuineIntel", 6, 85, 7, "0.1"}; }

std::vector<uint8_t> sample_file() {
  SnapshotWriter w(test_identity());
  EXPECT_TRUE(w.add(tag::kMachineConfig, {1, 2, 3}));
  EXPECT_TRUE(w.add(tag::kVmState, std::vector<uint8_t>(100, 0x5a)));
  EXPECT_TRUE(w.add(tag::vcpu(0), {4}));
  EXPECT_TRUE(w.add(tag::vcpu(1), {}));
  return w.serialize();
}

// Replaces the CRC-32 trailer so that a deliberate change gets past the checksum.
void reseal(std::vector<uint8_t>& f) {
  const uint32_t crc = static_cast<uint32_t>(::crc32(0, f.data(), static_cast<uInt>(f.size() - 4)));
  std::memcpy(f.data() + f.size() - 4, &crc, 4);
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "kiln-snap-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  [[nodiscard]] std::string file(const std::string& name) const { return (path_ / name).string(); }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

TEST(SnapshotFile, RoundTrip) {
  auto f = parse_snapshot(sample_file(), "test");
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->identity().cpu_vendor, "GenuineIntel");
  EXPECT_EQ(f->identity().model, 85u);
  EXPECT_EQ(f->identity().kiln_version, "0.1");
  EXPECT_EQ(f->vcpu_count(), 2u);
  auto config = f->section(tag::kMachineConfig);
  ASSERT_TRUE(config);
  EXPECT_EQ(std::vector<uint8_t>(config->begin(), config->end()), (std::vector<uint8_t>{1, 2, 3}));
  EXPECT_EQ(f->section(tag::kVmState)->size(), 100u);
  EXPECT_EQ(f->section(tag::vcpu(1))->size(), 0u);
  auto devices = f->section(tag::kDeviceSections);
  ASSERT_FALSE(devices);
  EXPECT_EQ(devices.error().message, "the snapshot has no device state section");
}

TEST(SnapshotFile, DuplicateAddIsRefused) {
  SnapshotWriter w(test_identity());
  ASSERT_TRUE(w.add(tag::kVmState, {}));
  EXPECT_FALSE(w.add(tag::kVmState, {}));
}

TEST(SnapshotFile, EveryTruncationIsRefused) {
  const auto good = sample_file();
  for (size_t len = 0; len < good.size(); ++len) {
    auto f = parse_snapshot(std::vector<uint8_t>(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(len)), "cut");
    ASSERT_FALSE(f) << "length " << len;
    const auto& m = f.error().message;
    EXPECT_TRUE(contains(m, "truncated") || contains(m, "not a kiln snapshot")) << len << ": " << m;
    EXPECT_EQ(f.error().kind, ErrorKind::kConfig) << len << ": " << m;
  }
}

TEST(SnapshotFile, EveryFlippedBitIsRefused) {
  const auto good = sample_file();
  for (size_t i = 0; i < good.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      auto bad = good;
      bad[i] ^= static_cast<uint8_t>(1u << bit);
      auto f = parse_snapshot(bad, "flipped");
      ASSERT_FALSE(f) << "byte " << i << " bit " << bit;
      const auto& m = f.error().message;
      EXPECT_TRUE(contains(m, "corrupted") || contains(m, "not a kiln snapshot")) << i << ": " << m;
      EXPECT_EQ(f.error().kind, ErrorKind::kConfig) << i << ": " << m;
    }
  }
}

TEST(SnapshotFile, WrongMagic) {
  auto bad = sample_file();
  bad[0] = 'X';
  reseal(bad);
  auto f = parse_snapshot(bad, "/tmp/x.snap");
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().message, "/tmp/x.snap is not a kiln snapshot (it does not start with \"KILNSNAP\")");
}

TEST(SnapshotFile, OtherFormatVersionIsNamed) {
  auto bad = sample_file();
  bad[8] = 7;
  reseal(bad);
  auto f = parse_snapshot(bad, "s");
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().message,
            fmt::format("s was made by a kiln with snapshot format version 7; this kiln reads version {}", kFormatVersion));
}

TEST(SnapshotFile, TamperedContentWithoutNewChecksum) {
  auto bad = sample_file();
  bad[bad.size() - 10] ^= 0x40;
  auto f = parse_snapshot(bad, "s");
  ASSERT_FALSE(f);
  EXPECT_TRUE(contains(f.error().message, "s is corrupted, truncated or was tampered with: its CRC-32 is"))
      << f.error().message;
}

// A section header whose length runs past the end (checksum recomputed, as an attacker would).
TEST(SnapshotFile, OversizedSectionLength) {
  SnapshotWriter w(test_identity());
  ASSERT_TRUE(w.add(tag::kVmState, {9, 9, 9, 9}));
  auto bad = w.serialize();
  // The only section's u64 length sits 12 bytes before its 4 payload bytes and the CRC.
  const size_t length_at = bad.size() - 4 - 4 - 8;
  for (uint64_t len : {uint64_t{5}, uint64_t{1} << 40, UINT64_MAX}) {
    std::memcpy(bad.data() + length_at, &len, 8);
    reseal(bad);
    auto f = parse_snapshot(bad, "s");
    ASSERT_FALSE(f);
    EXPECT_TRUE(contains(f.error().message, "VM state claims")) << f.error().message;
  }
}

TEST(SnapshotFile, SectionCountLargerThanTheFile) {
  auto bad = sample_file();
  const uint32_t count = 5;  // there are 4
  std::memcpy(bad.data() + 12, &count, 4);
  reseal(bad);
  auto f = parse_snapshot(bad, "s");
  ASSERT_FALSE(f);
  EXPECT_TRUE(contains(f.error().message, "truncated")) << f.error().message;
}

TEST(SnapshotFile, UnknownRequiredSectionIsRefusedOptionalIsSkipped) {
  SnapshotWriter required(test_identity());
  ASSERT_TRUE(required.add(0x77, {1}));
  auto f = parse_snapshot(required.serialize(), "s");
  ASSERT_FALSE(f);
  EXPECT_TRUE(contains(f.error().message, "section 0x77 is unknown to this kiln")) << f.error().message;

  SnapshotWriter optional(test_identity());
  ASSERT_TRUE(optional.add(tag::kOptionalTag | 0x77, {1}));
  ASSERT_TRUE(optional.add(tag::kVmState, {2}));
  auto g = parse_snapshot(optional.serialize(), "s");
  ASSERT_TRUE(g) << g.error().message;
  EXPECT_TRUE(g->has(tag::kVmState));
}

TEST(SnapshotFile, DuplicateSectionIsRefused) {
  SnapshotWriter w(test_identity());
  ASSERT_TRUE(w.add(tag::kVmState, {1, 2}));
  ASSERT_TRUE(w.add(tag::kDeviceSections, {3, 4}));
  auto bad = w.serialize();
  // Rename the second section (devices, tag 4) to VM state (tag 2).
  const size_t tag_at = bad.size() - 4 - 2 - 8 - 4;
  ASSERT_EQ(bad[tag_at], tag::kDeviceSections);
  bad[tag_at] = tag::kVmState;
  reseal(bad);
  auto f = parse_snapshot(bad, "s");
  ASSERT_FALSE(f);
  EXPECT_TRUE(contains(f.error().message, "VM state appears twice")) << f.error().message;
}

TEST(SnapshotFile, VcpuNumberingWithAGap) {
  SnapshotWriter w(test_identity());
  ASSERT_TRUE(w.add(tag::vcpu(0), {}));
  ASSERT_TRUE(w.add(tag::vcpu(2), {}));
  auto f = parse_snapshot(w.serialize(), "s");
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().message, "s is invalid: it has vCPU 2 state but no vCPU 1 state");
}

TEST(SnapshotFile, UnprintableIdentityIsRefused) {
  SnapshotWriter w(HostIdentity{"Genuine\x1bIntel", 6, 1, 1, "0.1"});
  auto f = parse_snapshot(w.serialize(), "s");
  ASSERT_FALSE(f);
  EXPECT_TRUE(contains(f.error().message, "unprintable")) << f.error().message;
}

TEST(SnapshotFile, WriteIsAtomicAndPrivate) {
  TempDir dir;
  const std::string path = dir.file("vm.snap");
  SnapshotWriter w(test_identity());
  ASSERT_TRUE(w.add(tag::kVmState, {1, 2, 3}));
  ASSERT_TRUE(w.write(path));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Only the snapshot: no temporary file left behind.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), std::filesystem::directory_iterator()), 1);
  auto f = read_snapshot(path);
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->section(tag::kVmState)->size(), 3u);
  // A second write replaces the first.
  SnapshotWriter w2(test_identity());
  ASSERT_TRUE(w2.add(tag::kDeviceSections, {}));
  ASSERT_TRUE(w2.write(path));
  auto g = read_snapshot(path);
  ASSERT_TRUE(g);
  EXPECT_FALSE(g->has(tag::kVmState));
}

TEST(SnapshotFile, WriteIntoAMissingDirectoryFails) {
  SnapshotWriter w(test_identity());
  auto r = w.write("/nonexistent-kiln-dir/vm.snap");
  ASSERT_FALSE(r);
  EXPECT_TRUE(contains(r.error().message, "/nonexistent-kiln-dir/vm.snap")) << r.error().message;
}

TEST(SnapshotFile, ReadRefusesMissingOversizedAndNonRegularFiles) {
  auto missing = read_snapshot("/nonexistent/vm.snap");
  ASSERT_FALSE(missing);
  EXPECT_TRUE(contains(missing.error().message, "/nonexistent/vm.snap")) << missing.error().message;
  EXPECT_FALSE(read_snapshot("/dev/null"));
  EXPECT_FALSE(read_snapshot("/tmp"));
  TempDir dir;
  const std::string big = dir.file("big.snap");
  {
    std::ofstream out(big);
  }
  std::filesystem::resize_file(big, kMaxSnapshotFileBytes + 1);
  auto f = read_snapshot(big);
  ASSERT_FALSE(f);
  EXPECT_TRUE(contains(f.error().message, "larger than the limit")) << f.error().message;
}

TEST(SnapshotFile, HostIdentityDescribesThisMachine) {
  const HostIdentity id = current_host_identity();
  EXPECT_FALSE(id.cpu_vendor.empty());
  EXPECT_EQ(id.kiln_version.empty(), false);
  EXPECT_TRUE(contains(describe(id), id.cpu_vendor));
}

TEST(SnapshotFile, TagNames) {
  EXPECT_EQ(tag_name(tag::vcpu(3)), "vCPU 3 state");
  EXPECT_EQ(tag_name(tag::kMemoryLayout), "memory layout");
  EXPECT_EQ(tag_name(0x1234), "section 0x1234");
}

}  // namespace
}  // namespace kiln::snapshot
