// A file that appears at its path complete or not at all: written under a temporary name in the
// same directory, then fsync'ed and renamed over the target.
#pragma once

#include <string>

#include "common/result.h"
#include "common/unique_fd.h"

namespace kiln::snapshot {

class AtomicFile {
 public:
  // Creates "<path>.tmp-XXXXXX" with mode 0600 (snapshots hold guest secrets).
  [[nodiscard]] static Result<AtomicFile> create(const std::string& path);
  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&&) = delete;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  // Removes the temporary file unless commit() succeeded.
  ~AtomicFile();

  [[nodiscard]] int fd() const { return fd_.get(); }
  // pwrite of all of `data` at `offset`, retrying short writes and EINTR.
  [[nodiscard]] Status write_at(const void* data, size_t size, uint64_t offset);
  // fsync, rename to the target, fsync of the directory (so the rename survives a crash).
  [[nodiscard]] Status commit();

 private:
  AtomicFile(std::string path, std::string temp, UniqueFd fd)
      : path_(std::move(path)), temp_(std::move(temp)), fd_(std::move(fd)) {}
  std::string path_;
  std::string temp_;
  UniqueFd fd_;
  bool committed_ = false;
};

}  // namespace kiln::snapshot
