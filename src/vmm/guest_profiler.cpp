#include "vmm/guest_profiler.h"

#include <unistd.h>

#include "vmm/profile_report.h"

namespace kiln {
namespace {

Status write_all(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_errno("writing the guest profile");
    done += static_cast<size_t>(n);
  }
  return {};
}

}  // namespace

Status GuestProfiler::start(std::function<void()> sample_all) {
  auto thread = KILN_TRY_VALUE(SamplingThread::start(settings_.hz, std::move(sample_all)));
  thread_ = std::move(thread);
  started_ = std::chrono::steady_clock::now();
  return {};
}

void GuestProfiler::stop() {
  if (!thread_) return;
  thread_.reset();
  elapsed_ = std::chrono::steady_clock::now() - started_;
}

Status GuestProfiler::write_report() const {
  ProfileSummary summary;
  summary.hz = settings_.hz;
  summary.vcpus = profiles_.size();
  summary.elapsed = elapsed_;
  for (const auto& p : profiles_) {
    summary.failed += p.failed();
    summary.cost += p.cost();
  }
  if (settings_.symbols) {
    summary.symbols = settings_.symbols_source;
    summary.functions = settings_.symbols->size();
  }
  const auto rows = profile_rows(profiles_, settings_.symbols.get());
  return write_all(settings_.output ? settings_.output.get() : STDERR_FILENO,
                   format_profile(rows, summary, settings_.top));
}

}  // namespace kiln
