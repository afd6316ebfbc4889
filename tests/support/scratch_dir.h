// A private directory for unix sockets and snapshot files, removed with its contents at
// destruction. It lives in /dev/shm (tmpfs) when that is writable: the kvm-box's / is a 9p
// share, where unix sockets cannot be bound; otherwise under $TMPDIR (or /tmp).
#pragma once

#include <string>

namespace kiln::test {

class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  [[nodiscard]] bool ok() const { return !path_.empty(); }
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace kiln::test
