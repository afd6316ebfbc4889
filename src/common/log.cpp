#include "common/log.h"

#include <unistd.h>

#include <string>

namespace kiln {

void log_line(std::string_view text) {
  // One write per line so lines from several threads do not interleave.
  std::string line = "kiln: ";
  line.append(text);
  line.push_back('\n');
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(STDERR_FILENO, line.data() + done, line.size() - done);
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

}  // namespace kiln
