// Host-side helpers for the Linux guest tests: a private temp directory, whole-file I/O, host tools
// (e2fsprogs) run through /bin/sh, the text `seq` prints, and newc archives to extend an initramfs.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "child_process.h"

namespace kiln::test {

// A directory under $TMPDIR (or /tmp), removed with everything in it at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Whole files; the write helpers return false (and the read helper an empty string) on failure.
bool write_file(const std::string& path, const std::string& bytes);
bool write_file(const std::string& path, const std::vector<uint8_t>& bytes);
std::string read_file(const std::string& path);

// 'text' for /bin/sh, with embedded single quotes escaped.
std::string shell_quote(const std::string& text);

// Runs `script` with /bin/sh -c; /usr/sbin and /sbin are added to PATH (mkfs.ext4, e2fsck, debugfs).
ChildResult run_host_shell(const std::string& script,
                           std::chrono::milliseconds timeout = std::chrono::milliseconds(120000));

// The first offset where two byte strings differ (or the shorter size), for failure messages.
size_t first_difference(const std::string& a, const std::string& b);

// The sha256 of `bytes` as sha256sum prints it (runs /usr/bin/sha256sum).
std::string sha256_hex(const std::string& bytes);

// Console text without the tty's '\r' (ONLCR).
std::string without_cr(const std::string& text);

// Exactly what `seq first last` prints: one decimal number per line.
std::string seq_text(long first, long last);

// The first `n` bytes in lowercase hex without spaces, as `od -An -v -tx1 | tr -d ' \n'` prints them.
std::string hex(const std::vector<uint8_t>& bytes, size_t n);

// A file for an initramfs: path without the leading '/', contents, permission bits.
struct ArchiveFile {
  std::string path;
  std::string contents;
  uint32_t mode = 0644;
};

// An uncompressed cpio "newc" archive (regular files only, parent directories must exist in the
// base archive) ending in TRAILER!!!; Linux unpacks archives appended to an initramfs in turn.
std::string newc_archive(const std::vector<ArchiveFile>& files);

}  // namespace kiln::test
