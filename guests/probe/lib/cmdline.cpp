#include "probe/lib/cmdline.h"

namespace kiln::probe {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 99;
}

}  // namespace

Text next_word(Text text, size_t& pos) {
  while (pos < text.size && is_blank(text.data[pos])) ++pos;
  const size_t start = pos;
  while (pos < text.size && !is_blank(text.data[pos])) ++pos;
  return Text{text.data + start, pos - start};
}

bool Cmdline::find(Text key, Text& value) const {
  bool found = false;
  for_each(key, [&](Text v) {
    value = v;
    found = true;
  });
  return found;
}

size_t parse_number_prefix(Text text, uint64_t& value) {
  size_t pos = 0;
  unsigned base = 10;
  if (text.size >= 3 && text.data[0] == '0' && (text.data[1] == 'x' || text.data[1] == 'X') &&
      digit_value(text.data[2]) < 16) {
    base = 16;
    pos = 2;
  } else if (text.size >= 2 && text.data[0] == '0' && digit_value(text.data[1]) < 8) {
    base = 8;
    pos = 1;
  }
  const size_t first = pos;
  uint64_t v = 0;
  while (pos < text.size && digit_value(text.data[pos]) < static_cast<int>(base)) {
    const auto d = static_cast<uint64_t>(digit_value(text.data[pos]));
    if (v > (~uint64_t{0} - d) / base) return 0;  // overflow
    v = v * base + d;
    ++pos;
  }
  if (pos == first) return 0;
  value = v;
  return pos;
}

bool parse_number(Text text, uint64_t& value) {
  uint64_t v = 0;
  if (text.empty() || parse_number_prefix(text, v) != text.size) return false;
  value = v;
  return true;
}

size_t parse_size_prefix(Text text, uint64_t& value) {
  uint64_t v = 0;
  size_t used = parse_number_prefix(text, v);
  if (used == 0) return 0;
  unsigned shift = 0;
  if (used < text.size) {
    switch (text.data[used]) {
      case 'E': case 'e': shift = 60; break;
      case 'P': case 'p': shift = 50; break;
      case 'T': case 't': shift = 40; break;
      case 'G': case 'g': shift = 30; break;
      case 'M': case 'm': shift = 20; break;
      case 'K': case 'k': shift = 10; break;
      default: break;
    }
  }
  if (shift != 0) {
    if (v > (~uint64_t{0} >> shift)) return 0;
    v <<= shift;
    ++used;
  }
  value = v;
  return used;
}

bool list_contains(Text list, Text item) {
  size_t start = 0;
  for (size_t i = 0; i <= list.size; ++i) {
    if (i == list.size || list.data[i] == ',') {
      if (Text{list.data + start, i - start} == item) return true;
      start = i + 1;
    }
  }
  return false;
}

}  // namespace kiln::probe
