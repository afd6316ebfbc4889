// The raw image every part of blk_bench reads: a scratch directory with one file of
// pseudo-random bytes (no holes: every read returns data the host had to copy), synced and read
// once so that it sits in the page cache before anything is timed. Both go at destruction.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "common/result.h"

namespace kiln::bench {

// /dev/shm when it is a writable directory (tmpfs: in the kvm-box /tmp is the host's over 9p,
// which would measure 9p), else $TMPDIR, else /tmp.
[[nodiscard]] std::string default_image_parent();

class BenchImage {
 public:
  // Makes <parent>/kiln-blk-bench.XXXXXX/disk.img of `bytes` (a multiple of 1 MiB).
  [[nodiscard]] static Result<BenchImage> create(const std::string& parent, uint64_t bytes);

  BenchImage(BenchImage&& other) noexcept;
  BenchImage& operator=(BenchImage&&) = delete;
  BenchImage(const BenchImage&) = delete;
  BenchImage& operator=(const BenchImage&) = delete;
  ~BenchImage();

  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] const std::string& dir() const { return dir_; }
  [[nodiscard]] uint64_t bytes() const { return bytes_; }

 private:
  BenchImage(std::string dir, std::string path, uint64_t bytes)
      : dir_(std::move(dir)), path_(std::move(path)), bytes_(bytes) {}

  std::string dir_;   // "" once moved from
  std::string path_;
  uint64_t bytes_ = 0;
};

}  // namespace kiln::bench
