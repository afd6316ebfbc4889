// The guest command line, read the way Linux reads its own: words separated by blanks, options
// as "key=value" words (the last one wins), numbers as C literals (0x hex, 0 octal, decimal).
#pragma once

#include <cstdint>

#include "runtime/string_util.h"

namespace kiln::probe {

using guest::Text;

// The next word of `text` at or after `pos` (advanced past it); empty at the end.
[[nodiscard]] Text next_word(Text text, size_t& pos);

struct Cmdline {
  Text text;

  // Value of the last "key=value" word; false if there is none.
  [[nodiscard]] bool find(Text key, Text& value) const;

  // Calls f(value) for every "key=value" word, in order.
  template <class F>
  void for_each(Text key, F f) const {
    size_t pos = 0;
    for (Text word = next_word(text, pos); !word.empty(); word = next_word(text, pos)) {
      if (word.size > key.size && word.starts_with(key) && word.data[key.size] == '=') f(word.from(key.size + 1));
    }
  }
};

// Parses an unsigned C literal at the start of `text` (base from its prefix, like strtoull with
// base 0) and returns the number of characters used (0 if there is no number, or on overflow).
[[nodiscard]] size_t parse_number_prefix(Text text, uint64_t& value);

// Like parse_number_prefix, but the whole of `text` must be the number.
[[nodiscard]] bool parse_number(Text text, uint64_t& value);

// Linux memparse(): a number with an optional K, M, G, T, P or E suffix (powers of 1024).
// Returns the characters used, 0 on error.
[[nodiscard]] size_t parse_size_prefix(Text text, uint64_t& value);

// True if `list` (comma-separated) contains `item`.
[[nodiscard]] bool list_contains(Text list, Text item);

}  // namespace kiln::probe
