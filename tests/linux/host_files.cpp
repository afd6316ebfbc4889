#include "host_files.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace kiln::test {

TempDir::TempDir() {
  const char* dir = std::getenv("TMPDIR");
  std::string tmpl = std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/kiln-linux-test-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp " + tmpl);
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

bool write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out.flush());
}

bool write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  return write_file(path, std::string(bytes.begin(), bytes.end()));
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (const char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

ChildResult run_host_shell(const std::string& script, std::chrono::milliseconds timeout) {
  return run_child({"/bin/sh", "-c", "PATH=\"$PATH:/usr/sbin:/sbin\"; " + script}, timeout);
}

size_t first_difference(const std::string& a, const std::string& b) {
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  return i;
}

std::string sha256_hex(const std::string& bytes) {
  TempDir dir;
  if (!write_file(dir.file("f"), bytes)) return "";
  const ChildResult r = run_child({"/usr/bin/sha256sum", dir.file("f")}, std::chrono::seconds(60));
  return r.out.substr(0, r.out.find(' '));
}

std::string without_cr(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c != '\r') out += c;
  }
  return out;
}

std::string seq_text(long first, long last) {
  std::string out;
  for (long i = first; i <= last; ++i) out += std::to_string(i) + "\n";
  return out;
}

std::string hex(const std::vector<uint8_t>& bytes, size_t n) {
  std::string out;
  char buf[3];
  for (size_t i = 0; i < n && i < bytes.size(); ++i) {
    std::snprintf(buf, sizeof(buf), "%02x", bytes[i]);
    out += buf;
  }
  return out;
}

namespace {

void pad4(std::string& out) {
  while (out.size() % 4 != 0) out += '\0';
}

// "070701" and 13 fields of 8 hex digits (Documentation/driver-api/early-userspace/buffer-format.rst).
void newc_entry(std::string& out, uint32_t ino, const std::string& name, uint32_t mode, const std::string& data) {
  const uint32_t fields[13] = {ino,  mode, 0, 0, 1, 0, static_cast<uint32_t>(data.size()), 0, 0, 0, 0,
                               static_cast<uint32_t>(name.size() + 1), 0};
  out += "070701";
  char hex[9];
  for (const uint32_t f : fields) {
    std::snprintf(hex, sizeof(hex), "%08x", f);
    out += hex;
  }
  out += name;
  out += '\0';
  pad4(out);
  out += data;
  pad4(out);
}

}  // namespace

std::string newc_archive(const std::vector<ArchiveFile>& files) {
  std::string out;
  uint32_t ino = 0x4b100;  // away from the base archive's numbers (1, 2, ...)
  for (const auto& f : files) newc_entry(out, ino++, f.path, 0100000 | f.mode, f.contents);
  newc_entry(out, 0, "TRAILER!!!", 0, "");
  return out;
}

}  // namespace kiln::test
