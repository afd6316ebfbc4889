// kiln's diagnostics go to stderr with a "kiln: " prefix (stdout belongs to the guest console),
// or to a file once the API's PUT /logger (or the config file's "logger") names one.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

#include "common/result.h"

namespace kiln {

// Firecracker's log levels; a line is written when its level is at or above the threshold's
// severity (Error is the most severe; Off writes nothing).
enum class LogLevel { kOff, kError, kWarning, kInfo, kDebug, kTrace };

// Appends log lines to `path` (created when missing; a FIFO does not block) instead of stderr.
[[nodiscard]] Status log_to_file(const std::string& path);
void log_to_stderr();  // back to the default
void set_log_level(LogLevel threshold);  // default kInfo
void set_log_show_level(bool show);      // "kiln: [Info] ..." instead of "kiln: ..."

void log_line_at(LogLevel level, std::string_view text);
inline void log_line(std::string_view text) { log_line_at(LogLevel::kInfo, text); }

template <typename... Args>
void log(fmt::format_string<Args...> f, Args&&... args) {
  log_line(fmt::format(f, std::forward<Args>(args)...));
}

template <typename... Args>
void log_at(LogLevel level, fmt::format_string<Args...> f, Args&&... args) {
  log_line_at(level, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace kiln
