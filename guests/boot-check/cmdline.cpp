#include "boot-check/cmdline.h"

namespace kiln::guest {
namespace {

bool is_separator(char c) { return c == ' ' || c == '\t' || c == '\n'; }

}  // namespace

bool find_option(Text cmdline, Text key, Text& value) {
  bool found = false;
  size_t pos = 0;
  while (pos < cmdline.size) {
    while (pos < cmdline.size && is_separator(cmdline.data[pos])) ++pos;
    const size_t start = pos;
    while (pos < cmdline.size && !is_separator(cmdline.data[pos])) ++pos;
    const Text word{cmdline.data + start, pos - start};
    if (word.size > key.size && word.starts_with(key) && word.data[key.size] == '=') {
      value = word.from(key.size + 1);
      found = true;
    }
  }
  return found;
}

}  // namespace kiln::guest
