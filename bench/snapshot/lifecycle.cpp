#include "lifecycle.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

namespace kiln::bench {
namespace {

std::optional<uint64_t> tick_at(const std::string& out, size_t at, bool need_end) {
  size_t pos = at + std::string_view(kTick).size();
  const size_t digits = pos;
  uint64_t n = 0;
  while (pos < out.size() && out[pos] >= '0' && out[pos] <= '9') n = n * 10 + static_cast<uint64_t>(out[pos++] - '0');
  if (pos == digits) return std::nullopt;
  if (need_end && (pos >= out.size() || (out[pos] != '\r' && out[pos] != '\n'))) return std::nullopt;
  return n;
}

std::string last_lines(const std::string& text, size_t lines) {
  std::vector<std::string> all;
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    if (end > begin) all.push_back(text.substr(begin, end - begin));
    begin = end + 1;
  }
  std::string out;
  for (size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) out += (out.empty() ? "" : " | ") + all[i];
  return out;
}

}  // namespace

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }
double us_since(Clock::time_point t) { return std::chrono::duration<double, std::micro>(Clock::now() - t).count(); }

std::optional<uint64_t> last_tick(const std::string& out) {
  size_t at = out.rfind(kTick);
  while (at != std::string::npos) {
    if (auto n = tick_at(out, at, true)) return n;
    if (at == 0) break;
    at = out.rfind(kTick, at - 1);
  }
  return std::nullopt;
}

std::optional<uint64_t> first_tick(const std::string& out) {
  const size_t at = out.find(kTick);
  return at == std::string::npos ? std::nullopt : tick_at(out, at, false);
}

void drain(test::ChildProcess& child, std::chrono::milliseconds d) {
  [[maybe_unused]] const bool never = child.wait_for_output(std::string(1, '\0') + "never printed", d);
}

std::string end_of(test::ChildProcess& child) {
  child.send_signal(SIGKILL);
  const test::ChildResult r = child.wait(std::chrono::seconds(30));
  const std::string err = last_lines(r.err, 6);
  return fmt::format(" (exit status {}; stderr: {})", r.exit_status, err.empty() ? "empty" : err);
}

std::optional<double> logged_ms(const std::string& log, const std::string& marker) {
  const size_t at = log.find(marker);
  if (at == std::string::npos) return std::nullopt;
  const size_t eol = log.find('\n', at);
  const std::string line = log.substr(at, eol == std::string::npos ? std::string::npos : eol - at);
  const size_t in = line.rfind(" in ");
  if (in == std::string::npos) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(line.c_str() + in + 4, &end);
  if (end == line.c_str() + in + 4 || std::string_view(end).rfind(" ms", 0) != 0) return std::nullopt;
  return v;
}

Result<FileUsage> file_usage(const std::vector<std::string>& paths) {
  FileUsage u;
  for (const auto& p : paths) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return fail_errno(fmt::format("stat {}", p));
    u.mib += static_cast<double>(st.st_size) / (1 << 20);
    u.allocated_mib += static_cast<double>(st.st_blocks) * 512 / (1 << 20);
  }
  return u;
}

RemoveFiles::~RemoveFiles() {
  for (const auto& p : paths_) ::unlink(p.c_str());
}

}  // namespace kiln::bench
