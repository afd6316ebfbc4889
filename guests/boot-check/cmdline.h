// `key=value` words of the guest's own command line.
#pragma once

#include "runtime/string_util.h"

namespace kiln::guest {

// Finds the last word "key=value" in `cmdline` (words are separated by spaces, tabs or newlines)
// and stores its value; returns false if there is none.
[[nodiscard]] bool find_option(Text cmdline, Text key, Text& value);

}  // namespace kiln::guest
