#include "host_fio.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <sstream>
#include <vector>

#include "child_process.h"

namespace kiln::bench {
namespace {

// Terse output version 3 (fio(1), "TERSE OUTPUT"): field 7 is the read bandwidth in KiB/s,
// field 8 the read IOPS (1-based, ';'-separated).
constexpr size_t kReadBwField = 6;
constexpr size_t kReadIopsField = 7;

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::istringstream in(line);
  std::string field;
  while (std::getline(in, field, sep)) out.push_back(field);
  return out;
}

}  // namespace

std::string find_fio() {
  const char* env = std::getenv("KILN_FIO");
  if (env != nullptr && *env != '\0') return ::access(env, X_OK) == 0 ? env : "";
  const char* path = std::getenv("PATH");
  for (const auto& dir : split(path != nullptr ? path : "/usr/bin:/bin", ':')) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/fio";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

Result<FioResult> run_fio(const std::string& fio, const std::string& image, const FioJob& job) {
  const std::vector<std::string> argv{fio,
                                      "--name=kiln-blk-bench",
                                      "--filename=" + image,
                                      "--readonly",
                                      "--ioengine=io_uring",
                                      "--direct=0",
                                      "--invalidate=0",
                                      std::string("--rw=") + (job.random ? "randread" : "read"),
                                      "--bs=" + std::to_string(job.block_size),
                                      "--iodepth=" + std::to_string(job.iodepth),
                                      "--norandommap",
                                      "--randrepeat=0",
                                      "--time_based",
                                      "--runtime=" + std::to_string(job.seconds),
                                      "--numjobs=1",
                                      "--output-format=terse",
                                      "--terse-version=3"};
  const auto r = test::run_child(argv, std::chrono::seconds(job.seconds * 4 + 60));
  if (r.timed_out) return fail("fio did not finish within {} s", job.seconds * 4 + 60);
  if (r.exit_status != 0) return fail("fio exited with {}: {}", r.exit_status, r.err.substr(0, 300));
  for (const auto& line : split(r.out, '\n')) {
    const auto f = split(line, ';');
    if (f.size() <= kReadIopsField || f[0] != "3") continue;
    FioResult res{std::atof(f[kReadIopsField].c_str()), std::atof(f[kReadBwField].c_str()) * 1024 / 1e6};
    if (res.iops <= 0) return fail("fio reported no reads: {}", line.substr(0, 200));
    return res;
  }
  return fail("no terse v3 line in fio's output: {}", r.out.substr(0, 300));
}

}  // namespace kiln::bench
