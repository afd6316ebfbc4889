// When a test fails, the output of the children it judged: linked into a test binary, this file
// installs ChildProcess hooks and a GoogleTest listener (before main) that prints, for each
// child the failed test ran or talked to, its command, exit status and the last kOutputTailBytes of its
// stdout and stderr (only what it printed during that test, for a child shared by a suite).
#pragma once

#include <string>

#include "child_process.h"

namespace kiln::test {

inline constexpr size_t kOutputTailBytes = 4096;

// The last `max` bytes of `text`, cut at a line start when one is near, marked when cut.
[[nodiscard]] std::string output_tail(const std::string& text, size_t max = kOutputTailBytes);

}  // namespace kiln::test
