// Guest memory file: sparse save, private lazy mapping on restore, the layout section.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "snapshot/codec.h"
#include "snapshot/memory_file.h"

namespace kiln::snapshot {
namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "kiln-mem-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  [[nodiscard]] std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

std::vector<uint8_t> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

constexpr std::array kRanges{MemoryRange{GuestAddress(0), 2 * MiB}, MemoryRange{GuestAddress(4 * GiB), 1 * MiB}};

// A few non-zero pages in both regions, including the last byte of each.
GuestMemory patterned_memory() {
  auto mem = GuestMemory::create(kRanges);
  EXPECT_TRUE(mem);
  EXPECT_TRUE(mem->fill(GuestAddress(0x3000), 100, 0xa5));
  EXPECT_TRUE(mem->write_obj<uint8_t>(GuestAddress(2 * MiB - 1), 0x77));
  EXPECT_TRUE(mem->write_obj<uint64_t>(GuestAddress(4 * GiB + 0x5008), 0x1122334455667788));
  EXPECT_TRUE(mem->write_obj<uint8_t>(GuestAddress(4 * GiB + 1 * MiB - 1), 0x99));
  return std::move(*mem);
}

TEST(SnapshotMemory, SaveIsSparseAndRoundTrips) {
  TempDir dir;
  const std::string path = dir.file("mem");
  const GuestMemory mem = patterned_memory();
  ASSERT_TRUE(save_memory(mem, path));

  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), 3 * MiB);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // 4 non-zero pages of 768: holes everywhere else (allow file-system block rounding).
  EXPECT_LE(static_cast<uint64_t>(st.st_blocks) * 512, 64 * KiB) << "st_blocks " << st.st_blocks;

  const auto bytes = file_bytes(path);
  ASSERT_EQ(bytes.size(), 3 * MiB);
  EXPECT_EQ(bytes[0x3000], 0xa5);
  EXPECT_EQ(bytes[0x3000 + 100], 0);
  EXPECT_EQ(bytes[2 * MiB - 1], 0x77);
  EXPECT_EQ(bytes[2 * MiB + 0x5008], 0x88);  // second region follows the first
  EXPECT_EQ(bytes[3 * MiB - 1], 0x99);

  auto restored = GuestMemory::map_file(kRanges, path);
  ASSERT_TRUE(restored) << restored.error().message;
  ASSERT_EQ(restored->regions().size(), 2u);
  for (size_t i = 0; i < kRanges.size(); ++i) {
    const auto& a = mem.regions()[i];
    const auto& b = restored->regions()[i];
    EXPECT_EQ(a.start, b.start);
    ASSERT_EQ(a.size, b.size);
    EXPECT_EQ(std::memcmp(a.mapping.data(), b.mapping.data(), a.size), 0) << "region " << i;
  }
}

TEST(SnapshotMemory, MappedMemoryIsCopyOnWrite) {
  TempDir dir;
  const std::string path = dir.file("mem");
  ASSERT_TRUE(save_memory(patterned_memory(), path));
  const auto before = file_bytes(path);
  {
    auto restored = GuestMemory::map_file(kRanges, path);
    ASSERT_TRUE(restored);
    ASSERT_TRUE(restored->fill(GuestAddress(0), 2 * MiB, 0xee));
    ASSERT_TRUE(restored->write_obj<uint64_t>(GuestAddress(4 * GiB + 0x5008), 0));
    EXPECT_EQ(*restored->read_obj<uint8_t>(GuestAddress(0x10)), 0xee);
    // A second mapping of the same file sees the file, not the first one's writes.
    auto other = GuestMemory::map_file(kRanges, path);
    ASSERT_TRUE(other);
    EXPECT_EQ(*other->read_obj<uint8_t>(GuestAddress(0x3000)), 0xa5);
    EXPECT_EQ(*other->read_obj<uint8_t>(GuestAddress(0x10)), 0);
  }
  EXPECT_EQ(file_bytes(path), before);
}

TEST(SnapshotMemory, FileOfAnotherSizeIsRefused) {
  TempDir dir;
  const std::string path = dir.file("mem");
  ASSERT_TRUE(save_memory(patterned_memory(), path));
  std::filesystem::resize_file(path, 3 * MiB - 4096);
  auto short_file = GuestMemory::map_file(kRanges, path);
  ASSERT_FALSE(short_file);
  EXPECT_TRUE(contains(short_file.error().message, "has 3141632 bytes; the guest's 3 MiB of RAM need exactly 3145728"))
      << short_file.error().message;
  std::filesystem::resize_file(path, 4 * MiB);
  EXPECT_FALSE(GuestMemory::map_file(kRanges, path));
  EXPECT_FALSE(GuestMemory::map_file(kRanges, dir.file("missing")));
  const std::string dir_path = dir.file("");
  EXPECT_FALSE(GuestMemory::map_file(kRanges, dir_path));
  const std::array bad{MemoryRange{GuestAddress(100), 4 * KiB}};
  EXPECT_FALSE(GuestMemory::map_file(bad, path));
}

TEST(SnapshotMemory, SaveIntoAMissingDirectoryFails) {
  EXPECT_FALSE(save_memory(patterned_memory(), "/nonexistent-kiln-dir/mem"));
}

TEST(SnapshotMemory, LayoutRoundTrip) {
  const GuestMemory mem = patterned_memory();
  auto ranges = decode_memory_layout(encode_memory_layout(mem));
  ASSERT_TRUE(ranges) << ranges.error().message;
  ASSERT_EQ(ranges->size(), 2u);
  EXPECT_EQ((*ranges)[1].start, GuestAddress(4 * GiB));
  EXPECT_EQ((*ranges)[1].size, 1 * MiB);
}

std::string layout_error(std::vector<std::pair<uint64_t, uint64_t>> regions) {
  Encoder e;
  e.u32(static_cast<uint32_t>(regions.size()));
  for (auto [start, size] : regions) {
    e.u64(start);
    e.u64(size);
  }
  auto r = decode_memory_layout(e.data());
  return r ? std::string("decoded") : r.error().message;
}

TEST(SnapshotMemory, BadLayoutsAreRefused) {
  EXPECT_TRUE(contains(layout_error({}), "0 memory regions")) << layout_error({});
  EXPECT_TRUE(contains(layout_error({{0x100, 0x1000}}), "memory region 0 (0x100+0x1000)"));
  EXPECT_TRUE(contains(layout_error({{0, 0}}), "empty"));
  EXPECT_TRUE(contains(layout_error({{0, 0x2000}, {0x1000, 0x1000}}), "memory region 1"));
  EXPECT_TRUE(contains(layout_error({{0x2000, 0x1000}, {0, 0x1000}}), "memory region 1"));
  EXPECT_TRUE(contains(layout_error({{0xfffffffffffff000, 0x2000}}), "memory region 0"));
  std::vector<std::pair<uint64_t, uint64_t>> many;
  for (uint64_t i = 0; i <= kMaxMemoryRegions; ++i) many.push_back({i * 0x2000, 0x1000});
  EXPECT_TRUE(contains(layout_error(many), "65 memory regions"));
  EXPECT_EQ(layout_error({{0, 0x1000}, {0x1000, 0x1000}}), "decoded");  // adjacent is fine
}

}  // namespace
}  // namespace kiln::snapshot
